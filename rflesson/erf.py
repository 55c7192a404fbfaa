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
import itertools
import math
import numbers
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils.spectral_norm import SpectralNorm
from torch.nn.utils.weight_norm import WeightNorm

from ._validate import as_bool, as_float, as_int, as_real_array, shown
from .rf import input_region, receptive_field

#: The paper's size threshold: a pixel counts when it exceeds (1 - 0.9545) x the centre value.
SIZE_FRACTION = 1 - 0.9545

Box = tuple[tuple[int, int], ...]


# -- limits ------------------------------------------------------------------

#: The most input values (samples x channels x pixels) one :func:`erf_map` call feeds
#: the network: 2**21, e.g. 32 samples of 256 x 256 pixels.  Read at each call: raise it
#: (``rflesson.erf.MAX_INPUT_VALUES = 2**24``) for a bigger measurement.
MAX_INPUT_VALUES = 2**21
#: The largest map :func:`erf_stats` summarises, in pixels (2048 x 2048); its statistics
#: hold about fifteen float64 copies of the map.  Raise it as above.
MAX_MAP_PIXELS = 2**22
#: The most spatial axes an ``input_size``, ``unit`` or ``centre`` may list.
MAX_AXES = 32


# -- the caller's network, untouched ------------------------------------------

#: Forward pre-hooks that belong to the network rather than to the caller: torch's old
#: ``weight_norm`` and ``spectral_norm`` compute the weight in one.  Every other hook is
#: the caller's (a probe, a logger) and does not run inside :func:`erf_map`.
_NETWORK_HOOKS = (WeightNorm, SpectralNorm)


def _without_hooks(model: nn.Module) -> nn.Module:
    """Drop the caller's forward and backward hooks from ``model`` (a private copy); return it."""
    for module in model.modules():
        for table in (
            "_forward_hooks",
            "_forward_hooks_with_kwargs",
            "_forward_hooks_always_called",
            "_backward_hooks",
            "_backward_pre_hooks",
        ):
            getattr(module, table, {}).clear()
        pre_hooks = module._forward_pre_hooks
        for key in [k for k, hook in pre_hooks.items() if not isinstance(hook, _NETWORK_HOOKS)]:
            del pre_hooks[key]
            getattr(module, "_forward_pre_hooks_with_kwargs", {}).pop(key, None)
    return model


def _check_real(model: nn.Module, name: str) -> None:
    """Refuse a network whose weights have no values (the ``meta`` device)."""
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        if tensor.is_meta:
            raise ValueError(
                f"{name} has weights on the 'meta' device, which hold shapes but no values; "
                f"give it real weights first (e.g. model.to_empty(device='cpu') and "
                f"load_state_dict)"
            )


def _deepcopy(model: nn.Module) -> nn.Module:
    """``copy.deepcopy``, also for a network holding computed tensors.

    The old ``torch.nn.utils.weight_norm`` keeps its weight as a computed
    tensor, which ``deepcopy`` refuses; the copy gets a detached clone (the
    weight is computed again at the next forward pass anyway).
    """
    memo = {}
    for module in model.modules():
        for value in vars(module).values():
            if isinstance(value, torch.Tensor) and not value.is_leaf:
                memo[id(value)] = value.detach().clone()
    try:
        return copy.deepcopy(model, memo)
    except Exception as error:
        raise TypeError(f"net cannot be copied, so erf_map cannot measure it: {error}") from None


def _private_copy(model: nn.Module, dtype: torch.dtype, train: bool | None) -> nn.Module:
    """A copy of ``model`` to measure on: without the caller's hooks, in ``dtype``, in the
    asked mode, with no weight gradients.  The caller's module is never changed."""
    private = _without_hooks(_deepcopy(model)).to(dtype)
    if train is not None:
        private.train(train)
    for p in private.parameters():
        p.requires_grad_(False)
    return private


def _network(factory: Callable[[], nn.Module]) -> nn.Module:
    """One network from the factory, checked."""
    model = factory()
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"net must be a torch.nn.Module or a zero-argument callable returning one; "
            f"the callable returned {type(model).__name__}"
        )
    _check_real(model, "the network net returned")
    return model


