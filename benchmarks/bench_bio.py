"""Notebook 01 (biology): one slider update of each demo, its slowest setting, and the
convolutions behind them.

A demo update is compute + redraw + PNG, as a learner sees it.  An ``_update``
benchmark moves a slider between two ordinary settings; a ``_worst`` one moves
it between two of the demo's heaviest settings with every cache cleared, so
that the computation is timed and not the cache.
"""

from moves import alternate

import rflesson as rfl
from rflesson.course.lesson01 import bio
from rflesson.course.lesson01 import demos as bio_demos


def bench_bio_neuron_explorer_update():
    """Move the cell across the photograph (compute + redraw + PNG)."""
    return alternate(rfl.neuron_explorer(), "col", 30, 90)


def bench_bio_neuron_explorer_resize():
    """Switch between two centre sizes (response maps cached after the first visit)."""
    return alternate(rfl.neuron_explorer(), "centre_sigma", 1.0, 2.5)


def bench_bio_neuron_explorer_worst():
    """The two largest cells (91x91 px kernels) at the bottom-right corner, no cache."""
    demo = rfl.neuron_explorer(col=127, row=149, centre_sigma=3.0)
    return alternate(demo, "centre_sigma", 2.5, 3.0, before=bio_demos._response_map.cache_clear)


def bench_bio_spot_size_update():
    """Change the spot diameter."""
    return alternate(rfl.spot_size_demo(), "diameter", 6.0, 20.0)


def _clear_spot_caches() -> None:
    bio_demos._spot_curve.cache_clear()
    bio._rim_weights.cache_clear()


def bench_bio_spot_size_worst():
    """The widest cells (centre σ 3.5 or 4 px, surround 8x: up to 193x193 px), no cache."""
    demo = rfl.spot_size_demo(diameter=60.0, centre_sigma=4.0)
    demo.set(surround_ratio=8.0, surround_strength=1.2)
    return alternate(demo, "centre_sigma", 3.5, 4.0, before=_clear_spot_caches)


def bench_bio_orientation_update():
    """Turn the grating."""
    return alternate(rfl.orientation_demo(), "stimulus", 20.0, 65.0)


def bench_bio_orientation_worst():
    """The widest envelopes (σ 7.5 or 8 px): a new cell and its tuning curve, no cache."""
    demo = rfl.orientation_demo(stimulus=180.0, preferred=165.0)
    demo.set(sigma=8.0)
    return alternate(demo, "sigma", 7.5, 8.0, before=bio_demos._tuning.cache_clear)


def bench_bio_dog_on_photograph():
    """A 73x73 DoG over the 150x128 photograph with torch conv2d (notebook figure)."""
    image, kernel = rfl.sample_image(), rfl.dog_kernel(2.0, 6.0)
    return lambda: rfl.apply_kernel(image, kernel)


def bench_bio_spot_experiment():
    """The whole spot-size curve of a fresh 73x73 kernel (no cache)."""
    diameters = [0.5 * i for i in range(200)]

    def run():
        bio._rim_weights.cache_clear()
        rfl.spot_experiment(rfl.dog_kernel(2.0, 6.0), diameters)

    return run


def summarize(results: dict[str, float]) -> list[str]:
    """Say whether every demo update stays under 100 ms and its worst setting under 250 ms."""
    lines = []
    for name, value in results.items():
        if name.endswith(("_update", "_resize")):
            budget = 100
        elif name.endswith("_worst"):
            budget = 250
        else:
            continue
        verdict = "within" if value < budget else "OVER"
        lines.append(f"{name}: {value:.0f} ms ({verdict} {budget} ms)")
    return lines
