"""rflesson.erf_exact against erf_map: the same networks and inputs give the same ERF.

The reference is always ``erf_map`` (autograd through the padded ``ConvStack``
modules) on an input larger than the field, whose middle holds the inputs
``stack_erf`` used; it is cropped to the theoretical box.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rflesson.erf import erf_map, trf_box, uniform_profile
from rflesson.erf_exact import (
    StackBatch,
    draw_samples,
    layer_sides,
    multiply_adds,
    stack_erf,
    uniform_erf,
    uniform_profile_1d,
)
from rflesson.stacks import conv_stack

MARGIN = 8  # pixels of fresh noise around the field in the reference input


def batch_of(n: int = 4, seed: int = 0, **options) -> StackBatch:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return StackBatch.from_modules([conv_stack(**options) for _ in range(n)])


class MaskedStack(nn.Module):
    """A ConvStack whose dropout is replaced by fixed masks (one per layer)."""

    def __init__(self, net, masks):
        super().__init__()
        self.convs, self.act = net.convs, net.act
        for layer, mask in enumerate(masks):
            self.register_buffer(f"mask{layer}", mask)

    def forward(self, x):
        for layer, conv in enumerate(self.convs):
            x = self.act(conv(x)) * getattr(self, f"mask{layer}")
        return x


def _aligned(side: int, batch: StackBatch) -> int:
    period = 2 * int(np.prod(batch.strides))
    return side + (-(side - 1)) % period


def _big_sides(batch: StackBatch, big: int) -> list[int]:
    """Each layer's output side in the padded modules on a big x big input."""
    sides, current = [], big
    for k, s, d in zip(batch.kernels, batch.strides, batch.dilations, strict=True):
        current = (current + 2 * (d * (k - 1) // 2) - d * (k - 1) - 1) // s + 1
        sides.append(current)
    return sides


def _centre(small: torch.Tensor, big: torch.Tensor, step: int = 1) -> torch.Tensor:
    """``big`` with ``small`` written into its middle, every ``step``-th pixel."""
    span = step * (small.shape[-1] - 1) + 1
    offset = (big.shape[-1] - span) // 2
    big = big.clone()
    big[..., offset : offset + span : step, offset : offset + span : step] = small
    return big


def reference(batch: StackBatch, inputs, masks, big: int, window: int | None = None):
    """erf_map on the padded modules, on a big input holding ``inputs`` in its middle."""
    nets = batch.modules()
    step = batch.lattice_step()
    if masks is not None:
        sides = _big_sides(batch, big)

        def embedded(i: int) -> list[torch.Tensor]:
            return [
                _centre(mask[i], torch.ones(mask.shape[1], side, side), step)
                for mask, side in zip(masks, sides, strict=True)
            ]

        nets = [MaskedStack(net, embedded(i)) for i, net in enumerate(nets)]
    if inputs is not None:
        noise = torch.randn((batch.n, batch.channels[0], big, big), generator=torch.Generator())
        inputs = _centre(inputs, noise)
    models = iter(nets)
    erf = erf_map(
        lambda: next(models),
        big,
        n=batch.n,
        inputs=inputs,
        in_channels=batch.channels[0],
        dtype=torch.float64,
        batched=masks is None,
    )
    if window is not None:
        return erf
    (r0, r1), (c0, c1) = trf_box(nets[0] if masks is None else batch.modules()[0], big)
    return erf[r0 : r1 + 1, c0 : c1 + 1]


LAYOUTS = {
    "plain": {},
    "stride": {"stride": 2},  # replaced by stride 2 in the first two layers
    "dilation": {"dilation": 2},
}


def layout(name: str, depth: int) -> dict:
    if name == "stride":
        return {"stride": (2, 2) + (1,) * (depth - 2)}
    return LAYOUTS[name]


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_stack_erf_equals_erf_map_on_a_larger_input(name, activation, dropout):
    batch = batch_of(
        depth=3,
        kernel_size=3,
        channels=2,
        activation=activation,
        dropout=dropout,
        **layout(name, 3),
    )
    inputs, masks = draw_samples(batch, seed=1)
    erf = stack_erf(batch, inputs, masks)
    side = batch.field_side()
    assert erf.shape == (side, side) and erf.sum() == pytest.approx(1)
    expected = reference(batch, inputs, masks, _aligned(side + 2 * MARGIN, batch))
    assert expected.sum() == pytest.approx(1)  # the field holds the whole ERF
    np.testing.assert_allclose(erf, expected, atol=1e-6)


def test_default_samples_are_erf_maps_inputs():
    """Stride 1: stack_erf(seed=s) is erf_map of the same modules on the field, seed s."""
    batch = batch_of(depth=4, kernel_size=3, channels=2, activation="relu")
    side = batch.field_side()
    models = iter(batch.modules())
    expected = erf_map(lambda: next(models), side, n=batch.n, seed=3)  # float32 draws
    np.testing.assert_allclose(stack_erf(batch, seed=3), expected, atol=1e-6)


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_window_equals_erf_map_on_that_input(name, dropout):
    batch = batch_of(
        depth=5, kernel_size=3, channels=2, activation="relu", dropout=dropout, **layout(name, 5)
    )
    step = batch.lattice_step()
    window = _aligned(9, batch) if step == 1 else 9  # smaller than the field
    assert window < batch.field_side()
    inputs, masks = draw_samples(batch, seed=2, window=window)
    erf = stack_erf(batch, inputs, masks, window=window)
    assert erf.shape == (window, window)
    if masks is not None:
        assert [m.shape[-1] for m in masks] == list(layer_sides(batch, window))
    expected = reference(batch, inputs, masks, window, window=window)
    np.testing.assert_allclose(erf, expected, atol=1e-6)


def test_a_linear_stack_needs_no_samples():
    batch = batch_of(depth=3, kernel_size=5, channels=2)
    assert draw_samples(batch) == (None, None)
    assert multiply_adds(batch) * 2 == multiply_adds(
        batch_of(depth=3, kernel_size=5, channels=2, activation="relu")
    )


@pytest.mark.parametrize(
    "options",
    [
        {"depth": 6, "kernel_size": 3},
        {"depth": 3, "kernel_size": 7},
        {"depth": 4, "kernel_size": 5, "dilation": 2},
        {"depth": 4, "kernel_size": 3, "stride": (2, 2, 1, 1)},
        {"depth": 3, "kernel_size": 3, "dilation": (1, 2, 4)},
    ],
)
def test_uniform_erf_is_the_measured_map(options):
    net = conv_stack(weights="uniform", channels=2, **options)
    batch = StackBatch.from_modules([net])
    side = batch.field_side()
    big = _aligned(side + 2 * MARGIN, batch)
    measured = erf_map(net, big, n=1, dtype=torch.float64)
    (r0, r1), (c0, c1) = trf_box(net, big)
    np.testing.assert_allclose(uniform_erf(batch), measured[r0 : r1 + 1, c0 : c1 + 1], atol=1e-15)


def test_uniform_profile_matches_the_erf_module():
    for depth, k, d in [(5, 3, 1), (4, 7, 1), (3, 3, 2)]:
        np.testing.assert_allclose(
            uniform_profile_1d([k] * depth, [1] * depth, [d] * depth), uniform_profile(depth, k, d)
        )


def test_batches_round_trip_and_bad_input_is_named():
    batch = batch_of(depth=2, kernel_size=3, channels=3, activation="tanh", dropout=0.2)
    again = StackBatch.from_modules(batch.modules())
    assert again.strides == batch.strides and again.dropout == 0.2
    assert all(torch.equal(a, b) for a, b in zip(again.weights, batch.weights, strict=True))
    with pytest.raises(ValueError, match="skip"):
        StackBatch.from_modules([conv_stack(3, skip=True)])
    with pytest.raises(ValueError, match="window must be 1 more than a multiple of 8"):
        stack_erf(batch_of(depth=3, stride=(2, 2, 1)), window=10)
    with pytest.raises(ValueError, match="inputs must have shape"):
        stack_erf(batch, torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="strides and dilations"):
        StackBatch(weights=batch.weights, strides=(1,), dilations=(1, 1))
    with pytest.raises(TypeError, match="StackBatch"):
        stack_erf([conv_stack(2)])
