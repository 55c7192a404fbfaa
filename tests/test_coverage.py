"""rflesson.coverage: path counts, checked against an independent gradient computation.

The ground truth here is back-propagation: with every weight 1, every bias 0
and float64, the input gradient of one output unit counts the paths from it
to each input pixel (a sum pool counts like a convolution of ones).
"""

from __future__ import annotations

import copy
import math
import sys
import time

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rflesson as rfl
from rflesson import Layer
from rflesson.coverage import coverage_map

# -- the independent ground truth ------------------------------------------------------


def _torch_layers(layers: list[Layer], ndim: int, *, use_padding: bool = True):
    """A function applying ``layers`` as convolutions of ones (float64, one channel)."""
    conv = {1: F.conv1d, 2: F.conv2d}[ndim]

    def run(x: torch.Tensor) -> torch.Tensor:
        for layer in layers:
            axes = layer.axes(ndim)
            if use_padding:
                pads = [p for w in reversed(axes) for p in (w.pad_before, w.pad_after)]
                x = F.pad(x, pads)
            weight = torch.ones((1, 1, *(w.kernel for w in axes)), dtype=torch.float64)
            x = conv(
                x,
                weight,
                stride=tuple(w.stride for w in axes),
                dilation=tuple(w.dilation for w in axes),
            )
        return x

    return run


def _gradient(run, sizes: tuple[int, ...], unit: tuple[int, ...]) -> np.ndarray:
    """d out[unit] / d input, for an all-positive input of ``sizes``."""
    x = torch.ones((1, 1, *sizes), dtype=torch.float64, requires_grad=True)
    out = run(x)
    out[(0, 0, *unit)].backward()
    return x.grad[0, 0].numpy()


def _check_against(grad: np.ndarray, cov) -> None:
    """The coverage map equals the gradient on its box, and the gradient is zero elsewhere."""
    box = tuple(slice(o, o + n) for o, n in zip(cov.origin, cov.counts.shape, strict=True))
    np.testing.assert_array_equal(cov.counts, np.rint(grad[box]).astype(np.int64))
    rest = grad.copy()
    rest[box] = 0
    assert not rest.any(), "paths outside the receptive-field box"


def _ones_copy(model: nn.Module) -> nn.Module:
    """A float64 copy with every weight 1 and every bias 0."""
    twin = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for name, p in twin.named_parameters():
            p.fill_(0.0 if name.endswith("bias") else 1.0)
    return twin


# -- the worked cases ---------------------------------------------------------------------


def test_plain_stack_is_a_binomial_like_count():
    assert rfl.coverage([Layer(3), Layer(3)]).tolist() == [1, 2, 3, 2, 1]
    assert rfl.coverage([Layer(2)] * 4).tolist() == [math.comb(4, i) for i in range(5)]


def test_two_rate_two_layers_read_every_other_pixel():
    counts = rfl.coverage([Layer(3, dilation=2)] * 2)
    assert counts.tolist() == [1, 0, 2, 0, 3, 0, 2, 0, 1]


@pytest.mark.parametrize(
    ("rates", "size", "holes"),
    [
        ((2, 2, 2), 13, 6),  # every odd offset is missed
        ((2, 4, 8), 29, 14),  # all rates even: the whole odd lattice is missed
        ((1, 2, 3), 13, 0),
        ((1, 2, 5), 17, 0),
        ((1, 2, 9), 25, 4),  # offsets 4, 5 (and -4, -5) are missed
    ],
)
def test_gridding_cases_of_the_lesson(rates, size, holes):
    counts = rfl.coverage([Layer(3, dilation=r) for r in rates])
    assert counts.shape == (size,)
    assert int((counts == 0).sum()) == holes
    assert size == rfl.receptive_field([Layer(3, dilation=r) for r in rates]).size


def test_two_d_map_is_the_outer_product_of_the_axes():
    layers_1d = [Layer(3, dilation=r) for r in (1, 2, 9)]
    layers_2d = [Layer((3, 3), dilation=r) for r in (1, 2, 9)]
    one = rfl.coverage(layers_1d)
    two = rfl.coverage(layers_2d)
    assert two.shape == (25, 25)
    np.testing.assert_array_equal(two, np.outer(one, one))
    cmap = coverage_map(layers_2d)
    assert cmap.holes == 25 * 25 - 21 * 21
    assert cmap.origin == (0, 0)  # no padding: the field starts at input pixel 0
    assert (7, 3) in cmap.hole_positions()  # row 7 lies 5 pixels above the centre: a hole
    assert (12, 12) not in cmap.hole_positions()


def test_non_square_kernels_and_rates():
    counts = rfl.coverage([Layer((3, 1), dilation=(1, 1)), Layer((1, 3), dilation=(1, 2))])
    assert counts.shape == (3, 5)
    assert counts.tolist() == [[1, 0, 1, 0, 1]] * 3


