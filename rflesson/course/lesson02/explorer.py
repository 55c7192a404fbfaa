"""The RF explorer: notebook 02's main demo, the article's layered picture made live.

A stack of ``depth`` identical layers (kernel, stride, padding, dilation)
on an input of ``input_size`` pixels.  :func:`explore_rf` follows one output
unit back to the input with the RF engine; :func:`draw_exploration` draws
every feature map as a row (which units the chosen one depends on) and the
input as a 2-D grid; :func:`rf_explorer` wires both to sliders.  Settings
that leave a layer with an empty output are explained, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..._validate import as_int
from ...graph import chain
from ...layers import Layer
from ...rf import min_input_size, receptive_field, rf_size
from ...sizes import dilated_kernel_size
from ..style import COLORS
from ..widgets import LiveFigure, int_slider
from .figures import LayerStack, draw_grid, draw_layered, draw_padded_row, layer_stack


@dataclass(frozen=True)
class Exploration:
    """What the explorer shows for one setting of the sliders.

    ``size``, ``jump``, ``start`` and ``center`` describe the last layer's
    receptive field (``rflesson.receptive_field``); ``region`` is the chosen
    unit's unclipped input region and ``clipped`` its real input pixels.
    ``closed_form`` is the article's formula (``rflesson.rf_size``) for the
    same stack.  When some layer's output would be empty, ``problem`` says
    which and why, ``empty_layer`` is its number (1-based) and the numbers
    are ``None``.
    """

    input_size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    depth: int
    unit: int  # the unit asked for
    shown_unit: int | None  # the unit drawn (the last one if ``unit`` is too large)
    lengths: tuple[int, ...]  # units in each map that exists, input first
    stack: LayerStack | None = None
    size: int | None = None
    jump: int | None = None
    start: int | None = None
    center: float | None = None
    region: tuple[int, int] | None = None
    clipped: tuple[int, int] | None = None
    closed_form: int | None = None
    note: str = ""
    problem: str | None = None
    empty_layer: int | None = None
    min_input: int | None = None


def _lengths(layers: list[Layer], input_size: int) -> tuple[tuple[int, ...], int | None]:
    """Units in each map, input first, up to the first layer whose output is empty."""
    lengths = [input_size]
    for k in range(1, len(layers) + 1):
        try:
            lengths.append(receptive_field(layers[:k], input_size).n_out)
        except ValueError:
            return tuple(lengths), k
    return tuple(lengths), None


def explore_rf(
    input_size: int = 9,
    kernel: int = 3,
    stride: int = 2,
    padding: int = 1,
    dilation: int = 1,
    depth: int = 2,
    unit: int = 1,
) -> Exploration:
    """Follow output ``unit`` of ``depth`` identical layers back to the input.

    Never raises for valid integers: a layer with an empty output gives a
    result whose ``problem`` explains it; a ``unit`` past the output's end is
    replaced by the last unit, with a ``note``.

    >>> r = explore_rf(9, kernel=3, stride=2, padding=1, depth=2, unit=1)
    >>> r.size, r.jump, r.region
    (7, 4, (1, 7))
    """
    n = as_int("input_size", input_size, minimum=1)
    k = as_int("kernel", kernel, minimum=1)
    s = as_int("stride", stride, minimum=1)
    p = as_int("padding", padding, minimum=0)
    d = as_int("dilation", dilation, minimum=1)
    depth = as_int("depth", depth, minimum=1)
    u = as_int("unit", unit, minimum=0)
    layers = [Layer(k, stride=s, padding=p, dilation=d)] * depth
    lengths, empty = _lengths(layers, n)
    settings = (n, k, s, p, d, depth, u)
    if empty is not None:
        n_in, span = lengths[-1], dilated_kernel_size(k, d)
        smallest = min_input_size(chain(layers, 1))
        where = "the input" if empty == 1 else f"layer {empty - 1}'s output"
        smaller = "kernel, dilation or stride" if s > 1 and empty > 1 else "kernel or dilation"
        problem = (
            f"Layer {empty} has nothing to output. It reads {where}: {n_in} units, "
            f"{n_in + 2 * p} with its padding of {p} on each side. Its window spans "
            f"{span} units (kernel {k}, dilation {d}: d·(k−1)+1), wider than that, so it fits "
            f"nowhere. This stack needs an input of at least {smallest}: make the input "
            f"larger, the {smaller} smaller, the padding larger, or use fewer layers."
        )
        return Exploration(
            *settings, None, lengths, problem=problem, empty_layer=empty, min_input=smallest
        )
    n_out = lengths[-1]
    shown = min(u, n_out - 1)
    note = ""
    if shown != u:
        units = "only 1 unit, unit 0" if n_out == 1 else f"only {n_out} units, 0 to {n_out - 1}"
        note = f"The output has {units}: showing unit {shown}."
    stack = layer_stack(layers, n, shown)
    out = stack.output
    return Exploration(
        *settings,
        shown,
        lengths,
        stack=stack,
        size=out.size,
        jump=out.jump,
        start=out.start,
        center=out.center,
        region=stack.maps[0].box,
        clipped=stack.clipped,
        closed_form=rf_size([k] * depth, [s] * depth, [d] * depth),
        note=note,
    )


def _draw_problem(fig: Figure, result: Exploration) -> None:
    """The empty layer's padded input and its window that does not fit, with the reason."""
    ax = fig.add_subplot()
    n_in, p = result.lengths[-1], result.padding
    span = dilated_kernel_size(result.kernel, result.dilation)
    x = np.arange(-p, n_in + p)
    draw_padded_row(ax, x, n_in)
    ax.add_patch(
        Rectangle((-p - 0.5, -1.6), span, 0.7, facecolor="none", edgecolor=COLORS["warn"], lw=2)
    )
    ax.text(-p - 0.5, -1.25, f" window of layer {result.empty_layer}: {span} units", va="center",
            color=COLORS["warn"], fontsize=9)  # fmt: skip
    where = "input" if result.empty_layer == 1 else f"output of layer {result.empty_layer - 1}"
    ax.text(-p - 0.5, 0.6, f"{where}: {n_in} units + padding {p} on each side", va="bottom",
            fontsize=9)  # fmt: skip
    ax.text(
        0.0, 0.98,
        f"Layer {result.empty_layer} has an empty output: its window ({span} units) is wider\n"
        f"than its padded input ({n_in + 2 * p} units), so it fits nowhere.\n"
        f"This stack needs an input of at least {result.min_input} pixels.",
        transform=ax.transAxes, ha="left", va="top", color=COLORS["warn"], fontsize=10,
    )  # fmt: skip
    ax.set_xlim(-p - 1.5, max(n_in + p, span - p) + 0.5)
    ax.set_ylim(-2.4, 3.2)
    ax.set_axis_off()


