"""Every notebook follows the course template and is stored freshly executed.

nbval (run separately with ``--nbval``) checks that the stored outputs match a
fresh run; this file checks the notebooks' shape: title, objectives, time,
summary, a link onward, the kernel, one clean top-to-bottom execution, and
that tags are used as the course intends.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
# The English course and its Vietnamese edition follow the same template.
EDITIONS = {"en": NOTEBOOK_DIR, "vi": NOTEBOOK_DIR / "vi"}
NOTEBOOKS = [
    path for folder in EDITIONS.values() for path in sorted(folder.glob("[0-9][0-9]_*.ipynb"))
]
# The template's words in each edition (the Vietnamese ones from notebooks/vi/GLOSSARY.md).
TEMPLATE_WORDS = {
    "en": {"objectives": "learning objectives", "time": "estimated time", "summary": "summary", "next": "Next"},
    "vi": {"objectives": "mục tiêu bài học", "time": "thời gian dự kiến", "summary": "tóm tắt", "next": "Tiếp theo"},
}  # fmt: skip
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IGNORE_REASON = "nbval-ignore-reason"


def _load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _markdown(notebook) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def _code_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code"]


def _words(path: Path) -> dict[str, str]:
    return TEMPLATE_WORDS["vi" if path.parent == EDITIONS["vi"] else "en"]


@pytest.mark.parametrize("edition", EDITIONS)
def test_course_has_a_start_page_and_numbered_lessons(edition):
    names = [p.name for p in sorted(EDITIONS[edition].glob("[0-9][0-9]_*.ipynb"))]
    assert names and names[0] == "00_start_here.ipynb"
    numbers = [int(name[:2]) for name in names]
    assert numbers == list(range(len(numbers))), f"notebooks are not numbered 00, 01, ...: {names}"


@pytest.fixture(params=NOTEBOOKS, ids=[str(p.relative_to(NOTEBOOK_DIR)) for p in NOTEBOOKS])
def notebook_path(request) -> Path:
    return request.param


def test_title_objectives_and_time(notebook_path):
    notebook = _load(notebook_path)
    words = _words(notebook_path)
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert re.match(rf"# {notebook_path.name[:2]} · \S", first.source), "title '# NN · ...'"
    assert words["objectives"] in first.source.lower()
    assert re.search(rf"{words['time']}\W+\d+", first.source, re.IGNORECASE)


def test_summary_and_link_to_next(notebook_path):
    notebook = _load(notebook_path)
    words = _words(notebook_path)
    text = _markdown(notebook)
    summary = rf"^## .*{words['summary']}"
    assert re.search(summary, text, re.IGNORECASE | re.MULTILINE), "a '## Summary'"
    number = int(notebook_path.name[:2])
    siblings = notebook_path.parent.glob("[0-9][0-9]_*.ipynb")
    later = sorted(p.name for p in siblings if int(p.name[:2]) > number)
    target = later[0] if later else "00_start_here.ipynb"
    link = re.search(rf"\*\*{words['next']}:?\*\*:?\s*\[[^\]]+\]\(([^)]+)\)", text)
    assert link, "a '**Next:** [title](file.ipynb)' link"
    assert link.group(1) == target, f"Next should point to {target}"
    for linked in re.findall(r"\]\((\d\d_[\w]+\.ipynb)\)", text):
        assert (notebook_path.parent / linked).exists(), f"link to a missing notebook: {linked}"


def test_kernel_is_python3(notebook_path):
    assert _load(notebook_path).metadata["kernelspec"]["name"] == "python3"


def test_executed_once_top_to_bottom_without_errors(notebook_path):
    cells = _code_cells(_load(notebook_path))
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "re-run with `make notebooks`"
    for cell in cells:
        for output in cell.outputs:
            assert output.output_type != "error", f"stored error in:\n{cell.source}"
            if output.output_type == "stream":
                assert output.name != "stderr" or "Warning" not in output.text, output.text


def _asserts(source: str) -> bool:
    """Whether a cell's code (IPython magics allowed) contains an ``assert`` statement."""
    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def ignore_output_problem(cell) -> str | None:
    """What is wrong with a cell's use of ``nbval-ignore-output`` (None if nothing).

    The tag goes on every demo, and otherwise only on a cell whose output truly
    varies by machine: such a cell records why in its metadata
    (``"nbval-ignore-reason": "<why>"``) and asserts the claim its output supports,
    so that it still fails when the claim breaks.
    """
    tags = cell.metadata.get("tags", [])
    tagged = "nbval-ignore-output" in tags
    reason = str(cell.metadata.get(IGNORE_REASON, "")).strip()
    if "nbval-skip" in tags:
        return "no cell may be skipped (nbval-skip)"
    if any(WIDGET_VIEW in output.get("data", {}) for output in cell.outputs):
        return None if tagged else "a widget cell must be tagged nbval-ignore-output"
    if IGNORE_REASON in cell.metadata and not tagged:
        return f"{IGNORE_REASON} on a cell not tagged nbval-ignore-output"
    if not tagged:
        return None
    if not reason:
        return (
            "nbval-ignore-output on a cell without a widget needs a recorded reason: "
            f'cell metadata "{IGNORE_REASON}": "<why>"'
        )
    if not _asserts(cell.source):
        return "a cell whose output nbval ignores must assert the claim it supports"
    return None


def test_only_widget_cells_and_recorded_reasons_skip_output_comparison(notebook_path):
    for cell in _code_cells(_load(notebook_path)):
        problem = ignore_output_problem(cell)
        assert problem is None, f"{problem}:\n{cell.source}"


def _cell(source: str, tags=(), widget=False, **metadata):
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(tags), **metadata})
    data = {WIDGET_VIEW: {"model_id": "m"}} if widget else {"text/plain": "0.87"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    return cell


@pytest.mark.parametrize(
    "cell, wrong",
    [
        (_cell("rfl.demo()", ["nbval-ignore-output"], widget=True), False),
        (_cell("rfl.demo()", widget=True), True),
        (_cell("print(accuracy)"), False),
        (_cell("print(accuracy)", ["nbval-ignore-output"]), True),
        (_cell("print(accuracy)", ["nbval-ignore-output"], **{IGNORE_REASON: " "}), True),
        (_cell("print(accuracy)", ["nbval-ignore-output"], **{IGNORE_REASON: "CPU"}), True),
        (_cell("# assert accuracy > 0.8", ["nbval-ignore-output"], **{IGNORE_REASON: "CPU"}), True),
        (
            _cell("%time x = 1\nassert x > 0.8", ["nbval-ignore-output"], **{IGNORE_REASON: "CPU"}),
            False,
        ),
        (_cell("assert accuracy > 0.8", **{IGNORE_REASON: "CPU"}), True),
        (_cell("rfl.demo()", ["nbval-ignore-output", "nbval-skip"], widget=True), True),
    ],
)
def test_the_ignore_output_rule_itself(cell, wrong):
    assert (ignore_output_problem(cell) is not None) == wrong


def test_solution_cells_only_assign_answers(notebook_path):
    from rflesson.course.notebooks import solution_stub

    for cell in _code_cells(_load(notebook_path)):
        if "solution" in cell.metadata.get("tags", []):
            assert "= ..." in solution_stub(cell.source)
