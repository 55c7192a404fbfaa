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
from ..i18n import _, ngettext
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


def _what_it_reads(number: int, n_in: int, p: int) -> str:
    """``Layer 2 has nothing to output. It reads layer 1's output: 1 unit, with no padding.``"""
    if p:
        # TRANSLATORS: {total} is the length of the map with its padding added on both sides
        padded = _("{total} with its padding of {p} on each side").format(total=n_in + 2 * p, p=p)
    else:
        padded = _("with no padding")
    if number == 1:
        text = ngettext(
            "Layer {layer} has nothing to output. It reads the input: {n} pixel, {padded}.",
            "Layer {layer} has nothing to output. It reads the input: {n} pixels, {padded}.",
            n_in,
        )
    else:
        text = ngettext(
            "Layer {layer} has nothing to output. It reads layer {below}'s output: {n} unit, "
            "{padded}.",
            "Layer {layer} has nothing to output. It reads layer {below}'s output: {n} units, "
            "{padded}.",
            n_in,
        )
    return text.format(layer=number, below=number - 1, n=n_in, padded=padded)


def _fixes(number: int, stride: int, p: int, smallest: int) -> str:
    """What would give the empty layer an output: ``make the input larger, ... or ...``."""
    changes = [_("the input larger")] if smallest <= MAX_INPUT else []
    if stride > 1 and number > 1:  # a stride below the empty layer shrank its input
        changes.append(_("the kernel, dilation or stride smaller"))
    else:
        changes.append(_("the kernel or dilation smaller"))
    if p < MAX_PADDING:
        changes.append(_("the padding larger"))
    if len(changes) > 1:
        # TRANSLATORS: the last two items of a list of changes ("A, B or C")
        changes = [_("{items} or {last}").format(items=", ".join(changes[:-1]), last=changes[-1])]
    # TRANSLATORS: {changes} is a list like "the input larger, the padding larger or ..."
    fixes = _("make {changes}").format(changes=changes[0])
    if number > 1:  # layer 1 itself is empty: fewer layers would not help
        fixes = _("{fixes}, or use fewer layers").format(fixes=fixes)
    return fixes


def _empty_layer_problem(layer: Layer, number: int, n_in: int, smallest: int) -> str:
    """Why layer ``number`` has no output, and what would give it one, in a few sentences."""
    (k,), (s,), (d,) = layer.kernel, layer.stride, layer.dilation
    p = layer.padding(1)[0][0]
    span = dilated_kernel_size(k, d)
    window = ngettext(
        "Its window spans {span} position (kernel {k}, dilation {d}: d·(k−1)+1), wider than "
        "that, so it fits nowhere.",
        "Its window spans {span} positions (kernel {k}, dilation {d}: d·(k−1)+1), wider than "
        "that, so it fits nowhere.",
        span,
    ).format(span=span, k=k, d=d)
    if smallest > MAX_INPUT:
        needs = ngettext(
            "This stack needs an input of at least {n} pixel, more than this demo's {most}: "
            "{fixes}.",
            "This stack needs an input of at least {n} pixels, more than this demo's {most}: "
            "{fixes}.",
            smallest,
        )
    else:
        needs = ngettext(
            "This stack needs an input of at least {n} pixel: {fixes}.",
            "This stack needs an input of at least {n} pixels: {fixes}.",
            smallest,
        )
    fixes = _fixes(number, s, p, smallest)
    needs = needs.format(n=smallest, most=MAX_INPUT, fixes=fixes)
    return f"{_what_it_reads(number, n_in, p)} {window} {needs}"


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
        if n_out == 1:
            note = _("The output has only 1 unit, unit 0: showing unit {shown}.")
        else:
            note = ngettext(
                "The output has only {n} unit, 0 to {last}: showing unit {shown}.",
                "The output has only {n} units, 0 to {last}: showing unit {shown}.",
                n_out,
            )
        note = note.format(n=n_out, last=n_out - 1, shown=shown)
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
    window = ngettext(
        "window of layer {layer}: {span} position",
        "window of layer {layer}: {span} positions",
        span,
    ).format(layer=result.empty_layer, span=span)
    ax.text(-p - 0.5, -1.25, " " + window, va="center", color=COLORS["warn"], fontsize=9)
    ax.text(-p - 0.5, 0.6, _padded_input(result), va="bottom", fontsize=9)
    ax.text(0.0, 0.98, _problem_title(result), transform=ax.transAxes, ha="left", va="top",
            color=COLORS["warn"], fontsize=10)  # fmt: skip
    ax.set_xlim(-p - 1.5, max(n_in + p, span - p, MIN_WIDTH) + 0.5)
    ax.set_ylim(-2.4, 3.2)


