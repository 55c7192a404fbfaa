"""Figures and the live demo of notebook 05 (initialization and the ERF).

* :func:`draw_init_profiles`: the scale profile of a centre-scaled kernel at a few
  strengths, and one random layer's measured ERF beside it;
* :func:`draw_init_comparison`: one stack's ERF with the usual and the
  centre-scaled init, their difference and their column sums;
* :func:`draw_strength_sweep`: ERF maps at several strengths, and the measured
  widening against Luo et al.'s prediction;
* :func:`draw_training_comparison`: loss curves and the seed-by-seed (paired)
  comparison of the training runs;
* :func:`init_explorer`: strength and depth sliders; the usual and the
  centre-scaled ERF side by side, with size, sigma and Gaussian fit, live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import matplotlib as mpl
import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn

from ..._validate import as_int, one_of
from ...erf import ErfStats, erf_stats
from ...erf_exact import StackBatch, stack_erf
from ...init import _check_strength, center_profile, predicted_sigma_ratio
from ..blit import Renderer
from ..i18n import N_, _, ngettext
from ..style import COLORS, ERF_CMAP
from ..widgets import LiveFigure, dropdown, float_slider, int_slider
from .experiments import (
    StrengthSweep,
    SweepRow,
    TrainingComparison,
    one_layer_erf,
    smoothed,
)

#: The explorer's settings (stated in its description line).
EXPLORER_CHANNELS = 8
EXPLORER_SAMPLES = 16
EXPLORER_MAX_DEPTH = 30
ACTIVATIONS = ("relu", "none")


def _show_map(ax: Axes, erf: np.ndarray, title: str, half: int | None = None, vmax=None) -> None:
    """An ERF map with axes in pixels from the centre (``half``: fixed axis limit)."""
    h, w = erf.shape
    extent = (-(w // 2) - 0.5, w // 2 + 0.5, h // 2 + 0.5, -(h // 2) - 0.5)
    ax.imshow(erf, cmap=ERF_CMAP, extent=extent, vmin=0, vmax=vmax, interpolation="nearest")
    if half is not None:
        ax.set_xlim(-half - 0.5, half + 0.5)
        ax.set_ylim(half + 0.5, -half - 0.5)
    ax.set_title(title)
    ax.tick_params(labelsize=8)


def _kernel_image(ax: Axes, factors: np.ndarray, title: str, vmax: float) -> None:
    ax.imshow(factors, cmap="Oranges", vmin=0, vmax=vmax, interpolation="nearest")
    for (i, j), value in np.ndenumerate(factors):
        colour = "white" if value > 0.6 * vmax else "black"
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color=colour)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_init_profiles(fig: Figure, strengths=(0.0, 0.5, 1.0), kernel_size: int = 3) -> None:
    """Top: the per-tap scale factors at each strength.  Bottom: one random layer's ERF.

    The bottom row is measured (:func:`one_layer_erf`, 256 random layers);
    it matches the profile above it, normalised to sum 1.
    """
    profiles = [center_profile(kernel_size, s) for s in strengths]
    top = max(float(p.max()) for p in profiles)
    axes = fig.subplots(2, len(strengths))
    for column, (strength, factors) in enumerate(zip(strengths, profiles, strict=True)):
        title = _("scale, strength {strength:g}").format(strength=strength)
        _kernel_image(axes[0, column], factors, title, top)
        measured = one_layer_erf(strength, kernel_size=kernel_size)
        _kernel_image(axes[1, column], measured, _("one layer's ERF (measured)"), 0.25)
    fig.tight_layout()


def _gaussian_marginal(x: np.ndarray, sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian on the integer grid ``x`` (for overlays)."""
    curve = np.exp(-0.5 * (x / sigma) ** 2)
    return curve / curve.sum()


