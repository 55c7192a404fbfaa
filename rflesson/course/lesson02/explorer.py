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
from .figures import (
    MIN_WIDTH,
    LayerStack,
    Panel,
    draw_grid,
    draw_layered,
    draw_padded_row,
    format_signed,
    format_span,
    label_width,
    layer_stack,
)


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


MAX_INPUT = 32  # the input-size slider's largest value
MAX_PADDING = 3  # the padding slider's largest value


def _count(n: int, noun: str) -> str:
    """``1 unit``, ``3 units``: every count the explorer prints agrees with its number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _empty_layer_problem(layer: Layer, number: int, n_in: int, smallest: int) -> str:
    """Why layer ``number`` has no output, and what would give it one, in a few sentences."""
    (k,), (s,), (d,) = layer.kernel, layer.stride, layer.dilation
    p = layer.padding(1)[0][0]
    span = dilated_kernel_size(k, d)
    where = "the input" if number == 1 else f"layer {number - 1}'s output"
    size = _count(n_in, "pixel" if number == 1 else "unit")
    padded = f"{n_in + 2 * p} with its padding of {p} on each side" if p else "with no padding"
    smaller = "kernel, dilation or stride" if s > 1 and number > 1 else "kernel or dilation"
    needs = f"This stack needs an input of at least {_count(smallest, 'pixel')}"
    larger = ["the input larger"] if smallest <= MAX_INPUT else []
    if smallest > MAX_INPUT:
        needs += f", more than this demo's {MAX_INPUT}"
    make = larger + [f"the {smaller} smaller"] + (["the padding larger"] if p < MAX_PADDING else [])
    fixes = "make " + (f"{', '.join(make[:-1])} or {make[-1]}" if len(make) > 1 else make[0])
    if number > 1:  # layer 1 itself is empty: fewer layers would not help
        fixes += ", or use fewer layers"
    return (
        f"Layer {number} has nothing to output. It reads {where}: {size}, {padded}. Its window "
        f"spans {_count(span, 'position')} (kernel {k}, dilation {d}: d·(k−1)+1), wider than "
        f"that, so it fits nowhere. {needs}: {fixes}."
    )


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
        smallest = min_input_size(chain(layers, 1))
        problem = _empty_layer_problem(layers[empty - 1], empty, lengths[-1], smallest)
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
    ax = Panel(fig, (0.05, 0.05, 0.9, 0.9))
    n_in, p = result.lengths[-1], result.padding
    span = dilated_kernel_size(result.kernel, result.dilation)
    draw_padded_row(ax, np.arange(-p, n_in + p), n_in, (p, p))
    ax.add_patch(
        Rectangle((-p - 0.5, -1.6), span, 0.7, facecolor="none", edgecolor=COLORS["warn"], lw=2)
    )
    ax.text(-p - 0.5, -1.25, f" window of layer {result.empty_layer}: {span} positions",
            va="center", color=COLORS["warn"], fontsize=9)  # fmt: skip
    if result.empty_layer == 1:
        what = f"input: {_count(n_in, 'pixel')}"
    else:
        what = f"output of layer {result.empty_layer - 1}: {_count(n_in, 'unit')}"
    padded = f"{what} + padding {p} on each side (hatched)" if p else f"{what}, no padding"
    ax.text(-p - 0.5, 0.6, padded, va="bottom", fontsize=9)
    ax.text(
        0.0, 0.98,
        f"Layer {result.empty_layer} has an empty output: its window ({span} positions) is "
        f"wider\nthan its padded input ({n_in + 2 * p}), so it fits nowhere.\n"
        f"This stack needs an input of at least {_count(result.min_input, 'pixel')}"
        + ("." if result.min_input <= MAX_INPUT else f", more than this demo's {MAX_INPUT}."),
        transform=ax.transAxes, ha="left", va="top", color=COLORS["warn"], fontsize=10,
    )  # fmt: skip
    ax.set_xlim(-p - 1.5, max(n_in + p, span - p, MIN_WIDTH) + 0.5)
    ax.set_ylim(-2.4, 3.2)


def draw_exploration(fig: Figure, result: Exploration) -> None:
    """Left: every feature map as a row (the layered picture); right: the input in 2-D.

    Drawn on panels, not Axes: an Axes would cost more than the picture (see
    :class:`~rflesson.course.lesson02.figures.Panel`).
    """
    if result.problem:
        _draw_problem(fig, result)
        return
    fig_width = fig.get_size_inches()[0]
    left = (label_width(result.stack) + 0.15) / fig_width  # room for the row labels
    draw_layered(Panel(fig, (left, 0.03, LAYERED_END - left, 0.87)), result.stack)
    u = result.shown_unit
    draw_grid(_square_panel(fig, GRID_AREA), result.stack, level=0,
              title=f"input in 2-D, unit ({u}, {u})", numbers=False)  # fmt: skip


LAYERED_END = 0.70  # the layered picture ends here (figure fraction); its labels set its start
GRID_AREA = (0.72, 0.03, 0.27, 0.87)  # the 2-D grid: the largest square that fits here


def _square_panel(fig: Figure, area: tuple[float, float, float, float]) -> Panel:
    """The largest square panel centred in ``area``: the 2-D grid's cells stay square."""
    left, bottom, width, height = area
    fig_w, fig_h = fig.get_size_inches()
    side = min(width * fig_w, height * fig_h)  # inches
    w, h = side / fig_w, side / fig_h
    return Panel(fig, (left + (width - w) / 2, bottom + (height - h) / 2, w, h))


def describe_exploration(result: Exploration) -> str:
    """The numbers, as one or two HTML lines."""
    if result.problem:
        return f'<span style="color:{COLORS["warn"]}">{result.problem}</span>'
    lo, hi = result.clipped
    real = f"real pixels {format_span(lo, hi)}" if lo <= hi else "no real pixel: only padding"
    text = (
        f"Unit <b>{result.shown_unit}</b> of layer {result.depth}: RF size <b>{result.size}</b> "
        f"(closed form: {result.closed_form}), jump <b>{result.jump}</b>, "
        f"start <b>{format_signed(result.start)}</b>; unit u is centred at "
        f"{format_signed(result.center)} + {result.jump}·u. "
        f"Its field is input {format_span(*result.region)}; {real}."
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
        "input_size": int_slider("input size", input_size, 1, MAX_INPUT),
        "kernel": int_slider("kernel k", kernel, 1, 7),
        "stride": int_slider("stride s", stride, 1, 4),
        "padding": int_slider("padding p", padding, 0, MAX_PADDING),
        "dilation": int_slider("dilation d", dilation, 1, 4),
        "depth": int_slider("layers", depth, 1, 6),
        "unit": int_slider("output unit", unit, 0, 31),
    }
    return LiveFigure(
        controls, explore_rf, draw_exploration, describe=describe_exploration, figsize=(8, 3.2)
    )
