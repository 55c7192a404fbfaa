"""The ERF explorer: every control moves the result, impossible settings are explained."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from rflesson.course.lesson04.demos import (  # noqa: E402
    ExplorerResult,
    describe_explorer,
    draw_erf_grid,
    draw_explorer,
    draw_profile,
    erf_explorer,
    explore_erf,
)
from rflesson.erf import uniform_variance  # noqa: E402


@pytest.fixture(scope="module")
def demo():
    return erf_explorer(depth=6)


def test_starts_without_error_and_reports_numbers(demo):
    assert demo.error is None
    result = demo.result
    assert result.trf_size == 13 and result.stats.trf_mass == pytest.approx(1.0)
    assert "theoretical RF <b>13</b>" in demo.text.value


def test_uniform_setting_is_exact(demo):
    result = demo.set(weights="uniform", activation="none", dropout=0.0, layout="plain", depth=6)
    assert demo.error is None
    assert result.stats.sigma[0] ** 2 == pytest.approx(uniform_variance(6), rel=1e-4)


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


@pytest.mark.parametrize("activation", ["none", "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_every_activation_and_dropout_draws(demo, activation, dropout):
    demo.set(activation=activation, dropout=dropout, weights="random", depth=8)
    assert demo.error is None and demo.result.problem is None
    assert demo.result.erf.sum() == pytest.approx(1)


def test_problem_is_drawn_not_raised():
    result = ExplorerResult(
        depth=1,
        kernel=3,
        weights="random",
        activation="relu",
        layout="plain",
        dropout=0.0,
        erf=None,
        box=None,
        trf_size=3,
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
