"""The independent reference for ERF tests: erf_map on a larger input, same networks and inputs.

``stack_erf`` (and the explorers built on it) measure on exactly the
theoretical field with valid convolutions.  The reference runs the very same
networks as ordinary padded ``ConvStack`` modules through ``erf_map``
(autograd) on an input ``MARGIN`` pixels wider on every side, whose middle
holds the same inputs (fresh noise around them), with the same dropout masks
where the field is; then it is cut back to the field.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rflesson.erf import erf_map, trf_box
from rflesson.erf_exact import StackBatch

MARGIN = 8


class MaskedStack(nn.Module):
    """A ConvStack whose dropout is replaced by fixed masks (one per layer)."""

    def __init__(self, net: nn.Module, masks: list[torch.Tensor]) -> None:
        super().__init__()
        self.convs, self.act = net.convs, net.act
        for layer, mask in enumerate(masks):
            self.register_buffer(f"mask{layer}", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer, conv in enumerate(self.convs):
            x = self.act(conv(x)) * getattr(self, f"mask{layer}")
        return x


def aligned(side: int, batch: StackBatch) -> int:
    """The smallest input side from ``side`` up whose central unit sits in the middle."""
    period = 2 * int(np.prod(batch.strides))
    return side + (-(side - 1)) % period


def _big_sides(batch: StackBatch, big: int) -> list[int]:
    """Each layer's output side in the padded modules on a big x big input."""
    sides, current = [], big
    for k, s, d in zip(batch.kernels, batch.strides, batch.dilations, strict=True):
        current = (current + 2 * (d * (k - 1) // 2) - d * (k - 1) - 1) // s + 1
        sides.append(current)
    return sides


def centred(small: torch.Tensor, big: torch.Tensor, step: int = 1) -> torch.Tensor:
    """``big`` with ``small`` written into its middle, every ``step``-th pixel."""
    span = step * (small.shape[-1] - 1) + 1
    offset = (big.shape[-1] - span) // 2
    big = big.clone()
    big[..., offset : offset + span : step, offset : offset + span : step] = small
    return big


def reference(
    batch: StackBatch,
    inputs: torch.Tensor | None,
    masks: list[torch.Tensor] | None,
    big: int | None = None,
    *,
    window: int | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[np.ndarray, float]:
    """erf_map of ``batch``'s networks; returns (the map on the field, its mass outside it).

    ``big`` defaults to the field plus ``MARGIN`` on each side.  With
    ``window``, erf_map on exactly that input (no cropping, mass outside 0).
    """
    nets = batch.modules()
    step = batch.lattice_step()
    size = window or big or aligned(batch.field_side() + 2 * MARGIN, batch)
    if masks is not None:
        sides = _big_sides(batch, size)

        def embedded(i: int) -> list[torch.Tensor]:
            return [
                centred(mask[i], torch.ones(mask.shape[1], side, side), step)
                for mask, side in zip(masks, sides, strict=True)
            ]

        nets = [MaskedStack(net, embedded(i)) for i, net in enumerate(nets)]
    if inputs is not None:
        noise = torch.randn((batch.n, batch.channels[0], size, size), generator=torch.Generator())
        inputs = centred(inputs, noise)
    models = iter(nets)
    erf = erf_map(
        lambda: next(models),
        size,
        n=batch.n,
        inputs=inputs,
        in_channels=batch.channels[0],
        dtype=dtype,
    )
    if window is not None:
        return erf, 0.0
    (r0, r1), (c0, c1) = trf_box(batch.modules()[0], size)
    field = erf[r0 : r1 + 1, c0 : c1 + 1]
    return field, float(erf.sum() - field.sum())
