"""The live demos of notebook 03: dilated kernels, gridding, and four ways to grow the RF.

* ``dilated_kernel_demo``: a dilated kernel sliding over a small input, with
  the output-size formula;
* ``dilation_explorer``: depth, one rate per layer and the kernel size in,
  the coverage map, the RF box, the holes and the HDC verdict out;
* ``stack_comparison``: pick the stack (plain, strided, pooled, dilated)
  and its depth; see its RF grow against the others, its coverage and the
  resolution it keeps.

Each is a ``LiveFigure`` over a pure ``compute`` function returning a frozen
dataclass; impossible settings come back with a ``problem`` explanation.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import EngFormatter, MaxNLocator

from ..._validate import as_int, one_of
from ...coverage import coverage_map
from ...rf import ReceptiveField, receptive_field
from ...sizes import conv_output_size, dilated_kernel_size
from ..blit import Renderer, nice_ceiling
from ..i18n import _, ngettext
from ..style import COLORS
from ..widgets import LiveFigure, dropdown, int_slider
from .figures import (
    STACK_COLORS,
    STACKS,
    Gridding,
    Growth,
    count_bars,
    count_colormap,
    coverage_window,
    draw_counts,
    gridding,
    growth,
    hole_runs,
    rates_text,
    stack_layers,
)

MAX_SLIDE_INPUT = 16  # sliders of the sliding kernel
MAX_SLIDE_PADDING = 6
MAX_DEPTH = 6  # rate sliders of the explorer
MAX_RATE = 16
MAP_WINDOW = 129  # larger coverage maps show their centre (one-pixel holes stay visible)
MIN_MARKER_SPACING_PX = 6  # closer "next unit" markers would merge into a bar


def _warn(text: str) -> str:
    return f'<span style="color:{COLORS["warn"]}">{text}</span>'


# -- 1. a dilated kernel sliding over an input ------------------------------------------


@dataclass(frozen=True)
class DilatedSlide:
    """One position of a dilated ``kernel`` x ``kernel`` window on an ``input_size`` square."""

    input_size: int
    kernel: int
    dilation: int
    padding: int
    stride: int
    span: int  # k + (k - 1)(d - 1)
    n_out: int  # output side length; 0 when the window does not fit
    unit: tuple[int, int]  # (row, col) of the output unit shown
    taps: tuple[tuple[int, int], ...]  # (row, col) input pixels it reads (negative: padding)
    formula: str
    problem: str | None = None


def dilated_slide(
    input_size: int = 9, kernel: int = 3, dilation: int = 2, padding: int = 0, stride: int = 1,
    step: int = 0,
) -> DilatedSlide:  # fmt: skip
    """Where the window sits at ``step`` (output units in reading order, wrapping round).

    >>> dilated_slide(9, 3, 2).n_out
    5
    """
    i = as_int("input_size", input_size, minimum=1)
    k = as_int("kernel", kernel, minimum=1)
    d = as_int("dilation", dilation, minimum=1)
    p = as_int("padding", padding, minimum=0)
    s = as_int("stride", stride, minimum=1)
    step = as_int("step", step, minimum=0)
    span = dilated_kernel_size(k, d)
    formula = f"o = ⌊({i} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1"
    try:
        n_out = conv_output_size(i, k, s, p, d)
    except ValueError:
        problem = _(
            "The dilated kernel spans {span} pixels ({k} + ({k} − 1)·({d} − 1)), more than the "
            "padded input ({i} + 2·{p} = {padded}): it fits nowhere. Lower the dilation or "
            "the kernel, or add padding."
        ).format(span=span, k=k, d=d, i=i, p=p, padded=i + 2 * p)
        return DilatedSlide(i, k, d, p, s, span, 0, (0, 0), (), formula, problem)
    row, col = divmod(step % (n_out * n_out), n_out)
    rows = [row * s - p + d * t for t in range(k)]
    cols = [col * s - p + d * t for t in range(k)]
    taps = tuple((r, c) for r in rows for c in cols)
    return DilatedSlide(i, k, d, p, s, span, n_out, (row, col), taps, f"{formula} = {n_out}")


def _rgb(hex_colour: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.array(to_rgb(hex_colour))


def draw_dilated_slide(fig: Figure, r: DilatedSlide) -> None:
    """Left: the padded input with the window's taps. Right: the output, the unit in red."""
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    fig.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.04, wspace=0.08)
    lo, hi = -r.padding, r.input_size + r.padding
    side = hi - lo
    image = np.empty((side, side, 3))
    image[:] = _rgb(COLORS["padding"])
    image[r.padding : r.padding + r.input_size, r.padding : r.padding + r.input_size] = _rgb(
        COLORS["input"]
    )
    if r.taps:
        top = r.unit[0] * r.stride - r.padding
        first = r.unit[1] * r.stride - r.padding
        box = image[top - lo : top - lo + r.span, first - lo : first - lo + r.span]
        box[:] = 0.5 * box + 0.5 * _rgb(COLORS["rf_light"])
        for y, x in r.taps:
            image[y - lo, x - lo] = _rgb(COLORS["rf"])
    extent = (lo - 0.5, hi - 0.5, hi - 0.5, lo - 0.5)
    left.imshow(image, extent=extent, interpolation="nearest")
    _grid_lines(left, lo, hi)
    if r.padding:
        left.add_patch(
            Rectangle((-0.5, -0.5), r.input_size, r.input_size, fill=False,
                      edgecolor=COLORS["muted"], lw=1.5)
        )  # fmt: skip
    left.axis("off")
    if r.padding:
        title = _("input {i}x{i} + padding {p}: the kernel spans {span}x{span}")
    else:
        title = _("input {i}x{i}: the kernel spans {span}x{span}")
    left.set_title(title.format(i=r.input_size, p=r.padding, span=r.span), fontsize=10)
    n = max(r.n_out, 1)
    out = np.ones((n, n, 3))
    if r.n_out:
        out[r.unit] = _rgb(COLORS["unit"])
    right.imshow(out, extent=(-0.5, n - 0.5, n - 0.5, -0.5), interpolation="nearest")
    _grid_lines(right, 0, n)
    right.axis("off")
    output = _("output {n}x{n}").format(n=r.n_out) if r.n_out else _("no output")
    right.set_title(output, fontsize=10)
    if r.problem:
        # TRANSLATORS: four short lines inside a small square of the figure.
        fits = _(
            "the kernel spans {span} px,\nthe padded input\nonly {padded} px:\nit fits nowhere"
        )
        right.text(
            (n - 1) / 2, (n - 1) / 2, fits.format(span=r.span, padded=r.input_size + 2 * r.padding),
            ha="center", va="center", color=COLORS["warn"], fontsize=10,
        )  # fmt: skip


