"""gradient_rf: the back-propagation ground truth, and why each of its precautions is needed."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rflesson import Layer, gradient_rf, receptive_field


def _naive_support(model: nn.Module, n: int, dtype=torch.float32, ndim: int = 2) -> int:
    """Width of the gradient support of the central unit, measured the naive way."""
    torch.manual_seed(0)
    x = torch.rand(1, 1, *([n] * ndim), dtype=dtype, requires_grad=True)
    y = model.to(dtype)(x)
    grad = torch.zeros_like(y)
    grad[(0, 0, *(s // 2 for s in y.shape[2:]))] = 1
    y.backward(grad)
    support = x.grad[0, 0] != 0
    cols = torch.nonzero(support.any(0) if ndim == 2 else support).flatten()
    return int(cols[-1] - cols[0] + 1)


def test_float32_loses_the_edge_of_a_deep_chain_float64_does_not():
    chain = nn.Sequential(*[nn.Conv1d(1, 1, 3, bias=False) for _ in range(120)])
    for conv in chain:
        nn.init.constant_(conv.weight, 1 / 3)
    assert _naive_support(chain, 300, ndim=1) < 241  # the (1/3)**120 edge paths underflow
    assert gradient_rf(chain, 300).size == 241
    assert receptive_field(chain).size == 241


def test_max_pool_under_counts_dense_pooling_does_not():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3), nn.MaxPool2d(2))
    nn.init.constant_(model[0].weight, 1.0)
    nn.init.constant_(model[2].weight, 1.0)
    assert _naive_support(model, 32, torch.float64) < 10  # one element per window gets gradient
    assert gradient_rf(model, 32).size == (10, 10)
    assert receptive_field(model).size == (10, 10)


def test_functional_and_adaptive_max_pools_are_replaced_too():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 3)

        def forward(self, x):
            return F.max_pool1d(self.conv(x), 3, 2, dilation=2, ceil_mode=True)

    assert gradient_rf(Net(), 32).size == receptive_field(Net()).size == 7


def test_random_weights_and_biases_do_not_matter():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 4, 5, 2), nn.BatchNorm2d(4), nn.ReLU6(), nn.Conv2d(4, 2, 3))
    model[1].running_mean.fill_(100.0)  # would make every ReLU6 input negative
    assert gradient_rf(model, 40).size == receptive_field(model).size == (9, 9)


def test_layer_lists_and_input_growth():
    layers = [Layer(3, 2, 1)] * 4
    rf = gradient_rf(layers, 4)  # far too small to start with: it grows
    assert rf.size == 31 and rf.jump == 16 and rf.start == -15
    assert "measured at input size" in rf.note
    assert gradient_rf([Layer((3, 5), (1, 2))], (8, 8)).size == (3, 5)


def test_phases_measure_the_largest_region_after_upsampling():
    model = nn.Sequential(nn.Conv1d(1, 1, 3, stride=2), nn.ConvTranspose1d(1, 1, 3, stride=2))
    analytic = receptive_field(model)
    measured = gradient_rf(model, 32, phases=2)
    assert (measured.size, measured.jump) == (analytic.size, analytic.jump) == (5, 1)


def test_squeeze_excite_sees_the_whole_input():
    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 2, 3)

        def forward(self, x):
            y = self.conv(x)
            return y * torch.sigmoid(y.mean(2, keepdim=True))

    measured = gradient_rf(SE(), 16, max_pixels=1024)
    assert measured.whole_input and measured.size == 16
    assert receptive_field(SE(), 16).whole_input


def test_bad_input():
    with pytest.raises(TypeError, match="model"):
        gradient_rf("resnet", 32)
    with pytest.raises(ValueError, match="phases"):
        gradient_rf([Layer(3)], 8, phases=0)
    with pytest.raises(ValueError, match="no convolution"):
        gradient_rf(nn.Sequential(nn.Linear(2, 2)), 8)
    with pytest.raises(ValueError, match="input_size"):
        gradient_rf([Layer(3)], 0)


class _Holes(nn.Module):
    """A transposed conv with kernel 1 < stride 2 leaves every other unit empty."""

    def __init__(self, shift: int, stride: int = 1, merge: str = "none"):
        super().__init__()
        self.first = nn.Conv1d(1, 1, 1)
        self.up = nn.ConvTranspose1d(1, 1, 1, stride=2)
        self.shift, self.merge = shift, merge
        self.pick = nn.Conv1d(1, 1, 1, stride=stride, bias=False)
        self.a = nn.Conv1d(1, 1, 3, padding=1)
        self.b = nn.Conv1d(1, 1, 1)

    def forward(self, x):
        y = self.pick(F.pad(self.up(self.first(x)), (self.shift, 0)))
        if self.merge == "mul":
            return self.a(y) * self.b(y)
        return y


def test_an_output_that_reads_only_holes_is_an_error_for_both():
    model = _Holes(shift=1, stride=2)  # every output unit reads an odd, empty unit
    with pytest.raises(ValueError, match="does not depend on the input"):
        receptive_field(model)
    with pytest.raises(ValueError, match="do not depend on the input"):
        gradient_rf(model, 32, phases=2)


def test_known_disagreement_product_with_an_empty_factor():
    # Odd units: a reads two inputs, b reads none, so b == 0 and d(a*b)/dx == 0.
    # The analytic answer counts what the unit's formula involves (2 pixels);
    # back-propagation, with zero biases, sees only the even units (1 pixel).
    model = _Holes(shift=0, merge="mul")
    assert receptive_field(model).size == 2
    assert gradient_rf(model, 32, phases=2).size == 1


# -- when to stop, and why (issue: gradient_rf hangs or misreads failures) ----------------


class ConvLSTM(nn.Module):
    """A recurrent layer along the width: position t reads positions 0..t."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.lstm = nn.LSTM(4, 4)

    def forward(self, x):
        sequence = self.conv(x).mean(2).permute(2, 0, 1)  # (width, batch, channels)
        return self.lstm(sequence)[0].permute(1, 2, 0).unsqueeze(2)  # (batch, c, 1, width)


