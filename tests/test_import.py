"""The tool imports without the course's libraries (issue: a light import)."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_bare_import_loads_neither_matplotlib_nor_ipywidgets():
    loaded = _modules_after("import rflesson")
    assert "matplotlib" not in loaded
    assert "ipywidgets" not in loaded


def test_the_tool_runs_without_the_course():
    loaded = _modules_after(
        "import rflesson as rfl\n"
        "assert rfl.receptive_field([rfl.Layer(3)] * 2).size == 5\n"
        "rfl.erf_stats(rfl.erf_map(rfl.conv_stack(depth=2), 9, n=2))"
    )
    assert "matplotlib" not in loaded and "ipywidgets" not in loaded


def test_course_names_are_handed_on_lazily():
    loaded = _modules_after("import rflesson as rfl\nrfl.check")
    assert "matplotlib" in loaded and "rflesson.course" in loaded


def test_unknown_names_raise_attribute_error():
    import pytest

    import rflesson

    with pytest.raises(AttributeError, match="no_such_name"):
        rflesson.no_such_name  # noqa: B018
