"""Figures of notebook 02 (receptive-field arithmetic).

Every number drawn here comes from the RF engine (:mod:`rflesson.rf`):
``rf_table`` gives each feature map's size, jump and start, ``input_region``
the box one unit sees, and ``Window.taps`` which units a unit reads.  This
module only arranges them into pictures:

* :func:`layer_stack`: the units a chosen output unit depends on, map by
  map (the data behind the article's layered picture and the explorer);
* :func:`draw_cells`: real units, padding (hatched) and positions beyond the
  padding (dotted), drawn the one way every figure here uses;
* :func:`draw_layered`: the layered picture in 1-D, one row per feature map;
* :func:`draw_grid` / :func:`draw_layer_grids`: the same in 2-D, as grids;
* :func:`draw_segmentation`, :func:`draw_connections`: why the RF matters;
* :func:`draw_alignment`: where neighbouring and border units' RFs sit;
* :func:`draw_rf_vs_depth`, :func:`spatial_sizes`, :func:`resnet50_main_path`: real networks;
* :func:`gradient_map`, :func:`draw_gradient_check`: checking by experiment.

The drawings take an Axes or a :class:`Panel` (a figure rectangle with data
coordinates and no ticks), which the live explorer uses because it is cheaper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import BboxImage
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import (
    Bbox,
    BboxTransformFrom,
    BboxTransformTo,
    Transform,
    TransformedBbox,
    blended_transform_factory,
)

from ..._validate import as_int
from ...layers import Layer
from ...rf import input_region, rf_table
from ..i18n import _, ngettext
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

    level: int  # 0 for the input, k for the output of layer k
    n: int
    pad: tuple[int, int]  # padding the next layer adds around this map; (0, 0) for the last
    seen: tuple[int, ...]
    box: tuple[int, int]
    size: int
    jump: int
    start: int
    center: float

    @property
    def name(self) -> str:
        """``input`` or ``layer k``, in the current language (for labels and titles)."""
        if self.level == 0:
            return _("input")
        return _("layer {number}").format(number=self.level)


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
    seen: list[set[int]] = [set() for _row in rows]
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
        maps.append(
            MapView(
                level, row.n_out, pad, tuple(sorted(seen[level])), box, row.size, row.jump,
                row.start, row.center,
            )
        )  # fmt: skip
    return LayerStack(layers, unit, tuple(maps), region.clipped)


# -- drawing without an Axes ------------------------------------------------------------


class Panel:
    """A rectangle of a figure with its own data coordinates, drawn without an Axes.

    The RF explorer redraws its whole figure at every slider move, and an Axes
    costs about as much as everything drawn in it (its ticks and spines are
    built when it is made and again when the figure is cleared).  A panel
    offers the few Axes methods this module's drawings use, so the same
    functions draw the notebook's figures (on an Axes) and the explorer (on
    panels).  ``rect`` is ``(left, bottom, width, height)`` in figure fractions.

    >>> fig = Figure()
    >>> panel = Panel(fig, (0.1, 0.1, 0.8, 0.8))
    >>> panel.set_xlim(0, 10); panel.set_ylim(0, 1)
    >>> [round(float(v), 3) for v in panel.transData.transform((5, 0.5))]  # pixels
    [320.0, 240.0]
    """

    def __init__(self, figure: Figure, rect: tuple[float, float, float, float]) -> None:
        self.figure = figure
        self._view = Bbox.unit()  # the data limits; set_xlim and set_ylim change it in place
        area = TransformedBbox(Bbox.from_bounds(*rect), figure.transFigure)
        self.transAxes = BboxTransformTo(area)
        self.transData = BboxTransformFrom(self._view) + self.transAxes

    def set_xlim(self, left: float, right: float) -> None:
        self._view.intervalx = (left, right)

    def set_ylim(self, bottom: float, top: float) -> None:
        self._view.intervaly = (bottom, top)

    def set_axis_off(self) -> None:
        """Nothing to hide: a panel has no axis (kept so that a drawing works on both)."""

    def get_yaxis_transform(self) -> Transform:
        """x in panel fractions, y in data: for labels beside rows, as on an Axes."""
        return blended_transform_factory(self.transAxes, self.transData)

    def add_patch(self, patch: Patch) -> Patch:
        return self._add(patch)

    def text(self, x: float, y: float, s: str, **kwargs) -> Text:
        kwargs.setdefault("transform", self.transData)
        return self.figure.text(x, y, s, **kwargs)

    def imshow(self, image: np.ndarray, *, extent: tuple[float, ...], **kwargs) -> BboxImage:
        """``image`` (rows x columns x RGB/RGBA) over ``extent = (left, right, bottom, top)``."""
        left, right, bottom, top = extent
        box = TransformedBbox(Bbox.from_extents(left, bottom, right, top), self.transData)
        # row 0 at the top: BboxImage's "lower" counts rows from the bbox's first corner,
        # which is the top one here (tests/test_rf_figures.py checks it against an Axes)
        artist = BboxImage(box, origin="lower", **kwargs)
        artist.set_data(image)
        self.figure.add_artist(artist)
        return artist

    def _add(self, artist):
        if not artist.is_transform_set():
            artist.set_transform(self.transData)
        self.figure.add_artist(artist)
        return artist


# -- cells: real, padding, and beyond the padding -------------------------------------

REAL, PADDING, BEYOND = 0, 1, 2  # what a position of a feature map holds
CELL = 0.9  # a cell's width: a gap of 0.1 between neighbours


def _title(ax: Axes | Panel, text: str, fontsize: float = 9) -> None:
    """A title drawn as plain text: ``set_title`` makes matplotlib lay out ticks (slow)."""
    ax.text(0.5, 1.01, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=fontsize)


def format_signed(value: float) -> str:
    """A number as text with a true minus sign: ``−3``, not ``-3``."""
    return f"{value:g}".replace("-", "\N{MINUS SIGN}")


def format_span(first: float, last: float) -> str:
    """``−3…3``, or one number when first and last are the same."""
    return (
        format_signed(first) if first == last else f"{format_signed(first)}…{format_signed(last)}"
    )


def kinds(x: np.ndarray, n: int, pad: tuple[int, int]) -> np.ndarray:
    """For each position ``x`` of a map of ``n`` units: ``REAL``, ``PADDING`` or ``BEYOND``.

    ``pad`` is the padding the next layer adds before and after the map; a
    position further out is neither a unit nor a zero any layer reads: it only
    belongs to a field's arithmetic (the field "counted as if the padding went
    on forever").

    >>> kinds(np.arange(-3, 3), 2, (1, 1)).tolist()
    [2, 2, 1, 0, 0, 1]
    """
    x = np.asarray(x)
    out = np.full(x.shape, BEYOND)
    out[(x >= -pad[0]) & (x < n + pad[1])] = PADDING
    out[(x >= 0) & (x < n)] = REAL
    return out


def _cells(x: np.ndarray, y: np.ndarray | float, h: float = 0.8) -> np.ndarray:
    """Vertices of the cells centred at positions ``x`` on rows ``y`` (one or one per cell)."""
    x = np.asarray(x, dtype=float)[:, None]
    y = np.broadcast_to(np.asarray(y, dtype=float), x.shape[:1])[:, None]
    dx = np.array([-1, 1, 1, -1]) * CELL / 2
    dy = np.array([-1, -1, 1, 1]) * h / 2
    return np.stack([np.broadcast_to(x + dx, (len(x), 4)), y + dy], axis=-1)


def _hatch(x: np.ndarray, y: np.ndarray | float, h: float = 0.8) -> np.ndarray:
    """Three parallel diagonals across each cell: the padding's hatching, as line segments.

    Drawn as lines rather than a hatched fill, which matplotlib renders cell by
    cell, several times slower.
    """
    x = np.asarray(x, dtype=float)
    y = np.broadcast_to(np.asarray(y, dtype=float), x.shape)
    x0, y0, w = x - CELL / 2, y - h / 2, CELL
    starts = [(x0, y0), (x0, y0 + h / 2), (x0 + w / 2, y0)]
    ends = [(x0 + w, y0 + h), (x0 + w / 2, y0 + h), (x0 + w, y0 + h / 2)]
    segments = [
        np.stack([np.stack(a, -1), np.stack(b, -1)], 1) for a, b in zip(starts, ends, strict=True)
    ]
    return np.concatenate(segments) if len(x) else np.empty((0, 2, 2))


def _compound(shapes: np.ndarray, closed: bool) -> Path:
    """Many polygons (``closed``) or line segments as one Path.

    Collections make one matplotlib Path per item, which for the explorer's few
    hundred cells and strokes costs more than drawing them; one compound path
    per style draws the same picture.
    """
    shapes = np.asarray(shapes, dtype=float)
    count, corners = shapes.shape[:2]
    if closed:
        shapes = np.concatenate([shapes, shapes[:, :1]], axis=1)
    codes = np.full((count, shapes.shape[1]), Path.LINETO, dtype=Path.code_type)
    codes[:, 0] = Path.MOVETO
    if closed:
        codes[:, corners] = Path.CLOSEPOLY
    return Path(shapes.reshape(-1, 2), codes.ravel())


def _lines(ax: Axes | Panel, segments, gid: str | None = None, **style) -> PathPatch | None:
    """Line segments (each two points), drawn as one path; nothing when there are none."""
    segments = np.asarray(segments, dtype=float).reshape(-1, 2, 2)
    if not len(segments):
        return None
    patch = PathPatch(_compound(segments, closed=False), fill=False, gid=gid, **style)
    return ax.add_patch(patch)


def _polygons(ax: Axes | Panel, verts, face: str, gid: str | None = None, **style) -> None:
    """Polygons of one face colour, drawn as one path."""
    if len(verts):
        ax.add_patch(PathPatch(_compound(verts, closed=True), facecolor=face, gid=gid, **style))


def draw_cells(
    ax: Axes | Panel,
    x: np.ndarray,
    y: np.ndarray | float,
    kind: np.ndarray,
    faces: Sequence[str],
    h: float = 0.8,
) -> None:
    """Cells at positions ``x`` on rows ``y``, drawn the one way every figure of lesson 02 uses.

    Real units and padding are filled with ``faces``; padding is hatched;
    positions beyond the padding are white with a dotted edge.
    """
    verts = _cells(x, y, h)
    faces = np.asarray(faces, dtype=object)
    edge = {"edgecolor": COLORS["input_edge"], "linewidth": 0.8}
    filled = kind != BEYOND
    for face in dict.fromkeys(faces[filled]):  # one path per colour, in order of appearance
        _polygons(ax, verts[filled & (faces == face)], face, gid="cells", **edge)
    padding = kind == PADDING
    if padding.any():  # tests find the hatching, and the cells beyond, by their gid
        ys = np.broadcast_to(np.asarray(y, dtype=float), np.shape(x))[padding]
        _lines(ax, _hatch(np.asarray(x)[padding], ys, h), gid="padding",
               edgecolor=COLORS["input_edge"], linewidth=0.7)  # fmt: skip
    _polygons(ax, verts[~filled], "white", gid="beyond", linestyle=":", **edge)


def draw_padded_row(ax: Axes | Panel, x: np.ndarray, n_in: int, pad: tuple[int, int]) -> None:
    """One map as a row of cells at positions ``x``: ``n_in`` units with ``pad`` around them."""
    kind = kinds(x, n_in, pad)
    faces = np.where(kind == REAL, COLORS["input"], COLORS["padding"])
    draw_cells(ax, x, 0.0, kind, faces)


# -- the layered picture in 1-D ----------------------------------------------------------

MARGIN = 4  # at most this many cells are drawn beyond the padding to show a box
ROW_GAP = 1.8  # vertical distance between two feature maps' rows
MAX_LINES = 60  # more connections than this between two rows: only the cone's edges
FAR = 16  # a box wholly beyond the padding is drawn if it starts within this many cells
MIN_WIDTH = 13  # the narrowest view, in cells: a tiny stack keeps cells of a sane shape
MIN_ROWS = 3  # the lowest view, in rows, for the same reason
LABEL_SIZE = 9  # font size of the row labels


def _offset(view: MapView) -> float:
    return -(view.n - 1) / 2  # rows are centred on 0


def _row_positions(view: MapView) -> np.ndarray:
    """Positions drawn for one map: the map, its padding, and its box up to MARGIN beyond.

    A box that lies wholly further out, but not far (1x1 kernels reading into
    padding), is drawn up to MARGIN cells into it, with the cells between
    dotted.  A box further out than FAR is not drawn: :func:`off_view` then
    says where it is.
    """
    first, last = -view.pad[0], view.n - 1 + view.pad[1]
    lo, hi = view.box
    start, stop = min(first, max(lo, first - MARGIN)), max(last, min(hi, last + MARGIN))
    if first - FAR <= hi < first - MARGIN:  # wholly to the left, within reach
        start = max(lo, hi - MARGIN)
    if last + MARGIN < lo <= last + FAR:  # wholly to the right, within reach
        stop = min(hi, lo + MARGIN)
    return np.arange(start, stop + 1)


def off_view(view: MapView) -> str | None:
    """Where a map's box lies when it is too far out to draw, e.g. ``field at −4095…−4095 ←``."""
    x = _row_positions(view)
    lo, hi = view.box
    if hi < x[0]:
        return _("← field at {span}").format(span=format_span(lo, hi))
    if lo > x[-1]:
        return _("field at {span} →").format(span=format_span(lo, hi))
    return None


