"""Model neurons of notebook 01: kernels, experiments, the photograph and the demos.

Every experiment is checked against an independent route: the spot
experiment's peak against the DoG's analytic zero crossing, the Gabor's
orientation against its Fourier spectrum, the tuning width against the
Gaussian-spectrum formula, and stacked kernels against autograd.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rflesson as rfl
from rflesson.course.lesson01 import bio
from rflesson.course.lesson01 import demos as bio_demos

# -- the photograph ----------------------------------------------------------------


def test_sample_image_is_an_offline_grey_photograph():
    image = rfl.sample_image()
    assert image.shape == (150, 128) and image.dtype == np.float32
    assert 0.0 <= image.min() < 0.1 and 0.9 < image.max() <= 1.0
    assert image.std() > 0.1  # a real picture, not a flat field
    assert rfl.sample_image(step=1).shape == (600, 512)
    # block averaging: the small image is the mean of the big one's 4x4 blocks
    big = rfl.sample_image(step=1)
    assert np.allclose(image[3, 5], big[12:16, 20:24].mean(), atol=1e-5)
    with pytest.raises(ValueError, match="step"):
        rfl.sample_image(step=0)
    with pytest.raises(ValueError, match="name"):
        rfl.sample_image(name="missing.png")


def test_sample_image_needs_no_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    bio._sample_image.cache_clear()
    assert rfl.sample_image(step=8).shape == (75, 64)


# -- centre-surround kernels -----------------------------------------------------------


def test_dog_is_balanced_and_radially_symmetric():
    on = rfl.dog_kernel(2.0, 6.0)
    assert on.shape == (73, 73)  # 2 * ceil(3 * 12) + 1
    assert abs(float(on.sum(dtype=np.float64))) < 1e-6  # balance 1: uniform light gives 0
    assert np.allclose(on, on.T) and np.allclose(on, on[::-1]) and np.allclose(on, on[:, ::-1])
    c = on.shape[0] // 2
    assert on[c, c] == on.max() > 0  # excitatory centre
    assert on[c, c + 12] < 0  # inhibitory surround one surround sigma out
    off = rfl.dog_kernel(2.0, 6.0, polarity="off")
    assert np.array_equal(off, -on)


@pytest.mark.parametrize("balance", [0.0, 0.55, 1.0])
def test_dog_balance_is_the_surround_to_centre_weight(balance):
    k = rfl.dog_kernel(1.5, 5.0, balance=balance).astype(np.float64)
    positive, negative = k[k > 0].sum(), -k[k < 0].sum()
    assert k.sum() == pytest.approx(1 - balance, abs=1e-6)
    assert positive - negative == pytest.approx(1 - balance, abs=1e-6)


def test_dog_zero_crossing_matches_formula():
    k = rfl.dog_kernel(3.0, 5.0).astype(np.float64)
    c = k.shape[0] // 2
    row = k[c, c:]
    i = int(np.argmax(row < 0))  # first negative pixel to the right of the centre
    crossing = i - 1 + row[i - 1] / (row[i - 1] - row[i])  # linear interpolation
    assert 2 * crossing == pytest.approx(rfl.dog_centre_diameter(3.0, 5.0), abs=0.3)
    assert math.isinf(rfl.dog_centre_diameter(2.0, 6.0, balance=0.0))


def test_dog_rejects_bad_arguments():
    with pytest.raises(ValueError, match="polarity"):
        rfl.dog_kernel(polarity="up")
    with pytest.raises(ValueError, match="surround_ratio"):
        rfl.dog_kernel(surround_ratio=1.0)
    with pytest.raises(TypeError, match="centre_sigma"):
        rfl.dog_kernel(centre_sigma="big")


# -- the spot experiment ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sigma, ratio, balance", [(1.0, 5.0, 1.0), (2.0, 6.0, 1.0), (3.0, 7.0, 1.0), (2.0, 6.0, 0.55)]
)
def test_spot_response_peaks_when_the_spot_fills_the_centre(sigma, ratio, balance):
    kernel = rfl.dog_kernel(sigma, ratio, balance=balance)
    experiment = rfl.spot_experiment(kernel)
    centre = rfl.dog_centre_diameter(sigma, ratio, balance)
    assert experiment.best_diameter == pytest.approx(centre, rel=0.06, abs=0.5)
    r = experiment.responses
    best = int(np.argmax(r))
    assert r[0] == 0.0
    assert np.all(np.diff(r[: best + 1]) >= -1e-9)  # rises ...
    assert np.all(np.diff(r[best:]) <= 1e-9)  # ... then falls
    assert r[-1] == pytest.approx(kernel.sum(), abs=1e-5)  # spot covering all = full field
    assert experiment.best_response > 2 * max(r[-1], 0)


def test_spot_response_is_kernel_times_disk():
    kernel = rfl.dog_kernel(2.0, 5.0).astype(np.float64)
    size = kernel.shape[0]
    c = (size - 1) / 2
    # a disk whose edge falls between pixel centres: whole pixels in or out
    rows, cols = np.mgrid[0:size, 0:size]
    disk = np.hypot(rows - c, cols - c) <= 3.0
    assert rfl.spot_response(kernel, 6.0, oversample=1) == pytest.approx(kernel[disk].sum())
    assert rfl.spot_response(kernel, 0.0) == 0.0
    with pytest.raises(ValueError, match="diameters"):
        rfl.spot_experiment(kernel, [-1.0])


# -- Gabor kernels and orientation -------------------------------------------------------


def _spectral_orientation(kernel: np.ndarray) -> float:
    """The bars' orientation read from the kernel's 2-D spectrum (independent of gabor_kernel)."""
    n = 128
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(kernel, s=(n, n))))
    row, col = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    fx, fy = col - n // 2, -(row - n // 2)  # frequency vector, y up
    # bars run perpendicular to the frequency vector
    return math.degrees(math.atan2(fy, fx) + math.pi / 2) % 180


@pytest.mark.parametrize("theta", [0, 30, 45, 60, 90, 120, 135, 165])
def test_gabor_orientation_matches_its_spectrum_and_tuning(theta):
    kernel = rfl.gabor_kernel(theta, wavelength=8.0)
    spectral = _spectral_orientation(kernel)
    assert min(abs(spectral - theta), 180 - abs(spectral - theta)) < 4
    assert rfl.orientation_tuning(kernel).preferred == pytest.approx(theta, abs=1)


def test_gabor_conventions_on_screen():
    horizontal = rfl.gabor_kernel(0)
    c = horizontal.shape[0] // 2
    assert np.all(horizontal[c, c - 2 : c + 3] > 0)  # an excitatory horizontal stripe
    assert horizontal[c - 4, c] < 0 and horizontal[c + 4, c] < 0  # flanked by inhibition
    assert np.allclose(rfl.gabor_kernel(90), horizontal.T, atol=1e-6)
    # 45 degrees counter-clockwise on screen: the stripe runs from lower left to upper right
    diagonal = rfl.gabor_kernel(45)
    assert diagonal[c - 3, c + 3] > 0 and diagonal[c + 3, c - 3] > 0
    assert diagonal[c - 3, c - 3] < diagonal[c - 3, c + 3]
    for theta in (0, 45, 90):
        k = rfl.gabor_kernel(theta)
        assert abs(float(k.sum(dtype=np.float64))) < 1e-5  # uniform light gives nothing
        assert float(np.linalg.norm(k)) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("sigma", [3.0, 4.0, 6.0])
def test_tuning_width_matches_the_spectral_formula(sigma):
    kernel = rfl.gabor_kernel(0, wavelength=8.0, sigma=sigma)
    tuning = rfl.orientation_tuning(kernel, wavelength=8.0, step=0.5)
    assert tuning.half_width == pytest.approx(rfl.gabor_half_width(8.0, sigma), abs=1.5)
    assert tuning.responses.min() < 0.05 * tuning.responses.max()


def test_grating_response_peaks_over_phase():
    kernel = rfl.gabor_kernel(30, wavelength=8.0, phase=40.0)
    phases = np.arange(0, 360, 1.0)
    brute = max(float((kernel * rfl.grating(kernel.shape[0], 30, 8.0, p)).sum()) for p in phases)
    assert bio.grating_response(kernel, 30, 8.0) == pytest.approx(brute, rel=1e-3)


# -- convolution and stacking ------------------------------------------------------------


def test_apply_kernel_equals_a_conv2d_layer_away_from_the_border():
    image = rfl.sample_image()
    kernel = rfl.gabor_kernel(45)
    ours = rfl.apply_kernel(image, kernel)
    conv = torch.nn.Conv2d(1, 1, kernel.shape[0], bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(kernel)[None, None])
        theirs = conv(torch.from_numpy(np.array(image))[None, None])[0, 0].numpy()
    h = kernel.shape[0] // 2
    assert ours.shape == image.shape
    assert np.allclose(ours[h:-h, h:-h], theirs, atol=1e-5)
    # one pixel by hand: the weighted sum of the patch
    assert ours[50, 60] == pytest.approx(
        float((image[50 - h : 50 + h + 1, 60 - h : 60 + h + 1] * kernel).sum()), abs=1e-5
    )


def test_apply_kernel_handles_kernels_bigger_than_the_image_and_rejects_bad_input():
    small = np.ones((5, 6), dtype=np.float32)
    out = rfl.apply_kernel(small, rfl.dog_kernel(1.0, 5.0))
    assert out.shape == (5, 6) and np.allclose(out, 0, atol=1e-6)
    with pytest.raises(ValueError, match="odd"):
        rfl.apply_kernel(small, np.ones((2, 2)))
    with pytest.raises(ValueError, match="2-D"):
        rfl.apply_kernel(np.ones((2, 3, 3)), np.ones((3, 3)))
    with pytest.raises(TypeError, match="image"):
        rfl.apply_kernel([[1.0]], np.ones((3, 3)))


@pytest.mark.parametrize("k1, k2", [(3, 3), (3, 5), (5, 7)])
def test_stacked_support_equals_the_gradient_region_of_two_conv_layers(k1, k2):
    stacked = rfl.stack_kernels(np.ones((k1, k1)), np.ones((k2, k2)))
    size = rfl.support_size(stacked)
    assert size == (k1 + k2 - 1, k1 + k2 - 1) and size[0] == rfl.rf_size([k1, k2], [1, 1])
    # independent route: the input pixels that reach the centre output of two conv layers
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 1, k1, bias=False), torch.nn.Conv2d(1, 1, k2, bias=False)
    )
    for layer in net:
        torch.nn.init.constant_(layer.weight, 1.0)
    x = torch.zeros(1, 1, 21, 21, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    grad = x.grad[0, 0].numpy()
    assert rfl.support_size(grad) == size
    # and the stacked kernel is the gradient itself (cropped): same weights
    rows, cols = np.nonzero(grad)
    crop = grad[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    assert np.allclose(crop, stacked)


# -- published sizes -----------------------------------------------------------------------


def test_published_sizes_grow_along_the_hierarchy_and_with_eccentricity():
    areas = [a.area for a in rfl.VENTRAL_STREAM]
    assert areas == ["V1", "V2", "V4", "IT"]
    retinotopic = [a.typical_deg for a in rfl.VENTRAL_STREAM if a.slope is not None]
    assert all(lo < hi for lo, hi in retinotopic)
    assert all(
        a[0] < b[0] and a[1] < b[1] for a, b in zip(retinotopic[:-1], retinotopic[1:], strict=True)
    )
    assert rfl.RGC_CENTRE_RADIUS_DEG[1] * 2 < retinotopic[0][1]
    assert all(a.source for a in rfl.VENTRAL_STREAM)
    for area in ("V1", "V2", "V4"):
        assert rfl.rf_diameter_deg(area, 10) > rfl.rf_diameter_deg(area, 2)
    assert (
        rfl.rf_diameter_deg("V1", 5) < rfl.rf_diameter_deg("V2", 5) < rfl.rf_diameter_deg("V4", 5)
    )
    with pytest.raises(ValueError, match="area"):
        rfl.area_rf("MT")


def test_it_has_only_the_lower_bound_its_source_gives():
    # Gross et al. (1969): "greater than 10 by 10 degrees"; no source for an upper end.
    it = rfl.area_rf("IT")
    assert it.slope is None and it.typical_deg == (10.0, None)
    assert it.size_text == "over 10°" and rfl.area_rf("V2").size_text == "1.5-3°"
    assert it.typical_deg[0] > rfl.area_rf("V4").typical_deg[1]
    with pytest.raises(ValueError, match="retinotopic"):
        rfl.rf_diameter_deg("IT", 5)


def test_the_hierarchy_figure_draws_it_open_ended():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6))
    rfl.draw_hierarchy(fig)
    left, right = fig.axes
    texts = [t.get_text() for ax in (left, right) for t in ax.texts]
    assert any("over 10°" in t for t in texts) and not any("30" in t for t in texts)
    it_bar = right.patches[-1]  # the IT bar reaches the top of the axes: no upper end
    assert it_bar.get_y() == 10.0 and it_bar.get_y() + it_bar.get_height() == right.get_ylim()[1]


@pytest.mark.parametrize("area", ["V1", "V2", "V4"])
def test_tiling_fields_touch_but_do_not_overlap_along_a_ring(area):
    tiling = rfl.rf_tiling(area, max_eccentricity=20)
    ecc = np.hypot(tiling.x, tiling.y)
    slope = rfl.area_rf(area).slope
    assert np.allclose(tiling.diameter, slope * ecc)
    for ring in np.unique(tiling.ring):
        members = tiling.ring == ring
        e = ecc[members][0]
        spacing = 2 * math.pi * e / members.sum()  # arc between neighbours
        assert spacing >= tiling.diameter[members][0] * 0.999  # no overlap
        assert spacing < 1.5 * tiling.diameter[members][0]  # no big gaps
    with pytest.raises(ValueError, match="retinotopic"):
        rfl.rf_tiling("IT")


# -- demos ---------------------------------------------------------------------------------


def _extremes(demo):
    """Every combination of each slider's min and max (dropdowns: every option)."""
    import itertools

    choices = []
    for control in demo.controls.values():
        if hasattr(control, "options"):  # a menu: its values (options may be (label, value))
            choices.append([o[1] if isinstance(o, tuple) else o for o in control.options])
        else:
            choices.append([control.min, control.max])
    names = list(demo.controls)
    for values in itertools.product(*choices):
        yield dict(zip(names, values, strict=True))


