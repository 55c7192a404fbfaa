"""Notebook 05 (initialization): one update of the init explorer, as a learner sees it.

An update computes two ERF maps (usual and centre-scaled, 16 random
networks each), draws four panels and encodes a PNG.  The map cache is
cleared before each move, so these are first-visit times.
"""

from moves import alternate

from rflesson.course.lesson05 import demos as init_demos


def bench_init_explorer_strength():
    """Strength 0.5 <-> 1.0 at 10 layers with ReLU (no cache)."""
    demo = init_demos.init_explorer(depth=10)
    return alternate(demo, "strength", 0.5, 1.0, before=init_demos._explorer_map.cache_clear)


def bench_init_explorer_deepest():
    """Depth 19 <-> the deepest the slider allows, strength 1 (no cache)."""
    deepest = init_demos.EXPLORER_MAX_DEPTH
    demo = init_demos.init_explorer(depth=deepest)
    return alternate(
        demo, "depth", deepest - 1, deepest, before=init_demos._explorer_map.cache_clear
    )


def bench_init_explorer_cached():
    """Back to a setting already visited (the maps come from the cache)."""
    return alternate(init_demos.init_explorer(depth=10), "strength", 0.5, 1.0)
