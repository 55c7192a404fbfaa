"""The start-here demo: how many times does a window fit along an input?

``sliding_window`` is the pure computation; ``draw_sliding_window`` draws it as
a strip of input pixels with one bar per window position; and
``output_size_demo`` wires both to sliders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..._validate import as_int
from ...sizes import conv_output_size
from ..i18n import _, ngettext
from ..style import COLORS
from ..widgets import LiveFigure, int_slider


@dataclass(frozen=True)
class SlidingWindow:
    """Where a window of ``kernel`` pixels lands along a padded input."""

    input_size: int
    kernel: int
    stride: int
    padding: int
    n_out: int  # output length; 0 when the window does not fit
    starts: tuple[int, ...]  # first pixel of each window (negative: in the padding)
    never_seen: tuple[int, ...]  # input pixels that no window covers
    padding_only: tuple[int, ...]  # windows that see nothing but padding
    formula: str
    problem: str | None = None


def sliding_window(
    input_size: int, kernel: int, stride: int = 1, padding: int = 0
) -> SlidingWindow:
    """Compute every window position of a 1-D convolution or pooling layer.

    Never raises for settings the sliders can reach: a window that does not
    fit gives ``n_out == 0`` and a ``problem`` explaining why.

    >>> sliding_window(7, kernel=3, stride=2, padding=1).starts
    (-1, 1, 3, 5)
    """
    i = as_int("input_size", input_size, minimum=1)
    k = as_int("kernel", kernel, minimum=1)
    s = as_int("stride", stride, minimum=1)
    p = as_int("padding", padding, minimum=0)
    formula = f"o = floor(({i} + 2·{p} − {k}) / {s}) + 1"
    try:
        n_out = conv_output_size(i, k, s, p)
    except ValueError:
        padded = i + 2 * p
        problem = ngettext(
            "The window ({k} pixels) is wider than the padded input ({i} + 2·{p} = {padded} "
            "pixel): it fits nowhere, so the output would be empty. Make the input or the "
            "padding larger, or the kernel smaller.",
            "The window ({k} pixels) is wider than the padded input ({i} + 2·{p} = {padded} "
            "pixels): it fits nowhere, so the output would be empty. Make the input or the "
            "padding larger, or the kernel smaller.",
            padded,
        ).format(k=k, i=i, p=p, padded=padded)
        return SlidingWindow(i, k, s, p, 0, (), tuple(range(i)), (), formula, problem)
    starts = tuple(-p + j * s for j in range(n_out))
    covered = {x for start in starts for x in range(start, start + k)}
    never_seen = tuple(x for x in range(i) if x not in covered)
    padding_only = tuple(j for j, a in enumerate(starts) if a + k <= 0 or a >= i)
    return SlidingWindow(
        i, k, s, p, n_out, starts, never_seen, padding_only, f"{formula} = {n_out}"
    )


#: The demo's slider ranges.  The demo draws every setting in one fixed frame,
#: wide enough for the largest, so that pixels keep their place and size while
#: a slider moves.
DEMO_RANGES = {"input_size": (1, 16), "kernel": (1, 9), "stride": (1, 5), "padding": (0, 4)}

_ROW_PITCH = 0.8  # vertical distance between two window bars, in pixel widths
_LABEL_ROOM = 3.5  # room left of the strip for the "input" and "out j" labels, in pixel widths
_MIN_LABEL_GAP_PX = 13  # "out j" labels closer than this (in screen pixels) would overlap


@dataclass(frozen=True)
class Frame:
    """The horizontal extent of a sliding-window drawing, in input pixels."""

    left: float
    right: float

    @classmethod
    def fitting(cls, window: SlidingWindow) -> Frame:
        """Just wide enough for ``window``: its padded input and its bars."""
        i, k, p = window.input_size, window.kernel, window.padding
        return cls(-p - _LABEL_ROOM, max(i + p, k - p) + 0.5)

    @classmethod
    def for_demo(cls) -> Frame:
        """Wide enough for every setting the demo's sliders reach."""
        p_max = DEMO_RANGES["padding"][1]
        widest = max(DEMO_RANGES["input_size"][1] + p_max, DEMO_RANGES["kernel"][1])
        return cls(-p_max - _LABEL_ROOM, widest + 0.5)


def _cells(xs: list[int], y: float, **style) -> PatchCollection:
    """One row of unit squares starting at each x, as a single artist (fast to draw)."""
    return PatchCollection([Rectangle((x, y), 1, 1) for x in xs], **style)


def _bottom(fig: Figure, ax: Axes, frame: Frame, needed: float, top: float) -> float:
    """Lower y limit: square pixels when everything fits, squeezed rows when it does not."""
    width_in, height_in = fig.get_size_inches()
    box = ax.get_position()
    units_per_inch = (frame.right - frame.left) / (width_in * box.width)
    square = height_in * box.height * units_per_inch  # y units visible at square pixels
    return top - max(needed, square)


