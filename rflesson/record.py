"""Fallback tracer: record one forward pass on meta tensors.

Used by ``rflesson.trace`` when ``torch.fx`` cannot trace a ``forward``
(for example Python ``if`` statements on tensor shapes read through
``int(...)``, or other untraceable code).  The pass:

* runs on *meta* tensors: shapes only, no memory, no arithmetic;
* swaps the model's parameters and buffers for meta copies with
  ``torch.func.functional_call``, so no weight or running statistic of the
  real model changes, and its training flag stays as it is;
* sees every torch call through a ``TorchFunctionMode`` (``F.conv2d``,
  ``F.max_pool2d``, ``x + y``, ``x.view(...)``...), and the module path of
  the call through global forward hooks that are removed afterwards.

It sees the code path that an input of ``input_size`` (default 256 per
axis) takes; code that branches on tensor *values* cannot run on meta
tensors and raises a clear error.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

PROBE = 256  # default input length per axis when no input_size is given


def _ndim_and_channels(module: nn.Module) -> tuple[int, int]:
    for mod in module.modules():
        if isinstance(mod, nn.modules.conv._ConvNd):
            nd = len(mod.kernel_size)
            return nd, mod.in_channels
    raise ValueError(
        f"net has no spatial layer ({type(module).__name__} has no convolution module), "
        "and torch.fx could not trace it"
    )


class _Recorder(TorchFunctionMode):
    def __init__(self, builder, tensor_cls, other_cls, paths, leaf_types):
        super().__init__()
        self.builder = builder
        self.Tensor = tensor_cls
        self.Other = other_cls
        self.values: dict[int, object] = {}
        self.keep: list[torch.Tensor] = []  # keep tensors alive so ids stay unique
        self.paths = paths
        self.leaf_types = leaf_types

    def wrap(self, value):
        if isinstance(value, torch.Tensor):
            return self.values.get(id(value), self.Other(value))
        if isinstance(value, tuple | list):
            return (
                type(value)(self.wrap(v) for v in value)
                if isinstance(value, list)
                else tuple(self.wrap(v) for v in value)
            )
        if isinstance(value, dict):
            return {k: self.wrap(v) for k, v in value.items()}
        return value

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        wrapped_args = self.wrap(args)
        wrapped_kwargs = self.wrap(kwargs)
        flat = [
            v
            for v in _flat(wrapped_args) + _flat(list(wrapped_kwargs.values()))
            if isinstance(v, self.Tensor)
        ]
        if not flat or not _has_tensor(out):
            return out
        name = getattr(func, "__name__", str(func))
        path, leaf = self.paths[-1] if self.paths else ("", False)
        label = path if leaf else None  # a torch.nn layer's own call is named by its path
        value = self.builder.function(path, name, wrapped_args, wrapped_kwargs, label)
        self._bind(out, value)
        return out

    def _bind(self, out, value):
        if isinstance(out, torch.Tensor):
            if isinstance(value, tuple):
                value = value[0]
            if isinstance(value, self.Tensor):
                self.values[id(out)] = value
                self.keep.append(out)
        elif isinstance(out, tuple | list):
            items = value if isinstance(value, tuple) else (value,) * len(out)
            for o, v in zip(out, items, strict=False):
                self._bind(o, v)


def _flat(values) -> list:
    out = []
    for v in values:
        if isinstance(v, tuple | list):
            out.extend(_flat(v))
        else:
            out.append(v)
    return out


def _has_tensor(out) -> bool:
    if isinstance(out, torch.Tensor):
        return True
    if isinstance(out, tuple | list):
        return any(_has_tensor(o) for o in out)
    return False


def record_nodes(module: nn.Module, input_size, builder_cls, tensor_cls, other_cls, fx_error):
    """Run ``module`` once on meta tensors and build its graph from the torch calls."""
    ndim, channels = _ndim_and_channels(module)
    if input_size is None:
        sizes = (PROBE,) * ndim
    elif isinstance(input_size, tuple | list):
        sizes = tuple(input_size) * (ndim if len(input_size) == 1 else 1)
    else:
        sizes = (int(input_size),) * ndim
    builder = builder_cls(ndim)
    x = torch.empty((1, channels, *sizes), device="meta")
    state = {k: torch.empty_like(v, device="meta") for k, v in module.named_parameters()}
    state.update({k: torch.empty_like(v, device="meta") for k, v in module.named_buffers()})
    names = {id(m): path for path, m in module.named_modules()}
    paths: list[str] = []

    def pre(mod, args):
        leaf = type(mod).__module__.startswith("torch.nn") and not list(mod.children())
        paths.append((names.get(id(mod), type(mod).__name__), leaf))

    def post(mod, args, out):
        if paths:
            paths.pop()

    recorder = _Recorder(builder, tensor_cls, other_cls, paths, ())
    recorder.values[id(x)] = tensor_cls("input")
    recorder.keep.append(x)
    handles = [
        nn.modules.module.register_module_forward_pre_hook(pre),
        nn.modules.module.register_module_forward_hook(post),
    ]
    try:
        with recorder, torch.no_grad():
            out = torch.func.functional_call(module, state, (x,))
    except ValueError:
        raise
    except Exception as error:
        raise ValueError(
            f"cannot trace {type(module).__name__}: torch.fx failed ({fx_error}) and a forward "
            f"pass on meta tensors failed too ({type(error).__name__}: {error})"
        ) from error
    finally:
        for handle in handles:
            handle.remove()
    result = recorder.wrap(out)
    return builder, result, ndim
