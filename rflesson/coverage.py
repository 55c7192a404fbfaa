"""Coverage maps: how many paths join one output unit to each input pixel.

The receptive field (RF) says *which box* of the input an output unit can
see.  It does not say whether every pixel inside the box is really read:
a stack of dilated convolutions whose rates share a factor reads only a
lattice of pixels and skips the rest (the *gridding* artefact).  Counting
paths shows it: for the central output unit, ``coverage`` returns, for every
input position inside its RF, the number of distinct chains of kernel taps
that lead from the unit down to that position.  A zero inside the RF is a
hole: no weight of the network can ever let that pixel influence the unit.

With all weights equal to one, all biases zero and every pooling replaced by
a sum of the same geometry, the input gradient of the central unit is
exactly this count; the tests check that.

The counting walks the same graph of window operations as the RF engine
(``rflesson.graph.chain`` for layer lists, ``rflesson.trace.trace_windows``
for modules), from the output back to the input, one spatial axis at a
time.  The box it is reported on comes from the engine's ``input_region``.

>>> from rflesson import Layer
>>> coverage([Layer(3, dilation=2), Layer(3, dilation=2)]).tolist()
[1, 0, 2, 0, 3, 0, 2, 0, 1]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .graph import Node, chain
from .layers import Layer, Window
from .rf import ReceptiveField, input_region, receptive_field

#: Counts above this switch from int64 to exact Python integers.
_INT64_SAFE = 2**62

#: Limits that keep one call within seconds and well under 2 GB; read at each call,
#: so raise one if you need more.  ``rflesson.coverage`` is the function, so reach the
#: module through ``sys.modules["rflesson.coverage"].MAX_CELLS = 2**26``.
#: The most positions in the RF box (the product of its lengths), and so in any count array.
MAX_CELLS = 2**24
#: The most cell updates over the whole count (a few seconds).  An exact Python
#: integer (a count beyond 2**62, in deep stacks) costs more, growing with its digits.
MAX_WORK = 2**31
#: The most layers in a list of layers (the RF engine's own walk grows with the depth).
MAX_LAYERS = 4096


@dataclass(frozen=True)
class CoverageMap:
    """The path counts of one output unit over its receptive field.

    ``counts[i]`` (or ``counts[i, j]``) is the number of paths from output
    unit ``unit`` to input position ``origin + i`` (per axis).  The array
    spans the unit's RF box; with an ``input_size`` the box is cut to the
    input, because positions in the padding are not input pixels.
    """

    counts: np.ndarray
    origin: tuple[int, ...]  # input index of counts[0, ...], per axis
    unit: tuple[int, ...]  # the output unit, per axis
    rf: ReceptiveField  # the engine's receptive field of the network

    @property
    def hole_mask(self) -> np.ndarray:
        """True where a position inside the RF box has no path at all."""
        return self.counts == 0

    @property
    def holes(self) -> int:
        """Number of positions inside the RF box that no path reaches."""
        return int(np.count_nonzero(self.hole_mask))

    @property
    def covered_fraction(self) -> float:
        """Share of the RF box that at least one path reaches (1.0: no holes)."""
        return 1.0 - self.holes / self.counts.size

    def hole_positions(self) -> list[tuple[int, ...]]:
        """Input coordinates of the holes (one tuple per hole, per axis)."""
        return [
            tuple(int(i) + o for i, o in zip(index, self.origin, strict=True))
            for index in np.argwhere(self.hole_mask)
        ]


def coverage(net: object, input_size: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Paths from the central output unit to each input position inside its RF.

    ``net`` is a list of ``rflesson.Layer`` or a ``torch.nn.Module``.  The
    result is an int array: 1-D for a 1-D network, 2-D for a 2-D one, over
    the RF box of the unit.  Zeros inside it are holes (gridding).  Counts
    are exact: ``int64``, or Python integers (``dtype=object``) once they
    could pass 2**62 (deep 2-D stacks).

    Limits (module constants; raise them if you need more): a list of at
    most ``MAX_LAYERS`` (4096) layers and an RF box of at most ``MAX_CELLS``
    (2**24) positions, both refused at once, and at most ``MAX_WORK`` (2**31)
    cell updates in all (deep networks with huge counts), refused when the
    count gets there.  ``ValueError`` names the limit.

    Without ``input_size`` the input is unbounded and every unit is alike
    (after upsampling or a transposed convolution, alike within its phase);
    output unit 0 is used.  The box is the engine's ``input_region`` of the
    unit, so after upsampling it can be smaller than ``receptive_field``'s
    size, which is the largest over the phases.  With ``input_size`` the unit is the central one
    (index ``(n_out - 1) // 2`` per axis), paths that run through zero
    padding are dropped, and the box is cut to the input.

    >>> coverage([Layer(3), Layer(3)]).tolist()
    [1, 2, 3, 2, 1]
    """
    return coverage_map(net, input_size).counts


