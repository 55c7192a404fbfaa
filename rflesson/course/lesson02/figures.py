"""Figures of notebook 02 (receptive-field arithmetic).

Every number drawn here comes from the RF engine (:mod:`rflesson.rf`):
``rf_table`` gives each feature map's size, jump and start, ``input_region``
the box one unit sees, and ``Window.taps`` which units a unit reads.  This
module only arranges them into pictures:

* :func:`layer_stack`: the units a chosen output unit depends on, map by
  map (the data behind the article's layered picture and the explorer);
* :func:`draw_layered`: that picture in 1-D, one row per feature map;
* :func:`draw_grid` / :func:`draw_layer_grids`: the same in 2-D, as grids;
* :func:`draw_segmentation`, :func:`draw_connections`: why the RF matters;
* :func:`draw_alignment`: where neighbouring and border units' RFs sit;
* :func:`draw_rf_vs_depth`, :func:`spatial_sizes`, :func:`resnet50_main_path`: real networks;
* :func:`gradient_map`, :func:`draw_gradient_check`: checking by experiment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..._validate import as_int
from ...layers import Layer
from ...rf import input_region, rf_table
from ..style import COLORS, COUNT_CMAP

# -- what a chosen unit depends on, map by map -----------------------------------------


@dataclass(frozen=True)
class MapView:
    """One feature map of a stack (map 0 is the input), seen from the chosen unit.

    ``seen`` holds the positions of this map the chosen output unit depends
    on, exactly (dilated taps leave holes); positions outside ``0..n-1`` are
    padding cells that are read but hold zeros.  ``box`` is the chosen unit's
    unclipped region in this map (``input_region``).  ``size``, ``jump`` and
    ``start`` describe the receptive field of this map's units on the input.
    """

    name: str
    n: int
    pad: tuple[int, int]  # padding the next layer adds around this map; (0, 0) for the last
    seen: tuple[int, ...]
    box: tuple[int, int]
    size: int
    jump: int
    start: int
    center: float


@dataclass(frozen=True)
class LayerStack:
    """The article's layered picture as data: a stack of 1-D layers and one output unit."""

    layers: tuple[Layer, ...]
    unit: int
    maps: tuple[MapView, ...]
    clipped: tuple[int, int]  # the real input pixels the unit depends on (first, last)

    @property
    def output(self) -> MapView:
        return self.maps[-1]


def layer_stack(layers: Sequence[Layer], input_size: int, unit: int) -> LayerStack:
    """Follow output unit ``unit`` of a stack of 1-D ``layers`` back to the input.

    ``layers`` must use one number per argument (the same on every axis);
    a 2-D picture uses one stack per axis.  Raises ``ValueError`` (from the
    engine) when the input is too small or ``unit`` is outside the output.

    >>> stack = layer_stack([Layer(3, stride=2, padding=1)] * 2, 9, 1)
    >>> [m.size for m in stack.maps], stack.output.box, stack.maps[0].box
    ([1, 3, 7], (1, 1), (1, 7))
    """
    layers = tuple(layers)
    if not layers or not all(isinstance(x, Layer) and x.ndim == 1 for x in layers):
        raise TypeError(f"layers must be a non-empty list of 1-D rflesson.Layer, got {layers!r}")
    n0 = as_int("input_size", input_size, minimum=1)
    table = rf_table(list(layers), n0, include_input=True)
    region = input_region(list(layers), unit, n0)  # also checks that unit exists
    rows = list(table)
    seen: list[set[int]] = [set() for _ in rows]
    seen[-1] = {unit}
    for level in range(len(layers), 0, -1):
        window = layers[level - 1].axes(1)[0]
        n = rows[level].n_out
        for t in seen[level]:
            if 0 <= t < n:  # a padding cell reads nothing below it
                seen[level - 1].update(window.taps(t))
    maps = []
    for level, row in enumerate(rows):
        if level < len(layers):
            box = input_region(list(layers[level:]), unit, row.n_out).unclipped
            pad = layers[level].padding(1)[0]
        else:
            box, pad = (unit, unit), (0, 0)
        name = "input" if level == 0 else f"layer {level}"
        maps.append(
            MapView(
                name, row.n_out, pad, tuple(sorted(seen[level])), box, row.size, row.jump,
                row.start, row.center,
            )
        )  # fmt: skip
    return LayerStack(layers, unit, tuple(maps), region.clipped)


