"""A live figure: sliders in, a redrawn picture out.

Every demo in the course is a :class:`LiveFigure`, a thin shell over two pure
functions: ``compute(**slider_values)`` returns a result, and
``draw(figure, result)`` draws it.  Tests drive a demo by setting slider
values and reading ``demo.result``; learners just move the sliders.
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable

import ipywidgets as widgets
from matplotlib.figure import Figure

from .blit import figure_png
from .i18n import N_, _

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATIC_HINT = N_("A picture of the demo's first state: run the notebook to move the sliders.")


class LiveFigure:
    """Sliders, a text line and a figure that is redrawn whenever a slider moves.

    ``describe(result)`` returns a short HTML summary shown above the figure.
    ``render(figure, result)``, if given, replaces "clear the figure, draw,
    encode a PNG" on each refresh: it updates the figure's existing artists
    and returns the PNG bytes itself (see :mod:`rflesson.course.blit`).
    A demo never shows a traceback: impossible settings are explained by
    ``compute``/``draw``; anything unexpected is reported in plain words and
    kept in ``self.error`` so that tests can fail on it.
    """

    def __init__(
        self,
        controls: dict[str, widgets.ValueWidget],
        compute: Callable[..., object],
        draw: Callable[[Figure, object], None],
        *,
        describe: Callable[[object], str] | None = None,
        figsize: tuple[float, float] = (7.0, 3.5),
        render: Callable[[Figure, object], bytes] | None = None,
    ):
        self.controls = controls
        self.compute = compute
        self.draw = draw
        self.describe = describe
        self.render = render
        self.figure = Figure(figsize=figsize)
        self.image = widgets.Image(format="png")
        self.text = widgets.HTML()
        self.result: object = None
        self.error: Exception | None = None
        self.last_update_ms = 0.0
        self._paused = False
        for control in controls.values():
            control.observe(self._on_change, names="value")
        rows = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([rows, self.text, self.image])
        self.refresh()

    def values(self) -> dict[str, object]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values: object) -> object:
        """Set several controls at once, redraw once, and return the result."""
        self._paused = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._paused = False
        self.refresh()
        return self.result

    def refresh(self) -> None:
        """Recompute and redraw from the current control values."""
        started = time.perf_counter()
        try:
            self.result = self.compute(**self.values())
            if self.render is None:
                self.figure.clear()
                self.draw(self.figure, self.result)
                self.image.value = figure_png(self.figure)
            else:
                self.image.value = self.render(self.figure, self.result)
            self.text.value = self.describe(self.result) if self.describe else ""
            self.error = None
        except Exception as error:  # a demo must never show a traceback
            self.error = error
            self.text.value = _(
                "<b>Something unexpected happened:</b> {error}. "
                "Please report it; meanwhile try other settings."
            ).format(error=html.escape(f"{type(error).__name__}: {error}"))
        self.last_update_ms = (time.perf_counter() - started) * 1000

    def _on_change(self, _change: dict) -> None:
        if not self._paused:
            self.refresh()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, object]:
        """One output, several representations: live in JupyterLab, a picture elsewhere.

        JupyterLab prefers the widget view, so a running notebook shows the live demo
        once.  A viewer that cannot run it (a code host, nbviewer, a notebook opened
        before running) takes the HTML: the summary line, the current picture and a
        line saying how to make it move.  ``image/png`` and ``text/plain`` serve
        viewers that render neither widgets nor HTML.
        """
        static_hint = _(STATIC_HINT)
        bundle: dict[str, object] = {
            WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id},
            "text/plain": static_hint,
        }
        hint = f"<p><em>{html.escape(static_hint, quote=False)}</em></p>"
        if not self.image.value:  # the first drawing failed: self.text explains why
            bundle["text/html"] = f"<div>{self.text.value}</div>{hint}"
            return bundle
        picture = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/html"] = (
            f"<div>{self.text.value}</div>"
            f'<img src="data:image/png;base64,{picture}" alt="{html.escape(static_hint)}"/>{hint}'
        )
        bundle["image/png"] = picture
        return bundle


def int_slider(description: str, value: int, low: int, high: int, **kwargs) -> widgets.IntSlider:
    """An integer slider with the course's layout (wide enough labels)."""
    return widgets.IntSlider(
        value=value,
        min=low,
        max=high,
        description=description,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="260px"),
        **kwargs,
    )


def float_slider(
    description: str, value: float, low: float, high: float, step: float, **kwargs
) -> widgets.FloatSlider:
    """A float slider with the course's layout, like :func:`int_slider`."""
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="260px"),
        **kwargs,
    )


def dropdown(description: str, options, value) -> widgets.Dropdown:
    """A drop-down menu with the course's layout, for a choice among a few named options."""
    return widgets.Dropdown(
        options=list(options),
        value=value,
        description=description,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="180px"),
    )
