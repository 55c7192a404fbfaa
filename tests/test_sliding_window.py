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
