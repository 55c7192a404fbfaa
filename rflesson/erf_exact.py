"""Exact ERF maps of plain convolution stacks, fast enough for a slider.

:func:`rflesson.erf_map` measures any network: it back-propagates through the
whole input it is given.  A plain stack of convolutions (what
:func:`rflesson.conv_stack` builds, without skip connections) allows
shortcuts that give the *same* map for far less work:

* :func:`uniform_erf`: with uniform weights and no nonlinearity or dropout,
  the ERF is a box convolved with itself once per layer, the taps of layer
  ``l`` spaced by its dilation times the strides before it.  Separable, so
  one 1-D profile per axis (NumPy only, no network at all).
* :func:`stack_erf`: any plain stacks, on an input exactly the size of the
  central unit's theoretical field, with *valid* (unpadded) convolutions:
  the only units computed are the ones the central unit depends on, its
  cone.  All networks run at once as one grouped convolution per layer; a
  linear stack skips the forward pass (its input gradient does not depend on
  the input); a stack dilated by ``d`` in every layer is computed on the
  sub-grid of every ``d``-th pixel, the only pixels that reach the unit.

The networks are a :class:`StackBatch`: ``n`` stacks of one architecture
held as weight tensors (:meth:`StackBatch.from_modules` and
:meth:`StackBatch.modules` convert from and to ``ConvStack`` modules).  Same
networks and same inputs give the same map as ``erf_map`` on any input that
holds the whole field (``tests/test_erf_exact.py`` checks it).  With
``window=N`` :func:`stack_erf` instead measures on an ``N x N`` input with the
stacks' own zero padding, as ``erf_map`` on that input does: the way to look
at a field too large to compute whole.

>>> from rflesson.stacks import conv_stack
>>> batch = StackBatch.from_modules([conv_stack(3, 5), conv_stack(3, 5)])
>>> batch.field_side()
13
>>> stack_erf(batch).shape
(13, 13)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validate import as_float, as_int, one_of
from .erf import SIZE_FRACTION, ErfStats
from .stacks import ACTIVATIONS, ConvStack, conv_stack

# -- the networks ------------------------------------------------------------------


@dataclass(frozen=True)
class StackBatch:
    """``n`` plain convolution stacks with the same layers, held as weight tensors.

    ``weights[l]`` has shape ``(n, out_channels, in_channels, k, k)``: layer
    ``l`` of every network.  Layer ``l`` convolves with stride
    ``strides[l]``, dilation ``dilations[l]`` and zero padding
    ``dilations[l] * (k - 1) // 2`` (as :func:`rflesson.conv_stack` does),
    then applies ``activation`` and, with ``dropout > 0``, dropout (training
    mode).  Odd kernel sizes only; no biases, no skip connections.
    """

    weights: tuple[torch.Tensor, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    activation: str | None = None
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not self.weights:
            raise ValueError("weights must hold at least one layer")
        depth = len(self.weights)
        if len(self.strides) != depth or len(self.dilations) != depth:
            raise ValueError(
                f"strides and dilations need one value per layer ({depth}); "
                f"got {len(self.strides)} and {len(self.dilations)}"
            )
        one_of("activation", self.activation, ACTIVATIONS)
        dropout = as_float("dropout", self.dropout, minimum=0.0)
        if dropout >= 1:
            raise ValueError(f"dropout must be a probability below 1, got {dropout}")
        n, channels = self.weights[0].shape[0], self.weights[0].shape[2]
        for layer, w in enumerate(self.weights):
            if w.ndim != 5 or w.shape[0] != n or w.shape[2] != channels or w.shape[3] != w.shape[4]:
                raise ValueError(
                    f"weights[{layer}] must have shape (n={n}, out, in={channels}, k, k), "
                    f"got {tuple(w.shape)}"
                )
            if w.shape[-1] % 2 == 0:
                raise ValueError(
                    f"weights[{layer}] has an even kernel ({w.shape[-1]}): stack_erf needs odd "
                    f"kernels, whose padding keeps the field centred"
                )
            channels = w.shape[1]

    @classmethod
    def from_modules(cls, nets: Sequence[ConvStack]) -> StackBatch:
        """The weights and geometry of ``ConvStack`` modules (all alike, no skips).

        Dropout counts only for modules in training mode, as in their forward pass.
        """
        nets = list(nets)
        if not nets or not all(isinstance(net, ConvStack) for net in nets):
            raise TypeError(
                "nets must be a non-empty list of ConvStack modules (rflesson.conv_stack)"
            )
        first = nets[0]
        if any(net.skip for net in nets):
            raise ValueError("these stacks have skip connections: use rflesson.erf_map")
        for net in nets:
            for conv in net.convs:
                k, d = conv.kernel_size[0], conv.dilation[0]
                square = (
                    conv.kernel_size[0] == conv.kernel_size[1] and conv.stride[0] == conv.stride[1]
                )
                if not square or conv.padding != (d * (k - 1) // 2,) * 2 or conv.dilation[1] != d:
                    raise ValueError("stack_erf needs square kernels and conv_stack's padding")
        dropout = first.drop.p if isinstance(first.drop, nn.Dropout) and first.training else 0.0
        weights = tuple(
            torch.stack([net.convs[layer].weight.detach().float() for net in nets])
            for layer in range(len(first.convs))
        )
        return cls(
            weights=weights,
            strides=tuple(c.stride[0] for c in first.convs),
            dilations=tuple(c.dilation[0] for c in first.convs),
            activation=first.activation,
            dropout=float(dropout),
        )

    @property
    def n(self) -> int:
        """How many networks."""
        return int(self.weights[0].shape[0])

    @property
    def kernels(self) -> tuple[int, ...]:
        return tuple(int(w.shape[-1]) for w in self.weights)

    @property
    def channels(self) -> tuple[int, ...]:
        """Input channels, then the output channels of each layer."""
        return (int(self.weights[0].shape[2]), *(int(w.shape[1]) for w in self.weights))

    def field_side(self) -> int:
        """The side of the central unit's theoretical field: ``1 + sum (k - 1) d J`` over layers.

        ``J`` is the product of the strides before the layer.  The smallest
        input that holds the whole field: the one :func:`stack_erf` measures on.
        """
        return 1 + sum(
            (k - 1) * d * j
            for k, d, j in zip(self.kernels, self.dilations, _jumps(self.strides), strict=True)
        )

    def lattice_step(self) -> int:
        """``d`` when every layer has stride 1 and dilation ``d``, else 1.

        Only every ``d``-th pixel (counted from the centre) reaches the
        central unit of such a stack, which acts on them as an undilated one.
        """
        if set(self.strides) == {1} and len(set(self.dilations)) == 1:
            return self.dilations[0]
        return 1

    def needs_forward(self) -> bool:
        """A nonlinearity or dropout makes the input gradient depend on the forward pass."""
        return self.activation is not None or self.dropout > 0

    def modules(self) -> list[ConvStack]:
        """The networks as ``ConvStack`` modules (in training mode), e.g. for ``erf_map``."""
        kernels, outs = set(self.kernels), set(self.channels[1:])
        if len(kernels) != 1 or len(outs) != 1:
            raise ValueError("modules() needs one kernel size and one channel count throughout")
        k, channels = kernels.pop(), outs.pop()
        nets = []
        with torch.random.fork_rng(devices=[]):  # conv_stack draws weights we overwrite
            for i in range(self.n):
                net = conv_stack(
                    len(self.weights),
                    k,
                    channels=channels,
                    in_channels=self.channels[0],
                    activation=self.activation,
                    stride=self.strides,
                    dilation=self.dilations,
                    dropout=self.dropout,
                )
                with torch.no_grad():
                    for conv, w in zip(net.convs, self.weights, strict=True):
                        conv.weight.copy_(w[i])
                nets.append(net)
        return nets


def _jumps(strides: Sequence[int]) -> list[int]:
    """The input-pixel distance between neighbouring units at the input of each layer."""
    jumps, jump = [], 1
    for stride in strides:
        jumps.append(jump)
        jump *= stride
    return jumps


# -- uniform stacks: the exact closed form -------------------------------------------


def uniform_profile_1d(
    kernels: Sequence[int], strides: Sequence[int], dilations: Sequence[int]
) -> np.ndarray:
    """The exact 1-D ERF of a uniform linear stack: boxes convolved, taps spaced ``d * J``.

    A uniform ``k``-tap layer averages ``k`` units; seen from the input, its
    taps lie its dilation times the strides before it apart.  Sums to 1.

    >>> uniform_profile_1d([3, 3], [1, 1], [1, 1]) * 9
    array([1., 2., 3., 2., 1.])
    """
    profile = np.ones(1)
    for k, d, j in zip(kernels, dilations, _jumps(strides), strict=True):
        box = np.zeros((k - 1) * d * j + 1)
        box[:: d * j] = 1.0 / k
        profile = np.convolve(profile, box)
    return profile


def uniform_erf(batch: StackBatch) -> np.ndarray:
    """The exact ERF of ``batch``'s layers with equal weights, no nonlinearity, no dropout.

    A square map of :meth:`StackBatch.field_side` pixels that sums to 1: the
    outer product of two :func:`uniform_profile_1d`.  Every channel of a
    uniform stack carries the same gradient, so channels do not matter.  The
    weights are not read: this is the ERF of ``batch`` only if it was built
    with ``weights="uniform"`` and has no activation or dropout.
    """
    profile = uniform_profile_1d(batch.kernels, batch.strides, batch.dilations)
    return np.outer(profile, profile)


def outer_stats(rows: object, cols: object, threshold: float = 0.2) -> ErfStats:
    """:func:`rflesson.erf_stats` of the map ``np.outer(rows, cols)``, without building it.

    Every sum over a separable map splits into a product of two 1-D sums, so
    this takes time in proportion to the side, not its square: the exact ERF
    of a uniform stack of 931 x 931 pixels costs microseconds instead of a
    quarter of a second.  Same definitions as ``erf_stats`` (no ``trf_mass``).

    >>> p = uniform_profile_1d([3] * 4, [1] * 4, [1] * 4)
    >>> round(outer_stats(p, p).sigma[0] ** 2, 6)  # 4 * (3**2 - 1) / 12
    2.666667
    """
    r, c = (np.asarray(v, dtype=np.float64) for v in (rows, cols))
    if r.ndim != 1 or c.ndim != 1 or min(r.min(), c.min()) < 0 or r.sum() <= 0 or c.sum() <= 0:
        raise ValueError("rows and cols must be non-negative 1-D profiles, not all zero")
    r, c = r / r.sum(), c / c.sum()
    i, j = np.arange(r.size, dtype=np.float64), np.arange(c.size, dtype=np.float64)
    mean = (float(i @ r), float(j @ c))
    var = (float((i - mean[0]) ** 2 @ r), float((j - mean[1]) ** 2 @ c))
    middle = r[r.size // 2] * c[c.size // 2]
    count = _count_above(r, c, SIZE_FRACTION * middle)
    return ErfStats(
        sigma=tuple(math.sqrt(max(v, 0.0)) for v in var),
        centroid=mean,
        size=float(math.sqrt(count)),
        gaussian_r2=_outer_gaussian_r2(r, c, i, j, mean, var),
        trf_mass=None,
        area_ratio=_outer_area_ratio(r, c, threshold),
        threshold=float(threshold),
    )


def _count_above(r: np.ndarray, c: np.ndarray, limit: float) -> int:
    """How many pairs ``(a, b)`` have ``r[a] * c[b] > limit``."""
    ordered = np.sort(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        bounds = np.where(r > 0, limit / np.where(r > 0, r, 1.0), np.inf)
    return int((c.size - np.searchsorted(ordered, bounds, side="right")).sum())


def _outer_gaussian_r2(r, c, i, j, mean, var) -> float:
    """``erf_stats``'s Gaussian R²; the map's covariance is diagonal, the Gaussian separable."""
    if var[0] * var[1] <= 1e-12:
        return float("nan")
    gr = np.exp(-0.5 * (i - mean[0]) ** 2 / var[0])
    gc = np.exp(-0.5 * (j - mean[1]) ** 2 / var[1])
    cross, shape_sq, erf_sq = (gr @ r) * (gc @ c), (gr @ gr) * (gc @ gc), (r @ r) * (c @ c)
    height = cross / shape_sq
    residual = erf_sq - 2 * height * cross + height**2 * shape_sq
    spread = erf_sq - 1.0 / (r.size * c.size)  # sum of (erf - its mean)^2
    if spread <= 1e-12 * erf_sq:  # a flat map: nothing to fit
        return float("nan")
    return float(1 - residual / spread)


def _outer_area_ratio(r: np.ndarray, c: np.ndarray, threshold: float) -> float:
    """``high_contribution_area_ratio`` of ``outer(r, c)``: window sums are products."""
    halves = np.arange(max(r.size, c.size) + 1)
    rows, row_mass = _centred_windows(r, halves)
    cols, col_mass = _centred_windows(c, halves)
    reached = np.nonzero(row_mass * col_mass >= threshold - 1e-12)[0]
    if reached.size == 0:
        return 1.0
    first = reached[0]
    return float(rows[first] * cols[first] / (r.size * c.size))


def _centred_windows(p: np.ndarray, halves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length and mass of the window ``centre - half .. centre + half`` (clipped) of ``p``."""
    cumulative = np.concatenate([[0.0], np.cumsum(p)])
    centre = p.size // 2
    low = np.maximum(0, centre - halves)
    high = np.minimum(p.size, centre + halves + 1)
    return high - low, cumulative[high] - cumulative[low]


