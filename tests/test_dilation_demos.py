"""Notebook 03's demos and figures: extreme settings never raise, and the numbers are right."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

import rflesson as rfl
from rflesson import Layer
from rflesson.course.lesson03 import demos as dd
from rflesson.course.lesson03 import figures as df

matplotlib.use("Agg")


def _sliders(demo):
    return {k: c for k, c in demo.controls.items() if hasattr(c, "min")}


def _extremes(demo, names):
    """Every corner of the named sliders' ranges."""
    controls = _sliders(demo)
    for corner in itertools.product(*[(controls[n].min, controls[n].max) for n in names]):
        yield dict(zip(names, corner, strict=True))


# -- the dilated kernel sliding over an input ------------------------------------------


def test_slide_numbers():
    r = dd.dilated_slide(input_size=9, kernel=3, dilation=2, padding=0, stride=1, step=6)
    assert r.span == rfl.dilated_kernel_size(3, 2) == 5
    assert r.n_out == rfl.conv_output_size(9, 3, 1, 0, 2) == 5
    assert r.unit == (1, 1)
    assert r.taps[0] == (1, 1) and r.taps[-1] == (5, 5)
    assert len(r.taps) == 9
    assert dd.dilated_slide(9, 3, 2, step=25).unit == (0, 0)  # wraps round


def test_slide_that_does_not_fit_explains_itself():
    r = dd.dilated_slide(input_size=3, kernel=5, dilation=6)
    assert r.n_out == 0 and r.taps == ()
    assert "25 pixels" in r.problem


def test_slide_demo_extremes():
    demo = dd.dilated_kernel_demo()
    names = ["input_size", "kernel", "dilation", "padding", "step"]
    settings = [*_extremes(demo, names), {"stride": 3, "kernel": 1, "input_size": 16}]
    for setting in settings:
        result = demo.set(**setting)
        assert demo.error is None, (setting, demo.error)
        if result.problem is None:
            assert 0 <= result.unit[0] < result.n_out
            assert all(
                -result.padding <= y < result.input_size + result.padding for y, _ in result.taps
            )


# -- the dilation explorer ---------------------------------------------------------------


def test_explorer_numbers_match_coverage_and_the_engine():
    e = dd.explore_dilation(depth=3, kernel=3, r1=1, r2=2, r3=9, r4=16)
    assert e.rates == (1, 2, 9)  # rates beyond the depth are ignored
    layers = [Layer((3, 3), dilation=r, padding=r) for r in (1, 2, 9)]
    assert e.rf.size == rfl.receptive_field(layers).size == (25, 25)
    np.testing.assert_array_equal(e.grid.cover.counts, rfl.coverage(layers))
    assert e.holes == 25 * 25 - 21 * 21
    assert e.grid.missed_offsets == 4
    assert e.grid.rule.m2 == 5 and "predicted, and found" in e.note


@pytest.mark.parametrize(
    ("rates", "phrase"),
    [
        ((2, 2, 2), "share the factor 2"),
        ((2, 2, 3), "never reads the first layer's rate"),
        ((1, 3, 1), "over-estimates"),
        ((2, 1, 6), "first layer is dilated"),
        ((1, 2, 5), "none found"),
    ],
)
def test_explorer_explains_each_disagreement(rates, phrase):
    e = dd.explore_dilation(len(rates), 3, **{f"r{i + 1}": r for i, r in enumerate(rates)})
    assert phrase in e.note


def test_explorer_explains_two_tap_kernels():
    e = dd.explore_dilation(3, 2, r1=1, r2=2, r3=5)
    assert e.grid.rule.ok and e.holes > 0
    assert "3-tap kernels" in e.note


def test_explorer_extremes():
    demo = dd.dilation_explorer()
    for setting in _extremes(demo, ["depth", "kernel", "r1", "r6"]):
        result = demo.set(**setting)
        assert demo.error is None, (setting, demo.error)
        size = result.rf.size[0]
        assert result.grid.cover.counts.shape == (size, size)
    demo.set(depth=6, kernel=7, r1=16, r2=16, r3=16, r4=16, r5=16, r6=16)
    assert demo.error is None and demo.result.rf.size == (577, 577)
    fig = Figure(figsize=(8, 4))
    dd.draw_explorer(fig, demo.result)
    assert "centre 129x129 shown" in _map_label(fig)
    demo.set(depth=1, r1=1)
    assert "at least two layers" in demo.result.note and demo.result.holes == 0


