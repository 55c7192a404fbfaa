"""rflesson.hdc_ok: Wang et al.'s HDC rule, and how it compares with the holes coverage finds.

Findings these tests pin down (3-tap kernels unless said):

* ``M_i`` never under-estimates the true largest gap between input offsets
  that layers ``i..n`` reach; so with ``r_1 = 1`` the rule is *safe*: when it
  says OK there are no holes.
* With ``r_1 > 1`` the rule's verdict says little, in both directions: it
  stops at ``M_2`` and assumes the first layer is an ordinary, undilated
  convolution.  (2, 2, 2) passes and grids; (2, 1, 6) fails and has no hole.
* The rule can also be too strict: ``M_i`` is one number standing for a
  whole pattern of taps, and when a layer's rate exceeds the gap above it,
  e.g. (1, 3, 1), it over-estimates the gap and rejects a stack without holes.
* Two-tap kernels (``K = 2``) break the rule's 3-tap recursion: (1, 2, 5)
  passes with ``K = 2`` and has holes.
"""

from __future__ import annotations

import itertools
import math
import time
from functools import reduce

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rflesson as rfl
from rflesson import Layer
from rflesson.hdc import max_gaps


def _counts(rates, kernel: int = 3) -> np.ndarray:
    return rfl.coverage([Layer(kernel, dilation=r) for r in rates])


def _holes(rates, kernel: int = 3) -> int:
    return int((_counts(rates, kernel) == 0).sum())


def _largest_gap(rates, kernel: int = 3) -> int:
    """Largest distance between neighbouring offsets that paths reach (1: no holes)."""
    reached = np.flatnonzero(_counts(rates, kernel))
    return int(np.diff(reached).max()) if len(reached) > 1 else 0


# -- the paper's examples and the lesson's cases ---------------------------------------


def test_papers_examples():
    good, bad = rfl.hdc_ok([1, 2, 5]), rfl.hdc_ok([1, 2, 9])
    assert good and good.m2 == 2 and good.m == (1, 2, 5)
    assert not bad and bad.m2 == 5 and bad.m == (3, 5, 9)
    assert _holes([1, 2, 5]) == 0 and _holes([1, 2, 9]) == 4


@pytest.mark.parametrize(
    ("rates", "m2", "ok", "holes"),
    [
        ((2, 2, 2), 2, True, 6),  # the rule passes, the map grids: r_1 = 2
        ((2, 4, 8), 4, False, 14),
        ((1, 2, 3), 2, True, 0),
        ((1, 2, 5), 2, True, 0),
        ((1, 2, 9), 5, False, 4),
        ((1, 1, 2, 4, 8, 16, 1), 1, True, 0),  # Yu & Koltun's context module
    ],
)
def test_lesson_cases(rates, m2, ok, holes):
    result = rfl.hdc_ok(rates)
    assert result.m2 == m2
    assert bool(result) is ok
    assert _holes(rates) == holes


def test_result_fields_and_conventions():
    result = rfl.hdc_ok((1, 2, 9), kernel_size=5)
    assert result.rates == (1, 2, 9) and result.kernel_size == 5
    assert result.ok  # M_2 = 5 <= K = 5
    assert result.m[-1] == 9 and result.m[1] == result.m2 and result.m1 == result.m[0]
    assert "M_2 = 5" in repr(result)


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        rfl.hdc_ok([2])
    with pytest.raises(ValueError, match=r"rates\[1\]"):
        rfl.hdc_ok([1, 0, 2])
    with pytest.raises(TypeError, match="rates"):
        rfl.hdc_ok(3)
    with pytest.raises(TypeError, match=r"rates\[0\]"):
        rfl.hdc_ok([1.5, 2])
    with pytest.raises(ValueError, match="kernel_size"):
        rfl.hdc_ok([1, 2], kernel_size=0)


