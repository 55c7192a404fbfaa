"""Architectural changes that grow the effective receptive field, compared fairly.

Notebook 05 asks which design change a network designer should reach for when
the ERF is too small.  This module builds one small fully-convolutional
network per idea, all with ReLU and roughly the same number of weights
(about 16 to 20 thousand), and measures each on the same ERF measure:

=====================  ==========================================================
``plain``              8 layers of 3x3 convolutions, 16 channels (the baseline)
``deeper``             32 layers of 3x3, 8 channels: 4x the depth, same weights
``strided``            the baseline with stride 2 in layers 2 and 4
``pooled``             the baseline with 3x3 average pooling (stride 2) after layers 2 and 4
``dilated-gridding``   dilation 2 in every layer: holes that never fill (gridding)
``dilated-hybrid``     dilations 1, 2, 3, 2, 1, 2, 3, 2: same theoretical RF, no holes
                       (hybrid dilated convolution, Wang et al. 2018)
``large-kernel``       8 layers of 5x5, 10 channels
``large-depthwise``    a 3x3 stem, then 4 blocks of a 15x15 depthwise convolution and
                       a 1x1 convolution, 16 channels (in the spirit of RepLKNet,
                       Ding et al. 2022, without its re-parameterised small kernel)
``residual``           the baseline with identity skips around layers 2 to 8
                       (pre-activation blocks ``x + conv(relu(x))``)
``center-scaled``      the baseline with ``center_scaled_init_(strength=1, reset=False)``
=====================  ==========================================================

Every convolution pads so that it keeps the size (``padding = dilation * (k - 1) / 2``)
and starts from He et al.'s init (Gaussian, variance ``2 / fan_in``, zero
bias), as notebook 04's stacks do; the ERF is always that of the centre output
unit, measured over fresh random weights and inputs by :func:`rflesson.erf_map`,
in float64 (so the printed numbers are the same on every CPU), on the
smallest input that holds the design's whole theoretical RF, then placed
on a common canvas (zeros outside the field, where no gradient can reach).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ..._validate import as_int, one_of
from ...init import center_scaled_init_
from ..i18n import N_, _
from ..lesson04.experiments import side_holding_field
from ..tables import html_table, text_table

#: Input side used by :func:`compare_designs`: 1 more than a multiple of 8 (so the
#: output keeps a centre unit after two halvings: 73 -> 37 -> 19) and larger than every design's
#: theoretical RF (the largest is 65).
COMPARE_INPUT = 73


class Residual(nn.Module):
    """``x + body(x)``: an identity skip around ``body``."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def _conv(c_in: int, c_out: int, kernel: int, *, stride: int = 1, dilation: int = 1, groups=1):
    """A size-keeping convolution with He et al.'s init (variance 2 / fan_in, zero bias).

    PyTorch's default init shrinks a ReLU signal about 6x in variance per
    layer; in the 32-layer design the numbers would turn denormal and slow the
    CPU down many times over, with no change to the (normalised) ERF.
    """
    padding = dilation * (kernel - 1) // 2
    conv = nn.Conv2d(
        c_in, c_out, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups
    )
    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    nn.init.zeros_(conv.bias)
    return conv


def plain_stack(
    kernels: Sequence[int],
    channels: int,
    *,
    strides: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    pool_after: Sequence[int] = (),
    in_channels: int = 1,
) -> nn.Sequential:
    """Convolutions with ReLU between them (none after the last), one per entry of ``kernels``.

    ``strides``/``dilations`` give one value per layer (default 1);
    ``pool_after`` lists the (1-based) layers followed by 3x3 average
    pooling with stride 2.  Every layer keeps the size (at stride 1).
    """
    depth = len(kernels)
    strides = list(strides or [1] * depth)
    dilations = list(dilations or [1] * depth)
    if not (len(strides) == len(dilations) == depth):
        raise ValueError(
            f"strides and dilations need one value per layer ({depth}); "
            f"got {len(strides)} and {len(dilations)}"
        )
    layers: list[nn.Module] = []
    for i, (k, s, d) in enumerate(zip(kernels, strides, dilations, strict=True)):
        layers.append(_conv(in_channels if i == 0 else channels, channels, k, stride=s, dilation=d))
        if i + 1 in pool_after:
            layers.append(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False))
        if i + 1 < depth:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def residual_stack(depth: int, channels: int, *, in_channels: int = 1) -> nn.Sequential:
    """A 3x3 stem, then ``depth - 1`` pre-activation blocks ``x + conv(relu(x))``."""
    blocks: list[nn.Module] = [_conv(in_channels, channels, 3)]
    for _block in range(depth - 1):
        blocks.append(Residual(nn.Sequential(nn.ReLU(), _conv(channels, channels, 3))))
    return nn.Sequential(*blocks)


