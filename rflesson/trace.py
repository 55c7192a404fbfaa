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

from dataclasses import dataclass, field

import torch
import torch.nn as nn

from . import ops
from .graph import Node, ancestors, select
from .layout import LayoutError, input_layout
from .ops import axes_of_name
from .record import Probe, Stop, TraceError, probes_in
from .tracer import Retry, TooSmall, Tracer, UnknownOperation

PROBE = 224  # input length per axis traced when no input_size is given
MAX_PROBE = 1 << 40  # the largest input length tried to get a network to accept its input


__all__ = ["UnknownOperation", "trace_model", "trace_windows"]
RULES = (ops.RULES, ops.module_rule)  # what the tracer maps operations and layers with


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
            dims.setdefault(axes_of_name(type(mod).__name__.lower()), path or type(mod).__name__)
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
        except Retry as retry:
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
        tracer = Tracer(module, ndim, RULES, retried, output)
        probe = tracer.probe("input", input_layout(channels, lengths), lengths, (), _dtype(module))
        try:
            return tracer, _call(tracer, module, probe)
        except TooSmall as error:
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
        tracer = Tracer(module, ndim, RULES, True, output)
        probe = tracer.probe("input", input_layout(channels, lengths), lengths, (), _dtype(module))
        try:
            result = _call(tracer, module, probe)
        except TooSmall:
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
    except (UnknownOperation, TraceError, TooSmall, Retry, LayoutError):
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
    again = Tracer(module, ndim, RULES, True, output)
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
