"""Record one forward pass of a model with *probes*: stand-ins that carry shapes, not values.

``rflesson.trace`` runs the model's real ``forward`` on a ``Probe`` instead
of a tensor.  A probe knows its shape, which of its dimensions hold which
spatial axis (``rflesson.layout``) and the graph node that produced it;
it holds no numbers, so a 10**9-pixel input costs nothing.  Every torch
call that sees a probe (``F.conv2d``, ``x + y``, ``x.view(...)``,
``torch.cat``...) comes to ``Recorder.handle``, which adds a node to the
graph and returns new probes; Python code in ``forward`` (shape arithmetic,
``if`` on sizes) runs as usual, with real sizes.

While recording:

* ``nn.Module.__call__`` is replaced by a call that runs ``forward``
  directly: the module path of every operation is known, standard
  ``torch.nn`` layers are read from their attributes without running them,
  and **no hook of the caller fires** (neither the model's own nor global
  ones).  It is restored afterwards; recording is not thread-safe;
* a ``TorchFunctionMode`` sends every call on a probe to the recorder, and
  turns large tensor factories (``torch.zeros(...)`` sized from a probe's
  shape) into meta tensors, so that memory stays bounded;
* the global random state is saved and restored, and nothing of the model
  (weights, buffers, flags, hooks) is touched: torch calls on probes are
  never executed.

Code that branches on tensor *values* (``if x.sum() > 0``) cannot run on a
probe and raises a clear error.
"""

from __future__ import annotations

import functools

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from .graph import Node
from .layout import Layout, axes_in, shape

MAX_REAL_ELEMENTS = 1 << 22  # larger constants made inside forward become meta tensors

_FACTORIES = {
    "zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange", "linspace",
    "logspace", "eye", "tensor", "zeros_like", "ones_like", "empty_like", "full_like",
    "rand_like", "randn_like", "randint_like", "randperm", "tril_indices", "triu_indices",
}  # fmt: skip


class TraceError(ValueError):
    """The model's forward cannot run on probes (it reads values, or needs other inputs)."""


class Stop(Exception):
    """The operation or module asked for (``output=``) has run: the rest of forward is not needed."""

    def __init__(self, value) -> None:
        super().__init__()
        self.value = value


class Probe:
    """A tensor stand-in: its graph node, layout (and so its shape) and spatial lengths."""

    __slots__ = ("node", "layout", "lengths", "mixed", "recorder", "dtype")

    def __init__(self, node: str, layout: Layout, lengths, mixed, recorder, dtype=None) -> None:
        self.node = node
        self.layout = layout
        self.lengths = tuple(lengths)
        self.mixed = frozenset(mixed)  # spatial axes some operation mixed so far
        self.recorder = recorder
        self.dtype = dtype or torch.float32

    # -- what code may ask of a tensor -------------------------------------------------

    @property
    def shape(self) -> torch.Size:
        return torch.Size(shape(self.layout))

    def size(self, dim: int | None = None):
        s = shape(self.layout)
        return torch.Size(s) if dim is None else s[dim]

    def dim(self) -> int:
        return len(self.layout)

    ndimension = dim

    @property
    def ndim(self) -> int:
        return len(self.layout)

    def numel(self) -> int:
        n = 1
        for d in self.layout:
            n *= d.size
        return n

    nelement = numel

    @property
    def device(self) -> torch.device:
        return torch.device("meta")

    @property
    def is_cuda(self) -> bool:
        return False

    is_sparse = is_quantized = is_nested = False
    requires_grad = False
    grad = grad_fn = None

    @property
    def is_meta(self) -> bool:
        return True

    @property
    def data(self) -> Probe:
        return self

    def element_size(self) -> int:
        return torch.empty((), dtype=self.dtype).element_size()

    def is_contiguous(self, *args, **kwargs) -> bool:
        return True

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self.dtype.is_complex

    def get_device(self) -> int:
        return -1

    def stride(self, dim: int | None = None):
        s, strides, step = shape(self.layout), [], 1
        for n in reversed(s):
            strides.append(step)
            step *= n
        strides = tuple(reversed(strides))
        return strides if dim is None else strides[dim]

    def type(self, dtype=None, *args, **kwargs):
        if dtype is None:
            return "torch.FloatTensor"
        return self

    def __len__(self) -> int:
        if not self.layout:
            raise TypeError("len() of a 0-d tensor")
        return self.layout[0].size

    def __iter__(self):
        return iter(self.recorder.handle("unbind", (self, 0), {}))

    def __bool__(self) -> bool:
        raise TraceError(_VALUES.format(what="the truth of a tensor (an if or while on it)"))

    def __int__(self) -> int:
        raise TraceError(_VALUES.format(what="int() of a tensor"))

    def __float__(self) -> float:
        raise TraceError(_VALUES.format(what="float() of a tensor"))

    def __index__(self) -> int:
        raise TraceError(_VALUES.format(what="a tensor used as an index"))

    def item(self):
        raise TraceError(_VALUES.format(what=".item() of a tensor"))

    def tolist(self):
        raise TraceError(_VALUES.format(what=".tolist() of a tensor"))

    def numpy(self):
        raise TraceError(_VALUES.format(what=".numpy() of a tensor"))

    def __repr__(self) -> str:
        return f"Probe(node={self.node!r}, shape={tuple(self.shape)})"

    __hash__ = object.__hash__

    def has_positions(self) -> bool:
        return bool(axes_in(self.layout))

    # -- everything else is an operation ----------------------------------------------------

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        recorder = next(p.recorder for p in _probes((args, kwargs or {})))
        return recorder.dispatch(func, args, kwargs or {})

    def __getattr__(self, name: str):
        if name.startswith("__") or not hasattr(torch.Tensor, name):
            raise AttributeError(f"a traced tensor has no attribute {name!r}")
        return functools.partial(self.recorder.method, name, self)


