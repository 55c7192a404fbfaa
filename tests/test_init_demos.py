"""Notebook 05's measurements and its init explorer: right numbers, never a traceback."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from erf_reference import reference

import rflesson as rfl
from rflesson.course.lesson05.demos import (
    EXPLORER_MAX_DEPTH,
    explore_init,
    explorer_batch,
    init_explorer,
)
from rflesson.course.lesson05.experiments import (
    one_layer_erf,
    smoothed,
    steps_to_loss,
    strength_sweep,
    training_comparison,
)
from rflesson.erf_exact import StackBatch, draw_samples


@pytest.fixture(scope="module")
def demo():
    return init_explorer(strength=0.5, depth=5)


@pytest.mark.parametrize(
    "settings",
    [
        {"strength": 0.0, "depth": 1, "activation": "none"},
        {"strength": 1.0, "depth": 1, "activation": "relu"},
        {"strength": 0.0, "depth": EXPLORER_MAX_DEPTH, "activation": "relu"},
        {"strength": 1.0, "depth": EXPLORER_MAX_DEPTH, "activation": "none"},
        {"strength": 0.35, "depth": 7, "activation": "relu"},
    ],
)
def test_callback_at_extremes_never_raises(demo, settings):
    result = demo.set(**settings)
    assert demo.error is None
    assert result.depth == settings["depth"]
    assert result.usual.shape == (2 * settings["depth"] + 1,) * 2
    assert np.isclose(result.usual.sum(), 1) and np.isclose(result.scaled.sum(), 1)
    assert "layer" in demo.text.value
    assert (result.problem is not None) == (settings["depth"] == 1)
    assert demo.image.value[:4] == b"\x89PNG"
    if settings["depth"] == 1:  # issue 14: it printed "Gaussian R² -4.010" beside this note
        assert demo.text.value.count("Gaussian R² —") == 2


CORNERS = list(itertools.product((0.0, 0.5, 1.0), (1, 2, EXPLORER_MAX_DEPTH), ("relu", "none")))


def _close(got: float, want: float, tolerance: float = 0.02) -> bool:
    return abs(got - want) <= tolerance * abs(want)


@pytest.mark.parametrize("strength, depth, activation", CORNERS)
def test_every_corner_agrees_with_erf_map_on_the_whole_field(strength, depth, activation):
    """Both maps and their numbers, against erf_map on a larger input (same networks, inputs)."""
    result = explore_init(strength, depth, activation)
    for erf, stats, s in (
        (result.usual, result.usual_stats, 0.0),
        (result.scaled, result.scaled_stats, strength),
    ):
        batch = explorer_batch(s, depth, activation)
        inputs, _ = draw_samples(batch, seed=0)
        expected, outside = reference(batch, inputs, None, dtype=torch.float32)
        assert erf.shape == (2 * depth + 1,) * 2 and abs(outside) < 1e-6
        assert np.abs(erf - expected).sum() <= 0.02
        want = rfl.erf_stats(expected)
        assert _close(stats.size, want.size) and _close(stats.sigma[1], want.sigma[1])
        if depth > 1:
            assert _close(stats.gaussian_r2, want.gaussian_r2)


def test_the_explorer_networks_are_centre_scaled_init():
    """The scaled weights are what center_scaled_init_(reset=False) makes of the usual ones."""
    usual = explorer_batch(0.0, 3, "relu").modules()
    for net in usual:
        rfl.center_scaled_init_(net, 0.7, reset=False)
    again, expected = StackBatch.from_modules(usual), explorer_batch(0.7, 3, "relu")
    for a, b in zip(again.weights, expected.weights, strict=True):
        torch.testing.assert_close(a, b)
    std = float(explorer_batch(0.0, 3, "relu").weights[1].std())
    assert std == pytest.approx(np.sqrt(2 / (8 * 9)), rel=0.05)  # He et al.'s for ReLU


def test_strength_zero_gives_the_same_map_as_the_usual_init():
    result = explore_init(0.0, 6, "relu")
    np.testing.assert_array_equal(result.usual, result.scaled)
    assert result.sigma_ratio == 1.0 and result.predicted_ratio == 1.0


def test_explorer_widening_follows_the_prediction():
    result = explore_init(1.0, 12, "none")
    assert result.sigma_ratio > 1.03
    assert result.sigma_ratio == pytest.approx(result.predicted_ratio, abs=0.04)


def test_one_layer_erf_is_the_profile():
    for strength in (0.0, 1.0):
        profile = rfl.center_profile(3, strength)
        np.testing.assert_allclose(one_layer_erf(strength), profile / profile.sum(), atol=0.012)


def test_sweep_matches_theory_and_stays_gaussian():
    sweep = strength_sweep((0.0, 0.5, 1.0), depth=10, activation=None, n=32)
    assert [r.strength for r in sweep.rows] == [0.0, 0.5, 1.0]
    assert sweep[0].sigma_ratio == 1.0
    for row in sweep.rows:
        assert row.sigma_ratio == pytest.approx(row.predicted_ratio, abs=0.03)
        assert row.stats.gaussian_r2 > 0.9
    assert sweep[2].sigma > sweep[1].sigma > sweep[0].sigma
    assert "Gaussian" in sweep._repr_html_()


def test_sweep_rejects_bad_strengths():
    with pytest.raises(ValueError, match="strength"):
        strength_sweep((0.5, 2.0), depth=3)
    with pytest.raises(ValueError, match="strengths"):
        strength_sweep((), depth=3)


def test_smoothed_and_steps_to_loss():
    losses = [1.0, 0.8, 0.6, 0.4, 0.2]
    np.testing.assert_allclose(smoothed(losses, 2), [1.0, 0.9, 0.7, 0.5, 0.3])
    assert steps_to_loss(losses, 0.55, window=2) == 4  # mean of steps 3 and 4 is 0.5
    assert steps_to_loss(losses, 0.95, window=1) == 2
    assert steps_to_loss(losses, 0.1, window=2) is None
    assert steps_to_loss([0.0, 5.0], 1.0, window=3) is None  # no full window yet


def test_training_comparison_is_seeded_and_summarised(capsys):
    first = training_comparison((0.0, 1.0), (0, 1), 6, target_loss=10.0, smooth=2)
    assert "seed 1, strength 1" in capsys.readouterr().out
    assert len(first.runs) == 4
    assert all(r.steps_to_loss == 2 for r in first.runs)  # any loss is below 10
    summary = first.summary(1.0)
    assert summary["reached"] == 2 and summary["steps_mean"] == 2 and summary["steps_std"] == 0
    assert 0 <= summary["accuracy_mean"] <= 1
    again = training_comparison((0.0, 1.0), (0, 1), 6, target_loss=10.0, smooth=2, progress=False)
    assert again is first  # cached
    # Same seed, same batches: strength 0 and 1 start from the same loss only if the
    # profile changes nothing at step 1; it does change the weights, so the losses differ.
    usual, scaled = first.runs_for(0.0)[0], first.runs_for(1.0)[0]
    assert usual.seed == scaled.seed and usual.losses != scaled.losses
    text = str(first)
    assert "usual init" in text and "centre-scaled (1)" in text