def draw_strength_sweep(fig: Figure, sweep: StrengthSweep) -> None:
    """Top: ERF maps at each strength (one colour scale), with the Gaussian fit's R².

    Bottom left: the ERF's column sums at the weakest and strongest strength,
    dots measured, lines the Gaussian with the measured sigma.  Bottom right:
    sigma relative to the usual init against strength, measured and predicted.
    """
    count = len(sweep)
    grid = fig.add_gridspec(2, count, height_ratios=[1, 1.15])
    top = max(float(r.erf.max()) for r in sweep.rows)
    for i, row in enumerate(sweep.rows):
        ax = fig.add_subplot(grid[0, i])
        title = _("strength {strength:g}\nGaussian R² {r2:.3f}").format(
            strength=row.strength, r2=row.stats.gaussian_r2
        )
        _show_map(ax, row.erf, title, vmax=top)
        if i:
            ax.set_yticks([])
    split = max(1, count // 2)
    ax = fig.add_subplot(grid[1, :split])
    for row, colour in ((sweep.rows[0], COLORS["muted"]), (sweep.rows[-1], COLORS["erf"])):
        marginal = row.erf.sum(axis=0)
        x = np.arange(marginal.size) - marginal.size // 2
        label = _("strength {strength:g}").format(strength=row.strength)
        ax.plot(x, marginal, "o", ms=3, color=colour, label=label)
        ax.plot(x, _gaussian_marginal(x, row.stats.sigma[1]), "-", lw=1.2, color=colour)
    ax.set_xlabel(_("pixels from the centre"))
    ax.set_ylabel(_("ERF column sums"))
    ax.set_title(_("dots: measured; lines: Gaussian, same σ"))
    ax.legend(fontsize=8, loc="upper right")
    ax = fig.add_subplot(grid[1, split:])
    strengths = [r.strength for r in sweep.rows]
    fine = np.linspace(0, 1, 41)
    ax.plot(fine, [predicted_sigma_ratio(sweep.kernel_size, s) for s in fine], color=COLORS["rf"])
    ax.plot(strengths, [r.sigma_ratio for r in sweep.rows], "o", color=COLORS["erf"])
    ax.legend([_("predicted (variance theory)"), _("measured")], fontsize=8, loc="upper left")
    ax.set_xlabel(_("strength"))
    ax.set_ylabel(_("ERF σ / usual σ"))
    title = ngettext(
        "{depth} layer of {k}x{k}, {activation}",
        "{depth} layers of {k}x{k}, {activation}",
        sweep.depth,
    )
    activation = sweep.activation or _("linear")
    ax.set_title(title.format(depth=sweep.depth, k=sweep.kernel_size, activation=activation))
    fig.tight_layout()


def _init_label(strength: float, two_lines: bool = False) -> str:
    """How the figures name an init: "usual", or "centre-scaled 1" (on two lines if asked)."""
    if strength == 0:
        return _("usual")
    if two_lines:
        return _("centre-scaled\n{strength:g}").format(strength=strength)
    return _("centre-scaled {strength:g}").format(strength=strength)


def draw_training_comparison(fig: Figure, comparison: TrainingComparison) -> None:
    """Left: smoothed loss, mean over seeds with the min-max band.

    Middle: each seed's mean training loss with the usual and the
    centre-scaled init, joined by a line (a pair: same seed, same batches).
    Right: the pairs' differences, their mean and its 95 % confidence
    interval (:meth:`TrainingComparison.paired`).
    """
    left, middle, right = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.6, 1, 1]})
    colours = [COLORS["muted"], COLORS["erf"], COLORS["accent"], COLORS["rf"]]
    labels = [_init_label(s) for s in comparison.strengths]
    for strength, colour, label in zip(comparison.strengths, colours, labels, strict=False):
        curves = np.array(
            [smoothed(r.losses, comparison.smooth) for r in comparison.runs_for(strength)]
        )
        steps = np.arange(1, curves.shape[1] + 1)
        left.fill_between(steps, curves.min(0), curves.max(0), color=colour, alpha=0.2, lw=0)
        left.plot(steps, curves.mean(0), color=colour, lw=1.8, label=label)
    left.set_xlabel(_("training step"))
    left.set_ylabel(_("loss (mean of last {n} steps)").format(n=comparison.smooth))
    seeds = len(comparison.seeds)
    left.set_title(
        ngettext("{n} seed each: mean and range", "{n} seeds each: mean and range", seeds).format(
            n=seeds
        )
    )
    left.legend(fontsize=8)

    first, last = comparison.strengths[0], comparison.strengths[-1]
    pairs = np.stack([comparison.values(first), comparison.values(last)])
    middle.plot([0, 1], pairs, "-", color=COLORS["muted"], lw=1, alpha=0.7)
    middle.plot([0] * pairs.shape[1], pairs[0], "o", color=colours[0])
    middle.plot([1] * pairs.shape[1], pairs[1], "o", color=colours[1])
    middle.set_xticks(
        [0, 1], [_init_label(first, two_lines=True), _init_label(last, two_lines=True)]
    )
    middle.set_xlim(-0.4, 1.4)
    middle.set_title(_("mean loss, seed by seed"))

    paired = comparison.paired()
    right.axhline(0, color=COLORS["unit"], lw=1, ls="--")
    right.plot(np.zeros(len(paired.differences)), paired.differences, "o", color=COLORS["erf"])
    low, high = paired.interval
    right.errorbar(
        [0.35],
        [paired.mean],
        yerr=[[paired.mean - low], [high - paired.mean]],
        fmt="s",
        color=COLORS["rf"],
        capsize=4,
    )
    right.set_xticks([0, 0.35], [_("each\nseed"), _("mean,\n95 % CI")])
    right.set_xlim(-0.3, 0.65)
    right.set_title(_("centre-scaled minus usual"))
    fig.tight_layout()