# -- the layered picture in 1-D ----------------------------------------------------------

MARGIN = 4  # at most this many cells are drawn beyond the padding to show a box
ROW_GAP = 1.8  # vertical distance between two feature maps' rows
MAX_LINES = 60  # more connections than this between two rows: only the cone's edges


def _title(ax: Axes, text: str, fontsize: float = 9) -> None:
    """A title drawn as plain text: ``set_title`` makes matplotlib lay out ticks (slow)."""
    ax.text(0.5, 1.01, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=fontsize)


def _cells(x: np.ndarray, y: float, h: float = 0.8) -> np.ndarray:
    """Vertices of unit squares centred at positions ``x`` on row ``y``."""
    x = np.asarray(x, dtype=float)[:, None]
    dx = np.array([-0.45, 0.45, 0.45, -0.45])[None, :]
    dy = np.array([-h / 2, -h / 2, h / 2, h / 2])[None, :]
    return np.stack([x + dx, np.broadcast_to(y + dy, (len(x), 4))], axis=-1)


def draw_padded_row(ax: Axes, x: np.ndarray, n_in: int) -> None:
    """One row of cells at positions ``x``: input pixels ``0..n_in-1`` plain, the rest hatched
    as padding."""
    real = (x >= 0) & (x < n_in)
    ax.add_collection(
        PolyCollection(_cells(x[real], 0), facecolors=COLORS["input"], edgecolors="grey")
    )
    if (~real).any():
        ax.add_collection(
            PolyCollection(
                _cells(x[~real], 0), facecolors=COLORS["padding"], edgecolors="grey", hatch="///"
            )
        )


def _offset(view: MapView) -> float:
    return -(view.n - 1) / 2  # rows are centred on 0