# -- four stacks compared ----------------------------------------------------------------


def test_growth_numbers_come_from_the_engine():
    g = df.growth(6, 256)
    for kind in df.STACKS:
        for d in g.depths:
            rf = rfl.receptive_field(df.stack_layers(kind, d), 256)
            assert g.size[kind][d - 1] == rf.size
            assert g.jump[kind][d - 1] == rf.jump
            assert g.n_out[kind][d - 1] == rf.n_out
    # Independent check with the article's closed form.
    for d in g.depths:
        assert g.size["plain"][d - 1] == rfl.rf_size([3] * d, [1] * d) == 2 * d + 1
        assert g.size["strided"][d - 1] == rfl.rf_size([3] * d, [2] * d)
        rates = [2**i for i in range(d)]
        assert g.size["dilated"][d - 1] == rfl.rf_size([3] * d, [1] * d, rates)
        assert g.size["dilated"][d - 1] == g.size["strided"][d - 1] == 2 ** (d + 1) - 1
    assert g.n_out["dilated"] == (256,) * 6 and g.n_out["strided"][-1] == 4


def test_stacks_have_the_same_number_of_weighted_layers():
    for d in (1, 4):
        convs = {
            kind: sum(1 for layer in df.stack_layers(kind, d) if layer.kernel[0] == 3)
            for kind in df.STACKS
        }
        assert set(convs.values()) == {d}


def test_comparison_extremes_and_problem():
    demo = dd.stack_comparison()
    for kind in df.STACKS:
        for depth in (1, 8):
            for size in (32, 256):
                result = demo.set(kind=kind, depth=depth, input_size=size)
                assert demo.error is None, (kind, depth, size, demo.error)
                assert result.rf.size == rfl.receptive_field(df.stack_layers(kind, depth)).size
    result = demo.set(kind="pooled", depth=8, input_size=32)
    assert result.n_out is None and "too small" in result.problem
    result = demo.set(kind="dilated", depth=8, input_size=32)
    assert result.n_out == 32 and result.problem is None


# -- figures ----------------------------------------------------------------------------


def test_static_figures_draw():
    for draw in (
        lambda f: df.draw_growth(f, df.growth(8), highlight="dilated", depth=4),
        lambda f: df.draw_dilated_kernels(f),
        lambda f: df.draw_gridding(f, [df.gridding(r) for r in [(2, 2, 2), (1, 2, 5), (3,)]]),
        lambda f: df.draw_resolution(f, 3, 32),
    ):
        fig = Figure(figsize=(8, 3))
        draw(fig)
        assert fig.axes


def test_gridding_single_layer_has_no_rule():
    g = df.gridding((3,))
    assert g.rule is None and g.cover.holes == 7 * 7 - 9


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        df.stack_layers("wide", 3)
    with pytest.raises(ValueError, match="depth"):
        df.stack_layers("plain", 0)
    with pytest.raises(ValueError, match="rates"):
        df.gridding(())


def test_lattice_experiment_shows_the_blind_sub_images():
    blind = df.lattice_experiment((2, 2, 2), size=24)
    moved = blind.delta > 1e-12
    assert moved.any()
    assert not moved[0::2, :].any() and not moved[:, 0::2].any()
    mixed = df.lattice_experiment((1, 2, 5), size=24)
    assert (mixed.delta > 1e-12)[0::2, 0::2].any()


def test_more_figures_draw():
    fig = Figure(figsize=(8, 3))
    df.draw_causal_tree(fig.add_subplot(), (1, 2, 4))
    fig = Figure(figsize=(8, 3))
    df.draw_lattice(fig, [df.lattice_experiment((2, 2), size=8)])
    fig = Figure(figsize=(8, 3))
    df.draw_profiles(fig, {"strided": df.stack_layers("strided", 3)})
    assert len(fig.axes) == 1


def test_strided_and_dilated_units_have_the_same_paths():
    for depth in (2, 3, 5):
        np.testing.assert_array_equal(
            rfl.coverage(df.stack_layers("strided", depth)),
            rfl.coverage(df.stack_layers("dilated", depth)),
        )


