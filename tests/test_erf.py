"""rflesson.erf: the measured ERF against exact answers, its statistics on analytic maps,
batched against looped, side effects and bad input."""

from __future__ import annotations

import math
import weakref

import numpy as np
import pytest
import torch
from torch import nn

from rflesson.erf import (
    SIZE_FRACTION,
    erf_map,
    erf_stats,
    high_contribution_area_ratio,
    loglog_slope,
    trf_box,
    uniform_profile,
    uniform_variance,
)
from rflesson.stacks import conv_stack


def _gaussian(shape, sigma, centre=None):
    centre = centre or tuple(s // 2 for s in shape)
    axes = [np.arange(s) - c for s, c in zip(shape, centre, strict=True)]
    grids = np.meshgrid(*axes, indexing="ij")
    g = np.exp(-sum(x**2 / (2 * s**2) for x, s in zip(grids, sigma, strict=True)))
    return g / g.sum()


# -- the map against exact answers ---------------------------------------------------


@pytest.mark.parametrize("depth, kernel", [(1, 3), (6, 3), (4, 5), (3, 7)])
def test_uniform_stack_is_the_n_fold_box_convolution(depth, kernel):
    size = depth * (kernel - 1) + 9  # the whole field fits, with a margin
    erf = erf_map(conv_stack(depth, kernel, weights="uniform"), size, n=2, dtype=torch.float64)
    profile = uniform_profile(depth, kernel)
    expected = np.zeros((size, size))
    lo = size // 2 - len(profile) // 2
    expected[lo : lo + len(profile), lo : lo + len(profile)] = np.outer(profile, profile)
    np.testing.assert_allclose(erf, expected, atol=1e-12)
    stats = erf_stats(erf)
    for sigma in stats.sigma:
        assert sigma**2 == pytest.approx(uniform_variance(depth, kernel), rel=1e-9)


def test_uniform_profile_variance_formula():
    for depth, kernel in [(1, 3), (5, 3), (7, 5), (2, 9)]:
        p = uniform_profile(depth, kernel)
        x = np.arange(len(p)) - (len(p) - 1) / 2
        assert p.sum() == pytest.approx(1)
        assert (p * x**2).sum() == pytest.approx(depth * (kernel**2 - 1) / 12)
    dilated = uniform_profile(2, 3, dilation=2)
    np.testing.assert_allclose(dilated * 9, [1, 0, 2, 0, 3, 0, 2, 0, 1])


def test_single_network_gradient_is_the_product_of_kernels():
    """One linear 1-channel net: the map is |kernel1 * kernel2| (full convolution)."""
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False), nn.Conv2d(1, 1, 3, bias=False))
    erf = erf_map(net, 5, n=3, dtype=torch.float64)
    k1, k2 = (c.weight.detach().double().numpy()[0, 0] for c in net)
    full = np.zeros((5, 5))
    for i in range(3):
        for j in range(3):
            full[i : i + 3, j : j + 3] += k2[i, j] * k1
    np.testing.assert_allclose(erf, np.abs(full) / np.abs(full).sum(), atol=1e-12)


def test_random_linear_stack_stays_inside_its_box_and_widens_like_sqrt_depth():
    sizes = []
    for depth in (4, 16):
        net = lambda depth=depth: conv_stack(depth)  # noqa: E731
        erf = erf_map(net, 41, n=32, seed=1)
        box = trf_box(conv_stack(depth), 41)
        stats = erf_stats(erf, trf_box=box)
        assert stats.trf_mass == pytest.approx(1.0)
        sizes.append(stats.size)
    assert loglog_slope([4, 16], sizes) == pytest.approx(0.5, abs=0.12)


def test_seed_repeats_and_changes_the_draw():
    factory = lambda: conv_stack(3, activation="relu")  # noqa: E731
    a = erf_map(factory, 15, n=4, seed=5)
    np.testing.assert_array_equal(a, erf_map(factory, 15, n=4, seed=5))
    assert not np.allclose(a, erf_map(factory, 15, n=4, seed=6))
    assert a.dtype == np.float64 and a.sum() == pytest.approx(1)


# -- batched equals looped ---------------------------------------------------------


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_batched_equals_looped_for_fresh_weights(activation):
    factory = lambda: conv_stack(5, channels=3, activation=activation)  # noqa: E731
    batched = erf_map(factory, 21, n=6, seed=2, dtype=torch.float64)
    looped = erf_map(factory, 21, n=6, seed=2, dtype=torch.float64, batched=False)
    np.testing.assert_allclose(batched, looped, rtol=1e-10, atol=1e-14)


