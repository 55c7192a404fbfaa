"""Exercises of notebook 02 (receptive-field arithmetic); every answer computed by rflesson."""

from ..check import exercise
from ..layers import Layer
from ..rf import input_region, receptive_field

#: Exercise 02.rf-by-hand (and 02.centre): a small LeNet-like network.
SMALL_NET = [
    Layer(5, name="conv1"),
    Layer(2, stride=2, name="pool1"),
    Layer(3, name="conv2"),
    Layer(2, stride=2, name="pool2"),
    Layer(3, name="conv3"),
]

#: Exercise 02.jump: a ResNet-like stem and three more stages.
STRIDED_NET = [
    Layer(7, stride=2, padding=3, name="conv1"),
    Layer(3, stride=2, padding=1, name="pool"),
    Layer(3, padding=1, name="conv2"),
    Layer(3, stride=2, padding=1, name="conv3"),
    Layer(3, padding=1, name="conv4"),
    Layer(3, stride=2, padding=1, name="conv5"),
]

#: Exercise 02.which-pixels: the article's layer twice, on a 14-pixel input.
ARTICLE_NET = [Layer(3, stride=2, padding=1)] * 2


@exercise(
    "02.which-pixels",
    hint="Unit u of the second layer starts at start + u·jump = −3 + 3·4 and spans 7 pixels; "
    "then keep only pixels 0 to 13.",
    explain="Its full field is 9…15, but pixels 14 and 15 are padding: it sees real pixels 9…13.",
)
def _which_pixels():
    return input_region(ARTICLE_NET, 3, input_size=14).clipped


@exercise(
    "02.rf-by-hand",
    hint="Go layer by layer: r += (k − 1)·j, then j *= s. After pool1 the jump is 2, "
    "after pool2 it is 4.",
    explain="5, 6, 10, 12, 20: the last 3x3 conv adds 2 steps of 4 pixels.",
)
def _rf_by_hand():
    return receptive_field(SMALL_NET).size


@exercise(
    "02.jump",
    hint="The jump is the product of all the strides so far; stride-1 layers do not change it.",
    explain="2 · 2 · 1 · 2 · 1 · 2 = 16: neighbouring output units look 16 pixels apart.",
)
def _jump():
    return receptive_field(STRIDED_NET).jump


@exercise(
    "02.centre",
    hint="Unit u is centred at center + u·jump; for unit 0: start + (size − 1)/2.",
    explain="Unit 0 is centred at 9.5 and the jump is 4, so unit 2 is centred at 17.5.",
)
def _centre():
    rf = receptive_field(SMALL_NET)
    first, last = input_region(SMALL_NET, 2).unclipped
    assert (first + last) / 2 == rf.center + 2 * rf.jump  # two ways to the same centre
    return rf.center + 2 * rf.jump


@exercise(
    "02.depth-for-100",
    hint="Each 3x3 stride-1 layer adds 2 pixels to 1: solve 1 + 2L ≥ 100.",
    explain="49 layers see 99 pixels, 50 layers see 101: linear growth is slow.",
)
def _depth_for_100():
    depth = 1
    while receptive_field([Layer(3, padding=1)] * depth).size < 100:
        depth += 1
    return depth
