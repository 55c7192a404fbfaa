"""Exercises of notebook 03 (dilation and sub-sampling): dilated RFs, gridding, WaveNet depth."""

from __future__ import annotations

import itertools

from ...coverage import coverage
from ...layers import Layer
from ...rf import receptive_field
from ..check import exercise
from ..i18n import N_

#: The rates of exercise 03.dilated-stack-rf: each three times the last.
TRIPLING_RATES = (1, 3, 9, 27)

#: The rate lists offered in exercise 03.which-grid.
GRID_CHOICES = ((1, 2, 4), (2, 4, 6), (1, 4, 8), (1, 3, 9))


def _stack(rates, kernel: int = 3) -> list[Layer]:
    return [Layer(kernel, dilation=r, padding=r * ((kernel - 1) // 2)) for r in rates]


def _grids(rates) -> bool:
    return bool((coverage(_stack(rates)) == 0).any())


@exercise(
    "03.dilated-stack-rf",
    hint=N_(
        "A 3x3 kernel at rate d spans 2d + 1 pixels, so at stride 1 it adds 2d to the RF "
        "of the layers below it. Start from one pixel and add each layer's share."
    ),
    explain=N_(
        "1 + 2·(1 + 3 + 9 + 27) = 81 = 3⁴: each layer triples the field. Each of the 81 "
        "offsets is reached by exactly one path (exercise 4.2 comes back to these rates)."
    ),
)
def _dilated_stack_rf():
    return receptive_field(_stack(TRIPLING_RATES)).size


class CoversWithoutHoles:
    """The answer to 03.cover-15: any three rates whose 3x3 stack is 15 wide with no hole.

    Several answers are right, so the expected value is this checker: an
    answer equals it when rflesson computes RF 15 and no zero in the coverage.
    """

    def __init__(self, layers: int = 3, span: int = 15) -> None:
        self.layers = layers
        self.span = span

    @property
    def example(self) -> tuple[int, ...]:
        """The first right answer a search over rates 1..span finds (for tests)."""
        for rates in itertools.product(range(1, self.span + 1), repeat=self.layers):
            if self.accepts(rates):
                return rates
        raise ValueError(f"no {self.layers} rates give RF {self.span} without holes")

    def accepts(self, answer: object) -> bool:
        try:
            rates = tuple(answer)  # type: ignore[arg-type]
            stack = _stack(rates)
        except (TypeError, ValueError):
            return False
        if len(rates) != self.layers or not all(isinstance(r, int) for r in rates):
            return False
        return receptive_field(stack).size == self.span and not _grids(rates)

    def __eq__(self, answer: object) -> bool:
        return self.accepts(answer)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"any {self.layers} rates with RF {self.span} and no holes"


@exercise(
    "03.cover-15",
    hint=N_(
        "Three 3x3 layers give RF 1 + 2(r1 + r2 + r3), so the rates must add up to 7; "
        "then keep the gaps small: start with rate 1 and avoid a common factor. "
        "Try your answer in the explorer above."
    ),
    explain=N_("Any of (1, 2, 4), (1, 1, 5), (1, 3, 3) in any order works; (2, 2, 3) misses ±6."),
)
def _cover_15():
    return CoversWithoutHoles(3, 15)


@exercise(
    "03.which-grid",
    hint=N_(
        "A shared factor always grids. Otherwise lay down the taps of the two larger rates "
        "and look at the gaps they leave: a 3x3 layer at rate 1 closes gaps of at most 3 "
        "(the order of stride-1 layers does not matter)."
    ),
    explain=N_(
        "(2, 4, 6) shares the factor 2; (1, 4, 8) leaves gaps of 4 that a rate-1 layer "
        "cannot fill. (1, 3, 9) covers 27 pixels exactly once each: balanced ternary."
    ),
)
def _which_grid():
    return {rates for rates in GRID_CHOICES if _grids(rates)}


@exercise(
    "03.wavenet-layers",
    hint=N_(
        "Kernel 2 at rate d adds d samples: 1 + (1 + 2 + ... + 2^(n-1)) = 2^n. "
        "Find the smallest n with 2^n >= 4096."
    ),
    explain=N_("2^12 = 4096: twelve layers, dilations 1 to 2048."),
)
def _wavenet_layers():
    n = 1
    while receptive_field([Layer(2, dilation=2**i) for i in range(n)]).size < 4096:
        n += 1
    return n
