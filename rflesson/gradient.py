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
  1), every bias zero, batch norms the identity, the input all ones: every
  pre-activation is positive, so ReLU-like gates pass gradient;
* max pooling (module or functional, adaptive too) replaced by a dense
  pooling of the same geometry: a max sends gradient to one element per
  window and under-counts;
* statistics-based norms (group, instance, layer norm) and saturating
  activations (ReLU6, hardtanh, hardsigmoid) replaced by the identity:
  receptive-field arithmetic treats them as pointwise;
* eval mode (dropout off).

The input grows (doubling) until the central unit's region touches no
border and a 1.5 times larger input gives the same field (a strided layer can
drop border units and cut a region short inside the input); the jump is
the distance between the regions of two neighbouring units.  The model passed in is not touched.
"""

from __future__ import annotations

import copy
import math
import warnings
from fractions import Fraction

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ._validate import as_int
from .layers import Layer
from .rf import ReceptiveField, _sizes

MAX_ELEMENTS = 1 << 22  # largest input (pixels per channel) the search may try
MAX_FAILURES = 10  # doublings tried while the model rejects the input as too small
WHOLE_FROM = 128  # smallest input side at which a non-growing output means "whole input"


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


def _prepare(model: nn.Module) -> nn.Module:
    twin = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
    twin.eval()
    for parent in list(twin.modules()):
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


class _DenseMax(TorchFunctionMode):
    """Replace every max pooling the forward pass calls by a dense pooling."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        name = getattr(func, "__name__", "")
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
        return func(*args, **kwargs)


# -- measuring -----------------------------------------------------------------------


