"""Exercises of notebook 00 (start here): the output-size formula."""

from ..check import exercise
from ..i18n import N_
from .sliding_window import sliding_window


@exercise(
    "00.output-length",
    hint=N_("Use o = floor((i + 2p - k) / s) + 1 with i=12, k=4, s=3, p=0; floor rounds down."),
    explain=N_("floor((12 - 4) / 3) + 1 = 3 windows fit."),
)
def _output_length():
    return sliding_window(12, kernel=4, stride=3, padding=0).n_out


@exercise(
    "00.never-seen",
    hint=N_(
        "The last window starts at 6 and covers 4 pixels. Which pixels of 0..11 come after it?"
    ),
    explain=N_("Pixels 10 and 11 are dropped: the stride does not divide i + 2p - k."),
)
def _never_seen():
    return set(sliding_window(12, kernel=4, stride=3, padding=0).never_seen)


@exercise(
    "00.same-padding",
    hint=N_(
        "With stride 1 the output length is i + 2p - k + 1; set it equal to i and solve for p."
    ),
    explain=N_("p = (k - 1) / 2 = 2 keeps the length: 'same' padding for a 5-wide kernel."),
)
def _same_padding():
    return next(p for p in range(10) if sliding_window(9, kernel=5, padding=p).n_out == 9)
