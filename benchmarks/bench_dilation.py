"""Notebook 03 (dilation): one slider update of each demo, and the coverage computation.

A demo update is compute + redraw + PNG, as a learner sees it.  The
explorer's worst case is six 7x7 layers at rate 16 (a 577x577 coverage map).
"""

from moves import alternate

import rflesson as rfl
from rflesson import Layer
from rflesson.course.lesson03 import demos as dd


def bench_dilation_slide_update():
    """Slide the dilated kernel one position."""
    return alternate(dd.dilated_kernel_demo(), "step", 3, 17)


def bench_dilation_slide_rate_update():
    """Change the dilation of the sliding kernel."""
    return alternate(dd.dilated_kernel_demo(), "dilation", 1, 3)


def bench_dilation_explorer_update():
    """Change the top rate of (1, 2, r3): 2-D coverage, HDC verdict, redraw (cache cleared)."""
    demo = dd.dilation_explorer()
    return alternate(demo, "r3", 5, 9, before=dd._gridding.cache_clear)


def bench_dilation_explorer_worst_update():
    """Six 7x7 layers at rate 16 or 15: a 577x577 coverage map (cache cleared)."""
    demo = dd.dilation_explorer()
    demo.set(depth=6, kernel=7, r1=16, r2=16, r3=16, r4=16, r5=16, r6=16)
    return alternate(demo, "r6", 15, 16, before=dd._gridding.cache_clear)


def bench_dilation_comparison_update():
    """Change the depth of the chosen stack."""
    return alternate(dd.stack_comparison(), "depth", 3, 6)


def bench_dilation_comparison_kind_update():
    """Switch between the pooled and the strided stack at depth 4."""
    return alternate(dd.stack_comparison(), "kind", "pooled", "strided")


def bench_coverage_2d_worst():
    """The explorer's worst coverage map alone (577x577, six 7x7 layers)."""
    layers = [Layer((7, 7), dilation=16, padding=48)] * 6
    return lambda: rfl.coverage(layers)


def bench_coverage_context_module():
    """Coverage of Yu & Koltun's context module as a torch module (trace + count, 67x67)."""
    model = rfl.zoo.context_module(channels=4)
    return lambda: rfl.coverage(model)


def summarize(results: dict[str, float]) -> list[str]:
    """Say whether every demo update stays under the 100 ms budget."""
    demos = [name for name in results if name.startswith("dilation_") and name.endswith("update")]
    if not demos:
        return []
    slowest = max(demos, key=results.get)
    verdict = "within" if results[slowest] < 100 else "OVER"
    return [f"slowest dilation demo update: {slowest} {results[slowest]:.1f} ms ({verdict} 100 ms)"]
