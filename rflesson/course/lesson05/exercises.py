"""Exercises of notebook 05 (initialization and architecture): answers computed by rflesson."""

import numpy as np

from ...init import profile_variance, scale_spread
from ..check import exercise
from ..i18n import N_, _
from .architectures import compare_designs
from .experiments import cached_training_comparison, training_comparison

#: The notebook's training settings (exercise 05.training-verdict reads the same run).
TRAINING = {"strengths": (0.0, 1.0), "seeds": (0, 1, 2, 3), "steps": 50}


def corner_only_kernel() -> np.ndarray:
    """A 3x3 scale map with all its scale on the four corners."""
    scale = np.zeros((3, 3))
    scale[::2, ::2] = 1.0
    return scale


@exercise(
    "05.corner-limit",
    hint=N_(
        "One layer adds the per-axis variance of its squared-scale map; sigma grows with its "
        "square root. The usual 3x3 map has variance 2/3 per axis. Where can the variance be "
        "largest?"
    ),
    explain=N_(
        "All the scale on the corners gives variance 1 per axis, against 2/3 for the usual "
        "init: sigma can grow by at most sqrt(1.5) ≈ 1.22 with 3x3 kernels, whatever the profile."
    ),
    tolerance=0.01,
)
def _corner_limit():
    return float(np.sqrt(scale_spread(corner_only_kernel())[0] / scale_spread(np.ones((3, 3)))[0]))


@exercise(
    "05.equivalent-depth",
    hint=N_(
        "The ERF's variance is depth x (one layer's variance). Set "
        "n x variance(usual) = 20 x variance(strength 1) and solve for n."
    ),
    explain=N_(
        "20 x 0.833 / 0.667 = 25 layers: the centre-scaled init buys about five extra layers."
    ),
    tolerance=0.02,
)
def _equivalent_depth():
    return round(20 * profile_variance(3, 1.0)[0] / profile_variance(3, 0.0)[0])


@exercise(
    "05.largest-erf",
    hint=N_("Read the 'ERF σ' column of the table."),
    explain=N_(
        "The 15x15 depthwise kernels: a large kernel makes every layer spread the gradient far."
    ),
)
def _largest_erf():
    table = compare_designs()
    return max(table, key=lambda row: row.erf_sigma).name


@exercise(
    "05.narrower-than-plain",
    hint=N_("Compare each design's ERF σ with the plain stack's. Answer with a set of names."),
    explain=N_(
        "Identity skips give the gradient short paths that dominate: the ERF narrows, as Luo "
        "et al. found, even though the theoretical RF stays the same."
    ),
)
def _narrower_than_plain():
    table = compare_designs()
    plain = table["plain"].erf_sigma
    return {row.name for row in table if row.erf_sigma < plain}


@exercise(
    "05.training-verdict",
    hint=N_(
        "For each seed take d = (centre-scaled mean loss) - (usual mean loss). Compute the "
        "mean of the d's, their standard deviation s and the standard error s / sqrt(number of "
        "seeds). A significant speed-up needs a mean below zero by more than the critical t "
        "(printed above the exercise) times the standard error. (This check reads the "
        "comparison trained in section 3; it trains nothing when that result is in memory.)"
    ),
    explain=N_(
        "That is what the paired comparison says: look at the 95 % confidence interval "
        "above before calling the centre-scaled init faster or slower. (Checked against the "
        "comparison trained in section 3, not a new one.)"
    ),
)
def _training_verdict():
    comparison = cached_training_comparison(**TRAINING)
    if comparison is None:
        message = _(
            "{key}: the training comparison of section 3 is not in memory "
            "(was the kernel restarted?), so it runs now, as in that cell:"
        )
        print(message.format(key="05.training-verdict"), flush=True)
        comparison = training_comparison(**TRAINING)
    paired = comparison.paired("mean_loss")
    return bool(paired.significant and paired.mean < 0)
