"""Pictures of effective receptive fields, and the ERF explorer.

Drawing functions take an ``Axes`` (or a ``Figure``) and draw on it; the
explorer is a :class:`rflesson.course.widgets.LiveFigure` over the pure
:func:`explore_erf` and :func:`draw_explorer`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib
import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from torch import nn

from ...erf import Box, ErfStats, erf_stats, loglog_slope
from ...erf_exact import StackBatch, outer_stats, stack_erf, uniform_profile_1d, work
from ..blit import Renderer, nice_ceiling
from ..i18n import N_, _
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
                label=_("theoretical RF") if label_box else None,
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
    measured_label = _("measured ({label})").format(label=label)
    ax.plot(x, measured, "o", color=COLORS["erf"], ms=4, label=measured_label)
    ax.plot(xe, exact, "-", color=COLORS["rf"], lw=1.5, label=_("box convolved with itself"))
    fine = np.linspace(x[0], x[-1], 400)
    gauss = np.exp(-(fine**2) / (2 * variance)) / math.sqrt(2 * math.pi * variance)
    ax.plot(fine, gauss, "--", color=COLORS["muted"], lw=1, label=_("Gaussian, same variance"))
    ax.set_xlabel(_("input column relative to the centre"))
    ax.set_ylabel(_("share of the ERF"))
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
    titles = (_("before: size {size:.1f} px"), _("after: size {size:.1f} px"))
    for ax, erf, title in zip(axes[:2], (before, after), titles, strict=True):
        draw_erf(ax, erf, box=box, title=title.format(size=erf_stats(erf).size))
    for erf, colour, label in (
        # TRANSLATORS: legend of the ERF profile before training
        (before, COLORS["muted"], _("before")),
        # TRANSLATORS: legend of the ERF profile after training
        (after, COLORS["erf"], _("after")),
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
        label=_("the task's {square}x{square} square").format(square=square),
    )
    axes[2].set_xlabel(_("column from the centre"))
    axes[2].set_ylim(0, 1.5 * float(max(before.sum(axis=0).max(), after.sum(axis=0).max())))
    axes[2].set_ylabel(_("share of the ERF"))
    axes[2].legend(fontsize=7, loc="upper left")
    fig.tight_layout()


def draw_sqrt_law(
    fig: Figure, depths: Sequence[int], sizes: dict[str, np.ndarray], trf_sizes: np.ndarray
) -> None:
    """ERF sizes against depth on log-log axes (left) and their share of the TRF (right).

    ``sizes`` maps a label to the ERF sizes at ``depths``; ``trf_sizes`` are the
    theoretical RF sizes there.  On these axes a power law is a straight line whose
    slope is its exponent: the legend gives each fitted slope, and the right panel a
    dotted ``1/sqrt(n)`` guide.
    """
    depths = np.asarray(depths)
    trf_sizes = np.asarray(trf_sizes, dtype=float)
    colours = (COLORS["accent"], COLORS["erf"], COLORS["ok"])
    left, right = fig.subplots(1, 2)
    for i, (label, values) in enumerate(sizes.items()):
        colour = colours[i % len(colours)]
        slope = loglog_slope(depths, values)
        fitted = _("{label}: slope {slope:.2f}").format(label=label, slope=slope)
        left.loglog(depths, values, "o-", color=colour, label=fitted)
        right.loglog(depths, np.asarray(values) / trf_sizes, "o-", color=colour, label=label)
    trf_label = _("TRF 2n+1: slope {slope:.2f}").format(slope=loglog_slope(depths, trf_sizes))
    left.loglog(depths, trf_sizes, "s--", color=COLORS["rf"], label=trf_label)
    right.loglog(depths, 1.8 / np.sqrt(depths), ":", color=COLORS["muted"], label="∝ 1/√n")
    left.set_ylabel(_("size (pixels)"))
    right.set_ylabel(_("ERF size / TRF size"))
    for ax, ticks in ((left, [5, 10, 20, 40, 80]), (right, [0.2, 0.3, 0.5, 1.0])):
        ax.set_xlabel(_("layers n"))
        ax.minorticks_off()
        ax.set_xticks(depths, [str(d) for d in depths])
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.legend(fontsize=8)
    fig.tight_layout()


# -- the explorer --------------------------------------------------------------------------

#: Sub-sampling and dilation choices of the explorer (the values ``explore_erf`` takes),
#: with what its menu shows for each (translated when shown).
_LAYOUT_LABELS = {
    # TRANSLATORS: the explorer's layout without sub-sampling or dilation
    "plain": N_("plain"),
    "stride 2 (first 2 layers)": N_("stride 2 (first 2 layers)"),
    "dilation 2": N_("dilation 2"),
}
LAYOUTS = tuple(_LAYOUT_LABELS)
_WEIGHT_LABELS = {"random": N_("random"), "uniform": N_("uniform")}
# TRANSLATORS: no activation function (a linear network)
_ACTIVATION_LABELS = {"none": N_("none"), "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}
#: What the explorer says when no pixel reaches the unit (translated when shown: the
#: result that carries it is cached, and the language may change in between).
_NO_PATH = N_(
    "No input pixel moves this unit: every path is blocked "
    "(for example all ReLUs on it are off). Try fewer layers or another activation."
)
EXPLORER_MAX_DEPTH = 40
EXPLORER_SAMPLES = 8
EXPLORER_CHANNELS = 2
#: The longest one explorer update may spend measuring, in milliseconds of the time
#: model below.  A field that needs more is measured on a smaller input, and the demo
#: says so instead of printing numbers.
EXPLORER_BUDGET_MS = 150.0
#: The time model: milliseconds per unit of :class:`rflesson.erf_exact.Work`, fitted
#: (least squares, 90 settings) to stack_erf on one thread of the development machine
#: while it was busy; a quiet machine takes about half.  Elementwise work matters as
#: much as multiply-adds with 2 channels; strided layers run network by network.
COST_MS = {
    "multiply_adds": 1.0e-7,
    "strided_multiply_adds": 1.2e-6,
    "values": 2.1e-5,
    "mask_values": 5.5e-6,
    "layer_passes": 0.06,
}


@dataclass(frozen=True)
class ExplorerResult:
    """One setting of the ERF explorer: the map, how it was obtained, and its numbers.

    ``method`` is ``"exact"`` (uniform linear stack: the closed form),
    ``"measured"`` (the whole theoretical field, ``side`` pixels a side) or
    ``"cut"`` (too large to measure in time: a ``side`` x ``side`` input,
    smaller than the field; ``stats`` is then None, as numbers of the middle
    of the field would not describe the whole).  ``problem``, when set, is
    the English text of what went wrong, translated when shown.
    """

    depth: int
    kernel: int
    weights: str
    activation: str
    layout: str
    dropout: float
    erf: np.ndarray | None = field(repr=False, compare=False)
    trf_size: int
    side: int
    method: str
    stats: ErfStats | None
    lattice_step: int = 1
    problem: str | None = None

    @property
    def cut(self) -> bool:
        return self.method == "cut"


def _layout(depth: int, layout: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Strides and dilations of each layer."""
    strides, dilations = (1,) * depth, (1,) * depth
    if layout == "stride 2 (first 2 layers)":
        strides = tuple(2 if i < 2 else 1 for i in range(depth))
    elif layout == "dilation 2":
        dilations = (2,) * depth
    return strides, dilations