def draw_layered(
    ax: Axes, stack: LayerStack, *, labels: bool = True, title: str | None = None
) -> None:
    """One row of cells per feature map, input at the bottom, chosen unit (red) on top.

    Orange cells are the units the chosen unit depends on (pale orange: padding it
    reads), grey lines the connections, the dashed box its unclipped region in each
    map: the receptive field counted as if the padding went on forever.
    """
    faces, verts, pad_verts, pad_faces, ghost_verts = [], [], [], [], []
    lines = []
    x_lo, x_hi = 0.0, 0.0
    ticks, names = [], []
    for level, view in enumerate(stack.maps):
        y = level * ROW_GAP
        off = _offset(view)
        positions = np.arange(-view.pad[0], view.n + view.pad[1])
        seen = set(view.seen)
        for x in positions:
            real = 0 <= x < view.n
            if level == len(stack.maps) - 1 and x == stack.unit:
                colour = COLORS["unit"]
            elif x in seen:
                colour = COLORS["rf"] if real else COLORS["rf_light"]
            else:
                colour = COLORS["input"] if real else COLORS["padding"]
            (verts if real else pad_verts).append(_cells([x + off], y)[0])
            (faces if real else pad_faces).append(colour)
        lo, hi = view.box
        virtual = [
            x
            for x in range(max(lo, positions[0] - MARGIN), min(hi, positions[-1] + MARGIN) + 1)
            if not positions[0] <= x <= positions[-1]
        ]  # beyond the padding, inside the box: drawn to show how far the box reaches
        if virtual:
            ghost_verts.extend(_cells(np.array(virtual) + off, y))
        x_lo = min(x_lo, positions[0] + off, min(virtual, default=0) + off)
        x_hi = max(x_hi, positions[-1] + off, max(virtual, default=0) + off)
        if level > 0:  # connections from this map's seen units to the map below
            below = stack.maps[level - 1]
            window = stack.layers[level - 1].axes(1)[0]
            real = [t for t in view.seen if 0 <= t < view.n]
            if len(real) * len(window.taps(0)) > MAX_LINES:  # a dense cone: draw its edges
                real = [real[0], real[-1]]
            for t in real:
                for tap in window.taps(t):
                    lines.append([(t + off, y - 0.4), (tap + _offset(below), y - ROW_GAP + 0.4)])
        ax.add_patch(
            Rectangle(
                (lo + off - 0.5, y - 0.55), hi - lo + 1, 1.1, fill=False, ls="--", lw=1.4,
                edgecolor=COLORS["rf"], zorder=4,
            )
        )  # fmt: skip
        ticks.append(y)
        noun = ("pixel" if level == 0 else "unit") + ("s" if view.n != 1 else "")
        text = f"{view.name}: {view.n} {noun}"  # one line per label: each line costs a layout
        if level > 0:
            text += f", RF {view.size}, jump {view.jump}"
        names.append(text)
    ax.add_collection(LineCollection(lines, colors=COLORS["muted"], linewidths=0.6, alpha=0.6))
    ax.add_collection(PolyCollection(verts, facecolors=faces, edgecolors=COLORS["input_edge"]))
    if pad_verts:
        ax.add_collection(
            PolyCollection(
                pad_verts, facecolors=pad_faces, edgecolors=COLORS["input_edge"], hatch="///",
                linewidths=0.8,
            )
        )  # fmt: skip
    if ghost_verts:
        ax.add_collection(
            PolyCollection(
                ghost_verts, facecolors="white", edgecolors=COLORS["input_edge"], linestyles=":"
            )
        )
    ax.set_xlim(x_lo - 1, x_hi + 1)
    ax.set_ylim(-0.8, (len(stack.maps) - 1) * ROW_GAP + 0.8)
    ax.set_axis_off()
    label_at = ax.get_yaxis_transform()  # x in axes fraction, y in data
    if labels:  # text, not tick labels: ticks are slow to draw
        for y, name in zip(ticks, names, strict=True):
            ax.text(-0.01, y, name, ha="right", va="center", fontsize=7.5, transform=label_at)
    first, last = stack.maps[0].box
    if title is None:
        title = f"unit {stack.unit} sees input {first}…{last} (size {stack.output.size}); " + (
            f"real pixels {stack.clipped[0]}…{stack.clipped[1]}"
            if stack.clipped[0] <= stack.clipped[1]
            else "no real pixel: only padding"
        )
    _title(ax, title)


# -- the same in 2-D, as grids -------------------------------------------------------------


def _canvas(view: MapView) -> tuple[int, int]:
    """The index range drawn for one axis of a map: its padding, and the box when near."""
    lo = min(-view.pad[0], max(view.box[0], -view.pad[0] - MARGIN))
    hi = max(view.n - 1 + view.pad[1], min(view.box[1], view.n - 1 + view.pad[1] + MARGIN))
    return lo, hi


