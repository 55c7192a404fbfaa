"""Notebook 04 (effective RF): batched ERF against a naive loop, and the explorer's updates.

An explorer update is compute + redraw + PNG with the result cache cleared
(a first visit).  ``erf_explorer_moves`` is a mix of the moves a learner
makes (its median is the typical update); ``erf_explorer_worst`` alternates
between the two slowest settings the sliders reach (found by timing the
largest measurable depth and depth 40 of every kernel, weights, activation,
layout and dropout corner).
"""

from moves import alternate, cycle

import rflesson as rfl
from rflesson.course.lesson04.demos import erf_explorer, explore_erf

#: The explorer's two slowest settings (a whole field just within the time budget, and
#: a field cut to fit it), in the order depth, kernel, weights, activation, layout, dropout.
SLOWEST = (
    (23, 7, "random", "none", "dilation 2", 0.5),
    (40, 5, "random", "none", "stride 2 (first 2 layers)", 0.0),
)
#: A learner's moves: depth steps, then each other control in turn.
MOVES = [
    dict(depth=11),
    dict(depth=12),
    dict(depth=13),
    dict(activation="relu"),
    dict(kernel=5),
    dict(layout="stride 2 (first 2 layers)"),
    dict(layout="dilation 2"),
    dict(dropout=0.3),
    dict(weights="uniform"),
    dict(depth=20, kernel=3, weights="random", activation="none", layout="plain", dropout=0.0),
    dict(depth=10),
]
NAMES = ("depth", "kernel", "weights", "activation", "layout", "dropout")

DEPTH, SIZE, SAMPLES = 20, 64, 32
UNIT = (32, 32)  # 64 is even: the output has no middle unit, so name one next to the middle


def _fresh():
    return rfl.conv_stack(DEPTH, channels=4, activation="relu")


def bench_erf_fresh_batched():
    """20-layer ReLU stack, 64x64, n=32 fresh networks in one vmapped pass."""
    return lambda: rfl.erf_map(_fresh, SIZE, n=SAMPLES, unit=UNIT)


def bench_erf_fresh_looped():
    """The same 32 networks and inputs, one forward/backward each (the naive loop)."""
    return lambda: rfl.erf_map(_fresh, SIZE, n=SAMPLES, unit=UNIT, batched=False)


def bench_erf_module_batched():
    """One 20-layer ReLU stack, 64x64, 32 random inputs as one batch."""
    net = _fresh()
    return lambda: rfl.erf_map(net, SIZE, n=SAMPLES, unit=UNIT)


def bench_erf_module_looped():
    """The same 32 inputs one at a time."""
    net = _fresh()
    return lambda: rfl.erf_map(net, SIZE, n=SAMPLES, unit=UNIT, batched=False)


def bench_erf_explorer_update():
    """Explorer: 10 <-> 20 random ReLU layers (compute + redraw + PNG, no cache)."""
    demo = erf_explorer(activation="relu")
    return alternate(demo, "depth", 10, 20, before=explore_erf.cache_clear)


def bench_erf_explorer_moves():
    """Explorer: a learner's mix of moves, from 10 random linear 3x3 layers (no cache)."""
    return cycle(erf_explorer(), MOVES, before=explore_erf.cache_clear)


def bench_erf_explorer_worst():
    """Explorer's two slowest settings, in turn (no cache)."""
    settings = [dict(zip(NAMES, values, strict=True)) for values in SLOWEST]
    return cycle(erf_explorer(**settings[0]), settings, before=explore_erf.cache_clear)


def summarize(results: dict[str, float]) -> list[str]:
    """The speed-up of batching, and whether explorer updates stay within 100 / 250 ms."""
    lines = []
    for kind in ("fresh", "module", "fresh_2threads"):
        batched = results.get(f"erf_{kind.replace('fresh', 'fresh_batched', 1)}")
        looped = results.get(f"erf_{kind.replace('fresh', 'fresh_looped', 1)}")
        if kind == "module":
            batched, looped = results.get("erf_module_batched"), results.get("erf_module_looped")
        if batched and looped:
            lines.append(
                f"ERF ({kind.replace('_', ', ')}) 20 layers at 64x64, n=32: batched "
                f"{batched:.0f} ms, looped {looped:.0f} ms, loop/batched {looped / batched:.1f}x"
            )
    for name, limit in (
        ("erf_explorer_update", 100),
        ("erf_explorer_moves", 100),
        ("erf_explorer_worst", 250),
    ):
        if name in results:
            verdict = "within" if results[name] < limit else "OVER"
            lines.append(f"{name}: {results[name]:.0f} ms ({verdict} {limit} ms)")
    return lines


def bench_erf_fresh_batched_2threads():
    """As erf_fresh_batched on 2 torch threads (slow on a busy machine: threads wait)."""
    return lambda: rfl.erf_map(_fresh, SIZE, n=SAMPLES, unit=UNIT, threads=2)


def bench_erf_fresh_looped_2threads():
    """As erf_fresh_looped on 2 torch threads: 32x more small operations to synchronise."""
    return lambda: rfl.erf_map(_fresh, SIZE, n=SAMPLES, unit=UNIT, batched=False, threads=2)
