"""Notebook 05 (initialization): one update of the init explorer, as a learner sees it.

An update computes two ERF maps (usual and centre-scaled, 16 random
networks each), draws four panels and encodes a PNG.  The map cache is
cleared before each move, so these are first-visit times.
"""

from rflesson import init_demos


def _alternate(demo, name, first, second):
    """A callable that moves one control back and forth: one full update per call."""
    state = {"flip": False}

    def move():
        state["flip"] = not state["flip"]
        init_demos._explorer_map.cache_clear()  # measure the computation, not the cache
        demo.set(**{name: first if state["flip"] else second})

    return move


def bench_init_explorer_strength():
    """Strength 0.5 <-> 1.0 at 10 layers with ReLU (no cache)."""
    return _alternate(init_demos.init_explorer(depth=10), "strength", 0.5, 1.0)


def bench_init_explorer_deepest():
    """Depth 19 <-> the deepest the slider allows, strength 1 (no cache)."""
    deepest = init_demos.EXPLORER_MAX_DEPTH
    return _alternate(init_demos.init_explorer(depth=deepest), "depth", deepest - 1, deepest)


def bench_init_explorer_cached():
    """Back to a setting already visited (the maps come from the cache)."""
    demo = init_demos.init_explorer(depth=10)
    state = {"flip": False}

    def move():
        state["flip"] = not state["flip"]
        demo.set(strength=0.5 if state["flip"] else 1.0)

    return move
