"""Model neurons of the early visual system, and the numbers behind them.

The term *receptive field* is Sherrington's (1906), for the patch of skin
from which a reflex can be evoked; Hartline (1938, 1940) brought it to
vision, for the small area of a frog's retina whose illumination excites one
optic-nerve fibre (history: Spillmann 2014, Perception 43: 1145-1176).

Two receptive-field (RF) profiles carry most of early vision:

* a **centre-surround** profile, the difference of two Gaussians (DoG), for
  retinal ganglion cells (Rodieck 1965; Croner & Kaplan 1995);
* an **oriented** profile, a Gabor (a Gaussian times a cosine), for simple
  cells of the primary visual cortex V1 (Hubel & Wiesel 1962; Jones & Palmer
  1987).

A model neuron's response to an image patch is the weighted sum of the patch
with its RF profile: exactly what one unit of a convolutional layer computes.
:func:`apply_kernel` does it for every position at once with a torch
convolution.  The two classic experiments, the spot-size experiment and the
orientation tuning curve, are simulated here on pixel grids.

The published RF sizes used by the course are documented constants at the end
of this module, each with its source.  They are rough, rounded values:
different studies define and measure "size" differently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ..._validate import as_float, as_int, one_of
from ..i18n import _

POLARITIES = ("on", "off")

# -- the photograph ------------------------------------------------------------


@lru_cache(maxsize=8)
def _sample_image(name: str, step: int) -> np.ndarray:
    import matplotlib.cbook as cbook
    import matplotlib.image as mimage

    with cbook.get_sample_data(name) as file:
        rgb = mimage.imread(file, format=name.rsplit(".", 1)[-1])
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.max() > 1.0:  # 8-bit images come as 0..255
        rgb = rgb / 255.0
    # Luminance weights of ITU-R BT.601, the usual RGB -> grey conversion.
    grey = rgb[..., :3] @ np.array([0.299, 0.587, 0.114])
    if step > 1:  # average step x step blocks: a smaller image without aliasing
        h, w = (grey.shape[0] // step) * step, (grey.shape[1] // step) * step
        grey = grey[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    grey = np.clip(grey, 0.0, 1.0).astype(np.float32)
    grey.flags.writeable = False
    return grey


def sample_image(step: int = 4, name: str = "grace_hopper.jpg") -> np.ndarray:
    """A photograph as grey levels in [0, 1], loaded offline from matplotlib's sample data.

    The default is Grace Hopper's portrait (600 x 512 pixels), shrunk by
    averaging ``step`` x ``step`` blocks (150 x 128 for ``step=4``) so that
    demos stay fast.  The array is read-only; copy it to change it.

    >>> sample_image().shape
    (150, 128)
    """
    step = as_int("step", step, minimum=1)
    one_of("name", name, ("grace_hopper.jpg",))
    return _sample_image(name, step)


# -- receptive-field profiles ----------------------------------------------------


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x right, y up) relative to the centre of a size x size grid."""
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    x = offsets[None, :].repeat(size, axis=0)
    y = -offsets[:, None].repeat(size, axis=1)  # rows go down, y goes up
    return x, y


def _gaussian(size: int, sigma: float) -> np.ndarray:
    """A Gaussian on a size x size grid, normalised so its pixels sum to 1."""
    x, y = _grid(size)
    g = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    return g / g.sum()


def dog_size(centre_sigma: float, surround_ratio: float = 6.0) -> int:
    """Odd kernel width that holds the surround out to 3 standard deviations."""
    return 2 * math.ceil(3 * centre_sigma * surround_ratio) + 1


def dog_kernel(
    centre_sigma: float = 2.0,
    surround_ratio: float = 6.0,
    balance: float = 1.0,
    polarity: str = "on",
    size: int | None = None,
) -> np.ndarray:
    """A centre-surround receptive field: a difference of Gaussians (DoG).

    ``centre_sigma`` is the centre Gaussian's standard deviation in pixels and
    ``surround_ratio`` the surround's, relative to it (Croner & Kaplan 1995
    found 5 to 7 in primate ganglion cells).  Each Gaussian is normalised to sum
    to 1, so ``balance`` is the surround's total weight relative to the
    centre's: with ``balance=1`` the kernel sums to 0 and a uniform field of
    light gives no response at all.  An ``"off"`` cell is the negative of an
    ``"on"`` cell.

    >>> abs(float(dog_kernel().sum())) < 1e-6
    True
    """
    centre_sigma = as_float("centre_sigma", centre_sigma, minimum=0.3)
    surround_ratio = as_float("surround_ratio", surround_ratio, minimum=1.01)
    balance = as_float("balance", balance, minimum=0.0)
    one_of("polarity", polarity, POLARITIES)
    if size is None:
        size = dog_size(centre_sigma, surround_ratio)
    size = as_int("size", size, minimum=3)
    kernel = _gaussian(size, centre_sigma) - balance * _gaussian(
        size, centre_sigma * surround_ratio
    )
    return (kernel if polarity == "on" else -kernel).astype(np.float32)


