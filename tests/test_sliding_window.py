"""The start-here demo: output-size arithmetic and its slider callback."""

import itertools

import pytest
import torch

import rflesson as rfl
from rflesson.course.lesson00.sliding_window import describe_sliding_window


def _torch_length(i, k, s, p):
    """Independent check: ask PyTorch how long the output is."""
    conv = torch.nn.Conv1d(1, 1, k, stride=s, padding=p, bias=False)
    return conv(torch.zeros(1, 1, i)).shape[-1]


@pytest.mark.parametrize(
    "i,k,s,p", list(itertools.product([1, 2, 5, 7, 16], [1, 2, 3, 9], [1, 2, 5], [0, 1, 4]))
)
def test_output_length_matches_pytorch(i, k, s, p):
    window = rfl.sliding_window(i, k, s, p)
    if i + 2 * p < k:
        assert window.n_out == 0 and window.problem
        with pytest.raises(RuntimeError):
            _torch_length(i, k, s, p)
    else:
        assert window.problem is None
        assert window.n_out == _torch_length(i, k, s, p) == rfl.conv_output_size(i, k, s, p)


def test_article_example_and_unseen_pixels():
    window = rfl.sliding_window(7, kernel=3, stride=2, padding=1)
    assert window.starts == (-1, 1, 3, 5) and window.never_seen == ()
    assert rfl.sliding_window(8, kernel=3, stride=2).never_seen == (7,)


def test_unseen_pixels_are_those_no_window_covers():
    for i, k, s, p in itertools.product(range(1, 12), range(1, 6), range(1, 5), range(0, 3)):
        window = rfl.sliding_window(i, k, s, p)
        covered = {a + t for a in window.starts for t in range(k)}
        assert set(window.never_seen) == set(range(i)) - covered


def test_padding_only_windows():
    window = rfl.sliding_window(2, kernel=1, stride=1, padding=2)
    assert window.padding_only == (0, 1, 4, 5)
    assert "only padding" in describe_sliding_window(window)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"input_size": 0, "kernel": 3}, ValueError),
        ({"input_size": 5, "kernel": 0}, ValueError),
        ({"input_size": 5, "kernel": 3, "stride": 0}, ValueError),
        ({"input_size": 5, "kernel": 3, "padding": -1}, ValueError),
        ({"input_size": 5.5, "kernel": 3}, TypeError),
        ({"input_size": 5, "kernel": True}, TypeError),
    ],
)
def test_bad_input_names_the_parameter(kwargs, error):
    with pytest.raises(error) as raised:
        rfl.sliding_window(**kwargs)
    bad = next(name for name, value in kwargs.items() if value in (0, -1, 5.5, True))
    assert bad in str(raised.value)


def test_conv_output_size_error_gives_minimum():
    with pytest.raises(ValueError, match="at least 3"):
        rfl.conv_output_size(2, kernel=5, padding=1)


def test_demo_callback_at_every_extreme():
    demo = rfl.output_size_demo()
    ranges = {name: (c.min, c.max) for name, c in demo.controls.items()}
    for values in itertools.product(*ranges.values()):
        settings = dict(zip(ranges, values, strict=True))
        result = demo.set(**settings)
        assert demo.error is None, (settings, demo.error)
        assert result == rfl.sliding_window(**settings)
        assert bytes(demo.image.value[:4]) == b"\x89PNG"
        if result.problem:
            assert "fits nowhere" in demo.text.value


def test_moving_one_slider_redraws():
    demo = rfl.output_size_demo()
    before = demo.image.value
    demo.controls["stride"].value = 1
    assert demo.result.n_out == 7 and demo.image.value != before


def test_sentences_agree_in_number():
    one = rfl.sliding_window(1, kernel=1, stride=5, padding=4)
    assert one.never_seen == (0,)
    assert "Input pixel 0 (red outline) is never seen" in describe_sliding_window(one)
    many = rfl.sliding_window(16, kernel=9, stride=5)
    assert "Input pixels 14, 15 (red outline) are never seen" in describe_sliding_window(many)
    tiny = rfl.sliding_window(1, kernel=9)
    assert "(1 + 2·0 = 1 pixel)" in tiny.problem
    assert "(2 + 2·0 = 2 pixels)" in rfl.sliding_window(2, kernel=9).problem
    lone_grey = rfl.sliding_window(2, kernel=1, stride=2, padding=1)
    assert lone_grey.padding_only == (0,)
    assert "The grey window sees only padding." in describe_sliding_window(lone_grey)