def test_exercise_answers_and_their_explanations():
    assert rfl.check("03.dilated-stack-rf", 81) and not rfl.check("03.dilated-stack-rf", 31)
    tripling = rfl.coverage([Layer(3, dilation=r) for r in (1, 3, 9, 27)])
    assert tripling.shape == (81,) and (tripling == 1).all()  # "exactly one path" (explanation)
    assert rfl.check("03.wavenet-layers", 12) and not rfl.check("03.wavenet-layers", 11)
    for rates in [(1, 2, 4), (4, 1, 2), (1, 1, 5), (1, 3, 3)]:  # the explanation's claims
        assert rfl.check("03.cover-15", rates), rates
    for wrong in [(2, 2, 3), (1, 2, 3), (1, 2), "124", None]:
        assert not rfl.check("03.cover-15", wrong), wrong
    padded = [Layer(3, dilation=r, padding=r) for r in (2, 2, 3)]  # unit at offset 0
    assert {p[0] for p in rfl.coverage_map(padded).hole_positions()} == {-6, 6}
    assert rfl.check("03.which-grid", {(2, 4, 6), (1, 4, 8)})
    assert not rfl.check("03.which-grid", {(2, 4, 6)})
    ternary = rfl.coverage([Layer(3, dilation=r) for r in (1, 3, 9)])
    assert ternary.shape == (27,) and (ternary == 1).all()  # balanced ternary


# -- why the HDC rule trusts the first layer ---------------------------------------------


def _brute_gap(rates) -> int:
    """Largest gap between reached offsets, from every tap combination (independent of coverage)."""
    reached = sorted({sum(t * r for t, r in zip(taps, rates, strict=True))
                      for taps in itertools.product((-1, 0, 1), repeat=len(rates))})  # fmt: skip
    return max(b - a for a, b in itertools.pairwise(reached)) if len(reached) > 1 else 1


@pytest.mark.parametrize("rates", [(2, 2, 2), (2, 1, 6), (1, 2, 9), (3, 1, 4, 2)])
def test_first_layer_rows_match_an_independent_count(rates):
    f = df.first_layer(rates)
    above, assumed, actual = (counts for _, _, counts in f.rows)
    assert df.largest_gap(above) == _brute_gap(rates[1:])
    assert df.largest_gap(assumed) == _brute_gap((1, *rates[1:]))
    assert df.largest_gap(actual) == _brute_gap(rates)
    assert f.rule == rfl.hdc_ok(rates)


def test_first_layer_replays_both_disagreements():
    fooled = df.first_layer((2, 2, 2))  # the rule passes it, yet it grids
    gaps = [df.largest_gap(counts) for _, _, counts in fooled.rows]
    assert fooled.rule.ok and gaps == [fooled.rule.m2, 1, 2]
    strict = df.first_layer((2, 1, 6))  # the rule fails it, yet no hole
    gaps = [df.largest_gap(counts) for _, _, counts in strict.rows]
    assert not strict.rule.ok and gaps == [strict.rule.m2, 2, 1]
    assert "M₂ = 4" in strict.rows[0][0] and "no holes" in strict.rows[2][0]
    fig = Figure(figsize=(8, 3))
    df.draw_first_layer(fig.add_subplot(), strict)
    assert "predicts holes" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="rates"):
        df.first_layer((2,))


def test_explorer_large_counts_keep_the_title_clear():
    demo = dd.dilation_explorer(depth=6, kernel=7, rates=(16,) * 6)
    assert demo.error is None and demo.result.profile.max() > 10**6
    assert demo.figure.axes[1].yaxis.get_offset_text().get_text() == ""
    assert "\n(centre" in _map_label(demo.figure)


def test_comparison_shows_the_neighbours_and_speaks_plainly():
    demo = dd.stack_comparison()
    demo.set(kind="strided", depth=8, input_size=256)
    marks = demo.figure.axes[0].lines[0].get_xdata()
    assert list(marks) == [-256, 0, 256]  # both neighbours, although outside the RF
    title = demo.figure.axes[0].get_title()
    assert (
        "strided, 8 3x3 convolutions: RF 511 (the others: plain 17, pooled 766, dilated 511)"
        in title
    )
    text = demo.text.value
    assert "<b>1</b> output unit per axis" in text and "one every 256 input pixels" in text
    demo.set(kind="plain", depth=1)
    assert "1 convolution (" in demo.text.value and "one per input pixel" in demo.text.value