def _grid_lines(ax, lo: int, hi: int) -> None:
    """Thin pixel borders over an image whose pixels are centred on integers."""
    edges = np.arange(lo, hi + 1) - 0.5
    ax.vlines(edges, lo - 0.5, hi - 0.5, color=COLORS["input_edge"], lw=0.5)
    ax.hlines(edges, lo - 0.5, hi - 0.5, color=COLORS["input_edge"], lw=0.5)
    ax.set_xlim(lo - 0.6, hi - 0.4)
    ax.set_ylim(hi - 0.4, lo - 0.6)
    ax.set_aspect("equal")


def describe_dilated_slide(r: DilatedSlide) -> str:
    if r.problem:
        return _warn(r.problem)
    text = ngettext(
        "Effective kernel size {k} + ({k} − 1)·({d} − 1) = <b>{span}</b>, yet only "
        "{k}×{k} = {n} weight. Output side: {formula}. Showing output unit {unit}.",
        "Effective kernel size {k} + ({k} − 1)·({d} − 1) = <b>{span}</b>, yet only "
        "{k}×{k} = {n} weights. Output side: {formula}. Showing output unit {unit}.",
        r.kernel**2,
    )
    return text.format(
        k=r.kernel, d=r.dilation, span=r.span, n=r.kernel**2, formula=r.formula, unit=r.unit
    )


def dilated_kernel_demo(
    input_size: int = 9, kernel: int = 3, dilation: int = 2, padding: int = 0
) -> LiveFigure:
    """Sliders for a dilated kernel; move ``step`` to slide it over the input.

    ``step`` reaches every output unit of the largest output the sliders allow
    (a 1x1 kernel on 16 pixels with padding 6: 28x28 units); smaller outputs
    wrap round.
    """
    largest = MAX_SLIDE_INPUT + 2 * MAX_SLIDE_PADDING  # 1x1 kernel, stride 1
    controls = {
        "input_size": int_slider(_("input size"), input_size, 3, MAX_SLIDE_INPUT),
        "kernel": int_slider(_("kernel k"), kernel, 1, 5),
        "dilation": int_slider(_("dilation d"), dilation, 1, 6),
        "padding": int_slider(_("padding p"), padding, 0, MAX_SLIDE_PADDING),
        "stride": int_slider(_("stride s"), 1, 1, 3),
        "step": int_slider(_("window position"), 0, 0, largest * largest - 1),
    }
    return LiveFigure(
        controls, dilated_slide, draw_dilated_slide, describe=describe_dilated_slide,
        figsize=(7.5, 3.8),
    )  # fmt: skip


