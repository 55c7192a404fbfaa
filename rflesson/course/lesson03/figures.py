"""Figures of notebook 03: dilated kernels, four ways to grow the RF, gridding.

Pure computations (``stack_layers``, ``growth``, ``gridding``) return plain
data computed with rflesson's RF engine and ``coverage``; ``draw_*``
functions draw them on a given figure or axes and never call ``plt.show()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..._validate import as_int, one_of
from ...coverage import CoverageMap, coverage_map
from ...hdc import HDCResult, hdc_ok
from ...layers import Layer
from ...rf import receptive_field
from ...sizes import dilated_kernel_size
from ..i18n import _, ngettext
from ..style import COLORS, COUNT_CMAP

#: Coverage maps up to this side show a border around every pixel.
PIXEL_BORDERS_UP_TO = 40
#: Bar charts of path counts up to this many offsets separate neighbouring bars.
SEPARATE_BARS_UP_TO = 64

#: The four stacks of section 2, each made of 3x3 convolutions.
STACKS = ("plain", "strided", "pooled", "dilated")
STACK_COLORS = {
    "plain": COLORS["muted"],
    "strided": COLORS["accent"],
    "pooled": COLORS["ok"],
    "dilated": COLORS["rf"],
}


# -- the four stacks ------------------------------------------------------------------


def stack_layers(kind: str, depth: int, kernel: int = 3) -> list[Layer]:
    """``depth`` convolutions of ``kernel`` taps: the same parameters, four geometries.

    * ``plain``: stride 1, padding to keep the size;
    * ``strided``: stride 2 in every convolution;
    * ``pooled``: each convolution followed by a 2x2 pooling of stride 2 (no parameters);
    * ``dilated``: rates 1, 2, 4, 8, ... (layer ``i`` has rate ``2**i``), padding to keep the size.

    >>> [layer.dilation[0] for layer in stack_layers("dilated", 4)]
    [1, 2, 4, 8]
    """
    one_of("kind", kind, STACKS)
    depth = as_int("depth", depth, minimum=1)
    kernel = as_int("kernel", kernel, minimum=1)
    half = (kernel - 1) // 2
    layers: list[Layer] = []
    for i in range(depth):
        if kind == "plain":
            layers.append(Layer(kernel, padding=half, name=f"conv{i + 1}"))
        elif kind == "strided":
            layers.append(Layer(kernel, stride=2, padding=half, name=f"conv{i + 1}"))
        elif kind == "pooled":
            layers.append(Layer(kernel, padding=half, name=f"conv{i + 1}"))
            layers.append(Layer(2, stride=2, name=f"pool{i + 1}"))
        else:
            rate = 2**i
            layers.append(Layer(kernel, padding=half * rate, dilation=rate, name=f"conv{i + 1}"))
    return layers


@dataclass(frozen=True)
class Growth:
    """RF size, jump and output length of each stack after 1..max_depth convolutions."""

    depths: tuple[int, ...]
    input_size: int
    size: dict[str, tuple[int, ...]]
    jump: dict[str, tuple[int, ...]]
    n_out: dict[str, tuple[int | None, ...]]  # None: the input is too small for that depth


def growth(max_depth: int = 8, input_size: int = 256, kernel: int = 3) -> Growth:
    """The four stacks side by side, every number from ``rflesson.receptive_field``."""
    max_depth = as_int("max_depth", max_depth, minimum=1)
    input_size = as_int("input_size", input_size, minimum=1)
    depths = tuple(range(1, max_depth + 1))
    size, jump, n_out = {}, {}, {}
    for kind in STACKS:
        fields = [receptive_field(stack_layers(kind, d, kernel)) for d in depths]
        size[kind] = tuple(f.size for f in fields)
        jump[kind] = tuple(f.jump for f in fields)
        n_out[kind] = tuple(_n_out(stack_layers(kind, d, kernel), input_size) for d in depths)
    return Growth(depths, input_size, size, jump, n_out)


def growth_table(g: Growth) -> str:
    """``g`` as a text table: for each depth, each stack's RF, jump and output length.

    The RF and jump columns keep their (English) names in every language, as
    the course's glossary does; "depth" and "out" are translated.

    >>> print(growth_table(growth(max_depth=1, input_size=8)))
    depth                  plain               strided                pooled               dilated
                   RF  jump  out         RF  jump  out         RF  jump  out         RF  jump  out
        1            3    1    8           3    2    4           4    2    4           3    1    8
    """
    depth = _("depth")
    # TRANSLATORS: a column head: the number of output units (the table widens to fit it).
    out = _("out")
    out_width = max(5, len(out) + 2)
    width = 12 + 5 + out_width  # RF, jump, out
    heads = f"{'RF  jump  ' + out:>{width}}"
    lines = [
        depth + " " + "".join(f"{kind:>{width}}" for kind in STACKS),
        " " * (len(depth) + 1) + heads * len(STACKS),
    ]
    for i, d in enumerate(g.depths):
        row = ""
        for kind in STACKS:
            n_out = g.n_out[kind][i]
            row += f"{g.size[kind][i]:>12}{g.jump[kind][i]:>5}{n_out or '-':>{out_width}}"
        lines.append(f"{d:{len(depth)}d} {row}")
    return "\n".join(lines)


def _n_out(layers: list[Layer], input_size: int) -> int | None:
    try:
        return receptive_field(layers, input_size).n_out
    except ValueError:  # the input is smaller than the stack can take
        return None


_LINE = {  # lines that coincide (strided = dilated RF; plain = dilated length) stay visible
    "plain": dict(ls="-", lw=4.5, alpha=0.45),
    "strided": dict(ls="-", lw=4.5, alpha=0.45),
    "pooled": dict(ls="--", lw=2.0, alpha=1.0),
    "dilated": dict(ls="--", lw=2.0, alpha=1.0),
}


def draw_growth(fig: Figure, g: Growth, *, highlight: str | None = None, depth: int | None = None):
    """Left: RF size against depth (log scale). Right: output length against depth."""
    left, right = fig.subplots(1, 2)
    for kind in STACKS:
        style = dict(_LINE[kind], color=STACK_COLORS[kind], marker="o", ms=4)
        if kind == highlight:
            style["lw"] += 1.5
        left.plot(g.depths, g.size[kind], label=kind, **style)
        outs = [(d, n) for d, n in zip(g.depths, g.n_out[kind], strict=True) if n is not None]
        right.plot(*zip(*outs, strict=True), label=kind, **style)
    for ax in (left, right):
        ax.set_yscale("log", base=2)
        ax.yaxis.set_major_formatter("{x:.0f}")
        ax.minorticks_off()
        ax.set_xticks(g.depths)
        ax.set_xlabel(_("number of 3x3 convolutions"))
        if depth is not None:
            ax.axvline(depth, color=COLORS["unit"], lw=1, ls=":")
    left.set_ylabel(_("receptive field (pixels)"))
    left.set_title(_("RF: linear vs exponential growth"))
    right.set_ylabel(_("output length (input {size})").format(size=g.input_size))
    right.set_title(_("what it costs in resolution"))
    left.legend(loc="upper left")
    _name_lines(right, g)
    fig.tight_layout()


def _name_lines(ax: Axes, g: Growth) -> None:
    """Write the stacks' names on the output-length lines (two pairs coincide there)."""
    groups: dict[tuple, list[str]] = {}
    for kind in STACKS:
        groups.setdefault(g.n_out[kind], []).append(kind)
    top = max(n for outs in groups for n in outs if n is not None)
    for outs, kinds in groups.items():
        points = [(d, n) for d, n in zip(g.depths, outs, strict=True) if n is not None]
        d, n = points[len(points) // 2]
        below = n == top  # the full-resolution line runs along the top of the panel
        ax.annotate(names_text(kinds), (d, n), xytext=(4, -8 if below else 6),
                    textcoords="offset points", va="top" if below else "bottom", fontsize=9)  # fmt: skip


def names_text(names: list[str]) -> str:
    """Names joined as a sentence says them: ``plain``, ``plain and dilated``, ``a, b and c``."""
    if len(names) == 1:
        return names[0]
    return _("{names} and {last}").format(names=", ".join(names[:-1]), last=names[-1])


# -- the dilated kernel ----------------------------------------------------------------


def draw_dilated_kernels(fig: Figure, dilations=(1, 2, 3), kernel: int = 3, grid: int = 9):
    """One panel per rate: the taps of a ``kernel`` x ``kernel`` kernel on a small input."""
    axes = fig.subplots(1, len(dilations))
    for ax, d in zip(np.atleast_1d(axes), dilations, strict=True):
        span = dilated_kernel_size(kernel, d)
        first = (grid - span) // 2
        _grid(ax, grid, grid)
        ax.add_patch(
            Rectangle(
                (first - 0.5, first - 0.5),
                span,
                span,
                facecolor=COLORS["rf_light"],
                edgecolor=COLORS["rf"],
                lw=2,
            )
        )
        taps = [first + d * t for t in range(kernel)]
        for y in taps:
            for x in taps:
                ax.add_patch(
                    Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=COLORS["rf"], edgecolor="k")
                )
        ax.set_title(_("dilation {d}: spans {span}x{span}").format(d=d, span=span))
    fig.tight_layout()


