"""The Layer spec and the one-layer axis operations."""

from __future__ import annotations

from fractions import Fraction

import pytest

from rflesson.axismap import AxisMap, clip, merge, union
from rflesson.layers import Block, Collapse, Layer, Mix, Resample, Transposed, Window


def test_ints_spread_over_axes_and_tuples_stay_per_axis():
    layer = Layer((3, 5), stride=2, padding=(1, 2))
    assert layer.ndim == 2
    assert layer.axes() == (Window(3, 2, 1, 1, 1), Window(5, 2, 1, 2, 2))
    assert Layer(3).axes(2) == (Window(3), Window(3))


def test_same_padding_puts_the_extra_pixel_after():
    assert Layer(3, padding="same").padding() == ((1, 1),)
    assert Layer(4, padding="same").padding() == ((1, 2),)
    assert Layer(3, padding="same", dilation=2).padding() == ((2, 2),)
    assert Layer(3, padding="valid").padding() == ((0, 0),)


def test_asymmetric_padding_pairs():
    layer = Layer((3, 3), padding=((0, 1), (2, 0)))
    assert layer.padding() == ((0, 1), (2, 0))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"kernel": 0}, ["kernel", "0", "at least 1"]),
        ({"kernel": 3, "stride": 0}, ["stride", "0", "at least 1"]),
        ({"kernel": 3, "dilation": -1}, ["dilation", "-1", "at least 1"]),
        ({"kernel": 3, "padding": -1}, ["padding", "-1", "at least 0"]),
        ({"kernel": 3, "padding": "full"}, ["padding", "'full'", "'same'"]),
        ({"kernel": (3, 3), "stride": (1, 1, 1)}, ["kernel has 2", "stride has 3", "(1, 1, 1)"]),
        ({"kernel": 3, "padding": ((1, 2, 3),)}, ["padding[0]", "(before, after)"]),
        ({"kernel": 3, "stride": 2, "padding": "same"}, ["padding='same'", "stride 1"]),
        ({"kernel": ()}, ["kernel", "non-empty"]),
    ],
)
def test_bad_layers_raise_value_errors_naming_the_parameter(kwargs, words):
    with pytest.raises(ValueError) as info:
        Layer(**kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "kwargs", [{"kernel": 2.5}, {"kernel": 3, "padding": 1.0}, {"kernel": "3"}]
)
def test_non_integers_raise_type_errors(kwargs):
    with pytest.raises(TypeError):
        Layer(**kwargs)


def test_window_out_length_is_the_conv_arithmetic_formula():
    # Dumoulin & Visin: o = floor((i + 2p - k - (k-1)(d-1)) / s) + 1
    for i in range(5, 30):
        for k in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for p in (0, 1, 2):
                    for d in (1, 2):
                        span = k + (k - 1) * (d - 1)
                        if i + 2 * p < span:
                            continue
                        expected = (i + 2 * p - span) // s + 1
                        assert Window(k, s, d, p, p).out_length(i) == expected


def test_conv_arithmetic_examples():
    # Relationships 1-6 of "A guide to convolution arithmetic" (fig. 2.1-2.7, 5.1)
    assert Window(3).out_length(4) == 2  # no padding, unit strides
    assert Window(4, 1, 1, 2, 2).out_length(5) == 6  # arbitrary padding
    assert Window(3, 1, 1, 1, 1).out_length(5) == 5  # half (same) padding
    assert Window(3, 1, 1, 2, 2).out_length(5) == 7  # full padding
    assert Window(3, 2).out_length(5) == 2  # no padding, strides
    assert Window(3, 2, 1, 1, 1).out_length(5) == 3  # padding and strides
    assert Window(3, 2, 1, 1, 1).out_length(6) == 3  # odd case
    assert Window(3, 1, 2).out_length(7) == 3  # dilated
    # transposed: o' = s (i' - 1) + k - 2p
    assert Transposed(3, 2, 1, 1).out_length(3) == 5
    assert Transposed(3, 2, 1, 1, output_padding=1).out_length(3) == 6


