"""Instant feedback on exercise answers.

Each exercise is registered once, in ``rflesson/course/lessonNN/exercises.py``,
with a function that *computes* the expected answer (usually with rflesson
itself) and a hint.  A notebook then calls::

    rfl.check("02.rf-by-hand", my_answer)

and gets "Correct" or "Not yet" with the hint, never a traceback.

``check`` judges the answer, not its Python type.  It first reads the answer
as plain data (:func:`plain`): NumPy and torch scalars and arrays become the
numbers they hold, lists and tuples become tuples, sets become frozensets,
a float that is a whole number becomes an int, and at most
:data:`MAX_VALUES` values of any iterable are read.  Text is compared
without regard to case, surrounding spaces, or ``-`` / ``_`` / space.
When only the form is wrong (``"16"`` for the number 16) the learner hears
"right idea, write it as 16"; a number is never taken for a yes/no.
"""

from __future__ import annotations

import ast
import contextlib
import html
import importlib
import itertools
import math
import numbers
import operator
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .._validate import shown
from .i18n import _

#: The most values ``check`` reads from one answer (an endless iterator is cut here).
MAX_VALUES = 1000
#: The deepest nesting ``check`` reads (a list of lists of lists ...).
MAX_DEPTH = 4
#: The longest text ``check`` tries to read as Python data (``"(1, 2, 4)"``).
MAX_TEXT = 200


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to get the expected answer and how to help.

    ``wrong_answers`` pairs common wrong answers with a hint aimed at the
    mistake that gives them (``((23, "That is the chain's answer ..."),)``).
    """

    id: str
    expected: Callable[[], object]
    hint: str
    explain: str = ""
    tolerance: float = 0.0  # relative tolerance for numbers
    wrong_answers: tuple[tuple[object, str], ...] = ()
    facts: tuple[tuple[str, object], ...] = ()  # computed values the texts name

    def say(self, text: str) -> str:
        """``text`` (a hint, an explanation) in the learner's language, its facts filled in."""
        translated = _(text)
        return translated.format(**dict(self.facts)) if self.facts else translated


EXERCISES: dict[str, Exercise] = {}
_EXPECTED: dict[str, object] = {}  # expected answers already computed, by exercise id


def exercise(
    id: str,
    *,
    hint: str,
    explain: str = "",
    tolerance: float = 0.0,
    wrong_answers: Mapping[object, str] | None = None,
    facts: Mapping[str, object] | None = None,
):
    """Register the decorated function as the expected answer of exercise ``id``.

    ``wrong_answers`` maps a common wrong answer to a hint about the mistake
    behind it; it is matched like the right answer (same tolerance).  Texts are
    marked with ``N_`` and translated when shown; a number they quote comes from
    ``facts`` (computed by rflesson), named as a ``{placeholder}`` in the text.

    >>> @exercise("00.demo", hint="Count the windows.", wrong_answers={5: "Count whole windows."})
    ... def _():
    ...     return 4
    """
    targeted = tuple((wrong_answers or {}).items())
    known = tuple((facts or {}).items())

    def register(expected: Callable[[], object]) -> Callable[[], object]:
        EXERCISES[id] = Exercise(id, expected, hint, explain, tolerance, targeted, known)
        _EXPECTED.pop(id, None)
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
        mark = _("Correct!") if self.correct else _("Not yet.")
        return f"[{self.exercise}] {mark} {self.message}".rstrip()

    def _repr_html_(self) -> str:
        colour = "#2e8b57" if self.correct else "#c0392b"
        mark = _("Correct!") if self.correct else _("Not yet.")
        symbol = "&#10004;" if self.correct else "&#10008;"
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 8px">'
            f'<b style="color:{colour}">{symbol} {html.escape(mark)}</b> {html.escape(self.message)}</div>'
        )


# -- reading an answer as plain data ---------------------------------------------------