def _rect_segments(
    x0: float, x1: float, y0: float, y1: float, x_cut: tuple, y_cut: tuple = (-np.inf, np.inf)
) -> list:
    """The sides of the rectangle ``x0..x1`` x ``y0..y1`` that lie inside the cut region.

    A side outside the region is left out, so a box that runs off the drawing
    stays open on that side instead of ending as if it stopped there.
    """
    a, b = max(x0, x_cut[0]), min(x1, x_cut[1])
    c, d = max(y0, y_cut[0]), min(y1, y_cut[1])
    sides = [[(a, y), (b, y)] for y in (y0, y1) if y_cut[0] <= y <= y_cut[1] and a < b]
    sides += [[(x, c), (x, d)] for x in (x0, x1) if x_cut[0] <= x <= x_cut[1] and c < d]
    return sides


def _connections(stack: LayerStack, level: int) -> list:
    """Lines from the units map ``level`` reads of, down to the taps they read in the map below."""
    view, below = stack.maps[level], stack.maps[level - 1]
    y = level * ROW_GAP
    window = stack.layers[level - 1].axes(1)[0]
    real = [t for t in view.seen if 0 <= t < view.n]  # a padding cell reads nothing
    if len(real) * len(window.taps(0)) > MAX_LINES:  # a dense cone: draw its edges only
        real = [real[0], real[-1]]
    off, off_below = _offset(view), _offset(below)
    return [
        [(t + off, y - 0.4), (tap + off_below, y - ROW_GAP + 0.4)]
        for t in real
        for tap in window.taps(t)
    ]


