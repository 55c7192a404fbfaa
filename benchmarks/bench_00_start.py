"""Start-here notebook: one slider update of the output-size demo."""

import rflesson as rfl


def bench_start_here_demo_update():
    """Compute + redraw after one slider move (alternating between two values)."""
    demo = rfl.output_size_demo()
    slider = demo.controls["input_size"]
    values = iter(range(10**9))

    def move():
        slider.value = 9 + next(values) % 2

    return move


def bench_sliding_window_compute():
    """The pure computation alone, for comparison with the redraw."""
    return lambda: rfl.sliding_window(16, kernel=3, stride=2, padding=1)
