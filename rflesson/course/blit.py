"""Fast PNG frames of a figure whose artists are updated in place (for live demos).

A slider demo redraws the same figure again and again, and most of it
(axes, ticks, labels) does not change.  Drawing text is what costs most, so
:class:`BlitCanvas` draws the unchanging parts once, keeps them as a
picture, and for each frame pastes that picture back and draws only the
artists that changed on top ("blitting").  A demo pairs it with a view
class that builds its artists once and then only calls ``set_data`` and
friends, and hands the pair to :class:`rflesson.course.widgets.LiveFigure`
as ``render``.

Saving the figure the usual way (``fig.savefig``) still draws everything.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

#: zlib level of the frames: 1 encodes several times faster than the default 6,
#: and the PNG of a plot is barely larger.
PNG_COMPRESSION = 1


class BlitCanvas:
    """Renders one figure to PNG frames, redrawing only the artists that change.

    ``png(changing, key)``: the artists in ``changing`` are drawn fresh on
    every frame; everything else is drawn once and reused while ``key`` stays
    the same.  Make ``key`` describe whatever the unchanging parts depend on
    (axis limits, tick labels): a new key redraws the whole figure.
    """

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.canvas = FigureCanvasAgg(figure)
        self._background = None
        self._key: Hashable = None
        self.full_draws = 0  # how often the whole figure was drawn (for tests)

    def png(self, changing: Sequence[Artist], key: Hashable) -> bytes:
        """One frame as PNG bytes."""
        changing = _with_spines(changing)
        for artist in changing:
            artist.set_animated(True)  # left out of the full draw below
        if self._background is None or key != self._key:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._key = key
            self.full_draws += 1
        else:
            self.canvas.restore_region(self._background)
        for artist in sorted(changing, key=lambda a: a.get_zorder()):  # as a full draw would
            if artist.get_visible():
                self.figure.draw_artist(artist)
        return _encode(self.canvas)


def _with_spines(changing: Sequence[Artist]) -> list[Artist]:
    """``changing`` and the spines of every axes it draws in: a full draw puts the
    spines over an image or a line that reaches the axes' edge, and so must a frame."""
    artists = list(changing)
    axes = {id(a.axes): a.axes for a in artists if a.axes is not None and a.axes.axison}
    for ax in axes.values():
        artists += [spine for spine in ax.spines.values() if spine not in artists]
    return artists


class View(Protocol):
    """A demo's figure, built once: ``update(result)`` changes its artists in place and
    returns the artists that changed and the key of everything else (see :meth:`BlitCanvas.png`)."""

    figure: Figure

    def update(self, result) -> tuple[list[Artist], Hashable]: ...


class Renderer:
    """:class:`rflesson.course.widgets.LiveFigure`'s ``render`` for a view class.

    The first frame builds the view on the demo's figure; later frames only
    update it and blit.  ``Renderer(MyView)`` is all a demo needs.
    """

    def __init__(self, make_view: Callable[[Figure], View]) -> None:
        self.make_view = make_view
        self.view: View | None = None
        self.canvas: BlitCanvas | None = None

    def __call__(self, figure: Figure, result) -> bytes:
        if self.view is None or self.view.figure is not figure:
            figure.clear()
            self.view, self.canvas = self.make_view(figure), BlitCanvas(figure)
        changing, key = self.view.update(result)
        return self.canvas.png(changing, key)


def figure_png(figure: Figure) -> bytes:
    """The whole figure drawn afresh, as PNG bytes encoded like a frame (fast)."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return _encode(canvas)


def _encode(canvas: FigureCanvasAgg) -> bytes:
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = image.convert("RGB")  # the figure is opaque: a quarter less to encode
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=PNG_COMPRESSION)
    return buffer.getvalue()


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten at or above ``value``.

    Axis limits that move in such steps keep their tick labels across small
    changes of the data, so :class:`BlitCanvas` can reuse the drawn axes.

    >>> nice_ceiling(0.13), nice_ceiling(41.0)
    (0.15, 50.0)
    """
    if not value > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
        if step * power >= value * (1 - 1e-12):
            return round(step * power, 12)
    return round(10 * power, 12)