def _grid(ax: Axes, rows: int, cols: int) -> None:
    """Empty input pixels with thin borders, row 0 at the top."""
    for y in range(rows):
        for x in range(cols):
            ax.add_patch(
                Rectangle(
                    (x - 0.5, y - 0.5),
                    1,
                    1,
                    facecolor=COLORS["input"],
                    edgecolor=COLORS["input_edge"],
                    lw=0.5,
                )
            )
    ax.set_xlim(-0.6, cols - 0.4)
    ax.set_ylim(rows - 0.4, -0.6)
    ax.set_aspect("equal")
    ax.axis("off")


# -- gridding ------------------------------------------------------------------------


@dataclass(frozen=True)
class Gridding:
    """One stack of dilated convolutions: its coverage and the HDC rule's verdict."""

    rates: tuple[int, ...]
    kernel: int
    cover: CoverageMap  # 2-D coverage of the central unit
    rule: HDCResult | None  # None for a single layer (the rule needs two)

    @property
    def size(self) -> int:
        return self.cover.counts.shape[0]

    @property
    def profile(self) -> np.ndarray:
        """Counts along the row through the output unit (offset 0)."""
        return self.cover.counts[min(max(-self.cover.origin[0], 0), self.size - 1)]

    @property
    def offsets(self) -> np.ndarray:
        """Input offset from the unit of each entry of ``profile``."""
        return self.cover.origin[1] + np.arange(self.size)

    @property
    def missed_offsets(self) -> int:
        """Offsets along one axis that no path reaches (a whole row and column each)."""
        return int((self.profile == 0).sum())


