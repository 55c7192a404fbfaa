"""Notebook 04's and 05's measurements: exact inputs, spreads over seeds, the paired t-test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rflesson as rfl
from rflesson.course.check import _EXPECTED as EXPECTED_ANSWERS
from rflesson.course.lesson04 import exercises as nb04
from rflesson.course.lesson04.experiments import (
    measure_stack,
    over_seeds,
    side_holding_field,
    spread_table,
)
from rflesson.course.lesson05 import exercises as nb05
from rflesson.course.lesson05.experiments import (
    cached_training_comparison,
    paired_difference,
    t_critical,
    training_comparison,
)


def test_side_holds_the_field_and_keeps_a_centre_unit():
    assert side_holding_field(rfl.conv_stack(10).layers()) == 21
    assert side_holding_field(rfl.conv_stack(10, dilation=2).layers()) == 41
    strided = rfl.conv_stack(10, stride=(2, 2) + (1,) * 8).layers()
    side = side_holding_field(strided)
    assert side == 73 and rfl.receptive_field(strided, (side, side)).size == (71, 71)
    assert rfl.receptive_field(strided, (side, side)).n_out[0] % 2 == 1
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.Conv2d(2, 1, 5))
    assert side_holding_field(net) == 7  # a module works too (no padding needed at the end)
    with pytest.raises(ValueError, match="no input side"):
        side_holding_field(rfl.conv_stack(10).layers(), limit=19)


def test_a_map_on_the_field_sized_input_is_the_map_of_any_larger_one():
    """The centre unit of a ReLU stack reads only its field: crop the input, same gradient."""
    torch.manual_seed(3)
    net = rfl.conv_stack(6, 3, activation="relu", channels=3)
    big = torch.randn(4, 1, 31, 31, dtype=torch.float64)
    side = side_holding_field(net.layers())
    cut = (31 - side) // 2
    small = big[:, :, cut : cut + side, cut : cut + side]
    whole = rfl.erf_map(net, 31, inputs=big, dtype=torch.float64)
    field = rfl.erf_map(net, side, inputs=small, dtype=torch.float64)
    np.testing.assert_allclose(np.pad(field, cut), whole, atol=1e-15)


def test_measure_stack_is_float64_and_exact_for_uniform_weights():
    run = measure_stack(5, n=1, weights="uniform")
    assert run.side == run.trf == 11 and run.erf.dtype == np.float64
    assert run.stats.sigma[1] ** 2 == pytest.approx(5 * 8 / 12, abs=1e-12)
    assert run.box == ((0, 10), (0, 10))


def test_over_seeds_pools_the_seed_maps_and_reports_spread():
    a = over_seeds("linear", 4, seeds=(0, 1, 2), n=4)
    assert over_seeds("linear", 4, seeds=(0, 1, 2), n=4) is a  # cached
    maps = [measure_stack(4, n=4, seed=s).erf for s in (0, 1, 2)]
    np.testing.assert_allclose(a.pooled, np.mean(maps, axis=0))
    assert a.sigma()[0] == pytest.approx(np.mean(a.sigmas))
    assert a.sigma()[1] == pytest.approx(np.std(a.sigmas, ddof=1)) and a.sigma()[1] > 0
    text = str(spread_table([a]))
    assert "linear" in text and "3 seeds" in text and "R² of all 12" in text
    with pytest.raises(ValueError, match="two seeds"):
        over_seeds("x", 4, seeds=(0,))


def test_grow_choices_use_exact_inputs_and_the_stride_wins():
    assert nb04.grown("c").side == 73 and nb04.grown("c").trf == 71
    assert nb04._grow_most() == "c"
    assert nb04.grown_sigma("b") == pytest.approx(nb04.grown_sigma(), rel=0.15)  # dropout


@pytest.mark.parametrize(
    "dof, value", [(1, 12.706), (2, 4.303), (3, 3.182), (5, 2.571), (10, 2.228), (1000, 1.962)]
)
def test_t_critical_matches_the_tables(dof, value):
    assert t_critical(dof) == pytest.approx(value, abs=1e-3)


def test_t_critical_other_levels_and_bad_input():
    assert t_critical(4, 0.9) == pytest.approx(2.132, abs=1e-3)
    assert t_critical(20, 0.99) == pytest.approx(2.845, abs=1e-3)
    with pytest.raises(ValueError, match="confidence"):
        t_critical(4, 0.999)
    with pytest.raises(ValueError, match="dof"):
        t_critical(0)


def test_paired_difference_by_hand():
    d = paired_difference([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 3.5, 5.0])
    diffs = np.array([0.5, 0.0, 0.5, 1.0])
    assert d.differences == tuple(diffs)
    assert d.mean == pytest.approx(0.5)
    assert d.se == pytest.approx(diffs.std(ddof=1) / 2)
    assert d.t == pytest.approx(0.5 / d.se) and d.critical == pytest.approx(t_critical(3))
    low, high = d.interval
    assert low == pytest.approx(0.5 - d.critical * d.se) and high > low
    assert d.significant == (low > 0)
    assert not paired_difference([1.0, 2.0, 3.0], [1.1, 1.9, 3.0]).significant
    with pytest.raises(ValueError, match="same number"):
        paired_difference([1.0, 2.0], [1.0])


def test_training_comparison_pairs_the_seeds_and_the_check_reads_the_cache(capsys):
    settings = dict(strengths=(0.0, 1.0), seeds=(0, 1, 2), steps=3)
    assert cached_training_comparison(**settings) is None
    comparison = training_comparison(**settings)
    assert cached_training_comparison(**settings) is comparison
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[0].startswith("seed 0, strength 0: mean loss")
    usual, scaled = comparison.values(0.0), comparison.values(1.0)
    paired = comparison.paired()
    np.testing.assert_allclose(paired.differences, scaled - usual)
    assert paired.se == pytest.approx((scaled - usual).std(ddof=1) / math.sqrt(3))
    assert comparison.runs_for(0.0)[0].mean_loss == pytest.approx(
        np.mean(comparison.runs_for(0.0)[0].losses)
    )
    assert "difference in mean loss" in str(comparison)
    assert "<table>" in comparison._repr_html_()


def test_training_verdict_says_when_it_has_to_train(capsys, monkeypatch):
    calls = []

    def fake_comparison(**settings):
        calls.append(settings)
        return training_comparison(strengths=(0.0, 1.0), seeds=(0, 1), steps=2, progress=False)

    # an answer computed earlier in the run would be kept: start from none
    monkeypatch.delitem(EXPECTED_ANSWERS, "05.training-verdict", raising=False)
    monkeypatch.setattr(nb05, "cached_training_comparison", lambda **settings: None)
    monkeypatch.setattr(nb05, "training_comparison", fake_comparison)
    rfl.check("05.training-verdict", False)
    assert calls == [nb05.TRAINING]
    assert "not in memory" in capsys.readouterr().out
