"""A network as a small graph of window operations: what the RF engine walks.

A graph is a list of ``Node`` in topological order; the first is the input.
Layer lists become chains; ``rflesson.trace`` turns a ``torch.nn.Module``
into the same form.  Each node says how its output units read its inputs:

=============  ==============================================================
``kind``       meaning (``axes``: one operation per spatial axis)
=============  ==============================================================
``input``      the network input (no axes)
``window``     convolution, pooling, padding, cropping (``Window`` per axis)
``transpose``  transposed convolution (``Transposed`` per axis)
``upsample``   interpolation (``Resample`` per axis)
``adaptive``   adaptive pooling to more than one bin (``Collapse`` per axis)
``global``     global pooling or flatten: every unit reads the whole input
               (``Collapse(1)`` per axis)
``pointwise``  reads the same position of its one input (activations, norms,
               dropout, 1x1 convolutions are ``window`` with kernel 1)
``merge``      ``+``, ``*``, ``torch.cat`` on channels...: unit ``u`` reads
               unit ``u`` of every input (an input of length 1 broadcasts)
=============  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from .layers import AxisOp, Layer

KINDS = ("input", "window", "transpose", "upsample", "adaptive", "global", "pointwise", "merge")


@dataclass(frozen=True)
class Node:
    """One operation: its name, kind, the names of its inputs and its per-axis geometry."""

    name: str
    kind: str
    inputs: tuple[str, ...] = ()
    op: str = ""  # what it was, e.g. 'Conv2d' or 'F.max_pool2d'
    axes: tuple[AxisOp, ...] = ()


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
        nodes.append(Node(name, "window", (nodes[-1].name,), "Layer", layer.axes(ndim)))
    return nodes


def select(nodes: list[Node], output: str) -> str:
    """The node called ``output``, or the last node inside module path ``output``."""
    names = [n.name for n in nodes]
    if output in names:
        return output
    inside = [n for n in names if n.startswith(output + ".")]
    if not inside:
        raise ValueError(
            f"output={output!r} is not an operation or module path of this network; "
            f"operations: {names}"
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
