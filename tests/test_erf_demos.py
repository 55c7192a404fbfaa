"""The ERF explorer: right at every slider corner, every control moves it, problems are explained.

"Right" means: the map and its numbers (size, sigma, Gaussian R²) agree within
2 % with ``erf_map`` run on the same networks, inputs and dropout masks on an
input larger than the whole theoretical field (tests/erf_reference.py).  A
setting too large to measure in time must say so instead of printing numbers.
"""

from __future__ import annotations

import itertools
import math

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from erf_reference import reference  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rflesson.course.lesson04.demos import (  # noqa: E402
    EXPLORER_BUDGET_MS,
    EXPLORER_MAX_DEPTH,
    LAYOUTS,
    ExplorerResult,
    _cost,
    describe_explorer,
    draw_erf_grid,
    draw_explorer,
    draw_profile,
    erf_explorer,
    explore_erf,
    explorer_batch,
)
from rflesson.erf import erf_stats, uniform_variance  # noqa: E402
from rflesson.erf_exact import StackBatch, draw_samples  # noqa: E402

TOLERANCE = 0.02
ACTIVATIONS = ("none", "relu", "tanh", "sigmoid")
CORNERS = list(
    itertools.product(
        (1, EXPLORER_MAX_DEPTH), (3, 7), ("random", "uniform"), ACTIVATIONS, LAYOUTS, (0.0, 0.5)
    )
)


@pytest.fixture(scope="module")
def demo():
    return erf_explorer(depth=6)


