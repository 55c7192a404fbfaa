"""rflesson.erf_exact against erf_map: the same networks and inputs give the same ERF.

The reference is always ``erf_map`` (autograd through the padded ``ConvStack``
modules) on an input larger than the field, whose middle holds the inputs
``stack_erf`` used; it is cropped to the theoretical box.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from erf_reference import MARGIN, aligned, reference

from rflesson.erf import erf_map, erf_stats, trf_box, uniform_profile
from rflesson.erf_exact import (
    StackBatch,
    draw_samples,
    layer_sides,
    outer_stats,
    stack_erf,
    uniform_erf,
    uniform_profile_1d,
    work,
)
from rflesson.stacks import conv_stack


def batch_of(n: int = 8, seed: int = 0, **options) -> StackBatch:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return StackBatch.from_modules([conv_stack(**options) for _ in range(n)])


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
    expected, outside = reference(batch, inputs, masks)
    assert abs(outside) < 1e-12  # the field holds the whole ERF
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
    window = aligned(9, batch) if step == 1 else 9  # smaller than the field
    assert window < batch.field_side()
    inputs, masks = draw_samples(batch, seed=2, window=window)
    erf = stack_erf(batch, inputs, masks, window=window)
    assert erf.shape == (window, window)
    if masks is not None:
        assert [m.shape[-1] for m in masks] == list(layer_sides(batch, window))
    expected, _ = reference(batch, inputs, masks, window=window)
    np.testing.assert_allclose(erf, expected, atol=1e-6)


def test_a_linear_stack_needs_no_samples_and_half_the_work():
    linear = batch_of(depth=3, kernel_size=5, channels=2)
    assert draw_samples(linear) == (None, None)
    relu = work(batch_of(depth=3, kernel_size=5, channels=2, activation="relu"))
    assert relu.multiply_adds == 2 * work(linear).multiply_adds
    # the cone of 3 layers of 5x5: 9x9, 5x5 and 1x1 outputs; 8 networks, 2 channels
    assert work(linear).values == 8 * 2 * (81 + 25 + 1)
    assert work(linear).multiply_adds == 8 * 25 * (81 * 1 * 2 + 25 * 2 * 2 + 1 * 2 * 2)
    strided = work(batch_of(depth=3, kernel_size=3, channels=2, stride=(2, 2, 1), dropout=0.5))
    assert strided.strided_multiply_adds > 0 and strided.mask_values > 0


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
    big = aligned(side + 2 * MARGIN, batch)
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
    with pytest.raises(ValueError, match="even kernel"):
        StackBatch.from_modules([conv_stack(2, 4)])


@pytest.mark.parametrize(
    "rows",
    [
        uniform_profile_1d([3] * 10, [1] * 10, [1] * 10),
        uniform_profile_1d([7] * 12, [2, 2] + [1] * 10, [1] * 12),  # wide, strided
        uniform_profile_1d([5] * 6, [1] * 6, [2] * 6),  # holes: every 2nd pixel is 0
        np.array([0.1, 0.5, 0.2, 0.2]),  # even length, off-centre
        uniform_profile_1d([3] * 2, [1] * 2, [1] * 2),
    ],
)
def test_outer_stats_is_erf_stats_of_the_outer_product(rows):
    for cols in (rows, rows[::-1].copy(), np.linspace(1, 2, 7)):
        expected, got = erf_stats(np.outer(rows, cols)), outer_stats(rows, cols)
        for name in ("sigma", "centroid", "size", "gaussian_r2", "area_ratio"):
            np.testing.assert_allclose(
                getattr(got, name), getattr(expected, name), rtol=1e-9, atol=1e-12, err_msg=name
            )


def test_outer_stats_of_a_flat_map_has_no_gaussian_fit():
    flat = uniform_profile_1d([3], [1], [1])
    assert np.isnan(erf_stats(np.outer(flat, flat)).gaussian_r2)
    assert np.isnan(outer_stats(flat, flat).gaussian_r2)
    with pytest.raises(ValueError, match="non-negative"):
        outer_stats([1.0, -1.0], [1.0])