@pytest.mark.parametrize("make", ["neuron_explorer", "spot_size_demo", "orientation_demo"])
def test_demo_callbacks_at_extremes_never_raise(make):
    demo = getattr(rfl, make)()
    assert demo.error is None and demo.image.value
    for values in _extremes(demo):
        demo.set(**values)
        assert demo.error is None, (values, demo.error)
        assert demo.text.value


def test_explorer_response_is_the_convolution_at_that_position():
    demo = rfl.neuron_explorer()
    for col, row, sigma in [(0, 0, 0.5), (127, 149, 3.0), (64, 40, 1.5), (5, 120, 2.0)]:
        view = demo.set(col=col, row=row, centre_sigma=sigma)
        assert view.response == pytest.approx(float(view.response_map[row, col]), abs=1e-4)
        assert view.problem is None
    off = demo.set(polarity="off")
    assert off.response == pytest.approx(-view.response, abs=1e-6)
    outside = bio_demos.explore_neuron(col=500, row=-3)
    assert outside.problem and (outside.row, outside.col) == (0, 127)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
def test_explorer_response_map_is_apply_kernel(sigma):
    # The explorer computes its map by FFT for speed; it must be the same convolution.
    image = rfl.sample_image()
    for polarity in ("on", "off"):
        kernel = rfl.dog_kernel(sigma, bio_demos.EXPLORER_SURROUND_RATIO, polarity=polarity)
        expected = rfl.apply_kernel(image, kernel)
        assert np.allclose(bio_demos._response_map(sigma, polarity), expected, atol=1e-5)


