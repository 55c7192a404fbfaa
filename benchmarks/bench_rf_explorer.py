"""Notebook 02: one update of the RF explorer (compute + redraw), and its parts."""

from matplotlib.figure import Figure
from moves import alternate

from rflesson.course.blit import figure_png
from rflesson.course.lesson02.explorer import draw_exploration, explore_rf, rf_explorer
from rflesson.course.style import use_course_style

# a typical setting (the article's example) and the two slowest the sliders reach (a sweep of
# the 128 corners and 200 random settings): the most cells, and boxes far beyond the padding
TYPICAL = dict(input_size=9, kernel=3, stride=2, padding=1, dilation=1, depth=2, unit=1)
HEAVY = dict(input_size=32, kernel=7, stride=1, padding=3, dilation=1, depth=6, unit=31)
FAR = dict(input_size=1, kernel=1, stride=4, padding=3, dilation=1, depth=6, unit=0)


def bench_rf_explorer_update():
    """One slider move (depth 2 <-> 3) on the article's example: compute + redraw + PNG."""
    use_course_style()
    return alternate(rf_explorer(**TYPICAL), "depth", 2, 3)


def bench_rf_explorer_update_heavy():
    """One slider move on the largest picture: 32 inputs, 6 layers of 7-wide 'same' convs."""
    use_course_style()
    return alternate(rf_explorer(**HEAVY), "unit", 30, 31)


def bench_rf_explorer_update_far():
    """1x1 kernels, stride 4, padding 3: every box lies far beyond the padding (notes, no box)."""
    use_course_style()
    return alternate(rf_explorer(**FAR), "unit", 0, 1)


def bench_rf_explorer_compute():
    """The pure computation alone (RF engine calls and the layered data)."""
    return lambda: explore_rf(**TYPICAL)


def bench_rf_explorer_redraw():
    """Drawing and PNG encoding alone."""
    use_course_style()
    result = explore_rf(**TYPICAL)
    figure = Figure(figsize=(8, 3.2))

    def redraw():
        figure.clear()
        draw_exploration(figure, result)
        figure_png(figure)

    return redraw


def summarize(results: dict[str, float]) -> list[str]:
    """How much of an update is drawing: the computation is a small part."""
    update, compute = results.get("rf_explorer_update"), results.get("rf_explorer_compute")
    if not update or compute is None:
        return []
    return [f"RF explorer: the RF computation is {100 * compute / update:.1f}% of an update"]
