"""The receptive field measured by back-propagation: an independent ground truth.

``gradient_rf(model, input_size)`` never reads the model's geometry.  It
back-propagates from one output unit and reports which input pixels got a
non-zero gradient.  To make that set equal to the set of pixels the unit
*depends on*, it works on a copy of the model prepared so that no path can
cancel or vanish:

* float64: in float32 a chain of 120 convolutions of kernel 3 reads 223
  instead of 241 in 1-D (weights 1/3), 221 in 2-D (3x3, weights 1/9),
  because the edge paths' weight, (1/3)**120, underflows
  (tests/test_gradient_rf.py measures the 1-D case);
* every weight a positive constant (``1 / fan_in``, which keeps values near
  1), every bias zero, batch norms the identity, the input positive (between 1
  and 2, fixed pseudo-random values, so that no derivative cancels by
  coincidence): every pre-activation is positive, so ReLU-like gates pass
  gradient;
* max pooling (module or functional, adaptive too) replaced by a dense
  pooling of the same geometry: a max sends gradient to one element per
  window and under-counts;
* convolutions and linear layers computed on the mean of their input
  channels, repeated over their output channels: with positive constant
  weights that reaches the same pixels, for far less work in float64;
* statistics-based norms (group, instance, layer norm, module or
  functional) and saturating activations (ReLU6, hardtanh, hardsigmoid)
  replaced by the identity: receptive-field arithmetic treats them as
  pointwise;
* eval mode (dropout off), none of the caller's hooks, and the global random
  state restored afterwards.

The input grows (doubling) until the central unit's region touches no
border and a 1.5 times larger input gives the same field (a strided layer can
drop border units and cut a region short inside the input); the jump is
the distance between the regions of two neighbouring units.  The model passed
in is not touched.

The search stops, with a clear answer or error, when:

* along an axis, the central unit and one a quarter of the way in see the
  same pixels at two sizes (the second at least ``2 * WHOLE_FROM`` pixels, or
  with an output that did not grow): every unit sees the same pixels along
  that axis (global pooling, attention, squeeze-and-excitation; a finite
  field wider than twice that size would look the same, and the note says at
  which sizes it was seen); when every axis is so, ``whole_input``;
* the model fails for another reason than a too-small input (a wrong number
  of channels, a shape it does not accept): that error, named;
* the next size would exceed a budget: ``max_pixels`` pixels per channel,
  ``max_bytes`` bytes (predicted from the sizes measured so far, and checked
  for the very first size too) or ``max_seconds`` seconds.  The error says
  when the central unit's region ran from one border and grew with the input
  at every size tried: a recurrent layer or a cumulative operation, which has
  no fixed field (a causal field wider than the input looks the same until
  the input is twice as wide, so the search does not stop earlier).
"""

from __future__ import annotations

import copy
import math
import os
import time
import warnings
from fractions import Fraction
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ._validate import as_float, as_int
from .layers import Layer
from .rf import ReceptiveField, _sizes

MAX_ELEMENTS = (
    1 << 21
)  # documented limit: input pixels per channel the search may try (1448 x 1448);
# beyond it a recurrent layer over the map (an LSTM) passed 2 GB, whatever the prediction said
MAX_BYTES = 1 << 30  # documented limit: predicted peak memory of one measurement (1 GiB)
MAX_SECONDS = 20.0  # documented limit: time the whole search may take
MAX_FAILURES = 10  # doublings tried while the model rejects the input as too small
WHOLE_FROM = 128  # whole input is declared only once a size of 2 * WHOLE_FROM per axis saw it

_TOO_SMALL = (
    "can't be greater than actual input size",
    "output size is too small",
    "padding size should be less than",
    "expected input to have non-zero size",
    "wrapping around more than once",
    "input image is smaller than kernel",
    "is too small",
)
_OUT_OF_MEMORY = ("can't allocate memory", "out of memory", "not enough memory")


# -- a layer list as a torch model ------------------------------------------------


class LayerNet(nn.Module):
    """A one-channel torch model of a list of ``Layer``: zero padding, then convolution."""

    def __init__(self, layers: list[Layer], ndim: int) -> None:
        super().__init__()
        self.pads: list[tuple[int, ...]] = []
        self.convs = nn.ModuleList()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[ndim]
        for layer in layers:
            axes = layer.axes(ndim)
            pad: list[int] = []
            for w in reversed(axes):  # F.pad lists the last axis first
                pad += [w.pad_before, w.pad_after]
            self.pads.append(tuple(pad))
            kernel = tuple(w.kernel for w in axes)
            stride = tuple(w.stride for w in axes)
            dilation = tuple(w.dilation for w in axes)
            self.convs.append(conv(1, 1, kernel, stride, dilation=dilation))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for pad, conv in zip(self.pads, self.convs, strict=True):
            x = conv(F.pad(x, pad))
        return x