def _overlaps(boxes) -> list[tuple[int, int]]:
    return [
        (a, b)
        for a in range(len(boxes))
        for b in range(a + 1, len(boxes))
        if boxes[a].overlaps(boxes[b])
    ]


def test_demo_keeps_one_frame_and_readable_labels_at_every_extreme():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    demo = rfl.output_size_demo()
    ranges = {name: (c.min, c.max) for name, c in demo.controls.items()}
    frames = set()
    for values in itertools.product(*ranges.values()):
        demo.set(**dict(zip(ranges, values, strict=True)))
        ax = demo.figure.axes[0]
        frames.add(ax.get_xlim())
        renderer = FigureCanvasAgg(demo.figure).get_renderer()
        texts = [t for t in ax.texts if t.get_text().startswith("out ")]
        boxes = [t.get_window_extent(renderer) for t in texts]
        assert not _overlaps(boxes), (values, [t.get_text() for t in texts])
        if demo.result.n_out:
            assert texts[0].get_text() == "out 0"
            assert texts[-1].get_text() == f"out {demo.result.n_out - 1}"
        numbers = [t for t in ax.texts if t.get_text().lstrip("-").isdigit()]
        number_boxes = [t.get_window_extent(renderer) for t in numbers]
        assert not _overlaps(number_boxes), values
        assert all(demo.figure.bbox.contains(b.x0, b.y0) for b in boxes + number_boxes)
    assert len(frames) == 1  # pixels keep their place and size while a slider moves


# -- the Vietnamese edition ----------------------------------------------------------


@pytest.fixture
def language():
    """Switch the course's language inside a test; English again afterwards, whatever happens."""
    yield rfl.set_language
    rfl.set_language("en")


def _visible_texts(demo) -> list[str]:
    """Everything a learner reads in a demo: the readout, control labels and figure texts."""
    texts = [demo.text.value] + [control.description for control in demo.controls.values()]
    for ax in demo.figure.axes:
        texts += [t.get_text() for t in ax.texts]
    return [t for t in texts if t]


#: Shown identically in both languages: terms the glossary keeps, and symbols.
KEPT = {"input", "kernel k", "stride s", "padding p"}


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"input_size": 1, "kernel": 9, "stride": 1, "padding": 0},  # no output
        {"input_size": 16, "kernel": 1, "stride": 1, "padding": 4},  # padding-only windows
        {"input_size": 16, "kernel": 9, "stride": 5, "padding": 0},  # pixels never seen
        {"input_size": 1, "kernel": 1, "stride": 5, "padding": 4},  # one pixel never seen
    ],
)
def test_demo_speaks_vietnamese_with_no_english_left(language, settings):
    english = rfl.output_size_demo()
    english.set(**settings)
    language("vi")
    vietnamese = rfl.output_size_demo()
    vietnamese.set(**settings)
    assert vietnamese.error is None
    shown_in_english = set(_visible_texts(english))
    for text in _visible_texts(vietnamese):
        if text in shown_in_english and text not in KEPT:
            # Only the formula (numbers and "floor") may read the same in both languages.
            assert text.startswith("o = floor(") or not any(c.isalpha() for c in text), text
    assert len(_visible_texts(vietnamese)) == len(_visible_texts(english))


def test_vietnamese_sentences_and_labels(language):
    language("vi")
    window = rfl.sliding_window(1, kernel=9)
    assert "(1 + 2·0 = 1 pixel)" in window.problem and "không vừa" in window.problem
    many = rfl.sliding_window(16, kernel=9, stride=5)
    assert "pixel input 14, 15 (viền đỏ)" in describe_sliding_window(many)
    demo = rfl.output_size_demo()
    labels = [t.get_text() for t in demo.figure.axes[0].texts]
    assert "output 0" in labels and "out 0" not in labels
    language("en")
    assert "Input pixels 14, 15" in describe_sliding_window(many)
