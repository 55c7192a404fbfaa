"""A plain-words check of the learner's set-up: will the demos render as sliders?

Notebook 00 runs :func:`check_environment` first thing; its warnings say what
to do, in the learner's language.
"""

from __future__ import annotations

import importlib.metadata
import platform

import torch

from .i18n import _


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
            _(
                "ipywidgets is not installed: the demos will not appear. "
                "Run `make lab` or `pip install ipywidgets`."
            )
        )
    elif int(widgets.split(".")[0]) < 8:
        warnings.append(
            _("ipywidgets {version} is too old: the course needs version 8.").format(
                version=widgets
            )
        )
    if lab_widgets is None:
        warnings.append(
            _(
                "jupyterlab_widgets is missing: JupyterLab will show demos as plain text "
                "(for example 'VBox(children=...)') instead of sliders. "
                "Install it with `pip install jupyterlab_widgets` and restart JupyterLab."
            )
        )
    elif int(lab_widgets.split(".")[0]) < 3:
        warnings.append(
            _(
                "jupyterlab_widgets {version} belongs to ipywidgets 7: sliders will not "
                "render. Upgrade it to version 3 and restart JupyterLab."
            ).format(version=lab_widgets)
        )
    if _major_minor(torch.__version__) < (2, 2):
        warnings.append(
            _("torch {version} is older than 2.2, which the course needs.").format(
                version=torch.__version__
            )
        )
    return versions, warnings


def check_environment() -> None:
    """Print the versions of Python, PyTorch and the widget packages.

    Warns in plain words when the interactive demos will not render
    (:func:`environment_report` returns the same facts as data).
    """
    versions, warnings = environment_report()
    for name, version in versions.items():
        shown = version or _("not installed")
        print(f"{name:<20} {shown}")
    for warning in warnings:
        print(_("WARNING: {warning}").format(warning=warning))
    if not warnings:
        print(_("All set: the demos will render as sliders."))
