"""Notebook 05 (initialization): updates of the init explorer, as a learner sees them.

An update computes two ERF maps (usual and centre-scaled, 16 random
networks each) when the depth or activation changes, one when the strength
does; then it updates the figure and encodes a PNG.  The map cache is
cleared before each move (first visits), except in ``init_explorer_cached``.
"""

from moves import alternate, cycle

from rflesson.course.lesson05 import demos as init_demos

#: A learner's moves: strength steps, depth steps, the other activation.
MOVES = [
    dict(strength=0.75),
    dict(strength=0.5),
    dict(depth=11),
    dict(depth=12),
    dict(activation="none"),
    dict(strength=1.0, depth=10, activation="relu"),
]


def bench_init_explorer_strength():
    """Strength 0.5 <-> 1.0 at 10 layers with ReLU (no cache)."""
    demo = init_demos.init_explorer(depth=10)
    return alternate(demo, "strength", 0.5, 1.0, before=init_demos._explorer_map.cache_clear)


def bench_init_explorer_moves():
    """A learner's mix of moves from strength 1, 10 ReLU layers (no cache)."""
    demo = init_demos.init_explorer(depth=10)
    return cycle(demo, MOVES, before=init_demos._explorer_map.cache_clear)


def bench_init_explorer_deepest():
    """Depth 29 <-> the deepest the slider allows, strength 1, ReLU (no cache): the worst."""
    deepest = init_demos.EXPLORER_MAX_DEPTH
    demo = init_demos.init_explorer(depth=deepest)
    return alternate(
        demo, "depth", deepest - 1, deepest, before=init_demos._explorer_map.cache_clear
    )


def bench_init_explorer_deep_crossing():
    """Depth 25 <-> 26 (no cache): deep maps and new axes limits, so the whole figure is drawn."""
    demo = init_demos.init_explorer(depth=25)
    return alternate(demo, "depth", 25, 26, before=init_demos._explorer_map.cache_clear)


def bench_init_explorer_cached():
    """Back to a setting already visited (the maps come from the cache)."""
    return alternate(init_demos.init_explorer(depth=10), "strength", 0.5, 1.0)


def summarize(results: dict[str, float]) -> list[str]:
    """Whether the typical update stays within 100 ms and the worst within 250 ms."""
    lines = []
    for name, limit in (
        ("init_explorer_strength", 100),
        ("init_explorer_moves", 100),
        ("init_explorer_deepest", 250),
        ("init_explorer_deep_crossing", 250),
    ):
        if name in results:
            verdict = "within" if results[name] < limit else "OVER"
            lines.append(f"{name}: {results[name]:.0f} ms ({verdict} {limit} ms)")
    return lines
