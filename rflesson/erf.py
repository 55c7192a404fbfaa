"""The effective receptive field (ERF): which input pixels really move an output unit.

Luo, Li, Urtasun and Zemel (2016, "Understanding the Effective Receptive
Field in Deep Convolutional Neural Networks", arXiv 1701.04128) measure it
with one backward pass: set the gradient of the loss to 1 at the central
output unit and to 0 everywhere else, back-propagate, and read the input
gradient ``d y_centre / d x_ij``.  By the chain rule that number is the sum,
over every path from pixel ``(i, j)`` to the unit, of the product of the
weights (and activation slopes) along the path.  Averaged in absolute value
over many inputs and many random networks, it is the ERF map.

* :func:`erf_map` measures the map (all samples in one batched pass);
* :func:`erf_stats` summarises it: spread, size, Gaussian fit, share of the
  mass inside the theoretical RF box, RepLKNet's area ratio;
* :func:`trf_box` gives the theoretical RF box from rflesson's RF engine;
* :func:`uniform_profile` is the exact answer for uniform weights (an
  independent NumPy computation, used to check the measurement).
"""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._validate import as_float, as_int
from .rf import input_region, receptive_field

#: The paper's size threshold: a pixel counts when it exceeds (1 - 0.9545) x the centre value.
SIZE_FRACTION = 1 - 0.9545

Box = tuple[tuple[int, int], ...]


# -- measuring the map -------------------------------------------------------


def _first_conv(module: nn.Module) -> nn.modules.conv._ConvNd | None:
    for m in module.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return m
    return None


def _spatial(input_size: object, ndim: int) -> tuple[int, ...]:
    if isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool):
        return (as_int("input_size", input_size, minimum=1),) * ndim
    if isinstance(input_size, Sequence) and not isinstance(input_size, str) and input_size:
        return tuple(as_int("input_size", s, minimum=1) for s in input_size)
    raise TypeError(f"input_size must be an int or a tuple of ints, got {input_size!r}")