def test_explorer_position_marker_is_whole_at_every_corner():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    demo = rfl.neuron_explorer()
    h, w = rfl.sample_image().shape
    for col, row in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]:
        demo.set(col=col, row=row, centre_sigma=3.0)
        renderer = FigureCanvasAgg(demo.figure).get_renderer()
        marker = next(line for line in demo.figure.axes[0].lines if line.get_marker() == "o")
        box = marker.get_window_extent(renderer)
        figure = demo.figure.bbox
        assert figure.x0 <= box.x0 and box.x1 <= figure.x1, (col, row)
        assert figure.y0 <= box.y0 and box.y1 <= figure.y1, (col, row)
        assert "mirrored" in demo.text.value  # a 91 px field at a corner reaches past the edge
    demo.set(col=64, row=75, centre_sigma=0.5)
    assert "mirrored" not in demo.text.value


def test_spot_demo_reports_the_peak_and_dark_spots_for_off_cells():
    demo = rfl.spot_size_demo()
    view = demo.set(centre_sigma=2.0, surround_ratio=6.0, surround_strength=1.0)
    assert view.best_diameter == pytest.approx(rfl.dog_centre_diameter(2.0, 6.0), abs=0.5)
    off_light = demo.set(polarity="off", spot="light")
    assert off_light.problem is not None  # a light spot only silences an OFF cell
    off_dark = demo.set(polarity="off", spot="dark")
    assert off_dark.problem is None and off_dark.best_diameter == view.best_diameter
    assert "Best spot" in demo.text.value


