"""The RF explorer (notebook 02): driven by its sliders, checked against torch itself.

The reference here never uses rflesson's arithmetic: which input pixels an
output unit depends on is read off ``torch.nn.functional.conv1d`` applied to
one-hot inputs (all-ones kernels, so nothing cancels), and the size, jump and
start come from the textbook recurrences written out below.
"""

from __future__ import annotations

import itertools
import random
import re

import pytest
import torch
import torch.nn.functional as F

from rflesson.course.lesson02.explorer import describe_exploration, explore_rf, rf_explorer
from rflesson.course.style import use_course_style

SLIDERS = ("input_size", "kernel", "stride", "padding", "dilation", "depth", "unit")


def reference(n, kernel, stride, padding, dilation, depth, unit):
    """Lengths, the real input pixels unit ``unit`` depends on, size/jump/start; None if empty."""
    x = torch.eye(n, dtype=torch.float64).unsqueeze(1)  # batch of n one-hot inputs
    w = torch.ones(1, 1, kernel, dtype=torch.float64)
    lengths = [n]
    for _ in range(depth):
        if x.shape[-1] + 2 * padding < dilation * (kernel - 1) + 1:
            return None
        x = F.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
        lengths.append(x.shape[-1])
    unit = min(unit, lengths[-1] - 1)
    pixels = torch.nonzero(x[:, 0, unit] > 0).flatten().tolist()
    size, jump, start = 1, 1, 0
    for _ in range(depth):  # Dang Ha The Hien's recurrences, with dilation
        size += dilation * (kernel - 1) * jump
        start -= padding * jump
        jump *= stride
    return {
        "lengths": tuple(lengths),
        "unit": unit,
        "pixels": pixels,
        "size": size,
        "jump": jump,
        "start": start,
        "region": (start + unit * jump, start + unit * jump + size - 1),
    }


def figure_texts(figure) -> str:
    """Every text drawn on the demo's figure (on Axes or straight on the figure)."""
    texts = list(figure.texts) + [t for ax in figure.axes for t in ax.texts]
    return "\n".join(t.get_text() for t in texts)


WRONG_PLURAL = re.compile(
    r"\b1 (units|pixels|positions)\b|\b(?<![\d.])(0|[2-9]|\d\d+) (unit|pixel|position)\b"
)


def check_against_reference(result, settings):
    expected = reference(*(settings[name] for name in SLIDERS))
    if expected is None:
        assert result.problem, f"no problem reported for an empty layer: {settings}"
        assert result.size is None and result.stack is None
        assert f"Layer {result.empty_layer}" in result.problem
        return
    assert result.problem is None, (settings, result.problem)
    assert result.lengths == expected["lengths"]
    assert result.shown_unit == expected["unit"]
    assert (result.size, result.jump, result.start) == (
        expected["size"],
        expected["jump"],
        expected["start"],
    )
    assert result.closed_form == expected["size"]
    assert result.region == expected["region"]
    real_seen = [t for t in result.stack.maps[0].seen if 0 <= t < settings["input_size"]]
    assert real_seen == expected["pixels"], settings
    if expected["pixels"]:
        assert result.clipped == (expected["pixels"][0], expected["pixels"][-1])
    assert result.center == result.start + (result.size - 1) / 2


@pytest.fixture(scope="module")
def demo():
    use_course_style()
    return rf_explorer()


def extremes(demo):
    bounds = {name: (demo.controls[name].min, demo.controls[name].max) for name in SLIDERS}
    for values in itertools.product(*(bounds[name] for name in SLIDERS)):
        yield dict(zip(SLIDERS, values, strict=True))


def test_default_is_the_articles_example(demo):
    result = demo.result
    assert demo.error is None
    assert (result.kernel, result.stride, result.padding, result.depth) == (3, 2, 1, 2)
    assert [m.size for m in result.stack.maps] == [1, 3, 7]  # "3 then 7"
    assert result.jump == 4
    assert demo.image.value[:4] == b"\x89PNG"


def test_every_extreme_combination_through_the_sliders(demo):
    """All 2**7 corners of the slider box: right numbers, a picture, never an error,
    and every count in words agrees with its number ("1 unit", never "1 units")."""
    count = 0
    for settings in extremes(demo):
        result = demo.set(**settings)
        assert demo.error is None, (settings, demo.error)
        assert demo.image.value[:4] == b"\x89PNG"
        assert demo.text.value
        check_against_reference(result, settings)
        words = demo.text.value + "\n" + figure_texts(demo.figure)
        assert not WRONG_PLURAL.search(words), (settings, WRONG_PLURAL.search(words))
        count += 1
    assert count == 2 ** len(SLIDERS)