def test_a_recurrent_layer_stops_the_search_with_the_reason():
    import time

    started = time.perf_counter()
    with pytest.raises(ValueError, match="along axis 1 .* grows with the input"):
        gradient_rf(ConvLSTM(), 32)
    assert time.perf_counter() - started < 30


def test_whole_input_is_said_after_two_sizes_and_names_them():
    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3, padding=1)
            self.mha = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            y = self.conv(x)
            b, c, h, w = y.shape
            t = y.flatten(2).transpose(1, 2)
            return self.mha(t, t, t)[0].transpose(1, 2).reshape(b, c, h, w)

    rf = gradient_rf(Attention(), 16)
    assert rf.whole_input and rf.size == (16, 16) and "input size (" in rf.note
    assert receptive_field(Attention(), 16).whole_input


class Fails(nn.Module):
    def __init__(self, message: str, below: int = 0):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3)
        self.message, self.below = message, below

    def forward(self, x):
        if x.shape[-1] >= self.below:
            raise RuntimeError(self.message)
        return self.conv(x)


def test_out_of_memory_is_not_read_as_a_too_small_input():
    with pytest.raises(ValueError, match="ran out of memory at input size"):
        gradient_rf(Fails("DefaultCPUAllocator: can't allocate memory: you tried to allocate"), 32)


def test_a_real_failure_of_the_model_is_named_not_grown_past():
    with pytest.raises(ValueError, match="the model fails at input size .* mat1 and mat2"):
        gradient_rf(Fails("mat1 and mat2 shapes cannot be multiplied (1x5 and 4x4)"), 32)


def test_a_too_small_input_still_grows():
    class NeedsSixteen(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 3)

        def forward(self, x):
            return self.conv(F.avg_pool1d(x, 16))

    assert gradient_rf(NeedsSixteen(), 4).size == 48


class PaddedStrides(nn.Module):
    """A 1x1 convolution after one pixel of left padding, then four stride-3 max pools.

    Jump 81, field 55: at 64 or 128 pixels the output has one unit.  Found by the
    property test (hypothesis) once the search was allowed to stop at two sizes.
    """

    def __init__(self, left: int, last_kernel: int):
        super().__init__()
        self.conv, self.left, self.last_kernel = nn.Conv1d(1, 1, 1), left, last_kernel

    def forward(self, x):
        x = self.conv(F.pad(x, (self.left, 0)))
        for kernel in (1, 1, 1, self.last_kernel):
            x = F.max_pool1d(x, kernel, 3)
        return x


def test_one_unit_reading_a_fixed_region_is_not_taken_for_a_global_pool():
    model = PaddedStrides(left=0, last_kernel=3)
    measured, analytic = gradient_rf(model, 64), receptive_field(model)
    assert (measured.size, measured.jump, measured.start) == (55, 81, 0)
    assert (measured.size, measured.jump, measured.start) == (
        analytic.size,
        analytic.jump,
        analytic.start,
    )
    assert not measured.whole_input


def test_a_central_unit_that_reads_only_padding_grows_the_input():
    model = PaddedStrides(left=1, last_kernel=1)
    measured, analytic = gradient_rf(model, 64), receptive_field(model)
    assert (measured.size, measured.jump, measured.start) == (
        analytic.size,
        analytic.jump,
        analytic.start,
    )
