"""Turn a ``torch.nn.Module`` into a graph of axis operations (``rflesson.graph``).

``trace_model(module, input_size)`` runs the model's real ``forward`` once on
a probe (``rflesson.record``): submodules *and* functional calls
(``F.conv2d``, ``F.max_pool2d``, ``F.pad``, ``F.interpolate``,
``torch.cat``, ``+``, ``*``, ``x.view``, ``x.permute``, attention...) through
nested modules.  Each operation is read by what it does to every spatial
axis (``rflesson.layout`` follows the axes through reshapes):

* it slides a window along an axis (convolution, pooling, padding,
  cropping, upsampling): an axis operation per axis;
* it only moves, splits or merges dimensions (``view``, ``permute``,
  ``flatten`` then ``reshape`` back, a channel shuffle): positions are kept,
  no node;
* it works on channels only (activations, ``Linear`` or ``LayerNorm`` over a
  channels-last axis, ``softmax(dim=1)``): pointwise;
* it mixes a dimension that holds positions (attention, ``softmax`` or
  ``normalize`` over an axis, a ``Linear`` over tokens, a mean over the map):
  that axis is mixed, whole (``Mix``, ``Collapse(1)``) or window by window
  (``Block``: Swin's windowed attention);
* it broadcasts a summary of the whole map back onto every position
  (squeeze-and-excitation ``x * s``, ``x + x.mean(3, keepdim=True)``): a
  merge whose units read the whole input along those axes.

Normalisation layers (batch, group, instance, layer norm) are pointwise:
their statistics are treated as constants, as receptive-field arithmetic
does and as ``gradient_rf`` measures.  Anything else that moves positions
in a way that is not one receptive field (``torch.roll``, ``flip``, a
recurrent layer along an axis, ``cumsum`` over an axis, tiling) raises
``UnknownOperation`` naming the module path and operation: never a silent
number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import torch
import torch.nn as nn
import torch.nn.functional as F

from .graph import Node, ancestors, select
from .layers import PADDING_MODES, Block, Collapse, Mix, Resample, Transposed, Window
from .layout import (
    OTHER,
    Dim,
    Factor,
    LayoutError,
    axes_in,
    describe,
    digits,
    input_layout,
    is_plain,
    normalize_dim,
    other,
    permute,
    rescale,
    reshape,
    shape,
    spatial,
    whole_axis,
    without_axes,
)
from .record import MAX_REAL_ELEMENTS, Probe, Recorder, Stop, TraceError, probes_in

PROBE = 224  # input length per axis traced when no input_size is given
MAX_PROBE = 1 << 40  # the largest input length tried to get a network to accept its input
IDENTITY = Window()


class UnknownOperation(ValueError):
    """An operation whose effect on positions rflesson does not know (or that has none)."""


class _TooSmall(ValueError):
    """An operation got less input than its window needs."""


class _Retry(Exception):
    """The guessed number of spatial axes or input channels was wrong: trace again."""

    def __init__(self, ndim: int | None = None, channels: int | None = None) -> None:
        super().__init__()
        self.ndim, self.channels = ndim, channels


# -- operation names -------------------------------------------------------------------

_POINTWISE = {
    "relu", "relu6", "leaky_relu", "prelu", "rrelu", "elu", "selu", "celu", "gelu", "silu",
    "mish", "sigmoid", "tanh", "hardtanh", "hardswish", "hardsigmoid", "softplus", "softsign",
    "tanhshrink", "threshold", "logsigmoid", "hardshrink", "softshrink", "batch_norm",
    "instance_norm", "group_norm", "layer_norm", "rms_norm", "local_response_norm", "dropout",
    "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "clamp",
    "clip", "clamp_min", "clamp_max", "abs", "absolute", "exp", "exp2", "expm1", "log", "log2",
    "log10", "log1p", "sqrt", "rsqrt", "neg", "negative", "square", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "erfinv",
    "reciprocal", "sign", "sgn", "floor", "ceil", "round", "trunc", "frac", "nan_to_num",
    "positive", "pos", "invert", "bitwise_not", "logical_not", "logit", "isnan", "isinf",
    "isfinite", "channel_shuffle", "native_channel_shuffle", "sigmoid_", "square_", "float_power",
    "nan_to_num_", "exponential_", "bernoulli", "fill_", "zero_", "normal_", "uniform_",
}  # fmt: skip

_MERGE = {
    "add", "sub", "mul", "truediv", "div", "true_divide", "floordiv", "floor_divide", "mod",
    "remainder", "fmod", "pow", "maximum", "minimum", "fmax", "fmin", "atan2", "hypot", "eq",
    "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
    "and", "or", "xor", "lshift", "rshift", "where", "lerp", "addcmul", "addcdiv", "masked_fill",
    "copysign", "xlogy", "rsub", "multiply", "subtract", "divide", "heaviside",
}  # fmt: skip

_SAME = {
    "contiguous", "clone", "detach", "float", "double", "half", "bfloat16", "to", "type_as",
    "cpu", "cuda", "requires_grad_", "alias", "detach_", "retain_grad", "pin_memory",
    "as_subclass", "identity", "type",
}  # fmt: skip

_REDUCE = {
    "mean", "sum", "nansum", "nanmean", "prod", "amax", "amin", "std", "var", "logsumexp",
    "any", "all", "argmax", "argmin", "count_nonzero", "std_mean", "var_mean", "aminmax",
    "median", "nanmedian", "mode", "norm",
}  # fmt: skip

_CUMULATIVE = {"cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"}
_BY_VALUE = {"sort", "argsort", "topk", "kthvalue", "msort", "unique", "unique_consecutive"}
_NEW = {
    "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "zeros_like", "ones_like",
    "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
}  # fmt: skip


def _arg(args, kwargs, i: int, name: str, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _ints(value, n: int, what: str) -> tuple[int, ...]:
    """``value`` as ``n`` ints (an int spreads over all)."""
    if isinstance(value, torch.Size | tuple | list):
        values = tuple(value)
        if len(values) == 1 and n > 1:
            values = values * n
        if len(values) != n:
            raise UnknownOperation(f"{what} has {len(values)} entries, expected {n}")
    else:
        values = (value,) * n
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise UnknownOperation(f"{what} must be whole numbers, got {value!r}")
    return values


def _shape_of(value) -> tuple[int, ...]:
    if isinstance(value, Probe):
        return shape(value.layout)
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    return ()


def _broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy broadcasting of shapes (``torch.broadcast_shapes`` is slow for this many calls)."""
    rank = max((len(s) for s in shapes), default=0)
    out = [1] * rank
    for s in shapes:
        for i, n in enumerate(s, start=rank - len(s)):
            if n != 1:
                if out[i] not in (1, n):
                    raise ValueError(f"sizes {out[i]} and {n} do not broadcast (shapes {shapes})")
                out[i] = n
    return tuple(out)


def _meta(value):
    if isinstance(value, Probe):
        return torch.empty(tuple(value.shape), device="meta", dtype=value.dtype)
    if isinstance(value, torch.Tensor) and value.device.type != "meta":
        return torch.empty(value.shape, device="meta", dtype=value.dtype)
    if isinstance(value, tuple | list):
        return type(value)(_meta(v) for v in value)
    if isinstance(value, dict):
        return {k: _meta(v) for k, v in value.items()}
    return value


# -- the translator ----------------------------------------------------------------------------


