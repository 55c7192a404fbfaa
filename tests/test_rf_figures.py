"""Notebook 02's figures: the data behind them is right, and they draw on edge cases."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.path import Path

import rflesson as rfl
from rflesson import Layer
from rflesson.course.blit import figure_png
from rflesson.course.lesson02.figures import (
    BEYOND,
    PADDING,
    Panel,
    _rect_segments,
    draw_alignment,
    draw_connections,
    draw_gradient_check,
    draw_grid,
    draw_layer_grids,
    draw_layered,
    draw_rf_vs_depth,
    draw_segmentation,
    gradient_map,
    kinds,
    layer_stack,
    photo,
    spatial_sizes,
)

TWO_3X3_STRIDE2 = [Layer(3, stride=2, padding=1)] * 2  # the article's example


def render(fig: Figure) -> bytes:
    data = figure_png(fig)
    assert data[:4] == b"\x89PNG"
    return data


def test_layer_stack_of_the_articles_example():
    stack = layer_stack(TWO_3X3_STRIDE2, 9, 1)
    assert [m.n for m in stack.maps] == [9, 5, 3]
    assert [m.size for m in stack.maps] == [1, 3, 7]
    assert [m.jump for m in stack.maps] == [1, 2, 4]
    assert stack.maps[0].seen == tuple(range(1, 8)) and stack.maps[0].box == (1, 7)
    assert stack.maps[1].seen == (1, 2, 3) and stack.maps[1].box == (1, 3)
    assert stack.clipped == (1, 7)


def test_layer_stack_counts_padding_cells_but_does_not_follow_them():
    stack = layer_stack(TWO_3X3_STRIDE2, 9, 0)
    assert stack.maps[1].seen == (-1, 0, 1)
    assert stack.maps[0].seen == (-1, 0, 1, 2, 3)  # not -3, -2: padding reads nothing
    assert stack.maps[0].box == (-3, 3)


def test_layer_stack_rejects_bad_input():
    with pytest.raises(TypeError, match="1-D"):
        layer_stack([Layer((3, 3))], 9, 0)
    with pytest.raises(TypeError, match="layers"):
        layer_stack([], 9, 0)
    with pytest.raises(ValueError, match="index"):
        layer_stack(TWO_3X3_STRIDE2, 9, 3)
    with pytest.raises(ValueError, match="too small"):
        layer_stack([Layer(5)], 3, 0)


@pytest.mark.parametrize(
    "layers, n, unit",
    [
        ([Layer(1)], 1, 0),  # the smallest network there is
        (TWO_3X3_STRIDE2, 9, 0),  # border unit, box beyond the padding
        ([Layer(3, dilation=4)] * 3, 32, 3),  # holes, wide box
        ([Layer(7, stride=4, padding=3)] * 3, 32, 0),  # box far beyond the padding
        ([Layer(2, stride=2)] * 4, 16, 0),  # even kernels: half-pixel centres
    ],
)
def test_layered_pictures_draw(layers, n, unit):
    stack = layer_stack(layers, n, unit)
    fig = Figure(figsize=(6, 3))
    draw_layered(fig.add_subplot(), stack)
    render(fig)
    fig = Figure(figsize=(6, 3))
    draw_layer_grids(fig, stack)
    render(fig)
    fig = Figure()
    draw_grid(fig.add_subplot(), stack, layer_stack(layers, n, 0), level=0, numbers=False)
    render(fig)


def test_photo_is_offline_and_read_only():
    image = photo()
    assert image.shape == (600, 512, 3) and 0 <= image.min() and image.max() <= 1
    assert not image.flags.writeable
    assert photo(4).shape == (150, 128, 3)
    with pytest.raises(ValueError, match="step"):
        photo(0)


def test_segmentation_and_connections_draw():
    fig = Figure()
    draw_segmentation(fig, photo(4), (60, 60), [("small", 5), ("huge", 400)])
    render(fig)
    for n_in, kernel in [(1, 1), (1, 3), (9, 3), (12, 7)]:
        fig = Figure()
        draw_connections(fig, n_in, kernel)
        render(fig)


def test_alignment_draws_border_and_lone_units():
    for layers, n, units in [
        (TWO_3X3_STRIDE2, 9, [0, 1, 2]),
        ([Layer(3)], 3, [0]),
        ([Layer(1)], 1, [0]),
    ]:
        fig = Figure()
        draw_alignment(fig.add_subplot(), layers, n, units)
        render(fig)


def test_rf_vs_depth_and_spatial_sizes():
    table = rfl.rf_table(rfl.zoo.vgg16(width=0.05), 224, pointwise=False)
    sizes = spatial_sizes(table)
    assert sizes[:3] == [3, 5, 6] and sizes[-1] == 212 and len(sizes) == 18
    resnet = spatial_sizes(rfl.rf_table(rfl.zoo.resnet18(width=0.05), 224, pointwise=False))
    assert resnet[-1] == 435 and resnet == sorted(resnet)
    fig = Figure()
    ax = fig.add_subplot()
    draw_rf_vs_depth(ax, {"vgg": sizes, "one": [3]}, input_size=224, log=True)
    render(fig)


def test_gradient_map_is_nonzero_exactly_where_the_unit_looks():
    layers = [Layer(3, dilation=2), Layer(3, stride=2, padding=1)]
    grad = gradient_map(layers, 16, (2, 3))
    rows = layer_stack(layers, 16, 2)
    cols = layer_stack(layers, 16, 3)
    real = [[t for t in s.maps[0].seen if 0 <= t < 16] for s in (rows, cols)]
    expected = np.zeros((16, 16), dtype=bool)
    expected[np.ix_(*real)] = True
    assert np.array_equal(grad > 0, expected)
    region = rfl.input_region(layers, (2, 3), (16, 16))
    fig = Figure()
    draw_gradient_check(fig.add_subplot(), grad, region.clipped)
    render(fig)


def test_layered_picture_takes_a_title_and_says_unit_for_one():
    stack = layer_stack([Layer(3, stride=2)] * 2, 9, 0)
    assert stack.output.n == 1
    fig = Figure()
    ax = fig.add_subplot()
    draw_layered(ax, stack, title="padding 0")
    texts = [t.get_text() for t in ax.texts]
    assert "padding 0" in texts and "layer 2: 1 unit, RF 7, jump 4" in texts
    render(fig)


def test_default_title_uses_true_minus_signs():
    fig = Figure()
    ax = fig.add_subplot()
    draw_layered(ax, layer_stack(TWO_3X3_STRIDE2, 9, 0), prefix="padding 1: ")
    title = ax.texts[-1].get_text()
    assert title == "padding 1: unit 0 sees input −3…3 (size 7, centre 0); real pixels 0…3"


def by_gid(artists, gid):
    found = [a for a in artists if a.get_gid() == gid]
    assert len(found) <= 1, f"several artists with gid {gid}"
    return found[0] if found else None


def count(patch) -> int:
    """How many cells or hatch strokes a compound path draws (its MOVETOs); 0 if absent."""
    if patch is None:
        return 0
    return int((patch.get_path().codes == Path.MOVETO).sum())


def test_alignment_hatches_only_the_padding_that_exists():
    """The article's layer pads the input by 1: only pixels -1 and 9 are padding.

    Unit 0's field reaches -3: pixels -3 and -2 are no padding any layer reads,
    only the field's arithmetic; they are dotted, not hatched (the figure used
    to hatch -3..-1, as if the input had 3 pixels of padding).
    """
    fig = Figure()
    ax = fig.add_subplot()
    draw_alignment(ax, TWO_3X3_STRIDE2, 9, [0, 1, 2])
    hatch, beyond = by_gid(ax.patches, "padding"), by_gid(ax.patches, "beyond")
    assert count(hatch) == 3 * 2  # three strokes on each of the 2 padding pixels
    assert count(beyond) == 4  # -3, -2, 10, 11
    xs = sorted({round(float(v), 2) for v in beyond.get_path().vertices[:, 0]})
    assert xs[0] < -2.4 and xs[-1] > 11.4  # the dotted cells sit at both ends
    render(fig)


@pytest.mark.parametrize(
    "layers, n, unit",
    [
        (TWO_3X3_STRIDE2, 9, 0),
        ([Layer(7, stride=4, padding=3)] * 3, 32, 0),
        ([Layer(1, padding=3)] * 6, 32, 0),  # boxes far beyond the padding
        ([Layer(3, dilation=2, padding=2)] * 3, 12, 0),
    ],
)
def test_layered_and_grid_draw_padding_and_beyond_the_same_way(layers, n, unit):
    """Every map: hatch strokes exactly on its padding, dotted cells exactly beyond it."""
    stack = layer_stack(layers, n, unit)
    fig = Figure()
    ax = fig.add_subplot()
    draw_layered(ax, stack)
    from rflesson.course.lesson02.figures import _row_positions

    padding = beyond = 0
    for view in stack.maps:
        k = kinds(_row_positions(view), view.n, view.pad)
        padding, beyond = padding + int((k == PADDING).sum()), beyond + int((k == BEYOND).sum())
    assert count(by_gid(ax.patches, "padding")) == 3 * padding
    assert count(by_gid(ax.patches, "beyond")) == beyond
    assert min(t.get_fontsize() for t in ax.texts) >= 9  # row labels readable
    render(fig)
    fig = Figure()
    ax = fig.add_subplot()
    draw_grid(ax, stack, level=0)
    image = ax.images[0].get_array()
    view = stack.maps[0]
    k = kinds(_row_positions(view), view.n, view.pad)
    ring = np.outer(k != BEYOND, k != BEYOND) & ~np.outer(k == 0, k == 0)
    assert count(by_gid(ax.patches, "padding")) == int(ring.sum())  # one stroke a cell
    clear = np.asarray(image)[..., 3] == 0
    assert np.array_equal(clear, np.outer(k == BEYOND, np.ones(len(k), bool))
                          | np.outer(np.ones(len(k), bool), k == BEYOND))  # fmt: skip
    render(fig)


def test_a_box_that_runs_off_the_drawing_stays_open_on_that_side():
    closed = _rect_segments(0, 4, 0, 1, (-10, 10))
    assert len(closed) == 4
    open_right = _rect_segments(0, 40, 0, 1, (-10, 10))
    assert len(open_right) == 3 and max(x for seg in open_right for x, _ in seg) == 10
    assert _rect_segments(0, 4, -5, 5, (-10, 10), (-1, 1)) == [[(0, -1), (0, 1)], [(4, -1), (4, 1)]]


def test_a_panel_draws_like_an_axes():
    """The explorer's panels: data coordinates, text and images placed as on an Axes."""
    fig = Figure(figsize=(2, 2), dpi=100)
    FigureCanvasAgg(fig)
    panel = Panel(fig, (0, 0, 1, 1))
    panel.set_xlim(-0.5, 1.5)
    panel.set_ylim(1.5, -0.5)  # rows downwards, as draw_grid sets them
    image = np.zeros((2, 2, 4))
    image[..., 3] = 1
    image[0, 0] = (1, 0, 0, 1)  # row 0, column 0: red, at the top left
    panel.imshow(image, extent=(-0.5, 1.5, 1.5, -0.5), interpolation="nearest")
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    assert tuple(pixels[30, 30, :3]) == (255, 0, 0)  # top left
    assert tuple(pixels[170, 30, :3]) == (0, 0, 0)  # bottom left
    assert np.allclose(panel.transData.transform((0, 0)), (50, 150))  # pixels, y up
    label = panel.text(0.5, 0.5, "centre", transform=panel.transAxes)
    assert label in fig.texts