def test_box_and_origin_come_from_the_engine():
    net = [Layer(3, stride=2, padding=1)] * 3
    cmap = coverage_map(net)
    rf = rfl.receptive_field(net)
    assert cmap.counts.shape == (rf.size,)
    assert cmap.origin == (rf.start,)
    assert cmap.rf == rf


def test_central_unit_and_clipping_with_an_input_size():
    net = [Layer(3, stride=2, padding=1)] * 3
    cmap = coverage_map(net, 16)
    assert rfl.receptive_field(net, 16).n_out == 2
    assert cmap.unit == (0,)
    region = rfl.input_region(net, 0, 16)
    assert cmap.origin == (max(region.unclipped[0], 0),)
    assert cmap.counts.shape == (min(region.unclipped[1], 15) - cmap.origin[0] + 1,)


def test_huge_counts_stay_exact():
    # (1 + x + x^2)^40: the central trinomial coefficient overflows nothing in 1-D,
    # but its square (2-D) does not fit in int64.
    n = 40
    central = sum(math.comb(n, k) * math.comb(n - k, k) for k in range(n // 2 + 1))
    one = rfl.coverage([Layer(3)] * n)
    assert int(one[n]) == central
    two = rfl.coverage([Layer((3, 3))] * n)
    assert int(two[n, n]) == central**2
    assert central**2 > 2**63


def test_bad_input_is_reported_by_name():
    with pytest.raises(ValueError, match="empty"):
        rfl.coverage([])
    with pytest.raises(TypeError, match="net"):
        rfl.coverage("conv")
    with pytest.raises(ValueError, match="input_size"):
        rfl.coverage([Layer(5)] * 3, input_size=4)


# -- issue 16: large kernels are fast, and the limits are refused at once ------------------


def _box_counts(kernels: list[int]) -> np.ndarray:
    """Paths through stride-1 boxes: the boxes convolved together (NumPy, independent)."""
    counts = np.ones(1, dtype=np.int64)
    for k in kernels:
        counts = np.convolve(counts, np.ones(k, dtype=np.int64))
    return counts


@pytest.mark.parametrize("kernels", [[1000, 1000], [3000, 7, 250], [2, 999, 3]])
def test_large_kernels_count_exactly_and_fast(kernels):
    start = time.perf_counter()
    counts = rfl.coverage([Layer(k) for k in kernels])
    assert time.perf_counter() - start < 5.0
    np.testing.assert_array_equal(counts, _box_counts(kernels))


def test_large_dilated_strided_kernels_match_the_gradient():
    layers = [Layer(3, stride=2), Layer(41, dilation=3), Layer(60, stride=3, dilation=2)]
    cov = coverage_map(layers, 700)
    _check_against(_gradient(_torch_layers(layers, 1), (700,), cov.unit), cov)


def test_a_two_d_box_of_1000_squared_kernels_is_counted():
    counts = rfl.coverage([Layer((1000, 1000))] * 2)
    one = _box_counts([1000, 1000])
    assert counts.shape == (1999, 1999)
    np.testing.assert_array_equal(counts[::97, ::89], np.outer(one, one)[::97, ::89])


@pytest.mark.parametrize(
    "net, words",
    [
        ([Layer((3000, 3000))] * 2, "MAX_CELLS"),
        ([Layer(10**9)], "MAX_CELLS"),
        ([Layer(3)] * 5000, "MAX_LAYERS"),
    ],
)
def test_beyond_the_limits_is_refused_at_once(net, words):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=words):
        rfl.coverage(net)
    assert time.perf_counter() - start < 2.0


def test_too_much_work_is_refused_within_seconds():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="MAX_WORK"):
        rfl.coverage([Layer((3, 3))] * 400)  # counts of 380 digits on an 801 x 801 box
    assert time.perf_counter() - start < 30.0


def test_the_limits_can_be_raised(monkeypatch):
    monkeypatch.setattr(sys.modules["rflesson.coverage"], "MAX_CELLS", 8)
    with pytest.raises(ValueError, match="MAX_CELLS = 8"):
        rfl.coverage([Layer(3)] * 4)
    monkeypatch.setattr(sys.modules["rflesson.coverage"], "MAX_CELLS", 9)
    assert rfl.coverage([Layer(3)] * 4).tolist() == _box_counts([3] * 4).tolist()
    monkeypatch.setattr(sys.modules["rflesson.coverage"], "MAX_WORK", 10)
    with pytest.raises(ValueError, match="MAX_WORK = 10"):
        rfl.coverage([Layer(3)] * 4)


# -- against the gradient: layer lists --------------------------------------------------

_paddings = st.one_of(st.integers(0, 2), st.just("same"), st.just("valid"))


@st.composite
def _layer(draw, ndim: int) -> Layer:
    def axis(lo, hi):
        values = tuple(draw(st.integers(lo, hi)) for _ in range(ndim))
        return values[0] if ndim == 1 else values

    stride = axis(1, 3)
    padding = draw(_paddings)
    if padding == "same" and stride not in (1, (1,) * ndim):
        padding = 1
    return Layer(axis(1, 4), stride=stride, padding=padding, dilation=axis(1, 3))