def test_batched_equals_looped_for_one_module():
    torch.manual_seed(0)
    net = conv_stack(4, channels=3, activation="relu", skip=True)
    batched = erf_map(net, 19, n=8, dtype=torch.float64)
    looped = erf_map(net, 19, n=8, dtype=torch.float64, batched=False)
    np.testing.assert_allclose(batched, looped, rtol=1e-10, atol=1e-14)


def test_channel_option_and_given_inputs():
    torch.manual_seed(0)
    net = conv_stack(2, channels=3, activation="relu")
    x = torch.randn(5, 1, 9, 9)
    every = erf_map(net, 9, inputs=x, dtype=torch.float64)
    assert not np.allclose(every, erf_map(net, 9, inputs=x, channel=1, dtype=torch.float64))
    # by hand: gradient of the sum of the centre over channels
    x64 = x.double().requires_grad_(True)
    net64 = conv_stack(2, channels=3, activation="relu").double()
    net64.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    net64(x64)[:, :, 4, 4].sum().backward()
    by_hand = x64.grad.abs().sum(dim=1).mean(dim=0).numpy()
    np.testing.assert_allclose(every, by_hand / by_hand.sum(), atol=1e-12)


# -- the caller's model is untouched ----------------------------------------------------


def test_callers_model_weights_buffers_and_mode_untouched():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Dropout(0.3))
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    grads_before = [p.grad for p in net.parameters()]
    requires = [p.requires_grad for p in net.parameters()]
    erf_map(net, 9, n=4, train=False)
    erf_map(net, 9, n=4, train=True, dtype=torch.float64)
    assert net.training and all(m.training for m in net.modules())
    for k, v in net.state_dict().items():
        assert v.dtype == before[k].dtype
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert [p.grad for p in net.parameters()] == grads_before
    assert [p.requires_grad for p in net.parameters()] == requires


def test_global_rng_is_left_alone():
    torch.manual_seed(42)
    expected = torch.rand(3)
    torch.manual_seed(42)
    erf_map(lambda: conv_stack(2), 9, n=3, seed=7)
    torch.testing.assert_close(torch.rand(3), expected)


def test_dropout_is_active_only_in_training_mode():
    torch.manual_seed(0)
    net = conv_stack(3, dropout=0.5)
    off = erf_map(net, 11, n=4, train=False)
    assert not np.allclose(off, erf_map(net, 11, n=4, train=True))
    net.eval()
    np.testing.assert_allclose(off, erf_map(net, 11, n=4))


# -- bad input ---------------------------------------------------------------------------


def test_even_output_has_no_centre():
    with pytest.raises(ValueError, match="even length.*no centre unit"):
        erf_map(conv_stack(3), 16, n=2)
    erf = erf_map(conv_stack(3, weights="uniform"), 16, n=1, unit=(8, 8))  # explicit unit works
    assert erf[8, 8] == erf.max()


def test_input_smaller_than_the_network():
    net = nn.Sequential(nn.Conv2d(1, 1, 5), nn.Conv2d(1, 1, 5))
    with pytest.raises(ValueError, match="input_size"):
        erf_map(net, 7, n=2)


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        (dict(n=0), ValueError, "n must"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(channel=9), ValueError, "channel"),
        (dict(unit=(99, 0)), ValueError, "unit"),
        (dict(input_size="big"), TypeError, "input_size"),
        (dict(inputs=torch.zeros(2, 1, 5, 5)), ValueError, "inputs"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, error, word):
    args = dict(input_size=9, n=2) | kwargs
    with pytest.raises(error, match=word):
        erf_map(conv_stack(2), **args)


def test_net_must_be_a_module_or_a_factory_of_modules():
    with pytest.raises(TypeError, match="net must be"):
        erf_map(42, 9)
    with pytest.raises(TypeError, match="net must be"):
        erf_map(lambda: 3, 9, n=2)


# -- statistics on analytic maps -------------------------------------------------------------