# -- 2. the dilation explorer ----------------------------------------------------------


@dataclass(frozen=True)
class Explorer:
    """A stack of dilated 2-D convolutions: coverage, RF and the HDC verdict."""

    rates: tuple[int, ...]
    kernel: int
    grid: Gridding  # coverage map of the central unit
    rf: ReceptiveField  # from the RF engine
    holes: int
    hole_share: float  # holes / RF area
    profile: np.ndarray  # counts through the centre row (1-D)
    note: str  # how the HDC rule and the holes compare
    problem: str | None = None


def explore_dilation(depth: int = 3, kernel: int = 3, **rates: int) -> Explorer:
    """Coverage of ``depth`` layers with rates ``r1, r2, ...`` (extra rates are ignored).

    >>> explore_dilation(3, 3, r1=2, r2=2, r3=2).holes > 0
    True
    """
    depth = as_int("depth", depth, minimum=1)
    kernel = as_int("kernel", kernel, minimum=1)
    chosen = tuple(as_int(f"r{i + 1}", rates.get(f"r{i + 1}", 1), 1) for i in range(depth))
    grid = _gridding(chosen, kernel)
    rf = grid.cover.rf  # the engine's receptive field of this stack
    holes = grid.cover.holes
    profile = grid.profile
    return Explorer(
        chosen, kernel, grid, rf, holes, holes / grid.cover.counts.size, profile,
        _compare(grid, holes),
    )  # fmt: skip


@functools.lru_cache(maxsize=64)
def _gridding(rates: tuple[int, ...], kernel: int) -> Gridding:
    return gridding(rates, kernel)


def _compare(grid: Gridding, holes: int) -> str:
    """One sentence on the HDC rule against the holes the map shows."""
    rule = grid.rule
    if rule is None:
        return _("The HDC rule needs at least two layers.")
    factor = math.gcd(*grid.rates)
    values = dict(m2=rule.m2, kernel=grid.kernel, factor=factor, r1=grid.rates[0])
    if rule.ok and not holes:
        text = _("HDC rule: M₂ = {m2} ≤ K = {kernel}: no gridding predicted, none found.")
    elif not rule.ok and holes:
        text = _("HDC rule: M₂ = {m2} > K = {kernel}: gridding predicted, and found.")
    elif rule.ok and factor > 1:
        text = _(
            "HDC rule: M₂ = {m2} ≤ K = {kernel}, yet the map has holes: the rates share the "
            "factor {factor}, which Wang et al.'s second condition (no common factor) forbids."
        )
    elif rule.ok and grid.rates[0] > 1:
        text = _(
            "HDC rule: M₂ = {m2} ≤ K = {kernel}, yet the map has holes: the M₂ test never reads "
            "the first layer's rate (r₁ = {r1}). Section 6 of the notebook shows why."
        )
    elif rule.ok and grid.kernel != 3:
        text = _(
            "HDC rule: M₂ = {m2} ≤ K = {kernel}, yet the map has holes: the rule's recursion is "
            "written for 3-tap kernels (taps at −r, 0, r), and a {kernel}-tap kernel does not "
            "fit it."
        )
    elif rule.ok:
        text = _(
            "HDC rule: M₂ = {m2} ≤ K = {kernel}, yet the map has holes: the single number M₂ "
            "misses a gap here."
        )
    elif grid.rates[0] > 1:
        text = _(
            "HDC rule: M₂ = {m2} > K = {kernel} predicts gridding, yet there are no holes: the "
            "first layer is dilated (r₁ > 1), and the M₂ test does not read its rate."
        )
    else:
        text = _(
            "HDC rule: M₂ = {m2} > K = {kernel} predicts gridding, yet there are no holes: its "
            "single number M over-estimates the real gaps here."
        )
    return text.format(**values)


