"""Property test: on 260 random small networks per run (200 1-D, 60 2-D), branches included, the analytic
receptive field equals the one measured by back-propagation."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rflesson import gradient_rf, receptive_field
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