def row_label(view: MapView) -> str:
    """The label beside one map's row, e.g. ``layer 1: 5 units, RF 3, jump 2``."""
    if view.level == 0:
        return ngettext("input: {n} pixel", "input: {n} pixels", view.n).format(n=view.n)
    return ngettext(
        "{name}: {n} unit, RF {size}, jump {jump}",
        "{name}: {n} units, RF {size}, jump {jump}",
        view.n,
    ).format(name=view.name, n=view.n, size=view.size, jump=view.jump)


def label_width(stack: LayerStack) -> float:
    """About how wide (inches) the widest row label of :func:`draw_layered` is.

    An estimate from the character count (DejaVu Sans averages ~0.55 em), so
    that the explorer can leave room for its labels without measuring text,
    which would cost a layout pass.
    """
    longest = max(len(row_label(view)) for view in stack.maps)
    return longest * 0.55 * LABEL_SIZE / 72


def default_title(stack: LayerStack) -> str:
    """What the chosen unit sees: its whole field and the real pixels in it."""
    first, last = stack.maps[0].box
    lo, hi = stack.clipped
    if lo <= hi:
        text = _(
            "unit {unit} sees input {field} (size {size}, centre {centre}); real pixels {real}"
        )
    else:
        text = _("unit {unit} sees input {field} (size {size}, centre {centre}); no real pixel: "
                 "only padding")  # fmt: skip
    return text.format(
        unit=stack.unit,
        field=format_span(first, last),
        size=stack.output.size,
        centre=format_signed((first + last) / 2),
        real=format_span(lo, hi),
    )