class _ExplorerView:
    """The explorer's figure, built once; :meth:`update` shows one stack in it.

    Left: the coverage map in its RF box (the centre ``MAP_WINDOW`` pixels of
    a larger map).  Right: the paths to each input offset along the output
    unit's row, with a red band under every run of holes.  The artists are
    made once and changed in place, so that a slider move redraws only them
    (:class:`rflesson.course.blit.BlitCanvas`).
    """

    def __init__(self, fig: Figure) -> None:
        self.figure = fig
        self.map_ax, self.counts_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
        fig.subplots_adjust(left=0.03, right=0.97, top=0.86, bottom=0.2, wspace=0.25)
        ax = self.map_ax
        self.image = ax.imshow(
            np.ones((1, 1)), cmap=count_colormap(), norm=LogNorm(1, 2), interpolation="nearest"
        )
        self.box = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=COLORS["rf"], lw=1.5))
        self.borders = ax.add_collection(LineCollection([], colors="white", lw=0.6))
        (self.unit,) = ax.plot([0], [0], marker="s", color=COLORS["unit"], ms=3)
        self.map_title = ax.set_title(" ", fontsize=10)
        # a text, not the x label: an axis label is drawn with its axis, never alone
        self.verdict = ax.text(0.5, -0.03, "", transform=ax.transAxes, ha="center", va="top")
        ax.set_xticks([])
        ax.set_yticks([])
        ax = self.counts_ax
        self.bars = ax.stairs([0.0], [0.0, 1.0], fill=True, color=COLORS["rf"], lw=0)
        self.separators = ax.add_collection(LineCollection([], colors="white", lw=0.8))
        self.holes = ax.add_collection(PolyCollection([], facecolor=COLORS["warn"]))
        self.counts_title = ax.set_title(" ", fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))  # few ticks: ~2 ms each
        ax.yaxis.set_major_locator(MaxNLocator(3, integer=True))
        ax.yaxis.set_major_formatter(EngFormatter(sep=""))  # 87M, not a 1e7 over the title
        ax.set_xlabel(_("input offset from the output unit (its row)"))
        ax.set_ylabel(_("paths"))

    def update(self, e: Explorer) -> tuple[list, tuple]:
        """Show ``e``; return the artists that changed and the key of the rest."""
        self._show_map(e)
        offsets, counts = _centre_window(e.grid.offsets, e.profile, MAP_WINDOW)
        values, edges, separators = count_bars(offsets, counts)
        self.bars.set_data(values, edges)
        self.separators.set_segments(separators)  # two taps side by side: two bars
        # limits in coarse steps: most slider moves then keep the drawn axes
        top = nice_ceiling(float(counts.max()) * 1.25)
        band = 0.05 * top  # holes: a red band under the axis, one bar per run of holes
        runs = hole_runs(offsets, counts)
        self.holes.set_verts([[(x, -band), (x + w, -band), (x + w, 0), (x, 0)] for x, w in runs])
        if len(offsets) < len(e.profile):  # the centre of a larger row: exactly its window
            low, high = float(offsets[0]) - 1, float(offsets[-1]) + 1
        else:
            reach = nice_ceiling(max(-float(offsets[0]), float(offsets[-1])) + 1)
            low, high = -reach, reach
        self.counts_ax.set_xlim(low, high)
        self.counts_ax.set_ylim(-band, top)
        self.counts_title.set_text(_counts_title(e, len(offsets), bool(runs)))
        changing = [
            self.image, self.box, self.borders, self.unit, self.map_title, self.verdict,
            self.bars, self.separators, self.holes, self.counts_title,
        ]  # fmt: skip
        return changing, (low, high, top)

    def _show_map(self, e: Explorer) -> None:
        shown = coverage_window(e.grid, MAP_WINDOW)
        left, right, bottom, top = shown.extent
        self.image.set_data(shown.image)
        self.image.set_extent(shown.extent)
        self.image.set_clim(1, max(shown.peak, 2))
        self.map_ax.set_xlim(left, right)
        self.map_ax.set_ylim(bottom, top)
        self.box.set_bounds(left, top, shown.cols, shown.rows)
        self.box.set_visible(not shown.cropped)
        self.borders.set_segments(shown.pixel_borders())
        title = _("rates {rates} · kernel {kernel}")
        self.map_title.set_text(title.format(rates=rates_text(e.rates), kernel=e.kernel))
        self.verdict.set_text(shown.label(e.holes))
        self.verdict.set_color(COLORS["warn"] if e.holes else COLORS["ok"])