@pytest.mark.parametrize("sigma", [(3.0, 3.0), (3.0, 5.0), (6.0, 6.0)])
def test_size_sigma_and_fit_of_a_gaussian(sigma):
    stats = erf_stats(_gaussian((81, 81), sigma))
    assert stats.sigma == pytest.approx(sigma, rel=1e-3)
    assert stats.centroid == pytest.approx((40, 40))
    # pixels above 0.0455 x peak fill an ellipse of area 2 pi ln(1/0.0455) s1 s2
    area = 2 * math.pi * math.log(1 / SIZE_FRACTION) * sigma[0] * sigma[1]
    assert stats.size == pytest.approx(math.sqrt(area), rel=0.04)
    assert stats.gaussian_r2 == pytest.approx(1.0, abs=1e-6)


def test_size_of_a_square_and_a_box_is_not_gaussian():
    box = np.zeros((31, 31))
    box[10:21, 10:21] = 1
    stats = erf_stats(box, trf_box=((10, 20), (10, 20)))
    assert stats.size == 11
    assert stats.trf_mass == pytest.approx(1.0)
    assert stats.gaussian_r2 < 0.9
    half = erf_stats(box, trf_box=((10, 20), (15, 20)))
    assert half.trf_mass == pytest.approx(6 / 11)


def test_high_contribution_area_ratio():
    delta = np.zeros((11, 11))
    delta[5, 5] = 1
    assert high_contribution_area_ratio(delta, 0.99) == pytest.approx(1 / 121)
    flat = np.ones((10, 10))
    # the centred 5x5 square (pixels 2..6... clipped) first holds 20%: count it
    ratio = high_contribution_area_ratio(flat, 0.2)
    assert ratio >= 0.2 and ratio == pytest.approx(25 / 100)
    wide, narrow = _gaussian((41, 41), (6, 6)), _gaussian((41, 41), (2, 2))
    assert high_contribution_area_ratio(wide, 0.5) > high_contribution_area_ratio(narrow, 0.5)
    with pytest.raises(ValueError, match="threshold"):
        high_contribution_area_ratio(flat, 1.5)


def test_stats_reject_empty_or_negative_maps():
    for bad in (np.zeros((3, 3)), -np.ones((3, 3)), np.array([])):
        with pytest.raises(ValueError, match="erf"):
            erf_stats(bad)


def test_trf_box_comes_from_the_rf_engine():
    assert trf_box(conv_stack(5), 33) == ((11, 21), (11, 21))
    assert trf_box(conv_stack(30), 33) == ((0, 32), (0, 32))  # clipped to the input
    assert trf_box(conv_stack(2, stride=(2, 1)), 33) == ((13, 19), (13, 19))


def test_loglog_slope():
    x = np.array([2.0, 4, 8, 16])
    assert loglog_slope(x, 3 * x**0.5) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        loglog_slope([1, 2], [1, -2])


def test_thread_count_is_restored():
    before = torch.get_num_threads()
    erf_map(conv_stack(2), 9, n=2, threads=1)
    erf_map(conv_stack(2), 9, n=2, threads=None)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        erf_map(conv_stack(2), 9, n=2, threads=0)
    assert torch.get_num_threads() == before


# -- issue 16: erf_map never returns garbage nor touches what it is given -----------------------


def test_a_meta_model_is_refused_clearly():
    meta = nn.Sequential(nn.Conv2d(1, 1, 3)).to("meta")
    with pytest.raises(ValueError, match="meta"):
        erf_map(meta, 9, n=2)
    with pytest.raises(ValueError, match="meta"):
        erf_map(lambda: meta, 9, n=2)


@pytest.mark.parametrize("n, chunk", [(2, 16), (20, 3)])
def test_a_factory_returning_an_existing_module_leaves_it_unchanged(n, chunk):
    torch.manual_seed(0)
    held = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 1, 3)).half()
    held[0].weight.requires_grad_(False)  # a frozen layer stays frozen, the others trainable
    held.train()
    before = {k: v.clone() for k, v in held.state_dict().items()}
    erf = erf_map(lambda: held, 9, n=n, chunk=chunk, train=False, dtype=torch.float64)
    assert erf.sum() == pytest.approx(1.0)
    assert [p.requires_grad for p in held.parameters()] == [False, True, True, True]
    assert all(p.dtype == torch.float16 for p in held.parameters())
    assert held.training
    assert all(p.grad is None for p in held.parameters())
    for k, v in held.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_the_callers_hooks_do_not_fire():
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3))
    calls = []
    net[0].register_forward_hook(lambda *args: calls.append("forward"))
    net[0].register_forward_pre_hook(lambda *args: calls.append("pre"))
    net[2].register_forward_hook(lambda *args, **kw: calls.append("kwargs"), with_kwargs=True)
    net.register_full_backward_hook(lambda *args: calls.append("backward"))
    erf_map(net, 9, n=2)
    erf_map(lambda: net, 9, n=3)
    erf_map(lambda: net, 9, n=5, chunk=2)
    erf_map(lambda: net, 9, n=1)
    assert calls == []
    net(torch.zeros(1, 1, 9, 9)).sum().backward()  # the hooks themselves are still there
    assert {"forward", "pre", "kwargs", "backward"} <= set(calls)


