"""Measurements behind notebook 05: what a centre-scaled init does to the ERF.

* :func:`one_layer_erf`: a single random layer's ERF, which is its scale
  profile itself (the first step of the argument);
* :func:`strength_sweep`: ERF maps and statistics of one deep stack at
  several strengths, same seeds, next to Luo et al.'s prediction;
* :func:`training_comparison`: usual vs centre-scaled init on notebook 04's
  context task, several seeds each, compared pair by pair
  (:func:`paired_difference`, with :func:`t_critical` for the t-test).

The networks are :func:`rflesson.conv_stack` stacks (notebook 04's: Gaussian
weights with the activation's gain, He et al.'s init for ReLU), and
:func:`rflesson.center_scaled_init_` with ``reset=False`` applies the profile
to those weights, so "usual" and "centre-scaled" share every random draw and
differ only by the profile.  (PyTorch's own default init would do as well for
the maps, which are normalised, but it shrinks a deep ReLU stack's signal by
about 6x in variance per layer; after 15 or so layers the numbers become
denormal floats and the CPU slows down twenty-fold.)

Everything is measured in float64 by default.  Luo's size measure counts the
pixels above a threshold, and a float32 map differs in its last bits from
one CPU to the next (oneDNN picks different convolution kernels): a pixel
that sits on the threshold would then change the printed size.  In float64
the maps agree to about 1e-15 everywhere, and on these small networks cost
about the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from ..._validate import as_int, one_of
from ...erf import ErfStats, erf_map, erf_stats
from ...init import _check_strength, center_scaled_init_, predicted_sigma_ratio
from ...stacks import conv_stack
from ..i18n import N_, _
from ..tables import html_table, text_table

#: Settings shared by the notebook's measurements (stated in the notebook).
CHANNELS = 8
SAMPLES = 32
#: Width of the context network in the training comparison (notebook 04's network).
TRAINING_CHANNELS = 8


def stack_factory(
    depth: int,
    strength: float,
    *,
    kernel_size: int = 3,
    activation: str | None = "relu",
    channels: int = CHANNELS,
    profile: str = "ramp",
):
    """A zero-argument callable that builds a fresh ``conv_stack`` with its profile applied."""
    depth = as_int("depth", depth, minimum=1)
    strength = _check_strength(strength)

    def build():
        net = conv_stack(depth, kernel_size, channels=channels, activation=activation)
        return center_scaled_init_(net, strength, profile=profile, reset=False)

    return build


def erf_side(depth: int, kernel_size: int = 3) -> int:
    """The input side that holds the whole theoretical RF of a stride-1 stack and no more.

    The centre unit reads no padding at this size, so the ERF is the same as
    on any larger input, for far less work.
    """
    return as_int("depth", depth, minimum=1) * (as_int("kernel_size", kernel_size, 1) - 1) + 1


def one_layer_erf(strength: float, *, kernel_size: int = 3, n: int = 256, seed: int = 0):
    """The ERF of one random centre-scaled layer (a ``kernel_size`` map, sums to 1).

    One layer's gradient at tap ``x`` is its weight there, ``w(x) m(x)``: the
    measured map is the profile ``m`` (normalised), up to sampling noise.
    Cached per arguments (the figure and the check below it share one
    measurement); the array is read-only.
    """
    strength = _check_strength(strength)
    kernel_size = as_int("kernel_size", kernel_size, minimum=1)
    return _one_layer_erf(strength, kernel_size, as_int("n", n, minimum=1), as_int("seed", seed, 0))


@lru_cache(maxsize=32)
def _one_layer_erf(strength: float, kernel_size: int, n: int, seed: int) -> np.ndarray:
    net = stack_factory(1, strength, kernel_size=kernel_size, activation=None)
    erf = erf_map(net, kernel_size, n=n, seed=seed, dtype=torch.float64)
    erf.setflags(write=False)
    return erf


@dataclass(frozen=True)
class SweepRow:
    """One strength of :class:`StrengthSweep`."""

    strength: float
    erf: np.ndarray = field(repr=False, compare=False)
    stats: ErfStats
    sigma: float  # mean of the per-axis standard deviations
    sigma_ratio: float  # sigma / sigma at strength 0 (the usual init)
    predicted_ratio: float  # sqrt(profile_variance(s) / profile_variance(0))


@dataclass(frozen=True)
class StrengthSweep:
    """ERF of one stack at several strengths (same depth, same random draws)."""

    depth: int
    kernel_size: int
    activation: str | None
    channels: int
    n: int
    rows: tuple[SweepRow, ...]

    def __getitem__(self, index: int) -> SweepRow:
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)

    #: Column headers of the text and the HTML table (translated when shown).
    TEXT_HEADERS = (
        N_("strength"),
        N_("ERF size"),
        N_("sigma"),
        N_("ratio"),
        N_("predicted"),
        N_("Gaussian R²"),
    )
    HTML_HEADERS = (
        N_("strength"),
        N_("ERF size (px)"),
        N_("σ (px)"),
        N_("σ / σ usual"),
        N_("predicted"),
        N_("Gaussian fit R²"),
    )

    def _cells(self, row: SweepRow) -> tuple[str, ...]:
        return (
            f"{row.strength:.2f}",
            f"{row.stats.size:.1f}",
            f"{row.sigma:.2f}",
            f"{row.sigma_ratio:.3f}",
            f"{row.predicted_ratio:.3f}",
            f"{row.stats.gaussian_r2:.3f}",
        )

    def __str__(self) -> str:
        """Numbers right-aligned under their headers, two spaces apart."""
        headers = [_(h) for h in self.TEXT_HEADERS]
        rows = [self._cells(r) for r in self.rows]
        widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers))]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
        for cells in rows:
            lines.append("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table([_(h) for h in self.HTML_HEADERS], [self._cells(r) for r in self.rows])


def strength_sweep(
    strengths: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    depth: int = 20,
    *,
    kernel_size: int = 3,
    activation: str | None = "relu",
    channels: int = CHANNELS,
    n: int = SAMPLES,
    seed: int = 0,
    profile: str = "ramp",
    dtype: torch.dtype = torch.float64,
) -> StrengthSweep:
    """Measure the ERF of a ``depth``-layer stack at each strength, with the same seed.

    Strength 0 (the usual init) is always measured first, as the reference
    for ``sigma_ratio``.  Each map averages ``n`` fresh networks and inputs,
    on an input that holds the whole theoretical RF (:func:`erf_side`), in
    ``dtype`` (float64 by default: see the module docstring).
    """
    depth = as_int("depth", depth, minimum=1)
    values = [_check_strength(s) for s in strengths]
    if not values:
        raise ValueError("strengths must hold at least one strength")
    one_of("activation", activation, (None, "relu", "tanh", "sigmoid"))
    side = erf_side(depth, kernel_size)
    reference = None
    rows = []
    for strength in [0.0] + [s for s in values if s != 0.0]:
        build = stack_factory(
            depth,
            strength,
            kernel_size=kernel_size,
            activation=activation,
            channels=channels,
            profile=profile,
        )
        erf = erf_map(build, side, n=n, seed=seed, dtype=dtype)
        stats = erf_stats(erf)
        sigma = float(np.mean(stats.sigma))
        reference = sigma if reference is None else reference
        row = SweepRow(
            strength,
            erf,
            stats,
            sigma,
            sigma / reference,
            predicted_sigma_ratio(kernel_size, strength, profile=profile),
        )
        if strength in values:
            rows.append(row)
    rows.sort(key=lambda r: values.index(r.strength))
    return StrengthSweep(depth, kernel_size, activation, channels, n, tuple(rows))


# -- does it help training? ------------------------------------------------------


@dataclass(frozen=True)
class TrainingRun:
    """One training run of :func:`training_comparison`."""

    strength: float
    seed: int
    losses: tuple[float, ...] = field(repr=False)
    steps_to_loss: int | None  # first step whose smoothed loss is below the target
    accuracy: float  # pixel accuracy on held-out images after training

    @property
    def mean_loss(self) -> float:
        """The training loss averaged over every step: lower means it learned faster."""
        return float(np.mean(self.losses))


def t_critical(dof: int, confidence: float = 0.95) -> float:
    """The two-sided critical value of Student's t with ``dof`` degrees of freedom.

    A paired difference whose ``|mean| / standard error`` exceeds it is
    called significant at level ``1 - confidence``.  Computed with NumPy alone
    (no SciPy): the t density is integrated on a fine grid and the quantile
    found by interpolation.

    >>> round(t_critical(5), 2)
    2.57
    """
    dof = as_int("dof", dof, minimum=1)
    if not 0.5 < float(confidence) <= 0.99:
        raise ValueError(f"confidence must be above 0.5 and at most 0.99, got {confidence!r}")
    x = np.linspace(0.0, 200.0, 400_001)
    log_norm = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    density = np.exp(log_norm - (dof + 1) / 2 * np.log1p(x**2 / dof))
    # P(0 < T < x) by the trapezoid rule; the quantile sought lies below 64 for every dof >= 1
    upper = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(x))])
    return float(np.interp(float(confidence) / 2, upper, x))


@dataclass(frozen=True)
class PairedDifference:
    """``after - before``, seed by seed, and how sure its mean is (a paired t-test).

    With ``n`` pairs: ``se = sd / sqrt(n)`` is the standard error of the mean
    difference, ``t = mean / se``, and the 95 % confidence interval is
    ``mean ± t_critical(n - 1) * se``.  The difference is significant when
    the interval leaves out 0.
    """

    differences: tuple[float, ...]
    mean: float
    sd: float
    se: float
    t: float
    critical: float

    @property
    def interval(self) -> tuple[float, float]:
        """The 95 % confidence interval of the mean difference."""
        return (self.mean - self.critical * self.se, self.mean + self.critical * self.se)

    @property
    def significant(self) -> bool:
        """True when the 95 % confidence interval leaves out 0."""
        low, high = self.interval
        return low > 0 or high < 0


def paired_difference(before: Sequence[float], after: Sequence[float]) -> PairedDifference:
    """Compare two measurements made on the same seeds, pair by pair.

    >>> d = paired_difference([1.0, 2.0, 3.0], [1.5, 2.5, 3.0])
    >>> round(d.mean, 3), round(d.se, 3)
    (0.333, 0.167)
    """
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    if before.shape != after.shape or before.ndim != 1 or before.size < 2:
        raise ValueError("before and after need the same number of values, at least 2 each")
    differences = after - before
    mean = float(differences.mean())
    sd = float(differences.std(ddof=1))
    se = sd / math.sqrt(differences.size)
    t = mean / se if se > 0 else math.copysign(math.inf, mean) if mean else 0.0
    return PairedDifference(
        tuple(float(d) for d in differences), mean, sd, se, t, t_critical(differences.size - 1)
    )


@dataclass(frozen=True)
class TrainingComparison:
    """Usual vs centre-scaled init on the context task, several seeds each."""

    strengths: tuple[float, ...]
    seeds: tuple[int, ...]
    steps: int
    target_loss: float
    smooth: int
    runs: tuple[TrainingRun, ...]
    channels: int = TRAINING_CHANNELS

    def runs_for(self, strength: float) -> list[TrainingRun]:
        return [r for r in self.runs if r.strength == strength]

    def values(self, strength: float, measure: str = "mean_loss") -> np.ndarray:
        """One value per seed (in seed order): ``"mean_loss"`` or ``"accuracy"``."""
        one_of("measure", measure, ("mean_loss", "accuracy"))
        return np.array([getattr(r, measure) for r in self.runs_for(strength)])

    def paired(self, measure: str = "mean_loss") -> PairedDifference:
        """The last strength minus the first, seed by seed (same seed, same batches)."""
        first, last = self.strengths[0], self.strengths[-1]
        return paired_difference(self.values(first, measure), self.values(last, measure))

    def summary(self, strength: float) -> dict[str, float]:
        """Mean and spread (sample standard deviation) over seeds of one init.

        ``steps_mean``/``steps_std`` only count the seeds that reached the
        target (``reached`` of them); the other entries count every seed.
        """
        runs = self.runs_for(strength)
        hits = [r.steps_to_loss for r in runs if r.steps_to_loss is not None]
        spread = lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0  # noqa: E731
        losses, accuracy = self.values(strength), self.values(strength, "accuracy")
        return {
            "reached": len(hits),
            "seeds": len(runs),
            "steps_mean": float(np.mean(hits)) if hits else float("nan"),
            "steps_std": spread(hits) if hits else float("nan"),
            "mean_loss_mean": float(losses.mean()),
            "mean_loss_std": spread(losses),
            "accuracy_mean": float(accuracy.mean()),
            "accuracy_std": spread(accuracy),
        }

    def _label(self, strength: float) -> str:
        if strength == 0:
            return _("usual init")
        return _("centre-scaled ({strength:g})").format(strength=strength)

    def _headers(self) -> tuple[str, ...]:
        cells = [_("seed")]
        for s in self.strengths:
            cells += [_("{init}: mean loss").format(init=self._label(s)), _("accuracy")]
        return (*cells, _("difference in mean loss"))

    def _lines(self) -> list[tuple[str, ...]]:
        """One row per seed: both inits side by side, then their difference."""
        rows = []
        losses = [self.values(s) for s in self.strengths]
        accuracies = [self.values(s, "accuracy") for s in self.strengths]
        for i, seed in enumerate(self.seeds):
            cells = [str(seed)]
            for loss, accuracy in zip(losses, accuracies, strict=True):
                cells += [f"{loss[i]:.4f}", f"{accuracy[i]:.3f}"]
            rows.append((*cells, f"{losses[-1][i] - losses[0][i]:+.4f}"))
        return rows

    def __str__(self) -> str:
        return text_table(self._headers(), self._lines())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._headers(), self._lines())


def smoothed(losses: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (shorter at the start): entry ``i`` ends at step ``i``."""
    values = np.asarray(losses, dtype=np.float64)
    sums = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, values.size + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def steps_to_loss(losses: Sequence[float], target: float, window: int = 20) -> int | None:
    """The first step (1-based) at which the ``window``-step trailing mean loss is below ``target``.

    Only steps with a full window count, so one lucky batch cannot end the
    search.  None if it never gets there.
    """
    window = as_int("window", window, minimum=1)
    curve = smoothed(losses, window)
    for step in range(window, curve.size + 1):
        if curve[step - 1] < target:
            return step
    return None