def _networks_by_chunk(
    factory: Callable[[], nn.Module], n: int, chunk: int, first: nn.Module | None = None
) -> Iterator[list[nn.Module]]:
    """The ``n`` networks, ``chunk`` at a time, as if all had been drawn first.

    Only one chunk of networks is alive at a time, so ``chunk`` bounds the
    memory.  The global RNG gives the same networks, and the forward passes
    (dropout) the same randomness, as drawing all ``n`` networks before the
    first pass: a first round draws each network and drops it at once, only
    to record where each chunk's draw starts and where the passes' randomness
    starts.  ``first``, when given, is the first network, drawn already (so
    that a factory is called exactly ``n`` times when ``n <= chunk``).
    """
    if n <= chunk:
        drawn = [first] if first is not None else []
        yield drawn + [_network(factory) for _ in range(n - len(drawn))]
        return
    starts = []
    for i in range(n):
        if i % chunk == 0:
            starts.append(torch.get_rng_state())
        _network(factory)
    passes = torch.get_rng_state()
    for lo, start in zip(range(0, n, chunk), starts, strict=True):
        torch.set_rng_state(start)
        models = [_network(factory) for _ in range(min(chunk, n - lo))]
        torch.set_rng_state(passes)
        yield models
        del models  # before the next chunk is drawn
        passes = torch.get_rng_state()


def _stacked(tables: list[dict[str, torch.Tensor]], dtype: torch.dtype) -> dict:
    """One tensor per name, sample first: the models' weights (or buffers) side by side."""
    stacked = {}
    for name in tables[0]:
        try:
            values = torch.stack([table[name].detach() for table in tables])
        except (KeyError, RuntimeError):
            raise ValueError(
                "net must return networks of one architecture (the same weights with the "
                f"same shapes); {name!r} differs"
            ) from None
        stacked[name] = values.to(dtype) if values.is_floating_point() else values
    return stacked