def test_spot_demo_without_surround_has_no_best_spot():
    # With no surround the curve rises to a plateau: no spot size is "best", and
    # the demo must not report whichever plateau point rounding favours.
    demo = rfl.spot_size_demo()
    view = demo.set(surround_strength=0.0, polarity="on", spot="light")
    assert view.problem is None and math.isinf(view.best_diameter)
    assert np.all(np.diff(view.experiment.responses) >= -1e-6)  # never falls
    assert "No best size" in demo.text.value and demo.error is None
    # the typical real surround (Croner & Kaplan 1995) still gives a peak at the centre
    real = demo.set(surround_strength=bio.RGC_SURROUND_STRENGTH)
    centre = rfl.dog_centre_diameter(2.0, 6.0, bio.RGC_SURROUND_STRENGTH)
    assert real.best_diameter == pytest.approx(centre, abs=0.5)


def test_spot_demo_with_a_strong_surround_has_no_best_dark_spot():
    # b = 1.2: the surround outweighs the centre, so a dark spot on an ON cell
    # drives it harder the bigger it is.  The old demo called the slider's end
    # (60 px) or the kernel's corner the "best spot".
    demo = rfl.spot_size_demo()
    view = demo.set(centre_sigma=1.0, surround_ratio=2.0, surround_strength=1.2, spot="dark")
    assert view.problem is None and math.isinf(view.best_diameter)
    assert "No best size" in demo.text.value and "outweighs" in demo.text.value
    # a cell so wide that no dark spot within the slider's reach excites it
    wide = demo.set(centre_sigma=4.0, surround_ratio=8.0, spot="dark")
    assert wide.problem and "up to 60 px" in wide.problem and "never" not in wide.problem
    # light spots on the same cell still have a best size, at the centre's edge
    light = demo.set(spot="light")
    assert light.best_diameter == pytest.approx(light.centre_diameter, abs=0.5)


