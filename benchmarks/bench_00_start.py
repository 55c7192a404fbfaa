"""Start-here notebook: one slider update of the output-size demo, and its slowest setting."""

from moves import alternate

import rflesson as rfl


def bench_start_here_demo_update():
    """Compute + redraw after one slider move (alternating between two values)."""
    return alternate(rfl.output_size_demo(), "input_size", 9, 10)


def bench_start_here_demo_worst():
    """The most rows: a 1-pixel window sliding along 16 pixels padded by 3 or 4 (23 or 24 windows)."""
    demo = rfl.output_size_demo(input_size=16, kernel=1, stride=1, padding=4)
    return alternate(demo, "padding", 3, 4)


def bench_sliding_window_compute():
    """The pure computation alone, for comparison with the redraw."""
    return lambda: rfl.sliding_window(16, kernel=3, stride=2, padding=1)


def summarize(results: dict[str, float]) -> list[str]:
    """Say whether the demo stays under 100 ms per update and 250 ms at its slowest setting."""
    lines = []
    for name, budget in (("start_here_demo_update", 100), ("start_here_demo_worst", 250)):
        if name in results:
            verdict = "within" if results[name] < budget else "OVER"
            lines.append(f"{name}: {results[name]:.0f} ms ({verdict} {budget} ms)")
    return lines