def test_exercises_of_notebook_02_match_a_hand_computation():
    """Each answer, redone here with the textbook recurrences; wrong answers are refused."""
    from rflesson.course.check import EXERCISES, check
    from rflesson.course.lesson02 import exercises as nb02

    def walk(layers):  # (size, jump, start) by Dang Ha The Hien's recurrences
        size, jump, start = 1, 1, 0
        for layer in layers:
            (k,), (s,), (d,) = layer.kernel, layer.stride, layer.dilation
            size, start, jump = (
                size + d * (k - 1) * jump,
                start - layer.padding(1)[0][0] * jump,
                jump * s,
            )
        return size, jump, start

    size, jump, start = walk(nb02.SMALL_NET)
    _, article_jump, article_start = walk(nb02.TWO_3X3_STRIDE2)
    first = article_start + 3 * article_jump  # unit 3; its field is 7 wide, the input 14
    by_hand = {
        "02.rf-by-hand": size,
        "02.jump": walk(nb02.STRIDED_NET)[1],
        "02.centre": start + (size - 1) / 2 + 2 * jump,
        "02.which-pixels": (first, min(first + 6, 13)),
        "02.depth-for-100": next(n for n in range(1, 200) if 1 + 2 * n >= 100),
        # stem 3 (jump 2); 7x7 path 3 + 6*2, two 3x3s 3 + 2*2 + 2*2; the sum sees the larger
        "02.two-paths": max(3 + 6 * 2, 3 + 2 * 2 + 2 * 2),
    }
    assert sorted(by_hand) == sorted(i for i in EXERCISES if i.startswith("02."))
    assert by_hand["02.rf-by-hand"] == 20 and by_hand["02.which-pixels"] == (9, 13)
    measured = rfl.gradient_rf(nb02.TwoPaths(), 32)  # the branches, by back-propagation
    assert measured.size == (by_hand["02.two-paths"],) * 2
    for exercise_id, answer in by_hand.items():
        assert check(exercise_id, answer).correct, exercise_id
        assert EXERCISES[exercise_id].expected() == answer
        assert not check(exercise_id, "certainly wrong").correct