def _first_conv(model: nn.Module) -> nn.Module:
    for mod in model.modules():
        if isinstance(mod, nn.modules.conv._ConvNd):
            return mod
    raise ValueError(
        f"{type(model).__name__} has no convolution module: gradient_rf cannot tell its input "
        "channels and number of spatial axes"
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


def _forward(twin: nn.Module, channels: int, sizes):
    x = torch.ones((1, channels, *sizes), dtype=torch.float64, requires_grad=True)
    with _DenseMax(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using padding='same'")
        y = twin(x)
    if isinstance(y, tuple | list):
        y = y[0]
    if isinstance(y, dict):
        y = next(iter(y.values()))
    if y.dim() != len(sizes) + 2:  # flattened: one unit
        y = y.reshape(1, -1, *([1] * len(sizes)))
    return x, y


def _measure(twin: nn.Module, channels: int, sizes, phases: int) -> dict:
    """Regions of the central unit and of its neighbours along each axis."""
    x, y = _forward(twin, channels, sizes)
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
        raise ValueError("gradient_rf: the central output units do not depend on the input at all")
    if any(b[0] == 0 or b[1] == n - 1 for b, n in zip(middle, sizes, strict=True)):
        # clipped: the input will grow, so the neighbours need not be measured
        size = [b[1] - b[0] + 1 for b in middle]
        return {
            "box": middle,
            "center": center,
            "n_out": n_out,
            "size": size,
            "jump": [None] * len(sizes),
        }
    size, jump = [], []
    for axis in range(len(sizes)):
        boxes = [at(ref, axis, t) for t in range(phases)]
        size.append(max(b[axis][1] - b[axis][0] + 1 for b in boxes if b is not None))
        far = at(ref, axis, phases)
        jump.append(None if far is None else Fraction(far[axis][0] - middle[axis][0], phases))
    return {"box": middle, "center": center, "n_out": n_out, "size": size, "jump": jump}


def gradient_rf(
    model: object,
    input_size: int | tuple[int, ...],
    *,
    phases: int = 1,
    channels: int | None = None,
    max_pixels: int = MAX_ELEMENTS,
) -> ReceptiveField:
    """Measure the receptive field of ``model``'s central output unit by back-propagation.

    ``model``: a ``torch.nn.Module`` or a list of ``Layer``.  ``input_size``:
    the starting spatial size (int or per axis); it doubles until the central
    unit's region is unclipped (and a neighbour exists to measure the jump).
    ``phases``: after upsampling, units of different phases see differently
    many pixels; ``phases=P`` measures ``P`` neighbours per axis and reports
    the largest region and the jump over ``P`` units.  ``channels``: input
    channels (read from the first convolution when omitted).  ``max_pixels``:
    the largest input (pixels per channel) the search may try.

    Returns the fields of ``receptive_field``: ``start`` and ``center`` are
    brought back to unit 0 (``lo - c * jump`` for the central unit ``c``);
    ``n_out`` is the output size at the input size measured, which ``note``
    gives.  When the region keeps covering the whole input while the output
    stops growing (global pooling, flatten), or up to the largest input it
    tries (``MAX_ELEMENTS`` pixels: squeeze-excite gates), ``whole_input``
    is ``True`` and ``size`` is ``input_size``.
    """
    if isinstance(model, Layer):
        model = [model]
    if isinstance(model, list | tuple):
        if not model or not all(isinstance(x, Layer) for x in model):
            raise TypeError("model must be a torch.nn.Module or a non-empty list of Layer")
        ndim = max(layer.ndim for layer in model)
        if isinstance(input_size, tuple | list) and ndim == 1:
            ndim = len(input_size)
        model = LayerNet(list(model), ndim)
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module or a list of Layer, got {type(model).__name__}"
        )
    phases = as_int("phases", phases, minimum=1)
    max_pixels = as_int("max_pixels", max_pixels, minimum=1)
    conv = _first_conv(model)
    ndim = len(conv.kernel_size)
    sizes = list(_sizes(input_size, ndim))
    channels = conv.in_channels if channels is None else as_int("channels", channels, minimum=1)
    twin = _prepare(model)
    first_sizes = tuple(sizes)
    previous = None
    settled = None  # the last unclipped measurement, confirmed by the next size
    failures = 0
    while True:
        try:
            m = _measure(twin, channels, sizes, phases)
        except RuntimeError as error:  # too small for some layer: grow (a few times)
            failures += 1
            if failures > MAX_FAILURES:
                raise
            sizes = _grow(sizes, [True] * ndim, error, max_pixels)
            continue
        # Grow while the region touches a border, a neighbour is missing, or the
        # output is so short that the central unit lies near its end (where a
        # strided layer's dropped border units cut regions short).
        clipped = [
            b[0] == 0 or b[1] == n - 1 or j is None or j <= 0 or units < 2 * phases + 6
            for b, n, j, units in zip(m["box"], sizes, m["jump"], m["n_out"], strict=True)
        ]
        if not any(clipped):
            # A region can also be cut short inside the input, where a strided
            # layer's last window drops the border units: accept a measurement
            # only when a larger input gives the same field.
            result = _result(m, ndim, tuple(sizes))
            if settled is not None and _same_field(settled, result):
                return settled
            settled = result
            bigger = [n + n // 2 for n in sizes]  # 1.5x: cheaper than doubling, still moves
            if math.prod(bigger) > max_pixels:
                return settled
            sizes = bigger
            continue
        settled = None
        whole = all(b == (0, n - 1) for b, n in zip(m["box"], sizes, strict=True))
        # whole input, and the output did not grow when the input doubled from
        # at least WHOLE_FROM pixels (a finite network's output would have, unless
        # its jump exceeds WHOLE_FROM): global or adaptive pooling, or flatten
        if whole and previous == m["n_out"] and min(sizes) >= 2 * WHOLE_FROM:
            return _whole(channels, first_sizes, twin, ndim)
        previous = m["n_out"] if whole else None
        if whole and math.prod(2 * n if c else n for n, c in zip(sizes, clipped, strict=True)) > (
            max_pixels
        ):  # still the whole input at the largest size tried (squeeze-excite, attention)
            return _whole(channels, first_sizes, twin, ndim)
        sizes = _grow(sizes, clipped, None, max_pixels)


def _same_field(a: ReceptiveField, b: ReceptiveField) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in ("size", "jump", "start", "center"))


def _grow(sizes: list[int], which: list[bool], error, max_pixels: int) -> list[int]:
    grown = [2 * n if w else n for n, w in zip(sizes, which, strict=True)]
    if math.prod(grown) > max_pixels:
        reason = f" (the model fails: {error})" if error else ""
        raise ValueError(
            f"gradient_rf: no unclipped measurement up to input size {tuple(sizes)}{reason}; "
            f"growing further would exceed max_pixels={max_pixels}"
        )
    return grown


def _num(x):
    if x is None:
        return None
    x = Fraction(x)
    return int(x) if x.denominator == 1 else x


def _result(m: dict, ndim: int, sizes: tuple[int, ...]) -> ReceptiveField:
    size, jump, start, center = [], [], [], []
    for a in range(ndim):
        lo, hi = m["box"][a]
        j = m["jump"][a]
        offset = j * m["center"][a]
        size.append(m["size"][a])
        jump.append(_num(j))
        start.append(_num(lo - offset))
        center.append(float((lo + hi) / 2 - offset))
    n_out = tuple(m["n_out"])
    note = f"measured at input size {sizes[0] if ndim == 1 else sizes}"
    if ndim == 1:
        return ReceptiveField(size[0], jump[0], start[0], center[0], n_out[0], False, note)
    return ReceptiveField(tuple(size), tuple(jump), tuple(start), tuple(center), n_out, False, note)


def _whole(channels: int, sizes: tuple[int, ...], twin: nn.Module, ndim: int) -> ReceptiveField:
    _, y = _forward(twin, channels, list(sizes))
    n_out = tuple(y.shape[2:])
    note = "every output unit sees the whole input (global pooling or flatten)"
    centers = tuple((n - 1) / 2 for n in sizes)
    if ndim == 1:
        return ReceptiveField(sizes[0], sizes[0], 0, centers[0], n_out[0], True, note)
    return ReceptiveField(sizes, sizes, (0,) * ndim, centers, n_out, True, note)