def test_explorer_never_rounds_a_partial_share_to_all():
    demo = dd.dilation_explorer(depth=6, kernel=7, rates=(16,) * 6)
    assert 0.995 < demo.result.hole_share < 1
    assert "(over 99%)" in demo.text.value and "(100%)" not in demo.text.value
    assert dd._percent(0.001) == "under 1%" and dd._percent(0.0) == "0%"
    assert dd._percent(0.29) == "29%" and dd._percent(1.0) == "100%"


def test_which_grid_explanation_gap_of_four():
    upper = rfl.coverage([Layer(3, dilation=r) for r in (4, 8)])  # (1, 4, 8) without rate 1
    assert df.largest_gap(upper) == 4
    assert df.largest_gap(rfl.coverage([Layer(3, dilation=r) for r in (1, 4, 8)])) > 1


def test_slide_that_does_not_fit_says_so_in_the_plot():
    demo = dd.dilated_kernel_demo(input_size=3, kernel=5, dilation=6, padding=0)
    assert demo.error is None and demo.result.problem
    said = " ".join(t.get_text() for t in demo.figure.axes[1].texts)
    assert "spans 25 px" in said and "only 3 px" in said


# -- what the demos draw, at their extremes (issue 14) ------------------------------------


def _map_label(fig) -> str:
    """The verdict under the coverage map ("RF 577x577: ... (centre 129x129 shown)")."""
    return "\n".join(t.get_text() for t in fig.axes[0].texts)


def _lines(ax) -> list:
    return [c for c in ax.collections if isinstance(c, LineCollection)]


def _red_bars(ax) -> list:
    """The collections of red hole bars that have something to draw."""
    return [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_paths()]


def _direction(segment) -> str:
    (x0, _y0), (x1, _y1) = segment
    return "down" if x0 == x1 else "across"


def _ticks_are_integers(ax) -> bool:
    ticks = [*ax.get_xticks(), *ax.get_yticks()]
    return all(float(t).is_integer() for t in ticks)


def test_comparison_ticks_are_integers_at_every_corner():
    demo = dd.stack_comparison()
    for kind in df.STACKS:
        for depth in (1, 8):
            demo.set(kind=kind, depth=depth, input_size=32)
            right = demo.figure.axes[0]
            assert _ticks_are_integers(right), (kind, depth, right.get_xticks(), right.get_yticks())


def test_comparison_never_draws_merging_neighbour_markers():
    demo = dd.stack_comparison()
    for depth in range(1, 9):
        demo.set(kind="dilated", depth=depth)
        right = demo.figure.axes[0]
        marks = right.lines[0].get_xdata()
        width_px = right.get_position().width * demo.figure.get_figwidth() * demo.figure.dpi
        lo, hi = right.get_xlim()
        if len(marks) > 1:
            spacing_px = width_px * (marks[1] - marks[0]) / (hi - lo)
            assert spacing_px >= dd.MIN_MARKER_SPACING_PX, (depth, spacing_px)
        else:  # one marker: the figure says why
            assert "too close to draw" in " ".join(t.get_text() for t in right.texts)
    demo.set(kind="dilated", depth=8)
    assert list(demo.figure.axes[0].lines[0].get_xdata()) == [0]


def test_explorer_draws_a_two_tap_field_as_two_bars():
    demo = dd.dilation_explorer()
    demo.set(depth=1, kernel=2, r1=1)
    right = demo.figure.axes[1]
    separators = [c for c in _lines(right) if c.get_segments()]
    assert [seg[0][0] for c in separators for seg in c.get_segments()] == [0.5]
    assert _ticks_are_integers(right)
    left = demo.figure.axes[0]  # a 2x2 map with a border between its pixels, each way
    (borders,) = [c for c in _lines(left) if c.get_segments()]
    assert sorted(map(_direction, borders.get_segments())) == ["across", "down"]


