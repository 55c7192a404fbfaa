"""Turn a ``torch.nn.Module`` into a graph of window operations (``rflesson.graph``).

``trace_windows(module)`` traces the real ``forward`` with ``torch.fx``:
submodules *and* functional calls (``F.conv2d``, ``F.max_pool2d``,
``F.pad``, ``F.interpolate``, ``torch.cat``, ``+``, ``*`` ...), through
nested modules.  Each operation becomes a ``Node`` that says how its output
units read its input units along each spatial axis.

When ``torch.fx`` cannot trace the code (Python control flow on tensor
values, unsupported constructs), the fallback runs one forward pass on
*meta* tensors (shapes only, no memory, no arithmetic) with a
``TorchFunctionMode`` that records every torch call, and the module's own
weights and buffers swapped for meta copies through
``torch.func.functional_call``: nothing of the model is touched.  The
fallback sees the code path that a tensor of the given shape takes.

An operation whose geometry is unknown raises ``ValueError`` naming the
module path and type: never a silent number.  Operations after global
pooling or flatten are pointwise (every unit already sees the whole input).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction

import torch
import torch.fx as fx
import torch.nn as nn

from .graph import Node, ancestors, select
from .layers import Collapse, Resample, Transposed, Window

# -- values flowing through the trace ------------------------------------------


@dataclass(frozen=True)
class _Tensor:
    """A spatial tensor: produced by graph node ``name``."""

    name: str
    collapsed: bool = False  # after global pooling / flatten


@dataclass(frozen=True)
class _Other:
    """Anything else: a parameter, a shape, a Python number."""

    value: object = None


class _Seq(tuple):
    """A tuple of values (``torch.split``, ``return_indices=True``...)."""


# -- operation tables --------------------------------------------------------------

_POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.Threshold, nn.LogSigmoid, nn.Hardshrink,
    nn.Softshrink, nn.GLU, nn.Softmax2d,
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.GroupNorm, nn.LocalResponseNorm,
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.FeatureAlphaDropout, nn.Identity, nn.ChannelShuffle,
)  # fmt: skip

_POINTWISE_FUNCS = {
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "elu", "elu_", "selu",
    "celu", "gelu", "silu", "mish", "sigmoid", "sigmoid_", "tanh", "tanh_", "hardtanh",
    "hardtanh_", "hardswish", "hardsigmoid", "softplus", "softsign", "tanhshrink", "threshold",
    "logsigmoid", "hardshrink", "softshrink", "glu", "batch_norm", "instance_norm", "group_norm",
    "local_response_norm", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "clamp", "clamp_", "clip", "abs", "exp", "log", "sqrt", "rsqrt",
    "neg", "pow", "square", "contiguous", "clone", "float", "double", "half", "to", "type_as",
    "detach", "identity", "channel_shuffle", "normalize", "softmax", "log_softmax", "erf",
    "sin", "cos", "reciprocal", "sign", "floor", "ceil", "round", "nan_to_num", "cpu", "cuda",
    "requires_grad_", "pos", "invert", "not_", "abs_", "neg_",
}  # fmt: skip

_BINARY = {
    "add", "sub", "mul", "truediv", "div", "floordiv", "mod", "rsub", "radd", "rmul", "rtruediv",
    "iadd", "isub", "imul", "itruediv", "add_", "sub_", "mul_", "div_", "maximum", "minimum",
    "max", "min", "where", "pow", "matmul_scalar", "eq", "ne", "lt", "gt", "le", "ge",
    "true_divide", "multiply", "subtract", "and_", "or_", "xor",
}  # fmt: skip

_SHAPE_FUNCS = {"size", "dim", "numel", "getattr", "len", "ndimension", "type", "is_contiguous"}

_REDUCE = {"mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "norm", "prod"}


class UnknownOperation(ValueError):
    """An operation whose effect on positions rflesson does not know."""


class _Dynamic(UnknownOperation):
    """A geometry argument fx only knows at run time (``size=skip.shape[2:]``)."""


# -- small argument helpers -------------------------------------------------------


def _arg(args, kwargs, i: int, name: str, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _tup(value, ndim: int, what: str) -> tuple:
    if isinstance(value, _Other) or (
        isinstance(value, tuple | list) and any(isinstance(v, _Other) for v in value)
    ):
        raise _Dynamic(f"{what}: its size or kernel is only known when the model runs")
    if isinstance(value, torch.Size):
        value = tuple(value)
    if isinstance(value, tuple | list):
        if len(value) == 1:
            return tuple(value) * ndim
        if len(value) != ndim:
            raise UnknownOperation(f"{what} has {len(value)} axes but the network has {ndim}")
        return tuple(value)
    return (value,) * ndim


def _window_axes(ndim, kernel, stride=None, padding=0, dilation=1, ceil_mode=False, what="window"):
    kernel = _tup(kernel, ndim, what)
    stride = kernel if stride is None or stride == () or stride == [] else _tup(stride, ndim, what)
    dilation = _tup(dilation, ndim, what)
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * ndim
        else:  # 'same': PyTorch puts the odd pixel after
            pads = [
                (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                for k, d in zip(kernel, dilation, strict=True)
            ]
    else:
        pads = [(p, p) for p in _tup(padding, ndim, what)]
    return tuple(
        Window(int(k), int(s), int(d), int(b), int(a), bool(ceil_mode))
        for k, s, d, (b, a) in zip(kernel, stride, dilation, pads, strict=True)
    )


def _pad_axes(ndim: int, pad) -> tuple[Window, ...]:
    """``F.pad`` widths ``(left_last, right_last, left_prev, ...)``: negative ones crop."""
    pad = list(pad)
    axes = []
    for a in range(ndim):
        k = ndim - 1 - a  # pairs run from the last axis backwards
        b, e = (pad[2 * k], pad[2 * k + 1]) if 2 * k + 1 < len(pad) else (0, 0)
        axes.append(Window(1, 1, 1, int(b), int(e)))
    return tuple(axes)


def _fraction(x) -> Fraction:
    return Fraction(x).limit_denominator(1000) if isinstance(x, float) else Fraction(x)


def _resample_axes(
    ndim, size=None, scale=None, mode="nearest", align_corners=None, antialias=False
):
    if mode in ("area",):
        if size is None:
            raise UnknownOperation("mode='area' without size")
        return "adaptive", tuple(Collapse(int(s)) for s in _tup(size, ndim, "size"))
    corners = bool(align_corners) and mode in ("linear", "bilinear", "trilinear", "bicubic")
    if antialias:
        raise UnknownOperation("antialias=True widens the taps; not supported")
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic"):
        raise UnknownOperation(f"interpolation mode {mode!r}")
    if size is not None:
        return "upsample", tuple(
            Resample(mode, size=int(s), align_corners=corners) for s in _tup(size, ndim, "size")
        )
    return "upsample", tuple(
        Resample(mode, scale=_fraction(s), align_corners=corners)
        for s in _tup(scale, ndim, "scale_factor")
    )


def _adaptive_axes(ndim, output_size):
    sizes = _tup(output_size, ndim, "output_size")
    axes = tuple(Window() if s is None else Collapse(int(s)) for s in sizes)
    kind = "global" if all(s == 1 for s in sizes) else "adaptive"
    return kind, axes


def _spatial_dims(dims, ndim: int) -> set[int] | None:
    """Which spatial axes a reduction over ``dims`` removes (None: not a reduction)."""
    if dims is None:
        return set(range(ndim))
    dims = list(dims) if isinstance(dims, tuple | list) else [dims]
    rank = ndim + 2
    out = set()
    for d in dims:
        if not isinstance(d, int):
            return None
        d = d % rank
        if d >= 2:
            out.add(d - 2)
    return out


# -- the translator, shared by the fx path and the fallback ----------------------


class _Builder:
    """Collects graph nodes while the trace walks the network's operations."""

    def __init__(self, ndim: int) -> None:
        self.ndim = ndim
        self.nodes: list[Node] = [Node("input", "input")]
        self.used: dict[str, int] = {"input": 1}

    def add(self, name: str, kind: str, inputs, op: str, axes=(), collapsed=False) -> _Tensor:
        count = self.used.get(name, 0)
        self.used[name] = count + 1
        unique = name if count == 0 else f"{name}_{count}"
        self.nodes.append(Node(unique, kind, tuple(t.name for t in inputs), op, tuple(axes)))
        return _Tensor(unique, collapsed)

    # -- modules ------------------------------------------------------------------

    def module(self, path: str, mod: nn.Module, args, kwargs):
        tensors = [a for a in args if isinstance(a, _Tensor)]
        if not tensors:
            return _Other()
        x = tensors[0]
        op = type(mod).__name__
        nd = self.ndim
        if isinstance(mod, nn.modules.conv._ConvTransposeNd):
            axes = tuple(
                Transposed(k, s, d, p, o)
                for k, s, d, p, o in zip(
                    mod.kernel_size,
                    mod.stride,
                    mod.dilation,
                    mod.padding,
                    mod.output_padding,
                    strict=True,
                )
            )
            return self.add(path, "transpose", [x], op, axes, x.collapsed)
        if isinstance(mod, nn.modules.conv._ConvNd):
            axes = _window_axes(
                nd, mod.kernel_size, mod.stride, mod.padding, mod.dilation, what=path
            )
            return self.add(path, "window", [x], op, axes, x.collapsed)
        if isinstance(mod, nn.modules.pooling._MaxPoolNd):
            axes = _window_axes(
                nd, mod.kernel_size, mod.stride, mod.padding, mod.dilation, mod.ceil_mode, path
            )
            out = self.add(path, "window", [x], op, axes, x.collapsed)
            return _Seq((out, _Other())) if mod.return_indices else out
        if isinstance(mod, nn.modules.pooling._AvgPoolNd | nn.modules.pooling._LPPoolNd):
            padding = getattr(mod, "padding", 0)
            axes = _window_axes(nd, mod.kernel_size, mod.stride, padding, 1, mod.ceil_mode, path)
            return self.add(path, "window", [x], op, axes, x.collapsed)
        if isinstance(
            mod,
            nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd,
        ):
            kind, axes = _adaptive_axes(nd, mod.output_size)
            out = self.add(path, kind, [x], op, axes, x.collapsed or kind == "global")
            return _Seq((out, _Other())) if getattr(mod, "return_indices", False) else out
        if isinstance(mod, nn.modules.padding._ReflectionPadNd | nn.modules.padding._ReplicationPadNd | nn.modules.padding._ConstantPadNd | nn.modules.padding.CircularPad1d | nn.modules.padding.CircularPad2d | nn.modules.padding.CircularPad3d):  # fmt: skip
            return self.add(path, "window", [x], op, _pad_axes(nd, mod.padding), x.collapsed)
        if isinstance(mod, nn.Upsample):
            kind, axes = _resample_axes(
                nd,
                mod.size,
                mod.scale_factor,
                mod.mode,
                mod.align_corners,
            )
            return self.add(path, kind, [x], op, axes, x.collapsed)
        if isinstance(mod, nn.PixelShuffle):
            r = mod.upscale_factor
            axes = (Resample("nearest", scale=Fraction(r)),) * nd
            return self.add(path, "upsample", [x], op, axes, x.collapsed)
        if isinstance(mod, nn.PixelUnshuffle):
            r = mod.downscale_factor
            return self.add(path, "window", [x], op, (Window(r, r),) * nd, x.collapsed)
        if isinstance(mod, nn.Flatten):
            if x.collapsed:
                return self.add(path, "pointwise", [x], op, (), True)
            return self.add(path, "global", [x], op, (Collapse(1),) * nd, True)
        if isinstance(mod, nn.Softmax | nn.LogSoftmax) and (mod.dim in (1, -nd - 1) or x.collapsed):
            return self.add(path, "pointwise", [x], op, (), x.collapsed)
        if isinstance(mod, _POINTWISE_MODULES) or x.collapsed:
            return self.add(path, "pointwise", [x], op, (), x.collapsed)
        if isinstance(mod, nn.Linear | nn.Bilinear | nn.LayerNorm):
            raise UnknownOperation(
                f"{path} ({op}) acts on the last axis of a tensor that is still spatial; "
                "flatten or pool it first (then every unit sees the whole input)"
            )
        raise UnknownOperation(f"{path} ({op}): rflesson does not know how it moves positions")

    # -- functions and methods --------------------------------------------------------

    def function(self, path: str, name: str, args, kwargs, label: str | None = None):
        """A functional call or a tensor method, by name (``'max_pool2d'``, ``'add'``...)."""
        flat = _flatten_values(args) + _flatten_values(tuple(kwargs.values()))
        tensors = [a for a in flat if isinstance(a, _Tensor)]
        if not tensors:
            return self._constant(name, args)
        key = name.strip("_")
        if key.startswith("r") and key[1:] in ("add", "sub", "mul", "truediv", "div"):
            key = key[1:]
        short = name.strip("_")
        label = label or (f"{path}.{short}" if path else short)
        nd = self.ndim
        x = tensors[0]
        coll = all(t.collapsed for t in tensors)

        if key in ("getitem",):
            return self._getitem(label, args)
        if key in _SHAPE_FUNCS:
            return _Other()
        if key in ("conv1d", "conv2d", "conv3d"):
            weight = _arg(args, kwargs, 1, "weight")
            kernel = _shape(weight, label)[2:]
            axes = _window_axes(
                nd,
                tuple(kernel),
                _arg(args, kwargs, 3, "stride", 1),
                _arg(args, kwargs, 4, "padding", 0),
                _arg(args, kwargs, 5, "dilation", 1),
                what=label,
            )
            return self.add(label, "window", [x], name, axes, x.collapsed)
        if key in ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
            weight = _arg(args, kwargs, 1, "weight")
            kernel = _shape(weight, label)[2:]
            stride = _tup(_arg(args, kwargs, 3, "stride", 1), nd, label)
            padding = _tup(_arg(args, kwargs, 4, "padding", 0), nd, label)
            outpad = _tup(_arg(args, kwargs, 5, "output_padding", 0), nd, label)
            dilation = _tup(_arg(args, kwargs, 7, "dilation", 1), nd, label)
            axes = tuple(
                Transposed(int(k), int(s), int(d), int(p), int(o))
                for k, s, d, p, o in zip(kernel, stride, dilation, padding, outpad, strict=True)
            )
            return self.add(label, "transpose", [x], name, axes, x.collapsed)
        if key in ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
                   "max_pool2d_with_indices", "max_pool3d_with_indices"):  # fmt: skip
            axes = _window_axes(
                nd,
                _arg(args, kwargs, 1, "kernel_size"),
                _arg(args, kwargs, 2, "stride"),
                _arg(args, kwargs, 3, "padding", 0),
                _arg(args, kwargs, 4, "dilation", 1),
                _arg(args, kwargs, 5, "ceil_mode", False),
                label,
            )
            out = self.add(label, "window", [x], name, axes, x.collapsed)
            indices = _arg(args, kwargs, 6, "return_indices", False) or "indices" in key
            return _Seq((out, _Other())) if indices else out
        if key in ("avg_pool1d", "avg_pool2d", "avg_pool3d"):
            axes = _window_axes(
                nd,
                _arg(args, kwargs, 1, "kernel_size"),
                _arg(args, kwargs, 2, "stride"),
                _arg(args, kwargs, 3, "padding", 0),
                1,
                _arg(args, kwargs, 4, "ceil_mode", False),
                label,
            )
            return self.add(label, "window", [x], name, axes, x.collapsed)
        if (
            key.startswith("adaptive_")
            and key[-2:] in ("1d", "2d", "3d")
            or "adaptive_max_pool" in key
        ):
            kind, axes = _adaptive_axes(nd, _arg(args, kwargs, 1, "output_size"))
            out = self.add(label, kind, [x], name, axes, x.collapsed or kind == "global")
            if _arg(args, kwargs, 2, "return_indices", False) or key.endswith("with_indices"):
                return _Seq((out, _Other()))
            return out
        if key == "pad":
            return self.add(
                label, "window", [x], name, _pad_axes(nd, _arg(args, kwargs, 1, "pad")), x.collapsed
            )
        if key in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            mode = _arg(args, kwargs, 3, "mode", "nearest")
            if key == "upsample_bilinear":
                mode = "bilinear"
            kind, axes = _resample_axes(
                nd,
                _arg(args, kwargs, 1, "size"),
                _arg(args, kwargs, 2, "scale_factor"),
                mode,
                _arg(args, kwargs, 4, "align_corners"),
                _arg(args, kwargs, 6, "antialias", False),
            )
            return self.add(label, kind, [x], name, axes, x.collapsed)
        if key in ("pixel_shuffle",):
            r = int(_arg(args, kwargs, 1, "upscale_factor"))
            return self.add(
                label, "upsample", [x], name, (Resample("nearest", Fraction(r)),) * nd, x.collapsed
            )
        if key in ("cat", "concat", "concatenate"):
            dim = _arg(args, kwargs, 1, "dim", 0)
            if len(tensors) > 1 and not coll and dim % (nd + 2) != 1:
                raise UnknownOperation(
                    f"{label} ({name}) joins tensors along dim={dim}, not the channel axis"
                )
            return self.add(label, "merge", tensors, name, (), coll)
        if key in ("flatten",):
            start = _arg(args, kwargs, 1, "start_dim", 0)
            if x.collapsed or start % (nd + 2) >= 2 and nd == 1:
                return self.add(label, "pointwise" if x.collapsed else "global", [x], name,
                                () if x.collapsed else (Collapse(1),) * nd, True)  # fmt: skip
            return self.add(label, "global", [x], name, (Collapse(1),) * nd, True)
        if key in ("view", "reshape"):
            if x.collapsed:
                return self.add(label, "pointwise", [x], name, (), True)
            shape = (
                args[1:]
                if len(args) > 2 or not isinstance(_arg(args, kwargs, 1, "shape"), tuple | list)
                else args[1]
            )
            if len(shape) <= 2:
                return self.add(label, "global", [x], name, (Collapse(1),) * nd, True)
            raise UnknownOperation(
                f"{label} ({name}) reshapes a spatial tensor to {len(shape)} dims"
            )
        if key in _REDUCE and len(tensors) == 1:
            dims = _arg(args, kwargs, 1, "dim")
            if key in ("max", "min") and isinstance(dims, _Tensor):
                pass  # torch.max(a, b): elementwise, handled as a merge below
            else:
                axes_removed = _spatial_dims(dims, nd)
                if axes_removed is None:
                    raise UnknownOperation(f"{label} ({name}) reduces over {dims!r}")
                if not axes_removed or x.collapsed:
                    out = self.add(label, "pointwise", [x], name, (), x.collapsed)
                else:
                    whole = len(axes_removed) == nd
                    axes = tuple(Collapse(1) if a in axes_removed else Window() for a in range(nd))
                    out = self.add(label, "global" if whole else "adaptive", [x], name, axes, whole)
                if key in ("max", "min") and dims is not None:
                    return _Seq((out, _Other()))
                return out
        if key in ("split", "chunk", "unbind", "tensor_split"):
            dim = _arg(args, kwargs, 2, "dim", 0)
            if dim % (nd + 2) != 1 and not x.collapsed:
                raise UnknownOperation(f"{label} ({name}) splits along dim={dim}, not channels")
            out = self.add(label, "pointwise", [x], name, (), x.collapsed)
            return _Seq((out,) * 64)
        if key in _BINARY or (len(tensors) > 1 and key in ("max", "min")):
            if len(tensors) == 1:
                return self.add(label, "pointwise", [x], name, (), x.collapsed)
            return self.add(label, "merge", tensors, name, (), coll)
        if key in _POINTWISE_FUNCS or key in ("softmax", "log_softmax"):
            if key in ("softmax", "log_softmax") and not x.collapsed:
                dim = _arg(args, kwargs, 1, "dim")
                if dim is None or dim % (nd + 2) != 1:
                    raise UnknownOperation(
                        f"{label} ({name}) normalizes over dim={dim}, not channels"
                    )
            return self.add(label, "pointwise", tensors[:1], name, (), x.collapsed)
        if key in ("linear",) and not coll:
            raise UnknownOperation(
                f"{label} ({name}) acts on the last axis of a spatial tensor; flatten or pool first"
            )
        if coll:  # everything after global pooling already sees the whole input
            return self.add(
                label, "pointwise" if len(tensors) == 1 else "merge", tensors, name, (), True
            )
        raise UnknownOperation(f"{label} ({name}): rflesson does not know how it moves positions")

    def _constant(self, name, args):
        return _Other()

    def _getitem(self, label, args):
        obj, index = args[0], args[1]
        if isinstance(obj, _Seq):
            return obj[index] if isinstance(index, int) else _Other()
        if not isinstance(obj, _Tensor):
            return _Other()
        if obj.collapsed:
            return self.add(label, "pointwise", [obj], "getitem", (), True)
        index = index if isinstance(index, tuple) else (index,)
        if any(i is Ellipsis for i in index):
            k = index.index(Ellipsis)
            fill = (slice(None),) * (self.ndim + 2 - (len(index) - 1))
            index = index[:k] + fill + index[k + 1 :]
        index = index + (slice(None),) * (self.ndim + 2 - len(index))
        if any(not isinstance(i, slice) for i in index[:2]):
            raise UnknownOperation(
                f"{label} (getitem) indexes the batch or channel axis with {index[:2]!r}"
            )
        axes = []
        for a, i in enumerate(index[2:]):
            if not isinstance(i, slice):
                raise UnknownOperation(f"{label} (getitem) indexes spatial axis {a} with {i!r}")
            start, stop, step = i.start or 0, i.stop, i.step or 1
            if start < 0 or (stop is not None and stop > 0) or step < 1:
                raise UnknownOperation(
                    f"{label} (getitem): only crops x[..., a:-b:s] with a >= 0 and b >= 0 are supported; got {i!r}"
                )
            axes.append(Window(1, step, 1, -start, 0 if stop is None else stop))
        return self.add(label, "window", [obj], "getitem", axes, False)


