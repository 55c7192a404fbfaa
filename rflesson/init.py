"""Centre-scaled initialization: a kernel that looks past its own centre.

Luo, Li, Urtasun and Zemel (2016, "Understanding the Effective Receptive Field
in Deep Convolutional Neural Networks", section 5) propose to fight the small,
centre-heavy effective receptive field (ERF) at its source: initialise as
usual, then scale each kernel's weights by a profile that is *smaller at the
centre than at the edges*.  Back-propagated gradients then reach the edge taps
more often than the centre tap, and the ERF of a deep stack spreads out.

Why it works, in one line: with independent random weights, the variance of
the input gradient of a stack is the n-fold convolution of each layer's map
of squared weight scales (Luo et al., section 2).  Its spread per axis is
``n`` times the spread of one layer's map, so moving scale away from the
centre raises the ERF's sigma by ``sqrt(profile_variance(...) / usual)``
(:func:`predicted_sigma_ratio`), independently of the depth.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Conv2d(4, 1, 3))
>>> center_scaled_init_(net, strength=1.0, seed=0) is net
True
>>> bool(net[0].weight[:, :, 1, 1].abs().max() == 0)
True
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.weight_norm import WeightNorm

from ._validate import as_bool, as_float, as_int, as_real_array, one_of, shown

PROFILES = ("gaussian", "ramp")
#: The most taps in one kernel (all axes together) a profile is computed for; read at
#: each call, raise it (``rflesson.init.MAX_TAPS = 2**24``) if you need more.
MAX_TAPS = 2**20


def _check_strength(strength: object) -> float:
    try:
        value = as_float("strength", strength)
    except ValueError:  # NaN or infinity: say the range
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"strength must be a number from 0 (usual init) to 1 (centre tap set to zero), "
            f"got {shown(strength)}"
        )
    return value


def _kernel_shape(kernel_size: object) -> tuple[int, ...]:
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) > 32:  # NumPy arrays have at most 64 axes
            raise ValueError(f"kernel_size must have at most 32 axes, got {len(kernel_size)}")
        sizes = tuple(as_int("kernel_size", k, minimum=1) for k in kernel_size)
        if not sizes:
            raise ValueError("kernel_size must have at least one axis, got ()")
    else:
        sizes = (as_int("kernel_size", kernel_size, minimum=1),) * 2
    _check_taps("kernel_size", math.prod(sizes))
    return sizes


def _check_taps(name: str, taps: int) -> None:
    if taps > MAX_TAPS:
        raise ValueError(
            f"{name} gives a kernel of {taps:,} taps, more than rflesson.init.MAX_TAPS = "
            f"{MAX_TAPS:,}; raise the limit if you need more"
        )


def _offsets(shape: tuple[int, ...]) -> list[np.ndarray]:
    """Each tap's offset from the kernel's centre, per axis, in taps."""
    axes = [np.arange(k, dtype=np.float64) - (k - 1) / 2 for k in shape]
    return list(np.meshgrid(*axes, indexing="ij"))


def center_profile(
    kernel_size: int | tuple[int, ...],
    strength: float,
    *,
    profile: str = "ramp",
    preserve_variance: bool = True,
) -> np.ndarray:
    """The factor each kernel tap's weight is multiplied by (float64 array).

    With ``d`` a tap's distance from the kernel centre (in taps) and
    ``d_min``, ``d_max`` the smallest and largest such distance (``d_min`` is
    0 for odd sizes), the profile is ``m = 1 - strength * g(d)`` with a dip
    ``g`` that is 1 at the most central tap(s) and falls towards the edges:

    * ``profile="ramp"`` (default): ``g = (d_max - d) / (d_max - d_min)``, a
      cone: the scale rises linearly with distance, from ``1 - strength`` at
      the centre to 1 at the corners.  The simplest profile that is lowest at
      the centre and highest at the edges, as Luo et al. ask; every tap gains
      scale in proportion to how far out it is, and for a 3x3 kernel it
      spreads the ERF more than the Gaussian dip at equal strength.
    * ``profile="gaussian"``: ``g = exp(-d^2 / (2 s^2))`` (rescaled to 1 at the
      most central taps) with ``s = max(0.5, (k_max - 1) / 4)``: a smooth
      dip that removes the centre and barely touches the corners (3x3 at
      strength 1: edges keep 86 %, corners 98 %).

    ``strength`` runs from 0 (all ones: the usual init) to 1 (the central
    taps are zero).  With ``preserve_variance`` (default) the profile is then
    divided by ``sqrt(mean(m^2))``, so the kernel's summed weight variance, and
    with it the variance of a layer's output at init, stays what the usual
    init gives: only *where* the weight sits changes, not how much there is,
    which keeps comparisons with the usual init fair.  A kernel whose taps
    are all equally central (1x1, 2x2) keeps all ones.

    >>> center_profile(3, 1.0, preserve_variance=False)[1]
    array([0.70710678, 0.        , 0.70710678])
    """
    shape = _kernel_shape(kernel_size)
    strength = _check_strength(strength)
    one_of("profile", profile, PROFILES)
    preserve_variance = as_bool("preserve_variance", preserve_variance)
    offsets = _offsets(shape)
    distance = np.sqrt(sum(o**2 for o in offsets))
    near, far = float(distance.min()), float(distance.max())
    if far - near < 1e-12:
        return np.ones(shape)  # every tap is equally central: nothing to move
    if profile == "ramp":
        dip = (far - distance) / (far - near)
    else:
        width = max(0.5, (max(shape) - 1) / 4)
        dip = np.exp(-(distance**2) / (2 * width**2))
        dip = dip / dip.max()
    factors = 1 - strength * dip
    if preserve_variance:
        factors = factors / np.sqrt(np.mean(factors**2))
    return factors


def scale_spread(factors: object) -> tuple[float, ...]:
    """Per-axis variance of a kernel's squared-scale map ``m^2``, normalised to sum 1.

    ``factors`` is any map of per-tap weight scales (e.g. :func:`center_profile`,
    or your own).  This is the spread one randomly initialised layer with
    those scales adds to the gradient's variance map; ``n`` layers add ``n``
    times as much (variances add under convolution).

    >>> scale_spread(np.ones((3, 3)))  # the usual 3x3 init: taps -1, 0, 1 equally likely
    (0.6666666666666667, 0.6666666666666667)
    """
    array = as_real_array("factors", factors, "a kernel's tap scales")
    _check_taps("factors", array.size)
    scale = array.astype(np.float64) ** 2
    if scale.ndim < 1 or not np.all(np.isfinite(scale)) or scale.sum() <= 0:
        raise ValueError("factors must be a finite, non-empty map that is not all zero")
    scale = scale / scale.sum()
    return tuple(float((scale * o**2).sum()) for o in _offsets(scale.shape))


def profile_variance(
    kernel_size: int | tuple[int, ...], strength: float, *, profile: str = "ramp"
) -> tuple[float, ...]:
    """:func:`scale_spread` of :func:`center_profile`: the per-axis spread one layer adds.

    The usual 3x3 init gives ``2/3`` per axis; pushing all the scale to the
    corners would give at most 1.
    """
    return scale_spread(center_profile(kernel_size, strength, profile=profile))


def predicted_sigma_ratio(
    kernel_size: int | tuple[int, ...], strength: float, *, profile: str = "ramp"
) -> float:
    """How much wider (in sigma) the ERF of a deep random linear stack should be.

    ``sqrt(profile_variance(strength) / profile_variance(0))`` on the first
    axis: the theory of Luo et al. for independent random weights, the same at
    every depth.  The notebook compares it with measured ERFs.
    """
    usual = profile_variance(kernel_size, 0.0, profile=profile)[0]
    scaled = profile_variance(kernel_size, strength, profile=profile)[0]
    if usual == 0:
        raise ValueError(
            f"kernel_size {shown(kernel_size)} is one tap wide along the first axis: its ERF does "
            f"not spread there, so there is no sigma to compare"
        )
    return math.sqrt(scaled / usual)


def convolutions(module: nn.Module) -> list[nn.Module]:
    """Every convolution inside ``module`` (1-D, 2-D, 3-D, transposed), itself included."""
    return [m for m in module.modules() if isinstance(m, nn.modules.conv._ConvNd)]


def center_scaled_init_(
    module: nn.Module,
    strength: float = 0.5,
    *,
    profile: str = "ramp",
    preserve_variance: bool = True,
    reset: bool = True,
    seed: int | None = None,
) -> nn.Module:
    """Initialise every convolution in ``module`` so its kernel centre is down-weighted.

    For each convolution (``nn.Conv1d/2d/3d`` and the transposed ones,
    wherever they sit in ``module``): first the usual PyTorch init
    (``reset_parameters()``: Kaiming-uniform weights, uniform bias), then the
    weights are multiplied, tap by tap, by :func:`center_profile`::

        w[..., x] <- w[..., x] * m(x),   m(x) = (1 - strength * g(x)) / sqrt(mean(m^2))

    with ``g`` a linear ramp, 1 at the centre and 0 at the corners (or a
    Gaussian dip, ``profile="gaussian"``; see :func:`center_profile`).  ``strength=0`` is exactly the usual init.  Biases
    are not scaled.  In place; returns ``module``.

    ``seed`` (optional) makes the draw repeatable without touching the global
    random state, so the same seed gives the same underlying weights at every
    strength: only the profile differs.  ``reset=False`` keeps the current
    weights and only applies the profile (to scale a custom init).

    Weight-normalised convolutions (``torch.nn.utils.parametrizations.weight_norm``
    and the older ``torch.nn.utils.weight_norm``) get the same weight: the
    scaled weight is written back into the underlying parameters (direction
    and norm), so the profile holds at the next forward pass.  A convolution
    whose weight is computed some other way (e.g. the old ``spectral_norm``)
    is refused with ``ValueError`` before anything changes.

    Raises ``ValueError`` for a strength outside [0, 1] (above 1 the centre
    factor would turn negative, which for zero-mean weights grows the centre's
    scale again) and ``TypeError`` for a non-module or non-number.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    strength = _check_strength(strength)
    one_of("profile", profile, PROFILES)
    preserve_variance = as_bool("preserve_variance", preserve_variance)
    reset = as_bool("reset", reset)
    if seed is not None:
        seed = as_int("seed", seed, minimum=0, maximum=2**64 - 1)
    convs = convolutions(module)
    for conv in convs:
        _check_scalable(conv)
    with torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        for conv in convs:
            factors = center_profile(
                tuple(conv.kernel_size),
                strength,
                profile=profile,
                preserve_variance=preserve_variance,
            )
            _scale_weight(conv, factors, reset)
    return module