def test_old_weight_norm_keeps_working_without_its_hook_being_dropped():
    torch.manual_seed(0)
    with pytest.warns(FutureWarning):
        conv = nn.utils.weight_norm(nn.Conv2d(1, 1, 3, bias=False))
    plain = nn.Conv2d(1, 1, 3, bias=False)
    with torch.no_grad():
        plain.weight.copy_(conv.weight)
    np.testing.assert_allclose(
        erf_map(conv, 7, n=3, dtype=torch.float64), erf_map(plain, 7, n=3, dtype=torch.float64)
    )


def test_chunks_bound_the_networks_alive_and_give_the_same_map():
    live, most = weakref.WeakSet(), [0]

    class Counted(nn.Conv2d):
        def __init__(self):
            super().__init__(1, 1, 3, padding=1)
            live.add(self)
            most[0] = max(most[0], len(live))

    factory = lambda: nn.Sequential(Counted(), nn.Dropout(0.3))  # noqa: E731
    whole = erf_map(factory, 9, n=24, chunk=24, train=True)
    assert most[0] >= 24
    most[0] = 0
    chunked = erf_map(factory, 9, n=24, chunk=4, train=True)
    np.testing.assert_array_equal(whole, chunked)  # the same networks and dropout masks
    assert most[0] <= 4, "one chunk of networks at a time"


def test_a_2d_network_needs_two_input_axes():
    net = nn.Sequential(nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="input_size.*1 axes.*2"):
        erf_map(net, (9,), n=2)
    with pytest.raises(ValueError, match="input_size"):
        erf_map(lambda: net, (9, 9, 9), n=2)
    assert erf_map(nn.Sequential(nn.Conv1d(1, 1, 3)), (9,), n=2).shape == (9,)


@pytest.mark.parametrize("centre", [(-1, -1), (10,), (99, 99), (0, 21), (10, 10, 10)])
def test_erf_stats_refuses_a_centre_outside_the_map(centre):
    erf = _gaussian((21, 21), (3.0, 3.0))
    with pytest.raises(ValueError, match="centre"):
        erf_stats(erf, centre=centre)


@pytest.mark.parametrize("centre", [(True, 1), (1.5, 2), "ab", 3])
def test_erf_stats_refuses_a_centre_that_is_not_indices(centre):
    with pytest.raises(TypeError, match="centre"):
        erf_stats(_gaussian((21, 21), (3.0, 3.0)), centre=centre)


def test_erf_stats_centre_inside_the_map_is_used():
    erf = _gaussian((21, 21), (3.0, 3.0))
    assert erf_stats(erf, centre=(10, 10)).size == erf_stats(erf).size
    assert erf_stats(erf, centre=(0, 0)).size > erf_stats(erf).size  # a corner's low value


@pytest.mark.parametrize(
    "box, error",
    [
        (((15, 5), (5, 15)), ValueError),  # reversed
        (((30, 40), (5, 15)), ValueError),  # beside the map
        (((5, 15),), ValueError),  # one axis short
        (((5, 15, 1), (5, 15)), TypeError),
        (((5.0, 15), (5, 15)), TypeError),
        ("box", ValueError),
    ],
)
def test_erf_stats_refuses_a_bad_trf_box(box, error):
    with pytest.raises(error, match="trf_box"):
        erf_stats(_gaussian((21, 21), (3.0, 3.0)), trf_box=box)


def test_erf_stats_box_beyond_the_map_is_clipped():
    erf = _gaussian((21, 21), (3.0, 3.0))
    assert erf_stats(erf, trf_box=((-5, 30), (-5, 30))).trf_mass == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad, error",
    [
        (np.ones((5, 5)) * 1j, TypeError),
        ([[1, 2], [3]], TypeError),
        ("abc", TypeError),
        (torch.empty(3, 3, device="meta"), ValueError),
        (np.full((3, 3), np.nan), ValueError),
    ],
)
def test_erf_stats_refuses_what_is_not_a_map(bad, error):
    with pytest.raises(error, match="erf"):
        erf_stats(bad)


