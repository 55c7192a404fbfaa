"""The hybrid-dilated-convolution (HDC) rule of Wang et al. 2018.

Wang et al., "Understanding Convolution for Semantic Segmentation" (WACV
2018), give a rule for choosing the dilation rates ``r_1, ..., r_n`` of a
stack of ``K x K`` convolutions so that its receptive field has no holes.
Write ``M_i`` for the "maximum distance between two non-zero values" seen
from layer ``i`` up, computed from the top layer down:

    M_n = r_n
    M_i = max(M_{i+1} - 2 r_i,  M_{i+1} - 2 (M_{i+1} - r_i),  r_i)

and require ``M_2 <= K``.  Their examples (``K = 3``): rates (1, 2, 5) work
with ``M_2 = 2``; rates (1, 2, 9) do not, ``M_2 = 5``.

Conventions here.  Layers are numbered from 1 (the first, next to the
input) to ``n`` (the last), as in the paper; ``rates[0]`` is ``r_1``.  The
result's ``m`` holds ``M_i`` for *every* layer, ``m[i - 1] = M_i``: the
rule itself stops at ``M_2``, so ``m[0] = M_1`` is extra (what the same
recursion says once the first layer is included; see below).

What the rule leaves out, and ``rflesson.coverage`` shows: ``M_2 <= K``
says the layers 2..n leave gaps no wider than one ``K``-tap kernel of
*consecutive* pixels can fill, so it takes ``r_1 = 1`` for granted.  A
stack starting with ``r_1 > 1`` (e.g. (2, 2, 2)) passes the rule and still
grids.  The recursion is also written for 3-tap kernels (taps at ``-r, 0,
r``); ``kernel_size`` enters only through the final check.

Checked against ``coverage`` (``tests/test_hdc.py``): ``M_i`` never
under-estimates the true largest gap of layers ``i..n`` (3-tap kernels), so
with ``r_1 = 1`` and ``K`` from 3 to 7 a passing stack has no holes.  The
rule can be too strict (``(1, 3, 1)``: ``M_2 = 5``, no holes), says little
when ``r_1 > 1`` (``(2, 2, 2)`` passes and grids, ``(2, 1, 6)`` fails without
holes), and fails for 2-tap kernels (``(1, 2, 5)`` with ``K = 2`` passes and
has holes).  ``M_1 = 1`` (``result.m1``) always means no holes.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Set
from dataclasses import dataclass

from ._validate import as_int, shown

#: The most rates (layers) the rule is computed for; read at each call, raise it if needed.
MAX_LAYERS = 100_000


@dataclass(frozen=True)
class HDCResult:
    """The verdict of the HDC rule; true when ``M_2 <= kernel_size``.

    ``m[i - 1]`` is ``M_i`` (``m[-1] == rates[-1]``); ``m2`` is ``M_2``.
    """

    rates: tuple[int, ...]
    kernel_size: int
    m: tuple[int, ...]
    m2: int
    ok: bool

    @property
    def m1(self) -> int:
        """``M_1``: the recursion carried through the first layer too (not part of the rule)."""
        return self.m[0]

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        verdict = "<=" if self.ok else ">"
        return (
            f"HDCResult(rates={self.rates}, ok={self.ok}: "
            f"M_2 = {self.m2} {verdict} K = {self.kernel_size}, M = {self.m})"
        )


def max_gaps(rates: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """``M_i`` for every layer ``i`` (index ``i - 1``), by Wang et al.'s recursion.

    >>> max_gaps([1, 2, 5])
    (1, 2, 5)
    """
    rates = _rates(rates, minimum_layers=1)
    m = [rates[-1]]  # M_n, then M_{n-1}, ... down to M_1
    for r in reversed(rates[:-1]):
        above = m[-1]
        m.append(max(above - 2 * r, above - 2 * (above - r), r))
    return tuple(reversed(m))


def hdc_ok(rates: tuple[int, ...] | list[int], kernel_size: int = 3) -> HDCResult:
    """Wang et al. 2018's rule for a stack of dilated convolutions: ``M_2 <= K``.

    ``rates`` lists the dilation rates from the first layer (next to the
    input) to the last, in that order (a set has no order and is refused);
    at least two layers, since the rule is about ``M_2``, and at most
    ``MAX_LAYERS`` (100 000).  The result is truthy when the rule holds and carries ``m2``
    and ``m`` (``M_i`` per layer).

    >>> hdc_ok([1, 2, 5]).m2, bool(hdc_ok([1, 2, 9]))
    (2, False)
    """
    rates = _rates(rates, minimum_layers=2)
    k = as_int("kernel_size", kernel_size, minimum=1)
    m = max_gaps(rates)
    return HDCResult(rates, k, m, m[1], m[1] <= k)


def _rates(rates: object, minimum_layers: int) -> tuple[int, ...]:
    """The rates as a tuple of ints, first layer first; unordered input is refused."""
    if isinstance(rates, Set | Mapping):
        raise TypeError(
            f"rates must be in layer order (a list or tuple, first layer first); a "
            f"{type(rates).__name__} has no order, got {shown(rates)}"
        )
    if isinstance(rates, str | bytes) or not hasattr(rates, "__iter__"):
        raise TypeError(
            f"rates must be a list or tuple of dilation rates, got {shown(rates)} "
            f"({type(rates).__name__})"
        )
    read = list(itertools.islice(iter(rates), MAX_LAYERS + 1))
    if len(read) > MAX_LAYERS:
        raise ValueError(
            f"rates lists more than rflesson.hdc.MAX_LAYERS = {MAX_LAYERS:,} layers; "
            f"raise the limit if you need more"
        )
    values = tuple(as_int(f"rates[{i}]", r, minimum=1) for i, r in enumerate(read))
    if len(values) < minimum_layers:
        raise ValueError(
            f"rates must list at least {minimum_layers} dilation rate(s) "
            f"(the HDC rule compares M_2, the second layer's gap, with the kernel size); "
            f"got {shown(values)}"
        )
    return values
