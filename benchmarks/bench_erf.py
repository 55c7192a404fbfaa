"""Notebook 04 (effective RF): batched ERF against a naive loop, and one explorer update."""

from moves import alternate

import rflesson as rfl
from rflesson.course.lesson04.demos import erf_explorer, explore_erf

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


def bench_erf_explorer_worst():
    """Explorer's heaviest setting: 40 layers of 7x7 with ReLU, dilation 2 <-> plain."""
    demo = erf_explorer(depth=40, kernel=7, activation="relu")
    return alternate(demo, "layout", "dilation 2", "plain", before=explore_erf.cache_clear)


def summarize(results: dict[str, float]) -> list[str]:
    """The speed-up of batching, and whether explorer updates stay under 500 ms."""
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
    for name in ("erf_explorer_update", "erf_explorer_worst"):
        if name in results:
            verdict = "within" if results[name] < 500 else "OVER"
            lines.append(f"{name}: {results[name]:.0f} ms ({verdict} 500 ms)")
    return lines


def bench_erf_fresh_batched_2threads():
    """As erf_fresh_batched on 2 torch threads (slow on a busy machine: threads wait)."""
    return lambda: rfl.erf_map(_fresh, SIZE, n=SAMPLES, unit=UNIT, threads=2)


def bench_erf_fresh_looped_2threads():
    """As erf_fresh_looped on 2 torch threads: 32x more small operations to synchronise."""
    return lambda: rfl.erf_map(_fresh, SIZE, n=SAMPLES, unit=UNIT, batched=False, threads=2)
