"""rflesson.conv_stack: geometry, weights, options and bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

import rflesson as rfl
from rflesson.stacks import conv_stack


def test_uniform_weights_are_one_over_fan_in_and_no_bias():
    net = conv_stack(3, 5, channels=2, in_channels=3, weights="uniform")
    assert [c.in_channels for c in net.convs] == [3, 2, 2]
    for conv in net.convs:
        assert conv.bias is None
        fan_in = conv.in_channels * 25
        assert torch.all(conv.weight == 1.0 / fan_in)


def test_random_weights_have_the_activation_gain():
    torch.manual_seed(0)
    relu = conv_stack(2, 3, channels=64, weights="random", activation="relu")
    w = relu.convs[1].weight
    assert w.std().item() == pytest.approx((2 / (64 * 9)) ** 0.5, rel=0.05)
    assert abs(w.mean().item()) < 0.01


def test_output_keeps_the_size_and_strides_shrink_it():
    x = torch.randn(2, 1, 33, 33)
    assert conv_stack(4, 3)(x).shape == (2, 4, 33, 33)
    assert conv_stack(4, 5, dilation=2)(x).shape == (2, 4, 33, 33)
    assert conv_stack(4, 3, stride=(2, 2, 1, 1))(x).shape == (2, 4, 9, 9)


def test_layers_match_the_modules_receptive_field():
    net = conv_stack(5, 3, stride=(2, 1, 2, 1, 1), dilation=(1, 2, 1, 1, 3))
    from_layers = rfl.receptive_field(net.layers(), (65, 65))
    x = torch.zeros(1, 1, 65, 65)
    assert from_layers.n_out == tuple(net(x).shape[2:])
    # the RF engine's own module tracing agrees with the layer list
    assert rfl.receptive_field(net, (65, 65)).size == from_layers.size


def test_activations_dropout_and_skips_are_applied():
    x = torch.randn(1, 1, 17, 17)
    assert conv_stack(2, activation="sigmoid")(x).min() > 0
    assert conv_stack(2, activation="relu")(x).min() >= 0
    net = conv_stack(3, dropout=0.5)
    assert not torch.equal(net(x), net(x))  # training mode: fresh masks
    net.eval()
    assert torch.equal(net(x), net(x))
    skip = conv_stack(3, skip=True)
    plain = conv_stack(3)
    plain.load_state_dict(skip.state_dict())
    first = skip.convs[0](x)
    expected = first + skip.convs[1](first)
    expected = expected + skip.convs[2](expected)
    torch.testing.assert_close(skip(x), expected)
    assert not torch.allclose(plain(x), expected)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(depth=0), ValueError),
        (dict(depth=2, weights="ones"), ValueError),
        (dict(depth=2, activation="gelu"), ValueError),
        (dict(depth=2, stride=(2, 2, 2)), ValueError),
        (dict(depth=2, dilation=0), ValueError),
        (dict(depth=2, dropout=1.0), ValueError),
        (dict(depth=2, kernel_size=2.5), TypeError),
        (dict(depth=2, skip="yes"), TypeError),
    ],
)
def test_bad_input_names_the_parameter(kwargs, error):
    with pytest.raises(error) as info:
        conv_stack(**kwargs)
    assert next(k for k in kwargs if k != "depth" or len(kwargs) == 1) in str(info.value)


# -- issue 16: limits and odd values ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(depth=10**6), "MAX_DEPTH"),
        (dict(depth=10**400), "MAX_DEPTH"),
        (dict(depth=2, kernel_size=10**5), "MAX_WEIGHTS"),
        (dict(depth=2, channels=10**5), "MAX_WEIGHTS"),
        (dict(depth=2, stride=10**5), "MAX_STRIDE"),
        (dict(depth=2, stride=(1, 65)), "MAX_STRIDE"),
        (dict(depth=2, dilation=10**400), "MAX_SPAN"),
        (dict(depth=2, dropout=float("nan")), "dropout"),
        (dict(depth=2, dropout=float("inf")), "dropout"),
        (dict(depth=2, dropout=-0.1), "dropout"),
    ],
)
def test_limits_and_odd_values_are_refused_at_once(kwargs, words):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=words):
        conv_stack(**kwargs)
    assert time.perf_counter() - start < 0.5


def test_limits_can_be_raised(monkeypatch):
    monkeypatch.setattr("rflesson.stacks.MAX_DEPTH", 2)
    with pytest.raises(ValueError, match="MAX_DEPTH = 2"):
        conv_stack(3)
    monkeypatch.setattr("rflesson.stacks.MAX_DEPTH", 3)
    assert len(conv_stack(3).layers()) == 3


def test_numpy_and_torch_integers_are_integers():
    net = conv_stack(np.int64(3), torch.tensor(5), channels=np.int32(2), stride=(np.int64(2), 1, 1))
    assert len(net.layers()) == 3 and net.convs[0].kernel_size == (5, 5)
    assert net.convs[0].stride == (2, 2)
    with pytest.raises(TypeError, match="skip"):
        conv_stack(2, skip=1)
    assert conv_stack(2, skip=np.bool_(True)).skip is True
