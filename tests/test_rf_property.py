"""Property test: on 260 random small networks per run (200 1-D, 60 2-D), branches included, the analytic
receptive field equals the one measured by back-propagation."""

from __future__ import annotations

import re

import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rflesson import gradient_rf, input_region, receptive_field
from rflesson.rf import _as_graph, _propagate

conv = st.builds(
    lambda k, s, d, b, a: ("conv", k, s, d, b, a),
    st.integers(1, 4), st.integers(1, 2), st.integers(1, 2), st.integers(0, 2), st.integers(0, 2),
)  # fmt: skip
pool = st.builds(
    lambda kind, k, s, ceil: (kind, k, s, ceil),
    st.sampled_from(["max", "avg"]), st.integers(1, 3), st.integers(1, 3), st.booleans(),
)  # fmt: skip
up = st.builds(lambda mode: ("up", mode), st.sampled_from(["nearest", "linear"]))
# kernel >= stride: with a smaller kernel some units read nothing, and a product with
# such a unit is zero for back-propagation (see test_gradient_rf.py for that case)
transposed = st.builds(
    lambda s, extra: ("tconv", s + extra, s), st.integers(1, 2), st.integers(0, 2)
)
residual = st.builds(
    lambda k, strided, merge: ("res", k, strided, merge),
    st.sampled_from([1, 3, 5]), st.booleans(), st.sampled_from(["add", "mul", "cat"]),
)  # fmt: skip
op = st.one_of(conv, pool, up, transposed, residual)


class RandomNet(nn.Module):
    """A 1-D network built from a list of operation descriptions."""

    def __init__(self, ops):
        super().__init__()
        self.ops = ops
        self.mods = nn.ModuleList()
        for o in ops:
            if o[0] == "conv":
                self.mods.append(nn.Conv1d(1, 1, o[1], o[2], dilation=o[3]))
            elif o[0] == "tconv":
                self.mods.append(nn.ConvTranspose1d(1, 1, o[1], o[2]))
            elif o[0] == "res":
                stride = 2 if o[2] else 1
                self.mods.append(
                    nn.ModuleList(
                        [nn.Conv1d(1, 1, o[1], stride, o[1] // 2), nn.Conv1d(1, 1, 1, stride)]
                    )
                )
            else:
                self.mods.append(nn.Identity())

    def forward(self, x):
        for o, m in zip(self.ops, self.mods, strict=True):
            if o[0] == "conv":
                x = m(F.pad(x, (o[4], o[5])))
            elif o[0] == "max":
                x = F.max_pool1d(x, o[1], o[2], ceil_mode=o[3])
            elif o[0] == "avg":
                x = F.avg_pool1d(x, o[1], o[2], ceil_mode=o[3])
            elif o[0] == "up":
                x = F.interpolate(x, scale_factor=2, mode=o[1])
            elif o[0] == "tconv":
                x = m(x)
            else:
                a, b = m[0](x), m[1](x)
                x = (
                    a + b
                    if o[3] == "add"
                    else a * b
                    if o[3] == "mul"
                    else torch.cat([a, b], 1)[:, :1]
                )
        return x


def _period(model) -> int:
    nodes, ndim, sizes = _as_graph(model, None)
    return _propagate(nodes, ndim, sizes)[nodes[-1].name].maps[0].period


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv, st.lists(op, max_size=4))
def test_random_networks_analytic_equals_gradient(first, rest):
    model = RandomNet([first, *rest])  # a convolution first: it fixes the dimension
    analytic = receptive_field(model)
    measured = gradient_rf(model, 64, phases=_period(model), max_pixels=1 << 16)
    assert (measured.size, measured.jump, measured.start, measured.center) == (
        analytic.size,
        analytic.jump,
        analytic.start,
        analytic.center,
    )


axis = st.tuples(st.integers(1, 4), st.integers(1, 2), st.integers(1, 2), st.integers(0, 2))


class RandomNet2d(nn.Module):
    """Non-square kernels, strides, dilations and paddings, with a strided residual branch."""

    def __init__(self, specs, residual):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(1, 1, (h[0], w[0]), (h[1], w[1]), (h[3], w[3]), (h[2], w[2]))
            for h, w in specs
        )
        self.residual = residual
        self.a = nn.Conv2d(1, 1, (3, 1), 2, (1, 0))
        self.b = nn.Conv2d(1, 1, 1, 2)

    def forward(self, x):
        for conv in self.convs:
            x = conv(x)
        if self.residual:
            x = self.a(x) + self.b(x)
        return x


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(axis, axis), min_size=1, max_size=3), st.booleans())
def test_random_2d_networks_analytic_equals_gradient(specs, residual):
    model = RandomNet2d(specs, residual)
    analytic = receptive_field(model)
    measured = gradient_rf(model, 32, max_pixels=1 << 16)
    assert all(
        getattr(measured, f) == getattr(analytic, f) for f in ("size", "jump", "start", "center")
    )


