"""Notebook 03 (dilation): one slider update of each demo, and the coverage computation.

A demo update is compute + redraw + PNG, as a learner sees it.  Each demo
has a typical move and a ``_worst_`` one at its slowest setting, found by
sweeping the corners of its sliders: the explorer's is six 7x7 layers at
rate 16 (a 577x577 coverage map), the comparison's depth 8, the sliding
kernel's a 16x16 input with padding 6 (a 28x28 output grid).  Budget: 100 ms
median for a typical move, 250 ms for the slowest.
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


def bench_dilation_slide_worst_update():
    """Slide a 1x1 kernel over a 16x16 input with padding 6: the largest grids drawn."""
    demo = dd.dilated_kernel_demo(input_size=16, kernel=1, dilation=1, padding=6)
    return alternate(demo, "step", 3, 17)


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


def bench_dilation_comparison_worst_update():
    """Switch between the strided and the pooled stack at depth 8 (RFs 511 and 766)."""
    demo = dd.stack_comparison(depth=8, input_size=256)
    return alternate(demo, "kind", "strided", "pooled")


def bench_coverage_2d_worst():
    """The explorer's worst coverage map alone (577x577, six 7x7 layers)."""
    layers = [Layer((7, 7), dilation=16, padding=48)] * 6
    return lambda: rfl.coverage(layers)


def bench_coverage_context_module():
    """Coverage of Yu & Koltun's context module as a torch module (trace + count, 67x67)."""
    model = rfl.zoo.context_module(channels=4)
    return lambda: rfl.coverage(model)


def summarize(results: dict[str, float]) -> list[str]:
    """Say whether every demo update stays within budget (100 ms; 250 ms at the slowest setting)."""
    demos = [name for name in results if name.startswith("dilation_") and name.endswith("update")]
    lines = []
    for kind, budget in (("typical", 100), ("worst", 250)):
        names = [n for n in demos if ("_worst_" in n) == (kind == "worst")]
        if not names:
            continue
        slowest = max(names, key=results.get)
        verdict = "within" if results[slowest] < budget else "OVER"
        lines.append(
            f"slowest {kind} dilation demo update: {slowest} {results[slowest]:.1f} ms "
            f"({verdict} {budget} ms)"
        )
    return lines
