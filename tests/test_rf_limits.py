"""The RF engine under odd input: clear errors, documented limits, bounded memory and time.

Each case of the issue is a regression test here.  The budget tests run in a
subprocess and read its peak memory, so a regression cannot take the test
machine down with it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import rflesson
from rflesson import Layer, gradient_rf, input_region, receptive_field, rf_table
from rflesson.axismap import MAX_PERIOD
from rflesson.layers import MAX_ENUMERATE
from rflesson.rf import MAX_INPUT_LENGTH, MAX_LAYERS

# -- closed forms: huge inputs cost nothing ---------------------------------------------


def _bin(u: int, n: int, out: int) -> tuple[int, int]:
    """PyTorch's adaptive pooling bin (its documentation): floor(u n / out) .. ceil((u+1) n / out) - 1."""
    return (u * n) // out, -(-((u + 1) * n) // out) - 1


@pytest.mark.parametrize("n", [10**8, 10**9])
def test_adaptive_pooling_at_a_huge_input_uses_its_closed_form(n):
    model = nn.Sequential(nn.Conv1d(1, 1, 3, padding=1), nn.AdaptiveAvgPool1d(7))
    started = time.perf_counter()
    rf = receptive_field(model, n)
    region = input_region(model, 3, n)
    assert time.perf_counter() - started < 2
    first, last = _bin(3, n, 7)
    assert region.unclipped == (first - 1, last + 1) and region.clipped == (first - 1, last + 1)
    assert (
        rf.n_out == 7
        and rf.size == max(b - a + 1 for a, b in (_bin(u, n, 7) for u in range(7))) + 2
    )
    pooled = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveMaxPool2d(1)), n)
    assert pooled.whole_input and pooled.size == (n, n)


def test_a_model_with_python_control_flow_traces_at_a_huge_input():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 1, 3)
            self.b = nn.Conv2d(1, 1, 5)

        def forward(self, x):
            if int(x.shape[-1]) > 10:  # torch.fx could not trace this
                x = self.b(x)
            return self.a(x)

    started = time.perf_counter()
    rf = receptive_field(Branchy(), 10**9)
    assert rf.size == (7, 7) and rf.n_out == (10**9 - 6, 10**9 - 6)
    assert time.perf_counter() - started < 2


def test_a_scale_factor_is_taken_as_pytorch_takes_it():
    # no rounding to a fraction with a small denominator: 1.0005 * 4000 = 4002 outputs
    model = nn.Sequential(nn.Conv1d(1, 1, 1), nn.Upsample(scale_factor=1.0005))
    rf = receptive_field(model, 4000)
    assert rf.n_out == 4002 == nn.Upsample(scale_factor=1.0005)(torch.zeros(1, 1, 4000)).shape[-1]
    # nearest upsampling copies one source pixel: read it back from PyTorch itself
    source = nn.Upsample(scale_factor=1.0005)(torch.arange(4000.0).view(1, 1, -1))[0, 0]
    for u in (0, 1, 1999, 2000, 2001, 4001):
        assert input_region(model, u, 4000).clipped == (int(source[u]), int(source[u]))
    # a factor that is a small fraction keeps its exact period
    third = receptive_field(nn.Sequential(nn.Conv1d(1, 1, 3), nn.Upsample(scale_factor=1 / 3)), 30)
    assert third.jump == 3 and third.n_out == 9


# -- clear errors naming the parameter --------------------------------------------------


def test_output_must_be_a_name():
    with pytest.raises(TypeError, match=r"output must be .* got 0 \(int\)"):
        receptive_field([Layer(3)], 8, output=0)


def test_a_huge_kernel_on_a_small_input_states_the_minimum_input():
    with pytest.raises(ValueError, match="the smallest input it takes is 1000000000"):
        receptive_field([Layer(10**9)], 10)


def test_a_two_axis_network_refuses_a_one_axis_input_size():
    conv = nn.Sequential(nn.Conv2d(1, 1, 3))
    for call in (receptive_field, gradient_rf):
        with pytest.raises(ValueError, match=r"input_size has 1 axis, expected 2"):
            call(conv, (32,))
    assert receptive_field(conv, 32).n_out == (30, 30)  # an int is the same on every axis


def test_gradient_rf_bad_input_is_named_at_once():
    conv = nn.Sequential(nn.Conv2d(1, 1, 3))
    with pytest.raises(TypeError, match="input_size"):
        gradient_rf(conv, None)
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"channels=5 .* expected input\[1, 5"):
        gradient_rf(conv, 16, channels=5)
    assert (
        time.perf_counter() - started < 5
    )  # no doubling: a wrong channel count is not "too small"
    with torch.device("meta"):
        meta = nn.Sequential(nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="meta device"):
        gradient_rf(meta, 16)
    assert receptive_field(meta, 16).size == (3, 3)  # the analytic engine reads shapes only


# -- documented limits, refused at once --------------------------------------------------


