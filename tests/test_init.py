"""rflesson.center_scaled_init_: profile shape, no-op at strength 0, every conv, bad input,
and the ERF widening it promises checked against Luo et al.'s variance theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from rflesson.init import (
    PROFILES,
    center_profile,
    center_scaled_init_,
    convolutions,
    predicted_sigma_ratio,
    profile_variance,
    scale_spread,
)


def _radial_order_holds(factors: np.ndarray) -> bool:
    """Each tap's factor never falls as its distance from the centre grows."""
    axes = [np.arange(k) - (k - 1) / 2 for k in factors.shape]
    distance = np.sqrt(sum(o**2 for o in np.meshgrid(*axes, indexing="ij")))
    order = np.argsort(distance, axis=None, kind="stable")
    d, f = distance.ravel()[order], factors.ravel()[order]
    return all(f[j] >= f[i] - 1e-12 for i in range(len(f)) for j in range(len(f)) if d[j] > d[i])


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kernel", [3, 5, 7, (3, 5), (1, 7)])
@pytest.mark.parametrize("strength", [0.25, 0.5, 1.0])
def test_profile_is_lowest_at_the_centre_and_keeps_the_variance(profile, kernel, strength):
    factors = center_profile(kernel, strength, profile=profile)
    assert _radial_order_holds(factors)
    centre = tuple(k // 2 for k in factors.shape)
    assert factors[centre] == factors.min() < factors.max()
    assert np.mean(factors**2) == pytest.approx(1.0)  # same summed weight variance
    raw = center_profile(kernel, strength, profile=profile, preserve_variance=False)
    assert raw[centre] == pytest.approx(1 - strength)
    assert raw.max() <= 1 + 1e-12
    np.testing.assert_allclose(raw, raw[::-1, ::-1])  # symmetric


def test_ramp_is_linear_in_the_distance_from_the_centre():
    raw = center_profile(5, 0.8, preserve_variance=False)
    y, x = np.mgrid[-2:3, -2:3]
    expected = 1 - 0.8 * (1 - np.hypot(x, y) / math.hypot(2, 2))
    np.testing.assert_allclose(raw, expected)


def test_gaussian_dip_values_for_3x3():
    raw = center_profile(3, 1.0, profile="gaussian", preserve_variance=False)
    assert raw[1, 1] == 0
    assert raw[0, 1] == pytest.approx(1 - math.exp(-2))  # s = 0.5
    assert raw[0, 0] == pytest.approx(1 - math.exp(-4))


@pytest.mark.parametrize("kernel", [1, 2, (2, 2)])
def test_kernels_without_an_off_centre_tap_keep_all_ones(kernel):
    np.testing.assert_array_equal(
        center_profile(kernel, 1.0), np.ones_like(center_profile(kernel, 0))
    )


def test_strength_zero_is_the_usual_init():
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Conv2d(4, 3, 5, padding=2))
    usual = [p.clone() for p in center_scaled_init_(net, 0.0, seed=7).parameters()]
    torch.manual_seed(7)
    for conv in convolutions(net):
        conv.reset_parameters()
    for got, want in zip(net.parameters(), usual, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_same_seed_same_draw_only_the_profile_differs():
    make = lambda: nn.Conv2d(3, 8, 3)  # noqa: E731
    usual = center_scaled_init_(make(), 0.0, seed=1).weight.detach()
    scaled_conv = center_scaled_init_(make(), 0.6, seed=1)
    factors = torch.as_tensor(center_profile(3, 0.6), dtype=torch.float32)
    torch.testing.assert_close(scaled_conv.weight.detach(), usual * factors)
    torch.testing.assert_close(
        scaled_conv.bias.detach(), center_scaled_init_(make(), 0, seed=1).bias
    )


def test_global_random_state_is_left_alone_when_seeded():
    conv = nn.Conv2d(1, 1, 3)
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    center_scaled_init_(conv, 0.5, seed=11)
    torch.testing.assert_close(torch.rand(3), expected)


def test_every_convolution_is_touched_wherever_it_sits():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.ModuleList([nn.Conv1d(2, 2, 5), nn.Conv3d(1, 1, 3)])
            self.up = nn.ConvTranspose2d(2, 2, 3)
            self.linear = nn.Linear(4, 4)

    net = nn.Sequential(nn.Conv2d(1, 2, 3), Block(), nn.Sequential(nn.Conv2d(2, 2, 7, groups=2)))
    convs = convolutions(net)
    assert len(convs) == 5
    linear_before = net[1].linear.weight.detach().clone()
    center_scaled_init_(net, 1.0, seed=0)
    for conv in convs:
        weight = conv.weight.detach()
        centre = (Ellipsis, *[k // 2 for k in conv.kernel_size])
        assert torch.all(weight[centre] == 0), type(conv).__name__
        assert weight.abs().sum() > 0
    torch.testing.assert_close(net[1].linear.weight.detach(), linear_before)


def test_returns_the_same_module_in_place():
    conv = nn.Conv2d(1, 1, 3)
    assert center_scaled_init_(conv, 0.3) is conv


def test_reset_false_scales_the_existing_weights():
    conv = nn.Conv2d(1, 1, 3)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    center_scaled_init_(conv, 1.0, reset=False, preserve_variance=False)
    raw = center_profile(3, 1.0, preserve_variance=False)
    np.testing.assert_allclose(conv.weight.detach()[0, 0].numpy(), raw, rtol=1e-6)


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan"), float("inf")])
def test_bad_strength_is_rejected_with_its_name_and_range(strength):
    with pytest.raises(ValueError, match=r"strength.*0.*1"):
        center_scaled_init_(nn.Conv2d(1, 1, 3), strength)
    with pytest.raises(ValueError, match="strength"):
        center_profile(3, strength)


@pytest.mark.parametrize("strength", ["0.5", None, True])
def test_non_number_strength_is_a_type_error(strength):
    with pytest.raises(TypeError, match="strength"):
        center_scaled_init_(nn.Conv2d(1, 1, 3), strength)


def test_other_bad_arguments():
    with pytest.raises(TypeError, match="module"):
        center_scaled_init_("not a net", 0.5)
    with pytest.raises(ValueError, match="profile"):
        center_scaled_init_(nn.Conv2d(1, 1, 3), 0.5, profile="cosine")
    with pytest.raises(ValueError, match="seed"):
        center_scaled_init_(nn.Conv2d(1, 1, 3), 0.5, seed=-1)
    with pytest.raises(ValueError, match="kernel_size"):
        center_profile(0, 0.5)


def test_profile_variance_of_the_usual_3x3_is_two_thirds():
    assert profile_variance(3, 0.0) == pytest.approx((2 / 3, 2 / 3))
    assert predicted_sigma_ratio(3, 0.0) == 1.0
    ratios = [predicted_sigma_ratio(3, s) for s in (0.25, 0.5, 0.75, 1.0)]
    assert all(b > a for a, b in zip(ratios, ratios[1:], strict=False))
    assert ratios[-1] < math.sqrt(1.5)  # a 3x3 kernel cannot spread more than all-corners


def _gradient_variance_map(strength: float, depth: int, networks: int, size: int) -> np.ndarray:
    """Mean squared input gradient of the centre output over many fresh single-channel stacks.

    All ``networks`` stacks run at once as one grouped convolution (one group per network).
    """
    torch.manual_seed(0)
    layers = []
    for _ in range(depth):
        conv = nn.Conv2d(networks, networks, 3, groups=networks, bias=False)
        layers.append(center_scaled_init_(conv, strength))
    net = nn.Sequential(*layers)
    x = torch.zeros(1, networks, size, size, requires_grad=True)
    out = net(x)
    centre = out.shape[-1] // 2
    out[0, :, centre, centre].sum().backward()
    return (x.grad[0] ** 2).mean(0).double().numpy()


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_gradient_variance_spreads_as_luo_theory_predicts(strength):
    """Independent check: E[g^2] of a random linear stack is the n-fold convolution of m^2,
    so its per-axis variance is depth * profile_variance."""
    depth, size = 6, 2 * 6 + 1
    grad2 = _gradient_variance_map(strength, depth, networks=4000, size=size)
    grad2 /= grad2.sum()
    x = np.arange(size) - size // 2
    measured = float((grad2.sum(0) * x**2).sum())
    assert measured == pytest.approx(depth * profile_variance(3, strength)[0], rel=0.04)


# -- issue 16: weight-normalised convolutions, limits, odd values ---------------------------------


def _weight_normalised(kind: str, conv: nn.Conv2d) -> nn.Conv2d:
    if kind == "parametrizations":
        return nn.utils.parametrizations.weight_norm(conv)
    with pytest.warns(FutureWarning):
        return nn.utils.weight_norm(conv)


@pytest.mark.parametrize("kind", ["parametrizations", "old"])
def test_weight_normalised_convolutions_are_scaled(kind):
    torch.manual_seed(0)
    conv = _weight_normalised(kind, nn.Conv2d(2, 3, 3))
    weight = conv.weight.detach().clone()
    parameters = [id(p) for p in conv.parameters()]
    center_scaled_init_(conv, 1.0, reset=False)
    expected = weight * torch.as_tensor(center_profile(3, 1.0), dtype=torch.float32)
    conv(torch.zeros(1, 2, 5, 5))  # the old weight_norm recomputes the weight here
    torch.testing.assert_close(conv.weight.detach(), expected)
    assert float(conv.weight.detach()[:, :, 1, 1].abs().max()) == 0.0
    assert [id(p) for p in conv.parameters()] == parameters, "an optimiser's references hold"


@pytest.mark.parametrize("kind", ["parametrizations", "old"])
def test_weight_normalised_reset_draws_what_a_plain_convolution_draws(kind):
    torch.manual_seed(0)
    plain = center_scaled_init_(nn.Conv2d(2, 3, 3), 0.7, seed=4)
    normalised = center_scaled_init_(_weight_normalised(kind, nn.Conv2d(2, 3, 3)), 0.7, seed=4)
    normalised(torch.zeros(1, 2, 5, 5))
    torch.testing.assert_close(normalised.weight.detach(), plain.weight.detach())
    torch.testing.assert_close(normalised.bias.detach(), plain.bias.detach())


def test_a_weight_computed_some_other_way_is_refused_before_anything_changes():
    torch.manual_seed(0)
    first = nn.Conv2d(1, 1, 3)
    spectral = nn.utils.spectral_norm(nn.Conv2d(1, 1, 3))
    net = nn.Sequential(first, spectral)
    before = first.weight.detach().clone()
    with pytest.raises(ValueError, match="computed at run time"):
        center_scaled_init_(net, 1.0)
    torch.testing.assert_close(first.weight.detach(), before, rtol=0, atol=0)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: center_profile(10**5, 0.5), "MAX_TAPS"),
        (lambda: center_profile((3,) * 40, 0.5), "axes"),
        (lambda: center_profile(3, 0.5, preserve_variance=1), "preserve_variance"),
        (lambda: scale_spread(np.ones(10**7)), "MAX_TAPS"),
        (lambda: scale_spread([[1, 2], [3]]), "factors"),
        (lambda: scale_spread(np.ones((3, 3)) * 1j), "factors"),
        (lambda: scale_spread("abc"), "factors"),
        (lambda: predicted_sigma_ratio(1, 0.5), "kernel_size"),
        (lambda: predicted_sigma_ratio((1, 3), 0.5), "kernel_size"),
        (lambda: center_scaled_init_(nn.Conv2d(1, 1, 3), reset="no"), "reset"),
        (lambda: center_scaled_init_(nn.Conv2d(1, 1, 3), seed=2**64), "seed"),
    ],
)
def test_odd_arguments_get_clear_errors(call, words):
    with pytest.raises((ValueError, TypeError), match=words):
        call()


def test_torch_and_numpy_values_are_read():
    assert scale_spread(torch.ones(3, 3, requires_grad=True)) == pytest.approx((2 / 3, 2 / 3))
    assert predicted_sigma_ratio(np.int64(3), torch.tensor(0.5)) == predicted_sigma_ratio(3, 0.5)