def test_spot_demo_shows_no_negative_zero_and_keeps_its_marker_whole():
    demo = rfl.spot_size_demo()
    for spot in ("light", "dark"):
        demo.set(diameter=0.0, spot=spot, polarity="on")
        assert "-0.0000" not in demo.text.value
    demo.set(diameter=60.0)  # the marker sits on the right edge of the curve's axes
    curve = demo.figure.axes[-1]
    marker = next(line for line in curve.lines if line.get_marker() == "o")
    assert not marker.get_clip_on()


def test_spot_experiment_on_the_reachable_crop_matches_a_brute_force_disk():
    # Independent route: draw each spot as a sub-pixel disk on the whole kernel.
    kernel = rfl.dog_kernel(4.0, 8.0, balance=1.2).astype(np.float64)  # 193 x 193 px
    size, sub = kernel.shape[0], 4
    offsets = (np.arange(size * sub) + 0.5) / sub - size / 2
    radius = np.hypot(offsets[:, None], offsets[None, :])
    weights = np.repeat(np.repeat(kernel, sub, axis=0), sub, axis=1) / sub**2
    diameters = [0.0, 3.0, 11.5, 23.0, 41.25, 60.0]
    expected = [float(weights[radius <= d / 2].sum()) for d in diameters]
    experiment = rfl.spot_experiment(kernel, diameters)
    assert np.allclose(experiment.responses, expected, atol=1e-9)
    assert experiment.full_field == pytest.approx(kernel.sum())  # the whole kernel, not the crop
    assert bio._reachable(kernel, 30.0).shape == (63, 63)