def _counts_title(e: Explorer, shown: int, red: bool) -> str:
    """How wide the RF is and how many offsets it misses (the holes are red when drawn)."""
    missed = e.grid.missed_offsets
    if red:  # a title, not a legend: one text less to draw at every update
        title = ngettext(
            "RF {size} wide: {n} offset missed per axis (red)",
            "RF {size} wide: {n} offsets missed per axis (red)",
            missed,
        )
    else:
        title = ngettext(
            "RF {size} wide: {n} offset missed per axis",
            "RF {size} wide: {n} offsets missed per axis",
            missed,
        )
    title = title.format(size=e.grid.size, n=missed)
    if shown < len(e.profile):
        title += "\n" + _("(centre {n} offsets shown)").format(n=shown)
    return title


def draw_explorer(fig: Figure, e: Explorer) -> None:
    """Left: the coverage map in its RF box. Right: the counts along the centre row."""
    _ExplorerView(fig).update(e)


def _centre_window(offsets: np.ndarray, counts: np.ndarray, window: int):
    """The ``window`` offsets around offset 0 (all of them when there are fewer)."""
    if len(offsets) <= window:
        return offsets, counts
    first = max(-int(offsets[0]) - window // 2, 0)
    return offsets[first : first + window], counts[first : first + window]


def describe_explorer(e: Explorer) -> str:
    size = e.rf.size[0]
    text = _("RF <b>{size}×{size}</b> (from the engine).").format(size=size)
    if e.holes:
        holes = ngettext(
            "{holes} of {total} pixels ({share}) inside the RF is a hole.",
            "{holes} of {total} pixels ({share}) inside the RF are holes.",
            e.holes,
        )
        text += " " + _warn(
            holes.format(holes=e.holes, total=size * size, share=_percent(e.hole_share))
        )
    else:
        reached = _("Every pixel of the RF is reached.")
        text += f' <span style="color:{COLORS["ok"]}">{reached}</span>'
    return f"{text} {e.note}"


def _percent(share: float) -> str:
    """A share as a percentage that never rounds a partial share to 0% or 100%."""
    if 0 < share < 0.005:
        return _("under 1%")
    if 0.995 <= share < 1:
        return _("over 99%")
    return f"{share:.0%}"


def dilation_explorer(depth: int = 3, kernel: int = 3, rates=(1, 2, 5)) -> LiveFigure:
    """Depth, a rate per layer and the kernel size: the coverage map and holes, live."""
    rates = tuple(rates) + (1,) * MAX_DEPTH
    controls = {
        "depth": int_slider(_("depth"), depth, 1, MAX_DEPTH),
        "kernel": int_slider(_("kernel K"), kernel, 2, 7),
    }
    for i in range(MAX_DEPTH):
        label = _("rate r{i}").format(i=i + 1)
        controls[f"r{i + 1}"] = int_slider(label, int(rates[i]), 1, MAX_RATE)
    return LiveFigure(
        controls,
        explore_dilation,
        draw_explorer,
        describe=describe_explorer,
        figsize=(8, 3.8),
        render=Renderer(_ExplorerView),
    )


# -- 3. four stacks compared -----------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One stack of ``depth`` 3x3 convolutions, next to the three others."""

    kind: str
    depth: int
    input_size: int
    table: Growth
    rf: ReceptiveField  # unbounded input: size, jump, start
    n_out: int | None  # output length for input_size (None: input too small)
    profile: np.ndarray  # 1-D coverage of the central unit (unbounded input)
    problem: str | None = None


@functools.lru_cache(maxsize=8)
def _growth(input_size: int) -> Growth:
    return growth(8, input_size)


def compare_stacks(kind: str = "dilated", depth: int = 4, input_size: int = 128) -> Comparison:
    """RF, jump and output length of one stack kind at ``depth``, all from the engine."""
    one_of("kind", kind, STACKS)
    depth = as_int("depth", depth, minimum=1)
    input_size = as_int("input_size", input_size, minimum=1)
    layers = stack_layers(kind, depth)
    rf = receptive_field(layers)
    profile = coverage_map(layers).counts
    table = _growth(input_size)
    n_out = table.n_out[kind][depth - 1] if depth <= len(table.depths) else None
    problem = None
    if n_out is None:
        problem = _(
            "An input of {size} pixels is too small for {depth} {kind} layers: each halves the "
            "length and nothing would be left. Use a larger input or fewer layers."
        ).format(size=input_size, depth=depth, kind=kind)
    return Comparison(kind, depth, input_size, table, rf, n_out, profile, problem)


def draw_comparison(fig: Figure, c: Comparison) -> None:
    """This stack's coverage (paths per input offset) and where the neighbouring units sit.

    One panel: the RF of all four stacks against depth is the static figure
    just above the demo in the notebook, and a second panel would double the
    cost of every update.  The title compares the four RFs at this depth.
    """
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.15)
    offsets = np.arange(c.rf.start, c.rf.start + c.rf.size) - c.rf.center
    draw_counts(ax, offsets, c.profile, STACK_COLORS[c.kind])
    reach = max(c.rf.size // 2, c.rf.jump)  # the nearest neighbours, even outside the RF
    top = float(c.profile.max()) * 1.15
    _draw_neighbours(fig, ax, c.rf.jump, reach, top)
    ax.set_ylim(0, top * 1.15)
    ax.set_xlim(-reach - 1, reach + 1)
    ax.set_xlabel(_("input offset from the unit's centre"))
    ax.set_ylabel(_("paths"))
    others = ", ".join(
        f"{kind} {c.table.size[kind][c.depth - 1]}" for kind in STACKS if kind != c.kind
    )
    title = ngettext(
        "{kind}, {depth} 3x3 convolution: RF {size} (the others: {others})\n"
        "next unit {jump} px away (▼)",
        "{kind}, {depth} 3x3 convolutions: RF {size} (the others: {others})\n"
        "next unit {jump} px away (▼)",
        c.depth,
    )
    values = dict(kind=c.kind, depth=c.depth, size=c.rf.size, others=others, jump=c.rf.jump)
    ax.set_title(title.format(**values), fontsize=10)
    if c.problem:
        small = _("input {size} too small\nfor this depth").format(size=c.input_size)
        ax.text(
            0.5, 0.5, small, transform=ax.transAxes,
            ha="center", va="center", color=COLORS["warn"],
            bbox=dict(facecolor="white", edgecolor=COLORS["warn"]),
        )  # fmt: skip


def _draw_neighbours(fig: Figure, ax, jump: int, reach: int, height: float) -> None:
    """A ▼ over every output unit within ``reach``, or over this one alone if they would merge.

    At depth 8 the dilated stack has 511 units inside its field, one pixel
    apart: drawn one by one they would fuse into a bar.
    """
    neighbours = np.arange(-(reach // jump), reach // jump + 1) * jump
    axes_px = ax.get_position().width * fig.get_figwidth() * fig.dpi
    spacing_px = axes_px * jump / (2 * reach + 2)
    if spacing_px >= MIN_MARKER_SPACING_PX:
        ax.plot(neighbours, [height] * len(neighbours), "v", color=COLORS["unit"], ms=4)
        return
    ax.plot([0], [height], "v", color=COLORS["unit"], ms=4)
    ax.annotate(
        _("next units every {jump} px:\ntoo close to draw each").format(jump=jump),
        (0, height), xytext=(8, 0), textcoords="offset points", va="center", fontsize=8,
        color=COLORS["unit"],
    )  # fmt: skip


def describe_comparison(c: Comparison) -> str:
    text = ngettext(
        "<b>{kind}</b>, {depth} convolution ({weights} weights per channel pair): "
        "RF <b>{size}</b>, jump {jump}.",
        "<b>{kind}</b>, {depth} convolutions ({weights} weights per channel pair): "
        "RF <b>{size}</b>, jump {jump}.",
        c.depth,
    ).format(kind=c.kind, depth=c.depth, weights=9 * c.depth, size=c.rf.size, jump=c.rf.jump)
    if c.problem:
        return f"{text} {_warn(c.problem)}"
    if c.rf.jump == 1:
        spacing = _("one per input pixel")
    else:
        spacing = _("one every {jump} input pixels").format(jump=c.rf.jump)
    gives = ngettext(
        "An input of {size} pixels gives <b>{n}</b> output unit per axis ({spacing}).",
        "An input of {size} pixels gives <b>{n}</b> output units per axis ({spacing}).",
        c.n_out,
    ).format(size=c.input_size, n=c.n_out, spacing=spacing)
    return f"{text} {gives}"


def stack_comparison(kind: str = "dilated", depth: int = 4, input_size: int = 128) -> LiveFigure:
    """Pick a stack and its depth; compare its RF growth and resolution with the others."""
    controls = {
        "kind": widgets.ToggleButtons(options=list(STACKS), value=kind, description=_("stack")),
        "depth": int_slider(_("depth"), depth, 1, 8),
        "input_size": dropdown(_("input size"), (32, 64, 128, 256), input_size),
    }
    return LiveFigure(
        controls, compare_stacks, draw_comparison, describe=describe_comparison, figsize=(8, 3.4)
    )
