"""Exercises of notebook 04 (effective receptive field): every answer is measured by rflesson."""

from functools import lru_cache

import torch

from ...erf import erf_map, erf_stats
from ...stacks import conv_stack
from ..check import exercise
from ..i18n import N_, _
from .experiments import measure_stack

#: Exercise 04.depth-for-size: the reference depth and the ERF size to reach.
REFERENCE_DEPTH, TARGET_SIZE = 8, 30.0
#: Exercise 04.grow-most: the base network and the changes on offer.
GROW_BASE = dict(depth=10, kernel_size=3, activation="relu")
#: Each choice is (its text, translated when shown by :func:`grow_choices`; its options).
GROW_CHOICES = {
    "a": (N_("10 more layers (20 in all)"), dict(depth=20)),
    "b": (N_("dropout 0.5 after every layer"), dict(dropout=0.5)),
    "c": (N_("stride 2 in the first two layers"), dict(stride=(2, 2) + (1,) * 8)),
    "d": (N_("dilation 2 in every layer"), dict(dilation=2)),
    "e": (N_("5x5 kernels instead of 3x3"), dict(kernel_size=5)),
}


def grow_choices() -> dict[str, str]:
    """The choices of exercise 04.grow-most, letter -> text, in the course's language."""
    return {letter: _(text) for letter, (text, _options) in GROW_CHOICES.items()}


@lru_cache(maxsize=4)
def reference_size(depth: int = REFERENCE_DEPTH) -> float:
    """The ERF size of a random linear 3x3 stack (32 networks, seed 0, float64).

    Measured on an input that holds the whole theoretical RF.
    """
    return measure_stack(depth, n=32).stats.size


@lru_cache(maxsize=8)
def grown(choice: str | None = None):
    """The ERF of the 10-layer random ReLU 3x3 stack after change ``choice`` (None: unchanged).

    16 networks, seed 0, float64, on an input that holds the whole
    theoretical RF (73 pixels for the strided stack).  Cached: the notebook's
    table and the check below it share one measurement.
    """
    options = GROW_BASE | (GROW_CHOICES[choice][1] if choice else {})
    depth = options.pop("depth")
    return measure_stack(depth, n=16, **options)


def grown_sigma(choice: str | None = None) -> float:
    """sigma (pixels) of :func:`grown`."""
    return grown(choice).stats.sigma[1]


@exercise(
    "04.uniform-sigma",
    hint=N_(
        "Each uniform k x k layer adds the variance of a box of k taps, (k^2 - 1) / 12, "
        "per axis; variances add over layers; sigma is the square root."
    ),
    explain=N_("sqrt(12 * (25 - 1) / 12) = sqrt(24) ≈ 4.90 pixels: the measurement agrees."),
    tolerance=0.03,
)
def _uniform_sigma():
    erf = erf_map(conv_stack(12, 5, weights="uniform"), 61, n=1, dtype=torch.float64)
    return erf_stats(erf).sigma[1]


@exercise(
    "04.depth-for-size",
    hint=N_("Size grows like sqrt(depth): depth = 8 * (30 / size at depth 8)^2."),
    explain=N_("A quadratic price: doubling the ERF takes four times the layers."),
    tolerance=0.2,
)
def _depth_for_size():
    return REFERENCE_DEPTH * (TARGET_SIZE / reference_size()) ** 2


@exercise(
    "04.grow-most",
    hint=N_(
        "Depth only buys sqrt(n). Which change multiplies the spacing between the taps "
        "of every later layer, and by how much?"
    ),
    explain=N_(
        "Two stride-2 layers make every later layer's taps 4 pixels apart: the ERF "
        "widens several times over, more than dilation 2 (about 2x), 5x5 kernels or more layers."
    ),
)
def _grow_most():
    return max(GROW_CHOICES, key=grown_sigma)
