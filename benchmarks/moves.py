"""Slider moves for the demo benchmarks: one call of the returned function is one update."""

from __future__ import annotations

import itertools
from collections.abc import Callable


def alternate(
    demo, name: str, first: object, second: object, *, before: Callable[[], None] | None = None
) -> Callable[[], None]:
    """Move control ``name`` of a LiveFigure between two values, one move per call.

    Each move runs the demo's whole update (compute, redraw, PNG), as a
    learner's slider move does.  ``before`` runs first at every move, for
    example a cache's ``cache_clear`` so that the computation is timed and
    not the cache.

    >>> move = alternate(rflesson.output_size_demo(), "input_size", 9, 10)  # doctest: +SKIP
    """
    control = demo.controls[name]
    values = itertools.cycle((first, second))

    def move() -> None:
        if before is not None:
            before()
        control.value = next(values)

    return move


def cycle(
    demo, settings: list[dict], *, before: Callable[[], None] | None = None
) -> Callable[[], None]:
    """Visit ``settings`` in turn (several controls at once), one setting per call.

    For a mix of moves a learner makes, so that the median is a typical
    update; ``before`` as in :func:`alternate`.
    """
    visits = itertools.cycle(settings)

    def move() -> None:
        if before is not None:
            before()
        demo.set(**next(visits))

    return move