def _flatten_values(values) -> list:
    out = []
    for v in values:
        if isinstance(v, tuple | list):
            out.extend(_flatten_values(v))
        else:
            out.append(v)
    return out


def _shape(value, label) -> tuple[int, ...]:
    tensor = value.value if isinstance(value, _Other) else value
    if isinstance(tensor, torch.Tensor):
        return tuple(tensor.shape)
    raise UnknownOperation(f"{label}: cannot read the kernel size of its weight ({tensor!r})")


# -- the fx path ---------------------------------------------------------------


class _Tracer(fx.Tracer):
    """Standard torch.nn modules are leaves; user modules are traced through."""


_DIM_NAMES = {"1d": 1, "2d": 2, "3d": 3}


def _declared_ndim(obj) -> int | None:
    name = obj if isinstance(obj, str) else type(obj).__name__
    name = name.lower()
    for suffix, nd in _DIM_NAMES.items():
        if name.endswith(suffix) or name.endswith(suffix + "_with_indices"):
            return nd
    return None


def _fx_ndim(gm: nn.Module, graph: fx.Graph) -> int | None:
    found: dict[int, str] = {}
    for node in graph.nodes:
        nd = None
        if node.op == "call_module":
            mod = gm.get_submodule(node.target)
            if isinstance(mod, nn.modules.conv._ConvNd | nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd | nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd | nn.modules.padding._ReflectionPadNd | nn.modules.padding._ReplicationPadNd | nn.modules.padding._ConstantPadNd):  # fmt: skip
                nd = _declared_ndim(mod)
        elif node.op == "call_function":
            name = getattr(node.target, "__name__", "")
            if "conv" in name or "pool" in name:
                nd = _declared_ndim(name)
        if nd is not None:
            found.setdefault(nd, str(node.target))
    if len(found) > 1:
        shown = ", ".join(f"{v} ({k}-D)" for k, v in found.items())
        raise ValueError(f"the network mixes spatial layers of different dimensions: {shown}")
    return next(iter(found), None)