@dataclass(frozen=True, eq=False)
class Unreadable:
    """An answer (or a part of one) that ``check`` cannot read as data, and why."""

    reason: str


def plain(value: object) -> object:
    """``value`` as plain Python data, reading at most :data:`MAX_VALUES` values.

    The result is built from None, bool, int, float, str, tuple and
    frozenset; a part that cannot be read becomes an :class:`Unreadable`.

    >>> plain(np.array([1.0, 2.0, 4.0]))
    (1, 2, 4)
    >>> plain({np.int64(10), 11}) == frozenset({10, 11})
    True
    """
    reader = _Reader(MAX_VALUES)
    try:
        return reader.read(value, 0)
    except _TooBig as error:
        return Unreadable(str(error))
    except Exception as error:  # the answer's own code raised: say so, never propagate
        return Unreadable(f"reading it raised {type(error).__name__}")


class _TooBig(Exception):
    """An answer with more values, or deeper nesting, than ``check`` reads."""


class _Reader:
    """Reads one answer, counting the values read against a budget."""

    def __init__(self, budget: int) -> None:
        self.left = budget

    def read(self, value: object, depth: int) -> object:
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, torch.Tensor | np.ndarray | np.generic):
            return self._array(value, depth)
        if isinstance(value, numbers.Number):
            return _number(value)
        if isinstance(value, bytes | bytearray | Mapping):
            return Unreadable(f"it is a {type(value).__name__}")
        if isinstance(value, set | frozenset):
            return frozenset(self._items(value, depth))
        if isinstance(value, Iterable):
            return tuple(self._items(value, depth))
        return Unreadable(f"it is a {type(value).__name__}")

    def _array(self, value, depth: int) -> object:
        size = value.numel() if isinstance(value, torch.Tensor) else value.size
        if size > self.left:
            raise _TooBig(f"it has more than {MAX_VALUES} values")
        if isinstance(value, torch.Tensor):
            return self.read(value.detach().cpu().tolist(), depth)
        return self.read(value.tolist(), depth)

    def _items(self, values: Iterable, depth: int) -> list:
        if depth >= MAX_DEPTH:
            raise _TooBig(f"it is nested more than {MAX_DEPTH} deep")
        items = list(itertools.islice(iter(values), self.left + 1))
        self.left -= len(items)
        if self.left < 0:
            raise _TooBig(f"it has more than {MAX_VALUES} values")
        return [self.read(item, depth + 1) for item in items]


def _number(value: numbers.Number) -> object:
    """An int for whole numbers (``2.0`` is 2), a float otherwise; complex only if real."""
    if isinstance(value, numbers.Integral):
        return operator.index(value)
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        return _number(value.real) if value.imag == 0 else Unreadable("it is a complex number")
    number = float(value)  # numbers.Real, decimal.Decimal
    if math.isfinite(number) and number.is_integer():
        return int(number)
    return number


# -- comparing ---------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _close(answer: int | float, expected: int | float, tolerance: float) -> bool:
    if isinstance(answer, int) and isinstance(expected, int) and tolerance == 0:
        return answer == expected
    try:
        a, e = float(answer), float(expected)
    except OverflowError:  # an int beyond any float: far from every expected answer
        return False
    return math.isfinite(a) and abs(a - e) <= tolerance * abs(e) + 1e-9


def _text(value: str) -> str:
    """Text as ``check`` compares it: case, spaces, ``-`` and ``_`` do not matter."""
    return " ".join(value.casefold().replace("-", " ").replace("_", " ").split())