def gridding(rates, kernel: int = 3) -> Gridding:
    """Coverage map of 2-D ``kernel`` x ``kernel`` convolutions with these rates."""
    rates = tuple(as_int(f"rates[{i}]", r, minimum=1) for i, r in enumerate(rates))
    if not rates:
        raise ValueError("rates must list at least one dilation rate, got ()")
    kernel = as_int("kernel", kernel, minimum=1)
    layers = [Layer((kernel, kernel), dilation=r, padding=r * ((kernel - 1) // 2)) for r in rates]
    rule = hdc_ok(rates, kernel) if len(rates) >= 2 else None
    return Gridding(rates, kernel, coverage_map(layers), rule)


@dataclass(frozen=True)
class CoverageWindow:
    """The part of a coverage map that a figure shows, ready for ``imshow``.

    ``image``: the counts as floats, holes as NaN (drawn white); ``extent``:
    (left, right, bottom, top) in input offsets from the output unit;
    ``rows``/``cols``: the whole RF; ``cropped``: only its centre is shown.
    """

    image: np.ndarray
    extent: tuple[float, float, float, float]
    peak: float
    rows: int
    cols: int
    cropped: bool

    def label(self, holes: int) -> str:
        """``RF 13x13: 24 holes``, with the shown window when cropped."""
        text = _("RF {cols}x{rows}: {verdict}").format(
            cols=self.cols, rows=self.rows, verdict=holes_text(holes)
        )
        if self.cropped:
            rows, cols = self.image.shape
            shown = _("(centre {cols}x{rows} shown)").format(cols=cols, rows=rows)
            text = f"{text}\n{shown}"
        return text

    def pixel_borders(self) -> list:
        """Line segments between the pixels, for a small map (none for a large one)."""
        if max(self.image.shape) > PIXEL_BORDERS_UP_TO:
            return []
        left, right, bottom, top = self.extent
        lines = [((x, top), (x, bottom)) for x in np.arange(left + 1, right)]
        return lines + [((left, y), (right, y)) for y in np.arange(top + 1, bottom)]


def coverage_window(g: Gridding, window: int | None = None) -> CoverageWindow:
    """The coverage map of ``g``, or its central ``window x window`` pixels when larger."""
    counts = g.cover.counts
    top, first = g.cover.origin
    rows, cols = counts.shape
    cropped = window is not None and max(rows, cols) > window
    if cropped:
        r0, c0 = max(-top - window // 2, 0), max(-first - window // 2, 0)
        counts = counts[r0 : r0 + window, c0 : c0 + window]
        top, first = top + r0, first + c0
    image = counts.astype(float)
    image[counts == 0] = np.nan
    peak = float(np.nanmax(image)) if np.isfinite(image).any() else 1.0
    shown_rows, shown_cols = counts.shape
    extent = (first - 0.5, first + shown_cols - 0.5, top + shown_rows - 0.5, top - 0.5)
    return CoverageWindow(image, extent, peak, rows, cols, cropped)


def count_colormap() -> ListedColormap:
    """Oranges for path counts (log scale), white for holes."""
    return ListedColormap(_oranges(256)).with_extremes(bad="white")


def draw_coverage(
    ax: Axes,
    g: Gridding,
    *,
    title: str | None = None,
    box: bool = True,
    window: int | None = None,
) -> None:
    """The coverage map: orange = number of paths (log scale), white = holes.

    Axes are input offsets from the output unit's position (red square).
    ``window`` shows only the central ``window x window`` pixels of a larger
    map: a few hundred pixels cannot show one-pixel holes on screen anyway.
    """
    shown = coverage_window(g, window)
    ax.imshow(shown.image, cmap=count_colormap(), norm=LogNorm(1, max(shown.peak, 2)),
              extent=shown.extent, interpolation="nearest")  # fmt: skip
    if box and not shown.cropped:
        left, _right, _bottom, top = shown.extent
        ax.add_patch(
            Rectangle((left, top), shown.cols, shown.rows, fill=False, edgecolor=COLORS["rf"],
                      lw=1.5)
        )  # fmt: skip
    borders = shown.pixel_borders()
    if borders:
        ax.add_collection(LineCollection(borders, colors="white", lw=0.6))
    ax.plot([0], [0], marker="s", color=COLORS["unit"], ms=3)
    holes = g.cover.holes
    colour = COLORS["warn"] if holes else COLORS["ok"]
    ax.set_title(title or _("rates {rates}").format(rates=rates_text(g.rates)), fontsize=10)
    ax.set_xlabel(shown.label(holes), color=colour)
    ax.set_xticks([])
    ax.set_yticks([])


def holes_text(holes: int) -> str:
    """``no holes``, ``1 hole``, ``120 holes``, in the current language."""
    if not holes:
        return _("no holes")
    return ngettext("{n} hole", "{n} holes", holes).format(n=holes)


def rates_text(rates) -> str:
    """Rates as a learner writes them: ``(1,)`` becomes ``1`` and ``(1, 2, 9)`` becomes ``1, 2, 9``."""
    return ", ".join(str(r) for r in rates)


def _oranges(n: int) -> np.ndarray:
    """The count colour map without its white end (so one path is still visible)."""
    import matplotlib

    return matplotlib.colormaps[COUNT_CMAP](np.linspace(0.25, 1.0, n))


def draw_gridding(fig: Figure, stacks: list[Gridding]) -> None:
    """One coverage map per rate list, side by side, with Wang et al.'s two conditions under each.

    Green when both hold (``M₂ <= K`` and no common factor), red otherwise.
    """
    axes = np.atleast_1d(fig.subplots(1, len(stacks)))
    for ax, g in zip(axes, stacks, strict=True):
        draw_coverage(ax, g)
        if g.rule is not None:
            sign = "≤" if g.rule.ok else ">"
            factor = math.gcd(*g.rates)
            values = dict(m2=g.rule.m2, sign=sign, kernel=g.kernel, factor=factor)
            if factor > 1:
                text = _("HDC: M₂ = {m2} {sign} {kernel}, common factor {factor}").format(**values)
            else:
                text = _("HDC: M₂ = {m2} {sign} {kernel}").format(**values)
            ax.text(
                0.5,
                -0.2,
                text,
                transform=ax.transAxes,
                ha="center",
                va="top",
                fontsize=9,
                color=COLORS["ok"] if g.rule.ok and factor == 1 else COLORS["warn"],
            )
    fig.tight_layout()


# -- sub-sampling vs dilation ---------------------------------------------------------


def draw_resolution(fig: Figure, depth: int = 3, input_size: int = 32) -> None:
    """The same RF reached by a strided stack and a dilated stack: where the units sit.

    Each row is the 1-D input; coloured boxes are the RFs of successive
    output units (from ``rflesson.input_region``), dots their centres.
    """
    from ...rf import input_region

    axes = fig.subplots(2, 1, sharex=True)
    for ax, kind in zip(axes, ("strided", "dilated"), strict=True):
        layers = stack_layers(kind, depth)
        rf = receptive_field(layers, input_size)
        for x in range(input_size):
            ax.add_patch(
                Rectangle(
                    (x, 0),
                    1,
                    1,
                    facecolor=COLORS["input"],
                    edgecolor=COLORS["input_edge"],
                    lw=0.5,
                )
            )
        centres = [rf.center + u * rf.jump for u in range(rf.n_out)]
        shown = [u for u in range(rf.n_out) if 0 <= centres[u] < input_size]
        for x in range(rf.start, 0):  # zero padding the first units' fields reach into
            ax.add_patch(
                Rectangle((x, 0), 1, 1, facecolor=COLORS["padding"], edgecolor=COLORS["input_edge"],
                          lw=0.5, ls=":")
            )  # fmt: skip
        for row, u in enumerate(shown[:3]):
            first, last = input_region(layers, u).unclipped
            y = -0.9 - 0.55 * row
            ax.text(last + 1.5, y + 0.2, _("RF of unit {u}").format(u=u), va="center", fontsize=8)
            ax.add_patch(
                Rectangle(
                    (first, y),
                    last - first + 1,
                    0.4,
                    facecolor=STACK_COLORS[kind],
                    alpha=0.35 + 0.2 * row,
                )
            )
        ax.plot(
            [c + 0.5 for c in centres],
            [1.5] * len(centres),
            "o",
            color=COLORS["unit"],
            ms=4,
        )
        title = _("{kind}: RF {size}, jump {jump}, {n_out} output units for {n_in} input pixels")
        ax.set_title(
            title.format(kind=kind, size=rf.size, jump=rf.jump, n_out=rf.n_out, n_in=input_size),
            fontsize=10,
        )
        ax.set_ylim(-0.9 - 0.55 * 3, 2.2)
        ax.set_xlim(-rf.size // 2, input_size + rf.size // 2)
        ax.axis("off")
    fig.tight_layout()


def interleaving_difference(rate: int = 2, size: int = 32, seed: int = 0) -> float:
    """A rate-``rate`` convolution against ordinary convolutions of the sub-sampled signals.

    Sub-signal ``p`` is every ``rate``-th sample from ``p`` on; convolving each
    with the same 3-tap kernel and weaving the results back together gives
    the dilated convolution of the whole signal.  Returns the largest
    absolute difference between the two (float64, random numbers): zero up
    to rounding.

    >>> interleaving_difference(rate=3, size=30) < 1e-12
    True
    """
    import torch
    import torch.nn.functional as F

    rate = as_int("rate", rate, minimum=1)
    size = as_int("size", size, minimum=rate)
    if size % rate:
        raise ValueError(f"size must be a multiple of rate = {rate}, got {size}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, size, generator=gen, dtype=torch.float64)
    w = torch.randn(1, 1, 3, generator=gen, dtype=torch.float64)
    dilated = F.conv1d(x, w, padding=rate, dilation=rate)
    woven = torch.empty_like(dilated)
    for p in range(rate):
        woven[..., p::rate] = F.conv1d(x[..., p::rate], w, padding=1)
    return float((dilated - woven).abs().max())


def strided_vs_dilated(depth: int = 4, size: int = 256, seed: int = 0) -> float:
    """The strided and the dilated stack of section 2 with the same random weights.

    Both get the same 3-tap kernels (and a ReLU between layers).  Unit ``m``
    of the strided stack should equal unit ``m * 2**depth`` of the dilated
    one: the same taps, multiplied by 2 through strides in one and through
    rates in the other.  Returns the largest absolute difference over all
    strided units (float64): zero up to rounding.

    >>> strided_vs_dilated(depth=3, size=64) < 1e-12
    True
    """
    import torch
    import torch.nn.functional as F

    depth = as_int("depth", depth, minimum=1)
    step = 2**depth
    size = as_int("size", size, minimum=step)
    if size % step:
        raise ValueError(f"size must be a multiple of 2**depth = {step}, got {size}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, size, generator=gen, dtype=torch.float64)
    strided, dilated = x, x
    for i in range(depth):
        w = torch.randn(1, 1, 3, generator=gen, dtype=torch.float64)
        strided = F.conv1d(strided, w, stride=2, padding=1)
        dilated = F.conv1d(dilated, w, padding=2**i, dilation=2**i)
        if i < depth - 1:
            strided, dilated = torch.relu(strided), torch.relu(dilated)
    return float((dilated[..., ::step] - strided).abs().max())


# -- WaveNet's causal tree ------------------------------------------------------------


def draw_causal_tree(ax: Axes, rates=(1, 2, 4, 8)) -> None:
    """Kernel-2 causal layers: which units the last output reads, layer by layer.

    Row 0 is the input, the top row the output unit at time 0; lines are
    the taps that lead to it (unit ``t`` reads ``t - rate`` and ``t``).
    """
    rates = tuple(as_int(f"rates[{i}]", r, minimum=1) for i, r in enumerate(rates))
    depth = len(rates)
    width = sum(rates) + 1
    reached = [{0}]  # units of each layer that lead to the output, top first
    for r in reversed(rates):
        reached.append({t - s for t in reached[-1] for s in (0, r)})
    for level in range(depth + 1):
        y = depth - level  # the output on top
        xs = np.arange(-width + 1, 1)
        ax.plot(xs, [y] * len(xs), "o", color=COLORS["input_edge"], ms=3, zorder=1)
        ax.plot(sorted(reached[level]), [y] * len(reached[level]), "o", ms=5, zorder=3,
                color=COLORS["unit"] if level == 0 else COLORS["rf"])  # fmt: skip
        if level < depth:
            r = rates[depth - 1 - level]
            for t in reached[level]:
                for s in (0, r):
                    ax.plot([t, t - s], [y, y - 1], color=COLORS["rf"], lw=1, zorder=2)
            ax.text(1.2, y - 0.5, _("rate {r}").format(r=r), va="center", fontsize=9)
    ax.text(1.2, 0, _("input"), va="center", fontsize=9)
    ax.text(1.2, depth, _("output"), va="center", fontsize=9, color=COLORS["unit"])
    for t in (-width + 1, 0):
        ax.text(t, -0.45, f"t − {-t}" if t else "t", ha="center", va="top", fontsize=9)
    paths = {0: 1}  # paths from the output to each unit of the current layer
    for r in reversed(rates):
        below: dict[int, int] = {}
        for t, n in paths.items():
            for s in (0, r):
                below[t - s] = below.get(t - s, 0) + n
        paths = below
    counts = set(paths.values())
    if counts == {1}:
        how = _("exactly one path each")
    else:
        how = _("{low} to {high} paths").format(low=min(counts), high=max(counts))
    title = _("kernel 2, rates {rates}: output t reads the {n} samples t − {back} .. t, {how}")
    ax.set_title(title.format(rates=rates_text(rates), n=len(paths), back=width - 1, how=how),
                 fontsize=10)  # fmt: skip
    ax.set_xlim(-width, 4)
    ax.set_ylim(-0.9, depth + 0.3)
    ax.axis("off")


# -- what a hole means: a blind lattice --------------------------------------------------


@dataclass(frozen=True)
class Lattice:
    """A random dilated network, an input change on one sub-lattice, and the output change."""

    rates: tuple[int, ...]
    change: np.ndarray  # the input perturbation (non-zero on the (odd, odd) pixels only)
    delta: np.ndarray  # |output(x + change) - output(x)|


def lattice_experiment(rates, size: int = 48, seed: int = 0) -> Lattice:
    """Perturb only the pixels with odd row and odd column; see which outputs change.

    The network: one-channel 3x3 convolutions with random weights, ReLU
    between them, padding to keep the size, float64.
    """
    import torch
    import torch.nn.functional as F

    rates = tuple(as_int(f"rates[{i}]", r, minimum=1) for i, r in enumerate(rates))
    size = as_int("size", size, minimum=4)
    gen = torch.Generator().manual_seed(seed)
    weights = [torch.randn(1, 1, 3, 3, generator=gen, dtype=torch.float64) for _rate in rates]
    x = torch.rand(1, 1, size, size, generator=gen, dtype=torch.float64)
    change = torch.zeros_like(x)
    change[..., 1::2, 1::2] = torch.rand(
        1, 1, size // 2, size // 2, generator=gen, dtype=torch.float64
    )

    def net(z):
        for i, (w, r) in enumerate(zip(weights, rates, strict=True)):
            z = F.conv2d(z, w, padding=r, dilation=r)
            if i < len(rates) - 1:
                z = torch.relu(z)
        return z

    delta = (net(x + change) - net(x)).abs()[0, 0].numpy()
    return Lattice(rates, change[0, 0].numpy(), delta)


def draw_lattice(fig: Figure, experiments: list[Lattice]) -> None:
    """The input change, then the output change of each network (white: unchanged)."""
    axes = fig.subplots(1, len(experiments) + 1)
    axes[0].imshow(experiments[0].change, cmap="Greys", interpolation="nearest")
    axes[0].set_title(_("input change\n(only where row and column are odd)"), fontsize=10)
    for ax, e in zip(axes[1:], experiments, strict=True):
        changed = e.delta > 1e-12
        ax.imshow(np.where(changed, 1.0, 0.0), cmap=ListedColormap(["white", COLORS["unit"]]),
                  vmin=0, vmax=1, interpolation="nearest")  # fmt: skip
        title = _("rates {rates}:\n{share:.0%} of outputs change")
        ax.set_title(title.format(rates=e.rates, share=changed.mean()), fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()


# -- 1-D coverage profiles --------------------------------------------------------------


def draw_counts(ax: Axes, offsets, counts, color: str) -> None:
    """Paths per input offset as bars one pixel wide, drawn as a single artist.

    ``stairs`` draws every bar whole, the first and the last included (a
    ``fill_between(step="mid")`` cuts them in half), and stays one artist
    for the 577 offsets of the explorer's widest map.  Up to
    ``SEPARATE_BARS_UP_TO`` offsets, a thin white line separates neighbours,
    so that two taps side by side read as two bars, not one.
    """
    values, edges, separators = count_bars(offsets, counts)
    ax.stairs(values, edges, fill=True, color=color, lw=0)
    if separators:
        ax.add_collection(LineCollection(separators, colors="white", lw=0.8))
    ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))  # few ticks: ~2 ms each a redraw
    ax.yaxis.set_major_locator(MaxNLocator(3, integer=True))


def count_bars(offsets, counts) -> tuple[np.ndarray, np.ndarray, list]:
    """Bar heights, bar edges and the white separators of :func:`draw_counts` (each as tall as
    the taller of its two bars).

    >>> count_bars(np.array([0, 1]), np.array([1, 2]))[2]
    [((0.5, 0.0), (0.5, 2.0))]
    """
    offsets = np.asarray(offsets)
    values = np.asarray(counts, dtype=float)
    edges = np.append(offsets - 0.5, offsets[-1] + 0.5)
    separators = []
    if len(offsets) <= SEPARATE_BARS_UP_TO:
        tops = np.maximum(values[:-1], values[1:])
        separators = [
            ((float(x), 0.0), (float(x), float(h))) for x, h in zip(edges[1:-1], tops, strict=True)
        ]
    return values, edges, separators


def hole_runs(offsets, counts) -> list[tuple[float, float]]:
    """``(start, width)`` of every run of unreached offsets, ready for ``broken_barh``.

    >>> hole_runs(np.arange(-2, 3), np.array([1, 0, 0, 1, 0]))
    [(-1.5, 2.0), (1.5, 1.0)]
    """
    offsets = np.asarray(offsets)
    hole = np.concatenate([[False], np.asarray(counts) == 0, [False]])
    starts = np.flatnonzero(~hole[:-1] & hole[1:])
    ends = np.flatnonzero(hole[:-1] & ~hole[1:])
    return [(float(offsets[a]) - 0.5, float(b - a)) for a, b in zip(starts, ends, strict=True)]


def draw_profiles(fig: Figure, stacks: dict[str, list[Layer]]) -> None:
    """The 1-D coverage of each stack (paths per input offset), one panel each."""
    axes = np.atleast_1d(fig.subplots(1, len(stacks), sharey=False))
    for ax, (label, layers) in zip(axes, stacks.items(), strict=True):
        cmap = coverage_map(layers)
        rf = cmap.rf
        offsets = np.arange(rf.size) + rf.start - rf.center
        draw_counts(ax, offsets, cmap.counts, STACK_COLORS.get(label.split()[0], COLORS["rf"]))
        title = _("{label}: RF {size}, jump {jump}, {holes}").format(
            label=label, size=rf.size, jump=rf.jump, holes=holes_text(cmap.holes)
        )
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(_("input offset from the unit's centre"))
    axes[0].set_ylabel(_("paths"))
    fig.tight_layout()


# -- why the HDC rule trusts the first layer ---------------------------------------------


@dataclass(frozen=True)
class FirstLayer:
    """What layers 2..n reach, then what a rate-1 first layer and the real first layer add.

    Each entry of ``rows`` is ``(label, first offset, counts)``: 1-D path counts
    of the central unit, from ``rflesson.coverage``, for one stack.
    """

    rates: tuple[int, ...]
    kernel: int
    rule: HDCResult
    rows: tuple[tuple[str, int, np.ndarray], ...]


def first_layer(rates=(2, 2, 2), kernel: int = 3) -> FirstLayer:
    """What ``M₂ <= K`` relies on, for one rate list: a rate-1 first layer fills gaps up to K.

    >>> [int((row[2] == 0).sum()) for row in first_layer((2, 2, 2)).rows]
    [4, 0, 6]
    """
    rates = tuple(as_int(f"rates[{i}]", r, minimum=1) for i, r in enumerate(rates))
    kernel = as_int("kernel", kernel, minimum=1)
    rule = hdc_ok(rates, kernel)  # needs two layers or more
    above, assumed, actual = (
        coverage_map([Layer(kernel, dilation=r, padding=r * ((kernel - 1) // 2)) for r in stack])
        for stack in (rates[1:], (1, *rates[1:]), rates)
    )
    labels = (
        _("layers 2..{n} alone (rates {rates}): gaps up to {gap}; the rule's M₂ = {m2}").format(
            n=len(rates), rates=rates_text(rates[1:]), gap=largest_gap(above.counts), m2=rule.m2
        ),
        _("+ a first layer at rate 1 (what M₂ ≤ K relies on): {holes}").format(
            holes=holes_text(assumed.holes)
        ),
        _("+ the real first layer (rate {rate}): {holes}").format(
            rate=rates[0], holes=holes_text(actual.holes)
        ),
    )
    rows = tuple(
        (label, cmap.origin[0], cmap.counts)
        for label, cmap in zip(labels, (above, assumed, actual), strict=True)
    )
    return FirstLayer(rates, kernel, rule, rows)


def largest_gap(counts: np.ndarray) -> int:
    """The largest distance between two neighbouring reached offsets (1: no hole).

    >>> largest_gap(np.array([1, 0, 2, 0, 1]))
    2
    """
    reached = np.flatnonzero(counts)
    return int(np.diff(reached).max()) if len(reached) > 1 else 1


def draw_first_layer(ax: Axes, f: FirstLayer) -> None:
    """Three strips of input offsets: reached (orange), holes (white, red edge)."""
    lo = min(first for _label, first, _counts in f.rows)
    hi = max(first + len(counts) - 1 for _label, first, counts in f.rows)
    for row, (label, first, counts) in enumerate(f.rows):
        y = -1.6 * row
        for i, n in enumerate(counts):
            hole = n == 0
            ax.add_patch(
                Rectangle((first + i - 0.45, y - 0.45), 0.9, 0.9, lw=1.2 if hole else 0.5,
                          facecolor="white" if hole else COLORS["rf"],
                          edgecolor=COLORS["warn"] if hole else COLORS["input_edge"])
            )  # fmt: skip
        colour = COLORS["warn"] if (counts == 0).any() else COLORS["ok"]
        ax.text(lo - 0.5, y + 0.6, label, fontsize=10, va="bottom", color=colour if row else "k")
    if f.rule.ok:
        title = _("rates {rates}: the M₂ test predicts no holes (M₂ = {m2}, K = {kernel})")
    else:
        title = _("rates {rates}: the M₂ test predicts holes (M₂ = {m2}, K = {kernel})")
    title = title.format(rates=rates_text(f.rates), m2=f.rule.m2, kernel=f.kernel)
    ax.set_title(title, fontsize=11)
    ax.set_xlim(lo - 0.8, hi + 0.8)
    ax.set_ylim(-1.6 * (len(f.rows) - 1) - 0.7, 1.2)
    ax.set_xticks(range(lo, hi + 1, 2))
    ax.set_xlabel(_("input offset from the output unit"))
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