_VALUES = (
    "the model's forward needs {what}: it depends on tensor values, which rflesson does "
    "not compute (it records shapes only)"
)


def _operator(name: str, swap: bool = False):
    def method(self, *args):
        if swap:  # 2 - x arrives as x.__rsub__(2): the operation is sub(2, x)
            return self.recorder.handle(name, (args[0], self), {})
        return self.recorder.handle(name, (self, *args), {})

    method.__name__ = name
    return method


for _name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
    "lshift", "rshift",
):  # fmt: skip
    setattr(Probe, f"__{_name}__", _operator(_name))
    setattr(Probe, f"__r{_name}__", _operator(_name, swap=True))
    setattr(Probe, f"__i{_name}__", _operator(f"{_name}_"))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(Probe, f"__{_name}__", _operator(_name))
for _name in ("neg", "pos", "abs", "invert", "getitem", "setitem"):
    setattr(Probe, f"__{_name}__", _operator(_name))


def _probes(values) -> list[Probe]:
    """The probes inside nested tuples, lists and dicts."""
    found = []
    stack = [values]
    while stack:
        v = stack.pop()
        if isinstance(v, Probe):
            found.append(v)
        elif isinstance(v, tuple | list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return found


def probes_in(values) -> list[Probe]:
    return _probes(values)


def op_name(func) -> str:
    """``'conv2d'``, ``'add'``, ``'add_'`` (in place), ``'getitem'`` for a torch callable."""
    name = getattr(func, "__name__", None) or str(func)
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        if name.startswith("i") and name[1:] in _INPLACE_DUNDER:
            return name[1:] + "_"
    return name


_INPLACE_DUNDER = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor"}


class Recorder(TorchFunctionMode):
    """Runs the forward pass on probes and collects the graph nodes.

    Subclasses (``rflesson.trace.Tracer``) say what each operation does in
    ``handle`` and ``module``.
    """

    def __init__(self, model: nn.Module, ndim: int, stop_at: str | None = None) -> None:
        super().__init__()
        self.ndim = ndim
        self.stop_at = stop_at
        self.nodes: list[Node] = [Node("input", "input")]
        self.used: dict[str, int] = {"input": 1}
        self.stack: list[str] = []  # paths of the modules running now
        self.names = {id(m): path for path, m in model.named_modules(remove_duplicate=False)}
        self.module_outputs: dict[str, str] = {}
        self.module_types: dict[str, str] = {}

    # -- subclasses fill these in ------------------------------------------------------------

    def handle(self, name: str, args: tuple, kwargs: dict, func=None):  # pragma: no cover
        """The result of operation ``name`` on ``args`` (some of them probes)."""
        raise NotImplementedError

    def module(self, mod: nn.Module, path: str, args, kwargs):  # pragma: no cover
        """The result of calling module ``mod`` (at ``path``) on ``args``."""
        raise NotImplementedError

    def method(self, name: str, tensor: Probe, *args, **kwargs):
        """``tensor.name(*args, **kwargs)``."""
        out = self.handle(name, (tensor, *args), kwargs)
        if self.stop_at is not None and isinstance(out, Probe) and out.node == self.stop_at:
            raise Stop(out)
        return out

    # -- nodes ----------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        return self.stack[-1] if self.stack else ""

    def label(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def add(self, label: str, kind: str, inputs, op: str, axes=(), broadcast=()) -> str:
        """Add a node and return its unique name (``label``, ``label_1``...)."""
        count = self.used.get(label, 0)
        self.used[label] = count + 1
        name = label if count == 0 else f"{label}_{count}"
        inputs = tuple(p.node for p in inputs)
        self.nodes.append(Node(name, kind, inputs, op, tuple(axes), self.path, tuple(broadcast)))
        return name

    # -- the pass -------------------------------------------------------------------------------

    def run(self, model: nn.Module, probe: Probe):
        original = nn.Module.__call__
        recorder = self

        def call(mod, *args, **kwargs):
            return recorder.module_call(mod, args, kwargs)

        nn.Module.__call__ = call
        try:
            with torch.random.fork_rng(devices=[]), torch.no_grad(), self:
                return model(probe)
        finally:
            nn.Module.__call__ = original

    def module_call(self, mod: nn.Module, args, kwargs):
        path = self.names.get(id(mod))
        if path is None:
            path = self.label(type(mod).__name__)
        if not _probes((args, kwargs)):  # a module run on constants: run it, without hooks
            return mod.forward(*args, **kwargs)
        self.stack.append(path)
        try:
            out = self.module(mod, path, args, kwargs)
        finally:
            self.stack.pop()
        produced = _probes(out) if not isinstance(out, Probe) else [out]
        if produced:
            self.module_outputs[path] = produced[0].node
            self.module_types[path] = type(mod).__name__
            if path == self.stop_at:
                raise Stop(out)
        return out

    def dispatch(self, func, args, kwargs):
        out = self.handle(op_name(func), tuple(args), dict(kwargs), func)
        if self.stop_at is not None and isinstance(out, Probe) and out.node == self.stop_at:
            raise Stop(out)
        return out

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _probes((args, kwargs)):
            return self.dispatch(func, args, kwargs)
        name = getattr(func, "__name__", "")
        if name in _FACTORIES and "device" not in kwargs:
            try:
                out = func(*args, device="meta", **kwargs)
            except TypeError:
                return func(*args, **kwargs)
            if isinstance(out, torch.Tensor) and out.numel() <= MAX_REAL_ELEMENTS:
                return func(*args, **kwargs)
            return out
        return func(*args, **kwargs)