def test_ceil_mode_changes_the_length_only():
    floor, ceil = Window(2, 2), Window(2, 2, ceil_mode=True)
    assert floor.out_length(5) == 2 and ceil.out_length(5) == 3
    assert floor.axis_map() == ceil.axis_map()
    # PyTorch drops a last window starting in the right padding
    assert Window(2, 2, 1, 1, 1, ceil_mode=True).out_length(5) == 3
    assert Window(3, 2, 1, 1, 1, ceil_mode=True).out_length(6) == 4


def test_window_min_input():
    assert Window(3).min_input() == 3
    assert Window(3, 1, 1, 1, 1).min_input() == 1
    assert Window(5, 2).min_input(3) == 9


def test_transposed_taps_and_phases():
    t = Transposed(3, 2, 1, 1)  # ConvTranspose(k=3, s=2, p=1)
    assert t.taps(0) == (0,)
    assert t.taps(1) == (0, 1)
    m = t.axis_map()
    assert m.jump == Fraction(1, 2) and m.size == 2
    # kernel smaller than stride: odd outputs read nothing
    assert Transposed(1, 2).taps(1) == ()
    assert Transposed(1, 2).axis_map().size == 1


def test_resample_taps():
    near = Resample("nearest", Fraction(2))
    assert [near.taps(u) for u in range(4)] == [(0,), (0,), (1,), (1,)]
    lin = Resample("bilinear", Fraction(2))
    assert lin.taps(0) == (-1, 0) and lin.taps(1) == (0, 1)
    assert Resample("bicubic", Fraction(2)).taps(1) == (-1, 0, 1, 2)
    assert Resample("bilinear", size=8).axis_map(4).jump == Fraction(1, 2)


