"""Where the positions are: which dimension of a traced tensor holds which spatial axis.

A network's input ``(N, C, H, W)`` holds the spatial axes 0 (``H``) and 1
(``W``) in its last two dimensions.  Reshapes, views, ``flatten``,
``permute`` and ``transpose`` move them around: a vision transformer
flattens ``H x W`` into one token dimension, ConvNeXt moves channels last,
ShuffleNet splits the channels into groups, Swin cuts each axis into
windows.  ``rf.trace`` follows every such move with a *layout*: one ``Dim``
per tensor dimension, each a row-major product of *factors*:

* ``Factor(axis, size, stride)``: a digit of spatial ``axis``: position
  ``p`` along the axis has digit ``(p // stride) % size`` here.  A whole
  axis is one factor with stride 1.  Cutting ``W = 56`` into windows of 7
  gives ``Factor(1, 8, 7)`` (which window) and ``Factor(1, 7, 1)`` (where
  in it);
* ``Factor(-1, size, 0)``: anything that is not a position (batch,
  channels, heads).

A ``Dim`` may also carry entries that are not positions at all before or
after its factors (a vision transformer's class token), and may be a
*broadcast* of one value (``expand``).  With this, a reshape keeps
positions exactly when it only regroups digits, and an operation that
reduces or mixes a dimension mixes exactly the digits it holds.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

OTHER = -1  # the axis of a factor that is not a position


class Factor(NamedTuple):
    axis: int  # spatial axis, or OTHER
    size: int
    stride: int = 1  # positions per step of this digit (0 for OTHER)


class Dim(NamedTuple):
    size: int
    factors: tuple[Factor, ...] = ()
    before: int = 0  # entries before the factors that are not positions (a class token)
    after: int = 0
    broadcast: bool = False  # an expanded size-1 dimension: one value at every index


Layout = tuple[Dim, ...]


class LayoutError(ValueError):
    """A reshape or indexing whose effect on positions cannot be described."""


# -- building dims --------------------------------------------------------------------


def other(size: int) -> Dim:
    """A dimension that holds no positions (batch, channels)."""
    return Dim(size, (Factor(OTHER, size, 0),) if size > 1 else ())


def spatial(axis: int, length: int) -> Dim:
    """A dimension that holds one whole spatial axis."""
    return Dim(length, (Factor(axis, length, 1),))


def input_layout(channels: int, lengths: tuple[int, ...]) -> Layout:
    """``(1, C, *lengths)``: batch, channels, then the spatial axes in order."""
    return (other(1), other(channels), *(spatial(a, n) for a, n in enumerate(lengths)))


@lru_cache(maxsize=4096)
def shape(layout: Layout) -> tuple[int, ...]:
    return tuple(d.size for d in layout)


# -- reading dims ------------------------------------------------------------------------


def is_plain(dim: Dim) -> bool:
    """No extra entries and no broadcast: its factors describe every index."""
    return dim.before == 0 and dim.after == 0 and not dim.broadcast


@lru_cache(maxsize=4096)
def digits(dim: Dim) -> tuple[Factor, ...]:
    """The spatial factors of ``dim`` that carry information (size above 1)."""
    return tuple(f for f in dim.factors if f.axis != OTHER and f.size > 1)


@lru_cache(maxsize=4096)
def axes_in(layout: Layout) -> frozenset[int]:
    """Spatial axes with at least one digit somewhere in ``layout``."""
    return frozenset(f.axis for d in layout for f in digits(d))


def whole_axis(dim: Dim, lengths: tuple[int, ...]) -> int | None:
    """The axis ``dim`` holds whole and alone, ``None`` if it holds none; else ``LayoutError``."""
    if not is_plain(dim):
        if dim.broadcast and not digits(dim):
            return None
        raise LayoutError("it holds a class token or a broadcast besides positions")
    spatial_digits = digits(dim)
    others = [f for f in dim.factors if f.axis == OTHER]
    if not spatial_digits:
        if others:
            return None
        markers = [f.axis for f in dim.factors if f.axis != OTHER]
        return markers[0] if len(markers) == 1 else None
    if len(spatial_digits) == 1 and not others:
        f = spatial_digits[0]
        if f.stride == 1 and f.size == lengths[f.axis]:
            return f.axis
    raise LayoutError(f"it holds {describe(dim)}, not one whole spatial axis")


def describe(dim: Dim) -> str:
    """A short description of what a dimension holds, for error messages."""
    parts = []
    for f in dim.factors:
        if f.axis == OTHER:
            parts.append(f"{f.size} non-spatial")
        elif f.stride == 1:
            parts.append(f"axis {f.axis} ({f.size} positions)")
        else:
            parts.append(f"axis {f.axis} in steps of {f.stride} ({f.size} steps)")
    if dim.before or dim.after:
        parts.append(f"{dim.before + dim.after} extra entries")
    return " x ".join(parts) or "nothing"


# -- normalising and reshaping -----------------------------------------------------------


def _join(factors: list[Factor]) -> tuple[Factor, ...]:
    """Merge neighbouring digits of the same axis and neighbouring non-spatial factors."""
    out: list[Factor] = []
    for f in factors:
        if f.axis == OTHER and f.size == 1:
            continue
        if out:
            last = out[-1]
            if f.axis == OTHER and last.axis == OTHER:
                out[-1] = Factor(OTHER, last.size * f.size, 0)
                continue
            if (
                f.axis == last.axis != OTHER
                and f.size > 1
                and last.size > 1
                and last.stride == f.stride * f.size
            ):
                out[-1] = Factor(f.axis, last.size * f.size, f.stride)
                continue
        out.append(f)
    return tuple(out)


def make_dim(factors: list[Factor], size: int) -> Dim:
    return Dim(size, _join(factors))


def reshape(layout: Layout, new_shape: tuple[int, ...]) -> Layout:
    """The layout after ``view``/``reshape`` to ``new_shape`` (``-1`` already resolved).

    The digits of all dimensions, most significant first, are dealt out to
    the new dimensions in order; a digit is cut in two when a new dimension
    needs only part of it.  Raises ``LayoutError`` when a new dimension
    would need a piece of a digit that does not divide it, or would merge a
    class token or a broadcast with other dimensions.
    """
    items: list = []  # Factor, or an opaque Dim (extras or broadcast) kept whole
    for dim in layout:
        if is_plain(dim):
            items.extend(f for f in dim.factors if not (f.axis == OTHER and f.size == 1))
        else:
            items.append(dim)
    out: list[Dim] = []
    for size in new_shape:
        if items and isinstance(items[0], Dim):
            opaque = items.pop(0)
            if opaque.size != size:
                raise LayoutError(
                    f"a reshape would cut or merge a dimension that holds {describe(opaque)}"
                )
            out.append(opaque)
            continue
        taken: list[Factor] = []
        need = size
        while need > 1:
            if not items or isinstance(items[0], Dim):
                raise LayoutError("a reshape would merge a class token or broadcast into others")
            f = items.pop(0)
            if need % f.size == 0:
                taken.append(f)
                need //= f.size
            elif f.size % need == 0:
                inner = f.size // need
                outer_stride = f.stride * inner if f.axis != OTHER else 0
                taken.append(Factor(f.axis, need, outer_stride))
                items.insert(0, Factor(f.axis, inner, f.stride))
                need = 1
            else:
                raise LayoutError(
                    f"a reshape to {tuple(new_shape)} would cut a dimension of {f.size} into "
                    f"pieces of {need}"
                )
        while size == 1 and items and isinstance(items[0], Factor) and items[0].size == 1:
            taken.append(items.pop(0))  # keep an axis of length 1 where the new size-1 dim is
            break
        out.append(make_dim(taken, size))
    leftover = [f for f in items if isinstance(f, Factor) and f.size == 1]
    if leftover and out:  # axes of length 1 left over: keep them in the last dimension
        last = out[-1]
        out[-1] = Dim(last.size, last.factors + tuple(leftover), last.before, last.after)
    if any(isinstance(f, Dim) or f.size > 1 for f in items):
        raise LayoutError(f"a reshape to {tuple(new_shape)} does not use every element")
    return tuple(out)


def permute(layout: Layout, order: tuple[int, ...]) -> Layout:
    return tuple(layout[i] for i in order)


def normalize_dim(d: int, rank: int) -> int:
    if not -rank <= d < max(rank, 1):
        raise LayoutError(f"dim={d} is out of range for a tensor with {rank} dimensions")
    return d % rank if rank else 0


def rescale(layout: Layout, axis: int, factor: int) -> Layout:
    """Divide the strides of ``axis`` by ``factor``: its lowest digits were pooled away."""
    out = []
    for d in layout:
        factors = tuple(
            Factor(f.axis, f.size, f.stride // factor) if f.axis == axis else f for f in d.factors
        )
        out.append(d._replace(factors=factors))
    return tuple(out)


def without_axes(dim: Dim, axes: set[int]) -> Dim:
    """``dim`` with the digits of ``axes`` turned into non-spatial factors of the same size."""
    if not axes:
        return dim
    factors = [Factor(OTHER, f.size, 0) if f.axis in axes else f for f in dim.factors]
    return dim._replace(factors=_join(factors))