def test_counts_in_words_agree_with_their_numbers():
    """The empty-layer explanation used to say "It reads the input: 1 units"."""
    lone = explore_rf(input_size=1, kernel=3, stride=1, padding=0, dilation=1, depth=1)
    assert "the input: 1 pixel, with no padding" in lone.problem
    assert not WRONG_PLURAL.search(lone.problem), lone.problem
    one_unit = explore_rf(input_size=5, kernel=5, stride=4, padding=1, dilation=1, depth=2)
    assert one_unit.empty_layer == 2 and "layer 1's output: 1 unit, 3 with" in one_unit.problem


def test_the_explanation_never_asks_for_more_than_the_sliders_give():
    """An input the input slider cannot reach is named as such, and not suggested."""
    far = explore_rf(input_size=1, kernel=7, stride=4, padding=3, dilation=4, depth=6)
    assert far.min_input > 32 and "more than this demo's 32" in far.problem
    assert "input larger" not in far.problem and "padding larger" not in far.problem
    near = explore_rf(input_size=5, kernel=7, stride=1, padding=0, dilation=1, depth=1)
    assert near.min_input == 7 and "make the input larger" in near.problem
    assert "fewer layers" not in near.problem  # layer 1 is the empty one


def test_moving_one_slider_redraws(demo):
    demo.set(input_size=9, kernel=3, stride=2, padding=1, dilation=1, depth=2, unit=1)
    before = demo.image.value
    demo.controls["depth"].value = 3  # a single slider event, as in the notebook
    assert demo.error is None and demo.result.depth == 3
    assert demo.image.value != before
    check_against_reference(demo.result, demo.values())


def test_random_settings_match_torch():
    rng = random.Random(2)
    for _ in range(300):
        settings = {
            "input_size": rng.randint(1, 32),
            "kernel": rng.randint(1, 7),
            "stride": rng.randint(1, 4),
            "padding": rng.randint(0, 3),
            "dilation": rng.randint(1, 4),
            "depth": rng.randint(1, 6),
            "unit": rng.randint(0, 31),
        }
        check_against_reference(explore_rf(**settings), settings)


def test_dilation_leaves_holes_in_what_a_unit_sees():
    result = explore_rf(input_size=16, kernel=3, stride=1, padding=0, dilation=3, depth=1, unit=2)
    assert result.stack.maps[0].seen == (2, 5, 8)
    assert result.size == 7 and result.region == (2, 8)


def test_border_unit_hangs_over_the_padding():
    result = explore_rf(input_size=9, kernel=3, stride=2, padding=1, depth=2, unit=0)
    assert result.region == (-3, 3) and result.clipped == (0, 3)
    layer1 = result.stack.maps[1]
    assert layer1.seen == (-1, 0, 1)  # reads one padding cell of layer 1


def test_unit_past_the_end_is_replaced_with_a_note():
    result = explore_rf(input_size=9, kernel=3, stride=2, padding=1, depth=2, unit=20)
    assert result.shown_unit == 2 and "only 3 units, 0 to 2" in result.note
    assert "only 3 unit" in describe_exploration(result)
    lone = explore_rf(input_size=3, kernel=3, stride=1, padding=0, depth=1, unit=5)
    assert lone.shown_unit == 0 and "only 1 unit, unit 0" in lone.note


def test_a_unit_that_reads_only_padding_says_so(demo):
    """1 input pixel, 1x1 kernels, stride 4, padding 3: output unit 1 reads zeros only."""
    settings = dict(input_size=1, kernel=1, stride=4, padding=3, dilation=4, depth=6, unit=31)
    result = demo.set(**settings)
    assert demo.error is None and result.shown_unit == 1
    assert result.clipped[0] > result.clipped[1]  # the engine's "nothing real" box
    assert "only padding" in describe_exploration(result) and "1…0" not in demo.text.value
    assert "only padding" in figure_texts(demo.figure)
    check_against_reference(result, settings)