@functools.lru_cache(maxsize=6)
def _weight_bank(kernel: int, weights: str) -> tuple[torch.Tensor, ...]:
    """The explorer's networks before scaling: one tensor per layer, every network at once.

    Standard normal draws (seed 0, layer after layer) or ones.  Layer ``l``
    is the same at every depth, so a deeper setting adds layers on top of
    the same networks.
    """
    generator = torch.Generator().manual_seed(0)
    bank = []
    for layer in range(EXPLORER_MAX_DEPTH):
        c_in = 1 if layer == 0 else EXPLORER_CHANNELS
        shape = (EXPLORER_SAMPLES, EXPLORER_CHANNELS, c_in, kernel, kernel)
        draw = torch.randn(shape, generator=generator) if weights == "random" else torch.ones(shape)
        bank.append(draw)
    return tuple(bank)


def explorer_batch(
    depth: int, kernel: int, weights: str, activation: str, layout: str, dropout: float
) -> StackBatch:
    """The explorer's networks: ``EXPLORER_SAMPLES`` stacks as ``conv_stack`` makes them.

    Random weights are Gaussian with standard deviation ``gain / sqrt(fan_in)``
    (the activation's gain), uniform ones ``1 / fan_in``.  ``batch.modules()``
    gives them as ``ConvStack`` modules, for ``erf_map``.
    """
    gain = nn.init.calculate_gain(activation if activation != "none" else "linear")
    scaled = []
    for draw in _weight_bank(kernel, weights)[:depth]:
        fan_in = draw.shape[2] * kernel**2
        scaled.append(draw * (gain / fan_in**0.5) if weights == "random" else draw / fan_in)
    strides, dilations = _layout(depth, layout)
    return StackBatch(
        weights=tuple(scaled),
        strides=strides,
        dilations=dilations,
        activation=None if activation == "none" else activation,
        dropout=dropout,
    )