# -- where a convolution keeps its weight ---------------------------------------------------


def _old_weight_norm(conv: nn.Module) -> WeightNorm | None:
    """The hook of ``torch.nn.utils.weight_norm`` on ``conv.weight``, if it has one."""
    for hook in conv._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == "weight":
            return hook
    return None


def _check_scalable(conv: nn.Module) -> None:
    """Refuse a convolution whose weight this function cannot write back."""
    if parametrize.is_parametrized(conv, "weight") or _old_weight_norm(conv) is not None:
        return
    if not isinstance(conv.weight, nn.Parameter):
        raise ValueError(
            f"module holds a {type(conv).__name__} whose weight is computed at run time "
            f"(not a parameter, not weight-normalised: spectral_norm or a custom hook?); "
            f"center_scaled_init_ can only scale a weight it can write back"
        )


def _scale_weight(conv: nn.Module, factors: np.ndarray, reset: bool) -> None:
    """Multiply ``conv``'s weight by ``factors`` (after a fresh init when ``reset``)."""
    plain = not parametrize.is_parametrized(conv, "weight") and _old_weight_norm(conv) is None
    with torch.no_grad():
        if plain:
            if reset:
                conv.reset_parameters()
            scale = torch.as_tensor(factors, dtype=conv.weight.dtype, device=conv.weight.device)
            conv.weight.mul_(scale)
            return
        weight = conv.weight.detach().clone()
        if reset:
            # torch's own init for this layer, drawn into a plain tensor (the layer's
            # weight is computed) and resetting the real bias: the same draw as an
            # unnormalised convolution makes
            type(conv).reset_parameters(SimpleNamespace(weight=weight, bias=conv.bias))
        weight *= torch.as_tensor(factors, dtype=weight.dtype, device=weight.device)
        _write_weight(conv, weight)


def _write_weight(conv: nn.Module, weight: torch.Tensor) -> None:
    """Store ``weight`` in a weight-normalised convolution's underlying parameters."""
    hook = _old_weight_norm(conv)
    if hook is None:  # torch.nn.utils.parametrize: right_inverse finds the parameters
        try:
            conv.weight = weight
        except NotImplementedError as error:
            raise ValueError(
                f"module holds a {type(conv).__name__} whose weight parametrization cannot "
                f"be inverted, so its weight cannot be scaled: {error}"
            ) from None
        return
    getattr(conv, hook.name + "_v").copy_(weight)
    getattr(conv, hook.name + "_g").copy_(torch.norm_except_dim(weight, 2, hook.dim))
    setattr(conv, hook.name, hook.compute_weight(conv))
