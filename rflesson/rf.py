"""The exact receptive field of a network: size, jump, start, centre, and regions.

Conventions (Araujo, Norris & Sim 2019, "Computing Receptive Fields of
Convolutional Neural Networks", Distill; Dang Ha The Hien 2017):

* ``size``: how many input pixels (per axis) one output unit can see; after
  transposed convolution or upsampling, the largest over the output phases.
* ``jump``: the input distance between the regions of neighbouring output
  units (the effective stride).  An ``int``, or a ``fractions.Fraction``
  when it is not whole (below 1 after upsampling).
* ``start``: the first input index output unit 0 sees; negative where the
  padding reaches outside the input.
* ``center``: the centre of unit 0's region, ``(first + last) / 2`` (a
  ``float``); without upsampling that is ``start + (size - 1) / 2`` and unit
  ``u`` is centred at ``center + u * jump``.  After upsampling units of
  different phases differ, and the fields describe unit 0 (``size``: the
  largest phase).
* ``n_out``: the output length, when ``input_size`` is given.

Along an axis that some operation *mixes* (global pooling, attention,
squeeze-and-excitation, a softmax over the axis), every unit sees the same
input pixels: then ``size``, ``start`` and ``center`` describe that box
(cut to the input: it needs ``input_size``), ``jump`` is still the distance
between neighbouring units, and ``note`` names the operation responsible.
``whole_input`` is ``True`` when that box is the whole input on every axis.

With one spatial axis each field is a number; with two or more a per-axis
tuple ``(h, w[, ...])``.  A network is a list of ``Layer`` (or of torch
modules) or a ``torch.nn.Module``.

Limits (documented, refused at once with an error that names them):
``MAX_LAYERS`` layers in a list, ``MAX_INPUT_LENGTH`` pixels per axis,
``rflesson.axismap.MAX_PERIOD`` units per period, ``MAX_INTERVALS`` pieces
in a region and ``rflesson.layers.MAX_ENUMERATE`` units followed one by one.
Within them every call takes well under a second and little memory.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ._validate import as_bool, as_int
from .axismap import AxisMap, Intervals, clip, merge, union
from .graph import Node, chain, select
from .layers import Block, Collapse, Layer, Mix, Window

Number = int | Fraction | float

_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "logsumexp", "norm", "std", "var"}
_CONTRACTIONS = {
    "matmul", "mm", "bmm", "einsum", "linear", "baddbmm", "addmm",
    "multi_head_attention_forward", "scaled_dot_product_attention",
}  # fmt: skip
MAX_LAYERS = 100_000  # documented limit: layers in a list of Layer
MAX_INPUT_LENGTH = 1 << 62  # documented limit: input pixels per axis
IDENTITY = Window()

# -- results -------------------------------------------------------------------


def _fmt(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True, repr=False)
class ReceptiveField:
    """The receptive field of a network's output (one number per field, or per-axis tuples).

    ``whole_input`` is ``True`` when every output unit sees the whole input
    (global pooling, attention, squeeze-and-excitation); ``note`` then says
    which operation made it so.
    """

    size: int | tuple[int, ...]
    jump: int | Fraction | tuple[int | Fraction, ...]
    start: int | tuple[int, ...]
    center: float | tuple[float, ...]
    n_out: int | tuple[int, ...] | None = None
    whole_input: bool = False
    note: str = ""

    def __repr__(self) -> str:
        parts = [f"{name}={_fmt(getattr(self, name))}" for name in _FIELDS]
        if self.whole_input:
            parts.append("whole_input=True")
        return f"ReceptiveField({', '.join(parts)})"


_FIELDS = ("size", "jump", "start", "center", "n_out")


@dataclass(frozen=True, repr=False)
class RFRow(ReceptiveField):
    """One row of ``rf_table``: the receptive field after the operation (or module) ``name``."""

    name: str = ""
    op: str = ""

    def __repr__(self) -> str:
        return (
            f"RFRow(name={self.name!r}, " + ReceptiveField.__repr__(self)[len("ReceptiveField(") :]
        )


class RFTable(Sequence):
    """Rows of ``rf_table``: indexable by position or name, a table in notebooks."""

    def __init__(self, rows: list[RFRow], has_sizes: bool) -> None:
        self.rows = rows
        self._columns = ["name", "op", "size", "jump", "start", "center"]
        if has_sizes:
            self._columns.append("n_out")
        if any(r.note for r in rows):
            self._columns.append("note")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            for row in self.rows:
                if row.name == key:
                    return row
            raise KeyError(f"no row named {key!r}; rows: {[r.name for r in self.rows]}")
        return self.rows[key]

    def __iter__(self) -> Iterator[RFRow]:
        return iter(self.rows)

    def _cells(self) -> list[list[str]]:
        return [
            [_short_note(r) if c == "note" else _fmt(getattr(r, c)) for c in self._columns]
            for r in self.rows
        ]

    def __str__(self) -> str:
        cells = [self._columns, *self._cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self._columns))]
        lines = []
        for k, row in enumerate(cells):
            text = "  ".join(c.ljust(w) for c, w in zip(row[:2], widths[:2], strict=True))
            for i, c in enumerate(row[2:], start=2):
                text += "  " + (
                    c.ljust(widths[i]) if self._columns[i] == "note" else c.rjust(widths[i])
                )
            lines.append(text.rstrip())
            if k == 0:
                lines.append("-" * len(lines[0]))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self._cells()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _short_note(row: RFRow) -> str:
    return row.note.split(":")[0] if row.note else ""


@dataclass(frozen=True)
class Region:
    """The input box one output unit sees, as inclusive ``(first, last)`` index pairs.

    ``unclipped`` may reach into the padding (negative indices, or indices
    past the input's end); ``clipped`` keeps only real input pixels that
    influence the unit (``None`` without ``input_size``).  With one spatial
    axis each is a pair; with more, a tuple of pairs, one per axis.

    ``parts`` gives, per axis, the exact runs of pixels the unit depends on
    (``clipped`` is their bounding box).  Usually one run; circular padding
    makes a border unit read both ends of the input, and then ``note`` says
    that the region is not one box.
    """

    unclipped: tuple
    clipped: tuple | None
    parts: tuple | None = None
    note: str = ""

    def __repr__(self) -> str:
        """Only what says something: ``parts`` when the region is not one box, ``note`` if any."""
        shown = f"Region(unclipped={self.unclipped!r}, clipped={self.clipped!r}"
        one_box = self.parts is None or all(len(runs) == 1 for runs in self._axes(self.parts))
        if not one_box:
            shown += f", parts={self.parts!r}"
        if self.note:
            shown += f", note={self.note!r}"
        return shown + ")"

    def _axes(self, parts: tuple) -> tuple:
        """``parts`` as one tuple of runs per axis (one axis: the runs themselves)."""
        return (parts,) if isinstance(self.unclipped[0], int) else parts


# -- turning a network into a graph ------------------------------------------


@dataclass
class _Graph:
    nodes: list[Node]
    ndim: int
    sizes: tuple[int, ...] | None
    modules: dict[str, str]
    types: dict[str, str]


def _layer_ndim(layers: list[Layer]) -> int:
    return max(layer.ndim for layer in layers)


def _as_graph(net: object, input_size: object, output: str | None = None):
    """Return ``(nodes, ndim, sizes)`` for a layer list or a module."""
    graph = _graph(net, input_size, output)
    return graph.nodes, graph.ndim, graph.sizes


def _graph(net: object, input_size: object, output: str | None = None) -> _Graph:
    if output is not None and not isinstance(output, str):
        raise TypeError(
            f"output must be an operation name or a module path (a string), got {output!r} "
            f"({type(output).__name__})"
        )
    if isinstance(net, Layer):
        net = [net]
    if isinstance(net, list | tuple):
        if len(net) == 0:
            raise ValueError("net is empty: give at least one Layer (or a torch module)")
        if all(isinstance(x, Layer) for x in net):
            if len(net) > MAX_LAYERS:
                raise ValueError(
                    f"net has {len(net)} layers, beyond rflesson's limit of {MAX_LAYERS} "
                    "(rflesson.rf.MAX_LAYERS)"
                )
            ndim = _layer_ndim(list(net))
            if ndim == 1 and isinstance(input_size, tuple | list) and len(input_size) > 1:
                ndim = len(input_size)  # int-only layers work on any number of axes
            nodes = chain(list(net), ndim)
            sizes = _sizes(input_size, ndim)
            return _Graph(_select(nodes, output), ndim, sizes, {}, {})
        if all(_is_module(x) for x in net):
            import torch.nn as nn

            net = nn.Sequential(*net)
        else:
            bad = next(x for x in net if not isinstance(x, Layer))
            raise TypeError(
                "net must be a list of rflesson.Layer (or of torch modules) or a torch.nn.Module; "
                f"the list holds {bad!r} ({type(bad).__name__})"
            )
    if _is_module(net):
        from .trace import InputTooSmall, trace_model

        try:
            traced = trace_model(net, input_size, output)
        except InputTooSmall as error:
            raise _too_small_from_trace(error) from None
        return _Graph(traced.nodes, traced.ndim, traced.sizes, traced.modules, traced.types)
    raise TypeError(
        "net must be a list of rflesson.Layer, a Layer, or a torch.nn.Module; "
        f"got {net!r} ({type(net).__name__})"
    )


def _is_module(x: object) -> bool:
    try:
        import torch.nn as nn
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, nn.Module)


def _select(nodes: list[Node], output: str | None) -> list[Node]:
    """Keep the graph up to the node ``output`` (a node name or a module path)."""
    if output is None:
        return nodes
    from .graph import ancestors

    return ancestors(nodes, select(nodes, output))


def _sizes(input_size: object, ndim: int) -> tuple[int, ...] | None:
    """``input_size`` as one length per spatial axis (``None`` stays ``None``)."""
    if input_size is None:
        return None
    if isinstance(input_size, tuple | list):
        if len(input_size) != ndim and not (len(input_size) == 1 and ndim == 1):
            axes = "axis" if len(input_size) == 1 else "axes"
            raise ValueError(
                f"input_size has {len(input_size)} {axes}, expected {ndim} (one per spatial axis "
                f"of this network); got {tuple(input_size)!r}. Give an int for the same length "
                "on every axis"
            )
        return tuple(_length(v) for v in input_size)
    if isinstance(input_size, str) or not hasattr(input_size, "__index__"):
        raise TypeError(
            f"input_size must be an int or a tuple of ints (one per spatial axis), got "
            f"{input_size!r} ({type(input_size).__name__})"
        )
    return (_length(input_size),) * ndim


def _length(value: object) -> int:
    n = as_int("input_size", value, minimum=1)
    if n > MAX_INPUT_LENGTH:
        raise ValueError(
            f"input_size={n} is beyond rflesson's limit of {MAX_INPUT_LENGTH} pixels per axis "
            "(rflesson.rf.MAX_INPUT_LENGTH)"
        )
    return n


# -- propagation ---------------------------------------------------------------


@dataclass(frozen=True)
class _Mixed:
    """Why every unit sees the same pixels along an axis, and which (``box``, with sizes)."""

    reason: str
    box: tuple[int, int] | None


@dataclass
class _State:
    maps: tuple[AxisMap, ...]  # per axis: unit -> input interval (positions, once mixed)
    lengths: tuple[int, ...] | None
    mixed: tuple[_Mixed | None, ...]


class _Engine:
    """Propagates regions through a graph, and walks back from units to exact pixel sets."""

    def __init__(self, nodes: list[Node], ndim: int, sizes: tuple[int, ...] | None) -> None:
        self.nodes = nodes
        self.ndim = ndim
        self.sizes = sizes
        self.by_name = {n.name: n for n in nodes}
        self.states: dict[str, _State] = {}
        self._extents: dict[tuple[str, int], Intervals] = {}
        for node in nodes:
            self.states[node.name] = self._state(node)

    # -- forward ----------------------------------------------------------------------

    def _state(self, node: Node) -> _State:
        if node.kind == "input":
            return _State((AxisMap.identity(),) * self.ndim, self.sizes, (None,) * self.ndim)
        ins = [self.states[i] for i in node.inputs]
        if len(ins) > 1 or node.broadcast and any(node.broadcast):
            state = self._merge(node, ins)
        else:
            state = ins[0]
        if node.axes and any(op != IDENTITY for op in node.axes):
            state = self._apply(node, state)
        return state

    def _apply(self, node: Node, s: _State) -> _State:
        lengths = None
        if s.lengths is not None:
            try:
                lengths = tuple(
                    op.out_length(n) for op, n in zip(node.axes, s.lengths, strict=True)
                )
            except ValueError as error:
                raise _too_small_error(self.nodes, self.sizes, node) from error
        maps, mixed = list(s.maps), list(s.mixed)
        cache: dict[tuple, AxisMap] = {}
        for a, op in enumerate(node.axes):
            if op == IDENTITY:
                continue
            n = None if s.lengths is None else s.lengths[a]
            whole = isinstance(op, Mix) or isinstance(op, Collapse) and op.out == 1
            if whole and mixed[a] is None:
                mixed[a] = _Mixed(self._reason(node), self._box(node.inputs[0], a))
            if isinstance(op, Mix) or mixed[a] is not None and isinstance(op, Block):
                continue  # positions stay where they are
            key = (maps[a], op, n)
            if key not in cache:
                cache[key] = maps[a].then(op.axis_map(n))
            maps[a] = cache[key]
        return _State(tuple(maps), lengths, tuple(mixed))

    def _merge(self, node: Node, ins: list[_State]) -> _State:
        broadcast = node.broadcast or ((),) * len(ins)
        if not any(broadcast) and all(m is None for s in ins for m in s.mixed):
            # the common case (a residual sum, a concatenation): the union of the branches
            maps = tuple(self._union(node, [s.maps[a] for s in ins], ins) for a in range(self.ndim))
            lengths = None
            if all(s.lengths is not None for s in ins):
                lengths = tuple(max(n) for n in zip(*(s.lengths for s in ins), strict=True))
            return _State(maps, lengths, ins[0].mixed)
        maps, mixed = [], []
        for a in range(self.ndim):
            aligned = [
                (i, s) for i, (s, b) in enumerate(zip(ins, broadcast, strict=True)) if a not in b
            ]
            spread = [(i, s) for i, (s, b) in enumerate(zip(ins, broadcast, strict=True)) if a in b]
            if not aligned:
                aligned = spread
                spread = []
            maps.append(self._union(node, [s.maps[a] for _, s in aligned], ins))
            mixed.append(self._merge_axis(node, a, aligned, spread))
        lengths = None
        if all(s.lengths is not None for s in ins):
            lengths = tuple(self._length(ins, broadcast, a) for a in range(self.ndim))
        return _State(tuple(maps), lengths, tuple(mixed))

    @staticmethod
    def _length(ins: list[_State], broadcast, a: int) -> int:
        aligned = [s.lengths[a] for s, b in zip(ins, broadcast, strict=True) if a not in b]
        return max(aligned, default=1)

    def _union(self, node: Node, maps: list[AxisMap], ins) -> AxisMap:
        if len(maps) == 1:
            return maps[0]
        try:
            return union(maps)
        except ValueError as error:
            jumps = [tuple(str(m.jump) for m in s.maps) for s in ins]
            raise ValueError(
                f"the merge {node.name!r} ({node.op}) joins branches whose units do not line up: "
                f"their jumps differ ({jumps}), so no single receptive field describes its output"
            ) from error

    def _merge_axis(self, node: Node, a: int, aligned, spread) -> _Mixed | None:
        for i, s in spread:
            if s.mixed[a] is None:
                raise ValueError(
                    f"the merge {node.name!r} ({node.op}) broadcasts {node.inputs[i]!r}, which has "
                    f"a single position along axis {a} that is not a summary of the whole axis, "
                    "onto every position: a unit would see its own pixels and those of that one "
                    "position, which is not one receptive field"
                )
        mixed = [s.mixed[a] for _, s in aligned if s.mixed[a] is not None]
        spread_mixed = [s.mixed[a] for _, s in spread]
        if not mixed and not spread_mixed:
            return None
        if spread_mixed and not mixed and node.op in _CONTRACTIONS:
            reason = spread_mixed[0].reason  # the second half of a contraction (attention)
        elif spread_mixed and not mixed:
            source = node.inputs[spread[0][0]]
            reason = (
                f"{node.name!r} ({node.op}) broadcasts {source!r}, a summary of the whole map, onto "
                f"every position (squeeze-and-excitation or global context); {spread_mixed[0].reason}"
            )
        else:
            reason = mixed[0].reason
        boxes = [m.box for m in mixed + spread_mixed]
        if any(b is None for b in boxes):
            return _Mixed(reason, None)
        box = (min(b[0] for b in boxes), max(b[1] for b in boxes))
        for i, s in aligned:
            if s.mixed[a] is None:
                extent = self.extent(node.inputs[i], a)
                if extent and (extent[0][0] < box[0] or extent[-1][1] > box[1]):
                    raise ValueError(
                        f"the merge {node.name!r} ({node.op}) joins a branch whose units all see "
                        f"pixels {box[0]}..{box[1]} along axis {a} with one that reaches beyond: "
                        "its units see different pixels, not one receptive field"
                    )
        return _Mixed(reason, box)

    def _reason(self, node: Node) -> str:
        if "pool" in node.op.lower() or node.op in _REDUCTIONS:
            what = "pools over the whole axis"
        elif node.kind == "global":
            what = "combines every position of the axis (attention, or a linear layer over it)"
        else:
            what = "mixes every position of the axis (attention, or a softmax or norm over it)"
        return f"{node.name!r} ({node.op}) {what}"

    def _box(self, name: str, a: int) -> tuple[int, int] | None:
        if self.sizes is None:
            return None
        pixels = self.extent(name, a)
        return (pixels[0][0], pixels[-1][1]) if pixels else (1, 0)

    # -- backward: exact pixel sets ---------------------------------------------------

    def extent(self, name: str, a: int) -> Intervals:
        """The input pixels along axis ``a`` that any unit of node ``name`` reads."""
        key = (name, a)
        if key not in self._extents:
            n = self.states[name].lengths[a]
            self._extents[key] = self.walk(name, a, ((0, n - 1),))
        return self._extents[key]

    def walk(self, last: str, a: int, units: Intervals) -> Intervals:
        """The real input pixels along axis ``a`` that ``units`` of node ``last`` depend on.

        Only taps on real units (not padding) are followed, so a unit next to
        the border that reads only padding carries nothing, and a dilated
        kernel's taps that step over a border pixel do not add it; padding
        that copies pixels (reflect, replicate, circular) leads back to them.
        """
        need: dict[str, Intervals] = {last: units}
        found: list[tuple[int, int]] = []
        index = [n.name for n in self.nodes].index(last)
        for node in reversed(self.nodes[: index + 1]):
            here = need.pop(node.name, None)
            if not here:
                continue
            if node.kind == "input":
                found.extend(here)
                continue
            mixed = self.states[node.name].mixed[a]
            if mixed is not None and mixed.box is not None:
                if mixed.box[0] <= mixed.box[1]:
                    found.append(mixed.box)
                continue
            op = node.axes[a] if node.axes else IDENTITY
            for i, source in enumerate(node.inputs):
                n_in = self.states[source].lengths[a]
                if node.broadcast and a in node.broadcast[i]:
                    reach: Intervals = ((0, 0),)
                elif op == IDENTITY:
                    reach = clip(here, n_in)
                else:
                    reach = op.reach(here, n_in)
                if reach:
                    need[source] = merge(need.get(source, ()) + reach)
        return merge(found)


def _propagate(nodes: list[Node], ndim: int, sizes: tuple[int, ...] | None) -> dict[str, _State]:
    return _Engine(nodes, ndim, sizes).states


def _lengths_along(nodes: list[Node], axis: int, n: int) -> bool:
    """Does an input of length ``n`` along ``axis`` get through every node?"""
    lengths: dict[str, int] = {}
    for node in nodes:
        if node.kind == "input":
            lengths[node.name] = n
            continue
        n_in = max(lengths[i] for i in node.inputs)
        op = node.axes[axis] if node.axes else IDENTITY
        try:
            lengths[node.name] = op.out_length(n_in)
        except ValueError:
            return False
    return True


def min_input_size(nodes: list[Node], axis: int = 0) -> int:
    """Smallest input length along ``axis`` that every layer of the graph accepts."""
    hi = 1
    while not _lengths_along(nodes, axis, hi):
        hi *= 2
        if hi > MAX_INPUT_LENGTH:
            raise ValueError(
                f"no input length up to rflesson's limit of {MAX_INPUT_LENGTH} pixels "
                "(rflesson.rf.MAX_INPUT_LENGTH) gets through this network"
            )
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _lengths_along(nodes, axis, mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _too_small_error(nodes: list[Node], sizes: tuple[int, ...], node: Node) -> ValueError:
    minimum = tuple(min_input_size(nodes, a) for a in range(len(sizes)))
    shown_size = sizes[0] if len(sizes) == 1 else sizes
    shown_min = minimum[0] if len(minimum) == 1 else minimum
    return ValueError(
        f"input_size={shown_size!r} is too small for this network: at {node.name!r} "
        f"({node.op}) nothing is left; the smallest input it takes is {shown_min!r}"
    )


def _too_small_from_trace(error) -> ValueError:
    """The trace stopped at a layer that got too little input: say what the smallest input is."""
    sizes = error.sizes
    shown_size = sizes[0] if len(sizes) == 1 else sizes
    if error.nodes is None:
        return ValueError(f"input_size={shown_size!r} is too small for this network: {error}")
    minimum = tuple(min_input_size(error.nodes, a) for a in range(len(sizes)))
    shown_min = minimum[0] if len(minimum) == 1 else minimum
    return ValueError(
        f"input_size={shown_size!r} is too small for this network: {error}; the smallest "
        f"input it takes is {shown_min!r}"
    )


# -- results from states ------------------------------------------------------------


def _number(x: Fraction) -> int | Fraction:
    return int(x) if x.denominator == 1 else x


def _axis_fields(m: AxisMap, mixed: _Mixed | None, n_in: int | None) -> tuple:
    if mixed is not None:
        if mixed.box is None:
            raise ValueError(
                f"every output unit sees the same pixels along an axis ({mixed.reason}), which "
                "depends on the input size: pass input_size"
            )
        lo, hi = mixed.box
        return hi - lo + 1, _number(m.jump), lo, (lo + hi) / 2
    region = m.first_region()
    if region is None:
        raise ValueError(
            "the output does not depend on the input: every output unit reads only padding "
            "or the holes a transposed convolution leaves when its kernel is smaller than "
            "its stride"
        )
    return m.size, _number(m.jump), region[0], (region[0] + region[1]) / 2


def _note(state: _State, sizes) -> tuple[bool, str]:
    reasons = list(dict.fromkeys(m.reason for m in state.mixed if m is not None))
    if not reasons:
        return False, ""
    whole = sizes is not None and all(
        m is not None and m.box == (0, n - 1) for m, n in zip(state.mixed, sizes, strict=True)
    )
    axes = [a for a, m in enumerate(state.mixed) if m is not None]
    if whole:
        head = "whole input: every output unit sees the whole input"
    else:
        head = f"mixed axes {axes}: every output unit sees the same pixels along them"
    return whole, f"{head}, because {'; '.join(reasons)}"


def _result(cls, state: _State, sizes, ndim: int, **extra):
    per_axis = [
        _axis_fields(state.maps[a], state.mixed[a], None if sizes is None else sizes[a])
        for a in range(ndim)
    ]
    cols = list(zip(*per_axis, strict=True))
    n_out = state.lengths
    if ndim == 1:
        values = [c[0] for c in cols]
        n_out = None if n_out is None else n_out[0]
    else:
        values = [tuple(c) for c in cols]
    whole, note = _note(state, sizes)
    return cls(*values, n_out=n_out, whole_input=whole, note=note, **extra)


# -- public functions ------------------------------------------------------------


def receptive_field(
    net: object, input_size: int | tuple[int, ...] | None = None, *, output: str | None = None
) -> ReceptiveField:
    """The receptive field of the network's output units.

    ``net``: a list of ``Layer`` (or of torch modules), or a ``torch.nn.Module``.
    ``input_size``: the input's spatial size (an int for every axis, or one
    length per axis); it gives ``n_out``, checks that the input is large
    enough, and is required when an operation mixes a whole axis (global
    pooling, attention): then the field is the part of the input the mixed
    map covers.  ``output``: for a module, stop at this operation (a node
    name or a module path such as ``'layer4'``).

    >>> receptive_field([Layer(3, stride=2, padding=1)] * 2)
    ReceptiveField(size=7, jump=4, start=-3, center=0, n_out=None)
    """
    graph = _graph(net, input_size, output)
    _require_spatial(graph.nodes)
    engine = _Engine(graph.nodes, graph.ndim, graph.sizes)
    return _result(ReceptiveField, engine.states[graph.nodes[-1].name], graph.sizes, graph.ndim)


def rf_table(
    net: object,
    input_size: int | tuple[int, ...] | None = None,
    *,
    include_input: bool = False,
    pointwise: bool = True,
    output: str | None = None,
    depth: int | None = None,
) -> RFTable:
    """One row per layer (or operation): the receptive field after it.

    ``include_input`` adds the input itself as a first row (size 1, jump 1),
    as in Dang Ha The Hien's tables; ``pointwise=False`` hides activations,
    norms and other operations that do not change the field; ``output``
    stops at an operation or module path, as in ``receptive_field``.

    ``depth`` folds the table to modules at that depth of the model: with
    ``depth=1`` a torchvision ResNet gives one row each for ``conv1``,
    ``bn1``, ``relu``, ``maxpool`` and ``layer1`` .. ``layer4`` (the field
    after each stage), with the module's class as ``op``.  Operations outside
    any module that deep keep their own row; every module keeps its row, even
    a pointwise one.  A layer list folds to its layers (their names).
    """
    if depth is not None:
        depth = as_int("depth", depth, minimum=0)
    include_input = as_bool("include_input", include_input)
    pointwise = as_bool("pointwise", pointwise)
    graph = _graph(net, input_size, output)
    _require_spatial(graph.nodes)
    engine = _Engine(graph.nodes, graph.ndim, graph.sizes)
    picked = _rows(graph, depth, include_input, pointwise)
    rows = [
        _result(RFRow, engine.states[node_name], graph.sizes, graph.ndim, name=name, op=op)
        for name, op, node_name in picked
    ]
    return RFTable(rows, graph.sizes is not None)


def _rows(graph: _Graph, depth: int | None, include_input: bool, pointwise: bool):
    """``(row name, op, node)`` for each row of the table."""
    rows: list[list] = []  # name, op, node, the module path it folds (None: not folded)
    for node in graph.nodes:
        if node.kind == "input":
            if include_input:
                rows.append(["input", "input", node.name, None])
            continue
        key = _fold_key(node.module, depth)
        if key is None:
            if depth is None and node.kind == "pointwise" and not pointwise:
                continue
            rows.append([node.name, node.op or node.kind, node.name, None])
        elif rows and rows[-1][3] == key:
            rows[-1][2] = node.name  # a module's field is the field of its last operation
        else:
            rows.append(
                [key or "model", graph.types.get(key, node.op or node.kind), node.name, key]
            )
    return [(name, op, node) for name, op, node, _ in rows]


def _fold_key(module: str, depth: int | None) -> str | None:
    """The module path at ``depth`` that an operation inside ``module`` folds into."""
    if depth is None:
        return None
    if depth == 0:
        return ""
    parts = module.split(".") if module else []
    return ".".join(parts[:depth]) if len(parts) >= depth else None


def _require_spatial(nodes: list[Node]) -> None:
    if not any(n.kind not in ("input", "pointwise", "merge") for n in nodes):
        raise ValueError(
            "net has no spatial layer (convolution, pooling, padding, upsampling): "
            "it has no receptive field to compute"
        )


def rf_size(
    kernels: Sequence[int], strides: Sequence[int], dilations: Sequence[int] | None = None
) -> int:
    """The article's closed form ``R = 1 + sum_j d_j (F_j - 1) prod_{i<j} S_i``.

    >>> rf_size([3, 3], [2, 2])
    7
    """
    kernels = _int_list("kernels", kernels)
    strides = _int_list("strides", strides)
    dilations = [1] * len(kernels) if dilations is None else _int_list("dilations", dilations)
    if not (len(kernels) == len(strides) == len(dilations)):
        raise ValueError(
            f"kernels, strides and dilations must have one entry per layer; got lengths "
            f"{len(kernels)}, {len(strides)}, {len(dilations)}"
        )
    if not kernels:
        raise ValueError("kernels is empty: give at least one layer")
    size, product = 1, 1
    for f, s, d in zip(kernels, strides, dilations, strict=True):
        size += d * (f - 1) * product
        product *= s
    return size


def _int_list(name: str, values: object) -> list[int]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list of ints, got {values!r}")
    return [as_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(values)]


def input_region(
    net: object,
    index: int | tuple[int, ...],
    input_size: int | tuple[int, ...] | None = None,
    *,
    output: str | None = None,
) -> Region:
    """The input box output unit ``index`` sees.

    ``index`` is an int (1-D) or a per-axis tuple.  The result's
    ``unclipped`` is ``(first, last)`` (1-D) or a tuple of such inclusive
    pairs, one per axis: the unit's full field, reaching into the padding.
    ``clipped`` (``None`` without ``input_size``) holds only the real input
    pixels the unit depends on; it is computed layer by layer, because a
    unit next to the border that reads only padding at some layer sees
    nothing through it.  Reflect, replicate and circular padding re-read
    input pixels, which are counted where they come from (see ``parts``).
    Along an axis that an operation mixes (global pooling, attention), every
    unit sees the same box.

    >>> input_region([Layer(3, stride=2, padding=1)] * 2, 0, input_size=8).clipped
    (0, 3)
    """
    graph = _graph(net, input_size, output)
    _require_spatial(graph.nodes)
    ndim, sizes = graph.ndim, graph.sizes
    engine = _Engine(graph.nodes, ndim, sizes)
    last = engine.states[graph.nodes[-1].name]
    idx = _index(index, ndim, last.lengths)
    unclipped, clipped, parts = [], [], []
    for a in range(ndim):
        mixed = last.mixed[a]
        if mixed is not None:
            _axis_fields(last.maps[a], mixed, None)  # raises the clear error without sizes
            unclipped.append(mixed.box)
            clipped.append(mixed.box)
            parts.append((mixed.box,))
            continue
        region = last.maps[a].interval(idx[a])
        unclipped.append(region if region is not None else (1, 0))
        if sizes is not None:
            pieces = engine.walk(graph.nodes[-1].name, a, ((idx[a], idx[a]),))
            parts.append(pieces)
            clipped.append((pieces[0][0], pieces[-1][1]) if pieces else (1, 0))
    if sizes is None:
        return _region(tuple(unclipped), None, None, ndim)
    return _region(tuple(unclipped), tuple(clipped), tuple(parts), ndim)


def _region(unclipped, clipped, parts, ndim: int) -> Region:
    note = ""
    if parts is not None:
        split = [a for a, p in enumerate(parts) if len(p) > 1]
        if split:
            note = (
                f"not one box: along axis {split[0]} the unit reads separate runs of pixels "
                f"{list(parts[split[0]])} (circular padding wraps around, or a stride larger "
                "than the kernel skips pixels); clipped is their bounding box"
            )
    if ndim == 1:
        return Region(
            unclipped[0],
            None if clipped is None else clipped[0],
            None if parts is None else parts[0],
            note,
        )
    return Region(unclipped, clipped, parts, note)


def _index(index: object, ndim: int, lengths) -> tuple[int, ...]:
    values = index if isinstance(index, tuple | list) else (index,)
    if len(values) not in (1, ndim):
        raise ValueError(f"index has {len(values)} axes, expected {ndim}; got {index!r}")
    idx = tuple(as_int("index", v, minimum=0) for v in values)
    idx = idx * ndim if len(idx) == 1 else idx
    if lengths is not None:
        for i, n in zip(idx, lengths, strict=True):
            if i >= n:
                raise ValueError(
                    f"index={index!r} is outside the output, whose size is "
                    f"{lengths[0] if ndim == 1 else tuple(lengths)}; allowed: 0 to n_out - 1"
                )
    return idx
