"""Blitted demos: a fast frame must show exactly what a full draw of the same result shows.

A demo with a ``render`` (:class:`rflesson.course.blit.Renderer`) draws most
frames by pasting back its unchanging parts and drawing only the artists its
view says changed.  If a view forgets one, the picture keeps a stale title or
a ghost of the old bars.  These tests move each demo through settings that
keep and that change its axes, then compare the last frame, pixel by pixel,
with the same result drawn afresh on a new figure.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from rflesson.course.blit import BlitCanvas, Renderer, figure_png, nice_ceiling
from rflesson.course.lesson01 import demos as bio_demos
from rflesson.course.lesson03 import demos as dilation_demos
from rflesson.course.lesson04 import demos as erf_demos
from rflesson.course.lesson05 import demos as init_demos
from rflesson.course.style import use_course_style


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _fresh_draw(demo) -> bytes:
    figure = Figure(figsize=demo.figure.get_size_inches())
    demo.draw(figure, demo.result)
    return figure_png(figure)


def _assert_frame_is_a_full_draw(demo) -> None:
    frame, full = _pixels(demo.image.value), _pixels(_fresh_draw(demo))
    assert frame.shape == full.shape
    differ = np.abs(frame - full).max(axis=-1) > 32  # a stale or missing mark, not antialiasing
    assert not differ.any(), f"{differ.sum()} pixels differ from a full draw"


#: each blitted demo and moves that both keep and change its drawn axes
MOVES = {
    "dilation explorer": (
        dilation_demos.dilation_explorer,
        [dict(r3=5), dict(r3=9), dict(r3=7), dict(r2=3), dict(depth=1, kernel=2, r1=1),
         dict(depth=6, kernel=7, r1=16, r2=16, r3=16, r4=16, r5=16, r6=16), dict(r6=15)],
    ),
    "ERF explorer": (
        erf_demos.erf_explorer,
        [dict(depth=5), dict(depth=6), dict(dropout=0.1), dict(dropout=0.2), dict(dropout=0.3),
         dict(depth=1), dict(depth=12)],
    ),
    "init explorer": (
        init_demos.init_explorer,
        [dict(depth=5), dict(depth=6), dict(strength=0.5), dict(depth=1), dict(depth=11)],
    ),
    "spot size": (
        bio_demos.spot_size_demo,
        [dict(diameter=10.0), dict(diameter=12.5), dict(spot="dark"), dict(surround_strength=0.0),
         dict(surround_strength=1.2), dict(centre_sigma=4.0, diameter=0.0)],
    ),
    "orientation": (
        bio_demos.orientation_demo,
        [dict(stimulus=45.0), dict(stimulus=50.0), dict(preferred=165.0), dict(sigma=1.0),
         dict(sigma=8.0, stimulus=180.0)],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(MOVES))
def test_every_frame_equals_a_full_draw(name):
    use_course_style()
    make, moves = MOVES[name]
    demo = make()
    assert isinstance(demo.render, Renderer), "this demo is not blitted"
    _assert_frame_is_a_full_draw(demo)
    for move in moves:
        demo.set(**move)
        assert demo.error is None, (move, demo.error)
        _assert_frame_is_a_full_draw(demo)
    assert demo.render.canvas.full_draws < 1 + len(moves)  # some frames were blitted


class _ForgetfulView:
    """A view that changes its title but does not say so: the comparison must catch it."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.ax = figure.subplots()
        (self.line,) = self.ax.plot([0, 1], [0, 1])
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(0, 1)

    def update(self, result: float):
        self.line.set_ydata([0, result])
        self.ax.set_title(f"slope {result}")  # changed, but not listed below
        return [self.line], ("fixed",)


def test_the_comparison_catches_a_stale_title():
    figure = Figure(figsize=(4, 3))
    render = Renderer(_ForgetfulView)
    render(figure, 0.5)
    frame = _pixels(render(figure, 0.25))
    fresh = Figure(figsize=(4, 3))
    _ForgetfulView(fresh).update(0.25)
    assert (np.abs(frame - _pixels(figure_png(fresh))).max(axis=-1) > 32).any()
    assert render.canvas.full_draws == 1


def test_changing_artists_are_drawn_in_their_z_order():
    figure = Figure(figsize=(3, 3))
    ax = figure.subplots()
    top = ax.axhline(0.5, color="red", lw=8, zorder=3)
    under = ax.axhline(0.5, color="blue", lw=8, zorder=1)
    canvas = BlitCanvas(figure)
    frame = _pixels(canvas.png([top, under], key=None))  # listed in the wrong order
    middle = frame[frame.shape[0] // 2, frame.shape[1] // 2]
    assert middle[0] > 200 and middle[2] < 80  # red on top, as a full draw puts it


def test_nice_ceiling_is_the_next_step_at_or_above():
    steps = [nice_ceiling(v) for v in (0.0, 0.13, 0.15, 41.0, 81.0, 1e-7)]
    assert steps == [1.0, 0.15, 0.15, 50.0, 100.0, 1e-7]
    rng = np.random.default_rng(0)
    for value in 10.0 ** rng.uniform(-6, 6, size=200):
        ceiling = nice_ceiling(value)
        assert value <= ceiling <= 4 / 3 * value * (1 + 1e-9)