def test_collapse_bins_are_pytorchs_adaptive_bins():
    c = Collapse(3)
    assert [tuple(c.taps(u, 10)) for u in range(3)] == [(0, 1, 2, 3), (3, 4, 5, 6), (6, 7, 8, 9)]
    # the bins of a huge input are a closed form, never listed
    n = 10**12
    assert c.taps(1, n) == range(n // 3, -(-2 * n // 3))
    assert c.reach(((0, 2),), n) == ((0, n - 1),)
    m = Collapse(7).axis_map(n)
    assert (m.period, m.shift) == (7, n) and m.lo[3] == 3 * n // 7
    assert Collapse(1).axis_map(7).size == 7
    with pytest.raises(ValueError, match="input_size"):
        Collapse(1).axis_map(None)


def test_axis_map_composition_is_dang_ha_the_hien_recurrence():
    # r_out = r_in + (k - 1) j_in, j_out = j_in s
    m = AxisMap.identity()
    for k, s, p in [(3, 2, 1), (3, 2, 1), (5, 1, 2), (2, 2, 0)]:
        before = m
        m = m.then(Window(k, s, 1, p, p).axis_map())
        assert m.size == before.size + (k - 1) * before.jump
        assert m.jump == before.jump * s
        assert m.lo[0] == before.lo[0] - p * before.jump


def test_axis_map_union_and_mismatch():
    a = Window(3, 1, 1, 1, 1).axis_map()
    b = Window(5, 1, 1, 2, 2).axis_map()
    assert union([a, b]) == b
    with pytest.raises(ValueError, match="jumps"):
        union([a, Window(3, 2).axis_map()])


def test_axis_map_reduces_its_period():
    m = AxisMap(4, 4, (0, 1, 2, 3), (2, 3, 4, 5))
    assert m.reduced() == AxisMap(1, 1, (0,), (2,))


# -- exact reach: which real pixels a set of units reads -----------------------------------


def _listed(op, units, n):
    """Brute force: every tap of every unit, padding copies folded back by ``source``."""
    seen = set()
    for a, b in units:
        for u in range(a, b + 1):
            for t in op.taps(u, n):
                i = op.source(t, n) if isinstance(op, Window) else (t if 0 <= t < n else None)
                if i is not None and 0 <= i < n:
                    seen.add(i)
    return merge((i, i) for i in seen)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_window_reach_equals_the_brute_force_under_every_padding_mode(mode):
    for k, s, d, p in [(3, 1, 1, 1), (3, 2, 1, 2), (2, 3, 2, 1), (1, 4, 1, 0), (5, 1, 3, 4)]:
        op = Window(k, s, d, p, p, mode=mode)
        n = 11
        n_out = op.out_length(n)
        for units in [((0, 0),), ((n_out - 1, n_out - 1),), ((0, n_out - 1),), ((1, 2), (4, 4))]:
            units = tuple((a, min(b, n_out - 1)) for a, b in units if a < n_out)
            assert op.reach(units, n) == _listed(op, units, n), (k, s, d, p, units)


def test_padding_copies_the_pixels_pytorch_copies():
    import torch
    import torch.nn.functional as F

    x = torch.arange(6.0).view(1, 1, 6)
    for mode in ("reflect", "replicate", "circular"):
        padded = F.pad(x, (3, 3), mode=mode)[0, 0].tolist()
        op = Window(1, 1, 1, 3, 3, mode=mode)
        assert [op.source(i, 6) for i in range(-3, 9)] == [int(v) for v in padded], mode


def test_a_long_strided_run_is_followed_without_listing_it():
    op = Window(3, 2, 1, 1, 1)  # neighbouring windows overlap: one interval
    assert op.reach(((0, 10**9),), 2 * 10**9) == ((0, 2 * 10**9 - 1),)
    holes = Window(2, 3)  # a window of 2 every 3 pixels: one pixel in three is never read
    assert holes.reach(((0, 3),), 12) == ((0, 1), (3, 4), (6, 7), (9, 10))


def test_transposed_reach_and_resample_reach():
    t = Transposed(3, 2, 1, 1)
    for units in [((0, 0),), ((1, 1),), ((2, 5),)]:
        assert t.reach(units, 8) == _listed(t, units, 8)
    up = Resample("bilinear", scale=2.0)
    assert up.reach(((0, 0),), 5) == ((0, 0),)  # PyTorch clamps the first source to pixel 0
    assert up.reach(((3, 6),), 5) == _listed(up, ((3, 6),), 5)


def test_block_and_mix():
    window = Block(4)  # Swin's windows along one axis
    assert [tuple(window.taps(u)) for u in (0, 3, 4, 9)] == [
        (0, 1, 2, 3), (0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11),
    ]  # fmt: skip
    assert window.axis_map().jump == 1 and window.axis_map().size == 4
    assert window.reach(((5, 9),), 16) == ((4, 11),)
    strided = Block(3, stride=2)  # a middle digit: every other position of a block of 6
    assert tuple(strided.taps(7)) == (7, 9, 11)
    mix = Mix()
    assert mix.out_length(9) == 9 and tuple(mix.taps(4, 9)) == tuple(range(9))
    assert mix.axis_map(9) == AxisMap(1, 0, (0,), (8,))  # a constant map: every unit alike


def test_resample_follows_pytorch_for_any_scale_factor():
    import torch
    import torch.nn.functional as F

    for scale, n in [(1.0005, 4000), (1.5, 7), (0.7, 13), (2.0, 5)]:
        op = Resample("nearest", scale=scale)
        out = F.interpolate(torch.arange(float(n)).view(1, 1, -1), scale_factor=scale)
        assert op.out_length(n) == out.shape[-1]
        assert [op.taps(u, n)[0] for u in range(out.shape[-1])] == [int(v) for v in out[0, 0]]


def test_interval_sets():
    assert merge([(5, 6), (0, 2), (3, 3), (9, 8)]) == ((0, 3), (5, 6))
    assert clip(((-3, 1), (4, 9), (12, 15)), 10) == ((0, 1), (4, 9))
