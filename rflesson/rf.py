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

With one spatial axis each field is a number; with two or more a per-axis
tuple ``(h, w[, ...])``.  A network is a list of ``Layer`` (or of torch
modules) or a ``torch.nn.Module``.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from ._validate import as_int
from .axismap import AxisMap, union
from .graph import Node, ancestors, chain, select
from .layers import Layer, Window

Number = int | Fraction | float

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

    ``whole_input`` is ``True`` when global pooling or flatten-then-linear
    lets every output unit see the whole input; then ``size`` is the input
    size and ``note`` says so.
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
    """One row of ``rf_table``: the receptive field after the operation ``name``."""

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
        return [[_fmt(getattr(r, c)) for c in self._columns] for r in self.rows]

    def __str__(self) -> str:
        cells = [self._columns, *self._cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self._columns))]
        lines = []
        for k, row in enumerate(cells):
            left = row[:2]
            right = row[2:]
            text = "  ".join(c.ljust(w) for c, w in zip(left, widths[:2], strict=True))
            text += "  " + "  ".join(c.rjust(w) for c, w in zip(right, widths[2:], strict=True))
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


@dataclass(frozen=True)
class Region:
    """The input box one output unit sees, as inclusive ``(first, last)`` index pairs.

    ``unclipped`` may reach into the padding (negative indices, or indices
    past the input's end); ``clipped`` keeps only real input pixels that
    influence the unit (``None`` without ``input_size``).  With one spatial
    axis each is a pair; with more, a tuple of pairs, one per axis.
    """

    unclipped: tuple
    clipped: tuple | None


# -- turning a network into a graph ------------------------------------------


def _layer_ndim(layers: list[Layer]) -> int:
    return max(layer.ndim for layer in layers)


def _as_graph(net: object, input_size: object, output: str | None = None):
    """Return ``(nodes, ndim, sizes)`` for a layer list or a module."""
    if isinstance(net, Layer):
        net = [net]
    if isinstance(net, list | tuple):
        if len(net) == 0:
            raise ValueError("net is empty: give at least one Layer (or a torch module)")
        if all(isinstance(x, Layer) for x in net):
            ndim = _layer_ndim(list(net))
            if ndim == 1 and isinstance(input_size, tuple | list):
                ndim = len(input_size)  # int-only layers work on any number of axes
            nodes = chain(list(net), ndim)
            return _select(nodes, output), ndim, _sizes(input_size, ndim)
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
        from .trace import trace_windows

        nodes, ndim = trace_windows(net, output, input_size)
        return nodes, ndim, _sizes(input_size, ndim)
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
    return ancestors(nodes, select(nodes, output))


def _sizes(input_size: object, ndim: int) -> tuple[int, ...] | None:
    if input_size is None:
        return None
    if isinstance(input_size, tuple | list):
        if len(input_size) not in (1, ndim):
            raise ValueError(
                f"input_size has {len(input_size)} axes, expected {ndim} (one per spatial axis) "
                f"or 1; got {tuple(input_size)!r}"
            )
        values = tuple(as_int("input_size", v, minimum=1) for v in input_size)
        return values * ndim if len(values) == 1 else values
    return (as_int("input_size", input_size, minimum=1),) * ndim


# -- propagation ---------------------------------------------------------------


@dataclass
class _State:
    maps: tuple[AxisMap, ...]  # node units -> network input interval, per axis
    steps: tuple[AxisMap, ...]  # node units -> its input node's units (one-op map)
    lengths: tuple[int, ...] | None
    whole: bool = False
    inputs: tuple[str, ...] = field(default_factory=tuple)


def _propagate(nodes: list[Node], ndim: int, sizes: tuple[int, ...] | None) -> dict[str, _State]:
    states: dict[str, _State] = {}
    for node in nodes:
        if node.kind == "input":
            ident = (AxisMap.identity(),) * ndim
            states[node.name] = _State(ident, ident, sizes)
            continue
        ins = [states[i] for i in node.inputs]
        if node.kind == "pointwise":
            s = ins[0]
            states[node.name] = _State(
                s.maps, (AxisMap.identity(),) * ndim, s.lengths, s.whole, node.inputs
            )
        elif node.kind == "merge":
            states[node.name] = _merge(node, ins, ndim)
        else:
            states[node.name] = _apply(node, ins[0], ndim, nodes, sizes)
    return states


def _apply(node: Node, s: _State, ndim: int, nodes: list[Node], sizes) -> _State:
    lengths = None
    if s.lengths is not None:
        try:
            lengths = tuple(op.out_length(n) for op, n in zip(node.axes, s.lengths, strict=True))
        except ValueError as error:
            raise _too_small_error(nodes, sizes, node) from error
    steps = tuple(
        op.axis_map(None if s.lengths is None else s.lengths[i]) for i, op in enumerate(node.axes)
    )
    maps = tuple(m.then(step) for m, step in zip(s.maps, steps, strict=True))
    whole = s.whole or node.kind == "global"
    return _State(maps, steps, lengths, whole, node.inputs)


