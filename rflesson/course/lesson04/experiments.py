"""Measurements behind notebook 04: ERFs on inputs that hold the whole field, over several seeds.

* :func:`side_holding_field`: the smallest input on which a network's centre
  unit sees its whole theoretical RF (then the ERF is exactly the one of any
  larger input, for far less work);
* :func:`measure_stack`: one :func:`rflesson.conv_stack` setting's ERF map,
  theoretical box and statistics on that input;
* :func:`over_seeds`: the same setting measured with several seeds, so that
  a difference between two settings can be weighed against the spread
  between seeds (:class:`SeedSpread`);
* :func:`training_progress`: the progress bar of section 6's training, in
  the course's language.

Everything is measured in float64: Luo's size measure counts pixels above
a threshold, and a float32 map differs in its last bits from one CPU to the
next, which can move a pixel across the threshold and change the printed
size.  On these small stacks float64 costs about the same as float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from ..._validate import as_int
from ...context_task import text_progress
from ...erf import Box, ErfStats, erf_map, erf_stats, trf_box
from ...rf import input_region, receptive_field
from ...stacks import conv_stack
from ..i18n import _, ngettext
from ..tables import html_table, text_table

#: The seeds of every "mean ± spread" in notebook 04.
SEEDS = (0, 1, 2, 3, 4)


def side_holding_field(net: object, limit: int = 1001) -> int:
    """The smallest odd input side whose centre output unit sees its whole theoretical RF.

    The centre unit then reads no padding (its box is not clipped) and the
    output has a centre unit (odd length).  ``net`` is anything
    :func:`rflesson.receptive_field` takes: a module, or a list of layers
    such as ``conv_stack(...).layers()``.

    >>> side_holding_field(conv_stack(10).layers())
    21
    >>> side_holding_field(conv_stack(10, stride=(2, 2) + (1,) * 8).layers())  # 71 px field
    73
    """
    net = list(net) if isinstance(net, (list, tuple)) else net
    smallest = receptive_field(net, (limit, limit)).size[0]
    for side in range(smallest + 1 - smallest % 2, limit + 1, 2):
        n_out = receptive_field(net, (side, side)).n_out[0]
        if n_out % 2 == 1:
            centre = (n_out // 2, n_out // 2)
            region = input_region(net, centre, (side, side))
            if region.clipped == region.unclipped:
                return side
    raise ValueError(f"no input side up to {limit} holds the whole field of {net!r}")


@dataclass(frozen=True)
class StackERF:
    """One setting's ERF: the map, its theoretical box, its statistics and its input side."""

    erf: np.ndarray = field(repr=False, compare=False)
    box: Box
    stats: ErfStats
    side: int
    trf: int


def measure_stack(depth: int, *, n: int = 32, seed: int = 0, **options) -> StackERF:
    """The ERF of ``conv_stack(depth, **options)`` over ``n`` random networks and inputs.

    Measured on :func:`side_holding_field` (exact: no padding reaches the
    centre unit), in float64.  ``options`` go to :func:`rflesson.conv_stack`.
    """
    depth = as_int("depth", depth, minimum=1)
    layers = conv_stack(depth, **options).layers()
    side = side_holding_field(layers)
    erf = erf_map(lambda: conv_stack(depth, **options), side, n=n, seed=seed, dtype=torch.float64)
    box = trf_box(layers, side)
    trf = receptive_field(layers, (side, side)).size[0]
    return StackERF(erf, box, erf_stats(erf, trf_box=box), side, trf)