# -- any plain stack: measured on the cone ------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """How :func:`stack_erf` runs: on the sub-grid of every ``step``-th pixel."""

    step: int
    side: int  # input side on the sub-grid
    paddings: tuple[int, ...]
    dilations: tuple[int, ...]  # on the sub-grid
    sides: tuple[int, ...]  # each layer's output side on the sub-grid

    @property
    def full_side(self) -> int:
        return self.step * (self.side - 1) + 1


def _plan(batch: StackBatch, window: int | None) -> _Plan:
    step = batch.lattice_step()
    dilations = tuple(d // step for d in batch.dilations)
    if window is None:
        paddings = (0,) * len(batch.weights)
        side = (batch.field_side() - 1) // step + 1
    else:
        window = as_int("window", window, minimum=1)
        period = 2 * math.prod(batch.strides) * step
        if (window - 1) % period:
            raise ValueError(
                f"window must be 1 more than a multiple of {period} (so that the output has a "
                f"central unit whose field is centred on the input), got {window}"
            )
        paddings = tuple(d * (k - 1) // 2 for k, d in zip(batch.kernels, dilations, strict=True))
        side = (window - 1) // step + 1
    sides, current = [], side
    for k, s, d, p in zip(batch.kernels, batch.strides, dilations, paddings, strict=True):
        current = (current + 2 * p - d * (k - 1) - 1) // s + 1
        sides.append(current)
    return _Plan(step, side, paddings, dilations, tuple(sides))


def layer_sides(batch: StackBatch, window: int | None = None) -> tuple[int, ...]:
    """Each layer's output side as :func:`stack_erf` computes it (on the sub-grid).

    Without ``window``: the central unit's cone, from wide to 1 unit.
    """
    return _plan(batch, window).sides


@dataclass(frozen=True)
class Work:
    """What one :func:`stack_erf` call computes, counted (for time budgets).

    Counts cover every network and both passes: the backward pass, and the
    forward pass when a nonlinearity or dropout needs one.
    """

    multiply_adds: int  # in stride-1 layers: one grouped convolution per layer and pass
    strided_multiply_adds: int  # in strided layers, which run network by network
    values: int  # layer outputs computed (each also costs elementwise work)
    mask_values: int  # dropout mask values drawn
    layer_passes: int  # convolution calls of the grouped kind


def work(batch: StackBatch, window: int | None = None) -> Work:
    """How much :func:`stack_erf` computes for ``batch`` (with this ``window``)."""
    plan = _plan(batch, window)
    passes = 2 if batch.needs_forward() else 1
    plain = strided = values = 0
    for side, c_in, c_out, k, stride in zip(
        plan.sides,
        batch.channels[:-1],
        batch.channels[1:],
        batch.kernels,
        batch.strides,
        strict=True,
    ):
        macs = passes * batch.n * side * side * c_in * c_out * k * k
        if stride == 1:
            plain += macs
        else:
            strided += macs
        values += passes * batch.n * side * side * c_out
    masks = values // passes if batch.dropout > 0 else 0
    return Work(plain, strided, values, masks, passes * len(batch.weights))


def draw_samples(
    batch: StackBatch, seed: int = 0, window: int | None = None
) -> tuple[torch.Tensor | None, list[torch.Tensor] | None]:
    """The random inputs and dropout masks :func:`stack_erf` uses with this ``seed``.

    Inputs: standard normal, ``(n, in_channels, side, side)`` at full
    resolution, drawn as ``erf_map`` draws them (a generator seeded with
    ``seed``), so a stride-1 stack measured with the same seed sees the very
    same inputs.  Masks: one per layer, ``(n, channels, side_l, side_l)`` on
    :func:`layer_sides`, 0 or ``1 / (1 - p)`` as ``nn.Dropout`` makes them,
    drawn after the inputs from the same generator.  A linear stack without
    dropout needs neither: ``(None, None)``.
    """
    if not batch.needs_forward():
        return None, None
    seed = as_int("seed", seed, minimum=0)
    plan = _plan(batch, window)
    generator = torch.Generator().manual_seed(seed)
    full = plan.full_side
    inputs = torch.randn((batch.n, batch.channels[0], full, full), generator=generator)
    if batch.dropout == 0:
        return inputs, None
    keep = 1.0 - batch.dropout
    masks = [
        torch.empty((batch.n, c, s, s)).bernoulli_(keep, generator=generator) / keep
        for c, s in zip(batch.channels[1:], plan.sides, strict=True)
    ]
    return inputs, masks


def stack_erf(
    batch: StackBatch,
    inputs: torch.Tensor | None = None,
    masks: Sequence[torch.Tensor] | None = None,
    *,
    seed: int = 0,
    window: int | None = None,
    threads: int | None = 1,
) -> np.ndarray:
    """The ERF of the central unit of ``batch``'s networks, as ``erf_map`` measures it.

    The mean over the networks of ``|d y / d x|`` (``y``: the central unit,
    summed over output channels; summed over input channels), normalised to
    sum 1 (a map that is all zero stays so).  Network ``i`` sees
    ``inputs[i]`` and ``masks[l][i]`` (default: :func:`draw_samples` with
    ``seed``); a linear stack without dropout needs neither.

    Without ``window`` the map covers exactly the theoretical field
    (:meth:`StackBatch.field_side` pixels a side), computed on the central
    unit's cone only: equal to ``erf_map`` on any larger input whose middle
    holds the same inputs.  With ``window=N`` it is ``erf_map`` on an
    ``N x N`` input (zero padding; the field is cut where it is wider).

    ``threads``: torch's thread count meanwhile (restored afterwards; None
    keeps it).  One, as in ``erf_map``: these small convolutions gain little
    from more threads on a quiet machine and lose a lot on a busy one.
    """
    if not isinstance(batch, StackBatch):
        raise TypeError(
            f"batch must be a StackBatch (StackBatch.from_modules(nets)), got {type(batch).__name__}"
        )
    plan = _plan(batch, window)
    with torch.no_grad(), _thread_count(threads):
        if batch.needs_forward() and (inputs is None or (batch.dropout > 0 and masks is None)):
            drawn_inputs, drawn_masks = draw_samples(batch, seed, window)
            inputs = drawn_inputs if inputs is None else inputs
            masks = drawn_masks if masks is None else masks
        expected = (batch.n, batch.channels[0], plan.full_side, plan.full_side)
        if inputs is not None and tuple(inputs.shape) != expected:
            raise ValueError(f"inputs must have shape {expected}, got {tuple(inputs.shape)}")
        weights = [w.float().reshape(-1, *w.shape[2:]) for w in batch.weights]
        factors = None
        if batch.needs_forward():
            factors = _forward(batch, plan, weights, inputs, masks)
        grad = _backward(batch, plan, weights, factors)
        shape = (batch.n, batch.channels[0], plan.side, plan.side)
        erf = grad.abs().reshape(shape).sum(dim=1).double().mean(dim=0)
    mass = float(erf.sum())
    erf = (erf / mass if mass > 0 else erf).numpy()
    if plan.step == 1:
        return erf
    spread = np.zeros((plan.full_side, plan.full_side))
    spread[:: plan.step, :: plan.step] = erf
    return spread


@contextlib.contextmanager
def _thread_count(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore the previous count."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(as_int("threads", threads, minimum=1))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _activate(activation: str | None, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The activation of ``z`` and its slope (None: slope 1 everywhere)."""
    if activation == "relu":
        return torch.relu(z), (z > 0).to(z.dtype)
    if activation == "tanh":
        y = torch.tanh(z)
        return y, 1 - y * y
    if activation == "sigmoid":
        y = torch.sigmoid(z)
        return y, y * (1 - y)
    return z, None


def _forward(batch, plan, weights, inputs, masks) -> list[torch.Tensor | None]:
    """Run the stacks forward; per layer, d(layer output) / d(pre-activation)."""
    step, n = plan.step, batch.n
    x = inputs[..., ::step, ::step].float()
    x = x.reshape(1, -1, *x.shape[2:]).contiguous(memory_format=torch.channels_last)
    factors = []
    for layer, weight in enumerate(weights):
        stride, padding = batch.strides[layer], plan.paddings[layer]
        z = _conv(x, weight, stride, padding, plan.dilations[layer], n)
        x, factor = _activate(batch.activation, z)
        if masks is not None:
            mask = masks[layer].reshape(z.shape).to(z.dtype)
            x = x * mask
            factor = mask if factor is None else factor * mask
        factors.append(factor)
    return factors


def _backward(batch, plan, weights, factors) -> torch.Tensor:
    """Back-propagate 1 from the central unit (in every channel) to the input."""
    last = plan.sides[-1]
    grad = torch.zeros((1, batch.n * batch.channels[-1], last, last))
    grad[..., last // 2, last // 2] = 1.0
    grad = grad.contiguous(memory_format=torch.channels_last)
    in_sides = (plan.side, *plan.sides[:-1])
    for layer in reversed(range(len(weights))):
        if factors is not None and factors[layer] is not None:
            grad = grad * factors[layer]
        grad = _conv_input_grad(
            grad,
            weights[layer],
            batch.strides[layer],
            plan.paddings[layer],
            plan.dilations[layer],
            batch.n,
            in_sides[layer],
        )
    return grad


def _conv(x, weight, stride: int, padding: int, dilation: int, n: int) -> torch.Tensor:
    """Every network's layer at once, as one grouped convolution.

    Strided grouped convolutions are slow in PyTorch on a CPU: a strided
    layer runs network by network instead.
    """
    if stride == 1:
        weight = weight.contiguous(memory_format=torch.channels_last)
        return F.conv2d(x, weight, padding=padding, dilation=dilation, groups=n)
    parts = zip(x.contiguous().chunk(n, dim=1), weight.chunk(n), strict=True)
    outputs = [
        F.conv2d(xi, wi, stride=stride, padding=padding, dilation=dilation) for xi, wi in parts
    ]
    return torch.cat(outputs, dim=1).contiguous(memory_format=torch.channels_last)


def _conv_input_grad(grad, weight, stride, padding, dilation, n, in_side) -> torch.Tensor:
    """The gradient at the input of :func:`_conv`, from the gradient at its output."""
    k = weight.shape[-1]
    if stride == 1:
        # the input gradient of a correlation is a correlation with the kernel turned
        # by 180 degrees and in/out channels swapped, over the fully padded gradient
        out, c_in = weight.shape[0] // n, weight.shape[1]
        turned = weight.reshape(n, out, c_in, k, k).transpose(1, 2).flip(-1, -2)
        turned = turned.reshape(n * c_in, out, k, k).contiguous(memory_format=torch.channels_last)
        span = dilation * (k - 1)
        return F.conv2d(grad, turned, padding=span - padding, dilation=dilation, groups=n)
    natural = (grad.shape[-1] - 1) * stride - 2 * padding + dilation * (k - 1) + 1
    parts = zip(grad.contiguous().chunk(n, dim=1), weight.chunk(n), strict=True)
    inputs = [
        F.conv_transpose2d(
            gi,
            wi,
            stride=stride,
            padding=padding,
            output_padding=in_side - natural,
            dilation=dilation,
        )
        for gi, wi in parts
    ]
    return torch.cat(inputs, dim=1).contiguous(memory_format=torch.channels_last)