def _merge(node: Node, ins: list[_State], ndim: int) -> _State:
    whole = any(s.whole for s in ins)
    spatial = [s for s in ins if not s.whole] or ins
    lengths = None
    if all(s.lengths is not None for s in ins):
        full = [s.lengths for s in spatial]
        if len(set(full)) > 1:
            raise ValueError(
                f"the merge {node.name!r} ({node.op}) joins branches of different spatial sizes "
                f"{[tuple(x) for x in full]}"
            )
        lengths = full[0]
        for s in ins:
            if s.lengths != lengths and not (s.whole and all(n == 1 for n in s.lengths)):
                raise ValueError(
                    f"the merge {node.name!r} ({node.op}) joins branches of different spatial "
                    f"sizes {[tuple(x.lengths) for x in ins]}"
                )
    try:
        maps = tuple(union(s.maps[a] for s in spatial) for a in range(ndim))
    except ValueError as error:
        jumps = [tuple(str(m.jump) for m in s.maps) for s in spatial]
        raise ValueError(
            f"the merge {node.name!r} ({node.op}) joins branches whose units do not line up: "
            f"their jumps differ ({jumps}), so no single receptive field describes its output"
        ) from error
    return _State(maps, (AxisMap.identity(),) * ndim, lengths, whole, node.inputs)


def _lengths_along(nodes: list[Node], axis: int, n: int) -> bool:
    """Does an input of length ``n`` along ``axis`` get through every node?"""
    lengths: dict[str, int] = {}
    for node in nodes:
        if node.kind == "input":
            lengths[node.name] = n
        elif node.kind in ("pointwise", "merge"):
            lengths[node.name] = lengths[node.inputs[0]]
        else:
            try:
                lengths[node.name] = node.axes[axis].out_length(lengths[node.inputs[0]])
            except ValueError:
                return False
    return True


def min_input_size(nodes: list[Node], axis: int = 0) -> int:
    """Smallest input length along ``axis`` that every layer of the graph accepts."""
    hi = 1
    while not _lengths_along(nodes, axis, hi):
        hi *= 2
        if hi > 1 << 24:
            raise ValueError("no input length up to 2**24 gets through this network")
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
    shown_size = sizes[0] if len(set(sizes)) == 1 and len(sizes) == 1 else sizes
    shown_min = minimum[0] if len(minimum) == 1 else minimum
    return ValueError(
        f"input_size={shown_size!r} is too small for this network: at {node.name!r} "
        f"({node.op}) nothing is left; the smallest input it takes is {shown_min!r}"
    )


# -- public functions ------------------------------------------------------------


def _number(x: Fraction) -> int | Fraction:
    return int(x) if x.denominator == 1 else x


def _axis_fields(m: AxisMap, whole: bool, n_in: int | None) -> tuple:
    if whole:
        return n_in, _number(m.jump), 0, (n_in - 1) / 2
    region = m.first_region()
    size = m.size
    if region is None:
        raise ValueError(
            "the output does not depend on the input: every output unit reads only padding "
            "or the holes a transposed convolution leaves when its kernel is smaller than "
            "its stride"
        )
    return size, _number(m.jump), region[0], (region[0] + region[1]) / 2


def _result(cls, state: _State, sizes, ndim: int, **extra):
    if state.whole and sizes is None:
        raise ValueError(
            "this network ends in global pooling or flatten: every output unit sees the whole "
            "input, so the receptive field is the input size; pass input_size"
        )
    per_axis = [
        _axis_fields(state.maps[a], state.whole, None if sizes is None else sizes[a])
        for a in range(ndim)
    ]
    cols = list(zip(*per_axis, strict=True))
    n_out = state.lengths
    if ndim == 1:
        values = [c[0] for c in cols]
        n_out = None if n_out is None else n_out[0]
    else:
        values = [tuple(c) for c in cols]
    note = ""
    if state.whole:
        note = "global pooling or flatten: every output unit sees the whole input"
    return cls(*values, n_out=n_out, whole_input=state.whole, note=note, **extra)