def draw_sliding_window(fig: Figure, window: SlidingWindow, frame: Frame | None = None) -> None:
    """Draw the padded input as a strip of cells and one bar per window position.

    ``frame`` fixes the horizontal extent (the demo uses :meth:`Frame.for_demo`
    so that nothing moves but what the slider changes); by default the
    drawing just fits ``window``.  Pixels are square unless there are too many
    bars to fit, in which case the rows are squeezed and only every few bars
    are labelled.
    """
    frame = Frame.fitting(window) if frame is None else frame
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.86))
    ax.axis("off")
    i, k, p = window.input_size, window.kernel, window.padding
    inside = list(range(0, i))
    padding = [x for x in range(-p, i + p) if not 0 <= x < i]
    edge = {"edgecolor": COLORS["input_edge"], "linewidth": 1.0}
    ax.add_collection(_cells(inside, 0, facecolor=COLORS["input"], **edge))
    if padding:
        ax.add_collection(_cells(padding, 0, facecolor=COLORS["padding"], hatch="//", **edge))
    if window.never_seen:
        outline = {"facecolor": "none", "edgecolor": COLORS["warn"], "linewidth": 2.5}
        ax.add_collection(_cells(list(window.never_seen), 0, **outline))
    for x in range(-p, i + p):
        ax.text(x + 0.5, 1.15, str(x), ha="center", va="bottom", fontsize=8, color=COLORS["muted"])
    # TRANSLATORS: label of the strip of input pixels ("input" is kept in Vietnamese).
    ax.text(-p - 0.3, 0.5, _("input"), ha="right", va="center")

    rows = max(window.n_out, 1)
    top = 1.9
    ax.set_xlim(frame.left, frame.right)
    bottom = _bottom(fig, ax, frame, needed=top + 1.2 + _ROW_PITCH * rows, top=top)
    ax.set_ylim(bottom, top)
    # Screen pixels between two bars: label only as many rows as fit.
    row_px = _ROW_PITCH * ax.get_position().height * fig.get_size_inches()[1] * fig.dpi
    row_px /= top - bottom
    labelled = _labelled_rows(window.n_out, max(1, math.ceil(_MIN_LABEL_GAP_PX / row_px)))

    bars, colours = [], []
    for j, start in enumerate(window.starts):
        y = -1.0 - _ROW_PITCH * j
        bars.append(Rectangle((start, y), k, 0.75 * _ROW_PITCH))
        colours.append(COLORS["muted"] if j in window.padding_only else COLORS["rf"])
        if j in labelled:
            # TRANSLATORS: label of output pixel number {j}, left of its window bar; keep it short.
            label = _("out {j}").format(j=j)
            ax.text(-p - 0.3, y + 0.3, label, ha="right", va="center", fontsize=9)
    if bars:
        ax.add_collection(PatchCollection(bars, facecolor=colours, alpha=0.85, linewidth=0))
    if window.problem:
        ax.add_patch(
            Rectangle((-p, -1.0), k, 0.6, facecolor="none", edgecolor=COLORS["warn"], lw=2)
        )
        ax.text(-p, -1.6, _("the window does not fit"), color=COLORS["warn"], va="top")
    title = window.formula if not window.problem else _("No output: see the note above")
    ax.text(0.5, 1.0, title, transform=ax.transAxes, ha="center", va="bottom", fontsize=11)


def _labelled_rows(rows: int, every: int) -> set[int]:
    """Rows that get an "out j" label: every ``every``-th one, and the last one if it fits.

    >>> sorted(_labelled_rows(24, 2))
    [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 23]
    """
    labelled = set(range(0, rows, every))
    last = rows - 1
    if last > 0 and last not in labelled:
        if max(labelled) > 0:
            labelled.discard(max(labelled))  # too close to the last one for both to fit
        if last - max(labelled) >= every:
            labelled.add(last)
    return labelled


def _draw_in_demo_frame(fig: Figure, window: SlidingWindow) -> None:
    """The demo's drawing: every setting in the same frame (see :data:`DEMO_RANGES`)."""
    draw_sliding_window(fig, window, Frame.for_demo())


def describe_sliding_window(window: SlidingWindow) -> str:
    """One HTML line for the demo's text area."""
    if window.problem:
        return f'<span style="color:{COLORS["warn"]}">{window.problem}</span>'
    sentences = [
        _("Output length <b>{n}</b>: {formula}.").format(n=window.n_out, formula=window.formula)
    ]
    if window.never_seen:
        pixels = ", ".join(str(x) for x in window.never_seen)
        sentences.append(
            ngettext(
                "Input pixel {pixels} (red outline) is never seen by any window.",
                "Input pixels {pixels} (red outline) are never seen by any window.",
                len(window.never_seen),
            ).format(pixels=pixels)
        )
    if window.padding_only:
        sentences.append(
            ngettext(
                "The grey window sees only padding.",
                "Grey windows see only padding.",
                len(window.padding_only),
            )
        )
    return " ".join(sentences)


def output_size_demo(input_size: int = 7, kernel: int = 3, stride: int = 2, padding: int = 1):
    """Sliders for input size, kernel, stride and padding, with the window drawn live."""
    values = {"input_size": input_size, "kernel": kernel, "stride": stride, "padding": padding}
    labels = {
        "input_size": _("input size i"),
        "kernel": _("kernel k"),
        "stride": _("stride s"),
        "padding": _("padding p"),
    }
    controls = {
        name: int_slider(labels[name], values[name], *DEMO_RANGES[name]) for name in DEMO_RANGES
    }
    return LiveFigure(
        controls,
        sliding_window,
        _draw_in_demo_frame,
        describe=describe_sliding_window,
        figsize=(7.5, 3.6),
    )