def test_tuning_curve_equals_one_grating_response_per_orientation():
    kernel = rfl.gabor_kernel(30, wavelength=8.0, sigma=5.0)
    tuning = rfl.orientation_tuning(kernel, wavelength=8.0, step=2.5)
    one_by_one = [bio.grating_response(kernel, t, 8.0) for t in tuning.orientations]
    assert np.allclose(tuning.responses, one_by_one, rtol=1e-12, atol=1e-12)


def test_orientation_demo_peaks_at_the_preferred_orientation():
    demo = rfl.orientation_demo()
    at_best = demo.set(stimulus=60.0, preferred=60.0).response
    away = demo.set(stimulus=100.0).response
    assert at_best > 10 * away
    assert demo.result.tuning.preferred == pytest.approx(60.0, abs=2)
    assert bio_demos.orientation_response(sigma=1.0).problem is not None


def test_orientation_demo_names_the_preferred_orientation_the_slider_shows():
    # Tuning sampled every 2° said "cell prefers 164°" for a 165° cell (also 15 -> 16,
    # 45 -> 44, 75 -> 74).  Every slider value must now read back as itself.
    demo = rfl.orientation_demo()
    preferred_values = np.arange(0.0, 165.0 + 1e-9, demo.controls["preferred"].step)
    for sigma in (1.0, 4.0, 8.0):
        for preferred in preferred_values:
            view = demo.set(preferred=float(preferred), sigma=sigma)
            assert view.tuning.preferred == preferred, (sigma, preferred)
            assert f"cell prefers {preferred:g}°" in demo.text.value


def test_orientation_demo_marker_sits_on_the_tuning_curve_at_every_grating():
    demo = rfl.orientation_demo(preferred=165.0)
    curve_x = np.append(demo.result.tuning.orientations, 180.0)
    curve_y = np.append(demo.result.tuning.responses, demo.result.tuning.responses[0])
    for stimulus in np.arange(0.0, 180.0 + 1e-9, demo.controls["stimulus"].step):
        view = demo.set(stimulus=float(stimulus))
        on_curve = np.interp(stimulus, curve_x, curve_y)
        assert view.response == pytest.approx(on_curve, rel=1e-6, abs=1e-9), stimulus
    ax = demo.figure.axes[-1]
    drawn = ax.lines[0].get_xdata()
    assert drawn[0] == 0 and drawn[-1] == 180  # the curve is closed at 180°


