"""rflesson.check: right answers pass, wrong ones get a hint, nothing raises."""

import itertools

import numpy as np
import pytest
import torch

import rflesson as rfl
from rflesson.course.check import (
    EXERCISES,
    MAX_VALUES,
    Feedback,
    Unreadable,
    _matches,
    exercise,
    plain,
)


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


@pytest.mark.parametrize("answer", ["three", [3, 4], {"a": 1}, object(), True])
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
    for exercise_id, registered in EXERCISES.items():
        expected = registered.expected()
        answer = getattr(expected, "example", expected)  # many right answers: a sample
        assert rfl.check(exercise_id, answer), exercise_id
        assert registered.hint, f"{exercise_id} needs a hint"


def test_exercise_with_many_answers_accepts_each_and_rejects_the_rest():
    assert rfl.check("03.cover-15", (1, 2, 4)) and rfl.check("03.cover-15", [5, 1, 1])
    assert not rfl.check("03.cover-15", (2, 2, 3)), "gridding: misses offsets of 6"
    assert not rfl.check("03.cover-15", (1, 2, 3)), "RF 13, not 15"
    assert not rfl.check("03.cover-15", (1, 2)) and not rfl.check("03.cover-15", "124")


# -- issue 16: check never raises and judges the answer, not its Python type ------------------


class _Raises:
    """An answer whose every protocol method raises."""

    def __eq__(self, other):
        raise RuntimeError("eq")

    def __hash__(self):
        raise RuntimeError("hash")

    def __len__(self):
        raise RuntimeError("len")

    def __float__(self):
        raise RuntimeError("float")

    def __iter__(self):
        raise RuntimeError("iter")

    def __repr__(self):
        raise RuntimeError("repr")


@pytest.fixture
def verdict_is_known(monkeypatch):
    """05.training-verdict judged against False without training 8 networks.

    These tests are about the form of an answer, not about the training run.
    """
    import importlib

    check_module = importlib.import_module("rflesson.course.check")
    importlib.import_module("rflesson.course.lesson05.exercises")
    monkeypatch.setitem(check_module._EXPECTED, "05.training-verdict", False)


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("03.which-grid", [[2, 4, 6], [1, 4, 8]]),
        ("03.which-grid", np.array([[1, 4, 8], [2, 4, 6]])),
        ("03.which-grid", torch.tensor([[2, 4, 6], [1, 4, 8]])),
        ("00.never-seen", np.array([11, 10])),
        ("00.never-seen", torch.tensor([10, 11])),
        ("00.never-seen", {10.0, 11.0}),
        ("05.narrower-than-plain", ["Residual"]),
        ("02.jump", torch.tensor(16)),
        ("02.jump", np.array(16)),
        ("02.jump", np.float32(16.0)),
        ("02.jump", 16.0),
        ("02.which-pixels", np.array([9, 13])),
        ("02.which-pixels", torch.tensor([9, 13])),
        ("03.cover-15", np.array([1, 2, 4])),
        ("03.cover-15", (1.0, 2.0, 4.0)),
        ("03.cover-15", torch.tensor([4, 2, 1])),
        ("03.cover-15", iter([1, 2, 4])),
        ("01.off-light-spot", "Decrease"),
        ("01.off-light-spot", "  decrease\n"),
        ("04.grow-most", "C"),
        ("05.largest-erf", "Large-depthwise"),
        ("05.largest-erf", "large_depthwise"),
        ("05.training-verdict", np.bool_(False)),
        ("05.training-verdict", torch.tensor(False)),
    ],
)
def test_right_answers_in_any_python_type_are_correct(exercise_id, answer, verdict_is_known):
    assert rfl.check(exercise_id, answer), (exercise_id, answer)


@pytest.mark.parametrize(
    "exercise_id",
    [
        "00.output-length",
        "00.same-padding",
        "01.best-spot",
        "01.two-layer-rf",
        "02.rf-by-hand",
        "02.jump",
        "02.centre",
        "02.depth-for-100",
        "02.two-paths",
        "03.dilated-stack-rf",
        "03.wavenet-layers",
        "05.corner-limit",
        "05.equivalent-depth",
    ],
)
@pytest.mark.parametrize("answer", [10**400, -(10**400), float("inf"), float("nan")])
def test_huge_or_odd_numbers_are_wrong_not_an_error(exercise_id, answer):
    feedback = rfl.check(exercise_id, answer)
    assert not feedback and feedback.message.startswith("Hint:")


@pytest.mark.parametrize(
    "exercise_id, answer, words",
    [
        ("02.which-pixels", np.array(7), "sequence of 2 values"),
        ("05.training-verdict", torch.tensor([1, 0]), "True or False"),
        ("05.training-verdict", 0, "True or False"),  # 0 is not False
        ("05.training-verdict", 1.0, "True or False"),
        ("01.off-light-spot", 1, "text in quotes"),
        ("00.never-seen", 10, "set of values"),
        ("03.which-grid", "(2, 4, 6)", "set of values"),
        ("02.jump", {"a": 1}, "it is a dict"),
        ("02.jump", b"16", "it is a bytes"),
        ("02.jump", np.zeros(10**6), "more than 1000 values"),
        ("02.jump", torch.zeros(10**6), "more than 1000 values"),
        ("02.jump", torch.empty(3, device="meta"), "raised NotImplementedError"),
        ("03.cover-15", itertools.count(), "more than 1000 values"),
        ("03.cover-15", [[[[[1]]]]], "nested more than"),
        ("02.jump", 2 + 1j, "complex"),
    ],
)
def test_wrong_kinds_say_what_is_expected(exercise_id, answer, words, verdict_is_known):
    feedback = rfl.check(exercise_id, answer)
    assert not feedback and words in feedback.message, feedback.message


