"""A network as a small graph of axis operations: what the RF engine walks.

A graph is a list of ``Node`` in topological order; the first is the input.
Layer lists become chains; ``rflesson.trace`` turns a ``torch.nn.Module``
into the same form.  Each node says how its output units read its inputs,
with one axis operation per spatial axis (``rflesson.layers``):

=============  ==============================================================
``kind``       meaning
=============  ==============================================================
``input``      the network input (no axes)
``window``     convolution, pooling, padding, cropping (``Window`` per axis)
``transpose``  transposed convolution (``Transposed`` per axis)
``upsample``   interpolation (``Resample`` per axis)
``adaptive``   adaptive pooling to more than one bin (``Collapse`` per axis)
``global``     pooling over a whole axis: ``Collapse(1)`` on that axis
``mix``        attention, softmax over an axis, a linear layer over tokens:
               ``Mix`` (the whole axis) or ``Block`` (a window) on the axes it
               mixes, ``Window()`` (nothing) on the others
``pointwise``  reads the same position of its one input (activations, norms,
               dropout; 1x1 convolutions are ``window`` with kernel 1)
``merge``      ``+``, ``*``, ``torch.cat`` on channels...: unit ``u`` reads
               unit ``u`` of every input; an input listed in ``broadcast``
               has length 1 along those axes and is read by every unit
=============  ==============================================================

``module`` is the path of the innermost module the operation ran in, so that
``rf_table(..., depth=1)`` can fold a table to ResNet's ``layer1..layer4``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layers import AxisOp, Layer

KINDS = (
    "input", "window", "transpose", "upsample", "adaptive", "global", "mix", "pointwise", "merge",
)  # fmt: skip


@dataclass(frozen=True)
class Node:
    """One operation: its name, kind, the names of its inputs and its per-axis geometry."""

    name: str
    kind: str
    inputs: tuple[str, ...] = ()
    op: str = ""  # what it was, e.g. 'Conv2d' or 'max_pool2d'
    axes: tuple[AxisOp, ...] = ()
    module: str = ""  # path of the innermost module it ran in ('' at the top level)
    broadcast: tuple[tuple[int, ...], ...] = ()  # per input: axes along which it broadcasts


def chain(layers: list[Layer], ndim: int) -> list[Node]:
    """The graph of a plain stack of layers."""
    nodes = [Node("input", "input")]
    used = {"input"}
    for i, layer in enumerate(layers):
        name = layer.name or f"layer{i + 1}"
        base, k = name, 2
        while name in used:  # names must be unique; keep the learner's, numbered
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        nodes.append(Node(name, "window", (nodes[-1].name,), "Layer", layer.axes(ndim), name))
    return nodes


def select(nodes: list[Node], output: str, modules: dict[str, str] | None = None) -> str:
    """The node called ``output``, or the output of module path ``output``.

    ``modules`` maps a module path to the node its (last) call returned; a
    path without an entry falls back to the last node inside it.
    """
    if not isinstance(output, str):
        raise TypeError(
            f"output must be an operation name or a module path (a string), got {output!r} "
            f"({type(output).__name__})"
        )
    names = [n.name for n in nodes]
    if output in names:
        return output
    if modules and output in modules:
        return modules[output]
    inside = [n for n in names if n.startswith(output + ".")]
    if not inside:
        shown = names if len(names) <= 40 else [*names[:20], "...", *names[-10:]]
        raise ValueError(
            f"output={output!r} is not an operation or module path of this network; "
            f"operations: {shown}"
        )
    return inside[-1]


def ancestors(nodes: list[Node], last: str) -> list[Node]:
    """The nodes ``last`` depends on (itself included, input first), in order."""
    keep = {last}
    for node in reversed(nodes):
        if node.name in keep:
            keep.update(node.inputs)
    index = [n.name for n in nodes].index(last)
    return [n for n in nodes[: index + 1] if n.name in keep]