def _canonical(value: object) -> object:
    """A hashable form in which equal answers are equal (for sets)."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(_canonical(v) for v in value)
    return value


def _agrees(answer: object, expected: object, tolerance: float) -> bool:
    """Compare two plain values: numbers within tolerance, sequences element by element,
    sets in any order (a list is fine), text without regard to case and spacing."""
    if isinstance(expected, bool):
        return isinstance(answer, bool) and answer == expected
    if _is_number(expected):
        return _is_number(answer) and _close(answer, expected, tolerance)
    if isinstance(expected, str):
        return isinstance(answer, str) and _text(answer) == _text(expected)
    if isinstance(expected, tuple):
        return (
            isinstance(answer, tuple)
            and len(answer) == len(expected)
            and all(_agrees(a, e, tolerance) for a, e in zip(answer, expected, strict=True))
        )
    if isinstance(expected, frozenset):
        return isinstance(answer, frozenset | tuple) and _canonical(
            frozenset(answer)
        ) == _canonical(expected)
    return answer == expected


def _matches(answer: object, expected: object, tolerance: float) -> bool:
    """Whether ``answer`` is right.

    An exercise with many right answers returns an object with an
    ``accepts(answer)`` method (and an ``example`` answer, for the tests)
    instead of a value; it gets the answer as plain data.
    """
    answer = plain(answer)
    if isinstance(answer, Unreadable):
        return False
    if hasattr(expected, "accepts"):
        return bool(expected.accepts(answer))
    return _agrees(answer, plain(expected), tolerance)


# -- explaining ------------------------------------------------------------------------------


def _show(value: object) -> str:
    """A short repr of the learner's answer that cannot raise."""
    return shown(value, limit=60)


def _written(value: object, shape: object) -> str:
    """How to write a plain value in Python, as the kind ``shape`` is (a set in braces, sorted)."""
    if isinstance(shape, frozenset) and isinstance(value, tuple | frozenset):
        value = frozenset(value)
    if isinstance(value, frozenset):
        items = sorted((repr(v) for v in value), key=lambda s: (len(s), s))
        return "{" + ", ".join(items) + "}"
    return repr(value)


def _readings(answer: object, shape: object) -> list[object]:
    """Other ways to read ``answer`` when the expected answer looks like ``shape``.

    ``"16"`` may mean 16, ``"yes"`` True, ``(16,)`` 16, ``"decrease"`` wrapped
    in a list the word itself, ``5`` the set ``{5}``, ``{9, 13}`` the pair
    ``(9, 13)``.  Used to tell a right idea written in the wrong form.
    """
    readings: list[object] = []
    if isinstance(answer, str) and len(answer) <= MAX_TEXT:
        word = _text(answer)
        yes_no = {"true": True, "yes": True, "false": False, "no": False}
        if isinstance(shape, bool) and word in yes_no:
            readings.append(yes_no[word])
        try:
            readings.append(plain(ast.literal_eval(answer.strip())))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
    if isinstance(answer, tuple | frozenset) and len(answer) == 1:
        readings.append(next(iter(answer)))
    if isinstance(shape, frozenset) and (_is_number(answer) or isinstance(answer, str)):
        readings.append(frozenset({answer}))
    if isinstance(shape, tuple) and isinstance(answer, frozenset):
        try:
            readings.append(tuple(sorted(answer)))
        except TypeError:
            pass
    return readings


def _kind_problem(answer: object, shape: object, shown: str) -> str | None:
    """Say what kind of answer was expected when the kind of ``answer`` (plain data) is wrong.

    ``shape`` is the expected answer (or a sample right one) as plain data;
    ``shown`` is the learner's answer as they wrote it.
    """
    if isinstance(shape, bool):
        if not isinstance(answer, bool):
            return _("The answer should be True or False; you gave {shown}.").format(shown=shown)
    elif _is_number(shape):
        if not _is_number(answer):
            return _("The answer should be a number; you gave {shown}.").format(shown=shown)
    elif isinstance(shape, str):
        if not isinstance(answer, str):
            return _("The answer should be text in quotes, like 'a'; you gave {shown}.").format(
                shown=shown
            )
    elif isinstance(shape, tuple):
        if not isinstance(answer, tuple):
            return _("The answer should be a sequence of {n} values; you gave {shown}.").format(
                n=len(shape), shown=shown
            )
        if len(answer) != len(shape):
            return _("The answer should have {n} values; yours has {given}.").format(
                n=len(shape), given=len(answer)
            )
    elif isinstance(shape, frozenset) and not isinstance(answer, frozenset | tuple):
        return _(
            "The answer should be a set of values in braces, like {{1, 2}}; you gave {shown}."
        ).format(shown=shown)
    return None


