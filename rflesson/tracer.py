"""The translator: what each operation of a forward pass does to positions.

``Tracer`` is the ``Recorder`` (``rflesson.record``) that ``rflesson.trace``
runs a model with.  Its methods are the few shapes an operation can take in
the graph: a window per spatial axis (``windows``), a merge of branches with
broadcasting (``merge``), mixing or reducing the dimensions that hold
positions (``mix``, ``reduce``, ``summarize``), a crop (``crop``), a pure
change of layout (``relayout``).  ``rflesson.ops`` maps every PyTorch
operation name, and every standard layer, onto these; ``UnknownOperation``
names what it cannot map.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn as nn

from .layers import PADDING_MODES, Block, Collapse, Mix, Resample, Transposed, Window
from .layout import (
    OTHER,
    Dim,
    Factor,
    LayoutError,
    axes_in,
    describe,
    digits,
    is_plain,
    normalize_dim,
    other,
    rescale,
    reshape,
    shape,
    spatial,
    whole_axis,
    without_axes,
)
from .record import Probe, Recorder, TraceError, probes_in

IDENTITY = Window()


class UnknownOperation(ValueError):
    """An operation whose effect on positions rflesson does not know (or that has none)."""


class TooSmall(ValueError):
    """An operation got less input than its window needs."""


class Retry(Exception):
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
    "isfinite", "channel_shuffle", "native_channel_shuffle", "float_power",
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
    "as_subclass", "identity",
}  # fmt: skip


def argument(args, kwargs, i: int, name: str, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def as_ints(value, n: int, what: str) -> tuple[int, ...]:
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


def shape_of(value) -> tuple[int, ...]:
    if isinstance(value, Probe):
        return shape(value.layout)
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    return ()


def broadcast_shapes_of(*shapes: tuple[int, ...]) -> tuple[int, ...]:
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


def as_meta(value):
    if isinstance(value, Probe):
        return torch.empty(tuple(value.shape), device="meta", dtype=value.dtype)
    if isinstance(value, torch.Tensor) and value.device.type != "meta":
        return torch.empty(value.shape, device="meta", dtype=value.dtype)
    if isinstance(value, tuple | list):
        return type(value)(as_meta(v) for v in value)
    if isinstance(value, dict):
        return {k: as_meta(v) for k, v in value.items()}
    return value


class Tracer(Recorder):
    """Says what every operation of one forward pass does to positions."""

    def __init__(
        self, model: nn.Module, ndim: int, rules, retried_channels: bool, stop_at=None
    ) -> None:
        super().__init__(model, ndim, stop_at)
        self.rules, self.module_rule = rules  # from rflesson.ops
        self.retried_channels = retried_channels
        self.seen_spatial = False
        self._leaf = None

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
        return self.path if self.path and self.path == self._leaf else None

    def _translate(self, key, label, name, args, kwargs, func):
        rule = self.rules.get(key)
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

    def module(self, mod: nn.Module, path: str, args, kwargs):
        """A module call: read a standard layer from its attributes, else run its forward."""
        rule = self.module_rule(mod)
        if rule is not None and isinstance(args[0] if args else None, Probe):
            return rule(self, path, mod, args, kwargs)
        leaf = not mod._modules and type(mod).__module__.startswith("torch.nn")
        previous = self._leaf
        self._leaf = path if leaf else None
        try:
            return mod.forward(*args, **kwargs)
        finally:
            self._leaf = previous

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
        out = target(*as_meta(args), **as_meta(kwargs))
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
            return type(out)([self._wrap(o, node, lengths, mixed) for o in out])
        return out

    # -- merges (elementwise with broadcasting) -------------------------------------------------

    def merge(self, label, key, operands):
        probes = [o for o in operands if isinstance(o, Probe)]
        if not probes:
            return operands[0]
        try:
            out_shape = broadcast_shapes_of(*[shape_of(o) for o in operands])
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
                    same_positions = digits(d) == digits(first)
                    if not same_positions or (d.before, d.after) != (first.before, first.after):
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
                raise Retry(ndim=nd)
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
                raise TooSmall(f"at {label!r} ({key}) {error}") from None
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
            raise Retry(channels=expected)  # the first layer the input meets sets its channels
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
        ops = window_ops(label, key, nd, kernel, stride, padding, dilation, mode=mode)
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
        stride = as_ints(stride, nd, "stride")
        padding = as_ints(padding, nd, "padding")
        dilation = as_ints(dilation, nd, "dilation")
        output_padding = as_ints(output_padding, nd, "output_padding")
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
        ops = window_ops(label, key, nd, kernel, stride, padding, dilation, ceil_mode)
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
                raise TooSmall(f"at {label!r} ({key}) {error}") from None
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
                as_ints(tuple(size) if not isinstance(size, int) else size, nd, "size"),
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
                Resample(mode, size=int(s), align_corners=corners)
                for s in as_ints(size, nd, "size")
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


def window_ops(label, key, nd, kernel, stride, padding, dilation, ceil_mode=False, mode="zeros"):
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
    kernel = as_ints(kernel, nd, "kernel_size")
    stride = (
        kernel if stride is None or stride == () or stride == [] else as_ints(stride, nd, "stride")
    )
    dilation = as_ints(dilation, nd, "dilation")
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
        pads = [(p, p) for p in as_ints(padding, nd, "padding")]
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