def draw_exploration(fig: Figure, result: Exploration) -> None:
    """Left: every feature map as a row (the layered picture); right: the input in 2-D."""
    if result.problem:
        _draw_problem(fig, result)
        return
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    draw_layered(left, result.stack)
    u = result.shown_unit
    draw_grid(right, result.stack, level=0, title=f"input in 2-D, unit ({u}, {u})", numbers=False)
    fig.subplots_adjust(left=0.23, right=0.98, bottom=0.04, top=0.9, wspace=0.15)


def describe_exploration(result: Exploration) -> str:
    """The numbers, as one or two HTML lines."""
    if result.problem:
        return f'<span style="color:{COLORS["warn"]}">{result.problem}</span>'
    first, last = result.region
    lo, hi = result.clipped
    real = f"real pixels {lo}…{hi}" if lo <= hi else "no real pixel: only padding"
    text = (
        f"Unit <b>{result.shown_unit}</b> of layer {result.depth}: RF size <b>{result.size}</b> "
        f"(closed form: {result.closed_form}), jump <b>{result.jump}</b>, "
        f"start <b>{result.start}</b>, centre {result.center:g} + {result.jump}·u. "
        f"It sees input {first}…{last}; {real}."
    )
    if result.note:
        text += f' <span style="color:{COLORS["warn"]}">{result.note}</span>'
    return text


def rf_explorer(
    input_size: int = 9,
    kernel: int = 3,
    stride: int = 2,
    padding: int = 1,
    dilation: int = 1,
    depth: int = 2,
    unit: int = 1,
) -> LiveFigure:
    """Sliders for the stack and the output unit; the layered picture redrawn live."""
    controls = {
        "input_size": int_slider("input size", input_size, 1, 32),
        "kernel": int_slider("kernel k", kernel, 1, 7),
        "stride": int_slider("stride s", stride, 1, 4),
        "padding": int_slider("padding p", padding, 0, 3),
        "dilation": int_slider("dilation d", dilation, 1, 4),
        "depth": int_slider("layers", depth, 1, 6),
        "unit": int_slider("output unit", unit, 0, 31),
    }
    return LiveFigure(
        controls, explore_rf, draw_exploration, describe=describe_exploration, figsize=(8, 3.2)
    )
