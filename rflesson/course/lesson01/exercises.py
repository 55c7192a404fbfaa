"""Exercises of notebook 01 (biology): spots, orientations and stacked layers."""

import numpy as np

from ..check import exercise
from . import bio

#: The spot diameters offered in exercise 01.best-spot (pixels).
SPOT_CHOICES = (4, 16, 32, 64)
#: The orientations offered in exercise 01.mystery-orientation (degrees).
ORIENTATION_CHOICES = (0, 45, 90, 135)
_MYSTERY_ORIENTATION = 135.0


def mystery_cell() -> np.ndarray:
    """The simple cell of exercise 01.mystery-orientation (look at it; don't peek here)."""
    return bio.gabor_kernel(_MYSTERY_ORIENTATION, wavelength=8.0, size=31)


#: Width of the excitatory centre of exercise 01.best-spot's cell (σ = 3 px, surround 6x).
_BEST_SPOT_CENTRE = bio.dog_centre_diameter(3.0, 6.0)


@exercise(
    "01.best-spot",
    hint="The best spot exactly fills the excitatory centre, out to where the profile turns "
    f"negative. With a surround 6 times wider, the centre is {_BEST_SPOT_CENTRE / 3.0:.2f}σ wide "
    "(rfl.dog_centre_diameter); pick the listed spot closest to that width.",
    explain=f"A {min(SPOT_CHOICES, key=lambda d: abs(d - _BEST_SPOT_CENTRE))} px spot nearly fills the centre (about {_BEST_SPOT_CENTRE:.1f} px wide); "
    "bigger spots light up the inhibitory surround too.",
)
def _best_spot():
    kernel = bio.dog_kernel(3.0, 6.0)
    return bio.spot_experiment(kernel, SPOT_CHOICES).best_diameter


@exercise(
    "01.mystery-orientation",
    hint="The cell prefers bars lying along its red stripes. 0° is horizontal, 90° vertical, "
    "and angles turn counter-clockwise.",
    explain="Its stripes run from upper left to lower right: 135°.",
)
def _mystery_orientation():
    kernel = mystery_cell()
    responses = [bio.grating_response(kernel, t) for t in ORIENTATION_CHOICES]
    return ORIENTATION_CHOICES[int(np.argmax(responses))]


@exercise(
    "01.off-light-spot",
    hint="An OFF-centre cell is an ON-centre cell with every weight negated: whatever excites "
    "the ON cell's centre does the opposite to the OFF cell.",
    explain="Light on the centre of an OFF cell pushes its response below its resting level: "
    "it prefers a dark spot.",
)
def _off_light_spot():
    kernel = bio.dog_kernel(2.0, 6.0, polarity="off")
    response = bio.spot_response(kernel, bio.dog_centre_diameter(2.0, 6.0))
    return "increase" if response > 0 else "decrease"


@exercise(
    "01.two-layer-rf",
    hint="Stack a 5x5 kernel and a 3x3 kernel with rfl.stack_kernels and measure its width "
    "with rfl.support_size; or: each 3x3 layer adds 2 pixels.",
    explain="5 + 3 - 1 = 7: the second layer's units see 7x7 input pixels.",
)
def _two_layer_rf():
    stacked = bio.stack_kernels(np.ones((5, 5)), np.ones((3, 3)))
    return bio.support_size(stacked)[0]