_TRAINING_CACHE: dict[tuple, TrainingComparison] = {}


def _training_key(strengths, seeds, steps, target_loss, smooth, channels) -> tuple:
    values = tuple(_check_strength(s) for s in strengths)
    seeds = tuple(as_int("seed", s, minimum=0) for s in seeds)
    steps = as_int("steps", steps, minimum=1)
    smooth = as_int("smooth", smooth, minimum=1)
    return (values, seeds, steps, float(target_loss), smooth, as_int("channels", channels, 1))


def cached_training_comparison(
    strengths: tuple[float, ...] = (0.0, 1.0),
    seeds: tuple[int, ...] = (0, 1, 2, 3),
    steps: int = 50,
    *,
    target_loss: float = 0.6,
    smooth: int = 20,
    channels: int = TRAINING_CHANNELS,
) -> TrainingComparison | None:
    """The result of an earlier :func:`training_comparison` with these settings, or None.

    Never trains: an exercise check reads the notebook's run with it.
    """
    key = _training_key(strengths, seeds, steps, target_loss, smooth, channels)
    return _TRAINING_CACHE.get(key)


def training_comparison(
    strengths: tuple[float, ...] = (0.0, 1.0),
    seeds: tuple[int, ...] = (0, 1, 2, 3),
    steps: int = 50,
    *,
    target_loss: float = 0.6,
    smooth: int = 20,
    channels: int = TRAINING_CHANNELS,
    progress: bool = True,
) -> TrainingComparison:
    """Train notebook 04's context network from each init and seed; cached per settings.

    For each seed the network (:func:`rflesson.context_task.context_net`
    with ``channels`` channels, PyTorch's usual init drawn from the seed,
    float64) gets the profile of each strength (``center_scaled_init_(..., reset=False)``: same weights,
    only scaled), then trains ``steps`` Adam steps on the same batches
    (:func:`rflesson.context_task.train_context_model`, seeded, one thread).
    So the two inits of one seed differ by the profile alone: compare them
    pair by pair (:meth:`TrainingComparison.paired`).  Recorded per run: the
    losses (their mean measures how fast it learned), the step where the
    ``smooth``-step mean loss first falls below ``target_loss``, and the
    held-out pixel accuracy at the end.  ``progress`` prints one line per
    finished run.  Results are cached per settings (``progress`` aside):
    :func:`cached_training_comparison` reads them back without training.
    """
    from ...context_task import context_net, evaluate_context_model, train_context_model

    key = _training_key(strengths, seeds, steps, target_loss, smooth, channels)
    if key in _TRAINING_CACHE:
        return _TRAINING_CACHE[key]
    values, seeds, steps, target_loss, smooth, channels = key
    runs = []
    for seed in seeds:
        for strength in values:
            net = context_net(channels=channels, seed=seed)
            model = center_scaled_init_(net, strength, reset=False)
            history = train_context_model(model, steps, seed=seed, progress=False)
            run = TrainingRun(
                strength,
                seed,
                tuple(history.losses),
                steps_to_loss(history.losses, target_loss, smooth),
                evaluate_context_model(model),
            )
            runs.append(run)
            if progress:
                line = _(
                    "seed {seed}, strength {strength:g}: mean loss {loss:.4f}, "
                    "held-out accuracy {accuracy:.3f}"
                )
                print(
                    line.format(
                        seed=seed, strength=strength, loss=run.mean_loss, accuracy=run.accuracy
                    ),
                    flush=True,
                )
    result = TrainingComparison(values, seeds, steps, target_loss, smooth, tuple(runs), channels)
    _TRAINING_CACHE.clear()  # keep one result: a few hundred kB at most
    _TRAINING_CACHE[key] = result
    return result
