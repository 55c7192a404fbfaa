"""Pictures of effective receptive fields, and the ERF explorer.

Drawing functions take an ``Axes`` (or a ``Figure``) and draw on it; the
explorer is a :class:`rflesson.course.widgets.LiveFigure` over the pure
:func:`explore_erf` and :func:`draw_explorer`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...erf import Box, ErfStats, erf_map, erf_stats, trf_box
from ...rf import receptive_field
from ...stacks import conv_stack
from ..style import COLORS, ERF_CMAP
from ..widgets import LiveFigure, dropdown, float_slider, int_slider

# -- drawing -------------------------------------------------------------------------


def draw_erf(
    ax: Axes,
    erf: np.ndarray,
    *,
    box: Box | None = None,
    title: str | None = None,
    label_box: bool = False,
    half: int | None = None,
) -> None:
    """Show an ERF map (dark = no influence) with the theoretical RF box in orange.

    With ``half`` the map is drawn in pixels from its centre, on a fixed
    window ``-half .. half``: maps measured on inputs of different sizes then
    share one scale (the area beyond a map is drawn as "no influence").
    """
    h, w = erf.shape
    top, left = (h // 2, w // 2) if half is not None else (0, 0)
    extent = (-left - 0.5, w - left - 0.5, h - top - 0.5, -top - 0.5)
    ax.imshow(erf, cmap=ERF_CMAP, interpolation="nearest", extent=extent)
    if half is not None:
        ax.set_facecolor(matplotlib.colormaps[ERF_CMAP](0.0))
        ax.set_xlim(-half - 0.5, half + 0.5)
        ax.set_ylim(half + 0.5, -half - 0.5)
    if box is not None:
        (r0, r1), (c0, c1) = box
        ax.add_patch(
            Rectangle(
                (c0 - left - 0.5, r0 - top - 0.5),
                c1 - c0 + 1,
                r1 - r0 + 1,
                fill=False,
                edgecolor=COLORS["rf"],
                lw=1.5,
                label="theoretical RF" if label_box else None,
            )
        )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def draw_erf_grid(
    fig: Figure,
    maps: list[list[np.ndarray]],
    boxes: list[list[Box | None]],
    rows: list[str],
    columns: list[str],
    half: int | None = None,
) -> None:
    """A grid of ERF maps (Luo et al.'s Figure 1 layout): one row per setting, one column per depth.

    ``half`` draws every map on one scale, ``-half .. half`` pixels from its
    centre (see :func:`draw_erf`).
    """
    axes = fig.subplots(len(rows), len(columns), squeeze=False)
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            draw_erf(axes[i][j], maps[i][j], box=boxes[i][j], half=half)
            if i == 0:
                axes[i][j].set_title(column, fontsize=10)
        axes[i][0].set_ylabel(row, fontsize=10)


def draw_profile(ax: Axes, erf: np.ndarray, exact: np.ndarray, variance: float, label: str) -> None:
    """The ERF summed over rows (a 1-D profile) against an exact curve and a Gaussian.

    ``exact`` is centred on the map's middle column; the Gaussian has the given ``variance``.
    """
    measured = erf.sum(axis=0)
    x = np.arange(len(measured)) - len(measured) // 2
    xe = np.arange(len(exact)) - len(exact) // 2
    ax.plot(x, measured, "o", color=COLORS["erf"], ms=4, label=f"measured ({label})")
    ax.plot(xe, exact, "-", color=COLORS["rf"], lw=1.5, label="box convolved with itself")
    fine = np.linspace(x[0], x[-1], 400)
    gauss = np.exp(-(fine**2) / (2 * variance)) / math.sqrt(2 * math.pi * variance)
    ax.plot(fine, gauss, "--", color=COLORS["muted"], lw=1, label="Gaussian, same variance")
    ax.set_xlabel("input column relative to the centre")
    ax.set_ylabel("share of the ERF")
    ax.set_ylim(0, 1.5 * float(measured.max()))  # room for the legend above the peak
    ax.legend(fontsize=8, loc="upper right")


def draw_before_after(
    fig: Figure, before: np.ndarray, after: np.ndarray, box: Box, square: int
) -> None:
    """A network's ERF before and after training, and both summed over rows.

    The profile panel shades the task's ``square`` (the pixels that decide
    a label), so one sees how much of the ERF reaches its edges.
    """
    axes = fig.subplots(1, 3)
    for ax, erf, when in ((axes[0], before, "before"), (axes[1], after, "after")):
        draw_erf(ax, erf, box=box, title=f"{when}: size {erf_stats(erf).size:.1f} px")
    for erf, colour, label in (
        (before, COLORS["muted"], "before"),
        (after, COLORS["erf"], "after"),
    ):
        profile = erf.sum(axis=0)
        x = np.arange(profile.size) - profile.size // 2
        axes[2].plot(x, profile, "o-", ms=3, color=colour, label=label)
    half = square / 2
    axes[2].axvspan(
        -half,
        half,
        color=COLORS["rf_light"],
        alpha=0.5,
        label=f"the task's {square}x{square} square",
    )
    axes[2].set_xlabel("column from the centre")
    axes[2].set_ylim(0, 1.5 * float(max(before.sum(axis=0).max(), after.sum(axis=0).max())))
    axes[2].set_ylabel("share of the ERF")
    axes[2].legend(fontsize=7, loc="upper left")
    fig.tight_layout()


# -- the explorer --------------------------------------------------------------------------

#: Sub-sampling and dilation choices of the explorer.
LAYOUTS = ("plain", "stride 2 (first 2 layers)", "dilation 2")
EXPLORER_INPUT = 41
EXPLORER_SAMPLES = 8
EXPLORER_CHANNELS = 2


@dataclass(frozen=True)
class ExplorerResult:
    """One setting of the ERF explorer: the map, its theoretical box and its numbers."""

    depth: int
    kernel: int
    weights: str
    activation: str
    layout: str
    dropout: float
    erf: np.ndarray | None
    box: Box | None
    trf_size: int
    stats: ErfStats | None
    problem: str | None = None


def _layout(depth: int, layout: str) -> dict:
    if layout == "stride 2 (first 2 layers)":
        return {"stride": tuple(2 if i < 2 else 1 for i in range(depth))}
    if layout == "dilation 2":
        return {"dilation": 2}
    return {}


@functools.lru_cache(maxsize=64)
def explore_erf(
    depth: int = 10,
    kernel: int = 3,
    weights: str = "random",
    activation: str = "none",
    layout: str = "plain",
    dropout: float = 0.0,
) -> ExplorerResult:
    """The ERF of a ``conv_stack`` with these settings, on a 41x41 input (8 samples, 2 channels).

    Pure and cached.  Never raises for settings the sliders reach: a map that
    is all zero comes back with a ``problem`` explaining it.
    """
    act = None if activation == "none" else activation
    options = dict(
        channels=EXPLORER_CHANNELS,
        weights=weights,
        activation=act,
        dropout=dropout,
        **_layout(depth, layout),
    )
    layers = conv_stack(depth, kernel, **options).layers()
    size = receptive_field(layers, (EXPLORER_INPUT,) * 2).size[0]
    box = trf_box(layers, EXPLORER_INPUT)
    exact = weights == "uniform" and act is None and dropout == 0
    erf = erf_map(
        lambda: conv_stack(depth, kernel, **options),
        EXPLORER_INPUT,
        n=1 if exact else EXPLORER_SAMPLES,
        seed=0,
    )
    settings = dict(
        depth=depth,
        kernel=kernel,
        weights=weights,
        activation=activation,
        layout=layout,
        dropout=dropout,
        box=box,
        trf_size=size,
    )
    if not erf.sum() > 0:
        problem = (
            "No input pixel moves this unit: every path is blocked "
            "(for example all ReLUs on it are off). Try fewer layers or another activation."
        )
        return ExplorerResult(erf=None, stats=None, problem=problem, **settings)
    return ExplorerResult(erf=erf, stats=erf_stats(erf, trf_box=box), **settings)


def draw_explorer(fig: Figure, result: ExplorerResult) -> None:
    """The map with its box (left) and the row-summed profile with the box's edges (right)."""
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    if result.problem:
        for ax in (left, right):
            ax.set_axis_off()
        fig.text(0.5, 0.5, result.problem, ha="center", va="center", wrap=True)
        return
    draw_erf(left, result.erf, box=result.box, title=f"ERF, {EXPLORER_INPUT}x{EXPLORER_INPUT}")
    profile = result.erf.sum(axis=0)
    x = np.arange(len(profile)) - len(profile) // 2
    right.fill_between(x, profile, color=COLORS["erf"], alpha=0.6, step="mid")
    (_, _), (c0, c1) = result.box
    for edge in (c0 - 0.5, c1 + 0.5):
        right.axvline(edge - len(profile) // 2, color=COLORS["rf"], lw=1.5)
    right.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    right.set_xlabel("column from the centre (orange: theoretical RF edge)")
    right.set_ylabel("share of the ERF")
    fig.tight_layout()


def describe_explorer(result: ExplorerResult) -> str:
    """One line of numbers under the sliders."""
    if result.problem:
        return f"<b>{result.problem}</b>"
    s = result.stats
    return (
        f"theoretical RF <b>{result.trf_size}</b> px &nbsp; ERF size <b>{s.size:.1f}</b> px "
        f"(ERF/TRF {s.size / result.trf_size:.2f}) &nbsp; σ = {s.sigma[1]:.2f} px &nbsp; "
        f"Gaussian R² {s.gaussian_r2:.3f} &nbsp; mass inside the box {100 * s.trf_mass:.1f} %"
    )


def erf_explorer(**start: object) -> LiveFigure:
    """Depth, kernel, weights, activation, sub-sampling/dilation and dropout -> the live ERF."""
    values = dict(
        depth=10,
        kernel=3,
        weights="random",
        activation="none",
        layout="plain",
        dropout=0.0,
    )
    values.update(start)
    controls = {
        "depth": int_slider("layers", values["depth"], 1, 40),
        "kernel": dropdown("kernel", (3, 5, 7), values["kernel"]),
        "weights": dropdown("weights", ("random", "uniform"), values["weights"]),
        "activation": dropdown(
            "activation", ("none", "relu", "tanh", "sigmoid"), values["activation"]
        ),
        "layout": dropdown("layout", LAYOUTS, values["layout"]),
        "dropout": float_slider("dropout", values["dropout"], 0.0, 0.5, 0.1),
    }
    return LiveFigure(
        controls,
        explore_erf,
        draw_explorer,
        describe=describe_explorer,
        figsize=(7.5, 3.0),
    )
