"""Exercises of notebook 02 (receptive-field arithmetic); every answer computed by rflesson."""

from torch import Tensor, nn

from ...layers import Layer
from ...rf import input_region, receptive_field, rf_size
from ..check import exercise
from ..i18n import N_

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

#: Exercise 02.which-pixels: the article's example (3x3, stride 2, padding 1, twice), on 14 pixels.
TWO_3X3_STRIDE2 = [Layer(3, stride=2, padding=1)] * 2


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

_REGION = input_region(TWO_3X3_STRIDE2, 3, input_size=14)
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

# The explanations below state these numbers in their text, so that each explanation is one
# fixed sentence a translator can translate (check shows it in the learner's language).
# They are the engine's: importing this module fails if the engine ever disagrees.
assert (_REGION.unclipped, _REGION.clipped) == ((9, 15), (9, 13))
assert _SIZES == [5, 6, 10, 12, 20] and (_SMALL.jump, _SMALL.center) == (4, 9.5)
assert _STRIDES == [2, 2, 1, 2, 1, 2] and receptive_field(STRIDED_NET).jump == 16
assert (_DEPTH, rf_size([3] * 49, [1] * 49), rf_size([3] * 50, [1] * 50)) == (50, 99, 101)
assert (_PATHS, _STEM_JUMP, _CHAIN) == ({"stem": 3, "wide": 15, "deep": 11}, 2, 23)


@exercise(
    "02.which-pixels",
    hint=N_(
        "Go down one layer at a time, as in the figure: unit u of a layer (3 wide, stride 2, "
        "padding 1) reads units 2u − 1, 2u, 2u + 1 of the map below. Then drop the indices "
        "outside 0…13: they are padding."
    ),
    explain=N_("Its full field is 9…15, but the input ends at pixel 13: it sees real pixels 9…13."),
)
def _which_pixels():
    return input_region(TWO_3X3_STRIDE2, 3, input_size=14).clipped


@exercise(
    "02.rf-by-hand",
    hint=N_(
        "Go layer by layer: r += (k − 1)·j, then j *= s. After pool1 the jump is 2, "
        "after pool2 it is 4."
    ),
    explain=N_("Layer by layer: 5, 6, 10, 12, 20. The last 3x3 conv adds 2 steps of 4 pixels."),
)
def _rf_by_hand():
    return receptive_field(SMALL_NET).size


@exercise(
    "02.jump",
    hint=N_("The jump is the product of all the strides so far; stride-1 layers do not change it."),
    explain=N_(
        "2 · 2 · 1 · 2 · 1 · 2 = 16: neighbouring output units look that many pixels apart."
    ),
)
def _jump():
    return receptive_field(STRIDED_NET).jump


@exercise(
    "02.centre",
    hint=N_("Unit 0 is centred at start + (size − 1)/2, and each next unit one jump further."),
    explain=N_("Unit 0 is centred at 9.5 and the jump is 4, so unit 2 is centred at 17.5."),
)
def _centre():
    rf = receptive_field(SMALL_NET)
    first, last = input_region(SMALL_NET, 2).unclipped
    assert (first + last) / 2 == rf.center + 2 * rf.jump  # two ways to the same centre
    return rf.center + 2 * rf.jump


@exercise(
    "02.depth-for-100",
    hint=N_("Each 3x3 stride-1 layer adds 2 pixels to 1: solve 1 + 2L ≥ 100."),
    explain=N_("49 layers see 99 pixels, 50 layers see 101: linear growth is slow."),
)
def _depth_for_100():
    return _deep_enough(100)


@exercise(
    "02.two-paths",
    hint=N_(
        "Find each path's field on its own (the stem has stride 2), then take the union: "
        "the sum depends on every pixel either path sees."
    ),
    explain=N_(
        "After the stem ({stem} pixels, jump {jump}) the 7x7 path sees {wide} and the two 3x3 "
        "convolutions see {deep}, centred on the same pixel: the union is {union}. Treating all "
        "four layers as a chain would give {chain}, too large."
    ),
    wrong_answers={
        _CHAIN: N_(
            "{chain} is what all four layers in a row would see, but the two branches run side "
            "by side, not one after the other: find each path's field after the stem, then take "
            "the larger one."
        )
    },
    facts={
        "stem": _PATHS["stem"],
        "jump": _STEM_JUMP,
        "wide": _PATHS["wide"],
        "deep": _PATHS["deep"],
        "union": max(_PATHS["wide"], _PATHS["deep"]),
        "chain": _CHAIN,
    },
)
def _two_paths():
    size = receptive_field(TwoPaths(), 32).size
    assert size[0] == size[1] == max(_PATHS["wide"], _PATHS["deep"])
    return size[0]