def test_resnet50_main_path_variants():
    """torchvision's stride placement gives the traced model's 427; the other two give 483."""
    from rflesson.course.lesson02.figures import resnet50_main_path

    def walk(layers):  # the textbook size recurrence, written out again
        size, jump = 1, 1
        for layer in layers:
            size += (layer.kernel[0] - 1) * jump
            jump *= layer.stride[0]
        return size, jump

    model = rfl.receptive_field(rfl.zoo.resnet50(width=0.01), 224, output="layer4")
    torchvision = rfl.receptive_field(resnet50_main_path("first 3x3"), 224)
    assert (torchvision.size, torchvision.start) == (model.size[0], model.start[0]) == (427, -213)
    assert walk(resnet50_main_path()) == (427, 32)
    assert (
        walk(resnet50_main_path("first 1x1")) == walk(resnet50_main_path("last 3x3")) == (483, 32)
    )
    with pytest.raises(ValueError, match="stride_at"):
        resnet50_main_path("middle")


def test_a_box_far_beyond_the_padding_is_named_not_drawn():
    """1x1 kernels, stride 4, padding 3: unit 0's field sits at -4095, 4092 cells past the
    padding. The picture stays small (it once drew every cell in between) and says where."""
    stack = layer_stack([Layer(1, stride=4, padding=3)] * 6, 1, 0)
    assert stack.maps[0].box == (-4095, -4095)
    fig = Figure()
    ax = fig.add_subplot()
    draw_layered(ax, stack)
    cells = sum(count(p) for p in ax.patches if p.get_gid() in ("cells", "beyond"))
    assert cells < 200
    texts = [t.get_text() for t in ax.texts]
    assert "← field at −4095" in texts
    fig = Figure()
    ax = fig.add_subplot()
    draw_grid(ax, stack, level=0)
    assert ax.images[0].get_array().shape[0] < 40
    assert "field off the grid, at −4095" in ax.texts[-1].get_text()
    render(fig)