# -- preparing the copy ---------------------------------------------------------------


class _Identity(nn.Module):
    def forward(self, x, *args, **kwargs):
        return x


_REPLACE = (
    nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
    nn.ReLU6, nn.Hardtanh, nn.Hardsigmoid, nn.Threshold,
)  # fmt: skip

_KEEP_HOOKS = ("WeightNorm", "SpectralNorm", "SpectralNormStateDictHook")  # part of the layer


def _prepare(model: nn.Module) -> nn.Module:
    twin = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
    twin.eval()
    for parent in list(twin.modules()):
        _drop_hooks(parent)
        for attr, child in list(parent.named_children()):
            if isinstance(child, _REPLACE):
                setattr(parent, attr, _Identity())
    with torch.no_grad():
        for mod in twin.modules():
            if isinstance(mod, nn.modules.batchnorm._NormBase):
                if mod.running_mean is not None:
                    mod.running_mean.zero_()
                    mod.running_var.fill_(1.0)
                if mod.weight is not None:
                    mod.weight.fill_(1.0)
                    mod.bias.zero_()
                continue
            for pname, param in mod.named_parameters(recurse=False):
                if "bias" in pname:
                    param.zero_()
                elif param.dim() >= 2:
                    param.fill_(1.0 / param[0].numel())
                else:
                    param.fill_(1.0)
    return twin


def _drop_hooks(mod: nn.Module) -> None:
    """Remove the caller's hooks from a module of the copy (keep weight norm's own)."""
    for name in (
        "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
    ):  # fmt: skip
        hooks = getattr(mod, name, None)
        if hooks:
            for key in [k for k, h in hooks.items() if type(h).__name__ not in _KEEP_HOOKS]:
                del hooks[key]


class _NoGlobalHooks:
    """Hide hooks registered for every module (``register_module_forward_hook``) meanwhile."""

    _NAMES = (
        "_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
        "_global_backward_pre_hooks", "_global_forward_hooks_always_called",
    )  # fmt: skip

    def __enter__(self):
        module = torch.nn.modules.module
        self.saved = {n: dict(getattr(module, n)) for n in self._NAMES if hasattr(module, n)}
        for name in self.saved:
            getattr(module, name).clear()
        return self

    def __exit__(self, *exc):
        module = torch.nn.modules.module
        for name, saved in self.saved.items():
            getattr(module, name).update(saved)


def _tuple(v, nd: int) -> tuple:
    if isinstance(v, tuple | list):
        return tuple(v) if len(v) == nd else tuple(v) * nd
    return (v,) * nd


def _dense_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Mean-pool with the exact geometry of a max pool (padding, dilation, ceil mode)."""
    nd = x.dim() - 2
    k = _tuple(kernel_size, nd)
    s = k if stride is None or stride in ((), []) else _tuple(stride, nd)
    p, d = _tuple(padding, nd), _tuple(dilation, nd)
    lengths = []
    for n, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d, strict=True):
        span = dd * (kk - 1) + 1
        if ceil_mode:
            out = -(-(n + 2 * pp - span) // ss) + 1
            if (out - 1) * ss >= n + pp:
                out -= 1
        else:
            out = (n + 2 * pp - span) // ss + 1
        lengths.append(out)
    pad: list[int] = []
    for n, kk, ss, pp, dd, out in reversed(
        list(zip(x.shape[2:], k, s, p, d, lengths, strict=True))
    ):
        need = (out - 1) * ss + dd * (kk - 1) + 1
        pad += [pp, max(0, need - n - pp)]
    x = F.pad(x, pad)
    channels = x.shape[1]
    weight = torch.ones((channels, 1, *k), dtype=x.dtype) / math.prod(k)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    y = conv(x, weight, None, s, 0, d, channels)
    return y[(slice(None), slice(None), *(slice(0, n) for n in lengths))]


_ADAPTIVE = {
    "adaptive_max_pool1d": F.adaptive_avg_pool1d,
    "adaptive_max_pool2d": F.adaptive_avg_pool2d,
    "adaptive_max_pool3d": F.adaptive_avg_pool3d,
}
_NORMS = {"layer_norm", "group_norm", "instance_norm", "rms_norm"}


_CONVS = {"conv1d": F.conv1d, "conv2d": F.conv2d, "conv3d": F.conv3d}
_TRANSPOSED = {
    "conv_transpose1d": F.conv_transpose1d,
    "conv_transpose2d": F.conv_transpose2d,
    "conv_transpose3d": F.conv_transpose3d,
}


def _one_channel_conv(conv, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The same convolution with constant weights, computed on one channel.

    Every weight of the copy is a positive constant, so every output channel
    reads the mean of its input channels through the same window: computing
    that once and repeating it for every output channel gives the same
    support for a fraction of the work (in float64, a 512-channel 3x3
    convolution costs 400 times less).
    """
    if x.dim() < weight.dim():  # an unbatched input (C, H, W)
        return _one_channel_conv(conv, x[None], weight, bias, stride, padding, dilation, groups)[0]
    _check_channels(x, weight.shape[1] * groups, weight)
    kernel = weight.shape[2:]
    ones = torch.full((1, 1, *kernel), 1.0 / math.prod(kernel), dtype=x.dtype)
    y = conv(x.mean(dim=1, keepdim=True), ones, None, stride, padding, dilation, 1)
    return y.expand(y.shape[0], weight.shape[0], *y.shape[2:]).contiguous()