@dataclass(frozen=True)
class SeedSpread:
    """One setting measured with several seeds: per-seed values, and the pooled map.

    ``pooled`` averages the per-seed maps (each sums to 1), which is the map
    of all ``len(seeds) * n`` networks together: less noisy than any one.
    """

    name: str
    seeds: tuple[int, ...]
    n: int
    sizes: np.ndarray = field(repr=False, compare=False)
    sigmas: np.ndarray = field(repr=False, compare=False)
    r2s: np.ndarray = field(repr=False, compare=False)
    pooled: np.ndarray = field(repr=False, compare=False)

    @property
    def pooled_stats(self) -> ErfStats:
        return erf_stats(self.pooled)

    @staticmethod
    def _mean_sd(values: np.ndarray) -> tuple[float, float]:
        return float(values.mean()), float(values.std(ddof=1))

    def size(self) -> tuple[float, float]:
        """Mean and standard deviation over seeds of Luo's size (pixels)."""
        return self._mean_sd(self.sizes)

    def sigma(self) -> tuple[float, float]:
        """Mean and standard deviation over seeds of sigma (pixels, along the columns)."""
        return self._mean_sd(self.sigmas)

    def r2(self) -> tuple[float, float]:
        """Mean and standard deviation over seeds of the Gaussian fit's R²."""
        return self._mean_sd(self.r2s)


@lru_cache(maxsize=32)
def _over_seeds(name, depth, seeds, n, options) -> SeedSpread:
    runs = [measure_stack(depth, n=n, seed=seed, **dict(options)) for seed in seeds]
    pooled = np.mean([run.erf for run in runs], axis=0)
    pooled.setflags(write=False)
    return SeedSpread(
        name,
        seeds,
        n,
        np.array([run.stats.size for run in runs]),
        np.array([run.stats.sigma[1] for run in runs]),
        np.array([run.stats.gaussian_r2 for run in runs]),
        pooled,
    )


def over_seeds(
    name: str, depth: int, *, seeds: Sequence[int] = SEEDS, n: int = 16, **options
) -> SeedSpread:
    """Measure one ``conv_stack`` setting once per seed (``n`` networks each); cached.

    The same seeds give the same weights and inputs to every setting with
    the same shapes, so two settings differ only by what the options change.
    """
    seeds = tuple(as_int("seed", s, minimum=0) for s in seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least two seeds to show a spread, got {seeds!r}")
    return _over_seeds(str(name), depth, seeds, as_int("n", n, minimum=1), tuple(options.items()))


def spread_table(rows: Sequence[SeedSpread]) -> SpreadTable:
    """The rows as a table of mean ± standard deviation over seeds (text and HTML)."""
    return SpreadTable(tuple(rows))


@dataclass(frozen=True)
class SpreadTable:
    """Settings side by side: size, sigma, Gaussian R² (mean ± sd over seeds), pooled R²."""

    rows: tuple[SeedSpread, ...]

    def _headers(self) -> tuple[str, ...]:
        first = self.rows[0]
        count = len(first.seeds)
        return (
            _("setting"),
            _("size (px), {count} seeds").format(count=count),
            "σ (px)",
            ngettext("Gaussian R², {n} network", "Gaussian R², {n} networks", first.n).format(
                n=first.n
            ),
            _("R² of all {total}").format(total=count * first.n),
        )

    def _lines(self) -> list[tuple[str, ...]]:
        lines = []
        for row in self.rows:
            (size, size_sd), (sigma, sigma_sd), (r2, r2_sd) = row.size(), row.sigma(), row.r2()
            lines.append(
                (
                    row.name,
                    f"{size:.1f} ± {size_sd:.1f}",
                    f"{sigma:.2f} ± {sigma_sd:.2f}",
                    f"{r2:.3f} ± {r2_sd:.3f}",
                    f"{row.pooled_stats.gaussian_r2:.3f}",
                )
            )
        return lines

    def __str__(self) -> str:
        return text_table(self._headers(), self._lines())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._headers(), self._lines())


def training_progress(step: int, steps: int, loss: float, accuracy: float) -> None:
    """Print a progress bar each quarter of a training run, in the course's language.

    For ``train_context_model(..., progress=training_progress)``: the same
    deterministic bar as its own (so stored outputs compare exactly), with
    the words translated.  ``loss`` and ``accuracy`` are not shown.
    """
    if text_progress(step, steps) is None:  # not at a quarter
        return
    done = round(20 * step / steps)
    bar = "#" * done + "." * (20 - done)
    line = _("training [{bar}] step {step:>4}/{steps}").format(bar=bar, step=step, steps=steps)
    print(line, flush=True)