# -- reshapes, dim-taking operations, broadcast merges and every padding mode ------------------

MODES = ["zeros", "reflect", "replicate", "circular"]
padded = st.builds(
    lambda k, s, p, mode: ("pconv", k, s, p, mode),
    st.integers(1, 4), st.integers(1, 2), st.integers(0, 2), st.sampled_from(MODES),
)  # fmt: skip
layout_op = st.sampled_from([("flatback",), ("chlast",), ("shuffle",)])
mixing_op = st.sampled_from([("strip",), ("se",), ("softmax",)])
op2 = st.one_of(padded, padded, layout_op, mixing_op, residual)


class OpsNet(nn.Module):
    """A 2-D network of padded convolutions, reshapes, channel-last layers and broadcasts."""

    def __init__(self, ops):
        super().__init__()
        self.ops = ops
        self.mods = nn.ModuleList()
        for o in ops:
            if o[0] == "pconv":
                self.mods.append(nn.Conv2d(2, 2, o[1], o[2], o[3], padding_mode=o[4]))
            elif o[0] == "res":
                stride = 2 if o[2] else 1
                self.mods.append(
                    nn.ModuleList(
                        [nn.Conv2d(2, 2, o[1], stride, o[1] // 2), nn.Conv2d(2, 2, 1, stride)]
                    )
                )
            elif o[0] == "chlast":
                self.mods.append(nn.Sequential(nn.LayerNorm(2), nn.Linear(2, 2)))
            else:
                self.mods.append(nn.Identity())

    def forward(self, x):
        for o, m in zip(self.ops, self.mods, strict=True):
            b, c, h, w = x.shape
            if o[0] == "pconv":
                x = m(x)
            elif o[0] == "res":
                a, y = m[0](x), m[1](x)
                x = (
                    a + y
                    if o[3] == "add"
                    else a * y
                    if o[3] == "mul"
                    else torch.cat([a, y], 1)[:, :2]
                )
            elif o[0] == "flatback":  # flatten space, then restore it
                x = x.flatten(2).reshape(b, c, h, w)
            elif o[0] == "chlast":  # channels last, norm and linear over channels, back
                x = m(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            elif o[0] == "shuffle":  # a channel shuffle through a 5-dimensional view
                x = x.view(b, 2, c // 2, h, w).transpose(1, 2).reshape(b, c, h, w)
            elif o[0] == "strip":  # a broadcast summary of each row
                x = x + x.mean(3, keepdim=True)
            elif o[0] == "se":  # squeeze-and-excitation
                x = x * torch.sigmoid(x.mean((2, 3), keepdim=True))
            else:  # a gate from a softmax over the columns (a softmax alone sums to 1 per row,
                # so a mean over the row that follows would not depend on the input at all)
                x = x * torch.softmax(x, dim=3)
        return x


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(padded, st.lists(op2, max_size=4))
def test_random_ops_networks_analytic_equals_gradient(first, rest):
    model = OpsNet([first, *rest])
    measured = gradient_rf(model, 24, channels=2, max_pixels=1 << 18)
    alike = _alike_axes(measured.note)  # axis -> the input length its box was measured at
    for axis in range(2):
        if axis in alike:  # every unit sees the same pixels: compare the real pixels it reads
            length = alike[axis]
            lo, hi = input_region(model, (0, 0), (length, length)).clipped[axis]
            assert (measured.start[axis], measured.size[axis]) == (lo, hi - lo + 1), axis
            continue
        analytic = receptive_field(model, _measured_size(measured))
        for f in FIELDS_ALL:
            assert getattr(measured, f)[axis] == getattr(analytic, f)[axis], (f, axis)


FIELDS_ALL = ("size", "jump", "start", "center")


def _alike_axes(note: str) -> dict[int, int]:
    """Axes every unit saw alike, with the input length their box was shown at (from the note)."""
    if "at input length" not in note:
        return {}
    lengths = [
        int(n) for n in re.match(r"[\d, ]+", note.split("at input length ")[1])[0].split(", ") if n
    ]
    if "every output unit sees" in note:
        return dict(enumerate(lengths))
    axes = [int(a) for a in note.split("along axes [")[1].split("]")[0].split(", ")]
    return dict(zip(axes, lengths, strict=True))


def _measured_size(measured) -> tuple[int, int]:
    """The input size gradient_rf measured at (its note says)."""
    text = measured.note.split("measured at input size ")[1].split(";")[0]
    return tuple(int(n) for n in text.strip("()").split(", "))


class RegionNet(nn.Module):
    """A 1-D network for exact regions: padded convolutions, pools, upsampling, branches."""

    def __init__(self, ops):
        super().__init__()
        self.ops = ops
        self.mods = nn.ModuleList()
        for o in ops:
            if o[0] == "pconv":
                self.mods.append(nn.Conv1d(1, 1, o[1], o[2], o[3], padding_mode=o[4]))
            elif o[0] == "res":
                stride = 2 if o[2] else 1
                self.mods.append(
                    nn.ModuleList(
                        [nn.Conv1d(1, 1, o[1], stride, o[1] // 2), nn.Conv1d(1, 1, 1, stride)]
                    )
                )
            elif o[0] == "conv":
                self.mods.append(nn.Conv1d(1, 1, o[1], o[2], dilation=o[3]))
            else:
                self.mods.append(nn.Identity())

    def forward(self, x):
        for o, m in zip(self.ops, self.mods, strict=True):
            if o[0] == "pconv":
                x = m(x)
            elif o[0] == "conv":
                x = m(F.pad(x, (o[4], o[5])))
            elif o[0] == "res":
                a, b = m[0](x), m[1](x)
                x = a + b if o[3] != "cat" else torch.cat([a, b], 1)[:, :1]
            elif o[0] in ("max", "avg"):
                pool = F.max_pool1d if o[0] == "max" else F.avg_pool1d
                x = pool(x, o[1], o[2], ceil_mode=o[3])
            elif o[0] == "up":
                x = F.interpolate(x, scale_factor=2, mode=o[1])
        return x


region_op = st.one_of(padded, padded, conv, pool, up, residual)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(padded, st.lists(region_op, max_size=4), st.integers(12, 40))
def test_random_regions_under_every_padding_mode_equal_the_gradient(first, rest, n):
    from gradient_truth import support

    from rflesson import input_region

    model = RegionNet([first, *rest])
    try:
        n_out = receptive_field(model, n).n_out
        model(torch.zeros(1, 1, n))  # padding wider than the input is refused by torch
    except (ValueError, RuntimeError):
        return
    for unit in range(n_out):
        (runs,) = support(model, (n,), (unit,))
        region = input_region(model, unit, n)
        assert region.parts == runs, (unit, region.parts, runs)
