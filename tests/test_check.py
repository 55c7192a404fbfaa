"""rflesson.check: right answers pass, wrong ones get a hint, nothing raises."""

import numpy as np
import pytest

import rflesson as rfl
from rflesson.course.check import EXERCISES, Feedback, _matches


def test_right_answer_is_correct():
    feedback = rfl.check("00.output-length", 3)
    assert isinstance(feedback, Feedback) and feedback.correct and bool(feedback)
    assert "Correct" in repr(feedback) and "Correct" in feedback._repr_html_()


def test_wrong_answer_gets_the_hint():
    feedback = rfl.check("00.output-length", 4)
    assert not feedback
    assert feedback.message == f"Hint: {EXERCISES['00.output-length'].hint}"


@pytest.mark.parametrize("answer", [..., None])
def test_missing_answer_is_not_an_error(answer):
    feedback = rfl.check("00.output-length", answer)
    assert not feedback and "No answer yet" in feedback.message


@pytest.mark.parametrize("answer", ["three", [3], {"a": 1}, object()])
def test_wrong_kind_of_answer_is_explained(answer):
    feedback = rfl.check("00.output-length", answer)
    assert not feedback and "should be a number" in feedback.message


def test_unknown_exercise_is_explained_not_raised():
    assert "no exercise" in rfl.check("99.nothing", 1).message
    assert "no exercise" in rfl.check("00.nothing", 1).message


def test_sets_accept_any_order_and_sequences():
    assert rfl.check("00.never-seen", {11, 10})
    assert rfl.check("00.never-seen", [10, 11])
    assert not rfl.check("00.never-seen", {10})


def test_matches_numbers_sequences_and_tolerance():
    assert _matches(2.0, 2, 0.0)
    assert not _matches(True, 1, 0.0), "a bool is not a number answer"
    assert _matches(1.04, 1.0, 0.05) and not _matches(1.06, 1.0, 0.05)
    assert _matches((1, 2), [1, 2], 0.0) and not _matches((1, 2, 3), (1, 2), 0.0)
    assert _matches(np.array([1, 2]), (1, 2), 0.0)
    assert _matches(np.int64(3), 3, 0.0)


def test_every_registered_exercise_accepts_its_own_answer():
    import importlib

    for number in range(6):
        importlib.import_module(f"rflesson.course.lesson{number:02d}.exercises")
    assert EXERCISES
    for exercise_id, exercise in EXERCISES.items():
        expected = exercise.expected()
        answer = getattr(expected, "example", expected)  # many right answers: a sample
        assert rfl.check(exercise_id, answer), exercise_id
        assert exercise.hint, f"{exercise_id} needs a hint"


def test_exercise_with_many_answers_accepts_each_and_rejects_the_rest():
    assert rfl.check("03.cover-15", (1, 2, 4)) and rfl.check("03.cover-15", [5, 1, 1])
    assert not rfl.check("03.cover-15", (2, 2, 3)), "gridding: misses offsets of 6"
    assert not rfl.check("03.cover-15", (1, 2, 3)), "RF 13, not 15"
    assert not rfl.check("03.cover-15", (1, 2)) and not rfl.check("03.cover-15", "124")
