"""Exercises of notebook 04 (effective receptive field): every answer is measured by rflesson."""

import torch

from ...erf import erf_map, erf_stats
from ...stacks import conv_stack
from ..check import exercise

#: Exercise 04.depth-for-size: the reference depth and the ERF size to reach.
REFERENCE_DEPTH, TARGET_SIZE = 8, 30.0
#: Exercise 04.grow-most: the base network and the changes on offer.
GROW_CHOICES = {
    "a": ("10 more layers (20 in all)", dict(depth=20)),
    "b": ("dropout 0.5 after every layer", dict(dropout=0.5)),
    "c": ("stride 2 in the first two layers", dict(stride=(2, 2) + (1,) * 8)),
    "d": ("dilation 2 in every layer", dict(dilation=2)),
    "e": ("5x5 kernels instead of 3x3", dict(kernel_size=5)),
}


def reference_size(depth: int = REFERENCE_DEPTH) -> float:
    """The ERF size of a random linear 3x3 stack (81x81 input, 32 networks, seed 0)."""
    return erf_stats(erf_map(lambda: conv_stack(depth), 81, n=32)).size


def grown_sigma(choice: str) -> float:
    """sigma of the ERF of a 10-layer random ReLU 3x3 stack after change ``choice``."""
    options = dict(depth=10, kernel_size=3, activation="relu") | GROW_CHOICES[choice][1]
    depth = options.pop("depth")
    erf = erf_map(lambda: conv_stack(depth, **options), 97, n=16)
    return erf_stats(erf).sigma[1]


@exercise(
    "04.uniform-sigma",
    hint="Each uniform k x k layer adds the variance of a box of k taps, (k^2 - 1) / 12, "
    "per axis; variances add over layers; sigma is the square root.",
    explain="sqrt(12 * (25 - 1) / 12) = sqrt(24) ≈ 4.90 pixels: the measurement agrees.",
    tolerance=0.03,
)
def _uniform_sigma():
    erf = erf_map(conv_stack(12, 5, weights="uniform"), 61, n=1, dtype=torch.float64)
    return erf_stats(erf).sigma[1]


@exercise(
    "04.depth-for-size",
    hint="Size grows like sqrt(depth): depth = 8 * (30 / size at depth 8)^2.",
    explain="A quadratic price: doubling the ERF takes four times the layers.",
    tolerance=0.2,
)
def _depth_for_size():
    return REFERENCE_DEPTH * (TARGET_SIZE / reference_size()) ** 2


@exercise(
    "04.grow-most",
    hint="Depth only buys sqrt(n). Which change multiplies the spacing between the taps "
    "of every later layer, and by how much?",
    explain="Two stride-2 layers make every later layer's taps 4 pixels apart: "
    "its ERF spreads about 4 times as far, more than dilation 2 (2x) or more layers.",
)
def _grow_most():
    return max(GROW_CHOICES, key=grown_sigma)