def test_explorer_holes_are_one_bar_per_run_within_the_shown_window():
    demo = dd.dilation_explorer(depth=6, kernel=7, rates=(16,) * 6)
    right = demo.figure.axes[1]
    lo, hi = right.get_xlim()
    assert hi - lo <= dd.MAP_WINDOW + 2  # the centre of the 577 offsets, like the map
    bars = _red_bars(right)
    assert len(bars) == 1 and len(bars[0].get_paths()) == 8  # 129 offsets, reached every 16
    assert "centre 129 offsets shown" in right.get_title()
    assert "missed per axis (red)" in right.get_title()
    demo.set(depth=3, kernel=3, r1=1, r2=2, r3=5)  # no holes: no red bars, no "(red)"
    right = demo.figure.axes[1]
    assert not _red_bars(right)
    assert "(red)" not in right.get_title()


def test_hole_runs_match_an_independent_count():
    rng = np.random.default_rng(0)
    for _ in range(50):
        counts = rng.integers(0, 2, size=30)
        offsets = np.arange(30) - 15
        runs = df.hole_runs(offsets, counts)
        covered = {int(round(start + 0.5 + i)) for start, width in runs for i in range(int(width))}
        assert covered == {int(o) for o, n in zip(offsets, counts, strict=True) if n == 0}
        assert all(a[0] + a[1] < b[0] for a, b in itertools.pairwise(runs))  # runs do not touch


def test_draw_counts_keeps_the_end_bars_whole():
    fig = Figure()
    ax = fig.add_subplot()
    df.draw_counts(ax, np.arange(-2, 3), np.array([1, 2, 3, 2, 1]), "orange")
    (stairs,) = ax.patches
    np.testing.assert_array_equal(stairs.get_data().edges, np.arange(-2.5, 3.0))


def test_titles_write_rates_as_a_learner_does():
    assert df.rates_text((1,)) == "1" and df.rates_text((1, 2, 9)) == "1, 2, 9"
    demo = dd.dilation_explorer(depth=1, rates=(1,))
    assert demo.figure.axes[0].get_title() == "rates 1 · kernel 3"


def test_gridding_figure_names_both_conditions():
    fig = Figure(figsize=(8, 3))
    df.draw_gridding(fig, [df.gridding((2, 2, 2)), df.gridding((1, 2, 5))])
    shared, fine = (ax.texts[0] for ax in fig.axes)
    assert "common factor 2" in shared.get_text() and shared.get_color() == df.COLORS["warn"]
    assert "factor" not in fine.get_text() and fine.get_color() == df.COLORS["ok"]


def test_slide_reaches_every_unit_of_the_largest_output():
    demo = dd.dilated_kernel_demo(input_size=16, kernel=1, dilation=1, padding=6)
    result = demo.set(step=demo.controls["step"].max)
    assert result.n_out == 28 and result.unit == (27, 27)


def test_slide_says_one_weight():
    demo = dd.dilated_kernel_demo()
    demo.set(kernel=1)
    assert "= 1 weight." in demo.text.value
    demo.set(kernel=3)
    assert "= 9 weights." in demo.text.value


# -- the identities of section 5 -------------------------------------------------------------


@pytest.mark.parametrize("rate", [1, 2, 3, 4])
def test_dilated_convolution_is_interleaved_ordinary_convolutions(rate):
    for seed in range(3):
        assert df.interleaving_difference(rate=rate, size=12 * rate, seed=seed) < 1e-12


@pytest.mark.parametrize("depth", [1, 2, 4, 5])
def test_strided_units_are_dilated_units(depth):
    for seed in range(3):
        assert df.strided_vs_dilated(depth=depth, size=2**depth * 8, seed=seed) < 1e-12


def test_identity_checks_reject_sizes_that_do_not_divide():
    with pytest.raises(ValueError, match="multiple of rate"):
        df.interleaving_difference(rate=3, size=31)
    with pytest.raises(ValueError, match="multiple of 2\\*\\*depth"):
        df.strided_vs_dilated(depth=3, size=60)


# -- the Vietnamese edition (issue 15) ---------------------------------------------------------

#: English words of lesson 03's figures and readouts that the Vietnamese text never uses (the
#: kept terms of notebooks/vi/GLOSSARY.md, such as kernel, stride, rate, unit, offset, are not here).
ENGLISH_ONLY = (
    "the of and to for from at on yet none found only every each too small fits nowhere "
    "hole holes path paths rates offsets pixels units weights samples layers convolution "
    "convolutions missed shown spans reads change predicts predicted alone real first number "
    "length growth costs wide centre per axis red others next away gives reached share common "
    "factor rule depth size position window"
).split()


