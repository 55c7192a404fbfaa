"""The course's figure style, in one place.

Every figure in the course uses these colours so that a learner can read any
plot at a glance: grey-blue for the input, orange for the (theoretical)
receptive field, purple for the effective receptive field, red for the output
unit being inspected.
"""

from __future__ import annotations

import matplotlib as mpl

COLORS = {
    "input": "#dfe6ee",  # input pixels
    "input_edge": "#9aa8b8",
    "padding": "#f4f4f4",  # zero padding outside the input
    "rf": "#f28e2b",  # theoretical receptive field
    "rf_light": "#fbd3a8",
    "erf": "#7b3294",  # effective receptive field
    "unit": "#d62728",  # the output unit under inspection
    "accent": "#3b75af",  # a second series, arrows, annotations
    "ok": "#2e8b57",
    "warn": "#c0392b",
    "muted": "#7f7f7f",
}

#: Colour map for ERF and other intensity maps (dark = no influence).
ERF_CMAP = "magma"
#: Colour map for counts (coverage maps): white = zero paths.
COUNT_CMAP = "Oranges"

RC_PARAMS = {
    "figure.figsize": (7.0, 3.5),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(
        color=[COLORS["accent"], COLORS["rf"], COLORS["erf"], COLORS["ok"], COLORS["unit"]]
    ),
    "image.cmap": ERF_CMAP,
    "legend.frameon": False,
}


def use_course_style() -> None:
    """Apply the course style to matplotlib and keep inline figures as PNG.

    PNG (not SVG) keeps stored notebook outputs free of dates, which strict
    nbval would otherwise flag on every run.
    """
    mpl.rcParams.update(RC_PARAMS)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("png")