@contextlib.contextmanager
def _random_state_kept() -> Iterator[None]:
    """Run the block, then put Python's, NumPy's and torch's global generators back.

    Loading a lesson's exercises builds networks, and computing an answer may
    draw numbers: checking an answer must not change what the learner's next
    cell draws.
    """
    python, numpy = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(python)
            np.random.set_state(numpy)


def _expected(found: Exercise) -> object:
    """The expected answer, computed once per exercise (some take seconds)."""
    if found.id not in _EXPECTED:
        with _random_state_kept():
            _EXPECTED[found.id] = found.expected()
    return _EXPECTED[found.id]


def _find(exercise_id: str) -> Exercise | None:
    notebook = exercise_id.split(".")[0]
    try:
        with _random_state_kept():
            importlib.import_module(f"rflesson.course.lesson{notebook}.exercises")
    except Exception:  # no such lesson (or an id no module name can hold)
        return None
    return EXERCISES.get(exercise_id)


def _judge(found: Exercise, answer: object) -> Feedback:
    """Right, right idea in the wrong form, a known mistake, the wrong kind, or the hint."""
    expected = _expected(found)
    # the shape an answer should have: the value, or a sample right answer
    shape = plain(getattr(expected, "example", expected))
    read = plain(answer)
    shown = _show(answer)
    if isinstance(read, Unreadable):
        problem = _kind_problem(read, shape, shown) or _("Give a plain value.")
        return Feedback(
            found.id,
            False,
            _("check could not read your answer: {reason}. {problem}").format(
                reason=read.reason, problem=problem
            ),
        )
    if _matches(read, expected, found.tolerance):
        return Feedback(found.id, True, found.say(found.explain) if found.explain else "")
    for reading in _readings(read, shape):
        right_kind = _kind_problem(reading, shape, shown) is None
        if right_kind and _matches(reading, expected, found.tolerance):
            return Feedback(
                found.id,
                False,
                _("Right idea! Write it as {answer}.").format(answer=_written(reading, shape)),
            )
    for wrong, message in found.wrong_answers:
        if _matches(read, wrong, found.tolerance):
            return Feedback(found.id, False, found.say(message))
    problem = _kind_problem(read, shape, shown)
    return Feedback(
        found.id, False, problem or _("Hint: {hint}").format(hint=found.say(found.hint))
    )


def check(exercise_id: str, answer: object) -> Feedback:
    """Check ``answer`` for exercise ``exercise_id`` and say whether it is right.

    Never raises: an unknown exercise, a missing answer or an answer of the
    wrong kind all come back as a "Not yet" with an explanation.  NumPy and
    torch values count as the numbers they hold; see the module docstring.
    """
    try:
        name = str(exercise_id)
    except Exception:
        name = f"a {type(exercise_id).__name__}"
    found = _find(name.strip()) if isinstance(exercise_id, str) else None
    if found is None:
        known = ", ".join(sorted(EXERCISES)) or _("none loaded")
        return Feedback(
            name,
            False,
            _("There is no exercise {name} ({known}).").format(name=_show(name), known=known),
        )
    if answer is Ellipsis or answer is None:
        return Feedback(found.id, False, _("No answer yet: replace the ... with your answer."))
    try:
        return _judge(found, answer)
    except Exception as error:  # a bug in an exercise must not reach the learner as a traceback
        return Feedback(
            found.id,
            False,
            _("check could not judge this answer ({error}); please report it.").format(
                error=f"{type(error).__name__}: {_show(str(error))}"
            ),
        )