@pytest.fixture
def vietnamese():
    """Speak Vietnamese for one test, then English again (other tests read English text)."""
    rfl.set_language("vi")
    yield
    rfl.set_language("en")


def _figure_texts(fig) -> list[str]:
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.texts]
        if ax.get_legend() is not None:
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in texts if t]


def _english_left(text: str) -> list[str]:
    import re

    words = re.findall(r"[A-Za-z]+", re.sub(r"<[^>]*>", " ", text))  # HTML tags are not text
    return [w for w in words if w.lower() in ENGLISH_ONLY]


def _vietnamese_texts():
    """Every text lesson 03's figures and demos show, at default and extreme settings."""
    figures = {
        "growth": lambda f: df.draw_growth(f, df.growth(8), highlight="dilated", depth=4),
        "kernels": lambda f: df.draw_dilated_kernels(f),
        "gridding": lambda f: df.draw_gridding(f, [df.gridding(r) for r in [(2, 2, 2), (1, 2, 5)]]),
        "resolution": lambda f: df.draw_resolution(f, 3, 32),
        "causal": lambda f: df.draw_causal_tree(f.add_subplot(), (1, 2, 4, 8)),
        "lattice": lambda f: df.draw_lattice(f, [df.lattice_experiment((2, 2, 2), size=8)]),
        "profiles": lambda f: df.draw_profiles(f, {"strided x4": df.stack_layers("strided", 4)}),
        "first layer": lambda f: df.draw_first_layer(f.add_subplot(), df.first_layer((2, 1, 6))),
    }
    for name, draw in figures.items():
        fig = Figure(figsize=(9, 4))
        draw(fig)
        yield name, _figure_texts(fig)
    yield "growth table", [df.growth_table(df.growth(3, 16))]
    settings = {
        dd.dilated_kernel_demo: [{}, {"input_size": 3, "kernel": 5, "dilation": 6}, {"kernel": 1}],
        dd.dilation_explorer: [
            {},
            {"depth": 1},
            {"depth": 6, "kernel": 7, "r1": 16, "r2": 16, "r3": 16, "r4": 16, "r5": 16, "r6": 16},
            *[
                dict(depth=3, kernel=3, r1=a, r2=b, r3=c)
                for a, b, c in [(2, 2, 2), (1, 3, 1), (2, 1, 6), (2, 2, 3), (1, 2, 5)]
            ],
            {"depth": 3, "kernel": 2, "r1": 1, "r2": 2, "r3": 5},
        ],  # fmt: skip
        dd.stack_comparison: [
            {"kind": kind, "depth": depth, "input_size": 32}
            for kind in df.STACKS
            for depth in (1, 8)
        ],
    }
    for make, moves in settings.items():
        demo = make()
        labels = [c.description for c in demo.controls.values()]
        for move in moves:
            demo.set(**move)
            assert demo.error is None, (make.__name__, move, demo.error)
            yield f"{make.__name__} {move}", [demo.text.value, *labels, *_figure_texts(demo.figure)]


def test_vietnamese_figures_and_demos_leave_no_english(vietnamese):
    for name, texts in _vietnamese_texts():
        for text in texts:
            assert not _english_left(text), (name, text)


def test_the_english_check_finds_english():
    """The check above can fail: the same figures and demos in English are caught."""
    rfl.set_language("en")
    shown = {name: texts for name, texts in _vietnamese_texts()}
    caught = {name for name, texts in shown.items() if any(map(_english_left, texts))}
    assert caught == set(shown), set(shown) - caught


def test_lesson03_translations_keep_every_placeholder():
    """Each of lesson 03's Vietnamese strings exists and fills the same named values."""
    import re

    from rflesson.course import translations

    catalog = translations.read_catalog(translations.message_catalog_path())
    ours = [
        m
        for m in catalog
        if m.id and any("lesson03" in f or "03_dilation" in f for f, _line in m.locations)
    ]
    assert len(ours) > 90
    for message in ours:
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        vietnamese = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(vietnamese) and not message.fuzzy, message.id
        fields = {f for text in english for f in re.findall(r"\{[^{}]*\}", text)}
        for text in vietnamese:
            assert set(re.findall(r"\{[^{}]*\}", text)) == fields, (message.id, text)
