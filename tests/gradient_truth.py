"""The pixels one output unit depends on, measured by back-propagation (a test helper).

``support(model, sizes, unit)`` prepares a float64 copy of the model exactly
as ``gradient_rf`` does (positive constant weights, dense pooling for max
pooling, norms as the identity; see ``rflesson.gradient``), feeds it the same
positive input and
back-propagates from one output unit.  It returns, per spatial axis, the runs
of input pixels with a non-zero gradient: the ground truth for
``input_region(...).parts`` and ``.clipped``.  It never reads the geometry.
"""

from __future__ import annotations

import torch

from rflesson.gradient import _DenseMax, _prepare, probe_input


def support(model, sizes: tuple[int, ...], unit: tuple[int, ...], channels: int = 1):
    """Per axis, the runs ``((first, last), ...)`` of pixels that reach output ``unit``."""
    twin = _prepare(model)
    x = probe_input(channels, sizes)
    with _DenseMax():
        y = twin(x)
    if isinstance(y, tuple | list):
        y = y[0]
    grad_out = torch.zeros_like(y)
    grad_out[(0, slice(None), *unit)] = 1.0
    (g,) = torch.autograd.grad(y, x, grad_out)
    seen = g.abs().sum(dim=(0, 1)) > 0
    runs = []
    for axis in range(seen.dim()):
        others = tuple(a for a in range(seen.dim()) if a != axis)
        line = (seen.any(dim=others) if others else seen).tolist()
        runs.append(_runs(line))
    return tuple(runs)


def _runs(line: list[bool]) -> tuple[tuple[int, int], ...]:
    found, start = [], None
    for i, on in enumerate([*line, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            found.append((start, i - 1))
            start = None
    return tuple(found)


def box(runs) -> tuple[int, int]:
    """The bounding box of some runs (``(1, 0)`` when there are none)."""
    return (runs[0][0], runs[-1][1]) if runs else (1, 0)