@pytest.mark.parametrize("sigma", [3.0, 4.0, 8.0])  # below 3 px the formula is rough
def test_orientation_demo_tuning_width_matches_the_formula_over_the_sigma_slider(sigma):
    # The demo's kernel must hold the whole envelope: at σ = 8 px a 31 px kernel
    # cut it off and widened the curve from 10.8° to 11.9°.
    view = bio_demos.orientation_response(preferred=30.0, sigma=sigma)
    assert view.kernel.shape == view.grating.shape
    assert view.tuning.half_width == pytest.approx(rfl.gabor_half_width(8.0, sigma), abs=0.6)


# -- exercises -----------------------------------------------------------------------------


def test_exercises_of_notebook_01_accept_the_right_answers_only():
    from rflesson.course.check import EXERCISES, check
    from rflesson.course.lesson01 import exercises as nb01  # noqa: F401

    ids = sorted(i for i in EXERCISES if i.startswith("01."))
    assert len(ids) >= 3
    for exercise_id in ids:
        expected = EXERCISES[exercise_id].expected()
        assert check(exercise_id, expected).correct
        assert not check(exercise_id, "certainly wrong").correct


def test_exercises_of_notebook_01_ask_about_settings_it_has_not_shown():
    from rflesson.course.check import EXERCISES
    from rflesson.course.lesson01 import exercises as nb01

    # The mystery cell is none of the four example cells (0, 45, 90, 135 degrees).
    assert EXERCISES["01.mystery-orientation"].expected() not in (0, 45, 90, 135)
    # Its answer is the orientation the cell was built with, read from its response.
    assert EXERCISES["01.mystery-orientation"].expected() == nb01._MYSTERY_ORIENTATION
    # Two layers: not the 3x3 stacks the notebook prints, and k1 + k2 - 1.
    assert EXERCISES["01.two-layer-rf"].expected() == sum(nb01.TWO_LAYERS) - 1 == 11
    # The big light spot really reaches into the surround: the answer rests on b < 1.
    sigma, ratio, strength = nb01._BIG_SPOT_CELL
    assert nb01._BIG_SPOT_DIAMETER > 2 * sigma * ratio and strength < 1
    assert EXERCISES["01.off-light-spot"].expected() == "decrease"


def test_best_spot_hint_states_the_numbers_rflesson_computes():
    # The hint and explanation are whole catalog entries, so their numbers are written
    # out; they must be the numbers the exercise's cell really has.
    from rflesson.course.check import EXERCISES
    from rflesson.course.lesson01 import exercises as nb01

    exercise = EXERCISES["01.best-spot"]
    centre = rfl.dog_centre_diameter(*nb01._BEST_SPOT_CELL)
    sigma = nb01._BEST_SPOT_CELL[0]
    assert f"the centre is {centre / sigma:.2f}σ wide" in exercise.hint
    assert f"(rfl.dog_centre_diameter({sigma}, {nb01._BEST_SPOT_CELL[1]}))" in exercise.hint
    assert exercise.explain.startswith(f"A {exercise.expected():g} px spot")
    assert f"(about {centre:.1f} px wide)" in exercise.explain


# -- the Vietnamese edition ----------------------------------------------------------------


@pytest.fixture
def language():
    """Switch the course's language inside a test; English again afterwards, whatever happens."""
    yield rfl.set_language
    rfl.set_language("en")