def dog_centre_diameter(
    centre_sigma: float, surround_ratio: float = 6.0, balance: float = 1.0
) -> float:
    """Diameter of the DoG's centre: where the profile changes sign (continuous model).

    Setting ``exp(-r²/2a²)/a² = b exp(-r²/2c²)/c²`` (``a`` centre, ``c``
    surround sigma, ``b`` balance) gives
    ``r² = 2 a² ln(ρ²/b) / (1 - 1/ρ²)`` with the surround ratio ``ρ = c/a``.
    (The course keeps ``k`` for kernel sizes.)  The spot experiment peaks
    exactly here: growing a centred spot adds the profile's value on its rim,
    which is positive inside this circle and negative outside.
    """
    a = as_float("centre_sigma", centre_sigma, minimum=0.3)
    rho = as_float("surround_ratio", surround_ratio, minimum=1.01)
    b = as_float("balance", balance, minimum=0.0)
    if b == 0.0 or rho * rho / b <= 1.0:
        return math.inf  # no surround strong enough: the profile never turns negative
    return 2 * math.sqrt(2 * a * a * math.log(rho * rho / b) / (1 - 1 / (rho * rho)))


def _oriented_coordinates(size: int, orientation: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates along and across bars of ``orientation`` degrees (0 = horizontal,
    counter-clockwise on screen)."""
    x, y = _grid(size)
    t = math.radians(orientation)
    along = x * math.cos(t) + y * math.sin(t)
    across = -x * math.sin(t) + y * math.cos(t)
    return along, across


def gabor_kernel(
    orientation: float = 0.0,
    wavelength: float = 8.0,
    sigma: float | None = None,
    phase: float = 0.0,
    size: int | None = None,
) -> np.ndarray:
    """An oriented receptive field: a Gabor, the model of a V1 simple cell.

    The cell prefers bars at ``orientation`` degrees (0 = horizontal, 90 =
    vertical, counter-clockwise as seen on screen) with a period of
    ``wavelength`` pixels.  ``phase=0`` gives an even (bar-like) profile with
    an excitatory stripe through the centre; ``phase=90`` an odd (edge-like)
    one.  The Gaussian envelope has standard deviation ``sigma`` (default half
    the wavelength).  The kernel is made zero-mean, so that uniform light does
    not drive the cell, and scaled to unit length.
    """
    orientation = as_float("orientation", orientation)
    wavelength = as_float("wavelength", wavelength, minimum=2.0)
    sigma = wavelength / 2 if sigma is None else as_float("sigma", sigma, minimum=0.5)
    phase = as_float("phase", phase)
    size = 2 * math.ceil(3 * sigma) + 1 if size is None else as_int("size", size, minimum=3)
    _along, across = _oriented_coordinates(size, orientation)
    x, y = _grid(size)
    envelope = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    carrier = np.cos(2 * math.pi * across / wavelength + math.radians(phase))
    kernel = envelope * carrier
    kernel -= envelope * (kernel.sum() / envelope.sum())  # remove the response to uniform light
    return (kernel / np.linalg.norm(kernel)).astype(np.float32)


# -- a model neuron everywhere at once -----------------------------------------


def _as_2d(name: str, value: object) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().to(torch.float32)
    elif isinstance(value, np.ndarray):
        tensor = torch.from_numpy(np.array(value, dtype=np.float32))
    else:
        raise TypeError(f"{name} must be a 2-D numpy array or torch tensor, got {type(value)}")
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be 2-D (height, width), got shape {tuple(tensor.shape)}")
    return tensor


def apply_kernel(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Every position's response of a model neuron with RF ``kernel``: a torch convolution.

    Exactly what one channel of ``torch.nn.Conv2d`` computes (a weighted sum
    of each patch with the kernel, i.e. cross-correlation), with the image
    mirrored at its borders so that the output has the image's shape and the
    border shows no artificial edge.

    >>> float(apply_kernel(np.ones((5, 5)), np.ones((3, 3)))[2, 2])
    9.0
    """
    img = _as_2d("image", image)
    ker = _as_2d("kernel", kernel)
    kh, kw = ker.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel must have odd height and width, got shape {(kh, kw)}")
    ph, pw = kh // 2, kw // 2
    batch = img[None, None]
    if ph >= img.shape[0] or pw >= img.shape[1]:  # too big to mirror: repeat the border
        batch = F.pad(batch, (pw, pw, ph, ph), mode="replicate")
    else:
        batch = F.pad(batch, (pw, pw, ph, ph), mode="reflect")
    with torch.no_grad():
        out = F.conv2d(batch, ker[None, None])
    return out[0, 0].numpy()


def stack_kernels(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The single kernel equivalent to applying ``first`` and then ``second``.

    Two linear convolution layers in a row are one convolution whose kernel is
    the full convolution of the two; its width is ``k1 + k2 - 1``.  This is the
    first glimpse of receptive-field arithmetic (notebook 02).
    """
    a = _as_2d("first", first)
    b = _as_2d("second", second)
    # conv_transpose2d of a with b spreads every tap of a over b: the full convolution.
    with torch.no_grad():
        out = F.conv_transpose2d(a[None, None], b[None, None])
    return out[0, 0].numpy()


def support_size(kernel: np.ndarray, tolerance: float = 1e-6) -> tuple[int, int]:
    """Height and width of the smallest box holding every weight above ``tolerance``
    (relative to the largest weight): how far the kernel reaches."""
    k = np.abs(np.asarray(kernel, dtype=np.float64))
    if k.ndim != 2:
        raise ValueError(f"kernel must be 2-D, got shape {k.shape}")
    rows, cols = np.nonzero(k > tolerance * k.max()) if k.max() > 0 else ((), ())
    if len(rows) == 0:
        return (0, 0)
    return (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))


# -- the spot-size experiment ----------------------------------------------------


@dataclass(frozen=True)
class SpotExperiment:
    """A cell's response to centred spots of light of growing diameter."""

    diameters: np.ndarray  # spot diameters, pixels
    responses: np.ndarray  # response to each spot (contrast +1: light on dark)
    best_diameter: float  # the spot that drives the cell hardest
    best_response: float
    full_field: float  # response to light covering the whole kernel


@lru_cache(maxsize=8)  # up to ~10 MB each for the largest demo kernels
def _rim_weights(kernel_bytes: bytes, shape: tuple[int, int], oversample: int):
    """Sub-pixel radii sorted, with the kernel weight each sub-pixel carries."""
    kernel = np.frombuffer(kernel_bytes, dtype=np.float64).reshape(shape)
    h, w = shape
    sub = (np.arange(oversample) + 0.5) / oversample - 0.5
    ys = (np.arange(h) - (h - 1) / 2)[:, None] + sub[None, :]
    xs = (np.arange(w) - (w - 1) / 2)[:, None] + sub[None, :]
    radius = np.sqrt(ys[:, :, None, None] ** 2 + xs[None, None, :, :] ** 2)  # (h, s, w, s)
    radius = radius.transpose(0, 2, 1, 3).reshape(-1)
    weight = np.repeat(kernel.reshape(-1), oversample * oversample) / oversample**2
    order = np.argsort(radius, kind="stable")
    return radius[order], np.cumsum(weight[order])


def _reachable(kernel: np.ndarray, radius: float) -> np.ndarray:
    """The central part of ``kernel`` that a centred spot of ``radius`` pixels can touch.

    Rows and columns whose every point lies farther than ``radius`` from the
    centre are cut off, the same number on each side.  The spot experiment
    gives the same numbers on the crop (those pixels sort after every radius
    it asks about) but sorts far fewer sub-pixels: a 60 px spot on a 193 px
    kernel needs only its central 63 x 63 pixels.
    """
    cuts = []
    for size in kernel.shape:
        outside = math.ceil((size - 1) / 2 - radius - 0.5) - 1  # one fewer, to be safe
        cuts.append(max(outside, 0))
    rows, cols = cuts
    return kernel[rows : kernel.shape[0] - rows, cols : kernel.shape[1] - cols]


def spot_response(kernel: np.ndarray, diameter: float, oversample: int = 4) -> float:
    """Response of a cell to one centred light spot of ``diameter`` pixels.

    The spot is drawn on the kernel's grid with ``oversample`` x
    ``oversample`` sub-pixels per pixel, so edge pixels count by the fraction
    of them it covers; the response is the sum of kernel x spot.
    """
    return float(spot_experiment(kernel, [diameter], oversample).responses[0])


def spot_experiment(
    kernel: np.ndarray, diameters: object = None, oversample: int = 4
) -> SpotExperiment:
    """Simulate the classic spot experiment on ``kernel``: response vs spot diameter.

    ``diameters`` defaults to 0 to the kernel's diagonal (a spot that covers
    it all) in quarter-pixel steps.
    For a centre-surround cell the response rises while the spot fills the
    centre, peaks when it covers it exactly, and falls as the spot invades the
    surround.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(f"kernel must be 2-D, got shape {k.shape}")
    oversample = as_int("oversample", oversample, minimum=1)
    if diameters is None:
        diagonal = math.ceil(math.hypot(*k.shape))
        diameters = np.arange(0, diagonal + 0.25, 0.25)
    d = np.asarray(diameters, dtype=np.float64).reshape(-1)
    if d.size == 0 or np.any(d < 0) or not np.all(np.isfinite(d)):
        raise ValueError(f"diameters must be finite and non-negative, got {diameters!r}")
    reach = _reachable(k, float(d.max()) / 2)
    radius, cumulative = _rim_weights(
        np.ascontiguousarray(reach).tobytes(), tuple(reach.shape), oversample
    )
    count = np.searchsorted(radius, d / 2, side="right")
    responses = np.where(count > 0, cumulative[np.maximum(count - 1, 0)], 0.0)
    best = int(np.argmax(responses))
    return SpotExperiment(d, responses, float(d[best]), float(responses[best]), float(k.sum()))


# -- orientation tuning ----------------------------------------------------------


def grating(
    size: int, orientation: float, wavelength: float = 8.0, phase: float = 0.0
) -> np.ndarray:
    """A sine-wave grating of bars at ``orientation`` degrees, contrast -1..1, zero mean.

    Uses the same conventions as :func:`gabor_kernel` (0 = horizontal bars).
    """
    size = as_int("size", size, minimum=1)
    orientation = as_float("orientation", orientation)
    wavelength = as_float("wavelength", wavelength, minimum=2.0)
    _along, across = _oriented_coordinates(size, orientation)
    return np.cos(2 * math.pi * across / wavelength + math.radians(phase)).astype(np.float32)


@dataclass(frozen=True)
class TuningCurve:
    """Responses of a cell to gratings of every orientation."""

    orientations: np.ndarray  # degrees, 0 <= θ < 180
    responses: np.ndarray  # peak response as the grating drifts across the RF
    preferred: float  # orientation of the largest response, degrees
    half_width: float  # half-width at half height, degrees


def grating_response(kernel: np.ndarray, orientation: float, wavelength: float = 8.0) -> float:
    """Peak response of a linear cell to a grating drifting across its RF.

    A linear response to a grating of phase φ is ``A cos(φ - φ0)``; its peak
    over the drift, ``A``, comes from two phases 90° apart:
    ``A = sqrt(R(0°)² + R(90°)²)``.
    """
    k = np.asarray(kernel, dtype=np.float64)
    size = k.shape[0]
    even = float((k * grating(size, orientation, wavelength, 0.0)).sum())
    odd = float((k * grating(size, orientation, wavelength, 90.0)).sum())
    return math.hypot(even, odd)


def _grating_responses(
    kernel: np.ndarray, orientations: np.ndarray, wavelength: float
) -> np.ndarray:
    """:func:`grating_response` at every orientation at once (the same numbers, one array pass)."""
    size = kernel.shape[0]
    x, y = _grid(size)
    angles = [math.radians(float(t)) for t in orientations]
    sin = np.array([math.sin(a) for a in angles])[:, None, None]
    cos = np.array([math.cos(a) for a in angles])[:, None, None]
    across = -x * sin + y * cos  # as _oriented_coordinates, one orientation per slice
    phase = 2 * math.pi * across / wavelength
    even = (kernel * np.cos(phase).astype(np.float32)).sum(axis=(1, 2))
    odd = (kernel * np.cos(phase + math.radians(90.0)).astype(np.float32)).sum(axis=(1, 2))
    return np.hypot(even, odd)


def _half_width(orientations: np.ndarray, responses: np.ndarray, best: int) -> float:
    """Half-width at half height of a periodic (180°) tuning curve, by interpolation."""
    n = len(orientations)
    step = 180.0 / n
    half = responses[best] / 2
    widths = []
    for direction in (1, -1):
        for i in range(1, n // 2 + 1):
            value = responses[(best + direction * i) % n]
            if value <= half:
                previous = responses[(best + direction * (i - 1)) % n]
                widths.append(step * (i - 1 + (previous - half) / (previous - value)))
                break
        else:
            widths.append(90.0)  # never falls to half height
    return float(np.mean(widths))


def orientation_tuning(
    kernel: np.ndarray, wavelength: float = 8.0, step: float = 1.0
) -> TuningCurve:
    """Simulate an orientation tuning curve: the response to gratings at every
    orientation from 0° to 180° in ``step``-degree steps."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"kernel must be square, got shape {k.shape}")
    step = as_float("step", step, minimum=0.1)
    n = max(int(round(180.0 / step)), 4)
    orientations = np.arange(n) * (180.0 / n)
    responses = _grating_responses(k, orientations, wavelength)
    best = int(np.argmax(responses))
    width = _half_width(orientations, responses, best)
    return TuningCurve(orientations, responses, float(orientations[best]), width)


def gabor_half_width(wavelength: float, sigma: float) -> float:
    """Predicted half-width at half height (degrees) of a Gabor's orientation tuning.

    The Gabor's spectrum is a Gaussian blob of spread ``1/(2πσ)`` around its
    preferred frequency ``1/λ``; turning the grating by ``Δθ`` moves it a
    distance ``2 sin(Δθ/2)/λ`` from the blob's peak.  Half height is reached at
    ``sin(Δθ/2) = sqrt(2 ln 2) λ / (4πσ)``.  (Ignores the small mirror blob and
    the zero-mean correction.)
    """
    s = math.sqrt(2 * math.log(2)) * wavelength / (4 * math.pi * sigma)
    return 90.0 if s >= 1 else math.degrees(2 * math.asin(s))


# -- published receptive-field sizes ---------------------------------------------


@dataclass(frozen=True)
class AreaRF:
    """Approximate RF size of one visual area, with where the number comes from."""

    area: str
    slope: float | None  # RF diameter / eccentricity (both in degrees); None if not retinotopic
    #: Range of RF diameters near 5° eccentricity, degrees.  The upper end is
    #: None where the source gives only a lower bound (IT: "larger than 10°").
    typical_deg: tuple[float, float | None]
    source: str

    @property
    def size_text(self) -> str:
        """The typical size as a short phrase: ``"0.5-1.5°"`` or ``"over 10°"``.

        In the current language: figures and printed tables show it to learners.
        """
        low, high = self.typical_deg
        if high is None:
            # TRANSLATORS: an RF size with only a lower bound, e.g. "over 10°".
            return _("over {low:g}°").format(low=low)
        return f"{low:g}-{high:g}°"


#: Retinal ganglion cells of the macaque (P and M cells, recorded as their
#: inputs to the LGN): two mean centre radii, in degrees, from Croner & Kaplan
#: (1995), "Receptive fields of P and M ganglion cells across the primate
#: retina", Vision Research 35: 7-24, Table 1: 0.03° is the mean of P cells at
#: 0-5° eccentricity, 0.18° that of M cells at 10-20°.  They are not the
#: extremes: Croner & Kaplan recorded out to 40° (abstract), and centres grow
#: with eccentricity.  Their radius is where a Gaussian falls to 1/e of its
#: peak, sqrt(2) times the sigma of :func:`dog_kernel`; the ratio of two radii
#: is the ratio of the sigmas.
RGC_CENTRE_RADIUS_DEG = (0.03, 0.18)
#: Surround radius / centre radius, rounded: Croner & Kaplan (1995, p. 12 and
#: Fig. 4c) give averages of about 4.8 for M cells and 6.7 for P cells.
RGC_SURROUND_RATIO = (5.0, 7.0)
#: Average ratio of the surround's integrated sensitivity to the centre's, for
#: both P and M cells (Croner & Kaplan 1995, abstract): the ``balance`` of a
#: typical real cell.  Real surrounds are weaker than the centre, so large
#: spots still excite the cell a little.
RGC_SURROUND_STRENGTH = 0.55

#: RF size along the ventral stream.  APPROXIMATE, ROUNDED values (the course's
#: own rounding): RF diameter grows roughly in proportion to eccentricity, with
#: the slopes below for macaque single units as summarised by Freeman &
#: Simoncelli (2011, Nature Neuroscience 14: 1195-1201, Fig. 1, from the
#: recordings of Gattass et al. 1981 and 1988); human fMRI finds the same
#: ordering and the same growth with eccentricity (Smith et al. 2001, Cerebral
#: Cortex 11: 1182-1190; Harvey & Dumoulin 2011, J Neurosci 31: 13604-13612).
#: Inferotemporal (IT) cells are not laid out by eccentricity: in anaesthetised
#: monkeys their fields were "very large (greater than 10 by 10 degrees)" and
#: almost always included the fovea (Gross, Bender & Rocha-Miranda 1969,
#: Science 166: 1303-1306, abstract).  No upper end is given: how large depends
#: on the measurement (in awake monkeys, Op de Beeck & Vogels 2000, J Comp
#: Neurol 426: 505-518, found 2.8° to 26° in area TE), and Kobatake & Tanaka
#: (1994, J Neurophysiol 71: 856-867) found anterior IT fields larger than
#: those of V4 and posterior IT.
VENTRAL_STREAM = (
    AreaRF("V1", 0.25, (0.5, 1.5), "Gattass et al. 1981; Freeman & Simoncelli 2011"),
    AreaRF("V2", 0.5, (1.5, 3.0), "Gattass et al. 1981; Freeman & Simoncelli 2011"),
    AreaRF("V4", 1.0, (3.0, 6.0), "Gattass et al. 1988; Freeman & Simoncelli 2011"),
    AreaRF("IT", None, (10.0, None), "Gross et al. 1969"),
)


def area_rf(area: str) -> AreaRF:
    """The documented RF-size record of one visual area (``"V1"``, ``"V2"``, ``"V4"``, ``"IT"``)."""
    names = tuple(a.area for a in VENTRAL_STREAM)
    one_of("area", area, names)
    return VENTRAL_STREAM[names.index(area)]


def rf_diameter_deg(area: str, eccentricity: float) -> float:
    """Approximate RF diameter (degrees) of an area at ``eccentricity`` degrees from the fovea.

    Uses the proportional scaling of :data:`VENTRAL_STREAM`; not valid inside
    about 1° of the fovea, where real fields stop shrinking.  IT has no such
    scaling (its fields are not laid out by eccentricity): ask
    ``area_rf("IT").typical_deg`` instead.

    >>> rf_diameter_deg("V1", 8.0)
    2.0
    """
    record = area_rf(area)
    eccentricity = as_float("eccentricity", eccentricity, minimum=0.0)
    if record.slope is None:
        raise ValueError(
            f"area must be retinotopic (V1, V2 or V4) to have a diameter at an eccentricity, "
            f"got {area!r}; its typical size is area_rf({area!r}).typical_deg"
        )
    return record.slope * eccentricity


@dataclass(frozen=True)
class Tiling:
    """Receptive fields covering the visual field in rings of growing eccentricity."""

    x: np.ndarray  # centres, degrees (right of fixation positive)
    y: np.ndarray  # centres, degrees (above fixation positive)
    diameter: np.ndarray  # degrees
    ring: np.ndarray  # ring index of each field


def rf_tiling(
    area: str = "V1", max_eccentricity: float = 20.0, min_eccentricity: float = 1.0
) -> Tiling:
    """Lay RFs of an area's published size over the visual field, ring by ring.

    Each ring sits one RF diameter further out than the previous one and holds
    as many RFs as fit around its circumference, so neighbouring fields just
    touch.  Inside ``min_eccentricity`` the fields would be too small to draw.
    """
    slope = area_rf(area).slope
    if slope is None:
        raise ValueError(f"area must be retinotopic (V1, V2 or V4) to tile, got {area!r}")
    max_e = as_float("max_eccentricity", max_eccentricity, minimum=0.1)
    e = as_float("min_eccentricity", min_eccentricity, minimum=0.01)
    xs, ys, ds, rings = [], [], [], []
    ring = 0
    # A ring at eccentricity e holds fields of diameter slope*e; the next ring
    # starts where these end: e' = e + slope*(e + e')/2  =>  e' = e (1 + s/2)/(1 - s/2).
    growth = (1 + slope / 2) / (1 - slope / 2)
    while e <= max_e:
        diameter = slope * e
        count = max(int(math.floor(2 * math.pi * e / diameter)), 1)
        angles = 2 * math.pi * (np.arange(count) + 0.5 * (ring % 2)) / count
        xs.append(e * np.cos(angles))
        ys.append(e * np.sin(angles))
        ds.append(np.full(count, diameter))
        rings.append(np.full(count, ring))
        e *= growth
        ring += 1
    return Tiling(np.concatenate(xs), np.concatenate(ys), np.concatenate(ds), np.concatenate(rings))
