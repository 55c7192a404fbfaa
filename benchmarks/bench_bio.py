"""Notebook 01 (biology): one slider update of each demo, and the convolutions behind them."""

from moves import alternate

import rflesson as rfl


def bench_bio_neuron_explorer_update():
    """Move the cell across the photograph (compute + redraw + PNG)."""
    return alternate(rfl.neuron_explorer(), "col", 30, 90)


def bench_bio_neuron_explorer_resize():
    """Switch between two centre sizes (response maps cached after the first visit)."""
    return alternate(rfl.neuron_explorer(), "centre_sigma", 1.0, 2.5)


def bench_bio_spot_size_update():
    """Change the spot diameter."""
    return alternate(rfl.spot_size_demo(), "diameter", 6.0, 20.0)


def bench_bio_orientation_update():
    """Turn the grating."""
    return alternate(rfl.orientation_demo(), "stimulus", 20.0, 65.0)


def bench_bio_dog_on_photograph():
    """A 73x73 DoG over the 150x128 photograph with torch conv2d (notebook figure)."""
    image, kernel = rfl.sample_image(), rfl.dog_kernel(2.0, 6.0)
    return lambda: rfl.apply_kernel(image, kernel)


def bench_bio_spot_experiment():
    """The whole spot-size curve of a fresh 73x73 kernel (no cache)."""
    diameters = [0.5 * i for i in range(200)]

    def run():
        from rflesson import bio

        bio._rim_weights.cache_clear()
        rfl.spot_experiment(rfl.dog_kernel(2.0, 6.0), diameters)

    return run


def summarize(results: dict[str, float]) -> list[str]:
    """Say whether every demo update stays under the 100 ms budget."""
    demos = [name for name in results if name.endswith(("_update", "_resize"))]
    slowest = max(demos, key=results.get) if demos else None
    if slowest is None:
        return []
    verdict = "within" if results[slowest] < 100 else "OVER"
    return [f"slowest biology demo update: {slowest} {results[slowest]:.1f} ms ({verdict} 100 ms)"]