def _path(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    return list(stack.values())[-1][0]


def _fx_walk(module: nn.Module, graph: fx.Graph):
    gm = module  # node targets are paths inside the original module
    ndim = _fx_ndim(gm, graph)
    if ndim is None:
        raise ValueError(
            f"net has no spatial layer ({type(module).__name__} has no convolution or pooling): "
            "it has no receptive field to compute"
        )
    builder = _Builder(ndim)
    env: dict[fx.Node, object] = {}
    placeholders = 0
    result = None
    for node in graph.nodes:
        if node.op == "placeholder":
            env[node] = _Tensor("input") if placeholders == 0 else _Other()
            placeholders += 1
        elif node.op == "get_attr":
            env[node] = _Other(_attr(gm, node.target))
        elif node.op == "output":
            result = _load(node.args[0], env)
        else:
            args = _load(node.args, env)
            kwargs = _load(node.kwargs, env)
            if node.op == "call_module":
                env[node] = builder.module(node.target, gm.get_submodule(node.target), args, kwargs)
            else:
                name = node.target if node.op == "call_method" else _fname(node.target)
                env[node] = builder.function(_path(node), name, args, kwargs)
    return builder, result, ndim


def _fname(target) -> str:
    name = getattr(target, "__name__", str(target))
    if target is operator.getitem:
        return "getitem"
    return name


def _attr(gm, target: str):
    obj = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _load(value, env):
    if isinstance(value, fx.Node):
        return env[value]
    if isinstance(value, tuple):
        return tuple(_load(v, env) for v in value)
    if isinstance(value, list):
        return [_load(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _load(v, env) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(_load(value.start, env), _load(value.stop, env), _load(value.step, env))
    return value


def _finish(builder: _Builder, result, output: str | None) -> list[Node]:
    nodes = builder.nodes
    if output is not None:
        return ancestors(nodes, select(nodes, output))
    outs = [v for v in _flatten_values([result]) if isinstance(v, _Tensor)]
    if isinstance(result, dict):
        outs = [v for v in result.values() if isinstance(v, _Tensor)]
    if not outs:
        raise ValueError("the model returns no tensor that depends on its input")
    names = list(dict.fromkeys(o.name for o in outs))
    if len(names) > 1:
        raise ValueError(f"the model returns several outputs {names}; pick one with output=<name>")
    return ancestors(nodes, names[0])


# -- the public entry point ---------------------------------------------------------


def trace_windows(
    module: nn.Module, output: str | None = None, input_size: tuple[int, ...] | None = None
) -> tuple[list[Node], int]:
    """The graph of window operations of ``module``, and its number of spatial axes.

    Tries ``torch.fx`` first; if fx cannot trace ``forward``, records one
    forward pass on meta tensors instead (see the module docstring).
    ``output`` stops at a node name or module path.  The model is never
    modified: no weights, buffers, flags or devices change.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    try:
        graph = _Tracer().trace(module)
    except Exception as error:  # fx cannot trace this forward: record a pass instead
        fx_error = error
    else:
        try:
            builder, result, ndim = _fx_walk(module, graph)
            return _finish(builder, result, output), ndim
        except _Dynamic as error:  # e.g. F.interpolate(size=skip.shape[2:])
            fx_error = error
    from .record import record_nodes

    builder, result, ndim = record_nodes(module, input_size, _Builder, _Tensor, _Other, fx_error)
    return _finish(builder, result, output), ndim