def coverage_map(net: object, input_size: int | tuple[int, ...] | None = None) -> CoverageMap:
    """Like :func:`coverage`, with where the array lies and which unit it belongs to."""
    if isinstance(net, list | tuple) and len(net) > MAX_LAYERS:
        raise ValueError(
            f"net has {len(net):,} layers, more than MAX_LAYERS = {MAX_LAYERS:,} "
            f"(module rflesson.coverage); raise the limit if you need more"
        )
    rf = receptive_field(net, input_size)
    ndim = len(rf.size) if isinstance(rf.size, tuple) else 1
    nodes = _graph(net, input_size, ndim)
    sizes = _sizes(input_size, ndim)
    if sizes is None:
        unit = (0,) * ndim
    else:
        n_out = rf.n_out if isinstance(rf.n_out, tuple) else (rf.n_out,)
        unit = tuple((n - 1) // 2 for n in n_out)
    region = input_region(net, unit if ndim > 1 else unit[0], input_size)
    box = region.unclipped if ndim > 1 else (region.unclipped,)
    if sizes is not None:
        box = tuple((max(lo, 0), min(hi, n - 1)) for (lo, hi), n in zip(box, sizes, strict=True))
    _check_cells(math.prod(max(hi - lo + 1, 0) for lo, hi in box))
    counts, offset = _count_paths(nodes, ndim, sizes, unit, _Budget(MAX_WORK))
    return CoverageMap(_place(counts, offset, box), tuple(lo for lo, _ in box), unit, rf)


# -- the graph ------------------------------------------------------------------------


def _graph(net: object, input_size: object, ndim: int) -> list[Node]:
    """The window-operation graph the RF engine walks for ``net``."""
    if isinstance(net, Layer):
        net = [net]
    if isinstance(net, list | tuple) and all(isinstance(x, Layer) for x in net):
        return chain(list(net), ndim)
    import torch.nn as nn

    from .trace import trace_windows

    if isinstance(net, list | tuple):
        net = nn.Sequential(*net)
    nodes, _ = trace_windows(net, None, input_size)
    return nodes


def _sizes(input_size: object, ndim: int) -> tuple[int, ...] | None:
    """Input size per axis (already validated by ``receptive_field``)."""
    if input_size is None:
        return None
    if isinstance(input_size, tuple | list):
        return tuple(input_size) * (ndim if len(input_size) == 1 else 1)
    return (int(input_size),) * ndim


def _lengths(nodes: list[Node], sizes: tuple[int, ...] | None) -> dict[str, tuple | None]:
    """Length of every node's output along each axis (None when the input is unbounded)."""
    lengths: dict[str, tuple | None] = {}
    for node in nodes:
        if sizes is None:
            lengths[node.name] = None
        elif node.kind == "input":
            lengths[node.name] = sizes
        elif node.kind in ("pointwise", "merge"):
            ins = [lengths[i] for i in node.inputs]
            lengths[node.name] = tuple(max(axis) for axis in zip(*ins, strict=True))
        else:
            n_in = lengths[node.inputs[0]]
            lengths[node.name] = tuple(
                op.out_length(n) for op, n in zip(node.axes, n_in, strict=True)
            )
    return lengths


# -- limits --------------------------------------------------------------------------------


def _check_cells(cells: int) -> None:
    if cells > MAX_CELLS:
        raise ValueError(
            f"the count would cover {cells:,} positions, more than MAX_CELLS = {MAX_CELLS:,} "
            f"(module rflesson.coverage; an RF box that large needs gigabytes); use a "
            f"smaller network or input_size, or raise the limit"
        )


class _Budget:
    """The cell updates a count may still spend (``MAX_WORK``), charged before each step."""

    def __init__(self, work: int) -> None:
        self.left = work

    def charge(self, counts: np.ndarray, cells: int, passes: int = 1) -> None:
        """Pay for ``passes`` passes over an array of ``cells`` cells of ``counts``' kind."""
        _check_cells(cells)
        self.left -= cells * passes * _cell_cost(counts)
        if self.left < 0:
            raise ValueError(
                f"counting these paths takes more than MAX_WORK = {MAX_WORK:,} cell updates "
                f"(module rflesson.coverage; a deep network with a large RF box); use a "
                f"shallower network or a smaller input_size, or raise the limit"
            )


def _cell_cost(counts: np.ndarray) -> int:
    """Cost of one update: 1 for int64; for Python integers, more as their digits grow."""
    if counts.dtype != object or counts.size == 0:
        return 1
    return 100 + int(counts.max()).bit_length() // 8


# -- counting, from the output back to the input ---------------------------------------


def _count_paths(
    nodes: list[Node],
    ndim: int,
    sizes: tuple[int, ...] | None,
    unit: tuple[int, ...],
    budget: _Budget,
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Path counts at the network input, as an array and the index of its first entry."""
    lengths = _lengths(nodes, sizes)
    pending: dict[str, tuple[np.ndarray, tuple[int, ...]]] = {
        nodes[-1].name: (np.ones((1,) * ndim, dtype=np.int64), unit)
    }
    for node in reversed(nodes):
        if node.name not in pending:
            continue  # nothing from the output unit reaches this node
        counts, offset = pending.pop(node.name)
        if node.kind == "input":
            return counts, offset
        for source in node.inputs:
            moved = _backward(node, counts, offset, lengths[source], lengths[node.name], budget)
            if moved is not None:
                _accumulate(pending, source, *moved)
    return np.zeros((0,) * ndim, dtype=np.int64), (0,) * ndim


def _backward(node: Node, counts, offset, n_in, n_out, budget: _Budget):
    """Counts at one input of ``node``, given the counts at its output."""
    if node.kind in ("pointwise", "merge"):
        if n_in is not None:  # a length-1 input broadcasts: every unit reads its unit 0
            for axis, (a, b) in enumerate(zip(n_in, n_out, strict=True)):
                if a == 1 and b > 1:
                    counts = counts.sum(axis=axis, keepdims=True)
                    offset = offset[:axis] + (0,) + offset[axis + 1 :]
        return counts, offset
    offset = list(offset)
    for axis, op in enumerate(node.axes):
        n = None if n_in is None else n_in[axis]
        if isinstance(op, Window):
            counts, offset[axis] = _window_back(op, counts, offset[axis], axis, budget)
        else:
            counts, offset[axis] = _taps_back(op, counts, offset[axis], axis, n, budget)
        if n is not None:  # taps outside the input of this node read zero padding
            counts, offset[axis] = _crop(counts, offset[axis], axis, 0, n - 1)
        if counts.shape[axis] == 0:
            return None
    return counts, tuple(offset)


def _widen(counts: np.ndarray, per_unit: int) -> np.ndarray:
    """Switch to exact Python integers before a step could overflow int64."""
    if counts.dtype != object and counts.size and int(counts.max()) * per_unit > _INT64_SAFE:
        return counts.astype(object)
    return counts


def _window_back(op: Window, counts: np.ndarray, first: int, axis: int, budget: _Budget):
    """A sliding window: unit ``u`` reads ``u*s - p + d*t`` for ``t < k``.

    Position ``i`` collects the units whose taps land on it.  Spread the
    units out at the stride (zeros between), then each position sums ``k``
    entries spaced ``d`` apart: a running sum along every ``d``-th entry,
    minus the same running sum ``k`` entries earlier.  The cost does not
    grow with the kernel size.
    """
    units = counts.shape[axis]
    counts = _widen(counts, max(op.kernel, units))  # the running sums reach sum(counts)
    length = (units - 1) * op.stride + op.span
    budget.charge(counts, counts.size // max(units, 1) * length, passes=3)
    moved = np.moveaxis(counts, axis, 0)
    spread = np.zeros((length,) + moved.shape[1:], dtype=counts.dtype)
    spread[0 : (units - 1) * op.stride + 1 : op.stride] = moved
    out = np.empty_like(spread)
    for residue in range(min(op.dilation, length)):
        running = np.cumsum(spread[residue :: op.dilation], axis=0, dtype=counts.dtype)
        running[op.kernel :] -= running[: -op.kernel].copy()
        out[residue :: op.dilation] = running
    return np.moveaxis(out, 0, axis), first * op.stride - op.pad_before


def _taps_back(op, counts: np.ndarray, first: int, axis: int, n: int | None, budget: _Budget):
    """Any other axis operation, through its ``taps``: a small 0/1 matrix."""
    budget.charge(counts, counts.size)
    units = range(first, first + counts.shape[axis])
    taps = [op.taps(u, n) for u in units]
    flat = [t for ts in taps for t in ts]
    if not flat:
        return np.zeros(counts.shape[:axis] + (0,) + counts.shape[axis + 1 :], int), 0
    lo, hi = min(flat), max(flat)
    matrix = np.zeros((hi - lo + 1, len(taps)), dtype=np.int64)
    for j, ts in enumerate(taps):
        for t in ts:
            matrix[t - lo, j] += 1
    counts = _widen(counts, int(matrix.sum(axis=1).max()))
    if counts.dtype == object:
        matrix = matrix.astype(object)
    out = np.tensordot(matrix, counts, axes=([1], [axis]))
    return np.moveaxis(out, 0, axis), lo


def _crop(counts: np.ndarray, first: int, axis: int, lo: int, hi: int):
    """Keep the entries whose index lies in ``[lo, hi]`` along ``axis``."""
    a = max(lo - first, 0)
    b = min(hi - first + 1, counts.shape[axis])
    index = [slice(None)] * counts.ndim
    index[axis] = slice(a, max(a, b))
    return counts[tuple(index)], first + a


def _accumulate(pending: dict, name: str, counts: np.ndarray, offset: tuple[int, ...]) -> None:
    """Add a box of counts into the counts already waiting at node ``name``."""
    if name not in pending:
        pending[name] = (counts, offset)
        return
    old, old_offset = pending[name]
    lo = tuple(min(a, b) for a, b in zip(offset, old_offset, strict=True))
    hi = tuple(
        max(a + n, b + m)
        for a, n, b, m in zip(offset, counts.shape, old_offset, old.shape, strict=True)
    )
    dtype = object if object in (counts.dtype, old.dtype) else np.int64
    total = np.zeros(tuple(h - low for h, low in zip(hi, lo, strict=True)), dtype=dtype)
    for part, at in ((old, old_offset), (counts, offset)):
        total[
            tuple(slice(a - low, a - low + n) for a, low, n in zip(at, lo, part.shape, strict=True))
        ] += part
    if dtype is not object and total.size and int(total.max()) > _INT64_SAFE:
        total = total.astype(object)
    pending[name] = (total, lo)


def _place(counts: np.ndarray, offset: tuple[int, ...], box) -> np.ndarray:
    """Put the counts on the RF box; nothing may fall outside it."""
    shape = tuple(max(hi - lo + 1, 0) for lo, hi in box)
    out = np.zeros(shape, dtype=counts.dtype if counts.dtype == object else np.int64)
    inside = counts
    for axis, (lo, hi) in enumerate(box):
        inside, _ = _crop(inside, offset[axis], axis, lo, hi)
    if inside.sum() != counts.sum():
        raise RuntimeError(
            "coverage found paths outside the receptive-field box the engine reports; "
            "this is a bug in rflesson, please report it with the network"
        )
    starts = [max(o, lo) - lo for o, (lo, _) in zip(offset, box, strict=True)]
    out[tuple(slice(s, s + n) for s, n in zip(starts, inside.shape, strict=True))] = inside
    return out
