"""Exercises of notebook 02 (receptive-field arithmetic); every answer computed by rflesson."""

from torch import Tensor, nn

from ...layers import Layer
from ...rf import input_region, receptive_field, rf_size
from ..check import exercise

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


class TwoPaths(nn.Module):
    """Exercise 02.two-paths: a strided stem, then a 7x7 path and a two-3x3 path, added.

    Every convolution has "same" padding, so both paths are centred on the same
    pixel and the sum's field is simply the larger of the two.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 1, 3, stride=2, padding=1)
        self.wide = nn.Conv2d(1, 1, 7, padding=3)
        self.deep = nn.Sequential(
            nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(), nn.Conv2d(1, 1, 3, padding=1)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        return self.wide(x) + self.deep(x)


_TWO = TwoPaths()
_PATHS = {name: receptive_field(_TWO, 32, output=name).size[0] for name in ("stem", "wide", "deep")}
_STEM_JUMP = receptive_field(_TWO, 32, output="stem").jump[0]
_CHAIN = rf_size([3, 7, 3, 3], [2, 1, 1, 1])  # the wrong answer: all four layers in a row

_REGION = input_region(ARTICLE_NET, 3, input_size=14)
_SIZES = [receptive_field(SMALL_NET[:k]).size for k in range(1, len(SMALL_NET) + 1)]
_SMALL = receptive_field(SMALL_NET)
_STRIDES = [layer.stride[0] for layer in STRIDED_NET]


def _deep_enough(size: int) -> int:
    """The fewest 3x3 stride-1 layers whose RF reaches ``size`` pixels."""
    depth = 1
    while receptive_field([Layer(3, padding=1)] * depth).size < size:
        depth += 1
    return depth


_DEPTH = _deep_enough(100)


@exercise(
    "02.which-pixels",
    hint="Go down one layer at a time, as in the figure: unit u of a layer (3 wide, stride 2, "
    "padding 1) reads units 2u − 1, 2u, 2u + 1 of the map below. Then drop the indices outside "
    "0…13: they are padding.",
    explain=f"Its full field is {_REGION.unclipped[0]}…{_REGION.unclipped[1]}, but the input "
    f"ends at pixel 13: it sees real pixels {_REGION.clipped[0]}…{_REGION.clipped[1]}.",
)
def _which_pixels():
    return input_region(ARTICLE_NET, 3, input_size=14).clipped


@exercise(
    "02.rf-by-hand",
    hint="Go layer by layer: r += (k − 1)·j, then j *= s. After pool1 the jump is 2, "
    "after pool2 it is 4.",
    explain=f"Layer by layer: {', '.join(map(str, _SIZES))}. The last 3x3 conv adds 2 steps "
    f"of {_SMALL.jump} pixels.",
)
def _rf_by_hand():
    return receptive_field(SMALL_NET).size


@exercise(
    "02.jump",
    hint="The jump is the product of all the strides so far; stride-1 layers do not change it.",
    explain=f"{' · '.join(map(str, _STRIDES))} = {receptive_field(STRIDED_NET).jump}: "
    "neighbouring output units look that many pixels apart.",
)
def _jump():
    return receptive_field(STRIDED_NET).jump


@exercise(
    "02.centre",
    hint="Unit 0 is centred at start + (size − 1)/2, and each next unit one jump further.",
    explain=f"Unit 0 is centred at {_SMALL.center:g} and the jump is {_SMALL.jump}, so unit 2 "
    f"is centred at {_SMALL.center + 2 * _SMALL.jump:g}.",
)
def _centre():
    rf = receptive_field(SMALL_NET)
    first, last = input_region(SMALL_NET, 2).unclipped
    assert (first + last) / 2 == rf.center + 2 * rf.jump  # two ways to the same centre
    return rf.center + 2 * rf.jump


@exercise(
    "02.depth-for-100",
    hint="Each 3x3 stride-1 layer adds 2 pixels to 1: solve 1 + 2L ≥ 100.",
    explain=f"{_DEPTH - 1} layers see {rf_size([3] * (_DEPTH - 1), [1] * (_DEPTH - 1))} pixels, "
    f"{_DEPTH} layers see {rf_size([3] * _DEPTH, [1] * _DEPTH)}: linear growth is slow.",
)
def _depth_for_100():
    return _deep_enough(100)


@exercise(
    "02.two-paths",
    hint="Find each path's field on its own (the stem has stride 2), then take the union: "
    "the sum depends on every pixel either path sees.",
    explain=f"After the stem ({_PATHS['stem']} pixels, jump {_STEM_JUMP}) the 7x7 path sees {_PATHS['wide']} "
    f"and the two 3x3 convolutions see {_PATHS['deep']}, centred on the same pixel: the union "
    f"is {max(_PATHS['wide'], _PATHS['deep'])}. Treating all four layers as a chain would "
    f"give {_CHAIN}, too large.",
    wrong_answers={
        _CHAIN: f"{_CHAIN} is what all four layers in a row would see, but the two branches "
        "run side by side, not one after the other: find each path's field after the stem, "
        "then take the larger one."
    },
)
def _two_paths():
    size = receptive_field(TwoPaths(), 32).size
    assert size[0] == size[1] == max(_PATHS["wide"], _PATHS["deep"])
    return size[0]