def _centre_unit(shape: tuple[int, ...], unit: object) -> tuple[int, ...]:
    """The output unit to inspect: the centre (odd lengths only) or the one asked for."""
    if unit is None:
        even = [a for a, s in enumerate(shape) if s % 2 == 0]
        if even:
            raise ValueError(
                f"the network's output is {tuple(shape)} units: an even length along axis "
                f"{even[0]} has no centre unit. Use an input_size that gives an odd output, "
                f"or choose the unit with unit=(...)"
            )
        return tuple(s // 2 for s in shape)
    index = (unit,) * len(shape) if isinstance(unit, numbers.Integral) else tuple(unit)
    if len(index) != len(shape) or any(
        not isinstance(i, numbers.Integral) or not 0 <= i < s
        for i, s in zip(index, shape, strict=False)
    ):
        raise ValueError(f"unit must index the output of shape {tuple(shape)}, got {unit!r}")
    return tuple(int(i) for i in index)


def _prepare(model: nn.Module, dtype: torch.dtype, train: bool | None) -> nn.Module:
    model = model.to(dtype)
    if train is not None:
        model.train(train)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _run(forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    try:
        return forward(x)
    except RuntimeError as error:
        raise ValueError(
            f"the network rejected an input of size {tuple(x.shape[2:])} (input_size); is it "
            f"smaller than the network needs? torch says: {error}"
        ) from None


def _input_gradient(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    unit: object,
    channel: int | None,
) -> tuple[torch.Tensor, tuple[int, ...]]:
    """|d (centre unit) / d x|, summed over input channels, one map per sample."""
    x = x.detach().clone()
    if x.ndim == 4 and x.shape[0] > 1:
        # oneDNN runs batched 2-D convolutions several times faster channels-last
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    out = _run(forward, x)
    if out.ndim != x.ndim:
        raise ValueError(
            f"the network must keep the spatial axes: input {tuple(x.shape)}, output "
            f"{tuple(out.shape)} (erf_map needs a fully convolutional network)"
        )
    if any(s == 0 for s in out.shape[2:]):
        raise ValueError(f"input_size {tuple(x.shape[2:])} gives an empty output")
    index = _centre_unit(tuple(out.shape[2:]), unit)
    if channel is not None and not 0 <= channel < out.shape[1]:
        raise ValueError(f"channel must be in 0..{out.shape[1] - 1}, got {channel}")
    picked = out[(slice(None), slice(None) if channel is None else channel, *index)]
    # Gradient 1 at the chosen unit (in every channel, or one), 0 elsewhere.
    picked.sum().backward()
    return x.grad.abs().sum(dim=1), index


def _fresh_models(factory: Callable[[], nn.Module], n: int) -> list[nn.Module]:
    models = [factory() for _ in range(n)]
    for m in models:
        if not isinstance(m, nn.Module):
            raise TypeError(
                f"net must be a torch.nn.Module or a zero-argument callable returning one; "
                f"the callable returned {type(m).__name__}"
            )
    return models


def _vmapped(models: list[nn.Module]) -> Callable[[torch.Tensor], torch.Tensor]:
    """All ``models`` as one function of a batch: sample ``i`` goes through model ``i``."""
    params, buffers = torch.func.stack_module_state(models)
    params = {k: v.detach() for k, v in params.items()}
    base = copy.deepcopy(models[0]).to("meta")

    def one(p: dict, b: dict, x: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(base, (p, b), (x.unsqueeze(0),)).squeeze(0)

    batched = torch.vmap(one, randomness="different")
    return lambda x: batched(params, buffers, x)


def erf_map(
    net: nn.Module | Callable[[], nn.Module],
    input_size: int | tuple[int, ...],
    *,
    n: int = 16,
    seed: int = 0,
    channel: int | None = None,
    unit: int | tuple[int, ...] | None = None,
    inputs: torch.Tensor | None = None,
    in_channels: int | None = None,
    train: bool | None = None,
    dtype: torch.dtype = torch.float32,
    batched: bool = True,
    threads: int | None = 1,
    chunk: int = 16,
) -> np.ndarray:
    """The ERF of a network's central output unit: a float64 map over the input that sums to 1.

    For each of ``n`` samples, the gradient of the output is set to 1 at the
    central unit and 0 elsewhere and back-propagated; the map is the mean of
    ``|d y / d x|`` over the samples (summed over input channels), divided by
    its total.

    * ``net`` a ``torch.nn.Module``: the samples are ``n`` random inputs
      (standard normal, from ``seed``) through that one network.  It is
      copied first, so the caller's weights, buffers and mode stay as they were.
    * ``net`` a zero-argument callable returning a fresh module (for example
      ``lambda: conv_stack(10)``): ``n`` networks are drawn (global torch RNG
      seeded with ``seed`` inside, then restored), each with its own random
      input: the average over random weights *and* inputs, as in Luo et al.

    ``channel=None`` (default) puts gradient 1 at the centre of *every*
    output channel, i.e. measures the sum of the channels; an int uses that
    channel only.  ``unit`` picks another output unit (default: the centre;
    an output with an even length along an axis has none: ValueError).
    ``inputs`` (shape ``(n, C, *input_size)``) replaces the random inputs,
    e.g. with a task's images.  ``train`` forces training (True: dropout
    active) or evaluation mode on the copy; None keeps the network's own mode.
    ``batched=False`` runs the same samples one by one (the slow reference).
    ``chunk`` bounds the batch (default 16 samples per pass) and so the
    memory: a deep stack keeps every activation of the batch for the
    backward pass.  ``threads`` is torch's thread count for the measurement (restored
    afterwards; None keeps the current one).  One thread is the default:
    these small convolutions are about as fast on one thread on a quiet
    machine, many times faster on a busy one (a shared server, Binder), and
    the numbers then repeat exactly from run to run.

    The samples run batched, up to ``chunk`` at a time (so the default
    ``n=16`` is a single pass): a batch of inputs through one network, or,
    for fresh weights, that many networks at once with ``torch.vmap`` (which
    turns them into one grouped convolution per layer).  A batch norm in
    training mode would mix the samples of a batch: use ``train=False``.
    """
    n = as_int("n", n, minimum=1)
    seed = as_int("seed", seed, minimum=0)
    chunk = as_int("chunk", chunk, minimum=1)
    if channel is not None:
        channel = as_int("channel", channel, minimum=0)
    if not isinstance(net, nn.Module) and not callable(net):
        raise TypeError(
            f"net must be a torch.nn.Module or a zero-argument callable returning one, "
            f"got {type(net).__name__}"
        )
    with torch.random.fork_rng(devices=[]), _thread_count(threads):
        torch.manual_seed(seed)
        if isinstance(net, nn.Module):
            models = [_prepare(copy.deepcopy(net), dtype, train)]
        else:
            models = [_prepare(m, dtype, train) for m in _fresh_models(net, n)]
        x = _inputs(models[0], input_size, n, inputs, in_channels, dtype, seed)
        n = x.shape[0]
        if len(models) > 1 and len(models) != n:
            raise ValueError(f"inputs holds {n} samples but {len(models)} networks were drawn")
        if not batched:
            chunk = 1
        grads = []
        for lo in range(0, n, chunk):
            grads.append(_chunk_gradient(models, x, lo, min(n, lo + chunk), unit, channel))
        grad = torch.cat(grads)
    total = grad.double().mean(dim=0)
    mass = float(total.sum())
    if mass > 0:
        total = total / mass
    return total.numpy()


def _chunk_gradient(models, x, lo, hi, unit, channel) -> torch.Tensor:
    """Input gradients of samples ``lo..hi-1`` in one pass."""
    if len(models) > 1:
        forward = models[lo] if hi - lo == 1 else _vmapped(models[lo:hi])
    elif hi - lo > 1 and x.ndim == 4:
        # oneDNN runs batched 2-D convolutions faster with channels-last weights
        forward = models[0].to(memory_format=torch.channels_last)
    else:
        forward = models[0].to(memory_format=torch.contiguous_format)
    return _input_gradient(forward, x[lo:hi], unit, channel)[0]


@contextlib.contextmanager
def _thread_count(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore the previous count."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(as_int("threads", threads, minimum=1))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _inputs(model, input_size, n, inputs, in_channels, dtype, seed) -> torch.Tensor:
    conv = _first_conv(model)
    ndim = conv.weight.ndim - 2 if conv is not None else 2
    if inputs is not None:
        if not isinstance(inputs, torch.Tensor) or inputs.ndim < 3:
            raise TypeError(
                f"inputs must be a tensor of shape (n, channels, *input_size), got {inputs!r}"
            )
        size = _spatial(input_size, inputs.ndim - 2)
        if tuple(inputs.shape[2:]) != size:
            raise ValueError(f"inputs has spatial shape {tuple(inputs.shape[2:])}, not {size}")
        return inputs.to(dtype)
    size = _spatial(input_size, ndim)
    if in_channels is None:
        if conv is None:
            raise ValueError("cannot tell the network's input channels: pass in_channels=")
        in_channels = conv.in_channels
    in_channels = as_int("in_channels", in_channels, minimum=1)
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((n, in_channels, *size), generator=generator, dtype=dtype)


# -- the theoretical box -------------------------------------------------------


def trf_box(net: object, input_size: int | tuple[int, ...], unit: object = None) -> Box:
    """The theoretical RF of the central output unit, clipped to the input: ``((first, last), ...)``.

    ``net`` is anything :func:`rflesson.receptive_field` takes; a
    :class:`rflesson.stacks.ConvStack` is passed as its ``layers()``.  The
    box comes from rflesson's RF engine (:func:`rflesson.input_region`).
    """
    layers = net.layers() if callable(getattr(net, "layers", None)) else net
    if isinstance(input_size, numbers.Integral):
        input_size = (int(input_size),) * 2
    rf = receptive_field(layers, tuple(input_size))
    n_out = rf.n_out if isinstance(rf.n_out, tuple) else (rf.n_out,)
    index = _centre_unit(n_out, unit)
    region = input_region(layers, index if len(index) > 1 else index[0], tuple(input_size))
    clipped = region.clipped
    return clipped if isinstance(clipped[0], tuple) else (clipped,)


# -- statistics ----------------------------------------------------------------


@dataclass(frozen=True)
class ErfStats:
    """Numbers that describe an ERF map (see :func:`erf_stats`)."""

    sigma: tuple[float, ...]
    centroid: tuple[float, ...]
    size: float
    gaussian_r2: float
    trf_mass: float | None
    area_ratio: float
    threshold: float


def _coords(shape: tuple[int, ...]) -> list[np.ndarray]:
    return list(np.meshgrid(*[np.arange(s, dtype=np.float64) for s in shape], indexing="ij"))


def _check_map(erf: object) -> np.ndarray:
    erf = np.asarray(erf, dtype=np.float64)
    if erf.ndim < 1 or erf.size == 0:
        raise ValueError(f"erf must be a non-empty array, got shape {erf.shape}")
    if not np.all(np.isfinite(erf)) or erf.min() < 0 or erf.sum() <= 0:
        raise ValueError("erf must be finite, non-negative and not all zero")
    return erf / erf.sum()


def _gaussian_r2(erf: np.ndarray, coords: list[np.ndarray], mean: np.ndarray) -> float:
    """R^2 of the Gaussian with the map's own mean and covariance (height fitted)."""
    d = np.stack([(c - m).ravel() for c, m in zip(coords, mean, strict=True)], axis=1)
    w = erf.ravel()
    cov = (d * w[:, None]).T @ d
    if np.linalg.det(cov) <= 1e-12:
        return float("nan")
    quad = np.einsum("pi,ij,pj->p", d, np.linalg.inv(cov), d)
    shape = np.exp(-0.5 * quad).reshape(erf.shape)
    height = float((shape * erf).sum() / (shape * shape).sum())
    residual = ((erf - height * shape) ** 2).sum()
    spread = ((erf - erf.mean()) ** 2).sum()
    return float(1 - residual / spread) if spread > 0 else float("nan")


def high_contribution_area_ratio(erf: object, threshold: float = 0.2) -> float:
    """RepLKNet's measure (Ding et al. 2022): the area share of the smallest square,
    centred on the map's centre, that holds ``threshold`` of the ERF's total.

    A larger ratio means a more spread-out ERF.  Computed on the map as given
    (Ding et al. first compress large gradients with ``log(1 + g)``).
    """
    erf = _check_map(erf)
    t = as_float("threshold", threshold)
    if not 0 < t <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    centre = [s // 2 for s in erf.shape]
    for half in range(max(erf.shape) + 1):
        window = tuple(slice(max(0, c - half), c + half + 1) for c in centre)
        if erf[window].sum() >= t - 1e-12:
            return float(erf[window].size / erf.size)
    return 1.0


def erf_stats(
    erf: object,
    *,
    trf_box: Box | None = None,
    threshold: float = 0.2,
    centre: tuple[int, ...] | None = None,
) -> ErfStats:
    """Summarise an ERF map.

    * ``sigma``: standard deviation per axis about the ``centroid`` (the map as
      a probability distribution over pixels);
    * ``size``: Luo et al.'s measure: ``count ** (1/ndim)`` of the pixels whose
      value exceeds ``(1 - 0.9545)`` times the value at ``centre`` (default:
      the middle pixel, ``shape // 2``); the square root of an area in 2-D.
      For a Gaussian it is ``sqrt(2 pi ln(1/0.0455)) sigma ~= 4.40 sigma``;
    * ``gaussian_r2``: the R^2 of a Gaussian with the map's own mean and
      covariance (height fitted by least squares): 1 for a perfect Gaussian;
    * ``trf_mass``: the share of the mass inside ``trf_box`` (inclusive
      ``((first, last), ...)`` per axis, e.g. from :func:`trf_box`), if given;
    * ``area_ratio``: :func:`high_contribution_area_ratio` at ``threshold``.
    """
    erf = _check_map(erf)
    coords = _coords(erf.shape)
    mean = np.array([(c * erf).sum() for c in coords])
    sigma = tuple(
        float(math.sqrt(max(((c - m) ** 2 * erf).sum(), 0.0)))
        for c, m in zip(coords, mean, strict=True)
    )
    middle = tuple(s // 2 for s in erf.shape) if centre is None else tuple(centre)
    count = int((erf > SIZE_FRACTION * erf[middle]).sum())
    size = count ** (1 / erf.ndim)
    mass = None
    if trf_box is not None:
        if len(trf_box) != erf.ndim:
            raise ValueError(f"trf_box needs one (first, last) pair per axis, got {trf_box!r}")
        window = tuple(slice(max(0, a), b + 1) for a, b in trf_box)
        mass = float(erf[window].sum())
    return ErfStats(
        sigma=sigma,
        centroid=tuple(float(m) for m in mean),
        size=float(size),
        gaussian_r2=_gaussian_r2(erf, coords, mean),
        trf_mass=mass,
        area_ratio=high_contribution_area_ratio(erf, threshold),
        threshold=float(threshold),
    )


# -- exact answers and fits ------------------------------------------------------


def uniform_profile(depth: int, kernel_size: int = 3, dilation: int = 1) -> np.ndarray:
    """The exact 1-D ERF of ``depth`` uniform layers: a box convolved with itself ``depth`` times.

    Computed with ``np.convolve`` (independent of torch).  Its variance is
    ``depth * (k^2 - 1) / 12`` for dilation 1: a box of ``k`` taps has variance
    ``(k^2 - 1) / 12`` and variances add under convolution.  Sums to 1, length
    ``depth * dilation * (k - 1) + 1``.
    """
    depth = as_int("depth", depth, minimum=1)
    kernel_size = as_int("kernel_size", kernel_size, minimum=1)
    dilation = as_int("dilation", dilation, minimum=1)
    box = np.zeros(dilation * (kernel_size - 1) + 1)
    box[::dilation] = 1.0 / kernel_size
    profile = np.ones(1)
    for _ in range(depth):
        profile = np.convolve(profile, box)
    return profile


def uniform_variance(depth: int, kernel_size: int = 3) -> float:
    """``depth * (kernel_size**2 - 1) / 12``: the per-axis variance of a uniform stack's ERF."""
    return as_int("depth", depth, minimum=1) * (as_int("kernel_size", kernel_size, 1) ** 2 - 1) / 12


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """The slope of the least-squares line through ``(log x, log y)``: the exponent of a power law."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be equally long, positive, with at least two points")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])
