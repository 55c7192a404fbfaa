"""Start-here notebook: one slider update of the output-size demo."""

from moves import alternate

import rflesson as rfl


def bench_start_here_demo_update():
    """Compute + redraw after one slider move (alternating between two values)."""
    return alternate(rfl.output_size_demo(), "input_size", 9, 10)


def bench_sliding_window_compute():
    """The pure computation alone, for comparison with the redraw."""
    return lambda: rfl.sliding_window(16, kernel=3, stride=2, padding=1)