def large_depthwise_stack(
    blocks: int, kernel: int, channels: int, *, in_channels: int = 1
) -> nn.Sequential:
    """A 3x3 stem, then blocks of a ``kernel`` x ``kernel`` depthwise conv, ReLU, a 1x1 conv."""
    layers: list[nn.Module] = [_conv(in_channels, channels, 3)]
    for _block in range(blocks):
        layers += [
            nn.ReLU(),
            _conv(channels, channels, kernel, groups=channels),
            nn.ReLU(),
            _conv(channels, channels, 1),
        ]
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class Design:
    """One architecture in the comparison: a name, one line of explanation and a builder.

    ``build()`` returns a network with fresh random weights on every call.
    The explanation is kept as an English template and its values
    (``what``, ``details``), so that :attr:`description` speaks the
    language chosen when it is shown.
    """

    name: str
    what: str
    build: Callable[[], nn.Module] = field(repr=False)
    details: tuple[tuple[str, object], ...] = ()

    @property
    def description(self) -> str:
        """The explanation in the current language, e.g. "8 x 3x3, 16 channels"."""
        return _(self.what).format(**dict(self.details))

    def parameters(self) -> int:
        """Number of trainable weights and biases."""
        return sum(p.numel() for p in self.build().parameters())


def designs(channels: int = 16, depth: int = 8) -> list[Design]:
    """The ten designs of the module docstring (``channels``/``depth`` of the baseline)."""
    c = as_int("channels", channels, minimum=2)
    n = as_int("depth", depth, minimum=4)
    narrow = max(1, c // 2)
    wide5 = max(1, round(c * 3 / 5))  # 25 w^2 ~ 9 c^2: same weights with 5x5 kernels
    hybrid = [(1, 2, 3, 2)[i % 4] for i in range(n)]

    def scaled():
        return center_scaled_init_(plain_stack([3] * n, c), 1.0, reset=False)

    layers_channels = N_("{layers} x {k}x{k}, {channels} channels")
    return [
        Design(
            "plain",
            layers_channels,
            lambda: plain_stack([3] * n, c),
            (("layers", n), ("k", 3), ("channels", c)),
        ),
        Design(
            "deeper",
            layers_channels,
            lambda: plain_stack([3] * 4 * n, narrow),
            (("layers", 4 * n), ("k", 3), ("channels", narrow)),
        ),
        Design(
            "strided",
            N_("stride 2 in layers 2 and 4"),
            lambda: plain_stack([3] * n, c, strides=[1, 2, 1, 2] + [1] * (n - 4)),
        ),
        Design(
            "pooled",
            N_("3x3 avg-pool, stride 2, after layers 2 and 4"),
            lambda: plain_stack([3] * n, c, pool_after=(2, 4)),
        ),
        Design(
            "dilated-gridding",
            N_("dilation 2 in all {layers} layers"),
            lambda: plain_stack([3] * n, c, dilations=[2] * n),
            (("layers", n),),
        ),
        Design(
            "dilated-hybrid",
            N_("dilations {rates}"),
            lambda: plain_stack([3] * n, c, dilations=hybrid),
            (("rates", ",".join(map(str, hybrid))),),
        ),
        Design(
            "large-kernel",
            layers_channels,
            lambda: plain_stack([5] * n, wide5),
            (("layers", n), ("k", 5), ("channels", wide5)),
        ),
        Design(
            "large-depthwise",
            N_("3x3 stem + {blocks} x (15x15 depthwise + 1x1), {channels} channels"),
            lambda: large_depthwise_stack(n // 2, 15, c),
            (("blocks", n // 2), ("channels", c)),
        ),
        Design(
            "residual",
            N_("3x3 stem + {blocks} x (x + conv(relu x))"),
            lambda: residual_stack(n, c),
            (("blocks", n - 1),),
        ),
        Design("center-scaled", N_("plain, centre-scaled init, strength 1"), scaled),
    ]


def design(name: str, channels: int = 16, depth: int = 8) -> Design:
    """One design by name (see :func:`designs`)."""
    found = {d.name: d for d in designs(channels, depth)}
    one_of("name", name, tuple(found))
    return found[name]


@dataclass(frozen=True)
class DesignERF:
    """The ERF measures of one design (one row of :class:`DesignTable`)."""

    name: str
    design: Design = field(repr=False, compare=False)
    parameters: int
    trf: int  # theoretical RF side (pixels)
    erf_size: float  # Luo et al.'s size: sqrt(#pixels above (1 - 0.9545) x centre)
    erf_sigma: float  # mean of the per-axis standard deviations
    gaussian_r2: float
    mass_in_trf: float
    high_contribution: float  # the course's version of RepLKNet's area ratio at threshold t
    output_side: int
    erf: np.ndarray = field(repr=False, compare=False)

    @property
    def description(self) -> str:
        """What the design is, in the current language (see :attr:`Design.description`)."""
        return self.design.description

    @property
    def erf_over_trf(self) -> float:
        return self.erf_size / self.trf


@dataclass(frozen=True)
class DesignTable:
    """One :class:`DesignERF` per design, shown as a table in notebooks."""

    rows: tuple[DesignERF, ...]
    input_size: int
    n: int
    threshold: float

    def __getitem__(self, key: int | str) -> DesignERF:
        if isinstance(key, str):
            for row in self.rows:
                if row.name == key:
                    return row
            raise KeyError(f"no design named {key!r}; have {[r.name for r in self.rows]}")
        return self.rows[key]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    #: Column headers (translated when shown).
    HEADERS = (
        N_("design"),
        N_("what"),
        N_("weights"),
        "TRF",
        N_("ERF size"),
        N_("ERF σ"),
        "ERF/TRF",
        N_("Gauss R²"),
        N_("high-contrib."),
        N_("output"),
    )

    def _cells(self, row: DesignERF) -> tuple[str, ...]:
        return (
            row.name,
            row.description,
            f"{row.parameters:,}",
            str(row.trf),
            f"{row.erf_size:.1f}",
            f"{row.erf_sigma:.2f}",
            f"{row.erf_over_trf:.2f}",
            f"{row.gaussian_r2:.3f}",
            f"{row.high_contribution:.1%}",
            f"{row.output_side}x{row.output_side}",
        )

    def _headers(self) -> list[str]:
        return [_(header) for header in self.HEADERS]

    def __str__(self) -> str:
        return text_table(self._headers(), [self._cells(r) for r in self.rows])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._headers(), [self._cells(r) for r in self.rows])


@lru_cache(maxsize=4)
def compare_designs(
    input_size: int = COMPARE_INPUT,
    *,
    n: int = 16,
    seed: int = 0,
    threshold: float = 0.5,
    channels: int = 16,
    depth: int = 8,
) -> DesignTable:
    """Measure every design of :func:`designs` on the same ERF measures.

    Each ERF averages ``n`` fresh random networks and inputs (same ``seed``
    for all), in float64, on the smallest input that holds the design's
    whole theoretical RF (:func:`~rflesson.course.lesson04.experiments.side_holding_field`);
    the map is then centred on an ``input_size`` canvas with zeros around it,
    which is exactly the map a measurement on that larger input would give
    (no gradient leaves the field) for less work.  The theoretical RF (TRF)
    comes from rflesson's RF engine; ``mass_in_trf`` is the share of the ERF
    inside the centre unit's TRF box (1 up to rounding: a check);
    ``high_contribution`` is the course's version of RepLKNet's area ratio at
    ``threshold``: the share of the canvas covered by the smallest centred
    square holding that part of the ERF (computed on the map itself, where
    RepLKNet takes ``log10(1 + g)`` first).  Cached per settings (the
    notebook's exercises read the same table).
    """
    from ...erf import erf_map, erf_stats, trf_box
    from ...rf import receptive_field

    size = as_int("input_size", input_size, minimum=1)
    rows = []
    for item in designs(channels, depth):
        example = item.build()
        rf = receptive_field(example, (size, size))
        side = side_holding_field(example, limit=size)
        erf = erf_map(item.build, side, n=n, seed=seed, dtype=torch.float64, chunk=4)
        erf = np.pad(erf, (size - side) // 2)
        stats = erf_stats(erf, trf_box=trf_box(example, size), threshold=threshold)
        rows.append(
            DesignERF(
                name=item.name,
                design=item,
                parameters=sum(p.numel() for p in example.parameters()),
                trf=int(rf.size[0]),
                erf_size=stats.size,
                erf_sigma=float(np.mean(stats.sigma)),
                gaussian_r2=stats.gaussian_r2,
                mass_in_trf=float(stats.trf_mass),
                high_contribution=stats.area_ratio,
                output_side=int(rf.n_out[0]),
                erf=erf,
            )
        )
    return DesignTable(tuple(rows), size, n, float(threshold))


def draw_designs(fig, table: DesignTable, columns: int = 5) -> None:
    """The ERF map of every design on one canvas, each with its theoretical RF box.

    Each map has its own colour scale (the shapes matter here, not the
    heights); the orange square is the centre unit's theoretical RF.
    """
    from matplotlib.patches import Rectangle

    from ..style import COLORS, ERF_CMAP

    rows = -(-len(table) // columns)
    axes = fig.subplots(rows, columns, squeeze=False)
    half = table.input_size // 2
    for ax, row in zip(axes.ravel(), table.rows, strict=False):
        extent = (-half - 0.5, half + 0.5, half + 0.5, -half - 0.5)
        ax.imshow(row.erf, cmap=ERF_CMAP, extent=extent, interpolation="nearest")
        r = min(row.trf // 2, half)
        ax.add_patch(
            Rectangle((-r - 0.5, -r - 0.5), 2 * r + 1, 2 * r + 1, fill=False, ec=COLORS["rf"], lw=1)
        )
        ax.set_title(f"{row.name}\nERF {row.erf_size:.0f} px, TRF {row.trf}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[len(table) :]:
        ax.set_axis_off()
    fig.tight_layout()