def _figure_texts(fig) -> list[str]:
    """Every text drawn on a figure: titles, axis and tick labels, legends, annotations."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()  # fills in tick labels
    texts = []
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.texts]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        if ax.get_legend():
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in texts if t]


def _demo_texts(demo) -> list[str]:
    """What a learner reads in a demo: readout, control labels, menu entries, figure."""
    texts = [demo.text.value] + [control.description for control in demo.controls.values()]
    for control in demo.controls.values():
        texts += [str(label) for label in getattr(control, "_options_labels", ())]
    return [t for t in texts if t] + _figure_texts(demo.figure)


def _kept(text: str) -> bool:
    """Text that reads the same in both editions: names, symbols and numbers only."""
    import re

    names = r"(V1|V2|V4|IT|ON|OFF|on|off|x|y|Gabor -?\d+°)"
    return not re.search(r"[A-Za-z]", re.sub(names, "", text))


def _assert_no_english_left(english: list[str], vietnamese: list[str]) -> None:
    assert len(vietnamese) == len(english)
    left = [t for t in vietnamese if t in set(english) and not _kept(t)]
    assert not left, f"shown in English in the Vietnamese edition: {left}"


DEMO_SETTINGS = {
    "neuron_explorer": [{}, {"col": 0, "row": 0, "centre_sigma": 3.0, "polarity": "off"}],
    "spot_size_demo": [
        {},
        {"polarity": "off", "spot": "light"},  # never excites
        {"surround_strength": 0.0},  # no best size: no surround
        {"surround_ratio": 2.0, "surround_strength": 1.2, "spot": "dark"},  # strong surround
        {"centre_sigma": 4.0, "surround_ratio": 8.0, "surround_strength": 1.2, "spot": "dark"},
    ],
    "orientation_demo": [{}, {"sigma": 1.0}],  # sigma 1: hardly tuned
}


@pytest.mark.parametrize(
    "make, settings",
    [(make, s) for make, cases in DEMO_SETTINGS.items() for s in cases],
)
def test_demos_speak_vietnamese_with_no_english_left(language, make, settings):
    english = getattr(rfl, make)()
    english.set(**settings)
    language("vi")
    vietnamese = getattr(rfl, make)()
    vietnamese.set(**settings)
    assert vietnamese.error is None
    _assert_no_english_left(_demo_texts(english), _demo_texts(vietnamese))


def _draw_every_static_figure() -> list[str]:
    from matplotlib.figure import Figure

    image = rfl.sample_image()
    texts = []
    drawings = [
        (lambda fig: rfl.draw_visual_field(fig, image), (8, 4.6)),
        (rfl.draw_hierarchy, (9, 3.6)),
        (rfl.draw_dog, (8, 2.8)),
        (lambda fig: rfl.draw_filtered(fig, image), (10, 2.4)),
        (lambda fig: rfl.draw_stacking(fig, np.ones((3, 3)), np.ones((3, 3))), (7, 2.6)),
    ]
    for draw, size in drawings:
        fig = Figure(figsize=size)
        draw(fig)
        texts += _figure_texts(fig)
    fig = Figure(figsize=(6, 2.8))
    ax = fig.add_subplot()
    kernel = rfl.dog_kernel(2.0, 6.0)
    rfl.draw_spot_curve(ax, rfl.spot_experiment(kernel), centre_diameter=10.0)
    texts += _figure_texts(fig)
    fig = Figure(figsize=(6, 2.8))
    tuning = rfl.orientation_tuning(rfl.gabor_kernel(0, wavelength=8.0, sigma=4.0), 8.0)
    rfl.draw_tuning_curve(fig.add_subplot(), tuning)
    texts += _figure_texts(fig)
    return texts


def test_figures_speak_vietnamese_with_no_english_left(language):
    english = _draw_every_static_figure()
    language("vi")
    vietnamese = _draw_every_static_figure()
    _assert_no_english_left(english, vietnamese)
    assert any("trên 10°" in t for t in vietnamese)  # IT: an open-ended size
    language("en")
    assert _draw_every_static_figure() == english  # and back to English