@pytest.mark.parametrize("unordered", [{5, 2, 1}, frozenset({1, 2}), {1: 2, 2: 5}])
def test_unordered_rates_are_refused(unordered):
    """A set would be read in sorted order: (1, 2, 5) has M_2 = 2, while (5, 2, 1) has 3."""
    assert rfl.hdc_ok([5, 2, 1]).m2 == 3 and rfl.hdc_ok([1, 2, 5]).m2 == 2
    with pytest.raises(TypeError, match="order"):
        rfl.hdc_ok(unordered)


def test_ordered_iterables_numpy_and_torch_rates_are_read():
    assert rfl.hdc_ok(np.array([1, 2, 9])).m == rfl.hdc_ok((1, 2, 9)).m
    assert rfl.hdc_ok(torch.tensor([1, 2, 9])).m == (3, 5, 9)
    assert rfl.hdc_ok(iter([1, 2, 5])).ok
    assert max_gaps(range(1, 4)) == rfl.hdc_ok([1, 2, 3]).m


def test_too_many_rates_are_refused_at_once():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="MAX_LAYERS"):
        rfl.hdc_ok(range(10**12))
    assert time.perf_counter() - start < 1.0
    assert len(rfl.hdc_ok([1, 2] * 5000).m) == 10_000  # long lists stay linear in time


# -- the rule against the holes, across many rate lists ----------------------------------

_rate_lists = st.lists(st.integers(1, 16), min_size=2, max_size=5)


@settings(max_examples=300, deadline=None)
@given(_rate_lists)
def test_m_never_underestimates_the_true_gap(rates):
    m = max_gaps(rates)
    for i in range(len(rates)):
        assert m[i] >= _largest_gap(rates[i:])


@settings(max_examples=300, deadline=None)
@given(_rate_lists, st.sampled_from([3, 4, 5, 6, 7]))
def test_rule_is_safe_when_the_first_layer_is_undilated(rates, kernel):
    rates = [1, *rates[1:]]
    if rfl.hdc_ok(rates, kernel):
        assert _holes(rates, kernel) == 0


@settings(max_examples=300, deadline=None)
@given(_rate_lists)
def test_m1_of_one_means_no_holes_whatever_the_first_rate(rates):
    # Carrying the recursion through layer 1 as well fixes the blind spot:
    # M_1 >= r_1, so any r_1 > 1 is flagged, and M_1 = 1 means no gap.
    if max_gaps(rates)[0] == 1:
        assert _holes(rates) == 0


@settings(max_examples=300, deadline=None)
@given(_rate_lists)
def test_a_shared_factor_always_grids(rates):
    if reduce(math.gcd, rates) > 1:
        assert _holes(rates) > 0


def test_every_disagreement_up_to_three_layers_is_explained():
    """Exhaustive over rates 1..10, two and three 3x3 layers."""
    for n in (2, 3):
        for rates in itertools.product(range(1, 11), repeat=n):
            result, holes = rfl.hdc_ok(rates), _holes(rates) > 0
            if rates[0] > 1:
                # The rule never looks at layer 1; M_1 (one more step) flags it.
                assert result.m1 >= rates[0] > 1
                continue
            assert not (result and holes), rates  # safe with an undilated first layer
            if not result and not holes:
                # Too strict: M_2 over-estimates the real gap, because a rate is
                # larger than the gap the layers above it leave (for n = 3: r_2 > r_3).
                assert result.m2 > 3 >= _largest_gap(rates[1:]), rates
                assert n == 3 and rates[1] > rates[2], rates


def test_examples_of_each_disagreement():
    assert rfl.hdc_ok((2, 2, 2)) and _holes((2, 2, 2)) > 0  # rule blind to layer 1
    assert not rfl.hdc_ok((2, 1, 6)) and _holes((2, 1, 6)) == 0  # ... in both directions
    assert not rfl.hdc_ok((1, 3, 1)) and _holes((1, 3, 1)) == 0  # rule too strict
    assert rfl.hdc_ok((1, 3, 1)).m2 == 5 and _largest_gap((3, 1)) == 1
    assert rfl.hdc_ok((1, 2, 5), kernel_size=2) and _holes((1, 2, 5), kernel=2) > 0
