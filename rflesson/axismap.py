"""Which input interval each output unit reads, along one axis, exactly.

An ``AxisMap`` answers, for every output index ``u`` of some layer (or of a
whole network), "which input indices ``[lo(u), hi(u)]`` can influence unit
``u``?".  The indices are *unclipped*: negative ones, or ones past the end,
lie in the padding.

For a convolution or pooling layer (kernel ``k``, stride ``s``, dilation
``d``, padding ``p`` before) the map is affine:

    lo(u) = s u - p,        hi(u) = s u - p + d (k - 1).

Transposed convolutions and upsampling are not affine: units of different
*phases* (``u mod s``) read differently many inputs.  Every layer we meet,
however, is *periodic*: moving ``period`` units to the right moves the
interval ``shift`` inputs to the right,

    lo(u + period) = lo(u) + shift,    hi(u + period) = hi(u) + shift,

so the map is stored as one period of ``lo`` and ``hi``.  Such maps compose
(stacking layers) and unite (branches that merge) without approximation, and
the jump (effective stride) is the exact fraction ``shift / period``.

A phase may read nothing at all (a transposed convolution whose kernel is
smaller than its stride); it is stored with ``lo > hi``.

A map may also be *constant* (``shift`` 0): every unit reads the same
interval, as after an operation that mixes a whole axis.

The module ends with small helpers for *interval sets* (sorted, disjoint
``(first, last)`` pairs): the exact set of input pixels some units depend on,
which ``rflesson.rf`` walks back through the network without listing every
pixel, so that a 10**9-pixel input costs no more than a small one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

MAX_PERIOD = 1 << 20  # documented limit: units per period of a map (see AxisMap)


def _lcm(a: int, b: int) -> int:
    return a * b // gcd(a, b)


def _check_period(period: int) -> None:
    if period > MAX_PERIOD:
        raise ValueError(
            f"the network's geometry repeats only every {period} output units, beyond "
            f"rflesson's limit of {MAX_PERIOD} (rflesson.axismap.MAX_PERIOD): resampling "
            "factors whose numerators and denominators share no factor multiply their periods"
        )


@dataclass(frozen=True)
class AxisMap:
    """A periodic map from output index to the input interval it reads."""

    period: int
    shift: int
    lo: tuple[int, ...]
    hi: tuple[int, ...]

    # -- construction ---------------------------------------------------------

    @staticmethod
    def identity() -> AxisMap:
        """Each unit reads the input index equal to its own."""
        return AxisMap(1, 1, (0,), (0,))

    @staticmethod
    def affine(stride: int, first: int, last: int) -> AxisMap:
        """Unit ``u`` reads ``[stride u + first, stride u + last]``."""
        return AxisMap(1, stride, (first,), (last,))

    @staticmethod
    def from_taps(taps: Callable[[int], Iterable[int]], period: int, shift: int) -> AxisMap:
        """Build the map from the input indices each unit of one period reads."""
        _check_period(period)
        lo: list[int] = []
        hi: list[int] = []
        for r in range(period):
            read = list(taps(r))
            if read:
                lo.append(min(read))
                hi.append(max(read))
            else:
                lo.append(1)
                hi.append(0)
        return AxisMap(period, shift, tuple(lo), tuple(hi)).reduced()

    # -- reading --------------------------------------------------------------

    def interval(self, u: int) -> tuple[int, int] | None:
        """The inclusive input interval unit ``u`` reads, or ``None`` if it reads nothing."""
        q, r = divmod(u, self.period)
        if self.lo[r] > self.hi[r]:
            return None
        return self.lo[r] + q * self.shift, self.hi[r] + q * self.shift

    def image(self, first: int, last: int) -> tuple[int, int] | None:
        """Bounding box of what units ``first..last`` read together (``None``: nothing).

        Both ``lo`` and ``hi`` never decrease along the units that read
        something, so the box runs from the first such unit's ``lo`` to the
        last such unit's ``hi``.
        """
        if first > last:
            return None
        left = right = None
        for u in range(first, min(last, first + self.period - 1) + 1):
            left = self.interval(u)
            if left is not None:
                break
        for u in range(last, max(first, last - self.period + 1) - 1, -1):
            right = self.interval(u)
            if right is not None:
                break
        if left is None or right is None:
            return None
        return left[0], right[1]

    @property
    def jump(self) -> Fraction:
        """Input distance between the regions of neighbouring units (``shift / period``)."""
        return Fraction(self.shift, self.period)

    @property
    def size(self) -> int:
        """The largest region over all phases (0 only if no unit reads anything)."""
        sizes = [h - lo + 1 for lo, h in zip(self.lo, self.hi, strict=True) if h >= lo]
        return max(sizes, default=0)

    def first_region(self) -> tuple[int, int] | None:
        """The region of unit 0 (or of the first unit that reads something)."""
        for u in range(self.period):
            region = self.interval(u)
            if region is not None:
                return region
        return None

    # -- algebra --------------------------------------------------------------

    def then(self, outer: AxisMap) -> AxisMap:
        """Stack a layer on top: ``outer`` maps its units to this map's units.

        Unit ``u`` of the stack reads what the units ``outer.interval(u)``
        read together.  The result repeats after ``outer.period * k`` units
        where ``k`` is the smallest count with ``k * outer.shift`` a multiple
        of ``self.period``.
        """
        k = self.period // gcd(outer.shift, self.period)
        period = outer.period * k
        _check_period(period)
        shift = (outer.shift * k // self.period) * self.shift
        lo: list[int] = []
        hi: list[int] = []
        for r in range(period):
            inner = outer.interval(r)
            region = None if inner is None else self.image(*inner)
            lo.append(1 if region is None else region[0])
            hi.append(0 if region is None else region[1])
        return AxisMap(period, shift, tuple(lo), tuple(hi)).reduced()

    def reduced(self) -> AxisMap:
        """The same map written with its shortest period."""
        if self.period == 1:
            return self
        for p in range(1, self.period):
            if self.period % p or (self.shift * p) % self.period:
                continue
            q = self.shift * p // self.period
            if all(self._same(r, r % p, (r // p) * q) for r in range(self.period)):
                return AxisMap(p, q, self.lo[:p], self.hi[:p])
        return self

    def _same(self, r: int, base: int, offset: int) -> bool:
        empty_r = self.lo[r] > self.hi[r]
        empty_b = self.lo[base] > self.hi[base]
        if empty_r or empty_b:
            return empty_r == empty_b
        return self.lo[r] == self.lo[base] + offset and self.hi[r] == self.hi[base] + offset


def union(maps: Iterable[AxisMap]) -> AxisMap:
    """Bounding box of several maps with the same jump (branches that merge).

    Raises ``ValueError`` when the jumps differ: then the branches' units do
    not line up and no single map describes the merge.
    """
    maps = list(dict.fromkeys(maps))  # the same map twice adds nothing (DenseNet's cat)
    if len(maps) == 1:
        return maps[0]
    first = maps[0]
    if any(m.shift * first.period != first.shift * m.period for m in maps):
        jumps = {m.jump for m in maps}
        raise ValueError(f"branches have different jumps {sorted(str(j) for j in jumps)}")
    period = 1
    for m in maps:
        period = _lcm(period, m.period)
    _check_period(period)
    jump = first.jump
    shift = jump.numerator * (period // jump.denominator)
    lo: list[int] = []
    hi: list[int] = []
    for r in range(period):
        regions = [reg for m in maps if (reg := m.interval(r)) is not None]
        lo.append(min((a for a, _ in regions), default=1))
        hi.append(max((b for _, b in regions), default=0))
    return AxisMap(period, shift, tuple(lo), tuple(hi)).reduced()


# -- interval sets ---------------------------------------------------------------

Intervals = tuple[tuple[int, int], ...]
MAX_INTERVALS = 1 << 17  # documented limit: pieces in one interval set


def merge(pairs) -> Intervals:
    """Sorted, disjoint, non-touching ``(first, last)`` pairs covering the same integers.

    >>> merge([(5, 6), (0, 2), (3, 3), (9, 8)])
    ((0, 3), (5, 6))
    """
    out: list[list[int]] = []
    for lo, hi in sorted(p for p in pairs if p[0] <= p[1]):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    if len(out) > MAX_INTERVALS:
        raise ValueError(
            f"the pixels a unit depends on fall into {len(out)} separate pieces, beyond "
            f"rflesson's limit of {MAX_INTERVALS} (rflesson.axismap.MAX_INTERVALS): strides "
            "larger than their kernels on a very large input; use a smaller input_size"
        )
    return tuple((lo, hi) for lo, hi in out)


def clip(pairs: Intervals, n: int) -> Intervals:
    """Keep the parts of ``pairs`` inside ``0..n-1``."""
    return tuple((max(lo, 0), min(hi, n - 1)) for lo, hi in pairs if hi >= 0 and lo <= n - 1)


def count(pairs: Intervals) -> int:
    """How many integers the set holds."""
    return sum(hi - lo + 1 for lo, hi in pairs)