def test_limits_are_refused_at_once_naming_the_limit():
    with pytest.raises(ValueError, match="MAX_INPUT_LENGTH"):
        receptive_field([Layer(3)], MAX_INPUT_LENGTH + 1)
    with pytest.raises(ValueError, match="MAX_LAYERS"):
        receptive_field([Layer(3)] * (MAX_LAYERS + 1))
    # 1.0004 is no fraction p/q with q <= 1000: PyTorch's outputs are followed one by one,
    # and at this size they repeat only every n_out / gcd(n_out, n) > MAX_PERIOD units
    n = 2 * MAX_PERIOD + 1
    n_out = int(n * 1.0004)
    assert n_out // math.gcd(n_out, n) > MAX_PERIOD
    with pytest.raises(ValueError, match="MAX_PERIOD"):
        receptive_field(nn.Sequential(nn.Conv1d(1, 1, 1), nn.Upsample(scale_factor=1.0004)), n)
    with pytest.raises(ValueError, match="MAX_ENUMERATE"):  # holes over 10**8 units, then a mean
        receptive_field(nn.Sequential(nn.Conv1d(1, 1, 1, stride=4), nn.AdaptiveAvgPool1d(1)), 10**8)
    with pytest.raises(ValueError, match="max_pixels"):
        gradient_rf(nn.Sequential(nn.Conv1d(1, 1, 3, 2, 1)), 10**8)
    assert MAX_ENUMERATE >= 1 << 20


def test_gradient_rf_stops_at_its_byte_budget_before_running():
    with pytest.raises(ValueError, match="max_bytes"):
        gradient_rf(nn.Sequential(nn.Conv2d(16, 16, 3)), 1024, max_bytes=1 << 20)


# -- the caller's objects stay as they were ---------------------------------------------------


class Hooked(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(F.relu(self.bn(self.conv(x))))


def test_no_hook_of_the_caller_fires_and_nothing_of_the_model_changes():
    model = Hooked().half().train()
    model.conv.weight.requires_grad_(False)
    fired = []
    model.conv.register_forward_hook(lambda *args: fired.append("module"))
    model.conv.register_forward_pre_hook(lambda *args: fired.append("pre"))
    handle = nn.modules.module.register_module_forward_hook(lambda *args: fired.append("global"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    try:
        receptive_field(model, 16)
        rf_table(model, 16)
        input_region(model, (0, 0), 16)
        gradient_rf(model, 16)
        receptive_field(model)  # traced twice, at two sizes
    finally:
        handle.remove()
    assert fired == []
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.dtype == torch.float16 for p in model.parameters()) and model.training
    assert [p.requires_grad for p in model.parameters()] == [False, True, True, True]
    assert len(model.conv._forward_hooks) == 1 and len(model.conv._forward_pre_hooks) == 1


# -- memory and time, measured in a subprocess ----------------------------------------------------

_BUDGET_SCRIPT = """
import json, resource, time, torch, torch.nn as nn
from rflesson import gradient_rf, input_region, receptive_field

def peak():
    # VmHWM is this program's own high-water mark.  ru_maxrss is not: Linux keeps it
    # across exec, so a child started by a large pytest process reports the parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

class SE(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(16, 16, 3, padding=1)
    def forward(self, x):
        y = self.conv(x)
        return y * torch.sigmoid(y.mean((2, 3), keepdim=True))

class ConvLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.lstm = nn.LSTM(4, 4)
    def forward(self, x):
        sequence = self.conv(x).mean(2).permute(2, 0, 1)
        return self.lstm(sequence)[0].permute(1, 2, 0).unsqueeze(2)

cases = {
    "adaptive": lambda: input_region(nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(5)), (2, 2), 10**9),
    "squeeze-excite": lambda: gradient_rf(SE(), 32),
    "lstm": lambda: gradient_rf(ConvLSTM(), 32),
}
found = {}
for name, call in cases.items():
    started = time.perf_counter()
    try:
        result = repr(call())
    except ValueError as error:
        result = "ValueError: " + str(error)
    found[name] = {"seconds": time.perf_counter() - started, "result": result}
found["peak_bytes"] = peak()
print(json.dumps(found))
"""


def test_budget_cases_stay_under_2_gb_and_30_s():
    out = subprocess.run(
        [sys.executable, "-c", _BUDGET_SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.splitlines()[-1])
    assert found["peak_bytes"] < 2 * 2**30
    for name in ("adaptive", "squeeze-excite", "lstm"):
        assert found[name]["seconds"] < 30, name
    assert "whole_input=True" in found["squeeze-excite"]["result"]
    assert "grows with the input" in found["lstm"]["result"]


def test_the_engine_is_exported_and_its_limits_documented():
    for name in ("MAX_INPUT_LENGTH", "MAX_LAYERS"):
        assert name in rflesson.rf.__doc__
    for name in ("MAX_ELEMENTS", "MAX_BYTES", "MAX_SECONDS"):
        assert name in rflesson.gradient.gradient_rf.__doc__