def test_empty_layer_is_explained_with_the_smallest_input():
    result = explore_rf(input_size=5, kernel=7, stride=1, padding=0, dilation=1, depth=1)
    assert result.empty_layer == 1
    assert "at least 7" in result.problem and result.min_input == 7
    deeper = explore_rf(input_size=9, kernel=3, stride=4, padding=0, dilation=1, depth=3)
    assert deeper.lengths == (9, 2) and deeper.empty_layer == 2
    assert "layer 1's output: 2 units" in deeper.problem
    assert "stride smaller" in deeper.problem  # a stride of 4 emptied layer 2
    assert "fewer layers" in deeper.problem
    assert "stride" not in result.problem  # layer 1 reads the input: its stride is no cause
    assert "Layer 2" in describe_exploration(deeper)


@pytest.mark.parametrize(
    "name, value",
    [("kernel", 0), ("stride", 0), ("padding", -1), ("dilation", 0), ("depth", 0), ("unit", -1)],
)
def test_bad_values_from_code_name_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        explore_rf(**{name: value})
    with pytest.raises(TypeError, match="input_size"):
        explore_rf(input_size=2.5)


def test_the_demo_shows_what_compute_returns(demo):
    settings = dict(input_size=32, kernel=5, stride=2, padding=2, dilation=1, depth=3, unit=1)
    assert demo.set(**settings) == explore_rf(**settings)
    assert demo.result.size == 29 and demo.result.jump == 8


def test_the_plot_itself_explains_an_empty_layer(demo):
    result = demo.set(input_size=5, kernel=7, stride=1, padding=0, dilation=4, depth=2, unit=0)
    assert demo.error is None and result.empty_layer == 1
    texts = figure_texts(demo.figure)
    assert "empty output" in texts and f"at least {result.min_input} pixels" in texts
    assert result.min_input == 25 + 24  # two stride-1 layers whose windows span 25


# -- the Vietnamese edition ----------------------------------------------------------------

#: English words that no Vietnamese readout or label of the explorer may contain (the kept
#: terms, such as input, unit, layer, kernel, stride, padding, dilation, jump, RF, are allowed).
ENGLISH = re.compile(
    r"\b(the|has|sees|needs|showing|only|with|make|larger|smaller|fewer|wider|nothing|empty"
    r"|more|than|its|is|and|or|at|of|to|field|window|position|positions|units|pixels)\b"
)


@pytest.fixture
def vietnamese():
    """Speak Vietnamese during one test, and English again after it, whatever happens."""
    from rflesson.course.i18n import set_language

    set_language("vi")
    yield
    set_language("en")


def test_the_explorer_speaks_vietnamese_at_every_extreme(vietnamese):
    """Readout, problem, note and every text on the figure: no English left, at all 2**7
    corners of the slider box and at the cases with a note or an empty layer."""
    from matplotlib.figure import Figure

    from rflesson.course.lesson02.explorer import MAX_INPUT, MAX_PADDING, draw_exploration

    corners = itertools.product(
        (1, MAX_INPUT), (1, 7), (1, 4), (0, MAX_PADDING), (1, 4), (1, 6), (0, 31)
    )
    seen = {"problem": 0, "note": 0}
    for settings in corners:
        result = explore_rf(*settings)
        figure = Figure(figsize=(8, 3.2))
        draw_exploration(figure, result)
        words = describe_exploration(result) + "\n" + figure_texts(figure)
        assert not ENGLISH.search(words), (settings, ENGLISH.search(words), words)
        seen["problem"] += bool(result.problem)
        seen["note"] += bool(result.note)
    assert seen["problem"] and seen["note"]  # both kinds of message were read
    lone = explore_rf(input_size=1, kernel=3, stride=1, padding=0, dilation=1, depth=1)
    assert "Layer 1 không có output nào. Nó đọc input: 1 pixel, không có padding." in lone.problem
    past = explore_rf(9, kernel=3, stride=2, padding=1, depth=2, unit=31)
    assert past.note == "Output chỉ có 3 unit, từ 0 đến 2: đang hiển thị unit 2."


def test_the_sliders_are_labelled_in_vietnamese(vietnamese):
    demo = rf_explorer()
    labels = [control.description for control in demo.controls.values()]
    assert labels[0] == "kích thước input" and labels[-1] == "unit output"
    assert not any(ENGLISH.search(label) for label in labels), labels


def test_english_is_back_after_vietnamese(vietnamese):
    from rflesson.course.i18n import set_language

    set_language("en")
    result = explore_rf(input_size=1, kernel=3, stride=1, padding=0, dilation=1, depth=1)
    assert result.problem.startswith("Layer 1 has nothing to output.")
