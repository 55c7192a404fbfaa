"""A demo's output: live in JupyterLab, a picture and a hint for static viewers.

JupyterLab shows the widget view; nbviewer and code hosts cannot run a widget,
so the same output also carries HTML and PNG versions of the demo's first state.
"""

from __future__ import annotations

import base64
import re

import nbformat
from IPython.core.formatters import DisplayFormatter

from rflesson.course.widgets import STATIC_HINT, WIDGET_VIEW, LiveFigure, int_slider

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _demo(compute=lambda width: width) -> LiveFigure:
    return LiveFigure(
        {"width": int_slider("width", 3, 1, 9)},
        compute,
        lambda figure, width: figure.add_subplot().bar([0], [width]),
        describe=lambda width: f"width <b>{width}</b>",
    )


def _displayed(demo: LiveFigure) -> dict:
    """What IPython stores for ``demo`` as a cell's last expression."""
    data, _metadata = DisplayFormatter().format(demo)
    return data


def test_one_output_carries_the_live_widget_and_a_static_picture():
    demo = _demo()
    data = _displayed(demo)
    assert data[WIDGET_VIEW]["model_id"] == demo.widget.model_id
    picture = bytes(demo.image.value)
    assert picture.startswith(PNG_SIGNATURE)
    assert base64.b64decode(data["image/png"]) == picture
    inline = re.search(r'src="data:image/png;base64,([^"]+)"', data["text/html"]).group(1)
    assert base64.b64decode(inline) == picture
    assert "width <b>3</b>" in data["text/html"], "the summary line is part of the picture"
    assert STATIC_HINT in data["text/html"] and data["text/plain"] == STATIC_HINT
    assert "VBox(" not in data["text/plain"]


def test_static_picture_is_the_state_at_display_time():
    demo = _demo()
    first = _displayed(demo)["image/png"]
    demo.set(width=8)
    assert _displayed(demo)["image/png"] != first
    assert "width <b>8</b>" in _displayed(demo)["text/html"]


def test_a_demo_whose_first_drawing_failed_still_displays_its_explanation():
    def broken(width):
        raise RuntimeError("boom")

    demo = _demo(broken)
    data = _displayed(demo)
    assert demo.error is not None
    assert "image/png" not in data and "<img" not in data["text/html"]
    assert "Something unexpected happened" in data["text/html"]


def test_nbviewer_shows_the_picture_and_the_hint():
    """nbconvert's HTML export (what nbviewer runs) skips a widget without saved state."""
    from nbconvert import HTMLExporter

    data = _displayed(_demo())
    cell = nbformat.v4.new_code_cell("demo", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", data=data, execution_count=1)]
    page, _ = HTMLExporter().from_notebook_node(nbformat.v4.new_notebook(cells=[cell]))
    assert STATIC_HINT in page and "data:image/png;base64," in page
    assert '<script type="application/vnd.jupyter.widget-view+json">' not in page