def draw_layered(
    ax: Axes | Panel,
    stack: LayerStack,
    *,
    labels: bool = True,
    title: str | None = None,
    prefix: str = "",
) -> None:
    """One row of cells per feature map, input at the bottom, chosen unit (red) on top.

    Orange cells are the units the chosen unit depends on (pale orange: padding it
    reads), grey lines the connections, the dashed box its unclipped region in each
    map: the receptive field counted as if the padding went on forever.  Padding is
    hatched; positions beyond it, drawn only to show how far a box reaches, are
    dotted.  ``title`` replaces the default title (what the unit sees), ``prefix``
    goes before it.
    """
    xs, ys, kind_parts, faces, boxes, lines = [], [], [], [], [], []
    x_lo, x_hi = np.inf, -np.inf
    for level, view in enumerate(stack.maps):
        y = level * ROW_GAP
        off = _offset(view)
        x = _row_positions(view)
        kind = kinds(x, view.n, view.pad)
        seen = np.isin(x, view.seen)
        face = np.where(kind == REAL, COLORS["input"], COLORS["padding"]).astype(object)
        face[seen & (kind == REAL)] = COLORS["rf"]
        face[seen & (kind != REAL)] = COLORS["rf_light"]
        if level == len(stack.maps) - 1:
            face[x == stack.unit] = COLORS["unit"]
        xs.append(x + off)
        ys.append(np.full(len(x), y))
        kind_parts.append(kind)
        faces.append(face)
        left, right = x[0] + off - 0.5, x[-1] + off + 0.5
        lo, hi = view.box
        boxes += _rect_segments(
            lo + off - 0.5, hi + off + 0.5, y - 0.55, y + 0.55, (left - 0.15, right + 0.15)
        )
        x_lo, x_hi = min(x_lo, left), max(x_hi, right)
        if level > 0:
            lines += _connections(stack, level)
        far = off_view(view)
        if far:  # the box is too far out to draw: say where it is, above the row's end
            on_left = view.box[1] < x[0]
            ax.text(left if on_left else right, y + 0.5, far, ha="left" if on_left else "right",
                    va="bottom", fontsize=8, color=COLORS["rf"])  # fmt: skip
    _lines(ax, lines, edgecolor=COLORS["muted"], linewidth=0.6, alpha=0.6)
    draw_cells(
        ax, np.concatenate(xs), np.concatenate(ys), np.concatenate(kind_parts),
        np.concatenate(faces),
    )  # fmt: skip
    boxes = _lines(ax, boxes, gid="boxes", edgecolor=COLORS["rf"], linestyle="--", linewidth=1.4,
                   zorder=4)  # fmt: skip
    if boxes is not None:
        boxes.set_clip_on(False)  # already cut to each row
    middle, width = (x_lo + x_hi) / 2, max(x_hi - x_lo + 1, MIN_WIDTH)
    ax.set_xlim(middle - width / 2, middle + width / 2)
    top = max(len(stack.maps), MIN_ROWS) * ROW_GAP - ROW_GAP / 2  # few rows: cells stay squat
    ax.set_ylim(-0.8, top)
    ax.set_axis_off()
    if labels:  # text, not tick labels: ticks are slow to draw
        label_at = ax.get_yaxis_transform()  # x in axes fraction, y in data
        for level, view in enumerate(stack.maps):
            ax.text(-0.01, level * ROW_GAP, row_label(view), ha="right", va="center",
                    fontsize=LABEL_SIZE, transform=label_at)  # fmt: skip
    _title(ax, prefix + (default_title(stack) if title is None else title))