def test_a_self_containing_list_is_read_to_a_bounded_depth():
    looped = [1]
    looped.append(looped)
    assert "nested more than" in rfl.check("03.cover-15", looped).message


@pytest.mark.parametrize(
    "exercise_id",
    ["02.jump", "03.cover-15", "03.which-grid", "00.never-seen", "01.off-light-spot"],
)
def test_answers_whose_methods_raise_get_feedback_not_a_traceback(exercise_id):
    feedback = rfl.check(exercise_id, _Raises())
    assert not feedback and "raised RuntimeError" in feedback.message
    assert "_Raises" in repr(feedback)  # shown without calling the raising __repr__


def test_an_endless_iterator_is_read_only_so_far():
    counter = itertools.count()
    feedback = rfl.check("03.cover-15", counter)
    assert not feedback
    assert next(counter) <= MAX_VALUES + 1


def test_odd_exercise_ids_are_explained_not_raised():
    for exercise_id in (None, 3, _Raises(), "../..", "02.", "", "\x00"):
        feedback = rfl.check(exercise_id, 1)
        assert not feedback and "no exercise" in feedback.message
    assert rfl.check(" 02.jump ", 16), "surrounding spaces in the id do not matter"


def test_an_exercise_that_fails_is_reported_not_raised():
    @exercise("00.broken", hint="none")
    def _():
        raise ZeroDivisionError("oops")

    try:
        feedback = rfl.check("00.broken", 1)
    finally:
        EXERCISES.pop("00.broken")
    assert not feedback and "ZeroDivisionError" in feedback.message


# -- issue 13, item 15: the form of an answer ------------------------------------------------


@pytest.mark.parametrize(
    "exercise_id, answer, written",
    [
        ("02.jump", "16", "16"),
        ("02.jump", (16,), "16"),
        ("02.jump", " 16 ", "16"),
        ("02.which-pixels", {13, 9}, "(9, 13)"),
        ("02.which-pixels", "9, 13", "(9, 13)"),
        ("00.never-seen", "{10, 11}", "{10, 11}"),
        ("03.cover-15", "1, 2, 4", "(1, 2, 4)"),
        ("05.narrower-than-plain", "residual", "{'residual'}"),
        ("05.narrower-than-plain", [["residual"]], "{'residual'}"),
        ("01.off-light-spot", ["decrease"], "'decrease'"),
        ("05.training-verdict", "False", "False"),
        ("05.training-verdict", "no", "False"),
    ],
)
def test_right_idea_in_the_wrong_form_is_told_how_to_write_it(
    exercise_id, answer, written, verdict_is_known
):
    feedback = rfl.check(exercise_id, answer)
    assert not feedback, "the form still has to be right"
    assert feedback.message == f"Right idea! Write it as {written}."


def test_a_wrong_answer_in_the_wrong_form_gets_no_right_idea():
    feedback = rfl.check("02.jump", "8")
    assert not feedback and "should be a number" in feedback.message


def test_targeted_hint_for_the_chain_answer_of_two_paths():
    from rflesson.course.lesson02.exercises import _CHAIN

    assert _CHAIN == 23
    for answer in (23, 23.0, np.int64(23), torch.tensor(23)):
        feedback = rfl.check("02.two-paths", answer)
        assert (
            not feedback and "in a row" in feedback.message and "side by side" in feedback.message
        )
    assert rfl.check("02.two-paths", 22).message.startswith("Hint:"), "other answers: the hint"


def test_wrong_answers_are_registered_with_the_exercise():
    @exercise("00.demo-wrong", hint="Count.", wrong_answers={(1, 2): "Not a pair."})
    def _():
        return (2, 1)

    try:
        assert rfl.check("00.demo-wrong", [1, 2]).message == "Not a pair."
        assert rfl.check("00.demo-wrong", np.array([2, 1]))
    finally:
        EXERCISES.pop("00.demo-wrong")


def test_plain_reads_numpy_torch_and_iterables():
    assert plain(np.array([1.0, 2.5])) == (1, 2.5)
    assert plain(torch.tensor([[1, 2]])) == ((1, 2),)
    assert plain({np.int64(3)}) == frozenset({3})
    assert plain(range(3)) == (0, 1, 2)
    assert plain(np.bool_(True)) is True
    assert isinstance(plain(range(10**9)), Unreadable)
    assert isinstance(plain({"a": 1}), Unreadable)


def test_the_expected_answer_is_computed_once():
    calls = []

    @exercise("00.demo-once", hint="Count.")
    def _():
        calls.append(1)
        return 4

    try:
        assert rfl.check("00.demo-once", 4) and not rfl.check("00.demo-once", 5)
    finally:
        EXERCISES.pop("00.demo-once")
    assert len(calls) == 1


def test_checking_leaves_the_global_random_generators_alone():
    import random
    import sys

    for module in [m for m in sys.modules if m.startswith("rflesson.course.lesson02")]:
        del sys.modules[module]  # loading the lesson builds networks: it must not draw
    rfl.set_seed(7)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    rfl.set_seed(7)
    rfl.check("02.two-paths", 15)
    rfl.check("04.uniform-sigma", 4.9)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