def _check_channels(x: torch.Tensor, expected: int, weight: torch.Tensor) -> None:
    """Fail as the real convolution would on a wrong number of channels."""
    if x.shape[1] != expected:
        raise RuntimeError(
            f"weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{expected} channels, but got {x.shape[1]} channels instead"
        )


def _one_channel_transposed(
    conv, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    if x.dim() < weight.dim():  # an unbatched input (C, H, W)
        args = (weight, bias, stride, padding, output_padding, groups, dilation)
        return _one_channel_transposed(conv, x[None], *args)[0]
    _check_channels(x, weight.shape[0], weight)
    kernel = weight.shape[2:]
    ones = torch.full((1, 1, *kernel), 1.0 / math.prod(kernel), dtype=x.dtype)
    y = conv(x.mean(dim=1, keepdim=True), ones, None, stride, padding, output_padding, 1, dilation)
    return y.expand(y.shape[0], weight.shape[1] * groups, *y.shape[2:]).contiguous()


def _mean_linear(x, weight, bias=None):
    """A linear layer with constant weights: every output is the mean of every input."""
    if x.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({x.shape[-1]} inputs, weight "
            f"{list(weight.shape)})"
        )
    out = x.mean(dim=-1, keepdim=True)
    return out.expand(*x.shape[:-1], weight.shape[0]).contiguous()


class _DenseMax(TorchFunctionMode):
    """Dense pooling for every max pooling, identity for every statistics-based norm,
    and cheap convolutions and linear layers with the same support (see above)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        name = getattr(func, "__name__", "")
        if name in _CONVS and isinstance(
            args[1] if len(args) > 1 else kwargs.get("weight"), torch.Tensor
        ):
            return _one_channel_conv(_CONVS[name], *args, **kwargs)
        if name in _TRANSPOSED:
            return _one_channel_transposed(_TRANSPOSED[name], *args, **kwargs)
        if name == "linear":
            return _mean_linear(*args, **kwargs)
        if name in ("max_pool1d", "max_pool2d", "max_pool3d"):
            if kwargs.pop("return_indices", False) or (len(args) > 6 and args[6]):
                raise ValueError("gradient_rf cannot replace a max pool with return_indices=True")
            return _dense_pool(*args[:6], **kwargs)
        if name in _ADAPTIVE:
            size = args[1] if len(args) > 1 else kwargs["output_size"]
            return _ADAPTIVE[name](args[0], size)
        if name == "amax":
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            keep = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
            return args[0].mean(dim=dim, keepdim=keep)
        if name in _NORMS:
            return args[0]
        return func(*args, **kwargs)


# -- one measurement ----------------------------------------------------------------


_POOLS = (
    nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd,
)  # fmt: skip


def _first_layer(model: nn.Module, channels: int | None) -> tuple[int, int]:
    """Spatial axes and input channels, from the first convolution (or pooling, with channels)."""
    pool = None
    for mod in model.modules():
        if isinstance(mod, nn.modules.conv._ConvNd):
            return len(mod.kernel_size), mod.in_channels if channels is None else channels
        if pool is None and isinstance(mod, _POOLS):
            pool = mod
    if pool is not None and channels is not None:
        return int(type(pool).__name__[-2]), channels
    raise ValueError(
        f"{type(model).__name__} has no convolution module: gradient_rf cannot tell its input "
        "channels and number of spatial axes (a pooling-only model needs channels=)"
    )


def _boxes(grad: torch.Tensor) -> list[tuple[int, int]] | None:
    """Per axis, the first and last index with a non-zero gradient."""
    support = grad.abs().sum(dim=(0, 1)) > 0
    if not bool(support.any()):
        return None
    boxes = []
    for axis in range(support.dim()):
        others = tuple(a for a in range(support.dim()) if a != axis)
        line = support.any(dim=others) if others else support
        idx = torch.nonzero(line).flatten()
        boxes.append((int(idx[0]), int(idx[-1])))
    return boxes


def probe_input(channels: int, sizes) -> torch.Tensor:
    """The input fed to the copy: positive values between 1 and 2, the same on every call.

    Positive, so that ReLU-like gates pass gradient; not all equal, so that no
    derivative cancels by coincidence (with all ones, ``x * softmax(x)`` minus
    its mean has a zero derivative off the diagonal).  A private generator
    leaves the global random state alone.
    """
    generator = torch.Generator().manual_seed(0)
    x = 1 + torch.rand((1, channels, *sizes), generator=generator, dtype=torch.float64)
    return x.requires_grad_(True)


def _resident_bytes() -> int:
    """The process's resident memory now, in bytes (0 where /proc is not there)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _forward(twin: nn.Module, channels: int, sizes):
    """Run the copy once; return input, output and the bytes kept for backward.

    The bytes are the larger of two counts: the tensors autograd saves, and how
    much the process grew during the forward pass.  The second catches what the
    first cannot see (a fused recurrent layer keeps its own buffers: an LSTM
    over 16 384 steps kept eight times what its saved tensors say).
    """
    resident = _resident_bytes()
    x = probe_input(channels, sizes)
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        kept[storage.data_ptr()] = storage.nbytes()
        return t

    with (
        _DenseMax(),
        warnings.catch_warnings(),
        torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
    ):
        warnings.filterwarnings("ignore", message="Using padding='same'")
        y = twin(x)
    if isinstance(y, tuple | list):
        y = y[0]
    if isinstance(y, dict):
        y = next(iter(y.values()))
    if y.dim() != len(sizes) + 2:  # flattened: one unit
        y = y.reshape(1, -1, *([1] * len(sizes)))
    grown = _resident_bytes() - resident if resident else 0
    # backward allocates about twice what forward keeps (measured on attention: 3x in all)
    peak = 3 * max(sum(kept.values()), grown) + 3 * x.numel() * 8 + 3 * y.numel() * 8
    return x, y, peak


class _NoDependence(ValueError):
    """The central units read no input pixel (only padding, or nothing) at this size."""

    def __init__(self, message: str, n_out: tuple[int, ...]) -> None:
        super().__init__(message)
        self.n_out = n_out


def _measure(twin: nn.Module, channels: int, sizes, phases: int, light: bool = False) -> dict:
    """Regions of the central unit, its neighbours along each axis, and the corner unit.

    ``light``: only the central unit (to learn what a size costs).
    """
    x, y, peak = _forward(twin, channels, sizes)
    n_out = tuple(y.shape[2:])
    center = [(n // 2) // phases * phases for n in n_out]
    cache: dict[tuple, list | None] = {}

    def box_of(idx) -> list | None:
        key = tuple(idx)
        if key not in cache:
            grad_out = torch.zeros_like(y)
            grad_out[(0, slice(None), *key)] = 1.0
            (g,) = torch.autograd.grad(y, x, grad_out, retain_graph=True)
            cache[key] = _boxes(g)
        return cache[key]

    def at(ref, axis, t):
        idx = list(ref)
        idx[axis] += t
        return box_of(idx) if idx[axis] < n_out[axis] else None

    # the reference unit: the first unit of the central period that sees something
    # (after a transposed convolution with kernel < stride some units see nothing)
    ref = list(center)
    for axis in range(len(sizes)):
        for t in range(phases):
            if at(ref, axis, t) is not None:
                ref[axis] += t
                break
    middle = box_of(ref)
    if middle is None:
        raise _NoDependence(
            "gradient_rf: the central output units do not depend on the input at all", n_out
        )
    result = {"box": middle, "center": center, "n_out": n_out, "peak": peak, "corner": None}
    if light:
        return result
    size, jump = [b[1] - b[0] + 1 for b in middle], [None] * len(sizes)
    for axis, (b, n) in enumerate(zip(middle, sizes, strict=True)):
        if b[0] == 0 or b[1] == n - 1:
            continue  # clipped along this axis: it will grow, no neighbour needed yet
        boxes = [at(ref, axis, t) for t in range(phases)]
        size[axis] = max(bx[axis][1] - bx[axis][0] + 1 for bx in boxes if bx is not None)
        far = at(ref, axis, phases)
        jump[axis] = None if far is None else Fraction(far[axis][0] - b[0], phases)
    result["size"], result["jump"] = size, jump
    if any(j is None or j == 0 for j in jump):
        # the first unit tells an axis that every unit sees alike (global pooling,
        # attention) from a field that is merely larger than the input (it sees the whole
        # input only when the field is twice as wide as the input)
        result["corner"] = _first_reading(box_of, n_out)
    return result


def _first_reading(box_of, n_out) -> list | None:
    """The region of the first unit (k, k, ...) that reads anything: a border unit may read
    only padding, and a product with it then depends on nothing."""
    for k in range(min(n_out)):
        box = box_of([k] * len(n_out))
        if box is not None:
            return box
    return None


# -- budgets --------------------------------------------------------------------------


class _Budget:
    """Predicts the memory and time of the next size from the sizes measured so far."""

    def __init__(self, max_pixels: int, max_bytes: int, max_seconds: float) -> None:
        self.max_pixels, self.max_bytes, self.max_seconds = max_pixels, max_bytes, max_seconds
        self.started = time.perf_counter()
        self.history: list[tuple[int, int, float]] = []  # pixels, bytes, seconds

    def record(self, pixels: int, peak: int, seconds: float) -> None:
        self.history.append((pixels, peak, seconds))

    def _growth(self, pixels: int) -> float:
        """How many times more memory (and work) ``pixels`` takes than the last size measured."""
        (p1, b1, _), (p2, b2, _) = self.history[-2], self.history[-1]
        power = 1.0
        if p2 > p1 and 0 < b1 < b2:
            power = min(max(math.log(b2 / b1) / math.log(p2 / p1), 1.0), 3.0)
        return (pixels / p2) ** power

    def refusal(self, sizes, channels: int) -> str | None:
        """Why size ``sizes`` may not be tried (``None``: it may)."""
        pixels = math.prod(sizes)
        if pixels > self.max_pixels:
            return (
                f"input size {tuple(sizes)} has {pixels} pixels per channel, beyond "
                f"max_pixels={self.max_pixels} (rflesson.gradient.MAX_ELEMENTS by default)"
            )
        least = 3 * channels * pixels * 8  # the input, its gradient and the ones, in float64
        if least > self.max_bytes:
            return (
                f"input size {tuple(sizes)} needs at least {least / 2**20:.0f} MiB, beyond "
                f"max_bytes={self.max_bytes} (rflesson.gradient.MAX_BYTES by default)"
            )
        if len(self.history) < 2:
            return None
        growth = self._growth(pixels)
        peak = self.history[-1][1] * growth
        if peak > self.max_bytes:
            return (
                f"input size {tuple(sizes)} would need about {peak / 2**20:.0f} MiB (measured "
                f"growth), beyond max_bytes={self.max_bytes} (rflesson.gradient.MAX_BYTES by default)"
            )
        spent = time.perf_counter() - self.started
        rate = min(t / b for _, b, t in self.history if b > 0)  # seconds per byte (no warm-up)
        if spent + 2 * rate * peak > self.max_seconds:
            return (
                f"input size {tuple(sizes)} would take the search past max_seconds="
                f"{self.max_seconds} (rflesson.gradient.MAX_SECONDS by default)"
            )
        return None


def _calibrate(twin, channels: int, sizes, phases: int, budget: _Budget) -> None:
    """Measure two small sizes first, so that memory is predicted before a large one runs."""
    if 3 * channels * math.prod(sizes) * 8 * 64 < budget.max_bytes:
        return  # small enough to try at once: the measurement itself is the calibration
    small = [max(8, n // 8) for n in sizes]
    for _ in range(2):
        if math.prod(small) * 4 > math.prod(sizes):
            return
        try:
            started = time.perf_counter()
            m = _measure(twin, channels, small, phases, light=True)
            budget.record(math.prod(small), m["peak"], time.perf_counter() - started)
        except (RuntimeError, ValueError):
            pass  # too small for the model: no calibration at this size
        small = [2 * n for n in small]


# -- the search ------------------------------------------------------------------------


def gradient_rf(
    model: object,
    input_size: int | tuple[int, ...],
    *,
    phases: int = 1,
    channels: int | None = None,
    max_pixels: int = MAX_ELEMENTS,
    max_bytes: int = MAX_BYTES,
    max_seconds: float = MAX_SECONDS,
) -> ReceptiveField:
    """Measure the receptive field of ``model``'s central output unit by back-propagation.

    ``model``: a ``torch.nn.Module`` (output ``(N, C, *spatial)`` or one
    vector) or a list of ``Layer``.  ``input_size``: the starting spatial
    size (int or one length per axis); it doubles until the central unit's
    region is unclipped (and a neighbour exists to measure the jump).
    ``phases``: after upsampling, units of different phases see differently
    many pixels; ``phases=P`` measures ``P`` neighbours per axis and reports
    the largest region and the jump over ``P`` units.  ``channels``: input
    channels (read from the first convolution when omitted).

    Budgets (documented limits; the search refuses a size beyond them, the
    very first one included, with an error that names the limit):
    ``max_pixels`` input pixels per channel (``MAX_ELEMENTS``, 2**21),
    ``max_bytes`` predicted peak memory of one measurement (``MAX_BYTES``,
    1 GiB) and ``max_seconds`` for the whole search (``MAX_SECONDS``, 20 s).

    Returns the fields of ``receptive_field``: ``start`` and ``center`` are
    brought back to unit 0 (``lo - c * jump`` for the central unit ``c``);
    ``n_out`` is the output size at the input size measured, which ``note``
    gives.  When every unit sees the whole input (see the module docstring),
    ``whole_input`` is ``True``, ``size`` is ``input_size`` and ``note`` says
    at which sizes it was seen.
    """
    if channels is not None:
        channels = as_int("channels", channels, minimum=1)
    with torch.random.fork_rng(devices=[]):  # a layer list is built with random weights
        model, ndim, channels = _as_model(model, input_size, channels)
    if input_size is None:
        raise TypeError(
            "input_size must be an int or a tuple of ints (one per spatial axis), got None: "
            "gradient_rf needs the input size to start from"
        )
    phases = as_int("phases", phases, minimum=1)
    max_pixels = as_int("max_pixels", max_pixels, minimum=1)
    max_bytes = as_int("max_bytes", max_bytes, minimum=1)
    max_seconds = as_float("max_seconds", max_seconds, minimum=0)
    sizes = list(_sizes(input_size, ndim))
    budget = _Budget(max_pixels, max_bytes, max_seconds)
    refusal = budget.refusal(sizes, channels)
    if refusal:
        raise ValueError(f"gradient_rf: {refusal}")
    with torch.random.fork_rng(devices=[]), _NoGlobalHooks(), torch.enable_grad():
        twin = _prepare(model)
        _calibrate(twin, channels, sizes, phases, budget)
        refusal = budget.refusal(sizes, channels)
        if refusal:  # what the small sizes cost says the first one is too large
            raise ValueError(f"gradient_rf: {refusal}")
        return _search(twin, channels, sizes, phases, budget)


def _as_model(model: object, input_size, channels) -> tuple[nn.Module, int, int]:
    """The model to measure, its number of spatial axes and its input channels."""
    if isinstance(model, Layer):
        model = [model]
    if isinstance(model, list | tuple):
        if not model or not all(isinstance(x, Layer) for x in model):
            raise TypeError("model must be a torch.nn.Module or a non-empty list of Layer")
        ndim = max(layer.ndim for layer in model)
        if isinstance(input_size, tuple | list) and ndim == 1 and len(input_size) > 1:
            ndim = len(input_size)
        model = LayerNet(list(model), ndim)
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module or a list of Layer, got {type(model).__name__}"
        )
    tensors = list(model.parameters()) + list(model.buffers())
    if any(t.is_meta for t in tensors):
        raise ValueError(
            f"{type(model).__name__} is on the meta device: it has no weights to run, so "
            "gradient_rf cannot back-propagate through it (receptive_field works on it)"
        )
    ndim, channels = _first_layer(model, channels)
    return model, ndim, channels


def _search(twin, channels: int, sizes: list[int], phases: int, budget: _Budget):
    """Grow the input until every axis is unclipped (and confirmed) or seen alike by every unit."""
    ndim = len(sizes)
    previous = None  # the last measurement
    settled = None  # the last unclipped measurement, confirmed by the next size
    mixed: set[int] = set()  # axes along which every unit sees the same pixels, confirmed
    seen_alike: dict[int, dict] = {}
    first_sizes = tuple(sizes)
    failures = 0
    while True:
        started = time.perf_counter()
        try:
            m = _measure(twin, channels, sizes, phases)
        except _NoDependence as error:
            # With a few output units the central one may read only padding; a larger
            # input gives it pixels.  With many units, no input reaches the output.
            if all(n >= 2 * phases + 6 for n in error.n_out):
                raise
            sizes = _next(
                budget, [2 * n for n in sizes], channels, "find pixels the central unit reads"
            )
            continue
        except ValueError:
            raise  # rflesson's own
        except Exception as error:  # the model's failure: a too-small input, or something else
            if not _too_small(error):
                if previous is not None and all(previous["alike"]):  # at the sizes it takes
                    stopped = f"the model does not run at {tuple(sizes)} ({type(error).__name__})"
                    return _alike(seen_alike, stopped, previous)
                raise _failure(error, sizes, channels) from error
            failures += 1
            if failures > MAX_FAILURES:
                raise ValueError(
                    f"gradient_rf: the model rejects every input up to {tuple(sizes)} as too "
                    f"small ({error})"
                ) from error
            sizes = _next(budget, [2 * n for n in sizes], channels, "grow past a too-small input")
            continue
        budget.record(math.prod(sizes), m["peak"], time.perf_counter() - started)
        m["sizes"] = tuple(sizes)
        m["alike"] = [
            m["corner"] is not None and m["corner"][a] == m["box"][a] for a in range(ndim)
        ]
        for a in range(ndim):  # mixed axes are shown at the first size where they looked so
            if m["alike"][a] and a not in seen_alike:
                seen_alike[a] = m
        if previous is not None:
            mixed |= _confirmed(previous, m)
        if len(mixed) == ndim:
            return _alike(seen_alike, "", previous, m)
        open_axes = [a for a in range(ndim) if a not in mixed]
        clipped = {a: m["alike"][a] or _clipped(m, a, sizes[a], phases) for a in open_axes}
        if not any(clipped.values()):
            # A region can also be cut short inside the input, where a strided
            # layer's last window drops the border units: accept a measurement
            # only when a larger input gives the same field.
            result = _result(m, ndim, mixed, seen_alike)
            if settled is not None and _same_field(settled, result):
                return settled
            settled = result
            bigger = [n + n // 2 if a in open_axes else n for a, n in enumerate(sizes)]
            if budget.refusal(bigger, channels):
                return settled
            previous, sizes = m, bigger
            continue
        settled = None
        m["prefix"] = _prefix(previous, m, mixed)
        previous = m
        grown = [2 * n if clipped.get(a) else n for a, n in enumerate(sizes)]
        refusal = budget.refusal(grown, channels)
        if refusal and all(m["alike"][a] for a in open_axes):  # alike so far, cannot grow more
            if all(m["alike"]):
                return _alike(seen_alike, refusal, m)
            return _result(m, ndim, set(open_axes), seen_alike)
        sizes = _next(
            budget, grown, channels, "see the central unit's whole region", m, first_sizes
        )


def _confirmed(previous: dict, m: dict) -> set[int]:
    """Axes every unit saw alike at two sizes: the output did not grow, or the size is large."""
    found = set()
    for a in range(len(m["sizes"])):
        if not (previous["alike"][a] and m["alike"][a] and m["sizes"][a] > previous["sizes"][a]):
            continue
        # one unit that reads the same few pixels at both sizes is not a global pool:
        # its neighbours are just further apart than the input is long
        fixed = previous["box"][a] == m["box"][a] != (0, m["sizes"][a] - 1)
        pooled = previous["n_out"][a] == m["n_out"][a] and m["sizes"][a] >= WHOLE_FROM
        pooled = pooled and not fixed
        if pooled or m["sizes"][a] >= 2 * WHOLE_FROM:
            found.add(a)
    return found


def _clipped(m: dict, a: int, n: int, phases: int) -> bool:
    lo, hi = m["box"][a]
    j = m["jump"][a]
    return lo == 0 or hi == n - 1 or j is None or j <= 0 or m["n_out"][a] < 2 * phases + 6


def _next(budget: _Budget, grown, channels, why: str, m=None, first=None) -> list[int]:
    refusal = budget.refusal(grown, channels)
    if refusal:
        seen = ""
        if m is not None:
            seen = f"; at {m['sizes']} the central unit's region was {[tuple(b) for b in m['box']]}"
            for a in m.get("prefix", ()):
                seen += (
                    f"; along axis {a} its region starts at a border and grows with the input at "
                    f"every size tried ({first[a]} to {m['sizes'][a]}): a recurrent layer or a "
                    "cumulative operation has no fixed receptive field (or the field is wider "
                    "than the largest size tried)"
                )
        raise ValueError(f"gradient_rf: cannot {why}: {refusal}{seen}")
    return grown


def _prefix(old: dict | None, m: dict, mixed: set[int]) -> set[int]:
    """Axes along which the region runs from a border and grew with the input at every size."""
    found = set()
    for a, (lo, hi) in enumerate(m["box"]):
        n = m["sizes"][a]
        at_border = (lo == 0) != (hi == n - 1)  # one border, not both
        if a in mixed or m["alike"][a] or not at_border:
            continue
        if (
            old is None
            or a in old.get("prefix", ())
            and (hi - lo) > (old["box"][a][1] - old["box"][a][0])
        ):
            found.add(a)
    return found


def _too_small(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(t in text for t in _TOO_SMALL)


def _failure(error: BaseException, sizes, channels: int) -> ValueError:
    """A failure of the model that growing the input will not cure, named."""
    text = str(error)
    shown = tuple(sizes)
    if isinstance(error, MemoryError) or any(t in text.lower() for t in _OUT_OF_MEMORY):
        return ValueError(
            f"gradient_rf ran out of memory at input size {shown} ({text[:200]}); lower "
            "max_bytes so that the search stops before, or start from a smaller input_size"
        )
    if "channels" in text and "expected input" in text:
        return ValueError(
            f"channels={channels} does not fit the model: {text} (pass channels= with the "
            "number of input channels its first layer takes)"
        )
    return ValueError(
        f"gradient_rf: the model fails at input size {shown}: {type(error).__name__}: {text}"
    )


def _same_field(a: ReceptiveField, b: ReceptiveField) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in ("size", "jump", "start", "center"))


def _num(x):
    if x is None:
        return None
    x = Fraction(x)
    return int(x) if x.denominator == 1 else x


def _result(m: dict, ndim: int, mixed=(), seen=None) -> ReceptiveField:
    """The field measured at ``m``; axes in ``mixed`` as every unit first saw them alike."""
    size, jump, start, center = [], [], [], []
    for a in range(ndim):
        if a in mixed:
            lo, hi = seen[a]["box"][a]
            size.append(hi - lo + 1)
            jump.append(seen[a]["sizes"][a])
            start.append(lo)
            center.append((lo + hi) / 2)
            continue
        lo, hi = m["box"][a]
        j = m["jump"][a]
        offset = j * m["center"][a]
        size.append(m["size"][a])
        jump.append(_num(j))
        start.append(_num(lo - offset))
        center.append(float((lo + hi) / 2 - offset))
    sizes = m["sizes"]
    note = f"measured at input size {sizes[0] if ndim == 1 else sizes}"
    if mixed:
        shown = [seen[a]["sizes"][a] for a in sorted(mixed)]
        note += (
            f"; every unit sees the same pixels along axes {sorted(mixed)} (shown at input "
            f"length {', '.join(map(str, shown))})"
        )
    return _field(size, jump, start, center, tuple(m["n_out"]), False, note)


def _field(size, jump, start, center, n_out, whole: bool, note: str) -> ReceptiveField:
    if len(size) == 1:
        return ReceptiveField(size[0], jump[0], start[0], center[0], n_out[0], whole, note)
    return ReceptiveField(tuple(size), tuple(jump), tuple(start), tuple(center), n_out, whole, note)


def _alike(seen_alike: dict[int, dict], stopped: str, *seen: dict) -> ReceptiveField:
    """Every unit sees the same pixels along every axis (shown where first seen so)."""
    ndim = len(seen_alike)
    boxes = [seen_alike[a]["box"][a] for a in range(ndim)]
    lengths = [seen_alike[a]["sizes"][a] for a in range(ndim)]
    whole = all(b == (0, n - 1) for b, n in zip(boxes, lengths, strict=True))
    sizes = [m["sizes"] for m in seen if m is not None]
    shown = " and ".join(str(s[0] if ndim == 1 else s) for s in dict.fromkeys(sizes))
    what = "the whole input" if whole else "the same pixels"
    note = (
        f"every output unit sees {what}: the central unit and the first that reads anything read "
        f"the same pixels at input size {shown} (global pooling, attention, "
        f"squeeze-and-excitation); boxes shown at input length {', '.join(map(str, lengths))}"
    )
    if stopped:
        note += f"; not tried larger: {stopped}"
    size = [b[1] - b[0] + 1 for b in boxes]
    start = [b[0] for b in boxes]
    center = [(b[0] + b[1]) / 2 for b in boxes]
    first = seen_alike[0]
    return _field(size, lengths, start, center, tuple(first["n_out"]), whole, note)
