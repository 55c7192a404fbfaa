"""Exercises of notebook 01 (biology): spots, orientations and stacked layers.

Each exercise asks about a setting the notebook has not shown yet, so that the
learner predicts before the notebook (or the demo) shows the result.
"""

import numpy as np

from ..check import exercise
from ..i18n import N_
from . import bio

#: The spot diameters offered in exercise 01.best-spot (pixels).
SPOT_CHOICES = (4, 16, 32, 64)
#: The orientations offered in exercise 01.mystery-orientation (degrees).
ORIENTATION_CHOICES = (0, 30, 60, 90, 120, 150)
#: The mystery cell prefers an orientation the notebook's example cells do not
#: show (they show 0, 45, 90 and 135), and it is edge-like (odd phase) while they
#: are bar-like: the learner must read the orientation, not match a picture.
_MYSTERY_ORIENTATION = 60.0
_MYSTERY_PHASE = 90.0

#: The cell of exercise 01.best-spot: centre σ = 3 px, surround 6x wider, balanced.
_BEST_SPOT_CELL = (3.0, 6.0)
#: Width of its excitatory centre (continuous model).
_BEST_SPOT_CENTRE = bio.dog_centre_diameter(*_BEST_SPOT_CELL)

#: The OFF cell and the light spot of exercise 01.off-light-spot: centre σ = 2 px,
#: surround 6x wider with the average real strength, and a 40 px spot.
_BIG_SPOT_CELL = (2.0, 6.0, bio.RGC_SURROUND_STRENGTH)
_BIG_SPOT_DIAMETER = 40.0

#: The two layers of exercise 01.two-layer-rf (kernel widths, stride 1).
TWO_LAYERS = (5, 7)


def mystery_cell() -> np.ndarray:
    """The simple cell of exercise 01.mystery-orientation (look at it; don't peek here)."""
    return bio.gabor_kernel(_MYSTERY_ORIENTATION, wavelength=8.0, phase=_MYSTERY_PHASE, size=31)


# The numbers in this hint and explanation are written out, so that each is one
# catalog entry translated as a whole; tests/test_bio.py checks them against
# _BEST_SPOT_CENTRE and the expected answer.
@exercise(
    "01.best-spot",
    hint=N_(
        "The best spot exactly fills the excitatory centre, out to where the profile turns "
        "negative. With a surround 6 times wider, the centre is 5.43σ wide "
        "(rfl.dog_centre_diameter(3.0, 6.0)); pick the listed spot closest to that width."
    ),
    explain=N_(
        "A 16 px spot nearly fills the centre (about 16.3 px wide); bigger spots light up the "
        "inhibitory surround too."
    ),
)
def _best_spot():
    kernel = bio.dog_kernel(*_BEST_SPOT_CELL)
    return bio.spot_experiment(kernel, SPOT_CHOICES).best_diameter


@exercise(
    "01.mystery-orientation",
    hint=N_(
        "The cell prefers bars lying along its stripes. 0° is horizontal, 90° vertical, and "
        "angles turn counter-clockwise: compare its stripes with the 45° and 90° cells above."
    ),
    explain=N_(
        "Its stripes rise to the right, steeper than 45° but not vertical: 60°. (It is an "
        "edge-like cell, one excitatory stripe beside one inhibitory stripe.)"
    ),
)
def _mystery_orientation():
    kernel = mystery_cell()
    responses = [bio.grating_response(kernel, t) for t in ORIENTATION_CHOICES]
    return ORIENTATION_CHOICES[int(np.argmax(responses))]


@exercise(
    "01.off-light-spot",
    hint=N_(
        "A 40 px spot covers the whole centre (total weight 1) and part of the surround "
        "(total weight at most b = 0.55, of the opposite sign). Which wins for an ON cell? An "
        "OFF cell is the same cell with every weight negated."
    ),
    explain=N_(
        "The centre (weight 1) outweighs the part of the surround the spot covers (at "
        "most 0.55), so the light excites an ON cell and does the opposite to an OFF cell: its "
        "response decreases."
    ),
)
def _off_light_spot():
    sigma, ratio, strength = _BIG_SPOT_CELL
    kernel = bio.dog_kernel(sigma, ratio, balance=strength, polarity="off")
    response = bio.spot_response(kernel, _BIG_SPOT_DIAMETER)
    return "increase" if response > 0 else "decrease"


@exercise(
    "01.two-layer-rf",
    hint=N_(
        "A 3x3 layer widens the field by 2 pixels: by how much does a 7x7 layer widen it? Or "
        "stack np.ones((5, 5)) and np.ones((7, 7)) with rfl.stack_kernels and measure the result "
        "with rfl.support_size."
    ),
    explain=N_(
        "5 + 7 - 1 = 11: a k x k layer widens the field by k - 1 pixels, so the second "
        "layer's units see 11x11 input pixels."
    ),
)
def _two_layer_rf():
    first, second = (np.ones((k, k)) for k in TWO_LAYERS)
    return bio.support_size(bio.stack_kernels(first, second))[0]