def _close(got: float, want: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return abs(got - want) <= TOLERANCE * abs(want)


def _one_network(batch: StackBatch) -> StackBatch:
    """Uniform networks are all alike: the reference needs only one of them."""
    return StackBatch(
        weights=tuple(w[:1] for w in batch.weights),
        strides=batch.strides,
        dilations=batch.dilations,
        activation=batch.activation,
        dropout=batch.dropout,
    )


@pytest.mark.parametrize("depth, kernel, weights, activation, layout, dropout", CORNERS)
def test_every_corner_agrees_with_erf_map_on_the_whole_field(
    depth, kernel, weights, activation, layout, dropout
):
    result = explore_erf(depth, kernel, weights, activation, layout, dropout)
    batch = explorer_batch(depth, kernel, weights, activation, layout, dropout)
    assert result.problem is None
    if result.cut:
        assert _cost(batch) > EXPLORER_BUDGET_MS and result.side < result.trf_size
        assert result.stats is None
        line = describe_explorer(result)
        assert f"field cut at {result.side} px</b>" in line and "no numbers" in line
        assert "ERF size" not in line and "σ" not in line
        fig = Figure()
        draw_explorer(fig, result)
        title = f"field cut at {result.side} of {result.trf_size} px:\ntoo large to measure in time"
        assert fig.axes[0].get_title() == title
        inputs, masks = draw_samples(batch, seed=0, window=result.side)
        expected, _ = reference(batch, inputs, masks, window=result.side, dtype=torch.float32)
        assert np.abs(result.erf - expected).sum() <= TOLERANCE
        return
    assert result.side == result.trf_size
    inputs, masks = draw_samples(batch, seed=0)
    if result.method == "exact":
        batch = _one_network(batch)
    expected, outside = reference(batch, inputs, masks, dtype=torch.float32)
    assert abs(outside) < 1e-6  # the field holds the whole ERF
    assert np.abs(result.erf - expected).sum() <= TOLERANCE
    want, got = erf_stats(expected), result.stats
    assert _close(got.size, want.size)
    assert _close(got.sigma[0], want.sigma[0]) and _close(got.sigma[1], want.sigma[1])
    if depth == 1:  # the kernel itself: no R² is shown (for a flat box it is not even defined)
        assert "Gaussian R² —" in describe_explorer(result)
    else:
        assert _close(got.gaussian_r2, want.gaussian_r2)


def test_the_issue_settings_are_right_now():
    """Issue 14: on a 41x41 input these read 41.0 px and sigma 9.97; the field is 71 px."""
    result = explore_erf(10, 3, "random", "none", "stride 2 (first 2 layers)", 0.0)
    assert result.method == "measured" and result.side == result.trf_size == 71
    assert result.stats.size > 45 and result.stats.sigma[1] > 11


def test_starts_without_error_and_reports_numbers(demo):
    assert demo.error is None
    result = demo.result
    assert result.trf_size == 13 and result.method == "measured"
    assert "theoretical RF <b>13</b>" in demo.text.value
    assert demo.image.value[:4] == b"\x89PNG"


def test_uniform_setting_is_exact(demo):
    result = demo.set(weights="uniform", activation="none", dropout=0.0, layout="plain", depth=6)
    assert demo.error is None and result.method == "exact"
    assert result.stats.sigma[0] ** 2 == pytest.approx(uniform_variance(6), rel=1e-9)


@pytest.mark.parametrize(
    "change",
    [
        dict(depth=20),
        dict(kernel=5),
        dict(layout="dilation 2"),
        dict(layout="stride 2 (first 2 layers)"),
    ],
)
def test_growing_changes_grow_the_erf(change):
    base = explore_erf(6, 3, "random", "relu", "plain", 0.0)
    grown = explore_erf(**(dict(depth=6, kernel=3, weights="random", activation="relu") | change))
    assert grown.problem is None
    assert grown.stats.sigma[0] > 1.3 * base.stats.sigma[0]
    assert grown.trf_size > base.trf_size


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_every_activation_and_dropout_draws(demo, activation, dropout):
    demo.set(activation=activation, dropout=dropout, weights="random", depth=8)
    assert demo.error is None and demo.result.problem is None
    assert demo.result.erf.sum() == pytest.approx(1, rel=1e-5)


def test_one_layer_shows_no_gaussian_fit(demo):
    demo.set(depth=1, weights="uniform", activation="none", dropout=0.0, layout="plain")
    assert "Gaussian R² —" in demo.text.value and "a Gaussian fit means nothing" in demo.text.value
    assert math.isnan(demo.result.stats.gaussian_r2)  # a flat 3x3 box: nothing to fit


def test_dilation_explains_the_holes(demo):
    demo.set(depth=10, layout="dilation 2", weights="random", activation="none")
    assert demo.result.lattice_step == 2 and "holes" in demo.text.value
    assert demo.result.erf[1::2, :].sum() == 0  # odd rows are never reached


def test_live_updates_reuse_the_drawn_axes(demo):
    demo.set(depth=12, kernel=3, weights="random", activation="none", layout="plain", dropout=0)
    before = demo.render.canvas.full_draws
    for dropout in (0.1, 0.2, 0.3, 0.4, 0.5):  # the same field: axes seldom change
        demo.set(dropout=dropout)
        assert demo.error is None
    assert demo.render.canvas.full_draws - before < 3


def test_problem_is_drawn_not_raised():
    result = ExplorerResult(
        depth=1,
        kernel=3,
        weights="random",
        activation="relu",
        layout="plain",
        dropout=0.0,
        erf=None,
        trf_size=3,
        side=3,
        method="measured",
        stats=None,
        problem="No input pixel moves this unit.",
    )
    fig = Figure()
    draw_explorer(fig, result)
    assert "No input pixel" in fig.texts[0].get_text()
    assert "No input pixel" in describe_explorer(result)


def test_grid_and_profile_draw():
    fig = Figure()
    maps = [[np.ones((5, 5)) / 25] * 2]
    draw_erf_grid(fig, maps, [[((1, 3), (1, 3)), None]], ["uniform"], ["5", "10"])
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 1
    fig = Figure()
    ax = fig.subplots()
    draw_profile(ax, np.ones((5, 5)) / 25, np.ones(5) / 5, 2.0, "test")
    assert len(ax.lines) == 3