def _axis_colours(view: MapView, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per position of one axis: is it real, padding, seen."""
    x = np.arange(lo, hi + 1)
    real = (x >= 0) & (x < view.n)
    padding = ((x >= -view.pad[0]) & (x < 0)) | ((x >= view.n) & (x < view.n + view.pad[1]))
    seen = np.isin(x, view.seen)
    return real, padding, seen


def _grid_lines(ax: Axes, rows: tuple[int, int], cols: tuple[int, int]) -> None:
    """White lines between the cells of an image drawn with unit cells (one artist)."""
    xs = np.arange(cols[0], cols[1] + 2) - 0.5
    ys = np.arange(rows[0], rows[1] + 2) - 0.5
    segments = [[(x, ys[0]), (x, ys[-1])] for x in xs] + [[(xs[0], y), (xs[-1], y)] for y in ys]
    ax.add_collection(LineCollection(segments, colors="white", linewidths=0.8))


def draw_grid(
    ax: Axes,
    rows: LayerStack,
    cols: LayerStack | None = None,
    level: int = 0,
    *,
    title: str | None = None,
    numbers: bool = True,
) -> None:
    """Feature map ``level`` (0 = input) as a 2-D grid, with what the chosen unit sees.

    ``rows``/``cols`` are the stacks of the two axes (``cols`` defaults to
    ``rows``: the unit on the diagonal).  Orange: cells the unit depends on
    (pale: padding); red: the unit itself (last map); dashed: its unclipped
    box; white: beyond the padding, drawn only to show where the box reaches.
    """
    cols = rows if cols is None else cols
    vr, vc = rows.maps[level], cols.maps[level]
    (r0, r1), (c0, c1) = _canvas(vr), _canvas(vc)
    real_r, pad_r, seen_r = _axis_colours(vr, r0, r1)
    real_c, pad_c, seen_c = _axis_colours(vc, c0, c1)
    image = np.ones((r1 - r0 + 1, c1 - c0 + 1, 3))
    real = np.outer(real_r, real_c)
    padded = np.outer(real_r | pad_r, real_c | pad_c) & ~real
    seen = np.outer(seen_r, seen_c)
    image[padded] = to_rgb(COLORS["padding"])
    image[real] = to_rgb(COLORS["input"])
    image[seen & padded] = to_rgb(COLORS["rf_light"])
    image[seen & real] = to_rgb(COLORS["rf"])
    if level == len(rows.maps) - 1:
        image[rows.unit - r0, cols.unit - c0] = to_rgb(COLORS["unit"])
    ax.imshow(image, extent=(c0 - 0.5, c1 + 0.5, r1 + 0.5, r0 - 0.5), interpolation="nearest")
    _grid_lines(ax, (r0, r1), (c0, c1))
    ax.set_xlim(c0 - 0.5, c1 + 0.5)
    ax.set_ylim(r1 + 0.5, r0 - 0.5)
    ax.set_axis_off()
    if numbers:  # text instead of ticks: ticks are slow to draw
        for t in sorted({0, vc.n - 1}):
            ax.text(t, r1 + 0.6, str(t), ha="center", va="top", fontsize=7, color=COLORS["muted"])
        for t in sorted({0, vr.n - 1}):
            ax.text(c0 - 0.6, t, str(t), ha="right", va="center", fontsize=7, color=COLORS["muted"])
    if (r0, c0) != (-vr.pad[0], -vc.pad[0]) or (r1, c1) != (
        vr.n - 1 + vr.pad[1],
        vc.n - 1 + vc.pad[1],
    ):  # the canvas reaches beyond the padding (white): outline it so the box sits somewhere
        ax.add_patch(
            Rectangle(
                (c0 - 0.5, r0 - 0.5), c1 - c0 + 1, r1 - r0 + 1, fill=False, ls=":", lw=0.8,
                edgecolor=COLORS["input_edge"],
            )
        )  # fmt: skip
    (b0, b1), (a0, a1) = vr.box, vc.box
    canvas = Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0 + 1, r1 - r0 + 1, transform=ax.transData)
    box = Rectangle(
        (a0 - 0.65, b0 - 0.65),
        a1 - a0 + 1.3,
        b1 - b0 + 1.3,
        fill=False,
        ls="--",
        lw=2,
        edgecolor=COLORS["rf"],
        zorder=4,
    )  # fmt: skip  (a little outside the cells, over the grid lines: visible on orange)
    ax.add_patch(box)
    box.set_clip_path(canvas)  # a box larger than the canvas runs off its edge
    if title is None:
        title = f"{vr.name}: {vr.n}×{vc.n}"
        if level > 0:
            title += f", RF {vr.size}×{vc.size}"
    _title(ax, title)


def draw_layer_grids(fig: Figure, rows: LayerStack, cols: LayerStack | None = None) -> None:
    """Every feature map of the stack side by side as a grid: the article's layered picture."""
    cols = rows if cols is None else cols
    widths = [_canvas(v)[1] - _canvas(v)[0] + 1 for v in cols.maps]
    axes = fig.subplots(1, len(widths), gridspec_kw={"width_ratios": widths})
    for level, ax in enumerate(np.atleast_1d(axes)):
        draw_grid(ax, rows, cols, level)


# -- why the RF matters -----------------------------------------------------------------


@lru_cache(maxsize=2)
def _photo(step: int) -> np.ndarray:
    from matplotlib import cbook
    from matplotlib.image import imread

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        image = imread(f, format="jpg")[::step, ::step].astype(np.float64) / 255
    image.setflags(write=False)
    return image


def photo(step: int = 1) -> np.ndarray:
    """Grace Hopper's portrait in colour (600 x 512 x 3, values in [0, 1]), offline.

    From matplotlib's bundled sample data; ``step`` keeps every ``step``-th
    pixel.  Read-only.
    """
    return _photo(as_int("step", step, minimum=1))


def draw_segmentation(
    fig: Figure, image: np.ndarray, pixel: tuple[int, int], fields: Sequence[tuple[str, int]]
) -> None:
    """One output pixel (red) on a photograph and square receptive fields around it.

    ``fields``: ``(label, size)`` pairs, smallest first; each square is a
    receptive field of that many pixels centred on ``pixel`` (row, column),
    as for an output pixel of a segmentation network.
    """
    ax = fig.add_subplot()
    ax.imshow(image)
    r, c = pixel
    palette = [COLORS["accent"], COLORS["rf"], COLORS["erf"]]
    for (label, size), colour in zip(fields, palette, strict=False):
        half = (size - 1) / 2
        ax.add_patch(
            Rectangle((c - half - 0.5, r - half - 0.5), size, size, fill=False, lw=2.5, ec=colour)
        )
        ax.text(
            c - half, r - half - 6, f"{label}: {size}×{size}", color="white", fontsize=9,
            va="bottom", bbox={"facecolor": colour, "edgecolor": "none", "pad": 2},
        )  # fmt: skip
    ax.plot([c], [r], "o", ms=7, mec="white", mfc=COLORS["unit"])
    ax.set_axis_off()


def draw_connections(fig: Figure, n_in: int = 9, kernel: int = 3) -> None:
    """A convolution unit reads ``kernel`` neighbours; a fully connected unit reads all."""
    n_in = as_int("n_in", n_in, minimum=1)
    window = Layer(kernel, padding=kernel // 2).axes(1)[0]
    middle = n_in // 2
    panels = [
        (f"convolution: sees {kernel} of {n_in}", window.taps(middle)),
        (f"fully connected: sees all {n_in}", tuple(range(n_in))),
    ]
    axes = fig.subplots(1, 2)
    for ax, (title, taps) in zip(axes, panels, strict=True):
        x = np.arange(n_in)
        inside = [t for t in taps if 0 <= t < n_in]
        colours = [COLORS["rf"] if t in inside else COLORS["input"] for t in x]
        ax.add_collection(
            LineCollection(
                [[(middle, 2.6), (t, 0.4)] for t in inside], colors=COLORS["muted"], lw=1
            )
        )
        ax.add_collection(PolyCollection(_cells(x, 0), facecolors=colours, edgecolors="grey"))
        ax.add_collection(
            PolyCollection(_cells([middle], 3), facecolors=COLORS["unit"], edgecolors="grey")
        )
        ax.text(-0.8, 0, "input", ha="right", va="center", fontsize=9)
        ax.text(middle - 0.8, 3, "output unit", ha="right", va="center", fontsize=9)
        ax.set_xlim(-4, n_in)
        ax.set_ylim(-0.8, 3.8)
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()


# -- where an RF sits ------------------------------------------------------------------


def draw_alignment(ax: Axes, layers: Sequence[Layer], input_size: int, units: Sequence[int]):
    """The input as a strip, and under it the region of each listed output unit.

    Each bar is a unit's unclipped region (``input_region``); the part over the
    padding is pale, the dot is the region's centre; arrows between centres
    measure the jump.  Border units hang over the padding.
    """
    layers = list(layers)
    regions = [input_region(layers, u, input_size) for u in units]
    lo = min(0, *(r.unclipped[0] for r in regions))
    hi = max(input_size - 1, *(r.unclipped[1] for r in regions))
    x = np.arange(lo, hi + 1)
    draw_padded_row(ax, x, input_size)
    for t in (0, input_size - 1):
        ax.text(t, 0.7, str(t), ha="center", fontsize=8, color=COLORS["muted"])
    centres = []
    for k, (u, region) in enumerate(zip(units, regions, strict=True)):
        y = -1.3 - 1.3 * k
        first, last = region.unclipped
        xs = np.arange(first, last + 1)
        inside = (xs >= 0) & (xs < input_size)
        colours = np.where(inside, COLORS["rf"], COLORS["rf_light"])
        ax.add_collection(
            PolyCollection(_cells(xs, y, 0.6), facecolors=list(colours), edgecolors="none")
        )
        centre = (first + last) / 2
        centres.append((centre, y))
        ax.plot([centre], [y], "o", color=COLORS["unit"], ms=5, zorder=5)
        ax.text(first - 0.8, y, f"unit {u}", ha="right", va="center", fontsize=8)
    for (c1, y1), (c2, _) in zip(centres, centres[1:], strict=False):
        ax.annotate(
            "", (c2, y1 - 0.65), (c1, y1 - 0.65),
            arrowprops={"arrowstyle": "->", "color": COLORS["accent"]},
        )  # fmt: skip
        ax.text(c2 + 0.4, y1 - 0.65, f"jump {c2 - c1:g}", va="center", fontsize=8,
                color=COLORS["accent"])  # fmt: skip
    ax.set_xlim(lo - 4, hi + 1)
    ax.set_ylim(-0.9 - 1.3 * len(units), 1.3)
    ax.set_axis_off()


# -- real networks ------------------------------------------------------------------------


def draw_rf_vs_depth(
    ax: Axes,
    curves: Mapping[str, Sequence[int]],
    *,
    input_size: int | None = None,
    log: bool = False,
    xlabel: str = "layer (convolutions and poolings, in order)",
    legend: bool = True,
) -> None:
    """Receptive-field size after each layer, one line per network or stack.

    The legend gives each line's last value; ``legend=False`` leaves it out (for
    a second panel of the same curves).
    """
    for label, sizes in curves.items():
        depth = np.arange(1, len(sizes) + 1)
        ax.plot(depth, sizes, "o-", ms=3, lw=1.5, label=f"{label} ({sizes[-1]})")
    if input_size is not None:
        ax.axhline(input_size, color=COLORS["muted"], ls=":", lw=1)
        ax.text(1, input_size, f" input {input_size}", va="bottom", fontsize=8,
                color=COLORS["muted"])  # fmt: skip
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("receptive field (pixels)")
    if legend:
        ax.legend(fontsize=8, loc="upper left")


RESNET_STRIDES = ("first 3x3", "first 1x1", "last 3x3")


def resnet50_main_path(stride_at: str = "first 3x3") -> list[Layer]:
    """The main path of ResNet-50 as a layer list, with the stages' strides placed as asked.

    Three published variants differ only in where each stage halves the resolution:

    * ``"first 3x3"``: in the 3x3 convolution of the stage's first unit
      (torchvision's ResNet-50, "v1.5"; what :func:`rflesson.zoo.resnet50` builds);
    * ``"first 1x1"``: in the first 1x1 convolution of that unit (He et al. 2016);
    * ``"last 3x3"``: in the 3x3 convolution of the *previous* stage's last unit
      (TF-slim's ``resnet_v1_50``, the network of Araujo et al.'s Distill table).

    The shortcuts are left out: their fields lie inside the main path's, so the
    main path's RF is the network's.  Stem: 7x7 stride 2, 3x3 max pool stride 2;
    then 3, 4, 6 and 3 bottleneck units (1x1, 3x3, 1x1).
    """
    where = str(stride_at)
    if where not in RESNET_STRIDES:
        raise ValueError(f"stride_at must be one of {RESNET_STRIDES}, got {stride_at!r}")
    path = [Layer(7, stride=2, padding=3, name="conv1"), Layer(3, 2, 1, name="maxpool")]
    units = (3, 4, 6, 3)
    for stage, count in enumerate(units, start=1):
        for unit in range(count):
            first_strided = stage > 1 and unit == 0  # torchvision and He et al.
            last_strided = stage < len(units) and unit == count - 1  # TF-slim
            s1 = 2 if where == "first 1x1" and first_strided else 1
            s3 = 2 if (where == "first 3x3" and first_strided) or (
                where == "last 3x3" and last_strided
            ) else 1  # fmt: skip
            name = f"layer{stage}.{unit}"
            path += [
                Layer(1, stride=s1, name=f"{name}.conv1"),
                Layer(3, stride=s3, padding=1, name=f"{name}.conv2"),
                Layer(1, name=f"{name}.conv3"),
            ]
    return path


def spatial_sizes(table) -> list[int]:
    """RF size after each convolution or pooling of an ``rf_table``, main path only.

    Skips pointwise rows, merges and shortcut (``downsample``) branches, so that
    the x axis of :func:`draw_rf_vs_depth` counts the layers a signal goes through.
    """
    keep = ("Conv", "Pool", "Layer")
    sizes = []
    for row in table:
        if "downsample" in row.name or not any(k in row.op for k in keep):
            continue
        if "Adaptive" in row.op:
            continue
        size = row.size[0] if isinstance(row.size, tuple) else row.size
        sizes.append(size)
    return sizes


# -- checking by experiment ----------------------------------------------------------


def gradient_map(layers: Sequence[Layer], input_size: int, unit: tuple[int, int]) -> np.ndarray:
    """|d y[unit] / d x| for a 2-D stack of ``layers`` with all-ones weights (float64).

    Positive weights and inputs: no path can cancel, so the non-zero pixels are
    exactly the pixels the unit depends on (what ``gradient_rf`` measures).
    """
    import torch

    from ...gradient import LayerNet

    n = as_int("input_size", input_size, minimum=1)
    net = LayerNet(list(layers), 2).double()
    with torch.no_grad():
        for conv in net.convs:
            conv.weight.fill_(1.0)
            conv.bias.zero_()
    x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = net(x)
    y[0, 0, unit[0], unit[1]].backward()
    return x.grad[0, 0].abs().numpy()


def draw_gradient_check(ax: Axes, grad: np.ndarray, box: tuple[tuple[int, int], ...]) -> None:
    """The gradient map with the analytic region ``box`` (clipped) drawn on it.

    Zero-gradient pixels keep the input colour; non-zero ones are orange, darker
    for a larger gradient.
    """
    top = float(grad.max()) if grad.size and grad.max() > 0 else 1.0
    ax.imshow(  # vmin below 0: the weakest non-zero pixel stays visibly orange
        np.where(grad > 0, grad, np.nan), cmap=COUNT_CMAP, vmin=-0.25 * top, vmax=top,
        interpolation="nearest",
    )  # fmt: skip
    ax.set_facecolor(COLORS["input"])
    (r0, r1), (c0, c1) = box
    ax.add_patch(
        Rectangle(
            (c0 - 0.5, r0 - 0.5), c1 - c0 + 1, r1 - r0 + 1, fill=False, ls="--", lw=2,
            edgecolor=COLORS["accent"],
        )
    )  # fmt: skip
    ax.tick_params(labelsize=7)
    ax.set_xlabel("input column", fontsize=9)
    ax.set_ylabel("input row", fontsize=9)