def _padded_input(result: Exploration) -> str:
    """The label over the empty layer's input: ``input: 1 pixel + padding 1 on each side``."""
    n_in, p = result.lengths[-1], result.padding
    if result.empty_layer == 1:
        what = ngettext("input: {n} pixel", "input: {n} pixels", n_in)
    else:
        what = ngettext("output of layer {below}: {n} unit", "output of layer {below}: {n} units",
                        n_in)  # fmt: skip
    what = what.format(n=n_in, below=result.empty_layer - 1)
    if p:
        return _("{what} + padding {p} on each side (hatched)").format(what=what, p=p)
    return _("{what}, no padding").format(what=what)


def _problem_title(result: Exploration) -> str:
    """The explanation drawn over an empty layer, in three short lines."""
    n_in, p = result.lengths[-1], result.padding
    span = dilated_kernel_size(result.kernel, result.dilation)
    first = ngettext(
        "Layer {layer} has an empty output: its window ({span} position) is wider\nthan its "
        "padded input ({total}), so it fits nowhere.",
        "Layer {layer} has an empty output: its window ({span} positions) is wider\nthan its "
        "padded input ({total}), so it fits nowhere.",
        span,
    ).format(layer=result.empty_layer, span=span, total=n_in + 2 * p)
    if result.min_input <= MAX_INPUT:
        needs = ngettext(
            "This stack needs an input of at least {n} pixel.",
            "This stack needs an input of at least {n} pixels.",
            result.min_input,
        )
    else:
        needs = ngettext(
            "This stack needs an input of at least {n} pixel, more than this demo's {most}.",
            "This stack needs an input of at least {n} pixels, more than this demo's {most}.",
            result.min_input,
        )
    return first + "\n" + needs.format(n=result.min_input, most=MAX_INPUT)


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
    title = _("input in 2-D, unit ({row}, {column})").format(row=u, column=u)
    draw_grid(_square_panel(fig, GRID_AREA), result.stack, level=0, title=title, numbers=False)


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
    if lo <= hi:
        real = _("real pixels {span}").format(span=format_span(lo, hi))
    else:
        real = _("no real pixel: only padding")
    text = _(
        "Unit <b>{unit}</b> of layer {layer}: RF size <b>{size}</b> (closed form: {closed}), "
        "jump <b>{jump}</b>, start <b>{start}</b>; unit u is centred at {centre} + {jump}·u. "
        "Its field is input {field}; {real}."
    ).format(
        unit=result.shown_unit,
        layer=result.depth,
        size=result.size,
        closed=result.closed_form,
        jump=result.jump,
        start=format_signed(result.start),
        centre=format_signed(result.center),
        field=format_span(*result.region),
        real=real,
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
        "input_size": int_slider(_("input size"), input_size, 1, MAX_INPUT),
        "kernel": int_slider(_("kernel k"), kernel, 1, 7),
        "stride": int_slider(_("stride s"), stride, 1, 4),
        "padding": int_slider(_("padding p"), padding, 0, MAX_PADDING),
        "dilation": int_slider(_("dilation d"), dilation, 1, 4),
        "depth": int_slider(_("layers"), depth, 1, 6),
        "unit": int_slider(_("output unit"), unit, 0, 31),
    }
    return LiveFigure(
        controls, explore_rf, draw_exploration, describe=describe_exploration, figsize=(8, 3.2)
    )