# -- the same in 2-D, as grids -------------------------------------------------------------

GRID_MIN = 7  # the narrowest grid drawn, in cells


def _canvas(view: MapView) -> tuple[int, int]:
    """The index range drawn for one axis of a map: its padding, and the box when near."""
    x = _row_positions(view)
    return int(x[0]), int(x[-1])


def _grid_lines(rows: tuple[float, float], cols: tuple[float, float]) -> list:
    """Lines between the cells of the index ranges ``rows`` x ``cols`` (inclusive)."""
    xs = np.arange(cols[0], cols[1] + 2) - 0.5
    ys = np.arange(rows[0], rows[1] + 2) - 0.5
    return [[(x, ys[0]), (x, ys[-1])] for x in xs] + [[(xs[0], y), (xs[-1], y)] for y in ys]


def _grid_image(vr: MapView, vc: MapView, rows, cols) -> tuple[np.ndarray, np.ndarray]:
    """RGBA colours of the canvas ``rows`` x ``cols`` (beyond the padding: transparent),
    and which cells are padding."""
    r = np.arange(rows[0], rows[1] + 1)
    c = np.arange(cols[0], cols[1] + 1)
    kr, kc = kinds(r, vr.n, vr.pad), kinds(c, vc.n, vc.pad)
    real = np.outer(kr == REAL, kc == REAL)
    padded = np.outer(kr != BEYOND, kc != BEYOND)
    seen = np.outer(np.isin(r, vr.seen), np.isin(c, vc.seen))
    image = np.zeros((len(r), len(c), 4))
    for where, colour in [
        (padded, COLORS["padding"]),
        (real, COLORS["input"]),
        (seen & padded & ~real, COLORS["rf_light"]),
        (seen & real, COLORS["rf"]),
    ]:
        image[where] = to_rgba(colour)
    return image, padded & ~real