# -- the Vietnamese edition ----------------------------------------------------------------


@pytest.fixture
def vietnamese():
    """Speak Vietnamese during one test, and English again after it, whatever happens."""
    rfl.set_language("vi")
    yield
    rfl.set_language("en")


def test_figures_are_labelled_in_vietnamese(vietnamese):
    """Titles, row labels, axis labels and annotations of lesson 02's figures, rendered."""
    stack = layer_stack(TWO_3X3_STRIDE2, 9, 0)
    fig = Figure()
    ax = fig.add_subplot()
    draw_layered(ax, stack)
    texts = [t.get_text() for t in ax.texts]
    assert "layer 2: 3 unit, RF 7, jump 4" in texts and "input: 9 pixel" in texts
    assert texts[-1] == "unit 0 thấy input −3…3 (kích thước 7, tâm 0); pixel thật 0…3"
    fig = Figure()
    draw_layer_grids(fig, layer_stack([Layer(1, stride=4, padding=3)] * 6, 1, 0))
    titles = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "RF nằm ngoài lưới, ở −4095" in "\n".join(titles)
    render(fig)
    fig = Figure(figsize=(8, 1.9))
    draw_connections(fig, n_in=9, kernel=3)
    assert [ax.get_title() for ax in fig.axes] == ["tích chập: thấy 3 trên 9",
                                                   "fully connected: thấy cả 9"]  # fmt: skip
    assert "unit output" in [t.get_text() for t in fig.axes[0].texts]
    render(fig)
    fig = Figure()
    ax = fig.add_subplot()
    draw_alignment(ax, TWO_3X3_STRIDE2, 9, [0, 1])
    assert {"unit 0", "unit 1", "jump 4"} <= {t.get_text() for t in ax.texts}
    fig = Figure()
    ax = fig.add_subplot()
    draw_rf_vs_depth(ax, {"VGG-16": [3, 5, 6]}, input_size=224)
    assert ax.get_ylabel() == "receptive field (pixel)"
    assert ax.get_xlabel() == "layer (tích chập và pooling, theo thứ tự)"
    fig = Figure()
    ax = fig.add_subplot()
    draw_gradient_check(ax, np.ones((5, 5)), ((1, 3), (1, 3)))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("cột của input", "hàng của input")
    render(fig)


def test_every_hint_and_explanation_of_notebook_02_is_translated(vietnamese):
    """check shows these through _() (each is one fixed sentence): each has a Vietnamese text
    with the same numbers."""
    from rflesson.course.check import EXERCISES
    from rflesson.course.i18n import _
    from rflesson.course.lesson02 import exercises  # noqa: F401  (registers them)

    ours = [e for i, e in EXERCISES.items() if i.startswith("02.")]
    assert len(ours) == 6
    for found in ours:
        for english in (found.hint, found.explain):
            vietnamese_text = _(english)
            assert vietnamese_text != english, english
            numbers = sorted(re.findall(r"\d+(?:\.\d+)?", english))
            assert sorted(re.findall(r"\d+(?:\.\d+)?", vietnamese_text)) == numbers, english
