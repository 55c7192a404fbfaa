"""Exercises of notebook 05 (initialization and architecture): answers computed by rflesson."""

import numpy as np

from ...init import profile_variance, scale_spread
from ..check import exercise
from .architectures import compare_designs
from .experiments import training_comparison

#: The notebook's training settings (exercise 05.training-verdict reads the same run).
TRAINING = {"strengths": (0.0, 1.0), "seeds": (0, 1, 2, 3), "steps": 150, "target_loss": 0.62}


def corner_only_kernel() -> np.ndarray:
    """A 3x3 scale map with all its scale on the four corners."""
    scale = np.zeros((3, 3))
    scale[::2, ::2] = 1.0
    return scale


@exercise(
    "05.corner-limit",
    hint="One layer adds the per-axis variance of its squared-scale map; sigma grows with its "
    "square root. The usual 3x3 map has variance 2/3 per axis. Where can the variance be largest?",
    explain="All the scale on the corners gives variance 1 per axis, against 2/3 for the usual "
    "init: sigma can grow by at most sqrt(1.5) ≈ 1.22 with 3x3 kernels, whatever the profile.",
    tolerance=0.01,
)
def _corner_limit():
    return float(np.sqrt(scale_spread(corner_only_kernel())[0] / scale_spread(np.ones((3, 3)))[0]))


@exercise(
    "05.equivalent-depth",
    hint="The ERF's variance is depth x (one layer's variance). Set "
    "n x variance(usual) = 20 x variance(strength 1) and solve for n.",
    explain="20 x 0.833 / 0.667 = 25 layers: the centre-scaled init buys about five extra layers.",
    tolerance=0.02,
)
def _equivalent_depth():
    return round(20 * profile_variance(3, 1.0)[0] / profile_variance(3, 0.0)[0])


@exercise(
    "05.largest-erf",
    hint="Read the 'ERF size' column of the table.",
    explain="The 17x17 depthwise kernels: a large kernel makes every layer spread the gradient far.",
)
def _largest_erf():
    table = compare_designs()
    return max(table, key=lambda row: row.erf_size).name


@exercise(
    "05.narrower-than-plain",
    hint="Compare each design's ERF σ with the plain stack's. Answer with a set of names.",
    explain="Identity skips give the gradient short paths that dominate: the ERF narrows, as Luo "
    "et al. found, even though the theoretical RF stays the same.",
)
def _narrower_than_plain():
    table = compare_designs()
    plain = table["plain"].erf_sigma
    return {row.name for row in table if row.erf_sigma < plain}


@exercise(
    "05.training-verdict",
    hint="Compare the mean steps to the target loss of the two inits in the table, "
    "and look at their spread over seeds.",
    explain="That is what this run measured. Weigh the difference of the means against the "
    "spread over seeds before calling it a speed-up or a slow-down.",
)
def _training_verdict():
    comparison = training_comparison(**TRAINING, progress=False)
    usual, scaled = comparison.summary(0.0), comparison.summary(1.0)
    return bool(scaled["steps_mean"] < usual["steps_mean"])