def _cost(batch: StackBatch, window: int | None = None) -> float:
    """The time model's estimate for one measurement, in milliseconds."""
    counts = work(batch, window)
    return sum(rate * getattr(counts, name) for name, rate in COST_MS.items())


def _largest_window(batch: StackBatch) -> int:
    """The largest input (centred, smaller than the field) that the budget allows."""
    period = 2 * math.prod(batch.strides) * batch.lattice_step()
    low, high = 0, (batch.field_side() - 1) // period  # window = 1 + period * m
    while low < high:
        middle = (low + high + 1) // 2
        if _cost(batch, 1 + period * middle) <= EXPLORER_BUDGET_MS:
            low = middle
        else:
            high = middle - 1
    return 1 + period * low


@functools.lru_cache(maxsize=32)
def explore_erf(
    depth: int = 10,
    kernel: int = 3,
    weights: str = "random",
    activation: str = "none",
    layout: str = "plain",
    dropout: float = 0.0,
) -> ExplorerResult:
    """The ERF of the explorer's networks with these settings (pure, cached).

    On exactly the theoretical field: the closed form for uniform linear
    stacks, otherwise ``EXPLORER_SAMPLES`` random networks and inputs measured
    by :func:`rflesson.erf_exact.stack_erf` (the same map as ``erf_map`` on
    any input that holds the field).  A field too large to measure within
    ``EXPLORER_BUDGET_MS`` is measured on the largest centred input that fits,
    and flagged as cut.  Never raises for settings the sliders reach: a map
    that is all zero comes back with a ``problem`` explaining it.
    """
    dropout = round(float(dropout), 2)
    batch = explorer_batch(depth, kernel, weights, activation, layout, dropout)
    trf_size = batch.field_side()
    stats = None
    if weights == "uniform" and not batch.needs_forward():
        profile = uniform_profile_1d(batch.kernels, batch.strides, batch.dilations)
        erf, method, side = np.outer(profile, profile), "exact", trf_size
        stats = outer_stats(profile, profile)  # erf_stats of that map, in O(side)
    elif _cost(batch) <= EXPLORER_BUDGET_MS:
        erf, method, side = stack_erf(batch, seed=0), "measured", trf_size
    else:
        side = _largest_window(batch)
        erf, method = stack_erf(batch, seed=0, window=side), "cut"
    settings = dict(
        depth=depth,
        kernel=kernel,
        weights=weights,
        activation=activation,
        layout=layout,
        dropout=dropout,
        trf_size=trf_size,
        side=side,
        method=method,
        lattice_step=batch.lattice_step(),
    )
    if not erf.sum() > 0:  # the problem is translated when shown (the result is cached)
        return ExplorerResult(erf=None, stats=None, problem=_NO_PATH, **settings)
    if method == "measured":
        stats = erf_stats(erf)
    erf = erf.astype(np.float32)  # for the picture; the numbers come from float64
    erf.setflags(write=False)
    return ExplorerResult(erf=erf, stats=stats, **settings)


#: A map wider than this many pixels is shrunk to fit its panel (about 210 pixels).
PANEL_PIXELS = 150


def _shown_step(result: ExplorerResult) -> int:
    """Draw every pixel, or only the reachable sub-grid of a dilated stack.

    Holes one pixel wide cannot be drawn on a map shrunk to its panel: there,
    the picture shows the pixels that reach the unit (and says so).
    """
    return result.lattice_step if result.side > PANEL_PIXELS else 1