@st.composite
def _net(draw):
    ndim = draw(st.sampled_from([1, 2]))
    depth = draw(st.integers(1, 4 if ndim == 1 else 3))
    return ndim, [draw(_layer(ndim)) for _ in range(depth)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_net(), st.integers(1, 12))
def test_matches_the_gradient_on_a_bounded_input(net_spec, extra):
    ndim, layers = net_spec
    try:
        smallest = rfl.receptive_field(layers).size
    except ValueError:
        assume(False)
    smallest = smallest if isinstance(smallest, int) else max(smallest)
    size = smallest + extra
    try:
        rf = rfl.receptive_field(layers, (size,) * ndim)
    except ValueError:
        assume(False)
    cmap = coverage_map(layers, (size,) * ndim)
    n_out = rf.n_out if isinstance(rf.n_out, tuple) else (rf.n_out,)
    assert cmap.unit == tuple((n - 1) // 2 for n in n_out)
    grad = _gradient(_torch_layers(layers, ndim), (size,) * ndim, cmap.unit)
    _check_against(grad, cmap)


@settings(max_examples=100, deadline=None)
@given(_net())
def test_matches_the_gradient_on_an_unbounded_input(net_spec):
    ndim, layers = net_spec
    cmap = coverage_map(layers)
    rf = cmap.rf
    size = rf.size if isinstance(rf.size, tuple) else (rf.size,)
    start = rf.start if isinstance(rf.start, tuple) else (rf.start,)
    assert cmap.origin == start
    # Unit 0 without padding reads input[0 : size]: the same pattern, shifted.
    grad = _gradient(_torch_layers(layers, ndim, use_padding=False), size, (0,) * ndim)
    np.testing.assert_array_equal(cmap.counts, np.rint(grad).astype(np.int64))


# -- against the gradient: modules -------------------------------------------------------


class _Branchy(nn.Module):
    """Residual add, channel concatenation, F.pad, a sum pool and a dilated conv."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 1, 3, padding=1)
        self.dilated = nn.Conv2d(1, 1, 3, padding=2, dilation=2)
        self.pool = nn.AvgPool2d(2, stride=2, divisor_override=1)  # a sum pool
        self.wide = nn.Conv2d(1, 1, (1, 5), padding=(0, 2))
        self.merge = nn.Conv2d(2, 1, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        x = x + self.dilated(x)
        x = self.pool(F.pad(x, (1, 0, 0, 1)))
        both = torch.cat([x, self.wide(x)], dim=1)
        return self.merge(both)


class _GlobalContext(nn.Module):
    """A global-pooling branch broadcast back onto the map (as in squeeze-excite, but added).

    The pooled mean is multiplied by the number of pixels, so that its gradient
    counts paths (a sum) while the traced graph still holds a global pooling.
    """

    def __init__(self, pixels: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 1, 3, padding=1)
        self.b = nn.Conv2d(1, 1, 3, stride=2)
        self.pixels = pixels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a(x)
        return self.b(y + F.adaptive_avg_pool2d(y, 1) * self.pixels)


class _UpDown(nn.Module):
    """Down, then up again: transposed convolution and nearest upsampling (jump below 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 1, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
        self.grow = nn.Upsample(scale_factor=2, mode="nearest")
        self.last = nn.Conv2d(1, 1, 3, stride=3, dilation=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last(self.grow(self.up(self.down(x))))


@pytest.mark.parametrize(
    ("make", "sizes"),
    [
        (_UpDown, (12, 12)),
        (_UpDown, (11, 14)),
        (lambda: _GlobalContext(9 * 12), (9, 12)),
        (lambda: rfl.zoo.context_module(channels=1), (80, 80)),
        (lambda: rfl.zoo.context_module(channels=1), (30, 41)),
        (_Branchy, (24, 24)),
        (_Branchy, (9, 14)),
    ],
)
def test_modules_match_the_gradient(make, sizes):
    model = make()
    cmap = coverage_map(model, sizes)
    grad = _gradient(_ones_copy(model), sizes, cmap.unit)
    _check_against(grad, cmap)


def test_module_and_layer_list_agree():
    module = nn.Sequential(
        nn.Conv2d(3, 4, 3, dilation=2, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, dilation=3),
    )
    layers = [Layer(3, dilation=2, padding=2), Layer(2, stride=2), Layer(3, dilation=3)]
    one = rfl.coverage(layers)  # int-only layers are 1-D unless the input says otherwise
    np.testing.assert_array_equal(rfl.coverage(module), np.outer(one, one))
    np.testing.assert_array_equal(rfl.coverage(module, 40), rfl.coverage(layers, (40, 40)))


def test_wavenet_block_covers_its_1024_samples_without_holes():
    cmap = coverage_map(rfl.zoo.wavenet(channels=2))
    assert cmap.counts.shape == (1024,)
    assert cmap.holes == 0
    assert cmap.rf.size == 1024


def test_model_is_not_changed():
    model = rfl.zoo.context_module(channels=2).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rfl.coverage(model, 70)
    assert model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