def receptive_field(
    net: object, input_size: int | tuple[int, ...] | None = None, *, output: str | None = None
) -> ReceptiveField:
    """The receptive field of the network's output units.

    ``net``: a list of ``Layer`` (or of torch modules), or a ``torch.nn.Module``.
    ``input_size``: the input's spatial size (an int for every axis, or per
    axis); it gives ``n_out``, checks that the input is large enough, and is
    required when global pooling or flatten makes the field the whole input.
    ``output``: for a module, stop at this operation (a node name or a
    module path such as ``'layer4'``).

    >>> receptive_field([Layer(3, stride=2, padding=1)] * 2)
    ReceptiveField(size=7, jump=4, start=-3, center=0, n_out=None)
    """
    nodes, ndim, sizes = _as_graph(net, input_size, output)
    _require_spatial(nodes)
    states = _propagate(nodes, ndim, sizes)
    return _result(ReceptiveField, states[nodes[-1].name], sizes, ndim)


def rf_table(
    net: object,
    input_size: int | tuple[int, ...] | None = None,
    *,
    include_input: bool = False,
    pointwise: bool = True,
    output: str | None = None,
) -> RFTable:
    """One row per layer (or operation): the receptive field after it.

    ``include_input`` adds the input itself as a first row (size 1, jump 1),
    as in Dang Ha The Hien's tables; ``pointwise=False`` hides activations,
    norms and other operations that do not change the field; ``output``
    stops at an operation or module path, as in ``receptive_field``.
    """
    nodes, ndim, sizes = _as_graph(net, input_size, output)
    _require_spatial(nodes)
    states = _propagate(nodes, ndim, sizes)
    rows = []
    for node in nodes:
        if node.kind == "input" and not include_input:
            continue
        if node.kind == "pointwise" and not pointwise:
            continue
        state = states[node.name]
        if state.whole and sizes is None:
            _result(RFRow, state, sizes, ndim)  # raises the clear error
        rows.append(_result(RFRow, state, sizes, ndim, name=node.name, op=node.op or node.kind))
    return RFTable(rows, sizes is not None)


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
    nothing through it.  Reflect and replicate padding re-read border
    pixels, which lie inside the box already.

    >>> input_region([Layer(3, stride=2, padding=1)] * 2, 0, input_size=8).clipped
    (0, 3)
    """
    nodes, ndim, sizes = _as_graph(net, input_size, output)
    _require_spatial(nodes)
    states = _propagate(nodes, ndim, sizes)
    last = states[nodes[-1].name]
    idx = _index(index, ndim, last.lengths)
    if last.whole:
        if sizes is None:
            _result(ReceptiveField, last, sizes, ndim)  # raises the clear error
        box = tuple((0, n - 1) for n in sizes)
        return _region(box, box, ndim)
    unclipped = []
    for a in range(ndim):
        region = last.maps[a].interval(idx[a])
        unclipped.append(region if region is not None else (1, 0))
    clipped = None if sizes is None else _clipped(nodes, states, idx, ndim)
    return _region(tuple(unclipped), clipped, ndim)


def _region(unclipped, clipped, ndim: int) -> Region:
    if ndim == 1:
        return Region(unclipped[0], None if clipped is None else clipped[0])
    return Region(unclipped, clipped)


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


def _clipped(nodes: list[Node], states: dict[str, _State], idx, ndim: int):
    """Walk back from the output, keeping the exact set of units that matter.

    At each node only taps on real units (not padding) are followed, so a
    unit next to the border that reads only padding carries nothing, and a
    dilated kernel's taps that step over a border pixel do not add it.  The
    sets are per axis: every operation acts on each axis separately.
    """
    boxes = []
    for a in range(ndim):
        need: dict[str, set[int]] = {nodes[-1].name: {idx[a]}}
        for node in reversed(nodes):
            units = need.pop(node.name, None)
            if not units or node.kind == "input":
                if units:
                    need[node.name] = units
                continue
            n = states[node.name].lengths[a]
            for name in node.inputs:
                n_in = states[name].lengths[a]
                if node.kind in ("pointwise", "merge"):
                    reach = {0} if n_in == 1 and n > 1 else units
                else:
                    reach = _reach(node.axes[a], units, n_in)
                need.setdefault(name, set()).update(reach)
        seen = need.get(nodes[0].name)
        boxes.append((min(seen), max(seen)) if seen else (1, 0))
    return tuple(boxes)


def _reach(op, units: set[int], n_in: int) -> set[int]:
    """The real input units (not padding) that ``units`` of ``op`` read."""
    first, last = min(units), max(units)
    if (
        isinstance(op, Window)
        and op.dilation == 1
        and op.stride <= op.kernel
        and last - first + 1 == len(units)
    ):  # a run of windows without holes reads a run of inputs
        lo = max(0, first * op.stride - op.pad_before)
        hi = min(n_in - 1, last * op.stride - op.pad_before + op.kernel - 1)
        return set(range(lo, hi + 1))
    return {t for u in units for t in op.taps(u, n_in) if 0 <= t < n_in}