def draw_init_comparison(fig: Figure, usual: SweepRow, scaled: SweepRow) -> None:
    """Usual and centre-scaled ERF of one stack (one colour scale), their difference, column sums.

    Every σ on the figure is the same quantity, the mean over both axes
    (``SweepRow.sigma``): the legend gives each, the title their ratio.
    """
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.5]})
    top = max(float(usual.erf.max()), float(scaled.erf.max()))
    _show_map(axes[0], usual.erf, _("usual init"), vmax=top)
    scaled_title = _("centre-scaled ({strength:g})").format(strength=scaled.strength)
    _show_map(axes[1], scaled.erf, scaled_title, vmax=top)
    difference = scaled.erf - usual.erf
    limit = float(np.abs(difference).max()) or 1.0
    h, w = difference.shape
    extent = (-(w // 2) - 0.5, w // 2 + 0.5, h // 2 + 0.5, -(h // 2) - 0.5)
    axes[2].imshow(
        difference, cmap="RdBu_r", vmin=-limit, vmax=limit, extent=extent, interpolation="nearest"
    )
    axes[2].set_title(_("difference (red: more)"))
    axes[2].tick_params(labelsize=8)
    for ax in axes[1:3]:
        ax.set_yticks([])
    ax = axes[3]
    for row, colour, label in (
        (usual, COLORS["muted"], _("usual: σ {sigma:.2f}")),
        (scaled, COLORS["erf"], _("scaled: σ {sigma:.2f}")),
    ):
        column = row.erf.sum(axis=0)  # the ERF's share in each column: sums to 1
        x = np.arange(column.size) - column.size // 2
        label = label.format(sigma=row.sigma)
        ax.plot(x, column, "o-", ms=2.5, lw=1.2, color=colour, label=label)
    ax.set_ylim(0, 1.45 * max(float(usual.erf.sum(axis=0).max()), float(scaled.erf.sum(0).max())))
    ax.set_xlabel(_("pixels from the centre"))
    ax.set_ylabel(_("ERF column sums"))
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(_("σ ratio {ratio:.3f}").format(ratio=scaled.sigma / usual.sigma))
    fig.tight_layout()


# -- the init explorer ------------------------------------------------------------


@dataclass(frozen=True)
class ExplorerResult:
    """What the init explorer shows for one setting of its sliders."""

    strength: float
    depth: int
    activation: str
    usual: np.ndarray = field(repr=False, compare=False)
    scaled: np.ndarray = field(repr=False, compare=False)
    usual_stats: ErfStats
    scaled_stats: ErfStats
    sigma_ratio: float
    predicted_ratio: float
    problem: str | None = None


@lru_cache(maxsize=1)
def _weight_bank() -> tuple[torch.Tensor, ...]:
    """Standard normal draws for the explorer's networks: one tensor per layer, all networks.

    Seed 0, layer after layer, so layer ``l`` is the same at every depth: a
    deeper setting adds layers to the same networks.
    """
    generator = torch.Generator().manual_seed(0)
    return tuple(
        torch.randn(
            (EXPLORER_SAMPLES, EXPLORER_CHANNELS, 1 if layer == 0 else EXPLORER_CHANNELS, 3, 3),
            generator=generator,
        )
        for layer in range(EXPLORER_MAX_DEPTH)
    )


def explorer_batch(strength: float, depth: int, activation: str) -> StackBatch:
    """The explorer's ``EXPLORER_SAMPLES`` networks at this strength, as weight tensors.

    Notebook 04's stacks (``conv_stack``: Gaussian weights, standard deviation
    ``gain / sqrt(fan_in)``, He et al.'s for ReLU) with every kernel scaled tap
    by tap by :func:`rflesson.center_profile`, as ``center_scaled_init_(...,
    reset=False)`` does: every strength shares the same draws.
    """
    gain = nn.init.calculate_gain("linear" if activation == "none" else activation)
    profile = torch.as_tensor(center_profile(3, strength), dtype=torch.float32)
    weights = tuple(
        draw * (gain / (draw.shape[2] * 9) ** 0.5) * profile for draw in _weight_bank()[:depth]
    )
    return StackBatch(
        weights=weights,
        strides=(1,) * depth,
        dilations=(1,) * depth,
        activation=None if activation == "none" else activation,
    )


@lru_cache(maxsize=128)
def _explorer_map(strength: float, depth: int, activation: str) -> np.ndarray:
    """The ERF on the whole theoretical field (``2 depth + 1`` pixels a side), exactly.

    Measured only where the central unit looks (:func:`rflesson.erf_exact.stack_erf`):
    the same map as ``erf_map`` on any larger input with the same networks and inputs.
    """
    erf = stack_erf(explorer_batch(strength, depth, activation), seed=0)
    erf.setflags(write=False)
    return erf


def explore_init(
    strength: float = 1.0, depth: int = 10, activation: str = "relu"
) -> ExplorerResult:
    """Usual and centre-scaled ERF of a ``depth``-layer 3x3 stack (pure; cached maps).

    Both maps use the same seed: the same networks and inputs, only the
    profile differs.  Never raises for slider values; a setting the
    statistics cannot describe is explained in ``problem``.
    """
    strength = round(_check_strength(strength), 4)
    depth = as_int("depth", depth, minimum=1)
    one_of("activation", activation, ACTIVATIONS)
    if depth > EXPLORER_MAX_DEPTH:
        raise ValueError(f"depth must be at most {EXPLORER_MAX_DEPTH}, got {depth}")
    usual = _explorer_map(0.0, depth, activation)
    scaled = _explorer_map(strength, depth, activation)
    usual_stats, scaled_stats = erf_stats(usual), erf_stats(scaled)
    problem = None
    if depth == 1:
        problem = _(
            "One layer: the ERF is the 3x3 profile itself, too small for a Gaussian to "
            "describe (its fit is not meaningful). Add layers."
        )
    return ExplorerResult(
        strength=strength,
        depth=depth,
        activation=activation,
        usual=usual,
        scaled=scaled,
        usual_stats=usual_stats,
        scaled_stats=scaled_stats,
        sigma_ratio=float(np.mean(scaled_stats.sigma) / np.mean(usual_stats.sigma)),
        predicted_ratio=predicted_sigma_ratio(3, strength),
        problem=problem,
    )


def _centred_extent(erf: np.ndarray) -> tuple[float, float, float, float]:
    h, w = erf.shape
    return (-(w // 2) - 0.5, w // 2 + 0.5, h // 2 + 0.5, -(h // 2) - 0.5)


class _ExplorerView:
    """The init explorer's figure, built once; :meth:`update` shows one result in it.

    Usual ERF, centre-scaled ERF (one colour scale), their difference (red:
    the centre-scaled ERF has more, blue: less) and the column sums.
    """

    def __init__(self, fig: Figure) -> None:
        self.figure = fig
        # a fixed layout: tight_layout would cost about 90 ms of every slider move
        self.axes = fig.subplots(
            1,
            4,
            gridspec_kw={
                "width_ratios": [1, 1, 1, 1.5],
                "left": 0.035,
                "right": 0.99,
                "bottom": 0.16,
                "top": 0.9,
                "wspace": 0.3,
            },
        )
        blank = np.zeros((1, 1))
        self.images = []
        for ax, cmap, title in zip(
            self.axes[:3],
            (ERF_CMAP, ERF_CMAP, "RdBu_r"),
            (_("usual init"), " ", _("difference (red: more)")),
            strict=True,
        ):
            self.images.append(ax.imshow(blank, cmap=cmap, interpolation="nearest"))
            ax.set_facecolor(colormaps[cmap](0.0 if cmap == ERF_CMAP else 0.5))  # no influence
            ax.set_title(title)
            ax.tick_params(labelsize=8)
        self.scaled_title = self.axes[1].title
        for ax in self.axes[1:3]:
            ax.set_yticks([])
        ax = self.axes[3]
        (self.usual_line,) = ax.plot([], [], "o-", ms=2.5, lw=1.2, color=COLORS["muted"])
        (self.scaled_line,) = ax.plot([], [], "o-", ms=2.5, lw=1.2, color=COLORS["erf"])
        ax.set_xlabel(_("pixels from the centre"))
        ax.set_ylabel(_("ERF column sums"))
        self.legend = ax.legend(
            [self.usual_line, self.scaled_line],
            [_("usual"), _("centre-scaled")],
            fontsize=8,
            loc="upper left",
        )
        self.profile_title = ax.set_title(" ")
        for ax in self.axes:  # few ticks: each costs about 1 ms of every full redraw
            ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        self.axes[0].yaxis.set_major_locator(MaxNLocator(5, integer=True))
        # no scale on the column sums: the two shapes are compared, and a height that
        # follows the data then never redraws the whole figure (about 100 ms)
        self.axes[3].set_yticks([])

    def update(self, result: ExplorerResult) -> tuple[list, tuple]:
        """Show ``result``; return the artists that changed and the key of the rest."""
        top = max(float(result.usual.max()), float(result.scaled.max()))
        difference = result.scaled - result.usual
        limit = float(np.abs(difference).max()) or 1.0
        for image, data, low, high in zip(
            self.images,
            (result.usual, result.scaled, difference),
            (0.0, 0.0, -limit),
            (top, top, limit),
            strict=True,
        ):
            image.set_data(data)
            image.set_extent(_centred_extent(data))
            image.set_clim(low, high)
        self.scaled_title.set_text(
            _("centre-scaled ({strength:g})").format(strength=result.strength)
        )
        peak = 0.0
        labels = []
        for line, erf, stats, label in (
            (self.usual_line, result.usual, result.usual_stats, _("usual: σ {sigma:.2f}")),
            (
                self.scaled_line,
                result.scaled,
                result.scaled_stats,
                _("centre-scaled: σ {sigma:.2f}"),
            ),
        ):
            column = erf.sum(axis=0)  # the ERF's share in each column: sums to 1
            line.set_data(np.arange(column.size) - column.size // 2, column)
            peak = max(peak, float(column.max()))
            labels.append(label.format(sigma=stats.sigma[1]))
        for text, label in zip(self.legend.get_texts(), labels, strict=True):
            text.set_text(label)
        if result.problem:
            self.profile_title.set_text(_("one layer: see the note above"))
            self.profile_title.set_color(COLORS["warn"])
            self.profile_title.set_fontsize(9)
        else:
            self.profile_title.set_text(
                _("σ ratio {ratio:.3f} (theory {theory:.3f})").format(
                    ratio=result.sigma_ratio, theory=result.predicted_ratio
                )
            )
            self.profile_title.set_color("black")
            self.profile_title.set_fontsize(mpl.rcParams["axes.titlesize"])
        # the whole field in view, in steps of 5 pixels: most moves keep the drawn axes
        half = 0.5 + 5 * math.ceil(result.depth / 5)
        for ax in self.axes[:3]:
            ax.set_xlim(-half, half)
            ax.set_ylim(half, -half)
        ceiling = 1.45 * peak  # room for the legend
        self.axes[3].set_xlim(-half, half)
        self.axes[3].set_ylim(0, ceiling)
        changing = [
            *self.images,
            self.scaled_title,
            self.usual_line,
            self.scaled_line,
            self.legend,
            self.profile_title,
        ]
        return changing, (half,)


def draw_explorer(fig: Figure, result: ExplorerResult) -> None:
    """Usual ERF, centre-scaled ERF (one colour scale), their difference, and column sums.

    The difference map (red: the centre-scaled ERF has more, blue: less)
    shows where the mass goes: out of the centre, into a ring around it.
    """
    _ExplorerView(fig).update(result)


_DESCRIBE = N_(
    "<b>{layers}</b> ({activation}, {channels} channels, {samples} random networks, "
    "on the whole {side}x{side} field): usual ERF size {u_size:.1f} px, σ {u_sigma:.2f}, "
    "Gaussian R² {u_r2} &nbsp;|&nbsp; centre-scaled size {s_size:.1f} px, σ {s_sigma:.2f}, "
    "Gaussian R² {s_r2}"
)


def _r2_text(stats: ErfStats, depth: int) -> str:
    """The Gaussian fit's R², or a dash where a fit means nothing (one layer, no spread)."""
    if depth == 1 or not np.isfinite(stats.gaussian_r2):
        return "—"
    return f"{stats.gaussian_r2:.3f}"


def describe_explorer(result: ExplorerResult) -> str:
    """One line: sizes, sigmas, Gaussian fits and the settings used."""
    u, s = result.usual_stats, result.scaled_stats
    layers = ngettext("{depth} layer", "{depth} layers", result.depth).format(depth=result.depth)
    text = _(_DESCRIBE).format(
        layers=layers,
        activation=result.activation,
        channels=EXPLORER_CHANNELS,
        samples=EXPLORER_SAMPLES,
        side=result.usual.shape[0],
        u_size=u.size,
        u_sigma=np.mean(u.sigma),
        u_r2=_r2_text(u, result.depth),
        s_size=s.size,
        s_sigma=np.mean(s.sigma),
        s_r2=_r2_text(s, result.depth),
    )
    if result.problem:
        text += f'<br><span style="color:{COLORS["warn"]}">{result.problem}</span>'
    return text


def init_explorer(strength: float = 1.0, depth: int = 10, activation: str = "relu") -> LiveFigure:
    """Strength and depth sliders: how much a centre-scaled init widens the ERF."""
    controls = {
        "strength": float_slider(_("strength"), strength, 0.0, 1.0, 0.05),
        "depth": int_slider(_("depth"), depth, 1, EXPLORER_MAX_DEPTH),
        "activation": dropdown(_("activation"), ACTIVATIONS, activation),
    }
    return LiveFigure(
        controls,
        explore_init,
        draw_explorer,
        describe=describe_explorer,
        figsize=(11.0, 3.2),
        render=Renderer(_ExplorerView),
    )
