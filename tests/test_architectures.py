"""rflesson.architectures: the designs compared in notebook 05 are what they claim to be."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rflesson as rfl
from rflesson.course.lesson05.architectures import (
    COMPARE_INPUT,
    compare_designs,
    design,
    designs,
    large_depthwise_stack,
    plain_stack,
)

NAMES = [d.name for d in designs()]


def test_ten_designs_with_similar_weight_counts():
    counts = {d.name: d.parameters() for d in designs()}
    assert len(counts) == 10
    base = counts["plain"]
    for name, count in counts.items():
        assert 0.9 * base <= count <= 1.25 * base, (name, count, base)


def _closed_form(name: str) -> int:
    """The article's closed form R = 1 + sum d_j (F_j - 1) prod_{i<j} S_i, by hand per design."""
    k3, ones = [3] * 8, [1] * 8
    if name in ("plain", "residual", "center-scaled"):
        return rfl.rf_size(k3, ones)
    if name == "deeper":
        return rfl.rf_size([3] * 32, [1] * 32)
    if name == "strided":
        return rfl.rf_size(k3, [1, 2, 1, 2, 1, 1, 1, 1])
    if name == "pooled":  # pools (3x3, stride 2) after layers 2 and 4
        return rfl.rf_size([3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [1, 1, 2, 1, 1, 2, 1, 1, 1, 1])
    if name == "dilated-gridding":
        return rfl.rf_size(k3, ones, [2] * 8)
    if name == "dilated-hybrid":
        return rfl.rf_size(k3, ones, [1, 2, 3, 2, 1, 2, 3, 2])
    if name == "large-kernel":
        return rfl.rf_size([5] * 8, ones)
    if name == "large-depthwise":  # stem, then (15x15, 1x1) x 4
        return rfl.rf_size([3] + [15, 1] * 4, [1] * 9)
    raise AssertionError(name)


@pytest.mark.parametrize("name", NAMES)
def test_theoretical_rf_of_the_traced_module_matches_the_closed_form(name):
    net = design(name).build()
    rf = rfl.receptive_field(net, (COMPARE_INPUT, COMPARE_INPUT))
    assert rf.size == (_closed_form(name),) * 2
    assert rf.size[0] < COMPARE_INPUT
    assert all(n % 2 == 1 for n in rf.n_out)  # a centre unit exists


def test_every_build_is_fresh():
    item = design("plain")
    a, b = item.build(), item.build()
    assert not torch.equal(a[0].weight, b[0].weight)


def test_center_scaled_design_has_zero_kernel_centres():
    net = design("center-scaled").build()
    for conv in rfl.init.convolutions(net):
        assert torch.all(conv.weight[..., 1, 1] == 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        design("wider")
    with pytest.raises(ValueError, match="depth"):
        designs(depth=2)
    with pytest.raises(ValueError, match="strides"):
        plain_stack([3, 3], 4, strides=[1])


def test_depthwise_block_is_depthwise():
    net = large_depthwise_stack(2, 9, 6)
    depthwise = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.groups > 1]
    assert len(depthwise) == 2 and all(m.groups == 6 == m.in_channels for m in depthwise)


def _offsets(size: int) -> np.ndarray:
    return np.arange(size) - size // 2


def test_gridding_leaves_holes_and_hybrid_fills_them():
    """Dilation 2 everywhere: only even offsets reach the centre unit (exact zeros elsewhere)."""
    gridded = rfl.erf_map(design("dilated-gridding", channels=4).build, 33, n=2)
    odd = _offsets(33) % 2 == 1
    assert np.all(gridded[odd, :] == 0) and np.all(gridded[:, odd] == 0)
    assert np.all(gridded[::2, ::2] > 0)  # every even offset is reached
    hybrid = rfl.erf_map(design("dilated-hybrid", channels=4).build, 33, n=4)
    assert np.all(hybrid[4:-4, 4:-4] > 0)  # no hole (the far corners may meet dead ReLUs)


def test_skips_shrink_and_sub_sampling_grows_the_erf():
    table = compare_designs(41, n=8, channels=4, depth=4)
    sigma = {row.name: row.erf_sigma for row in table}
    assert sigma["residual"] < sigma["plain"] < sigma["strided"]
    assert sigma["plain"] < sigma["large-depthwise"]
    for row in table:
        assert row.mass_in_trf == pytest.approx(1.0)
        assert 0 < row.erf_size <= row.trf + 1e-9
    text = str(table)
    assert all(name in text for name in NAMES)
    assert "<table>" in table._repr_html_()
    assert table["plain"] is table[0]


@pytest.mark.parametrize("name", ["pooled", "strided", "dilated-hybrid"])
def test_field_sized_input_gives_the_canvas_map(name):
    """compare_designs measures on the smallest input that holds the field, then pads:
    the centre unit of the full canvas reads exactly the same pixels."""
    from rflesson.course.lesson04.experiments import side_holding_field

    torch.manual_seed(0)
    net = design(name, channels=4).build()
    side = side_holding_field(net, limit=COMPARE_INPUT)
    cut = (COMPARE_INPUT - side) // 2
    canvas = torch.randn(2, 1, COMPARE_INPUT, COMPARE_INPUT, dtype=torch.float64)
    field = canvas[:, :, cut : cut + side, cut : cut + side]
    whole = rfl.erf_map(net, COMPARE_INPUT, inputs=canvas, dtype=torch.float64)
    small = rfl.erf_map(net, side, inputs=field, dtype=torch.float64)
    np.testing.assert_allclose(np.pad(small, cut), whole, atol=1e-14)
