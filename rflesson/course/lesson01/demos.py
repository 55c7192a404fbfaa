"""Figures and live demos of notebook 01 (biology of receptive fields).

The computations live in :mod:`rflesson.course.lesson01.bio`; this module draws them.  Three
demos, each a :class:`~rflesson.course.widgets.LiveFigure` over a pure ``compute``:

* :func:`neuron_explorer`: move and resize one centre-surround cell over the
  photograph and see what it sees and how strongly it responds;
* :func:`spot_size_demo`: the classic spot experiment on a ganglion cell;
* :func:`orientation_demo`: a grating turning in front of a V1 simple cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from ..._validate import as_float, as_int, one_of
from ..blit import Renderer, nice_ceiling
from ..i18n import N_, _
from ..style import COLORS
from ..widgets import LiveFigure, dropdown, float_slider, int_slider
from . import bio

#: Diverging colour map for RF profiles: red excites, blue inhibits, white is 0.
KERNEL_CMAP = "RdBu_r"
#: The explorer's fixed surround-to-centre ratio (Croner & Kaplan 1995: 5 to 7).
EXPLORER_SURROUND_RATIO = 5.0


def _problem_text(problem: str) -> str:
    return f'<span style="color:{COLORS["warn"]}">{problem}</span>'


def _shown(value: float, digits: int = 4) -> float:
    """``value`` with a rounding-level result shown as 0 (not "-0.0000")."""
    return 0.0 if abs(value) < 0.5 * 10.0**-digits else value


def _live_title(ax: Axes, text: str, colour: str = "k") -> Text:
    """A title for a live demo's axes, drawn as plain text above it.

    ``Axes.set_title`` measures the axes' decorations at every draw to keep
    clear of them; plain text placed above the axes saved about 15 ms per
    frame in a test with a hidden axis on a busy 2-core machine, and a demo is
    redrawn at every slider move.
    """
    return ax.text(
        0.5,
        1.03,
        text,
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        color=colour,
        fontsize=mpl.rcParams["axes.titlesize"],
    )


# -- static drawing helpers ------------------------------------------------------


def signed_sqrt(values: np.ndarray, top: float | None = None) -> np.ndarray:
    """``sign(v) sqrt(|v| / max|v|)``: keeps the sign, lifts weak weights into view.

    A DoG's surround is 25 to 50 times fainter per pixel than its centre (its
    total weight is the same, spread over a much larger area); on a linear
    colour scale it would be invisible.
    """
    values = np.asarray(values, dtype=np.float64)
    if top is None:
        top = float(np.abs(values).max()) or 1.0
    return np.sign(values) * np.sqrt(np.abs(values) / top)


def show_kernel(ax: Axes, kernel: np.ndarray, title: str = "", sqrt: bool = False) -> None:
    """Draw an RF profile: red where light excites the cell, blue where it inhibits.

    ``sqrt=True`` draws :func:`signed_sqrt` of the weights, so that a faint
    surround shows.
    """
    data = signed_sqrt(kernel) if sqrt else np.asarray(kernel)
    limit = float(np.abs(data).max()) or 1.0
    ax.imshow(data, cmap=KERNEL_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()


def show_image(ax: Axes, image: np.ndarray, title: str = "", **kwargs) -> None:
    """Draw a grey-level image with no ticks."""
    kwargs.setdefault("cmap", "gray")
    ax.imshow(image, interpolation="nearest", **kwargs)
    ax.set_title(title)
    ax.set_axis_off()


def draw_visual_field(
    fig: Figure,
    image: np.ndarray,
    field_deg: float = 40.0,
    areas=("V1", "V4"),
    fixation: tuple[float, float] = (0.5, 0.37),
    highlight_deg: float = 8.0,
) -> None:
    """The photograph as a field of view, tiled by the RFs of two visual areas.

    The viewer fixates the point ``fixation`` (fractions of the width and
    height; by default between Grace Hopper's eyes) and the photograph spans
    ``field_deg`` degrees horizontally.  Each circle is one RF of the
    published size at its eccentricity (:data:`.bio.VENTRAL_STREAM`).
    One field near ``highlight_deg`` degrees up and to the right is filled:
    a single cell sees only that.  The central 1° is left empty: the fields
    there are too small to draw.
    """
    h, w = image.shape
    px_per_deg = w / field_deg
    cx, cy = fixation[0] * (w - 1), fixation[1] * (h - 1)
    reach = math.hypot(max(cx, w - cx), max(cy, h - cy)) / px_per_deg
    for i, area in enumerate(areas):
        ax = fig.add_subplot(1, len(areas), i + 1)
        show_image(ax, image, alpha=0.85)
        tiling = bio.rf_tiling(area, max_eccentricity=reach)
        ecc = np.hypot(tiling.x, tiling.y)
        angle_off = np.abs(np.arctan2(tiling.y, tiling.x) - math.pi / 4)
        highlight = int(np.argmin(np.abs(np.log(ecc / highlight_deg)) + angle_off))
        for j, (x, y, d) in enumerate(zip(tiling.x, tiling.y, tiling.diameter, strict=True)):
            circle = Circle(
                (cx + x * px_per_deg, cy - y * px_per_deg),
                d / 2 * px_per_deg,
                fill=j == highlight,
                facecolor=COLORS["rf"],
                edgecolor=COLORS["rf"] if j == highlight else COLORS["accent"],
                lw=2.0 if j == highlight else 0.6,
                alpha=0.9 if j == highlight else 0.8,
            )
            ax.add_patch(circle)
        ax.plot(cx, cy, "+", color=COLORS["unit"], ms=9, mew=2)
        ax.set_xlim(0, w - 1)
        ax.set_ylim(h - 1, 0)
        slope = bio.area_rf(area).slope
        ax.set_title(
            _("{area}: RF diameter ≈ {slope:g} × eccentricity").format(area=area, slope=slope)
        )
    fig.tight_layout()


def draw_hierarchy(fig: Figure, max_eccentricity: float = 20.0) -> None:
    """Published RF sizes: growth with eccentricity (left) and along the ventral stream (right).

    IT has only a lower bound in its source (Gross et al. 1969: "greater than
    10 by 10 degrees"), so its band and bar are drawn open-ended, to the top
    of the axes, and labelled "over 10°".
    """
    left = fig.add_subplot(1, 2, 1)
    ecc = np.linspace(1, max_eccentricity, 50)
    colours = {"V1": COLORS["accent"], "V2": COLORS["ok"], "V4": COLORS["erf"]}
    for area in ("V1", "V2", "V4"):
        diameters = [bio.rf_diameter_deg(area, e) for e in ecc]
        left.plot(ecc, diameters, color=colours[area], lw=2)
        # Label each line at its end: a legend box would sit on the lines or the IT label.
        left.text(ecc[-1] + 0.4, diameters[-1], area, color=colours[area], va="center")
    it = bio.area_rf("IT")
    top = 1.35 * bio.rf_diameter_deg("V4", max_eccentricity)
    left.axhspan(it.typical_deg[0], top, color=COLORS["rf_light"], alpha=0.6, lw=0)
    # At the top of the band, clear of the V4 line (which crosses its bottom edge).
    label = _("IT: {size}, includes the fovea").format(size=it.size_text)
    left.text(1.5, top * 0.97, label, va="top")
    left.set_xlabel(_("eccentricity (degrees from fixation)"))
    left.set_ylabel(_("RF diameter (degrees)"))
    left.set_ylim(0, top)
    left.set_xlim(0, max_eccentricity + 2.5)  # room for the line labels
    left.set_xticks(np.arange(0, max_eccentricity + 1e-9, 5))
    left.set_title(_("Bigger away from the fovea"))

    right = fig.add_subplot(1, 2, 2)
    bottom, ceiling = 0.03, 60.0
    lo_rgc, hi_rgc = (2 * r for r in bio.RGC_CENTRE_RADIUS_DEG)
    # TRANSLATORS: the first bar of the hierarchy figure: centres of retinal ganglion cells.
    names = [_("retina\n(centre)")] + [a.area for a in bio.VENTRAL_STREAM]
    lows = [lo_rgc] + [a.typical_deg[0] for a in bio.VENTRAL_STREAM]
    highs = [hi_rgc] + [a.typical_deg[1] for a in bio.VENTRAL_STREAM]
    for i, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
        if hi is None:  # only a lower bound is published: an open bar to the top
            right.bar(i, ceiling - lo, bottom=lo, color=COLORS["rf"], alpha=0.35, width=0.6)
            right.text(i, lo * 1.15, it.size_text.replace(" ", "\n"), ha="center", va="bottom")
        else:
            right.bar(i, hi - lo, bottom=lo, color=COLORS["rf"], alpha=0.85, width=0.6)
    right.set_yscale("log")
    right.set_ylim(bottom, ceiling)
    ticks = (0.1, 0.3, 1, 3, 10, 30)  # plain numbers read faster than 10^-1
    right.set_yticks(ticks, [f"{t:g}" for t in ticks])
    right.set_xticks(range(len(names)), names)
    right.set_ylabel(_("RF diameter (degrees, log scale)"))
    right.set_title(_("Bigger up the hierarchy"))
    fig.tight_layout()


def draw_dog(fig: Figure, centre_sigma: float = 2.0, surround_ratio: float = 6.0) -> None:
    """ON and OFF centre-surround kernels and the ON cell's profile through its centre."""
    on = bio.dog_kernel(centre_sigma, surround_ratio, polarity="on")
    off = bio.dog_kernel(centre_sigma, surround_ratio, polarity="off")
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.6])
    show_kernel(fig.add_subplot(grid[0]), on, _("ON-centre"), sqrt=True)
    show_kernel(fig.add_subplot(grid[1]), off, _("OFF-centre"), sqrt=True)
    ax = fig.add_subplot(grid[2])
    size = on.shape[0]
    x = np.arange(size) - (size - 1) / 2
    centre = bio._gaussian(size, centre_sigma)[size // 2]
    surround = bio._gaussian(size, centre_sigma * surround_ratio)[size // 2]
    top = float(on.max())
    # The two parts are drawn on top of the total, or the centre would hide under it.
    ax.plot(x, signed_sqrt(on[size // 2], top), color="k", lw=2, label=_("ON cell"))
    ax.plot(x, signed_sqrt(centre, top), color=COLORS["unit"], lw=1.2, ls="--", label=_("centre"))
    ax.plot(
        x,
        signed_sqrt(-surround, top),
        color=COLORS["accent"],
        lw=1.2,
        ls="--",
        label=_("− surround"),
    )
    ax.axhline(0, color=COLORS["muted"], lw=0.5)
    radius = bio.dog_centre_diameter(centre_sigma, surround_ratio) / 2
    ax.axvspan(-radius, radius, color=COLORS["rf_light"], alpha=0.5, lw=0)
    ax.set_xlabel(_("pixels from the centre"))
    ax.set_ylabel(_("weight (signed √ scale)"))
    ax.set_title(_("Slice: ON cell = centre − surround"))
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()


def draw_spot_curve(
    ax: Axes,
    experiment: bio.SpotExperiment,
    polarity: str = "on",
    centre_diameter: float | None = None,
) -> None:
    """Response against spot diameter, with the best spot marked.

    With ``centre_diameter`` (:func:`.bio.dog_centre_diameter`) a dashed line
    marks the edge of the excitatory centre, named in a legend.
    """
    sign = 1.0 if polarity == "on" else -1.0
    ax.plot(experiment.diameters, experiment.responses, color=COLORS["accent"], lw=2)
    ax.axhline(0, color=COLORS["muted"], lw=0.5)
    best = int(np.argmax(sign * experiment.responses))
    ax.plot(experiment.diameters[best], experiment.responses[best], "o", color=COLORS["rf"])
    if centre_diameter is not None:
        label = _("edge of the excitatory centre")
        ax.axvline(centre_diameter, color=COLORS["rf"], ls="--", lw=1, label=label)
        ax.legend(loc="upper right")
    ax.set_xlabel(_("light-spot diameter (pixels)"))
    ax.set_ylabel(_("response"))


def draw_tuning_curve(ax: Axes, tuning: bio.TuningCurve) -> None:
    """An orientation tuning curve scaled to its best response, with half height marked."""
    ax.plot(tuning.orientations, tuning.responses / tuning.responses.max(), lw=2)
    ax.axhline(0.5, color=COLORS["muted"], lw=0.5, ls=":")
    ax.text(90, 0.52, _("half height"), ha="center", va="bottom", color=COLORS["muted"])
    ax.set_xlabel(_("grating orientation (degrees)"))
    ax.set_ylabel(_("response / best"))
    ax.set_xticks(range(0, 181, 45))
    title = _("Orientation tuning of a simple cell preferring {angle:g}°")
    ax.set_title(title.format(angle=tuning.preferred))


def draw_filtered(fig: Figure, image: np.ndarray, centre_sigma: float = 0.7) -> None:
    """The photograph seen by a field of ON cells and of four orientations of simple cells."""
    on = bio.apply_kernel(image, bio.dog_kernel(centre_sigma, 5.0))
    # The ON cells' signed response on a symmetric grey scale; the others by their own range.
    limit = float(np.percentile(np.abs(on), 99))
    panels = [
        (_("photograph"), image, {"cmap": "gray"}),
        (_("ON cells (DoG)"), on, {"cmap": "gray", "vmin": -limit, "vmax": limit}),
    ]
    for theta in (0, 45, 90, 135):
        response = np.abs(bio.apply_kernel(image, bio.gabor_kernel(theta, wavelength=6.0)))
        panels.append((f"Gabor {theta}°", response, {"cmap": "magma"}))
    for i, (title, data, scale) in enumerate(panels):
        show_image(fig.add_subplot(1, len(panels), i + 1), data, title, **scale)
    fig.tight_layout()


def draw_stacking(fig: Figure, first: np.ndarray, second: np.ndarray) -> None:
    """Two kernels and the one kernel they make together: its support is wider."""
    stacked = bio.stack_kernels(first, second)
    size = stacked.shape[0]
    for i, (kernel, title) in enumerate(
        [(first, _("layer 1 kernel")), (second, _("layer 2 kernel")), (stacked, _("together"))]
    ):
        ax = fig.add_subplot(1, 3, i + 1)
        pad = (size - kernel.shape[0]) // 2
        canvas = np.full((size, size), np.nan)
        canvas[pad : pad + kernel.shape[0], pad : pad + kernel.shape[1]] = kernel
        ax.imshow(canvas, cmap="Oranges", vmin=0, vmax=float(stacked.max()) * 1.3)
        for r in range(kernel.shape[0]):
            for c in range(kernel.shape[1]):
                ax.text(c + pad, r + pad, f"{kernel[r, c]:g}", ha="center", va="center")
        h, w = bio.support_size(kernel)
        ax.set_title(f"{title}: {h}×{w}")
        ax.set_axis_off()
    fig.tight_layout()


# -- demo 1: the neuron explorer -------------------------------------------------


def _fft_convolution(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """What :func:`.bio.apply_kernel` computes, by the convolution theorem.

    The image is mirrored at its borders exactly as ``apply_kernel`` does, then
    multiplied with the kernel in the Fourier domain (numpy's FFT, one thread).
    Same numbers to float32 rounding, but a few milliseconds even for the
    widest kernel, where the direct sum takes 91 x 91 multiplications per pixel.
    """
    kh, kw = kernel.shape
    ph, pw = kh // 2, kw // 2
    mode = "reflect" if ph < image.shape[0] and pw < image.shape[1] else "edge"
    padded = np.pad(np.asarray(image, dtype=np.float64), ((ph, ph), (pw, pw)), mode=mode)
    shape = padded.shape
    flipped = np.asarray(kernel, dtype=np.float64)[::-1, ::-1]  # conv2d correlates
    full = np.fft.irfft2(np.fft.rfft2(padded, shape) * np.fft.rfft2(flipped, shape), shape)
    return full[kh - 1 :, kw - 1 :].astype(np.float32)


@lru_cache(maxsize=16)
def _response_map(centre_sigma: float, polarity: str) -> np.ndarray:
    """The response of the explorer's cell at every position of the photograph.

    ``bio.apply_kernel(image, kernel)`` by FFT (:func:`_fft_convolution`;
    ``tests/test_bio.py`` checks they agree): a torch convolution with the
    widest kernel takes a few hundred milliseconds on a busy 2-core machine.
    """
    kernel = bio.dog_kernel(centre_sigma, EXPLORER_SURROUND_RATIO, polarity=polarity)
    response = _fft_convolution(bio.sample_image(), kernel)
    response.flags.writeable = False
    return response


def _patch(image: np.ndarray, row: int, col: int, size: int) -> np.ndarray:
    """The size x size patch centred on (row, col), mirrored at the borders like apply_kernel."""
    half = size // 2
    mode = "reflect" if half < min(image.shape) else "edge"
    padded = np.pad(image, half, mode=mode)
    return padded[row : row + size, col : col + size]


@dataclass(frozen=True)
class ExplorerView:
    """What one centre-surround cell at (row, col) sees in the photograph."""

    row: int
    col: int
    centre_sigma: float
    polarity: str
    kernel: np.ndarray
    patch: np.ndarray  # the photograph under the kernel
    contributions: np.ndarray  # patch x kernel: what each pixel adds to the response
    response: float  # their sum
    response_map: np.ndarray  # the response of a cell at every position
    centre_diameter: float
    problem: str | None = None


def explore_neuron(
    col: int = 64, row: int = 40, centre_sigma: float = 1.5, polarity: str = "on"
) -> ExplorerView:
    """One cell's view of the photograph: the patch under its RF and its response.

    Positions outside the photograph are clamped to its edge and explained in
    ``problem``; they never raise.
    """
    image = bio.sample_image()
    h, w = image.shape
    col = as_int("col", col)
    row = as_int("row", row)
    centre_sigma = as_float("centre_sigma", centre_sigma, minimum=0.3)
    one_of("polarity", polarity, bio.POLARITIES)
    problem = None
    if not (0 <= row < h and 0 <= col < w):
        problem = _(
            "({col}, {row}) is outside the {w}×{h} photograph; showing its nearest edge."
        ).format(col=col, row=row, w=w, h=h)
        row, col = min(max(row, 0), h - 1), min(max(col, 0), w - 1)
    kernel = bio.dog_kernel(centre_sigma, EXPLORER_SURROUND_RATIO, polarity=polarity)
    patch = _patch(image, row, col, kernel.shape[0])
    contributions = patch * kernel
    return ExplorerView(
        row,
        col,
        centre_sigma,
        polarity,
        kernel,
        patch,
        contributions,
        float(contributions.sum(dtype=np.float64)),
        _response_map(centre_sigma, polarity),
        bio.dog_centre_diameter(centre_sigma, EXPLORER_SURROUND_RATIO),
        problem,
    )


class ImageRow:
    """Several images side by side in ONE borderless axes.

    Building and laying out a matplotlib axes costs about 10 ms, so a demo
    that shows four images in four axes cannot stay live; one axes can.
    Every image is drawn one unit high; :meth:`add` returns a function that
    maps an image's (column, row) pixel to the row's coordinates, and its scale.
    """

    def __init__(self, fig: Figure, rect=(0.0, 0.0, 1.0, 1.0), gap: float = 0.08):
        self.ax = fig.add_axes(rect)
        self.ax.set_axis_off()
        self.gap = gap
        self.right = 0.0

    def add(self, data: np.ndarray, title: str = "", colour: str = "k", **kwargs):
        """Draw ``data`` to the right of the previous image, with a title above it."""
        h, w = data.shape
        scale = 1.0 / h
        left = self.right
        kwargs.setdefault("cmap", "gray")
        self.ax.imshow(
            data, extent=(left, left + w * scale, 1.0, 0.0), interpolation="nearest", **kwargs
        )
        self.ax.text(left + w * scale / 2, -0.04, title, ha="center", va="bottom", color=colour)
        self.right = left + w * scale + self.gap

        def to_row(col: float, row: float) -> tuple[float, float]:
            return left + (col + 0.5) * scale, (row + 0.5) * scale

        return to_row, scale

    def finish(self, margin: float = 0.04) -> None:
        """Fit the view to the images, with ``margin`` around them, and keep square pixels.

        The margin (in image heights) leaves room for markers drawn on an
        image's edge pixels: without it, a marker on the last pixel is cut in half.
        """
        self.ax.set_xlim(-margin, self.right - self.gap + margin)
        self.ax.set_ylim(1.0 + margin, -0.2)
        self.ax.set_aspect("equal")


def draw_explorer(fig: Figure, view: ExplorerView) -> None:
    """Photograph with the RF, the patch, its weighted contributions, and the response map."""
    image = bio.sample_image()
    size = view.kernel.shape[0]
    row = ImageRow(fig)
    title, colour = _("where the cell looks"), "k"
    if view.problem:
        title, colour = _("edge of the photograph"), COLORS["warn"]
    to_photo, scale = row.add(image, title, colour)
    surround_r = 2 * view.centre_sigma * EXPLORER_SURROUND_RATIO
    centre = to_photo(view.col, view.row)
    frame = Rectangle((0, 0), image.shape[1] * scale, 1.0, transform=row.ax.transData)
    for radius, ec in ((view.centre_diameter / 2, COLORS["unit"]), (surround_r, COLORS["rf"])):
        circle = row.ax.add_patch(Circle(centre, radius * scale, fill=False, ec=ec, lw=1.5))
        circle.set_clip_path(frame)  # stay inside the photograph
    sees = _("what it sees") if _inside(view) else _("what it sees (mirrored)")
    to_patch, scale = row.add(view.patch, sees, vmin=0, vmax=1)
    half = (size - 1) / 2
    row.ax.add_patch(
        Circle(
            to_patch(half, half), view.centre_diameter / 2 * scale, fill=False, ec=COLORS["unit"]
        )
    )
    contributions = signed_sqrt(view.contributions)
    row.add(contributions, _("light × weights"), cmap=KERNEL_CMAP, vmin=-1, vmax=1)
    limit = float(np.abs(view.response_map).max()) or 1.0
    to_map, _scale = row.add(
        view.response_map, _("response everywhere"), cmap=KERNEL_CMAP, vmin=-limit, vmax=limit
    )
    row.ax.plot(*to_map(view.col, view.row), "o", mfc="none", mec="k", ms=8, mew=1.5, clip_on=False)
    row.finish()


def _inside(view: ExplorerView) -> bool:
    """Whether the cell's whole kernel lies on the photograph (no mirrored pixels)."""
    h, w = bio.sample_image().shape
    half = view.kernel.shape[0] // 2
    return half <= view.row < h - half and half <= view.col < w - half


def describe_explorer(view: ExplorerView) -> str:
    """One HTML line: the response and how it ranks among all positions."""
    # A share, shown as a percentage by the "%" format: no bare "%" in the catalog
    # entry, which translators' tools would take for a printf directive.
    rank = float((view.response_map < view.response).mean())
    text = _(
        "{cell}-centre cell at (x={x}, y={y}), centre {centre:.1f} px wide: response "
        "<b>{response:+.4f}</b>, stronger than at {rank:.0%} of positions."
    ).format(
        cell=view.polarity.upper(),
        x=view.col,
        y=view.row,
        centre=view.centre_diameter,
        response=_shown(view.response),
        rank=rank,
    )
    if not _inside(view):
        text += " " + _(
            "Its field reaches past the edge of the photograph, where it sees the "
            "photograph mirrored (as rfl.apply_kernel pads it)."
        )
    return text if view.problem is None else _problem_text(view.problem) + " " + text


def neuron_explorer(
    col: int = 64, row: int = 40, centre_sigma: float = 1.5, polarity: str = "on"
) -> LiveFigure:
    """Move (x, y) and resize one centre-surround cell over the photograph."""
    h, w = bio.sample_image().shape
    controls = {
        "col": int_slider("x", col, 0, w - 1),
        "row": int_slider("y", row, 0, h - 1),
        "centre_sigma": float_slider(_("centre σ (px)"), centre_sigma, 0.5, 3.0, 0.5),
        "polarity": dropdown(_("cell"), bio.POLARITIES, polarity),
    }
    return LiveFigure(
        controls, explore_neuron, draw_explorer, describe=describe_explorer, figsize=(8.0, 2.4)
    )


# -- demo 2: the spot experiment -------------------------------------------------

#: The spot diameters of the demo's curve: 0 to 60 px in quarter pixels.
SPOT_DIAMETERS = np.arange(0, 60.25, 0.25)


@dataclass(frozen=True)
class SpotView:
    """A ganglion cell, a light (or dark) spot on it, and the whole size-tuning curve."""

    diameter: float
    centre_sigma: float
    surround_ratio: float
    surround_strength: float
    polarity: str
    spot: str
    kernel: np.ndarray
    experiment: bio.SpotExperiment  # responses to light spots
    response: float  # response to the current spot
    best_diameter: float  # the spot of this contrast that drives the cell hardest (inf: none)
    centre_diameter: float
    problem: str | None = None

    @property
    def sign(self) -> float:
        """+1 where a light spot excites (ON cell) and a dark one an OFF cell, else -1."""
        return (1.0 if self.polarity == "on" else -1.0) * (1.0 if self.spot == "light" else -1.0)


@lru_cache(maxsize=64)
def _spot_curve(centre_sigma: float, ratio: float, strength: float):
    kernel = bio.dog_kernel(centre_sigma, ratio, balance=strength)
    return kernel, bio.spot_experiment(kernel, SPOT_DIAMETERS)


#: The demo's sentences come in one version per spot contrast ("light", "dark"):
#: a whole sentence translates better than a sentence with the contrast filled in.
#: ``{cell}`` is "ON" or "OFF".
_NEVER_EXCITES = {
    "light": N_(
        "A light spot never excites an {cell}-centre cell: it only silences it. Try a dark spot."
    ),
    "dark": N_(
        "A dark spot never excites an {cell}-centre cell: it only silences it. Try a light spot."
    ),
}
_NONE_IN_REACH = {
    "light": N_(
        "No light spot up to {diameter:g} px wide excites this {cell}-centre cell. Try a dark spot."
    ),
    "dark": N_(
        "No dark spot up to {diameter:g} px wide excites this {cell}-centre cell. Try a light spot."
    ),
}
_SPOT_TITLE = {"light": N_("{cell} cell, light spot"), "dark": N_("{cell} cell, dark spot")}
_SPOT_AXIS = {
    "light": N_("light-spot diameter (pixels)"),
    "dark": N_("dark-spot diameter (pixels)"),
}
_NO_SPOT_TITLE = {
    "light": N_("no light spot excites this cell"),
    "dark": N_("no dark spot excites this cell"),
}
_NO_SPOT_IN_REACH_TITLE = {
    "light": N_("no light spot up to {diameter:g} px excites this cell"),
    "dark": N_("no dark spot up to {diameter:g} px excites this cell"),
}
_SPOT_READOUT = {
    "light": N_(
        "Light spot {diameter:.1f} px wide on an {cell}-centre cell: "
        "response <b>{response:+.4f}</b>."
    ),
    "dark": N_(
        "Dark spot {diameter:.1f} px wide on an {cell}-centre cell: "
        "response <b>{response:+.4f}</b>."
    ),
}
_NO_BEST_WITHOUT_SURROUND = {
    "light": N_(
        "No best size: every bigger light spot drives it at least as hard, "
        "because it has no surround."
    ),
    "dark": N_(
        "No best size: every bigger dark spot drives it at least as hard, "
        "because it has no surround."
    ),
}
_NO_BEST_STRONG_SURROUND = {
    "light": N_(
        "No best size: every bigger light spot drives it at least as hard, "
        "because its surround (strength {strength:g}) outweighs its centre."
    ),
    "dark": N_(
        "No best size: every bigger dark spot drives it at least as hard, "
        "because its surround (strength {strength:g}) outweighs its centre."
    ),
}


def _never_excites(spot: str, polarity: str, strength: float) -> str:
    """Why no spot of this contrast excites the cell, in one sentence."""
    if strength <= 1.0:
        return _(_NEVER_EXCITES[spot]).format(cell=polarity.upper())
    # A surround stronger than the centre wins for spots wider than the slider reaches.
    return _(_NONE_IN_REACH[spot]).format(diameter=SPOT_DIAMETERS[-1], cell=polarity.upper())


def spot_size(
    diameter: float = 6.0,
    centre_sigma: float = 2.0,
    surround_ratio: float = 6.0,
    surround_strength: float = 1.0,
    polarity: str = "on",
    spot: str = "light",
) -> SpotView:
    """The spot experiment at one spot diameter, with the curve over all diameters.

    A spot is "best" only if the response falls again for bigger spots: when the
    curve only rises to a plateau (no surround, or a dark spot on an ON cell
    whose surround outweighs its centre), every bigger spot is as good and
    ``best_diameter`` is ``inf`` rather than whichever plateau point
    rounding favours.
    """
    diameter = as_float("diameter", diameter, minimum=0.0)
    centre_sigma = as_float("centre_sigma", centre_sigma, minimum=0.3)
    surround_ratio = as_float("surround_ratio", surround_ratio, minimum=1.01)
    surround_strength = as_float("surround_strength", surround_strength, minimum=0.0)
    one_of("polarity", polarity, bio.POLARITIES)
    one_of("spot", spot, ("light", "dark"))
    kernel, experiment = _spot_curve(centre_sigma, surround_ratio, surround_strength)
    sign = (1.0 if polarity == "on" else -1.0) * (1.0 if spot == "light" else -1.0)
    signed = sign * experiment.responses
    best = int(np.argmax(signed))
    best_diameter = float(experiment.diameters[best])
    if sign * experiment.full_field >= signed[best] - 1e-9:
        best_diameter = math.inf  # the curve never falls: a plateau, no best size
    problem = None
    if signed[best] <= 1e-12:
        problem = _never_excites(spot, polarity, surround_strength)
    return SpotView(
        diameter,
        centre_sigma,
        surround_ratio,
        surround_strength,
        polarity,
        spot,
        kernel if polarity == "on" else -kernel,
        experiment,
        sign * bio.spot_response(kernel, diameter),
        best_diameter,
        bio.dog_centre_diameter(centre_sigma, surround_ratio, surround_strength),
        problem,
    )


class _SpotFigure:
    """The spot demo's figure, built once; :meth:`update` shows one :class:`SpotView`.

    Left: the cell's RF with the spot drawn on it.  Right: response against
    spot diameter, the current spot marked.  A move of the diameter slider
    changes only the spot and the marker, so it is drawn in a few
    milliseconds (:class:`rflesson.course.blit.BlitCanvas`).
    """

    def __init__(self, fig: Figure) -> None:
        self.figure = fig
        row = ImageRow(fig, rect=(0.0, 0.05, 0.3, 0.85))
        row.add(np.zeros((1, 1)), " ", cmap=KERNEL_CMAP, vmin=-1, vmax=1)
        (self.kernel,), (self.kernel_title,) = row.ax.images, row.ax.texts
        self.spot = row.ax.add_patch(Circle((0.5, 0.5), 0.1, fill=False, lw=2))
        self.spot.set_clip_path(Rectangle((0, 0), 1.0, 1.0, transform=row.ax.transData))
        row.finish()
        curve = self.curve_ax = fig.add_axes((0.4, 0.2, 0.57, 0.66))
        curve.axhline(0, color=COLORS["muted"], lw=0.5)  # first: under the curve, as in a frame
        (self.curve,) = curve.plot([], [], color=COLORS["accent"], lw=2)
        self.centre = curve.axvline(0.0, color=COLORS["rf"], ls="--", lw=1)
        (self.marker,) = curve.plot([], [], "o", color=COLORS["unit"], ms=8, clip_on=False)
        curve.set_ylabel(_("response"))
        curve.set_xlim(0, SPOT_DIAMETERS[-1])
        curve.xaxis.set_major_locator(MaxNLocator(nbins=4))  # each tick costs a redraw
        curve.yaxis.set_major_locator(MaxNLocator(nbins=3))
        self.title = _live_title(curve, " ")

    def update(self, view: SpotView) -> tuple[list, tuple]:
        """Show ``view``; return the artists that changed and the key of the rest."""
        size = view.kernel.shape[0]
        self.kernel.set_data(signed_sqrt(view.kernel))
        self.kernel_title.set_text(_(_SPOT_TITLE[view.spot]).format(cell=view.polarity.upper()))
        self.spot.set_radius(view.diameter / 2 / size)
        self.spot.set_edgecolor("gold" if view.spot == "light" else "black")
        exp = view.experiment
        responses = view.sign * exp.responses
        self.curve.set_data(exp.diameters, responses)
        self.centre.set_xdata([view.centre_diameter] * 2)
        self.centre.set_visible(math.isfinite(view.centre_diameter))
        self.marker.set_data([view.diameter], [view.response])
        title, colour = _spot_title(view)
        self.title.set_text(title)
        self.title.set_color(colour)
        self.curve_ax.set_xlabel(_(_SPOT_AXIS[view.spot]))
        low, high = _padded_range(float(responses.min()), float(responses.max()))
        self.curve_ax.set_ylim(low, high)
        changing = [self.kernel, self.kernel_title, self.spot, self.curve, self.centre]
        changing += [self.marker, self.title]
        return changing, (view.spot, low, high)


def _padded_range(low: float, high: float) -> tuple[float, float]:
    """Axis limits around ``[low, high]`` and 0, in coarse steps (:func:`nice_ceiling`):
    a move that changes the data a little keeps the drawn axis."""
    span = nice_ceiling(1.1 * max(-low, high, 1e-12))
    top = nice_ceiling(1.1 * high) if high > 0.05 * span else 0.1 * span
    bottom = -nice_ceiling(-1.1 * low) if -low > 0.05 * span else -0.1 * span
    return bottom, top


def _spot_title(view: SpotView) -> tuple[str, str]:
    """The curve's title and its colour: the best spot, or why there is none."""
    exp = view.experiment
    if view.problem and view.surround_strength <= 1:
        return _(_NO_SPOT_TITLE[view.spot]), COLORS["warn"]
    if view.problem:
        title = _(_NO_SPOT_IN_REACH_TITLE[view.spot]).format(diameter=exp.diameters[-1])
        return title, COLORS["warn"]
    if not math.isfinite(view.best_diameter):
        return _("no best size: a bigger spot is never worse"), "k"
    # the title doubles as the legend of the dashed line
    title = _("best spot {best:.2f} px; centre (dashed) {centre:.2f} px").format(
        best=view.best_diameter, centre=view.centre_diameter
    )
    return title, "k"


def draw_spot(fig: Figure, view: SpotView) -> None:
    """The RF with the spot drawn on it, and response against spot diameter."""
    _SpotFigure(fig).update(view)


def describe_spot(view: SpotView) -> str:
    """One HTML line: the current response and the best spot."""
    text = _(_SPOT_READOUT[view.spot]).format(
        diameter=view.diameter, cell=view.polarity.upper(), response=_shown(view.response)
    )
    if view.problem:
        return _problem_text(view.problem) + " " + text
    if not math.isfinite(view.best_diameter):
        if view.surround_strength == 0:
            return text + " " + _(_NO_BEST_WITHOUT_SURROUND[view.spot])
        why = _(_NO_BEST_STRONG_SURROUND[view.spot]).format(strength=view.surround_strength)
        return text + " " + why
    best = _("Best spot: <b>{best:.2f} px</b> (the centre is {centre:.2f} px wide).").format(
        best=view.best_diameter, centre=view.centre_diameter
    )
    return text + " " + best


def spot_size_demo(diameter: float = 6.0, centre_sigma: float = 2.0) -> LiveFigure:
    """Sliders for the spot diameter and the cell's centre, surround and polarity."""
    controls = {
        "diameter": float_slider(_("spot diameter (px)"), diameter, 0.0, 60.0, 0.5),
        "centre_sigma": float_slider(_("centre σ (px)"), centre_sigma, 1.0, 4.0, 0.5),
        "surround_ratio": float_slider(_("surround / centre"), 6.0, 2.0, 8.0, 0.5),
        "surround_strength": float_slider(_("surround strength"), 1.0, 0.0, 1.2, 0.05),
        "polarity": dropdown(_("cell"), bio.POLARITIES, "on"),
        # The menu shows the contrast in the learner's language; its value stays "light"/"dark".
        "spot": dropdown(_("spot"), [(_("light"), "light"), (_("dark"), "dark")], "light"),
    }
    return LiveFigure(
        controls,
        spot_size,
        draw_spot,
        describe=describe_spot,
        figsize=(7.5, 2.8),
        render=Renderer(_SpotFigure),
    )


# -- demo 3: orientation tuning ------------------------------------------------


@dataclass(frozen=True)
class OrientationView:
    """A simple cell, a grating at one orientation, and the full tuning curve."""

    stimulus: float  # grating orientation, degrees
    preferred: float  # the cell's orientation, degrees
    sigma: float
    wavelength: float
    kernel: np.ndarray
    grating: np.ndarray  # the grating at the phase that drives the cell most
    response: float
    tuning: bio.TuningCurve
    problem: str | None = None


def _gabor_size(sigma: float) -> int:
    """At least 31 px, and wide enough to hold the envelope to 3σ: a cut-off
    envelope would widen the tuning curve (by 10% at σ = 8 px)."""
    return max(31, 2 * math.ceil(3 * sigma) + 1)


#: Orientations of the demo's tuning curve are sampled every 2.5°: a step that
#: divides both slider steps (15° for the cell, 5° for the grating), so the
#: curve's peak and the current grating fall on sampled points.  With 2° steps
#: a cell built for 165° peaked at 164° on the curve.
TUNING_STEP = 2.5


@lru_cache(maxsize=64)
def _tuning(preferred: float, wavelength: float, sigma: float):
    kernel = bio.gabor_kernel(preferred, wavelength, sigma, size=_gabor_size(sigma))
    return kernel, bio.orientation_tuning(kernel, wavelength, step=TUNING_STEP)


def orientation_response(
    stimulus: float = 30.0, preferred: float = 0.0, sigma: float = 4.0, wavelength: float = 8.0
) -> OrientationView:
    """A Gabor cell's peak response to a drifting grating at ``stimulus`` degrees."""
    stimulus = as_float("stimulus", stimulus)
    preferred = as_float("preferred", preferred)
    sigma = as_float("sigma", sigma, minimum=0.5)
    wavelength = as_float("wavelength", wavelength, minimum=2.0)
    kernel, tuning = _tuning(preferred, wavelength, sigma)
    size = kernel.shape[0]
    weights = kernel.astype(np.float64)  # as the tuning curve, so the marker sits on it
    even = float((weights * bio.grating(size, stimulus, wavelength, 0.0)).sum())
    odd = float((weights * bio.grating(size, stimulus, wavelength, 90.0)).sum())
    best_phase = math.degrees(math.atan2(-odd, even))  # phase that maximises the response
    stim = bio.grating(size, stimulus, wavelength, best_phase)
    problem = None
    if sigma < wavelength / 4:
        problem = _(
            "The envelope (σ = {sigma:g} px) is shorter than a quarter of the wavelength "
            "({wavelength:g} px): the cell barely sees one stripe, so it is hardly tuned."
        ).format(sigma=sigma, wavelength=wavelength)
    return OrientationView(
        stimulus,
        preferred,
        sigma,
        wavelength,
        kernel,
        stim,
        math.hypot(even, odd),
        tuning,
        problem,
    )


class _OrientationFigure:
    """The orientation demo's figure, built once; :meth:`update` shows one view.

    The cell's RF and the grating over it (left), the tuning curve with the
    current grating marked (right).  Turning the grating changes only the
    grating, the marker and a title.
    """

    def __init__(self, fig: Figure) -> None:
        self.figure = fig
        row = ImageRow(fig, rect=(0.0, 0.05, 0.42, 0.85), gap=0.15)
        row.add(np.zeros((1, 1)), " ", cmap=KERNEL_CMAP)
        row.add(np.zeros((1, 1)), " ", vmin=-1, vmax=1)
        row.finish()
        self.kernel, self.grating = row.ax.images
        self.kernel_title, self.grating_title = row.ax.texts
        ax = self.curve_ax = fig.add_axes((0.52, 0.2, 0.46, 0.66))
        (self.curve,) = ax.plot([], [], color=COLORS["accent"], lw=2)
        (self.marker,) = ax.plot([], [], "o", color=COLORS["unit"], ms=8, clip_on=False)
        # 0° and 180° are the same orientation: a peak is marked at both when both show
        self.peaks = [ax.axvline(0.0, color=COLORS["rf"], ls="--", lw=1) for _ in range(2)]
        ax.set_xlabel(_("grating orientation (degrees)"))
        ax.set_ylabel(_("peak response"))
        ax.set_xticks(range(0, 181, 45))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3))  # each tick costs a redraw
        ax.set_xlim(0, 180)
        self.title = _live_title(ax, " ")

    def update(self, view: OrientationView) -> tuple[list, tuple]:
        """Show ``view``; return the artists that changed and the key of the rest."""
        limit = float(np.abs(view.kernel).max()) or 1.0
        self.kernel.set_data(view.kernel)
        self.kernel.set_clim(-limit, limit)
        self.kernel_title.set_text(_("cell: {angle:g}°").format(angle=view.preferred))
        self.grating.set_data(view.grating)
        self.grating_title.set_text(_("grating: {angle:g}°").format(angle=view.stimulus))
        t = view.tuning
        # The curve repeats every 180° (a grating turned by 180° is the same grating):
        # close it at 180° with the 0° value, so that a peak near 180° is drawn whole.
        self.curve.set_data(
            np.append(t.orientations, 180.0), np.append(t.responses, t.responses[0])
        )
        self.marker.set_data([view.stimulus], [view.response])
        for line, peak in zip(self.peaks, (t.preferred, t.preferred + 180.0), strict=True):
            line.set_xdata([peak, peak])
            line.set_visible(peak <= 180.0)
        if view.problem:
            title, colour = _("hardly tuned: see the note"), COLORS["warn"]
        else:
            title, colour = _("tuning: half-width {width:.0f}°").format(width=t.half_width), "k"
        self.title.set_text(title)
        self.title.set_color(colour)
        low, high = _padded_range(0.0, float(t.responses.max()))
        self.curve_ax.set_ylim(low, high)
        changing = [self.kernel, self.kernel_title, self.grating, self.grating_title]
        changing += [self.curve, self.marker, *self.peaks, self.title]
        return changing, (low, high)


def draw_orientation(fig: Figure, view: OrientationView) -> None:
    """The cell's RF, the grating over it, and the tuning curve with the current grating."""
    _OrientationFigure(fig).update(view)


def describe_orientation(view: OrientationView) -> str:
    """One HTML line: the response relative to the best orientation."""
    best = float(view.tuning.responses.max()) or 1.0
    text = _(
        "Grating at {stimulus:g}°, cell prefers {preferred:g}°: response "
        "<b>{response:.3f}</b> ({share:.0%} of its best)."
    ).format(
        stimulus=view.stimulus,
        preferred=view.tuning.preferred,
        response=view.response,
        share=view.response / best,
    )
    return text if view.problem is None else _problem_text(view.problem) + " " + text


def orientation_demo(stimulus: float = 30.0, preferred: float = 0.0) -> LiveFigure:
    """Turn a grating in front of a simple cell and watch its tuning curve."""
    controls = {
        "stimulus": float_slider(_("grating (°)"), stimulus, 0.0, 180.0, 5.0),
        "preferred": float_slider(_("cell prefers (°)"), preferred, 0.0, 165.0, 15.0),
        "sigma": float_slider(_("envelope σ (px)"), 4.0, 1.0, 8.0, 0.5),
    }
    return LiveFigure(
        controls,
        orientation_response,
        draw_orientation,
        describe=describe_orientation,
        figsize=(7.5, 2.6),
        render=Renderer(_OrientationFigure),
    )
