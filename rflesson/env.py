"""Reproducibility and a plain-words check of the learner's environment."""

from __future__ import annotations

import importlib.metadata
import platform
import random

import numpy as np
import torch

from ._validate import as_int


def set_seed(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and PyTorch so that a run repeats exactly.

    ``seed`` is an int from 0 to 2**32 - 1 (NumPy's range).

    >>> set_seed(0)
    """
    seed = as_int("seed", seed, minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def environment_report() -> tuple[dict[str, str | None], list[str]]:
    """Return the versions that matter and a list of plain-words warnings."""
    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ipywidgets": _version("ipywidgets"),
        "jupyterlab_widgets": _version("jupyterlab_widgets"),
    }
    warnings = []
    widgets = versions["ipywidgets"]
    lab_widgets = versions["jupyterlab_widgets"]
    if widgets is None:
        warnings.append(
            "ipywidgets is not installed: the demos will not appear. "
            "Run `make lab` or `pip install ipywidgets`."
        )
    elif int(widgets.split(".")[0]) < 8:
        warnings.append(f"ipywidgets {widgets} is too old: the course needs version 8.")
    if lab_widgets is None:
        warnings.append(
            "jupyterlab_widgets is missing: JupyterLab will show demos as plain text "
            "(for example 'VBox(children=...)') instead of sliders. "
            "Install it with `pip install jupyterlab_widgets` and restart JupyterLab."
        )
    elif int(lab_widgets.split(".")[0]) < 3:
        warnings.append(
            f"jupyterlab_widgets {lab_widgets} belongs to ipywidgets 7: sliders will not "
            "render. Upgrade it to version 3 and restart JupyterLab."
        )
    if _major_minor(torch.__version__) < (2, 2):
        warnings.append(f"torch {torch.__version__} is older than 2.2, which the course needs.")
    return versions, warnings


def check_environment() -> None:
    """Print the versions of Python, PyTorch and the widget packages.

    Warns in plain words when the interactive demos will not render
    (:func:`environment_report` returns the same facts as data).
    """
    versions, warnings = environment_report()
    for name, version in versions.items():
        print(f"{name:<20} {version or 'not installed'}")
    for warning in warnings:
        print(f"WARNING: {warning}")
    if not warnings:
        print("All set: the demos will render as sliders.")