def test_erf_stats_reads_torch_tensors_and_refuses_huge_maps(monkeypatch):
    tensor = torch.tensor(_gaussian((15, 15), (2.0, 2.0)), requires_grad=True)
    assert erf_stats(tensor).sigma == pytest.approx(erf_stats(tensor.detach().numpy()).sigma)
    monkeypatch.setattr("rflesson.erf.MAX_MAP_PIXELS", 100)
    with pytest.raises(ValueError, match="MAX_MAP_PIXELS"):
        erf_stats(np.ones((11, 11)))


def test_area_ratio_bisection_agrees_with_a_linear_search():
    rng = np.random.default_rng(0)
    for shape in [(31, 31), (20, 33), (7,), (9, 4, 6)]:
        erf = rng.random(shape) ** 4
        erf /= erf.sum()
        for t in (0.05, 0.2, 0.5, 0.9, 1.0):
            centre = [s // 2 for s in shape]
            for half in range(max(shape) + 1):
                window = tuple(slice(max(0, c - half), c + half + 1) for c in centre)
                if erf[window].sum() >= t - 1e-12:
                    break
            assert high_contribution_area_ratio(erf, t) == erf[window].size / erf.size


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(unit=True), TypeError, "unit"),
        (dict(unit=(True, 1)), TypeError, "unit"),
        (dict(unit=1.5), TypeError, "unit"),
        (dict(dtype="float32"), TypeError, "dtype"),
        (dict(dtype=torch.int64), TypeError, "dtype"),
        (dict(train=1), TypeError, "train"),
        (dict(batched="yes"), TypeError, "batched"),
        (dict(threads=10**6), ValueError, "threads"),
        (dict(seed=2**64), ValueError, "seed"),
        (dict(n=10**9), ValueError, "MAX_INPUT_VALUES"),
        (dict(input_size=10**5), ValueError, "MAX_INPUT_VALUES"),
        (dict(input_size=None), TypeError, "input_size"),
        (dict(in_channels=3), ValueError, "in_channels"),
        (dict(inputs=torch.zeros(2, 3, 9, 9)), ValueError, "in_channels"),
    ],
)
def test_more_bad_arguments_name_the_parameter(kwargs, error, words):
    args = dict(input_size=9, n=2) | kwargs
    with pytest.raises(error, match=words):
        erf_map(conv_stack(2), **args)


def test_the_input_limit_can_be_raised(monkeypatch):
    monkeypatch.setattr("rflesson.erf.MAX_INPUT_VALUES", 100)
    with pytest.raises(ValueError, match="MAX_INPUT_VALUES = 100"):
        erf_map(conv_stack(1), 11, n=1)
    monkeypatch.setattr("rflesson.erf.MAX_INPUT_VALUES", 121)
    assert erf_map(conv_stack(1), 11, n=1).shape == (11, 11)


def test_an_overflowing_measurement_is_an_error_not_nan():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False))
    with torch.no_grad():
        net[0].weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="not finite"):
        erf_map(net, 7, n=2)


def test_a_network_that_blocks_every_path_gives_zeros():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False))
    with torch.no_grad():
        net[0].weight.zero_()
    assert not erf_map(net, 7, n=2).any()


def test_fresh_networks_with_old_weight_norm_are_measured():
    def factory():
        with pytest.warns(FutureWarning):
            return nn.utils.weight_norm(nn.Conv2d(1, 2, 3, bias=False))

    batched = erf_map(factory, 7, n=4, seed=1, dtype=torch.float64)
    looped = erf_map(factory, 7, n=4, seed=1, dtype=torch.float64, batched=False)
    np.testing.assert_allclose(batched, looped, rtol=1e-10)


def test_a_factory_is_called_once_per_network_when_one_chunk_holds_them():
    """A factory may hand out prepared networks one by one (tests/erf_reference.py does)."""
    calls = []

    def factory():
        calls.append(1)
        return nn.Sequential(nn.Conv2d(1, 1, 3, padding=1))

    erf_map(factory, 9, n=5, chunk=8)
    assert len(calls) == 5
