"""Instant feedback on exercise answers.

Each exercise is registered once, in ``rflesson/exercises/nbXX.py``, with a
function that *computes* the expected answer (usually with rflesson itself)
and a hint.  A notebook then calls::

    rfl.check("02.rf-by-hand", my_answer)

and gets "Correct" or "Not yet" with the hint, never a traceback.
"""

from __future__ import annotations

import html
import importlib
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to get the expected answer and how to help."""

    id: str
    expected: Callable[[], object]
    hint: str
    explain: str = ""
    tolerance: float = 0.0  # relative tolerance for numbers


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, *, hint: str, explain: str = "", tolerance: float = 0.0):
    """Register the decorated function as the expected answer of exercise ``id``.

    >>> @exercise("00.demo", hint="Count the windows.")
    ... def _():
    ...     return 4
    """

    def register(expected: Callable[[], object]) -> Callable[[], object]:
        EXERCISES[id] = Exercise(id, expected, hint, explain, tolerance)
        return expected

    return register


@dataclass(frozen=True)
class Feedback:
    """The result of :func:`check`; true when the answer is right."""

    exercise: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        mark = "Correct!" if self.correct else "Not yet."
        return f"[{self.exercise}] {mark} {self.message}".rstrip()

    def _repr_html_(self) -> str:
        colour = "#2e8b57" if self.correct else "#c0392b"
        mark = "&#10004; Correct!" if self.correct else "&#10008; Not yet."
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 8px">'
            f'<b style="color:{colour}">{mark}</b> {html.escape(self.message)}</div>'
        )


def _find(exercise_id: str) -> Exercise | None:
    notebook = exercise_id.split(".")[0]
    try:
        importlib.import_module(f"rflesson.course.lesson{notebook}.exercises")
    except ImportError:
        return None
    return EXERCISES.get(exercise_id)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _matches(answer: object, expected: object, tolerance: float) -> bool:
    """Compare an answer with the expected value: numbers within tolerance,
    sequences element by element, everything else by equality.

    An exercise with many right answers returns an object with an
    ``accepts(answer)`` method (and an ``example`` answer, for the tests)
    instead of a value.
    """
    if hasattr(expected, "accepts"):
        return bool(expected.accepts(answer))
    if isinstance(expected, np.ndarray):
        expected = expected.tolist()
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if _is_number(expected):
        if not _is_number(answer):
            return False
        return abs(float(answer) - float(expected)) <= tolerance * abs(float(expected)) + 1e-9
    if isinstance(expected, (tuple, list)):
        if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
            return False
        return all(_matches(a, e, tolerance) for a, e in zip(answer, expected, strict=True))
    if isinstance(expected, (set, frozenset)):
        return isinstance(answer, (set, frozenset, list, tuple)) and set(answer) == expected
    return answer == expected


def _shape_problem(answer: object, expected: object) -> str | None:
    """Say what kind of answer was expected when the kind is wrong."""
    if _is_number(expected) and not _is_number(answer):
        return f"The answer should be a number; you gave {answer!r}."
    if isinstance(expected, (tuple, list)):
        if not isinstance(answer, (tuple, list, np.ndarray)):
            return (
                f"The answer should be a sequence of {len(expected)} values; you gave {answer!r}."
            )
        if len(answer) != len(expected):
            return f"The answer should have {len(expected)} values; yours has {len(answer)}."
    if isinstance(expected, bool) and not isinstance(answer, bool):
        return f"The answer should be True or False; you gave {answer!r}."
    return None


def check(exercise_id: str, answer: object) -> Feedback:
    """Check ``answer`` for exercise ``exercise_id`` and say whether it is right.

    Never raises: an unknown exercise, a missing answer or an answer of the
    wrong kind all come back as a "Not yet" with an explanation.
    """
    found = _find(str(exercise_id))
    if found is None:
        known = ", ".join(sorted(EXERCISES)) or "none loaded"
        return Feedback(str(exercise_id), False, f"There is no exercise {exercise_id!r} ({known}).")
    if answer is Ellipsis or answer is None:
        return Feedback(found.id, False, "No answer yet: replace the ... with your answer.")
    expected = found.expected()
    if _matches(answer, expected, found.tolerance):
        return Feedback(found.id, True, found.explain)
    problem = _shape_problem(answer, expected)
    return Feedback(found.id, False, problem or f"Hint: {found.hint}")