class Tracer(Recorder):
    """Says what every operation of one forward pass does to positions."""

    def __init__(self, model: nn.Module, ndim: int, retried_channels: bool, stop_at=None) -> None:
        super().__init__(model, ndim, stop_at)
        self.retried_channels = retried_channels
        self.seen_spatial = False

    # -- probes and nodes ---------------------------------------------------------------

    def probe(self, node: str, layout, lengths, mixed, dtype=None) -> Probe:
        return Probe(node, tuple(layout), lengths, mixed, self, dtype)

    def derive(self, x: Probe, **changes) -> Probe:
        return Probe(
            changes.get("node", x.node),
            tuple(changes.get("layout", x.layout)),
            changes.get("lengths", x.lengths),
            changes.get("mixed", x.mixed),
            self,
            x.dtype,
        )

    def emit(self, label, kind, inputs, op, axes, layout, lengths, mixed, broadcast=()):
        node = self.add(label, kind, inputs, op, axes, broadcast)
        return self.probe(node, layout, lengths, mixed, inputs[0].dtype)

    def pointwise(self, x: Probe, label: str, op: str, layout=None) -> Probe:
        axes = (IDENTITY,) * self.ndim
        return self.emit(label, "pointwise", [x], op, axes, layout or x.layout, x.lengths, x.mixed)

    def refuse(self, label: str, op: str, why: str) -> UnknownOperation:
        return UnknownOperation(f"{label} ({op}) {why}")

    # -- entry point for every operation ---------------------------------------------------

    def handle(self, name: str, args: tuple, kwargs: dict, func=None):
        inplace = name.endswith("_") and not name.endswith("__")
        key = name.rstrip("_").lstrip("_")
        if kwargs.get("inplace"):
            inplace = True
        label = self.leaf_label() or self.label(key)
        out = self._translate(key, label, name, args, kwargs, func)
        if inplace and args and isinstance(args[0], Probe) and isinstance(out, Probe):
            target = args[0]  # the tensor changed in place now is the result
            target.node, target.layout = out.node, out.layout
            target.lengths, target.mixed = out.lengths, out.mixed
            return target
        return out

    def leaf_label(self) -> str | None:
        """A torch.nn layer run through its forward names its operations by its path."""
        return self.path if self.path and self.path == getattr(self, "_leaf", None) else None

    def _translate(self, key, label, name, args, kwargs, func):
        rule = _RULES.get(key)
        if rule is not None:
            try:
                return rule(self, label, key, args, kwargs, func)
            except LayoutError as error:
                raise self.refuse(label, key, f"cannot be followed: {error}") from None
        if key in _POINTWISE:
            return self.unary(label, key, args, kwargs)
        if key in _MERGE:
            return self.merge(label, key, list(args) + list(kwargs.values()))
        if key in _SAME:
            return self.same(args[0])
        return self.fallback(label, key, args, kwargs, func)

    # -- generic rules ---------------------------------------------------------------------------

    def same(self, x):
        return self.derive(x) if isinstance(x, Probe) else x

    def unary(self, label, key, args, kwargs):
        x = args[0]
        extra = [v for v in list(args[1:]) + list(kwargs.values()) if isinstance(v, Probe)]
        if extra:  # e.g. clamp(x, min=y): a merge
            return self.merge(label, key, [x, *extra])
        if not isinstance(x, Probe):
            return self.merge(label, key, list(args))
        return self.pointwise(x, label, key)

    def fallback(self, label, key, args, kwargs, func):
        """An operation with no rule: fine only when no operand holds positions any more."""
        probes = probes_in((args, kwargs))
        if any(p.has_positions() for p in probes):
            raise self.refuse(
                label, key, "is not known to rflesson: it cannot tell what it does to positions"
            )
        target = func if func is not None else getattr(torch.Tensor, key, None)
        if target is None:
            raise self.refuse(label, key, "is not known to rflesson")
        out = target(*_meta(args), **_meta(kwargs))
        mixed = frozenset().union(*(p.mixed for p in probes))
        lengths = tuple(max(p.lengths[a] for p in probes) for a in range(self.ndim))
        node = self.add(
            label, "merge" if len(probes) > 1 else "pointwise", probes, key, (IDENTITY,) * self.ndim
        )
        return self._wrap(out, node, lengths, mixed)

    def _wrap(self, out, node, lengths, mixed):
        if isinstance(out, torch.Tensor):
            return self.probe(node, tuple(other(n) for n in out.shape), lengths, mixed, out.dtype)
        if isinstance(out, tuple | list):
            wrapped = [self._wrap(o, node, lengths, mixed) for o in out]
            return type(out)(wrapped) if not hasattr(out, "_fields") else type(out)(wrapped)
        return out

    # -- merges (elementwise with broadcasting) -------------------------------------------------

    def merge(self, label, key, operands):
        probes = [o for o in operands if isinstance(o, Probe)]
        if not probes:
            return operands[0]
        try:
            out_shape = _broadcast(*[_shape_of(o) for o in operands])
        except ValueError as error:
            raise TraceError(f"{label} ({key}) cannot broadcast its operands: {error}") from None
        return self.join(label, key, probes, self.broadcast_layout(label, key, probes, out_shape))

    def join(self, label, key, probes: list[Probe], layout) -> Probe:
        """A node whose units read the same position of every input (or all of a broadcast one)."""
        layout = tuple(layout)
        present = axes_in(layout)
        broadcast = tuple(tuple(sorted(present - axes_in(p.layout))) for p in probes)
        lengths = tuple(max(p.lengths[a] for p in probes) for a in range(self.ndim))
        mixed = frozenset().union(*(p.mixed for p in probes))
        kind = "merge" if len(probes) > 1 else "pointwise"
        axes = (IDENTITY,) * self.ndim
        return self.emit(label, kind, probes, key, axes, layout, lengths, mixed, broadcast)

    def broadcast_layout(self, label, key, probes, out_shape):
        rank = len(out_shape)
        layout = []
        for j, size in enumerate(out_shape):
            aligned, spread = [], []
            for p in probes:
                k = j - (rank - len(p.layout))
                if k < 0:
                    continue
                d = p.layout[k]
                (aligned if d.size == size and not d.broadcast else spread).append(d)
            if aligned:
                first = aligned[0]
                for d in aligned[1:]:
                    if d != first and (digits(d) or digits(first) or d.before != first.before):
                        raise self.refuse(
                            label,
                            key,
                            f"joins tensors whose dimension {j} holds different positions "
                            f"({describe(first)} and {describe(d)}): their units do not line up",
                        )
                layout.append(first)
            elif size == 1:
                markers = tuple(f for d in spread for f in d.factors if f.axis != OTHER)
                layout.append(Dim(1, markers[:1]))
            else:  # every probe is broadcast here: the same value at every index
                layout.append(Dim(size, (), broadcast=True))
        return tuple(layout)

    # -- the spatial dimensions of window operations -----------------------------------------

    def spatial_axes(self, x: Probe, nd: int, label: str, key: str) -> list[int | None]:
        """Which spatial axis each of the last ``nd`` dimensions of ``x`` holds."""
        if x.ndim not in (nd + 1, nd + 2):
            if not self.seen_spatial and nd != self.ndim:
                raise _Retry(ndim=nd)
            raise self.refuse(
                label,
                key,
                f"expects a tensor with {nd + 2} dimensions (or {nd + 1}), got {x.ndim} "
                f"(shape {tuple(x.shape)})",
            )
        found = []
        for j in range(nd):
            dim = x.layout[x.ndim - nd + j]
            try:
                found.append(whole_axis(dim, x.lengths))
            except LayoutError as error:
                raise self.refuse(
                    label, key, f"runs over dimension {x.ndim - nd + j}, but {error}"
                ) from None
        self.seen_spatial = True
        return found

    def windows(self, label, key, x: Probe, ops, kind, channels=None, check_channels=None):
        """Apply one axis operation per spatial dimension (the last ``len(ops)``)."""
        nd = len(ops)
        was_first = not self.seen_spatial
        found = self.spatial_axes(x, nd, label, key)
        if check_channels is not None:
            self.check_channels(label, key, x, nd, check_channels, was_first)
        axes = [IDENTITY] * self.ndim
        lengths = list(x.lengths)
        layout = list(x.layout)
        mixed = set(x.mixed)
        for j, (axis, op) in enumerate(zip(found, ops, strict=True)):
            index = x.ndim - nd + j
            dim = layout[index]
            try:
                n_out = op.out_length(dim.size)
            except ValueError as error:
                raise _TooSmall(f"at {label!r} ({key}) {error}") from None
            if axis is None:
                if n_out != dim.size and not dim.broadcast and n_out > 1:
                    raise self.refuse(label, key, "grows a dimension that holds no positions")
                layout[index] = dim._replace(size=n_out)
                continue
            axes[axis] = op
            lengths[axis] = n_out
            markers = tuple(f for f in dim.factors if f.axis not in (axis, OTHER))
            layout[index] = Dim(n_out, (Factor(axis, n_out, 1), *markers))
            if isinstance(op, Collapse) and op.out == 1:
                mixed.add(axis)
        if channels is not None:
            c = x.ndim - nd - 1
            if c >= 0:
                if digits(layout[c]) or not is_plain(layout[c]):
                    raise self.refuse(
                        label, key, "mixes channels that hold positions (after a view)"
                    )
                layout[c] = other(channels)
        return self.emit(label, kind, [x], key, axes, layout, lengths, mixed)

    def check_channels(self, label, key, x, nd, expected, first: bool):
        c = x.ndim - nd - 1
        if c < 0 or x.layout[c].size == expected:
            return
        if first and x.node == "input" and not self.retried_channels:
            raise _Retry(channels=expected)  # the first layer the input meets sets its channels
        raise TraceError(
            f"the model's forward fails: {label} ({key}) expects {expected} input channels, but "
            f"its input has {x.layout[c].size}"
        )

    # -- convolutions and pooling ----------------------------------------------------------------

    def conv(self, label, key, x, weight, stride, padding, dilation, groups, mode="zeros"):
        if isinstance(weight, Probe):
            raise self.refuse(label, key, "uses a kernel computed from the input")
        nd = weight.dim() - 2
        kernel = tuple(weight.shape[2:])
        ops = _window_ops(label, key, nd, kernel, stride, padding, dilation, mode=mode)
        channels_in = weight.shape[1] * groups
        return self.windows(label, key, x, ops, "window", weight.shape[0], channels_in)

    def conv_transpose(
        self,
        label,
        key,
        x,
        kernel,
        stride,
        padding,
        output_padding,
        dilation,
        channels_out,
        channels_in,
        output_size=None,
    ):
        nd = len(kernel)
        stride = _ints(stride, nd, "stride")
        padding = _ints(padding, nd, "padding")
        dilation = _ints(dilation, nd, "dilation")
        output_padding = _ints(output_padding, nd, "output_padding")
        try:
            _check_positive(kernel, stride, dilation)
        except UnknownOperation as error:
            raise self.refuse(label, key, str(error)) from None
        if output_size is not None:
            sizes = tuple(output_size)[-nd:]
            found = [d.size for d in x.layout[-nd:]]
            output_padding = tuple(
                int(want) - ((n - 1) * s - 2 * p + d * (k - 1) + 1)
                for want, n, s, p, d, k in zip(
                    sizes, found, stride, padding, dilation, kernel, strict=True
                )
            )
        ops = tuple(
            Transposed(k, s, d, p, o)
            for k, s, d, p, o in zip(kernel, stride, dilation, padding, output_padding, strict=True)
        )
        return self.windows(label, key, x, ops, "transpose", channels_out, channels_in)

    def pool(self, label, key, x, nd, kernel, stride, padding, dilation, ceil_mode):
        ops = _window_ops(label, key, nd, kernel, stride, padding, dilation, ceil_mode)
        return self.windows(label, key, x, ops, "window")

    def adaptive(self, label, key, x, nd, output_size):
        sizes = (
            output_size
            if isinstance(output_size, tuple | list | torch.Size)
            else (output_size,) * nd
        )
        if len(sizes) == 1 and nd > 1:
            sizes = tuple(sizes) * nd
        found_sizes = [d.size for d in x.layout[-nd:]]
        ops = tuple(
            Collapse(int(n) if s is None else int(s))
            for s, n in zip(sizes, found_sizes, strict=True)
        )
        kind = "global" if all(op.out == 1 for op in ops) else "adaptive"
        return self.windows(label, key, x, ops, kind)

    def pad(self, label, key, x, pad, mode="constant"):
        pad = list(pad)
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise self.refuse(
                label, key, f"has pad={pad!r}: it needs pairs, one per padded dimension"
            )
        mode = {"constant": "zeros"}.get(mode, mode)
        if mode not in PADDING_MODES:
            raise self.refuse(label, key, f"has an unknown mode={mode!r}")
        layout, lengths, axes = list(x.layout), list(x.lengths), [IDENTITY] * self.ndim
        moved = False
        for k in range(len(pad) // 2):
            before, after = int(pad[2 * k]), int(pad[2 * k + 1])
            index = x.ndim - 1 - k
            if before == 0 and after == 0:
                continue
            dim = layout[index]
            if not digits(dim) and is_plain(dim):  # padding channels: no position moves
                layout[index] = other(dim.size + before + after)
                continue
            axis = whole_axis(dim, x.lengths)
            op = Window(1, 1, 1, before, after, mode=mode)
            try:
                n_out = op.out_length(dim.size)
            except ValueError as error:
                raise _TooSmall(f"at {label!r} ({key}) {error}") from None
            axes[axis], lengths[axis] = op, n_out
            layout[index] = spatial(axis, n_out)
            moved = True
        if not moved:
            return self.pointwise(x, label, key, layout)
        return self.emit(label, "window", [x], key, axes, layout, lengths, x.mixed)

    def interpolate(
        self,
        label,
        key,
        x,
        size=None,
        scale=None,
        mode="nearest",
        align_corners=None,
        recompute=None,
        antialias=False,
    ):
        nd = x.ndim - 2
        if nd < 1:
            raise self.refuse(
                label, key, "needs a batch, a channel and at least one spatial dimension"
            )
        found = [d.size for d in x.layout[-nd:]]
        if scale is not None and recompute:
            size = tuple(
                math.floor(n * float(s)) for n, s in zip(found, _floats(scale, nd), strict=True)
            )
            scale = None
        if mode == "area":
            if size is None:
                size = tuple(
                    math.floor(n * float(s)) for n, s in zip(found, _floats(scale, nd), strict=True)
                )
            return self.adaptive(
                label,
                key,
                x,
                nd,
                _ints(tuple(size) if not isinstance(size, int) else size, nd, "size"),
            )
        if (
            antialias and any(float(s) < 1 for s in _floats(scale, nd))
            if scale is not None
            else antialias
        ):
            raise self.refuse(
                label,
                key,
                "uses antialias=True, which widens its taps by an amount rflesson does not model",
            )
        if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic"):
            raise self.refuse(label, key, f"uses mode={mode!r}, which rflesson does not model")
        corners = bool(align_corners) and mode not in ("nearest", "nearest-exact")
        if size is not None:
            ops = tuple(
                Resample(mode, size=int(s), align_corners=corners) for s in _ints(size, nd, "size")
            )
        else:
            ops = tuple(Resample(mode, scale=s, align_corners=corners) for s in _floats(scale, nd))
        return self.windows(label, key, x, ops, "upsample")

    # -- mixing and reducing dimensions ------------------------------------------------------------

    def classify(self, x: Probe, dims: set[int], label, key, full_only=False):
        """Per axis: ``None`` (untouched), ``'all'`` or ``(size, stride)`` for a window of digits."""
        result: dict[int, object] = {}
        for a in axes_in(x.layout):
            inside = [f for i in dims for f in digits(x.layout[i]) if f.axis == a]
            if not inside:
                continue
            everywhere = [f for d in x.layout for f in digits(d) if f.axis == a]
            if len(inside) == len(everywhere):
                result[a] = "all"
                continue
            if full_only:
                raise self.refuse(
                    label,
                    key,
                    f"combines only part of spatial axis {a} (a window of it) in a way rflesson does not model",
                )
            inside.sort(key=lambda f: f.stride)
            for lower, upper in zip(inside, inside[1:], strict=False):
                if upper.stride != lower.stride * lower.size:
                    raise self.refuse(
                        label, key, f"mixes positions of spatial axis {a} that are not one window"
                    )
            result[a] = (math.prod(f.size for f in inside), inside[0].stride)
        return result

    def mix(self, label, key, x: Probe, dims: set[int], layout=None) -> Probe:
        """Every unit reads everything along ``dims``; positions stay where they are."""
        touched = self.classify(x, dims, label, key)
        if not touched:
            return self.pointwise(x, label, key, layout)
        axes = [IDENTITY] * self.ndim
        mixed = set(x.mixed)
        for a, how in touched.items():
            if how == "all":
                axes[a] = Mix()
                mixed.add(a)
            else:
                axes[a] = Block(*how)
        return self.emit(label, "mix", [x], key, axes, layout or x.layout, x.lengths, mixed)

    def reduce(self, label, key, x: Probe, dims, keepdim: bool) -> Probe:
        """Reduce ``dims``: axes held whole there collapse to one unit that reads the whole axis."""
        rank = x.ndim
        if dims is None or dims == () or dims == []:
            dims = set(range(rank))
        else:
            dims = {
                normalize_dim(d, rank) for d in (dims if isinstance(dims, tuple | list) else [dims])
            }
        touched = self.classify(x, dims, label, key)
        axes = [IDENTITY] * self.ndim
        lengths = list(x.lengths)
        layout = list(x.layout)
        mixed = set(x.mixed)
        for a, how in touched.items():
            if how == "all":
                axes[a], lengths[a] = Collapse(1), 1
                mixed.add(a)
                continue
            size, stride = how
            if stride != 1:
                raise self.refuse(
                    label,
                    key,
                    f"reduces every {stride}-th position of spatial axis {a}, which is not one window",
                )
            axes[a], lengths[a] = Collapse(x.lengths[a] // size), x.lengths[a] // size
            layout = list(rescale(tuple(layout), a, size))
        kept = []
        for i, dim in enumerate(layout):
            if i not in dims:
                kept.append(dim)
            elif keepdim:
                kept.append(Dim(1))
        kind = "pointwise"
        if touched:
            kind = (
                "global"
                if all(
                    isinstance(op, Collapse) and op.out == 1 for op in axes if op is not IDENTITY
                )
                else "adaptive"
            )
        return self.emit(label, kind, [x], key, axes, kept, lengths, mixed)

    def summarize(self, label, key, x: Probe, dims: set[int]) -> Probe:
        """``x`` as read by a unit that combines everything along ``dims`` (a contraction)."""
        touched = self.classify(x, dims, label, key)
        if not touched:
            return x
        axes = [IDENTITY] * self.ndim
        lengths, mixed = list(x.lengths), set(x.mixed)
        layout = list(x.layout)
        for i in dims:
            layout[i] = without_axes(layout[i], set(touched))
        for a, how in touched.items():
            if how == "all":
                axes[a], lengths[a] = Collapse(1), 1
                mixed.add(a)
            else:
                axes[a] = Block(*how)
        kind = "global" if all(h == "all" for h in touched.values()) else "mix"
        return self.emit(label, kind, [x], key, axes, layout, lengths, mixed)

    # -- layout-only operations ------------------------------------------------------------------

    def relayout(self, x: Probe, layout) -> Probe:
        return self.derive(x, layout=tuple(layout))

    def view(self, label, key, x: Probe, new_shape) -> Probe:
        new_shape = _resolve_shape(new_shape, x.numel(), label, key)
        return self.relayout(x, reshape(x.layout, new_shape))

    def crop(self, label, key, x: Probe, index: int, start: int, stop: int, step: int, keep: bool):
        """``x`` sliced to ``start:stop:step`` along dimension ``index`` (``keep=False``: one index, dropped)."""
        dim = x.layout[index]
        if start == 0 and stop == dim.size and step == 1:
            return x
        if not digits(dim) and is_plain(dim):  # channels: no position moves
            size = len(range(start, stop, step))
            layout = list(x.layout)
            if keep:
                layout[index] = other(size)
            else:
                del layout[index]
            return self.relayout(x, layout)
        if not is_plain(dim):
            return self.crop_extras(label, key, x, index, start, stop, step, keep)
        axis = whole_axis(dim, x.lengths)
        op = Window(1, step, 1, -start, -(dim.size - stop))
        n_out = len(range(start, stop, step))
        if n_out < 1:
            raise self.refuse(label, key, f"keeps nothing of spatial axis {axis}")
        axes = [IDENTITY] * self.ndim
        axes[axis] = op
        lengths = list(x.lengths)
        lengths[axis] = n_out
        layout = list(x.layout)
        if keep:
            layout[index] = spatial(axis, n_out)
        else:
            del layout[index]
            if n_out == 1 and layout:
                layout[-1] = layout[-1]._replace(factors=layout[-1].factors + (Factor(axis, 1, 1),))
        return self.emit(label, "window", [x], key, axes, layout, lengths, x.mixed)

    def crop_extras(self, label, key, x, index, start, stop, step, keep):
        """Slicing a dimension with a class token: drop it, or keep only it."""
        dim = x.layout[index]
        first, last = dim.before, dim.before + (dim.size - dim.before - dim.after)
        layout = list(x.layout)
        if step == 1 and start == first and stop == last:  # x[:, 1:]: the positions only
            layout[index] = Dim(stop - start, dim.factors)
            return self.relayout(x, layout)
        if stop <= first or start >= last:  # only extra entries (the class token)
            size = len(range(start, stop, step))
            if keep:
                layout[index] = other(size)
            else:
                del layout[index]
            axes_here = {f.axis for f in digits(dim)}
            if not axes_here <= set(x.mixed):
                raise self.refuse(
                    label,
                    key,
                    "keeps only entries (a class token) that do not depend on the input yet",
                )
            axes = [IDENTITY] * self.ndim
            lengths = list(x.lengths)
            for a in axes_here:
                axes[a], lengths[a] = Collapse(1), 1
            return self.emit(label, "global", [x], key, axes, layout, lengths, x.mixed)
        raise self.refuse(
            label, key, "slices a dimension that holds a class token and positions together"
        )


def _floats(value, n: int):
    if isinstance(value, tuple | list):
        values = tuple(value)
        return values * n if len(values) == 1 else values
    return (value,) * n


def _check_positive(kernel, stride, dilation) -> None:
    for a, k in enumerate(kernel):
        if k < 1:
            raise UnknownOperation(
                f"has a kernel of size {k} along axis {a}: a {k}-size kernel reads nothing"
            )
    for name, values in (("stride", stride), ("dilation", dilation)):
        for a, v in enumerate(values):
            if v < 1:
                raise UnknownOperation(f"has {name} {v} along axis {a}; it must be at least 1")


def _window_ops(label, key, nd, kernel, stride, padding, dilation, ceil_mode=False, mode="zeros"):
    """One ``Window`` per spatial dimension, from a layer's arguments (validated)."""
    args = (nd, kernel, stride, padding, dilation, ceil_mode, mode)
    try:
        return _cached_window_ops(*(_hashable(a) for a in args))
    except UnknownOperation as error:  # say which layer it is
        raise UnknownOperation(f"{label} ({key}) {error}") from None


def _hashable(value):
    return tuple(value) if isinstance(value, list | torch.Size) else value


@lru_cache(maxsize=1024)
def _cached_window_ops(nd, kernel, stride, padding, dilation, ceil_mode, mode):
    kernel = _ints(kernel, nd, "kernel_size")
    stride = (
        kernel if stride is None or stride == () or stride == [] else _ints(stride, nd, "stride")
    )
    dilation = _ints(dilation, nd, "dilation")
    _check_positive(kernel, stride, dilation)
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nd
        elif padding == "same":  # PyTorch puts the odd pixel after
            pads = [
                (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                for k, d in zip(kernel, dilation, strict=True)
            ]
        else:
            raise UnknownOperation(f"has padding={padding!r}")
    else:
        pads = [(p, p) for p in _ints(padding, nd, "padding")]
    if any(p < 0 for pair in pads for p in pair):
        raise UnknownOperation(f"has a negative padding {pads}")
    return tuple(
        Window(int(k), int(s), int(d), int(b), int(a), bool(ceil_mode), mode)
        for k, s, d, (b, a) in zip(kernel, stride, dilation, pads, strict=True)
    )


def _resolve_shape(new_shape, numel: int, label, key) -> tuple[int, ...]:
    if len(new_shape) == 1 and isinstance(new_shape[0], tuple | list | torch.Size):
        new_shape = tuple(new_shape[0])
    new_shape = [int(s) for s in new_shape]
    if new_shape.count(-1) > 1:
        raise UnknownOperation(f"{label} ({key}) has more than one -1 in its shape")
    if -1 in new_shape:
        known = math.prod(s for s in new_shape if s != -1)
        new_shape[new_shape.index(-1)] = numel // known if known else 0
    if math.prod(new_shape) != numel:
        raise TraceError(
            f"{label} ({key}): shape {tuple(new_shape)} is invalid for {numel} elements"
        )
    return tuple(new_shape)


# -- rules: one function per operation name ------------------------------------------------------
#
# Each rule gets (tracer, label, key, args, kwargs, func) and returns the result value.


def _r_conv(t: Tracer, label, key, args, kwargs, func):
    x, weight = args[0], _arg(args, kwargs, 1, "weight")
    return t.conv(
        label,
        key,
        x,
        weight,
        _arg(args, kwargs, 3, "stride", 1),
        _arg(args, kwargs, 4, "padding", 0),
        _arg(args, kwargs, 5, "dilation", 1),
        _arg(args, kwargs, 6, "groups", 1),
    )


def _r_conv_transpose(t: Tracer, label, key, args, kwargs, func):
    x, weight = args[0], _arg(args, kwargs, 1, "weight")
    groups = _arg(args, kwargs, 6, "groups", 1)
    return t.conv_transpose(
        label,
        key,
        x,
        tuple(weight.shape[2:]),
        _arg(args, kwargs, 3, "stride", 1),
        _arg(args, kwargs, 4, "padding", 0),
        _arg(args, kwargs, 5, "output_padding", 0),
        _arg(args, kwargs, 7, "dilation", 1),
        weight.shape[1] * groups,
        weight.shape[0],
    )


def _nd(key: str) -> int:
    for nd in (1, 2, 3):
        if f"{nd}d" in key:
            return nd
    raise UnknownOperation(f"{key}: cannot tell its number of spatial axes")


def _r_max_pool(t: Tracer, label, key, args, kwargs, func):
    nd = _nd(key)
    out = t.pool(
        label,
        key,
        args[0],
        nd,
        _arg(args, kwargs, 1, "kernel_size"),
        _arg(args, kwargs, 2, "stride"),
        _arg(args, kwargs, 3, "padding", 0),
        _arg(args, kwargs, 4, "dilation", 1),
        _arg(args, kwargs, 5, "ceil_mode", False),
    )
    if _arg(args, kwargs, 6, "return_indices", False) or "indices" in key:
        return out, t.derive(out)
    return out


def _r_avg_pool(t: Tracer, label, key, args, kwargs, func):
    return t.pool(
        label,
        key,
        args[0],
        _nd(key),
        _arg(args, kwargs, 1, "kernel_size"),
        _arg(args, kwargs, 2, "stride"),
        _arg(args, kwargs, 3, "padding", 0),
        1,
        _arg(args, kwargs, 4, "ceil_mode", False),
    )


def _r_lp_pool(t: Tracer, label, key, args, kwargs, func):
    return t.pool(
        label,
        key,
        args[0],
        _nd(key),
        _arg(args, kwargs, 2, "kernel_size"),
        _arg(args, kwargs, 3, "stride"),
        0,
        1,
        _arg(args, kwargs, 4, "ceil_mode", False),
    )


def _r_adaptive(t: Tracer, label, key, args, kwargs, func):
    out = t.adaptive(label, key, args[0], _nd(key), _arg(args, kwargs, 1, "output_size"))
    if _arg(args, kwargs, 2, "return_indices", False) or "indices" in key:
        return out, t.derive(out)
    return out


def _r_pad(t: Tracer, label, key, args, kwargs, func):
    return t.pad(
        label, key, args[0], _arg(args, kwargs, 1, "pad"), _arg(args, kwargs, 2, "mode", "constant")
    )


def _r_interpolate(t: Tracer, label, key, args, kwargs, func):
    mode = _arg(args, kwargs, 3, "mode", "nearest")
    corners = _arg(args, kwargs, 4, "align_corners")
    if key == "upsample_bilinear":
        mode, corners = "bilinear", True
    if key == "upsample_nearest":
        mode = "nearest"
    return t.interpolate(
        label,
        key,
        args[0],
        _arg(args, kwargs, 1, "size"),
        _arg(args, kwargs, 2, "scale_factor"),
        mode,
        corners,
        _arg(args, kwargs, 5, "recompute_scale_factor"),
        _arg(args, kwargs, 6, "antialias", False),
    )


def _r_pixel_shuffle(t: Tracer, label, key, args, kwargs, func):
    x, r = args[0], int(_arg(args, kwargs, 1, "upscale_factor"))
    ops = (Resample("nearest", scale=r),) * 2
    out = t.windows(label, key, x, ops, "upsample")
    c = x.ndim - 3
    layout = list(out.layout)
    layout[c] = other(x.layout[c].size // (r * r))
    return t.relayout(out, layout)


def _r_pixel_unshuffle(t: Tracer, label, key, args, kwargs, func):
    x, r = args[0], int(_arg(args, kwargs, 1, "downscale_factor"))
    out = t.windows(label, key, x, (Window(r, r),) * 2, "window")
    c = x.ndim - 3
    layout = list(out.layout)
    layout[c] = other(x.layout[c].size * r * r)
    return t.relayout(out, layout)


def _r_im2col(t: Tracer, label, key, args, kwargs, func):
    """``F.unfold``: each column is one window, its entries go to the channel axis."""
    x = args[0]
    kernel = _ints(_arg(args, kwargs, 1, "kernel_size"), 2, "kernel_size")
    ops = _window_ops(
        label,
        key,
        2,
        kernel,
        _arg(args, kwargs, 4, "stride", 1),
        _arg(args, kwargs, 3, "padding", 0),
        _arg(args, kwargs, 2, "dilation", 1),
    )
    out = t.windows(label, key, x, ops, "window", x.layout[-3].size * math.prod(kernel))
    return t.relayout(out, reshape(out.layout, _flat_last(out)))


def _flat_last(x: Probe) -> tuple[int, ...]:
    s = shape(x.layout)
    return (*s[:-2], s[-2] * s[-1])


def _r_unfold(t: Tracer, label, key, args, kwargs, func):
    if func is F.unfold:
        return _r_im2col(t, label, key, args, kwargs, func)
    x = args[0]
    index = normalize_dim(_arg(args, kwargs, 1, "dimension"), x.ndim)
    size, step = int(_arg(args, kwargs, 2, "size")), int(_arg(args, kwargs, 3, "step"))
    dim = x.layout[index]
    if not digits(dim) and is_plain(dim):
        layout = list(x.layout)
        layout[index] = other((dim.size - size) // step + 1)
        return t.relayout(x, [*layout, other(size)])
    axis = whole_axis(dim, x.lengths)
    op = Window(size, step)
    try:
        n_out = op.out_length(dim.size)
    except ValueError as error:
        raise _TooSmall(f"at {label!r} ({key}) {error}") from None
    axes = [IDENTITY] * t.ndim
    axes[axis] = op
    lengths = list(x.lengths)
    lengths[axis] = n_out
    layout = list(x.layout)
    layout[index] = spatial(axis, n_out)
    return t.emit(label, "window", [x], key, axes, [*layout, other(size)], lengths, x.mixed)


# -- layout ------------------------------------------------------------------------------------------


def _r_view(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    rest = args[1:] or (kwargs.get("shape") or kwargs.get("size"),)
    if len(rest) == 1 and isinstance(rest[0], torch.dtype):
        return t.derive(x)
    return t.view(label, key, x, rest)


def _r_view_as(t: Tracer, label, key, args, kwargs, func):
    return t.view(label, key, args[0], (tuple(_shape_of(args[1])),))


def _r_flatten(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if x.ndim == 0:
        return t.view(label, key, x, ((1,),))
    start = normalize_dim(_arg(args, kwargs, 1, "start_dim", 0), x.ndim)
    end = normalize_dim(_arg(args, kwargs, 2, "end_dim", -1), x.ndim)
    s = shape(x.layout)
    new = (*s[:start], math.prod(s[start : end + 1]), *s[end + 1 :])
    return t.view(label, key, x, (new,))


def _r_unflatten(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(_arg(args, kwargs, 1, "dim"), x.ndim)
    sizes = list(_arg(args, kwargs, 2, "sizes"))
    s = shape(x.layout)
    if -1 in sizes:
        known = math.prod(v for v in sizes if v != -1)
        sizes[sizes.index(-1)] = s[index] // known
    return t.view(label, key, x, ((*s[:index], *sizes, *s[index + 1 :]),))


def _r_permute(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    order = args[1:] or (kwargs.get("dims"),)
    if len(order) == 1 and isinstance(order[0], tuple | list | torch.Size):
        order = tuple(order[0])
    order = tuple(normalize_dim(int(d), x.ndim) for d in order)
    return t.relayout(x, permute(x.layout, order))


def _r_transpose(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "t" and x.ndim < 2:
        return t.derive(x)
    d0 = normalize_dim(_arg(args, kwargs, 1, "dim0", 0), x.ndim)
    d1 = normalize_dim(_arg(args, kwargs, 2, "dim1", 1), x.ndim)
    order = list(range(x.ndim))
    order[d0], order[d1] = d1, d0
    return t.relayout(x, permute(x.layout, tuple(order)))


def _r_movedim(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    src = _arg(args, kwargs, 1, "source")
    dst = _arg(args, kwargs, 2, "destination")
    src = [src] if isinstance(src, int) else list(src)
    dst = [dst] if isinstance(dst, int) else list(dst)
    src = [normalize_dim(d, x.ndim) for d in src]
    dst = [normalize_dim(d, x.ndim) for d in dst]
    order = [None] * x.ndim
    for s, d in zip(src, dst, strict=True):
        order[d] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return t.relayout(x, permute(x.layout, tuple(order)))


def _r_squeeze(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dims = _arg(args, kwargs, 1, "dim")
    s = shape(x.layout)
    if dims is None:
        drop = {i for i, n in enumerate(s) if n == 1}
    else:
        dims = [dims] if isinstance(dims, int) else list(dims)
        drop = {normalize_dim(d, x.ndim) for d in dims if s[normalize_dim(d, x.ndim)] == 1}
    return t.view(label, key, x, (tuple(n for i, n in enumerate(s) if i not in drop),))


def _r_unsqueeze(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    d = normalize_dim(_arg(args, kwargs, 1, "dim"), x.ndim + 1)
    layout = list(x.layout)
    layout.insert(d, Dim(1))
    return t.relayout(x, layout)


def _r_expand(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "expand_as":
        sizes = _shape_of(args[1])
    else:
        sizes = args[1:] or (kwargs.get("size") or kwargs.get("shape"),)
        if len(sizes) == 1 and isinstance(sizes[0], tuple | list | torch.Size):
            sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    extra = len(sizes) - x.ndim
    layout = [Dim(n, (), broadcast=n > 1) for n in sizes[:extra]]
    for dim, n in zip(x.layout, sizes[extra:], strict=True):
        if n == -1 or n == dim.size:
            layout.append(dim)
        elif dim.size == 1:
            layout.append(Dim(n, dim.factors, broadcast=True))
        else:
            raise TraceError(f"{label} ({key}) cannot expand size {dim.size} to {n}")
    return t.relayout(x, layout)


def _r_repeat(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    reps = args[1:] or (kwargs.get("repeats") or kwargs.get("dims"),)
    if len(reps) == 1 and isinstance(reps[0], tuple | list | torch.Size):
        reps = tuple(reps[0])
    reps = tuple(int(r) for r in reps)
    extra = len(reps) - x.ndim
    if extra < 0:
        reps = (1,) * (-extra) + reps
        extra = 0
    layout = [Dim(n, (), broadcast=n > 1) for n in reps[:extra]]
    for dim, r in zip(x.layout, reps[extra:], strict=True):
        if r == 1:
            layout.append(dim)
        elif digits(dim) or not is_plain(dim):
            raise t.refuse(
                label,
                key,
                "tiles a dimension that holds positions: a unit would read copies from elsewhere",
            )
        elif dim.size == 1:
            layout.append(Dim(r, dim.factors, broadcast=True))
        else:
            layout.append(other(dim.size * r))
    return t.relayout(x, layout)


def _r_narrow(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(_arg(args, kwargs, 1, "dim"), x.ndim)
    start = int(_arg(args, kwargs, 2, "start"))
    length = int(_arg(args, kwargs, 3, "length"))
    start = start % x.layout[index].size if start < 0 else start
    return t.crop(label, key, x, index, start, start + length, 1, True)


def _r_select(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(_arg(args, kwargs, 1, "dim"), x.ndim)
    i = int(_arg(args, kwargs, 2, "index"))
    i = i % x.layout[index].size
    return t.crop(label, key, x, index, i, i + 1, 1, False)


def _pieces(t: Tracer, label, key, x: Probe, index: int, bounds, keep=True):
    return tuple(t.crop(label, key, x, index, a, b, 1, keep) for a, b in bounds)


def _r_split(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    sizes = _arg(args, kwargs, 1, "split_size_or_sections", kwargs.get("split_size"))
    index = normalize_dim(_arg(args, kwargs, 2, "dim", 0), x.ndim)
    n = x.layout[index].size
    if isinstance(sizes, int):
        sizes = [min(sizes, n - a) for a in range(0, n, sizes)]
    bounds, a = [], 0
    for s in sizes:
        bounds.append((a, a + int(s)))
        a += int(s)
    return _pieces(t, label, key, x, index, bounds)


def _r_chunk(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    chunks = int(_arg(args, kwargs, 1, "chunks"))
    index = normalize_dim(_arg(args, kwargs, 2, "dim", 0), x.ndim)
    n = x.layout[index].size
    size = -(-n // chunks)
    return _pieces(t, label, key, x, index, [(a, min(a + size, n)) for a in range(0, n, size)])


def _r_tensor_split(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    spec = _arg(
        args, kwargs, 1, "indices_or_sections", kwargs.get("sections", kwargs.get("indices"))
    )
    index = normalize_dim(_arg(args, kwargs, 2, "dim", 0), x.ndim)
    n = x.layout[index].size
    if isinstance(spec, int):
        q, r = divmod(n, spec)
        cuts, a = [], 0
        for i in range(spec):
            a += q + (1 if i < r else 0)
            cuts.append(a)
        cuts = cuts[:-1]
    else:
        cuts = [int(c) for c in spec]
    edges = [0, *cuts, n]
    return _pieces(t, label, key, x, index, list(zip(edges, edges[1:], strict=False)))


def _r_unbind(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(_arg(args, kwargs, 1, "dim", 0), x.ndim)
    n = x.layout[index].size
    return _pieces(t, label, key, x, index, [(i, i + 1) for i in range(n)], keep=False)


def _r_getitem(t: Tracer, label, key, args, kwargs, func):
    x, index = args[0], args[1]
    if not isinstance(x, Probe):
        return x[index]
    items = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in items):
        k = next(i for i, v in enumerate(items) if v is Ellipsis)
        used = sum(1 for i in items if i is not None and i is not Ellipsis)
        items = items[:k] + (slice(None),) * (x.ndim - used) + items[k + 1 :]
    out, dim = x, 0
    for item in items:
        if item is None:
            layout = list(out.layout)
            layout.insert(dim, Dim(1))
            out = t.relayout(out, layout)
            dim += 1
        elif isinstance(item, slice):
            n = out.layout[dim].size
            start, stop, step = item.indices(n)
            if step < 1:
                raise t.refuse(label, key, "slices with a negative step")
            stop = max(stop, start)
            out = t.crop(label, key, out, dim, start, stop, step, True)
            dim += 1
        elif isinstance(item, int) and not isinstance(item, bool):
            n = out.layout[dim].size
            i = item % n if -n <= item < n else None
            if i is None:
                raise TraceError(f"{label} (getitem): index {item} is out of range for size {n}")
            out = t.crop(label, key, out, dim, i, i + 1, 1, False)
        else:
            return _advanced_index(t, label, key, out, dim, items, item)
    return out


def _advanced_index(t: Tracer, label, key, x: Probe, dim: int, items, item):
    """Indexing with a list or tensor: fine on channels, refused on positions."""
    if isinstance(item, Probe) or digits(x.layout[dim]) or not is_plain(x.layout[dim]):
        raise t.refuse(
            label,
            key,
            "indexes positions with a tensor or list: which positions it reads depends on values",
        )
    if isinstance(item, torch.Tensor) and item.dtype == torch.bool:
        raise t.refuse(
            label, key, "indexes with a boolean mask: the result's size depends on values"
        )
    position = next(i for i, v in enumerate(items) if v is item)
    if any(not (isinstance(r, slice) and r == slice(None)) for r in items[position + 1 :]):
        raise t.refuse(label, key, "mixes advanced indexing with other indices")
    layout = list(x.layout)
    layout[dim] = other(len(item))
    return t.relayout(x, layout)


def _r_setitem(t: Tracer, label, key, args, kwargs, func):
    x, index, value = args
    items = index if isinstance(index, tuple) else (index,)
    for i, item in enumerate(i for i in items if i is not Ellipsis):
        if i < x.ndim and not (isinstance(item, slice) and item == slice(None)):
            if digits(x.layout[i]):
                raise t.refuse(label, key, "writes into some positions only")
    out = (
        t.merge(label, key, [x, value]) if isinstance(value, Probe) else t.pointwise(x, label, key)
    )
    x.node, x.layout, x.lengths, x.mixed = out.node, out.layout, out.lengths, out.mixed
    return None


# -- joins -----------------------------------------------------------------------------------------


def _r_cat(t: Tracer, label, key, args, kwargs, func):
    tensors = list(_arg(args, kwargs, 0, "tensors"))
    tensors = [
        v for v in tensors if not (isinstance(v, torch.Tensor) and v.dim() == 1 and v.numel() == 0)
    ]
    first = next(v for v in tensors if isinstance(v, Probe))
    index = normalize_dim(_arg(args, kwargs, 1, "dim", 0), first.ndim)
    probes = [v for v in tensors if isinstance(v, Probe)]
    total = sum(_shape_of(v)[index] for v in tensors)
    holders = [p for p in probes if digits(p.layout[index]) or not is_plain(p.layout[index])]
    if not holders:
        out = t.merge(label, key, [_stand_in(v, index) for v in tensors])
        layout = list(out.layout)
        layout[index] = other(total)
        return t.relayout(out, layout)
    if len(holders) > 1 or len(probes) > 1 and any(p is not holders[0] for p in probes):
        raise t.refuse(
            label,
            key,
            f"joins tensors along dim={index}, which holds positions: a unit would read from several places",
        )
    holder = holders[0]
    dim = holder.layout[index]
    position = next(i for i, v in enumerate(tensors) if v is holder)
    before = sum(_shape_of(v)[index] for v in tensors[:position])
    after = sum(_shape_of(v)[index] for v in tensors[position + 1 :])
    layout = list(holder.layout)
    layout[index] = Dim(total, dim.factors, dim.before + before, dim.after + after)
    return t.relayout(holder, layout)


def _stand_in(value, index):
    """A value with size 1 along ``index``, for aligning the other dimensions of a cat."""
    if isinstance(value, Probe):
        layout = list(value.layout)
        layout[index] = Dim(1)
        return value.recorder.derive(value, layout=layout)
    if isinstance(value, torch.Tensor):
        return value.narrow(index, 0, 1) if value.shape[index] else value
    return value


def _r_stack(t: Tracer, label, key, args, kwargs, func):
    tensors = list(_arg(args, kwargs, 0, "tensors"))
    first = next(v for v in tensors if isinstance(v, Probe))
    index = normalize_dim(_arg(args, kwargs, 1, "dim", 0), first.ndim + 1)
    expanded = [v.unsqueeze(index) if isinstance(v, Probe | torch.Tensor) else v for v in tensors]
    return _r_cat(t, label, key, (expanded, index), {}, func)


# -- dims, reductions, mixing --------------------------------------------------------------------


def _dims(x: Probe, value) -> set[int]:
    if value is None:
        return set(range(x.ndim))
    values = value if isinstance(value, tuple | list) else [value]
    return {normalize_dim(int(d), x.ndim) for d in values}


def _r_softmax(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim")
    if dim is None:  # PyTorch's legacy implicit dimension
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return t.mix(label, key, x, _dims(x, dim))


def _r_normalize(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    return t.mix(label, key, x, _dims(x, _arg(args, kwargs, 2, "dim", 1)))


def _r_glu(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(_arg(args, kwargs, 1, "dim", -1), x.ndim)
    n = x.layout[index].size
    a, b = _pieces(t, label, key, x, index, [(0, n // 2), (n // 2, n)])
    if a.node == x.node and b.node == x.node:
        return t.pointwise(x, label, key, a.layout)
    return t.merge(label, key, [a, b])


def _r_cumulative(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dims = _dims(x, _arg(args, kwargs, 1, "dim"))
    if any(digits(x.layout[d]) for d in dims):
        raise t.refuse(
            label,
            key,
            "runs along a spatial axis: position t reads positions 0..t, a region that grows with t (not one receptive field)",
        )
    out = t.pointwise(x, label, key)
    return (out, t.derive(out)) if key in ("cummax", "cummin") else out


def _r_by_value(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dim = _arg(args, kwargs, 2 if key in ("topk", "kthvalue") else 1, "dim", -1)
    dims = _dims(x, dim)
    if any(digits(x.layout[d]) or not is_plain(x.layout[d]) for d in dims):
        raise t.refuse(
            label,
            key,
            "orders or picks positions by their values: which positions it reads depends on the input",
        )
    return t.fallback(label, key, args, kwargs, func)


def _r_reduce(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "norm":
        dim, keepdim = _arg(args, kwargs, 2, "dim"), _arg(args, kwargs, 3, "keepdim", False)
    elif len(args) > 1 and isinstance(args[1], bool):  # std(x, unbiased)
        dim, keepdim = kwargs.get("dim"), kwargs.get("keepdim", False)
    else:
        dim, keepdim = _arg(args, kwargs, 1, "dim"), _arg(args, kwargs, 2, "keepdim", False)
    if key == "mode" and dim is None:
        dim = -1
    out = t.reduce(label, key, x, None if dim == () else dim, bool(keepdim))
    pairs = key in ("std_mean", "var_mean", "aminmax") or (
        key in ("median", "nanmedian", "mode") and dim is not None
    )
    return _pair(key, out, t.derive(out)) if pairs else out


def _pair(key, a, b):
    kind = getattr(torch.return_types, key, None)
    try:
        return kind((a, b)) if kind is not None else (a, b)
    except TypeError:
        return (a, b)


def _r_max(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    other_value = _arg(args, kwargs, 1, "other", kwargs.get("dim"))
    if isinstance(other_value, Probe | torch.Tensor):
        return t.merge(label, key, [x, other_value])
    if other_value is None:
        return t.reduce(label, key, x, None, False)
    out = t.reduce(label, key, x, other_value, bool(_arg(args, kwargs, 2, "keepdim", False)))
    return _pair(key, out, t.derive(out))


def _r_roll(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    shifts = _arg(args, kwargs, 1, "shifts")
    dims = _arg(args, kwargs, 2, "dims")
    if dims is None:
        if x.has_positions():
            raise t.refuse(label, key, "rolls the flattened tensor, positions included")
        return t.pointwise(x, label, key)
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = [dims] if isinstance(dims, int) else list(dims)
    for s, d in zip(shifts, dims, strict=True):
        dim = x.layout[normalize_dim(d, x.ndim)]
        if digits(dim) and s % dim.size:
            raise t.refuse(
                label,
                key,
                "shifts positions cyclically along a spatial axis (torch.roll, as in Swin's shifted "
                "windows): a unit near the border then reads pixels from the opposite border, so its "
                "region is not one box",
            )
    return t.pointwise(x, label, key)


def _r_flip(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "fliplr":
        dims = {1}
    elif key == "flipud":
        dims = {0}
    else:
        dims = _dims(x, _arg(args, kwargs, 1, "dims", _arg(args, kwargs, 2, "dims")))
    if any(digits(x.layout[d]) for d in dims):
        raise t.refuse(label, key, "reverses the order of positions along a spatial axis")
    return t.pointwise(x, label, key)


def _r_new(t: Tracer, label, key, args, kwargs, func):
    """A new tensor shaped like a probe: a constant (it does not depend on the input)."""
    target = func if func is not None else getattr(torch.Tensor, key)
    shaped = target(*_meta(args), **_meta(kwargs))
    if shaped.numel() > MAX_REAL_ELEMENTS:
        return shaped  # a meta tensor: no memory
    stand_ins = [_real_stand_in(v, key) for v in args]
    return target(*stand_ins, **kwargs)


def _real_stand_in(value, key: str):
    if not isinstance(value, Probe):
        return value
    if key.endswith("_like"):
        return torch.zeros(tuple(value.shape), dtype=value.dtype)
    return torch.zeros((), dtype=value.dtype)


def _r_shape_query(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    return x.numel() if key == "numel" else x.size(*args[1:])


def _r_embedding(t: Tracer, label, key, args, kwargs, func):
    raise t.refuse(label, key, "looks up rows by the input's values: it has no receptive field")


def _r_where(t: Tracer, label, key, args, kwargs, func):
    if len(args) + len(kwargs) == 1:
        raise t.refuse(
            label, key, "returns the positions where a condition holds, which depends on values"
        )
    return t.merge(label, key, list(args) + list(kwargs.values()))


# -- linear algebra and attention --------------------------------------------------------------------


def _r_linear(t: Tracer, label, key, args, kwargs, func):
    x, weight = args[0], _arg(args, kwargs, 1, "weight")
    bias = _arg(args, kwargs, 2, "bias")
    if isinstance(weight, Probe) or isinstance(bias, Probe):
        return _matmul(
            t, label, key, x, weight.transpose(-1, -2) if isinstance(weight, Probe) else weight.t()
        )
    return linear(t, label, key, x, weight.shape[0], weight.shape[1])


def linear(t: Tracer, label, key, x: Probe, out_features: int, in_features: int) -> Probe:
    """A linear map over the last dimension: pointwise on channels, mixing on positions."""
    last = x.ndim - 1
    dim = x.layout[last]
    if dim.size != in_features:
        raise TraceError(
            f"the model's forward fails: {label} ({key}) expects {in_features} features in the "
            f"last dimension, which has {dim.size} ({describe(dim)})"
        )
    layout = list(x.layout)
    if not digits(dim) and is_plain(dim):
        layout[last] = other(out_features)
        return t.pointwise(x, label, key, layout)
    if out_features == dim.size and is_plain(dim):  # a token-mixing layer keeps its positions
        return t.mix(label, key, x, {last})
    out = t.summarize(label, key, x, {last})
    layout = list(out.layout)
    layout[last] = other(out_features)
    return t.relayout(out, layout)


def _r_matmul(t: Tracer, label, key, args, kwargs, func):
    a, b = args[0], _arg(args, kwargs, 1, "other", kwargs.get("mat2"))
    if key in ("baddbmm", "addmm", "addbmm", "addmv"):
        start, a, b = args[0], args[1], args[2]
        product = _matmul(t, label, key, a, b)
        return t.merge(label, key, [start, product])
    return _matmul(t, label, key, a, b)


def _layout_of(value) -> tuple[Dim, ...]:
    if isinstance(value, Probe):
        return value.layout
    return tuple(other(n) for n in value.shape)


def _matmul(t: Tracer, label, key, a, b):
    """``a @ b``: the contracted dimension is mixed; a row and a column of the same positions too."""
    la, lb = _layout_of(a), _layout_of(b)
    if len(la) == 0 or len(lb) == 0:
        return t.merge(label, key, [a, b])
    a_rank, b_rank = len(la), len(lb)
    if isinstance(a, Probe):
        a = t.summarize(label, key, a, {a_rank - 1})
    if isinstance(b, Probe):
        b = t.summarize(label, key, b, {b_rank - 2 if b_rank > 1 else 0})
    la, lb = _layout_of(a), _layout_of(b)
    row = la[-2] if a_rank > 1 else None
    col = lb[-1] if b_rank > 1 else None
    if isinstance(b, Probe) and row is not None and col is not None:
        twice = {f.axis for f in digits(col)} & axes_in(tuple(la[:-1]))
        if twice:  # q @ k^T: the column repeats positions the rows already hold
            b = t.summarize(label, key, b, {b_rank - 1})
            lb = _layout_of(b)
            col = lb[-1]
    batch_a, batch_b = la[:-2], lb[:-2]
    try:
        batch_shape = _broadcast(tuple(d.size for d in batch_a), tuple(d.size for d in batch_b))
    except ValueError as error:
        raise TraceError(f"{label} ({key}) cannot broadcast its operands: {error}") from None
    stand_ins = [
        t.derive(v, layout=v.layout[:-2]) for v in (a, b) if isinstance(v, Probe) and v.ndim > 2
    ]
    if stand_ins:
        batch = t.broadcast_layout(label, key, stand_ins, batch_shape)
    else:
        batch = tuple(other(n) for n in batch_shape)
    layout = [*batch, *([row] if row is not None else []), *([col] if col is not None else [])]
    return t.join(label, key, [v for v in (a, b) if isinstance(v, Probe)], layout)


def _r_einsum(t: Tracer, label, key, args, kwargs, func):
    equation = args[0]
    operands = list(args[1:])
    if len(operands) == 1 and isinstance(operands[0], tuple | list):
        operands = list(operands[0])
    equation = equation.replace(" ", "")
    if "..." in equation or "->" not in equation:
        raise t.refuse(
            label,
            key,
            f"uses the equation {equation!r}; rflesson reads only explicit ones (ab,bc->ac)",
        )
    inputs, output = equation.split("->")
    letters: dict[str, Dim] = {}
    probes = []
    for spec, value in zip(inputs.split(","), operands, strict=True):
        if isinstance(value, Probe):
            value = t.summarize(
                label, key, value, {i for i, c in enumerate(spec) if c not in output}
            )
            held = {f.axis for c, d in letters.items() if c in output for f in digits(d)}
            repeated = {
                i for i, c in enumerate(spec)
                if c in output and c not in letters and {f.axis for f in digits(value.layout[i])} & held
            }  # fmt: skip
            if repeated:
                value = t.summarize(label, key, value, repeated)
            probes.append(value)
        for c, d in zip(spec, _layout_of(value), strict=True):
            if c in output and (c not in letters or not digits(letters[c])):
                letters[c] = d
    return t.join(label, key, probes, [letters[c] for c in output])


def _r_sdpa(t: Tracer, label, key, args, kwargs, func):
    q, k, v = args[0], _arg(args, kwargs, 1, "key"), _arg(args, kwargs, 2, "value")
    mask = _arg(args, kwargs, 3, "attn_mask")
    if _arg(args, kwargs, 5, "is_causal", False) and any(digits(q.layout[-2]) for _ in [0]):
        raise t.refuse(
            label, key, "is causal along positions: position t reads 0..t, not one receptive field"
        )
    scores = _matmul(
        t, label, key, q, k.transpose(-2, -1) if isinstance(k, Probe) else k.transpose(-2, -1)
    )
    if isinstance(mask, Probe):
        scores = t.merge(label, key, [scores, mask])
    return _matmul(t, label, key, scores, v)


def _r_mha(t: Tracer, label, key, args, kwargs, func):
    """``F.multi_head_attention_forward``: (L, N, E) inputs, attention over dimension 0."""
    query, keyv, value = args[0], args[1], args[2]
    need_weights = _arg(args, kwargs, 15, "need_weights", True)
    if _arg(args, kwargs, 24, "is_causal", False) and digits(query.layout[0]):
        raise t.refuse(
            label, key, "is causal along positions: position t reads 0..t, not one receptive field"
        )
    scores = _matmul(
        t, label, key, query.transpose(0, -2) if query.ndim == 3 else query, _transpose_seq(keyv)
    )
    out = _matmul(t, label, key, scores, value.transpose(0, -2) if value.ndim == 3 else value)
    if query.ndim == 3:
        out = out.transpose(0, -2)
    layout = list(out.layout)
    layout[-1] = other(query.layout[-1].size)
    out = t.relayout(out, layout)
    weights = t.derive(scores) if need_weights else None
    return out, weights


def _transpose_seq(k):
    """(S, N, E) -> (N, E, S): the keys as the right factor of q @ k^T."""
    if k.ndim == 3:
        return k.permute(1, 2, 0)
    return k.transpose(0, 1)


def _r_multi_head(t, label, key, args, kwargs, func):
    return _r_mha(t, label, key, args, kwargs, func)


_RULES = {
    **dict.fromkeys(("conv1d", "conv2d", "conv3d"), _r_conv),
    **dict.fromkeys(
        ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"), _r_conv_transpose
    ),
    **dict.fromkeys(
        (
            "max_pool1d",
            "max_pool2d",
            "max_pool3d",
            "max_pool1d_with_indices",
            "max_pool2d_with_indices",
            "max_pool3d_with_indices",
        ),
        _r_max_pool,
    ),  # fmt: skip
    **dict.fromkeys(("avg_pool1d", "avg_pool2d", "avg_pool3d"), _r_avg_pool),
    **dict.fromkeys(("lp_pool1d", "lp_pool2d", "lp_pool3d"), _r_lp_pool),
    **dict.fromkeys(
        (
            "adaptive_avg_pool1d",
            "adaptive_avg_pool2d",
            "adaptive_avg_pool3d",
            "adaptive_max_pool1d",
            "adaptive_max_pool2d",
            "adaptive_max_pool3d",
            "adaptive_max_pool1d_with_indices",
            "adaptive_max_pool2d_with_indices",
            "adaptive_max_pool3d_with_indices",
        ),
        _r_adaptive,
    ),  # fmt: skip
    "pad": _r_pad,
    **dict.fromkeys(
        ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"), _r_interpolate
    ),
    "pixel_shuffle": _r_pixel_shuffle,
    "pixel_unshuffle": _r_pixel_unshuffle,
    "unfold": _r_unfold,
    **dict.fromkeys(("view", "reshape"), _r_view),
    **dict.fromkeys(("view_as", "reshape_as"), _r_view_as),
    "flatten": _r_flatten,
    "unflatten": _r_unflatten,
    "permute": _r_permute,
    **dict.fromkeys(("transpose", "swapaxes", "swapdims", "t"), _r_transpose),
    **dict.fromkeys(("movedim", "moveaxis"), _r_movedim),
    "squeeze": _r_squeeze,
    "unsqueeze": _r_unsqueeze,
    **dict.fromkeys(("expand", "expand_as", "broadcast_to"), _r_expand),
    **dict.fromkeys(("repeat", "tile"), _r_repeat),
    "narrow": _r_narrow,
    "select": _r_select,
    "split": _r_split,
    "chunk": _r_chunk,
    "tensor_split": _r_tensor_split,
    "unbind": _r_unbind,
    "getitem": _r_getitem,
    "setitem": _r_setitem,
    **dict.fromkeys(("cat", "concat", "concatenate"), _r_cat),
    "stack": _r_stack,
    **dict.fromkeys(("softmax", "log_softmax", "softmin"), _r_softmax),
    "normalize": _r_normalize,
    "glu": _r_glu,
    **dict.fromkeys(_CUMULATIVE, _r_cumulative),
    **dict.fromkeys(_BY_VALUE, _r_by_value),
    **dict.fromkeys(_REDUCE, _r_reduce),
    **dict.fromkeys(("max", "min"), _r_max),
    "roll": _r_roll,
    **dict.fromkeys(("flip", "fliplr", "flipud", "rot90"), _r_flip),
    **dict.fromkeys(_NEW, _r_new),
    **dict.fromkeys(("numel", "size"), _r_shape_query),
    "embedding": _r_embedding,
    "where": _r_where,
    "linear": _r_linear,
    **dict.fromkeys(
        ("matmul", "mm", "bmm", "mv", "baddbmm", "addmm", "addbmm", "addmv"), _r_matmul
    ),
    "einsum": _r_einsum,
    "scaled_dot_product_attention": _r_sdpa,
    "multi_head_attention_forward": _r_multi_head,
}


# -- torch.nn layers read from their attributes (faster, and named by their path) ----------------


def _m_conv(t: Tracer, path, mod, args, kwargs):
    mode = "zeros" if mod.padding_mode == "zeros" else mod.padding_mode
    ops = _window_ops(
        path,
        type(mod).__name__,
        len(mod.kernel_size),
        mod.kernel_size,
        mod.stride,
        mod.padding,
        mod.dilation,
        mode=mode,
    )
    return t.windows(
        path, type(mod).__name__, args[0], ops, "window", mod.out_channels, mod.in_channels
    )


def _m_conv_transpose(t: Tracer, path, mod, args, kwargs):
    output_size = _arg(args, kwargs, 1, "output_size")
    return t.conv_transpose(
        path,
        type(mod).__name__,
        args[0],
        tuple(mod.kernel_size),
        mod.stride,
        mod.padding,
        mod.output_padding,
        mod.dilation,
        mod.out_channels,
        mod.in_channels,
        output_size,
    )


def _m_max_pool(t: Tracer, path, mod, args, kwargs):
    nd = _nd(type(mod).__name__.lower())
    out = t.pool(
        path,
        type(mod).__name__,
        args[0],
        nd,
        mod.kernel_size,
        mod.stride,
        mod.padding,
        mod.dilation,
        mod.ceil_mode,
    )
    return (out, t.derive(out)) if mod.return_indices else out


def _m_avg_pool(t: Tracer, path, mod, args, kwargs):
    nd = _nd(type(mod).__name__.lower())
    return t.pool(
        path,
        type(mod).__name__,
        args[0],
        nd,
        mod.kernel_size,
        mod.stride,
        mod.padding,
        1,
        mod.ceil_mode,
    )


def _m_adaptive(t: Tracer, path, mod, args, kwargs):
    nd = _nd(type(mod).__name__.lower())
    out = t.adaptive(path, type(mod).__name__, args[0], nd, mod.output_size)
    return (out, t.derive(out)) if getattr(mod, "return_indices", False) else out


def _m_pointwise(t: Tracer, path, mod, args, kwargs):
    if not isinstance(args[0], Probe):
        return mod.forward(*args, **kwargs)
    return t.pointwise(args[0], path, type(mod).__name__)


def _m_linear(t: Tracer, path, mod, args, kwargs):
    return linear(t, path, type(mod).__name__, args[0], mod.out_features, mod.in_features)


def _m_flatten(t: Tracer, path, mod, args, kwargs):
    return _r_flatten(t, path, "flatten", (args[0], mod.start_dim, mod.end_dim), {}, None)


def _m_recurrent(t: Tracer, path, mod, args, kwargs):
    """LSTM, GRU, RNN: a recurrence along the sequence dimension."""
    x = args[0]
    op = type(mod).__name__
    batched = x.ndim == 3
    seq = 1 if mod.batch_first and batched else 0
    directions = 2 if mod.bidirectional else 1
    hidden = getattr(mod, "proj_size", 0) or mod.hidden_size
    if digits(x.layout[seq]) and not mod.bidirectional:
        axes = sorted({f.axis for f in digits(x.layout[seq])})
        raise t.refuse(
            path,
            op,
            f"runs along spatial axis {axes[0]}: each step reads every earlier position, so "
            "position t sees positions 0..t, a region that grows with t (not one receptive field)",
        )
    out = t.mix(path, op, x, {seq})
    layout = list(out.layout)
    layout[-1] = other(hidden * directions)
    output = t.relayout(out, layout)
    summary = t.summarize(path, op, x, {seq})
    batch = [summary.layout[1 - seq]] if batched else []
    state_layout = [other(mod.num_layers * directions), *batch, other(hidden)]
    state = t.relayout(summary, state_layout)
    if isinstance(mod, nn.LSTM):
        cell = t.relayout(summary, [*state_layout[:-1], other(mod.hidden_size)])
        return output, (state, cell)
    return output, state


_POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.Threshold, nn.LogSigmoid, nn.Hardshrink,
    nn.Softshrink, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.GroupNorm, nn.LayerNorm,
    nn.LocalResponseNorm, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.FeatureAlphaDropout, nn.Identity, nn.ChannelShuffle,
)  # fmt: skip

_MODULE_RULES = {
    **dict.fromkeys((nn.Conv1d, nn.Conv2d, nn.Conv3d), _m_conv),
    **dict.fromkeys(
        (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d), _m_conv_transpose
    ),
    **dict.fromkeys((nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d), _m_max_pool),
    **dict.fromkeys((nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d), _m_avg_pool),
    **dict.fromkeys(
        (
            nn.AdaptiveAvgPool1d,
            nn.AdaptiveAvgPool2d,
            nn.AdaptiveAvgPool3d,
            nn.AdaptiveMaxPool1d,
            nn.AdaptiveMaxPool2d,
            nn.AdaptiveMaxPool3d,
        ),
        _m_adaptive,
    ),  # fmt: skip
    **dict.fromkeys(_POINTWISE_MODULES, _m_pointwise),
    nn.Linear: _m_linear,
    nn.Flatten: _m_flatten,
    **dict.fromkeys((nn.LSTM, nn.GRU, nn.RNN), _m_recurrent),
}
_RULE_CACHE: dict[type, object] = {}


def _module_rule(cls: type):
    """The rule for a torch.nn layer class, unless a subclass changed its ``forward``."""
    if cls not in _RULE_CACHE:
        rule = None
        for base in cls.__mro__:
            if base in _MODULE_RULES:
                rule = _MODULE_RULES[base] if cls.forward is base.forward else None
                break
        _RULE_CACHE[cls] = rule
    return _RULE_CACHE[cls]


def _module(self: Tracer, mod: nn.Module, path: str, args, kwargs):
    rule = _module_rule(type(mod))
    if rule is not None and isinstance(args[0] if args else None, Probe):
        return rule(self, path, mod, args, kwargs)
    leaf = not mod._modules and type(mod).__module__.startswith("torch.nn")
    previous = getattr(self, "_leaf", None)
    self._leaf = path if leaf else None
    try:
        return mod.forward(*args, **kwargs)
    finally:
        self._leaf = previous


Tracer.module = _module


# -- the public entry points --------------------------------------------------------------------------


@dataclass
class Trace:
    """The graph of one model: nodes up to the output, and where each module's output is."""

    nodes: list[Node]
    ndim: int
    sizes: tuple[int, ...] | None = None  # the input length per axis, when given
    modules: dict[str, str] = field(default_factory=dict)  # module path -> node its call returned
    types: dict[str, str] = field(default_factory=dict)  # module path -> class name


def _declared(module: nn.Module) -> tuple[int | None, int | None]:
    """Spatial axes and input channels, from the first layer that declares them."""
    dims: dict[int, str] = {}
    channels = None
    for path, mod in module.named_modules():
        if isinstance(mod, nn.modules.conv._ConvNd):
            dims.setdefault(len(mod.kernel_size), path or type(mod).__name__)
            channels = mod.in_channels if channels is None else channels
        elif isinstance(mod, _SPATIAL_MODULES):
            dims.setdefault(_nd(type(mod).__name__.lower()), path or type(mod).__name__)
    if len(dims) > 1:
        shown = ", ".join(f"{p} ({nd}-D)" for nd, p in dims.items())
        raise ValueError(f"the network mixes spatial layers of different dimensions: {shown}")
    return next(iter(dims), None), channels


_SPATIAL_MODULES = (
    nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.modules.padding._ReflectionPadNd, nn.modules.padding._ReplicationPadNd,
    nn.modules.padding._ConstantPadNd, nn.modules.padding._CircularPadNd,
)  # fmt: skip


def spatial_axes(module: nn.Module, input_size=None) -> int:
    """How many spatial axes ``module`` works on (from its first spatial layer)."""
    ndim, _ = _declared(module)
    if ndim is not None:
        return ndim
    if isinstance(input_size, tuple | list) and len(input_size) > 1:
        return len(input_size)
    return 2


def trace_model(module: nn.Module, input_size=None, output: str | None = None) -> Trace:
    """The graph of ``module``: one forward pass on a probe of ``input_size`` (see the module doc).

    ``input_size`` (an int for every axis, or one length per spatial axis)
    is what the probe's shape arithmetic sees; without it the model is traced
    at 224 and at 448 pixels per axis, and must give the same graph at both
    (else its geometry depends on the input size: pass ``input_size``).
    ``output`` stops at a node name or module path.  The model is never
    modified and none of its hooks runs.
    """
    from .rf import _sizes

    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    ndim, channels = _declared(module)
    declared = ndim is not None
    if ndim is None:
        ndim = (
            len(input_size) if isinstance(input_size, tuple | list) and len(input_size) > 1 else 2
        )
    channels = channels or 1
    sizes = _sizes(input_size, ndim)
    retried = False
    for _ in range(4):  # a guessed number of axes or channels may need a second pass
        lengths = sizes if sizes is not None else (PROBE,) * ndim
        try:
            tracer, result = _run(
                module, ndim, channels, retried, lengths, sizes is not None, output
            )
            break
        except (TraceError, LayoutError) as error:
            if declared:
                raise
            raise ValueError(
                f"net has no spatial layer that rflesson can see ({type(module).__name__} has no "
                f"convolution, pooling or padding module), and its forward fails on a guessed "
                f"input: {error}"
            ) from None
        except _Retry as retry:
            if retry.ndim is not None:
                ndim = retry.ndim
                sizes = _sizes(input_size, ndim)
            if retry.channels is not None:
                channels, retried = retry.channels, True
    else:  # pragma: no cover
        raise ValueError(f"cannot tell how many spatial axes {type(module).__name__} works on")
    if sizes is None:
        _check_size_free(module, ndim, channels, tracer, lengths, output)
    return _finish(tracer, result, output, ndim, sizes)


def _run(module, ndim, channels, retried, lengths, exact: bool, output=None):
    """Trace once; when the input is too small for a layer, say so (or grow it, without input_size)."""
    while True:
        tracer = Tracer(module, ndim, retried, output)
        probe = tracer.probe("input", input_layout(channels, lengths), lengths, (), _dtype(module))
        try:
            return tracer, _call(tracer, module, probe)
        except _TooSmall as error:
            if exact:
                grown = _grown_trace(module, ndim, channels, lengths, output)
                raise InputTooSmall(str(error), grown, lengths) from None
            if max(lengths) >= MAX_PROBE:
                raise ValueError(
                    f"no input up to {MAX_PROBE} pixels per axis gets through: {error}"
                ) from None
            lengths = tuple(2 * n for n in lengths)


class InputTooSmall(ValueError):
    """``input_size`` is too small; ``nodes`` is the graph traced at a size that fits."""

    def __init__(self, message: str, nodes: list[Node] | None, sizes: tuple[int, ...]) -> None:
        super().__init__(message)
        self.nodes, self.sizes = nodes, sizes


def _grown_trace(module, ndim, channels, lengths, output=None) -> list[Node] | None:
    """The graph at a larger input, to find the smallest size that gets through."""
    while max(lengths) < MAX_PROBE:
        lengths = tuple(2 * n for n in lengths)
        tracer = Tracer(module, ndim, True, output)
        probe = tracer.probe("input", input_layout(channels, lengths), lengths, (), _dtype(module))
        try:
            result = _call(tracer, module, probe)
        except _TooSmall:
            continue
        except Exception:  # the model rejects other sizes: no minimum to offer
            return None
        try:
            return _finish(tracer, result, output, ndim).nodes
        except ValueError:
            return None
    return None


def _dtype(module: nn.Module) -> torch.dtype:
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def _call(tracer: Tracer, module: nn.Module, probe: Probe):
    try:
        return tracer.run(module, probe)
    except Stop as stop:  # the output asked for is known: the rest of forward does not matter
        return stop.value
    except (UnknownOperation, TraceError, _TooSmall, _Retry, LayoutError):
        raise
    except ValueError as error:
        raise ValueError(f"cannot trace {type(module).__name__}: {error}") from error
    except (
        RuntimeError,
        TypeError,
        AssertionError,
        IndexError,
        AttributeError,
        KeyError,
        NotImplementedError,
    ) as error:
        where = f" in {tracer.path}" if tracer.path else ""
        raise TraceError(
            f"cannot trace {type(module).__name__}: its forward failed{where} on an input of "
            f"size {tuple(probe.shape)} ({type(error).__name__}: {error})"
        ) from error


def _check_size_free(module, ndim, channels, tracer, lengths, output=None) -> None:
    """Trace again at twice the size: the graph must not change."""
    bigger = tuple(2 * n for n in lengths)
    again = Tracer(module, ndim, True, output)
    probe = again.probe("input", input_layout(channels, bigger), bigger, (), _dtype(module))
    try:
        _call(again, module, probe)
    except (TraceError, ValueError) as error:
        raise ValueError(
            f"{type(module).__name__} runs at {lengths[0]} pixels per axis but not at {bigger[0]} "
            f"({error}); its geometry may depend on the input size: pass input_size"
        ) from None
    if again.nodes != tracer.nodes:
        changed = next(
            (b for a, b in zip(tracer.nodes, again.nodes, strict=False) if a != b), again.nodes[-1]
        )
        raise ValueError(
            f"the geometry of {type(module).__name__} depends on the input size (at "
            f"{changed.name!r}, {changed.op}): pass input_size"
        )


def _finish(tracer: Tracer, result, output: str | None, ndim: int, sizes=None) -> Trace:
    nodes = tracer.nodes
    if output is not None:
        last = select(nodes, output, tracer.module_outputs)
    else:
        if isinstance(result, dict):
            result = list(result.values())
        outs = list(
            dict.fromkeys(
                p.node for p in ([result] if isinstance(result, Probe) else probes_in(result))
            )
        )
        if not outs:
            raise ValueError("the model returns no tensor that depends on its input")
        if len(outs) > 1:
            raise ValueError(
                f"the model returns several outputs {outs}; pick one with output=<name>"
            )
        last = outs[0]
    return Trace(
        ancestors(nodes, last), ndim, sizes, dict(tracer.module_outputs), dict(tracer.module_types)
    )


def trace_windows(
    module: nn.Module, output: str | None = None, input_size: tuple[int, ...] | None = None
) -> tuple[list[Node], int]:
    """The graph of window operations of ``module`` and its number of spatial axes.

    Kept for callers of rflesson 0.1; ``trace_model`` gives more.
    """
    result = trace_model(module, input_size, output)
    return result.nodes, result.ndim