def _vmapped(
    models: list[nn.Module], dtype: torch.dtype, train: bool | None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """All ``models`` as one function of a batch: sample ``i`` goes through model ``i``.

    The models are only read: their weights are copied side by side and run
    through a weightless copy of the first (``torch.func.functional_call``).
    """
    params = _stacked([dict(m.named_parameters()) for m in models], dtype)
    buffers = _stacked([dict(m.named_buffers()) for m in models], dtype)
    base = _without_hooks(_deepcopy(models[0])).to("meta")
    if train is not None:
        base.train(train)

    def one(p: dict, b: dict, x: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(base, (p, b), (x.unsqueeze(0),)).squeeze(0)

    batched = torch.vmap(one, randomness="different")
    return lambda x: batched(params, buffers, x)


# -- checking the arguments ---------------------------------------------------------


def _check_dtype(dtype: object) -> torch.dtype:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(
            f"dtype must be a torch floating-point dtype such as torch.float32 or "
            f"torch.float64, got {shown(dtype)} ({type(dtype).__name__})"
        )
    return dtype


def _check_unit(unit: object) -> None:
    """``unit`` must be None, an int, or a sequence of ints (bools are not indices)."""

    def is_index(i: object) -> bool:
        return isinstance(i, numbers.Integral) and not isinstance(i, bool)

    if unit is None or is_index(unit):
        return
    sequence = isinstance(unit, Sequence) and not isinstance(unit, str)
    if sequence and len(unit) <= MAX_AXES and all(map(is_index, unit)):
        return
    raise TypeError(
        f"unit must be None, an int or a tuple of ints (one output index per axis), "
        f"got {shown(unit)} ({type(unit).__name__})"
    )


def _first_conv(module: nn.Module) -> nn.modules.conv._ConvNd | None:
    for m in module.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return m
    return None


def _spatial(input_size: object, ndim: int | None) -> tuple[int, ...]:
    """``input_size`` per spatial axis; ``ndim`` is the network's number of axes, if known."""
    if isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool):
        return (as_int("input_size", input_size, minimum=1),) * (ndim or 2)
    if isinstance(input_size, Sequence) and not isinstance(input_size, str) and input_size:
        if len(input_size) > MAX_AXES:
            raise ValueError(f"input_size has {len(input_size):,} axes; at most {MAX_AXES}")
        size = tuple(as_int("input_size", s, minimum=1) for s in input_size)
        if ndim is not None and len(size) != ndim:
            raise ValueError(
                f"input_size {size} has {len(size)} axes, but the network's first "
                f"convolution works on {ndim}: give one size per spatial axis"
            )
        return size
    raise TypeError(f"input_size must be an int or a tuple of ints, got {shown(input_size)}")


def _centre_unit(shape: tuple[int, ...], unit: object) -> tuple[int, ...]:
    """The output unit to inspect: the centre (odd lengths only) or the one asked for."""
    _check_unit(unit)
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
    if len(index) != len(shape) or any(not 0 <= i < s for i, s in zip(index, shape, strict=False)):
        raise ValueError(f"unit must index the output of shape {tuple(shape)}, got {shown(unit)}")
    return tuple(int(i) for i in index)


def _inputs(model, input_size, n, inputs, in_channels, dtype, seed) -> torch.Tensor:
    """The samples: the given ``inputs``, or ``n`` standard-normal ones drawn from ``seed``."""
    conv = _first_conv(model)
    ndim = conv.weight.ndim - 2 if conv is not None else None
    if inputs is not None:
        if not isinstance(inputs, torch.Tensor) or inputs.ndim < 3:
            raise TypeError(
                f"inputs must be a tensor of shape (n, channels, *input_size), got {shown(inputs)}"
            )
        if inputs.is_meta or inputs.shape[0] == 0:
            raise ValueError("inputs must hold at least one sample with values (not 'meta')")
        size = _spatial(input_size, ndim if ndim is not None else inputs.ndim - 2)
        if tuple(inputs.shape[2:]) != size:
            raise ValueError(f"inputs has spatial shape {tuple(inputs.shape[2:])}, not {size}")
        _check_budget(inputs.shape[0], inputs.shape[1], size)
        return inputs.detach().to(dtype)
    size = _spatial(input_size, ndim)
    if in_channels is None:
        if conv is None:
            raise ValueError("cannot tell the network's input channels: pass in_channels=")
        in_channels = conv.in_channels
    in_channels = as_int("in_channels", in_channels, minimum=1)
    _check_budget(n, in_channels, size)
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((n, in_channels, *size), generator=generator, dtype=dtype)


def _check_budget(n: int, channels: int, size: tuple[int, ...]) -> None:
    """Refuse at once a measurement with more than ``MAX_INPUT_VALUES`` input values."""
    values = n * channels * math.prod(size)
    if values > MAX_INPUT_VALUES:
        raise ValueError(
            f"erf_map would feed {values:,} input values (n={n} samples x {channels} "
            f"channels x input_size {size}), more than rflesson.erf.MAX_INPUT_VALUES = "
            f"{MAX_INPUT_VALUES:,}: lower n or input_size, or raise the limit"
        )


# -- measuring the map ---------------------------------------------------------


def _run(forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    try:
        return forward(x)
    except RuntimeError as error:
        if "channels" in str(error):
            raise ValueError(
                f"the network does not take {x.shape[1]} input channels (in_channels, or "
                f"the second axis of inputs); torch says: {error}"
            ) from None
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
    if not isinstance(out, torch.Tensor) or out.ndim != x.ndim:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"the network must keep the spatial axes: input {tuple(x.shape)}, output "
            f"{shape} (erf_map needs a fully convolutional network)"
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


def _one_network_forward(model: nn.Module, batch: int, ndim: int):
    """The private copy, laid out for a batch of ``batch`` samples."""
    if batch > 1 and ndim == 4:
        # oneDNN runs batched 2-D convolutions faster with channels-last weights
        return model.to(memory_format=torch.channels_last)
    return model.to(memory_format=torch.contiguous_format)


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
    its total.  (A network through which no input pixel reaches the unit, e.g.
    with every ReLU off, gives a map of zeros.)

    * ``net`` a ``torch.nn.Module``: the samples are ``n`` random inputs
      (standard normal, from ``seed``) through that one network.
    * ``net`` a zero-argument callable returning a fresh module (for example
      ``lambda: conv_stack(10)``): ``n`` networks are drawn (global torch RNG
      seeded with ``seed`` inside, then restored), each with its own random
      input: the average over random weights *and* inputs, as in Luo et al.
      The callable is called ``n`` times when ``n <= chunk``; with more
      networks than one chunk, ``2 n + 1`` times (a first look, then a first
      round that finds where each chunk's random draw starts), so it must
      build a new network on each call.

    The caller's network is never changed: erf_map works on copies (weights,
    buffers, mode, dtype and ``requires_grad`` stay as they were, even when a
    callable returns a module the caller holds), and the caller's forward and
    backward hooks do not run during the measurement.  A network on the
    ``meta`` device (shapes, no values) is refused.

    ``channel=None`` (default) puts gradient 1 at the centre of *every*
    output channel, i.e. measures the sum of the channels; an int uses that
    channel only.  ``unit`` picks another output unit (an int, or one index
    per axis; default: the centre; an output with an even length along an
    axis has none: ValueError).
    ``inputs`` (shape ``(n, C, *input_size)``) replaces the random inputs,
    e.g. with a task's images.  ``train`` forces training (True: dropout
    active) or evaluation mode on the copy; None keeps the network's own mode.
    ``dtype`` is a torch floating-point dtype (``torch.float32``,
    ``torch.float64``; a string such as ``"float32"`` is refused); a
    measurement that overflows it (NaN or infinity) raises ``ValueError``.
    ``batched=False`` runs the same samples one by one (the slow reference).
    ``chunk`` bounds the batch (default 16 samples per pass) and so the
    memory: a deep stack keeps every activation of the batch for the
    backward pass, and for a callable only one chunk of networks exists at
    a time (the result is the same for every ``chunk``).  ``threads`` is
    torch's thread count for the measurement (restored afterwards; None
    keeps the current one; at most the number of CPUs).  One thread is the default:
    these small convolutions are about as fast on one thread on a quiet
    machine, many times faster on a busy one (a shared server, Binder), and
    the numbers then repeat exactly from run to run.

    The samples run batched, up to ``chunk`` at a time (so the default
    ``n=16`` is a single pass): a batch of inputs through one network, or,
    for fresh weights, that many networks at once with ``torch.vmap`` (which
    turns them into one grouped convolution per layer).  A batch norm in
    training mode would mix the samples of a batch: use ``train=False``.

    Limit: at most ``MAX_INPUT_VALUES`` (2**21) input values in all
    (``n x channels x pixels``); beyond it the call is refused at once
    (raise ``rflesson.erf.MAX_INPUT_VALUES`` for more).  The time a
    measurement takes also grows with the network's own size.
    """
    n = as_int("n", n, minimum=1)
    seed = as_int("seed", seed, minimum=0, maximum=2**64 - 1)
    chunk = as_int("chunk", chunk, minimum=1)
    if channel is not None:
        channel = as_int("channel", channel, minimum=0)
    _check_unit(unit)
    dtype = _check_dtype(dtype)
    if train is not None:
        train = as_bool("train", train)
    chunk = chunk if as_bool("batched", batched) else 1
    if threads is not None:
        threads = as_int("threads", threads, minimum=1, maximum=os.cpu_count() or 1)
    if not isinstance(net, nn.Module) and not callable(net):
        raise TypeError(
            f"net must be a torch.nn.Module or a zero-argument callable returning one, "
            f"got {type(net).__name__}"
        )
    with torch.random.fork_rng(devices=[]), _thread_count(threads):
        torch.manual_seed(seed)
        if isinstance(net, nn.Module):
            _check_real(net, "net")
            grad = _measure_one(
                net, input_size, n, inputs, in_channels, dtype, train, seed, chunk, unit, channel
            )
        else:
            grad = _measure_many(
                net, input_size, n, inputs, in_channels, dtype, train, seed, chunk, unit, channel
            )
    total = grad.double().mean(dim=0)
    mass = float(total.sum())
    if not math.isfinite(mass):
        raise ValueError(
            f"the measured gradient is not finite (NaN or infinity): the network overflows "
            f"in dtype {dtype}, or its weights or inputs hold NaN; try dtype=torch.float64"
        )
    if mass > 0:
        total = total / mass
    return total.numpy()


def _measure_one(net, input_size, n, inputs, in_channels, dtype, train, seed, chunk, unit, channel):
    """Input gradients of ``n`` samples through one network (a private copy of it)."""
    model = _private_copy(net, dtype, train)
    x = _inputs(model, input_size, n, inputs, in_channels, dtype, seed)
    grads = []
    for lo in range(0, x.shape[0], chunk):
        batch = x[lo : lo + chunk]
        forward = _one_network_forward(model, batch.shape[0], x.ndim)
        grads.append(_input_gradient(forward, batch, unit, channel)[0])
    return torch.cat(grads)


def _measure_many(
    factory, input_size, n, inputs, in_channels, dtype, train, seed, chunk, unit, channel
):
    """Input gradients of ``n`` samples, each through its own fresh network."""
    if isinstance(inputs, torch.Tensor) and inputs.ndim >= 3 and inputs.shape[0] != n:
        raise ValueError(f"inputs holds {inputs.shape[0]} samples but n={n} networks are drawn")
    before = torch.get_rng_state()
    first = _network(factory)  # the first network also tells the inputs' channels and axes
    x = _inputs(first, input_size, n, inputs, in_channels, dtype, seed)  # its own generator
    if n > chunk:  # the chunked draw starts again from the top
        torch.set_rng_state(before)
        first = None
    grads, lo = [], 0
    for models in _networks_by_chunk(factory, n, chunk, first):
        if len(models) == 1:
            forward = _private_copy(models[0], dtype, train)
        else:
            forward = _vmapped(models, dtype, train)
        grads.append(_input_gradient(forward, x[lo : lo + len(models)], unit, channel)[0])
        lo += len(models)
        del models, forward  # before the next chunk is drawn: one chunk alive at a time
    return torch.cat(grads)


@contextlib.contextmanager
def _thread_count(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore the previous count."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# -- the theoretical box -------------------------------------------------------


def trf_box(net: object, input_size: int | tuple[int, ...], unit: object = None) -> Box:
    """The theoretical RF of the central output unit, clipped to the input: ``((first, last), ...)``.

    ``net`` is anything :func:`rflesson.receptive_field` takes; a
    :class:`rflesson.stacks.ConvStack` is passed as its ``layers()``.  The
    box comes from rflesson's RF engine (:func:`rflesson.input_region`).
    An int ``input_size`` means a square input.
    """
    layers = net.layers() if callable(getattr(net, "layers", None)) else net
    size = _spatial(input_size, None)
    rf = receptive_field(layers, size)
    n_out = rf.n_out if isinstance(rf.n_out, tuple) else (rf.n_out,)
    index = _centre_unit(n_out, unit)
    region = input_region(layers, index if len(index) > 1 else index[0], size)
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
    """The map as a float64 array that sums to 1, or a clear error."""
    array = as_real_array("erf", erf, "an ERF map")
    if array.ndim < 1 or array.size == 0:
        raise ValueError(f"erf must be a non-empty array, got shape {array.shape}")
    if array.size > MAX_MAP_PIXELS:
        raise ValueError(
            f"erf has {array.size:,} pixels, more than rflesson.erf.MAX_MAP_PIXELS = "
            f"{MAX_MAP_PIXELS:,} (raise the limit for bigger maps)"
        )
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.sum() <= 0:
        raise ValueError("erf must be finite, non-negative and not all zero")
    return array / array.sum()


def _is_index(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_centre(centre: object, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The pixel whose value sets the size threshold: the middle one, or ``centre``."""
    if centre is None:
        return tuple(s // 2 for s in shape)
    if not isinstance(centre, Sequence) or isinstance(centre, str):
        raise TypeError(f"centre must be a tuple of ints (a pixel of the map), got {shown(centre)}")
    if len(centre) == len(shape) and not all(map(_is_index, centre)):
        raise TypeError(f"centre must be a tuple of ints (a pixel of the map), got {shown(centre)}")
    if len(centre) != len(shape) or not all(
        0 <= c < s for c, s in zip(centre, shape, strict=False)
    ):
        raise ValueError(
            f"centre must be a pixel of the {shape} map: one index per axis, "
            f"each from 0 to the length - 1 (no negative indices); got {shown(centre)}"
        )
    return tuple(int(c) for c in centre)


def _check_box(box: object, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The window of an inclusive ``((first, last), ...)`` box that lies on the map."""
    sequence = isinstance(box, Sequence) and not isinstance(box, str)
    pairs = list(box) if sequence and len(box) == len(shape) else None
    if pairs is None:
        raise ValueError(
            f"trf_box needs one (first, last) pair per axis of the {shape} map, got {shown(box)}"
        )
    window = []
    for pair, length in zip(pairs, shape, strict=True):
        ok = isinstance(pair, Sequence) and len(pair) == 2 and all(map(_is_index, pair))
        if not ok:
            raise TypeError(f"trf_box must hold (first, last) pairs of ints, got {shown(box)}")
        first, last = int(pair[0]), int(pair[1])
        if first > last:
            raise ValueError(f"trf_box pair {tuple(pair)} is reversed: first must be <= last")
        if last < 0 or first >= length:
            raise ValueError(f"trf_box pair {tuple(pair)} lies outside the map (0..{length - 1})")
        window.append(slice(max(0, first), last + 1))
    return tuple(window)


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


def _check_threshold(threshold: object) -> float:
    t = as_float("threshold", threshold)
    if not 0 < t <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    return t


def high_contribution_area_ratio(erf: object, threshold: float = 0.2) -> float:
    """RepLKNet's measure (Ding et al. 2022): the area share of the smallest square,
    centred on the map's centre, that holds ``threshold`` of the ERF's total.

    A larger ratio means a more spread-out ERF.  Computed on the map as given
    (Ding et al. first compress large gradients with ``log(1 + g)``).
    """
    erf = _check_map(erf)
    t = _check_threshold(threshold)
    centre = [s // 2 for s in erf.shape]

    def window(half: int) -> tuple[slice, ...]:
        return tuple(slice(max(0, c - half), c + half + 1) for c in centre)

    # The smallest half-width whose square holds t: the mass only grows with the
    # square, so a bisection finds it (the largest square is the whole map).
    lo, hi = 0, max(erf.shape)
    while lo < hi:
        mid = (lo + hi) // 2
        if erf[window(mid)].sum() >= t - 1e-12:
            hi = mid
        else:
            lo = mid + 1
    return float(erf[window(lo)].size / erf.size)


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

    ``erf`` is any non-negative array (NumPy, torch, nested lists) of at most
    ``MAX_MAP_PIXELS`` (2**22) pixels; ``centre`` must be a pixel of it (no
    negative indices) and each ``trf_box`` pair must run forwards and touch
    the map, or ``ValueError`` says which.
    """
    erf = _check_map(erf)
    middle = _check_centre(centre, erf.shape)
    box = None if trf_box is None else _check_box(trf_box, erf.shape)
    _check_threshold(threshold)
    coords = _coords(erf.shape)
    mean = np.array([(c * erf).sum() for c in coords])
    sigma = tuple(
        float(math.sqrt(max(((c - m) ** 2 * erf).sum(), 0.0)))
        for c, m in zip(coords, mean, strict=True)
    )
    count = int((erf > SIZE_FRACTION * erf[middle]).sum())
    size = count ** (1 / erf.ndim)
    mass = None if box is None else float(erf[box].sum())
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
