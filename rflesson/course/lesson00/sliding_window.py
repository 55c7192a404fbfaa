"""The start-here demo: how many times does a window fit along an input?

``sliding_window`` is the pure computation; ``draw_sliding_window`` draws it as
a strip of input pixels with one bar per window position; and
``output_size_demo`` wires both to sliders.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..._validate import as_int
from ...sizes import conv_output_size
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
        problem = (
            f"The window ({k} pixels) is wider than the padded input "
            f"({i} + 2·{p} = {i + 2 * p} pixels): it fits nowhere, so the output would be "
            f"empty. Make the input or the padding larger, or the kernel smaller."
        )
        return SlidingWindow(i, k, s, p, 0, (), tuple(range(i)), (), formula, problem)
    starts = tuple(-p + j * s for j in range(n_out))
    covered = {x for start in starts for x in range(start, start + k)}
    never_seen = tuple(x for x in range(i) if x not in covered)
    padding_only = tuple(j for j, a in enumerate(starts) if a + k <= 0 or a >= i)
    return SlidingWindow(
        i, k, s, p, n_out, starts, never_seen, padding_only, f"{formula} = {n_out}"
    )


def _cell(ax, x: float, y: float, colour: str, **kwargs) -> None:
    ax.add_patch(
        Rectangle((x, y), 1, 1, facecolor=colour, edgecolor=COLORS["input_edge"], **kwargs)
    )


def draw_sliding_window(fig: Figure, window: SlidingWindow) -> None:
    """Draw the padded input as a strip of cells and one bar per window position."""
    ax = fig.add_subplot()
    i, k, p = window.input_size, window.kernel, window.padding
    for x in range(-p, i + p):
        inside = 0 <= x < i
        colour = COLORS["input"] if inside else COLORS["padding"]
        _cell(ax, x, 0, colour, hatch="" if inside else "//")
        ax.text(x + 0.5, 1.15, str(x), ha="center", va="bottom", fontsize=8, color=COLORS["muted"])
        if x in window.never_seen:
            ax.add_patch(Rectangle((x, 0), 1, 1, fill=False, edgecolor=COLORS["warn"], lw=2.5))
    ax.text(-p - 0.3, 0.5, "input", ha="right", va="center")
    for j, start in enumerate(window.starts):
        y = -1.0 - 0.8 * j
        colour = COLORS["muted"] if j in window.padding_only else COLORS["rf"]
        ax.add_patch(Rectangle((start, y), k, 0.6, facecolor=colour, alpha=0.85))
        ax.text(start - 0.2, y + 0.3, f"out {j}", ha="right", va="center", fontsize=9)
    if window.problem:
        ax.add_patch(
            Rectangle((-p, -1.0), k, 0.6, facecolor="none", edgecolor=COLORS["warn"], lw=2)
        )
        ax.text(-p, -1.6, "the window does not fit", color=COLORS["warn"], va="top")
    rows = max(window.n_out, 1)
    ax.set_xlim(min(-p, 0) - 3.5, max(i + p, k - p) + 0.5)
    ax.set_ylim(-1.2 - 0.8 * rows - 0.2, 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(window.formula if not window.problem else "No output: see the note above")


def describe_sliding_window(window: SlidingWindow) -> str:
    """One HTML line for the demo's text area."""
    if window.problem:
        return f'<span style="color:{COLORS["warn"]}">{window.problem}</span>'
    text = f"Output length <b>{window.n_out}</b>: {window.formula}."
    if window.never_seen:
        pixels = ", ".join(str(x) for x in window.never_seen)
        text += f" Input pixel(s) {pixels} (red outline) are never seen by any window."
    if window.padding_only:
        text += " Grey windows see only padding."
    return text


def output_size_demo(input_size: int = 7, kernel: int = 3, stride: int = 2, padding: int = 1):
    """Sliders for input size, kernel, stride and padding, with the window drawn live."""
    controls = {
        "input_size": int_slider("input size i", input_size, 1, 16),
        "kernel": int_slider("kernel k", kernel, 1, 9),
        "stride": int_slider("stride s", stride, 1, 5),
        "padding": int_slider("padding p", padding, 0, 4),
    }
    return LiveFigure(
        controls,
        sliding_window,
        draw_sliding_window,
        describe=describe_sliding_window,
        figsize=(7.5, 3.6),
    )