def draw_grid(
    ax: Axes | Panel,
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
    box.  Padding is hatched; positions beyond it, drawn only to show where
    the box reaches, are white with dotted lines, as in :func:`draw_layered`.
    """
    cols = rows if cols is None else cols
    vr, vc = rows.maps[level], cols.maps[level]
    (r0, r1), (c0, c1) = _canvas(vr), _canvas(vc)
    image, padding = _grid_image(vr, vc, (r0, r1), (c0, c1))
    if level == len(rows.maps) - 1:
        image[rows.unit - r0, cols.unit - c0] = to_rgba(COLORS["unit"])
    # under the image: the dotted lines show only beyond the padding, where the image is clear
    _lines(ax, _grid_lines((r0, r1), (c0, c1)), edgecolor=COLORS["input_edge"], linestyle=":",
           linewidth=0.6, zorder=-1)  # fmt: skip
    ax.imshow(image, extent=(c0 - 0.5, c1 + 0.5, r1 + 0.5, r0 - 0.5), interpolation="nearest")
    padded_rows = (-vr.pad[0], vr.n - 1 + vr.pad[1])
    padded_cols = (-vc.pad[0], vc.n - 1 + vc.pad[1])
    _lines(ax, _grid_lines(padded_rows, padded_cols), edgecolor="white", linewidth=0.8)
    pr, pc = np.nonzero(padding)  # one diagonal per padding cell: hatching, cell to cell
    x, y = pc + c0, pr + r0
    diagonals = np.stack([np.stack([x - 0.5, y + 0.5], -1), np.stack([x + 0.5, y - 0.5], -1)], 1)
    _lines(ax, diagonals, gid="padding", edgecolor=COLORS["input_edge"], linewidth=0.6)
    (b0, b1), (a0, a1) = vr.box, vc.box
    edge = 0.15  # the box is drawn a little outside its cells, over the grid lines
    box = _rect_segments(
        a0 - 0.5 - edge, a1 + 0.5 + edge, b0 - 0.5 - edge, b1 + 0.5 + edge,
        (c0 - 0.5 - edge, c1 + 0.5 + edge), (r0 - 0.5 - edge, r1 + 0.5 + edge),
    )  # fmt: skip
    box = _lines(ax, box, gid="boxes", edgecolor=COLORS["rf"], linestyle="--", linewidth=2,
                 zorder=4)  # fmt: skip
    if box is not None:
        box.set_clip_on(False)  # already cut to the canvas; an Axes would cut its outer sides
    width = max(c1 - c0 + 1, GRID_MIN)
    height = max(r1 - r0 + 1, GRID_MIN)
    ax.set_xlim((c0 + c1 - width) / 2, (c0 + c1 + width) / 2)
    ax.set_ylim((r0 + r1 + height) / 2, (r0 + r1 - height) / 2)
    ax.set_axis_off()
    if numbers:  # text instead of ticks: ticks are slow to draw
        for t in sorted({0, vc.n - 1}):
            ax.text(t, r1 + 0.9, str(t), ha="center", va="top", fontsize=8, color=COLORS["muted"])
        for t in sorted({0, vr.n - 1}):
            ax.text(c0 - 0.9, t, str(t), ha="right", va="center", fontsize=8, color=COLORS["muted"])
    if title is None:
        title = f"{vr.name}: {vr.n}×{vc.n}"
        if level > 0:
            title += f", RF {vr.size}×{vc.size}"
    if off_view(vr) or off_view(vc):  # the box is too far out to draw: say where it is
        where = (
            format_span(*vr.box)
            if vr.box == vc.box
            else f"{format_span(*vr.box)} × {format_span(*vc.box)}"
        )
        title += "\n" + _("field off the grid, at {where}").format(where=where)
    _title(ax, title)


def draw_layer_grids(fig: Figure, rows: LayerStack, cols: LayerStack | None = None) -> None:
    """Every feature map of the stack side by side as a grid: the article's layered picture."""
    cols = rows if cols is None else cols
    widths = [max(_canvas(v)[1] - _canvas(v)[0] + 1, GRID_MIN) for v in cols.maps]
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
        (_("convolution: sees {k} of {n}").format(k=kernel, n=n_in), window.taps(middle)),
        (_("fully connected: sees all {n}").format(n=n_in), tuple(range(n_in))),
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
        ax.text(-0.8, 0, _("input"), ha="right", va="center", fontsize=9)
        ax.text(middle - 0.8, 3, _("output unit"), ha="right", va="center", fontsize=9)
        ax.set_xlim(-4, n_in)
        ax.set_ylim(-0.8, 3.8)
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()


# -- where an RF sits ------------------------------------------------------------------


def draw_alignment(ax: Axes, layers: Sequence[Layer], input_size: int, units: Sequence[int]):
    """The input as a strip, and under it the region of each listed output unit.

    The strip shows the input, the padding the first layer adds (hatched) and,
    where a region reaches further, positions beyond the padding (dotted), as
    in :func:`draw_layered`.  Each bar is a unit's unclipped region
    (``input_region``): orange on real pixels, pale outside them; the dot is
    the region's centre; arrows between centres measure the jump.
    """
    layers = list(layers)
    regions = [input_region(layers, u, input_size) for u in units]
    pad = layers[0].padding(1)[0]
    lo = min(-pad[0], *(r.unclipped[0] for r in regions))
    hi = max(input_size - 1 + pad[1], *(r.unclipped[1] for r in regions))
    draw_padded_row(ax, np.arange(lo, hi + 1), input_size, pad)
    for t in sorted({0, input_size - 1}):
        ax.text(t, 0.7, str(t), ha="center", fontsize=9, color=COLORS["muted"])
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
        ax.text(first - 0.8, y, _("unit {unit}").format(unit=u), ha="right", va="center",
                fontsize=9)  # fmt: skip
    for (c1, y1), (c2, _y2) in zip(centres, centres[1:], strict=False):
        ax.annotate(
            "", (c2, y1 - 0.65), (c1, y1 - 0.65),
            arrowprops={"arrowstyle": "->", "color": COLORS["accent"]},
        )  # fmt: skip
        ax.text(c2 + 0.4, y1 - 0.65, _("jump {jump:g}").format(jump=c2 - c1), va="center",
                fontsize=9, color=COLORS["accent"])  # fmt: skip
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
    xlabel: str | None = None,
    legend: bool = True,
) -> None:
    """Receptive-field size after each layer, one line per network or stack.

    The legend gives each line's last value; ``legend=False`` leaves it out (for
    a second panel of the same curves).  ``xlabel`` defaults to "layer
    (convolutions and poolings, in order)", in the current language.
    """
    for label, sizes in curves.items():
        depth = np.arange(1, len(sizes) + 1)
        ax.plot(depth, sizes, "o-", ms=3, lw=1.5, label=f"{label} ({sizes[-1]})")
    if input_size is not None:
        ax.axhline(input_size, color=COLORS["muted"], ls=":", lw=1)
        ax.text(1, input_size, " " + _("input {size}").format(size=input_size), va="bottom",
                fontsize=8, color=COLORS["muted"])  # fmt: skip
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(_("layer (convolutions and poolings, in order)") if xlabel is None else xlabel)
    ax.set_ylabel(_("receptive field (pixels)"))
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
    ax.set_xlabel(_("input column"), fontsize=9)
    ax.set_ylabel(_("input row"), fontsize=9)
