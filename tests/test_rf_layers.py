"""Receptive-field arithmetic on layer lists: worked examples and independent checks."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rflesson as rfl
from rflesson import Layer, input_region, receptive_field, rf_size, rf_table

# -- the article's worked examples -------------------------------------------------


def test_article_3x3_stride2_pad1_gives_3_then_7():
    layer = Layer(3, stride=2, padding=1)
    assert receptive_field([layer]).size == 3
    assert receptive_field([layer, layer]).size == 7
    assert [row.size for row in rf_table([layer, layer])] == [3, 7]


def test_article_two_3x3_stride1_gives_5():
    assert receptive_field([Layer(3), Layer(3)]).size == 5
    assert rf_size([3, 3], [1, 1]) == 5


def test_article_closed_form():
    assert rf_size([3, 3], [2, 2]) == 7
    # R = 1 + sum_j d_j (F_j - 1) prod_{i<j} S_i, dilation included
    assert rf_size([3, 3, 3], [1, 1, 1], [1, 2, 4]) == 1 + 2 + 4 + 8


# -- Dang Ha The Hien, "A guide to receptive field arithmetic" ---------------------


def test_dang_ha_the_hien_example():
    # 5x5 input, two conv layers k=3, p=1, s=2 (his figure 1).  He measures the
    # centre in a coordinate where pixel 0 spans [0, 1], so his start = ours + 0.5.
    table = rf_table([Layer(3, 2, 1), Layer(3, 2, 1)], input_size=5, include_input=True)
    assert [(r.n_out, r.jump, r.size, r.center + 0.5) for r in table] == [
        (5, 1, 1, 0.5),
        (3, 2, 3, 0.5),
        (2, 4, 7, 0.5),
    ]


def _dang(layers, n):
    """His four recurrences, written out independently of rflesson."""
    j, r, start = 1, 1, 0.5
    for k, s, p in layers:
        n = (n + 2 * p - k) // s + 1
        start = start + ((k - 1) / 2 - p) * j
        r = r + (k - 1) * j
        j = j * s
    return n, j, r, start


layer_params = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2)).filter(
    lambda t: t[2] <= t[0] // 2 + 1
)


@settings(max_examples=200, deadline=None)
@given(st.lists(layer_params, min_size=1, max_size=6), st.integers(1, 200))
def test_recurrences_match_dang_ha_the_hien(params, n):
    layers = [Layer(k, s, p) for k, s, p in params]
    try:
        rf = receptive_field(layers, n)
    except ValueError:
        # too small: his formula gives a length below 1 somewhere
        m = n
        for k, s, p in params:
            m = (m + 2 * p - k) // s + 1 if m + 2 * p >= k else 0
            if m < 1:
                return
        raise
    n_out, j, r, start = _dang(params, n)
    assert (rf.n_out, rf.jump, rf.size, rf.center + 0.5) == (n_out, j, r, start)


# -- Araujo, Norris & Sim 2019 (Distill): closed forms and alignment ---------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 3), st.integers(1, 3)),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 20),
)
def test_distill_closed_forms(params, u):
    layers = [Layer(k, s, p, d) for k, s, p, d in params]
    r0, stride, pad = 1, 1, 0
    for k, s, p, d in params:
        r0 += d * (k - 1) * stride  # r0 = sum_l (k_l - 1) prod_{i<l} s_i + 1
        pad += p * stride  # P0 = sum_l p_l prod_{i<l} s_i
        stride *= s  # S0 = prod s_l
    rf = receptive_field(layers)
    assert (rf.size, rf.jump, rf.start) == (r0, stride, -pad)
    # region of unit u: u_L * S0 - P0 ... + r0 - 1; centre (r0 - 1)/2 - P0 + u S0
    assert input_region(layers, u).unclipped == (u * stride - pad, u * stride - pad + r0 - 1)
    assert rf.center == (r0 - 1) / 2 - pad
    assert (
        rf_size([k for k, *_ in params], [s for _, s, *_ in params], [d for *_, d in params]) == r0
    )


def test_distill_alignment_centre_depends_on_padding():
    # same size, different padding: the field shifts (Distill's "alignment")
    centred = receptive_field([Layer(3, padding=1)] * 2)
    shifted = receptive_field([Layer(3, padding=((2, 0),))] * 2)
    assert centred.size == shifted.size == 5
    assert centred.center == 0 and shifted.center == -2
    # an even kernel can never be centred on a pixel
    assert receptive_field([Layer(2)]).center == 0.5


# -- an independent brute force: sets of input pixels ------------------------------


def _brute_regions(params, n):
    """For each output unit, the set of real input pixels it depends on (1-D)."""
    sets = [{i} for i in range(n)]
    for k, s, pb, pa, d in params:
        length = len(sets)
        out = (length + pb + pa - d * (k - 1) - 1) // s + 1
        nxt = []
        for u in range(out):
            seen: set[int] = set()
            for t in range(k):
                i = u * s - pb + d * t
                if 0 <= i < length:
                    seen |= sets[i]
            nxt.append(seen)
        sets = nxt
    return sets


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.integers(1, 3),
            st.integers(0, 2),
            st.integers(0, 2),
            st.integers(1, 2),
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(8, 60),
)
def test_regions_match_brute_force(params, n):
    layers = [Layer(k, s, ((pb, pa),), d) for k, s, pb, pa, d in params]
    try:
        rf = receptive_field(layers, n)
    except ValueError:
        return
    sets = _brute_regions(params, n)
    assert len(sets) == rf.n_out
    for u, seen in enumerate(sets):
        region = input_region(layers, u, n)
        if seen:
            assert region.clipped == (min(seen), max(seen))
        else:
            assert region.clipped[0] > region.clipped[1]
        first, last = region.unclipped
        assert last - first + 1 == rf.size
        assert first == rf.start + u * rf.jump


# -- results, tables, N-D -----------------------------------------------------------


def test_two_axes_give_per_axis_tuples():
    rf = receptive_field([Layer((3, 5), stride=(2, 1), padding=(1, 2))] * 2, (16, 20))
    assert rf.size == (7, 9)
    assert rf.jump == (4, 1)
    assert rf.start == (-3, -4)
    assert rf.center == (0, 0)
    assert rf.n_out == (4, 20)
    region = input_region([Layer((3, 5), stride=(2, 1), padding=(1, 2))] * 2, (1, 0), (16, 20))
    assert region.unclipped == ((1, 7), (-4, 4))
    assert region.clipped == ((1, 7), (0, 4))


def test_three_axes():
    rf = receptive_field([Layer(3, stride=(1, 2, 2), padding=1)] * 2)
    assert rf.size == (5, 7, 7) and rf.jump == (1, 4, 4)


def test_one_axis_gives_plain_numbers_and_no_n_out_without_size():
    rf = receptive_field([Layer(3)])
    assert isinstance(rf.size, int) and rf.n_out is None
    assert isinstance(rf.center, float)
    assert not rf.whole_input


def test_repr_is_readable():
    assert repr(receptive_field([Layer(3, 2, 1)] * 2, 8)) == (
        "ReceptiveField(size=7, jump=4, start=-3, center=0, n_out=2)"
    )
    assert (
        repr(Layer(3, stride=2, padding="same" if False else 1))
        == "Layer(kernel=3, stride=2, padding=1)"
    )


def test_table_rows_text_and_html():
    table = rf_table([Layer(3, name="conv1"), Layer(2, 2, name="pool1")], input_size=10)
    assert len(table) == 2
    assert table[1].name == "pool1" and table["pool1"].size == 4 and table[-1].jump == 2
    assert [r.name for r in table] == ["conv1", "pool1"]
    text = str(table)
    assert text.splitlines()[0].split() == [
        "name",
        "op",
        "size",
        "jump",
        "start",
        "center",
        "n_out",
    ]
    assert "pool1" in text and "<table>" in table._repr_html_()
    assert "n_out" not in str(rf_table([Layer(3)]))
    with pytest.raises(KeyError, match="conv9"):
        table["conv9"]


def test_duplicate_names_stay_unique():
    table = rf_table([Layer(3, name="c"), Layer(3, name="c")])
    assert [r.name for r in table] == ["c", "c_2"]


def test_same_padding_with_even_kernel_keeps_length_and_shifts_right():
    rf = receptive_field([Layer(4, padding="same")], 10)
    assert rf.n_out == 10 and rf.start == -1 and rf.center == 0.5


def test_clipped_region_drops_pixels_only_reached_through_padding():
    # length 8, k3 s2 -> 3 units covering pixels 0..6; pixel 7 is never read,
    # even though the padded next layer's last unit would reach it unclipped
    layers = [Layer(3, 2), Layer(3, padding=1)]
    region = input_region(layers, 2, 8)
    assert region.unclipped == (2, 8)
    assert region.clipped == (2, 6)


def test_jump_is_an_int_or_a_fraction():
    assert isinstance(receptive_field([Layer(3, 2)]).jump, int)
    assert Fraction(1, 2) == Fraction(receptive_field([Layer(1)]).jump, 2)


# -- bad input ----------------------------------------------------------------------


def test_empty_network():
    with pytest.raises(ValueError, match="empty"):
        receptive_field([])


def test_wrong_types():
    with pytest.raises(TypeError, match="net must be"):
        receptive_field("conv")
    with pytest.raises(TypeError, match="net must be"):
        receptive_field([Layer(3), 3])


def test_input_too_small_names_the_minimum():
    with pytest.raises(ValueError) as info:
        receptive_field([Layer(5)] * 3, 8)
    message = str(info.value)
    assert "input_size=8" in message and "smallest input it takes is 13" in message
    with pytest.raises(ValueError, match=r"\(7, 9\)"):
        receptive_field([Layer((3, 5), stride=(2, 1))] * 2, (4, 9))


def test_bad_input_size_and_index():
    with pytest.raises(ValueError, match="input_size"):
        receptive_field([Layer(3)], 0)
    with pytest.raises(ValueError, match="input_size has 3 axes"):
        receptive_field([Layer((3, 3))], (8, 8, 8))
    with pytest.raises(ValueError, match="index=5 is outside"):
        input_region([Layer(3)], 5, 7)
    with pytest.raises(ValueError, match="index"):
        input_region([Layer(3)], -1)


def test_rf_size_bad_input():
    with pytest.raises(ValueError, match="one entry per layer"):
        rf_size([3, 3], [1])
    with pytest.raises(ValueError, match="kernels"):
        rf_size([], [])
    with pytest.raises(ValueError, match=r"strides\[1\]"):
        rf_size([3, 3], [1, 0])


def test_exports():
    assert rfl.receptive_field is receptive_field and rfl.Layer is Layer