def _shrunk(picture: np.ndarray) -> np.ndarray:
    """Block means of ``factor x factor`` pixels for a map far larger than its panel.

    What drawing it shrunk would show anyway, at a fraction of the cost.  The
    map is padded with zeros (outside the field) to a multiple of the factor,
    evenly on both sides: the shift is under one block.
    """
    factor = picture.shape[0] // (2 * PANEL_PIXELS) + 1
    if factor == 1:
        return picture
    pad = -picture.shape[0] % factor
    padded = np.pad(picture, ((pad // 2, pad - pad // 2),) * 2)
    blocks = padded.shape[0] // factor
    return padded.reshape(blocks, factor, blocks, factor).mean(axis=(1, 3))


def _column_profile(result: ExplorerResult) -> tuple[np.ndarray, np.ndarray]:
    """The ERF's share per column (or per reachable column), and the bar edges in pixels."""
    step = _shown_step(result)
    shares = result.erf.sum(axis=0, dtype=np.float64)[::step]
    half = (result.side - 1) / 2
    edges = np.arange(shares.size + 1) * step - half - step / 2
    return shares, edges


class _ExplorerView:
    """The explorer's figure, built once: :meth:`update` shows one result in it.

    Left, the map on the square of the theoretical field (orange), with a
    dark margin around it: nothing outside the field moves the unit.  Right,
    the ERF's share per column, with the field's edges.
    """

    MARGIN = 0.12  # dark margin around the field, as a share of its half-width

    def __init__(self, fig: Figure) -> None:
        self.figure = fig
        self.map_ax, self.profile_ax = fig.subplots(
            1,
            2,
            gridspec_kw={
                "width_ratios": [1, 1.4],
                "left": 0.02,
                "right": 0.98,
                "bottom": 0.17,
                "top": 0.84,
                "wspace": 0.22,
            },
        )
        ax = self.map_ax
        edge = 1 + self.MARGIN
        ax.set_facecolor(colormaps[ERF_CMAP](0.0))
        self.image = ax.imshow(
            np.zeros((1, 1)), cmap=ERF_CMAP, extent=(-1, 1, 1, -1), interpolation="antialiased"
        )
        self.box = Rectangle((-1, -1), 2, 2, fill=False, edgecolor=COLORS["rf"], lw=1.5)
        ax.add_patch(self.box)
        ax.set_xlim(-edge, edge)
        ax.set_ylim(edge, -edge)
        ax.set_xticks([])
        ax.set_yticks([])
        self.title = ax.set_title(" ", fontsize=9)
        ax = self.profile_ax
        self.bars = ax.stairs([0.0], [0.0, 1.0], fill=True, color=_BAR_COLOUR, lw=0)
        self.edges = [ax.axvline(0.0, color=COLORS["rf"], lw=1.5) for _ in range(2)]
        ax.set_xlabel(_("column from the centre (orange: theoretical RF edge)"))
        ax.set_ylabel(_("share of the ERF"))
        ax.xaxis.set_major_locator(MaxNLocator(7, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(4))
        self.message = fig.text(0.5, 0.5, "", ha="center", va="center", wrap=True)

    def update(self, result: ExplorerResult) -> tuple[list, tuple]:
        """Show ``result``; return the artists that changed and the key of the rest."""
        changing = [self.image, self.box, self.title, self.bars, *self.edges, self.message]
        shown = result.problem is None
        for ax in (self.map_ax, self.profile_ax):
            ax.set_visible(shown)
        self.message.set_text(_(result.problem) if result.problem else "")
        if not shown:
            return changing, ("problem",)
        step = _shown_step(result)
        picture = _shrunk(result.erf[::step, ::step])
        self.image.set_data(picture)
        self.image.set_clim(0.0, float(picture.max()))
        big = picture.shape[0] > PANEL_PIXELS
        self.image.set_interpolation("antialiased" if big else "nearest")
        self.box.set_visible(not result.cut)
        if result.cut:
            self.title.set_text(_(_CUT_TITLE).format(side=result.side, trf=result.trf_size))
            self.title.set_color(COLORS["warn"])
        else:
            title = _EXACT_TITLE if result.method == "exact" else _MEASURED_TITLE
            self.title.set_text(_(title).format(side=result.side))
            self.title.set_color("black")
        shares, edges = _column_profile(result)
        self.bars.set_data(shares, edges)
        half_field = result.trf_size / 2
        for line, x in zip(self.edges, (-half_field, half_field), strict=True):
            line.set_xdata([x, x])
            line.set_visible(not result.cut)
        # limits in coarse steps: most slider moves then keep the drawn axes
        reach = nice_ceiling(result.side / 2 * (1 + self.MARGIN))
        top = nice_ceiling(1.15 * float(shares.max()))
        self.profile_ax.set_xlim(-reach, reach)
        self.profile_ax.set_ylim(0.0, top)
        return changing, (reach, top)


_BAR_COLOUR = "#bd98c9"  # COLORS["erf"] at 60 % on white, opaque: thin bars do not shimmer
_EXACT_TITLE = N_("ERF on the whole {side}x{side} field (exact)")
_MEASURED_TITLE = N_("ERF on the whole {side}x{side} field (measured)")
_CUT_TITLE = N_("field cut at {side} of {trf} px:\ntoo large to measure in time")


def draw_explorer(fig: Figure, result: ExplorerResult) -> None:
    """The map on its theoretical field (left) and the ERF's share per column (right)."""
    _ExplorerView(fig).update(result)


def _r2_text(stats: ErfStats, depth: int) -> str:
    """The Gaussian fit's R², or a dash where a fit means nothing (one layer, or no spread)."""
    if depth == 1 or not math.isfinite(stats.gaussian_r2):
        return "—"
    return f"{stats.gaussian_r2:.3f}"


_CUT_LINE = N_(
    "theoretical RF <b>{trf}</b> px &nbsp; <b>field cut at {side} px</b>: measuring the whole "
    "field would take too long for a slider, so no numbers are shown (they would describe only "
    "the middle of the field). Fewer layers or a smaller kernel fit."
)
_NUMBERS_LINE = N_(
    "theoretical RF <b>{trf}</b> px &nbsp; ERF size <b>{size:.1f}</b> px (ERF/TRF {ratio:.2f}) "
    "&nbsp; σ = {sigma:.2f} px &nbsp; Gaussian R² {r2} &nbsp; ({how})"
)
_EXACT_HOW = N_("exact: every weight equal, a box convolved with itself once per layer")
_MEASURED_HOW = N_("{n} random networks and inputs, {c} channels")
_ONE_LAYER = N_("One layer: the ERF is the kernel itself; a Gaussian fit means nothing here.")
_LATTICE = N_(
    "Dilation {step} in every layer: only one pixel in {step} (in each direction) reaches the "
    "unit. The map has holes (gridding), which lower its size and its Gaussian fit."
)
_LATTICE_SHRUNK = N_(
    "The picture shows only those pixels: at this size the holes are too fine to draw."
)


def describe_explorer(result: ExplorerResult) -> str:
    """One line of numbers under the sliders."""
    if result.problem:
        problem = _(result.problem)
        return f"<b>{problem}</b>"
    if result.cut:
        return _(_CUT_LINE).format(trf=result.trf_size, side=result.side)
    s = result.stats
    how = (
        _(_EXACT_HOW)
        if result.method == "exact"
        else _(_MEASURED_HOW).format(n=EXPLORER_SAMPLES, c=EXPLORER_CHANNELS)
    )
    text = _(_NUMBERS_LINE).format(
        trf=result.trf_size,
        size=s.size,
        ratio=s.size / result.trf_size,
        sigma=s.sigma[1],
        r2=_r2_text(s, result.depth),
        how=how,
    )
    if result.depth == 1:
        text += "<br>" + _(_ONE_LAYER)
    elif result.lattice_step > 1:
        text += "<br>" + _(_LATTICE).format(step=result.lattice_step)
        if _shown_step(result) > 1:
            text += " " + _(_LATTICE_SHRUNK)
    return text


def _labelled(labels: dict[str, str]) -> list[tuple[str, str]]:
    """(shown label, value) pairs for a drop-down menu: the label translated, the value not."""
    return [(_(label), value) for value, label in labels.items()]


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
        "depth": int_slider(_("layers"), values["depth"], 1, EXPLORER_MAX_DEPTH),
        "kernel": dropdown(_("kernel"), (3, 5, 7), values["kernel"]),
        "weights": dropdown(_("weights"), _labelled(_WEIGHT_LABELS), values["weights"]),
        "activation": dropdown(
            _("activation"), _labelled(_ACTIVATION_LABELS), values["activation"]
        ),
        # TRANSLATORS: the explorer's menu of sub-sampling or dilation
        "layout": dropdown(_("layout"), _labelled(_LAYOUT_LABELS), values["layout"]),
        "dropout": float_slider("dropout", values["dropout"], 0.0, 0.5, 0.1),
    }
    return LiveFigure(
        controls,
        explore_erf,
        draw_explorer,
        describe=describe_explorer,
        figsize=(7.5, 3.0),
        render=Renderer(_ExplorerView),
    )
