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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import gcd


def _lcm(a: int, b: int) -> int:
    return a * b // gcd(a, b)


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
    maps = list(maps)
    jumps = {m.jump for m in maps}
    if len(jumps) != 1:
        raise ValueError(f"branches have different jumps {sorted(str(j) for j in jumps)}")
    period = 1
    for m in maps:
        period = _lcm(period, m.period)
    jump = maps[0].jump
    shift = jump.numerator * (period // jump.denominator)
    lo: list[int] = []
    hi: list[int] = []
    for r in range(period):
        regions = [reg for m in maps if (reg := m.interval(r)) is not None]
        lo.append(min((a for a, _ in regions), default=1))
        hi.append(max((b for _, b in regions), default=0))
    return AxisMap(period, shift, tuple(lo), tuple(hi)).reduced()
