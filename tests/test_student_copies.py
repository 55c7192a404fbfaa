"""Student copies: solutions become stubs, and each copy runs up to its first stub."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rflesson.course.notebooks import STUB_MARK, solution_stub, student_copy, write_student_copies

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")
)


def test_stub_keeps_comments_and_blanks_answers():
    source = "# three layers of 3x3\nanswer_rf = 7\nanswer_a, answer_b = 1, 2"
    stub = solution_stub(source)
    assert "# three layers of 3x3" in stub
    assert f"answer_rf = ...  {STUB_MARK}" in stub
    assert "answer_a = ..." in stub and "answer_b = ..." in stub
    assert "7" not in stub


def test_stub_rejects_a_solution_without_an_answer():
    with pytest.raises(ValueError, match="assign"):
        solution_stub("print(7)")


def test_every_notebook_has_solutions_and_copies_hide_them(tmp_path):
    written = write_student_copies(NOTEBOOKS[0].parent, tmp_path)
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    for original, copy in zip(NOTEBOOKS, written, strict=True):
        solutions = [
            c for c in nbformat.read(original, 4).cells if "solution" in c.metadata.get("tags", [])
        ]
        assert solutions, f"{original.name} has no exercise solution cells"
        cells = nbformat.read(copy, 4).cells
        stubs = [c for c in cells if STUB_MARK in c.source]
        assert len(stubs) == len(solutions)
        assert all(c.get("outputs", []) == [] for c in cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_runs_to_its_first_stub(path, tmp_path):
    copy = student_copy(nbformat.read(path, 4))
    first_stub = next(i for i, c in enumerate(copy.cells) if STUB_MARK in c.source)
    copy.cells = copy.cells[: first_stub + 2]  # the stub and the check after it
    client = NotebookClient(
        copy, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any error
    outputs = [o for c in copy.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    check_output = copy.cells[first_stub + 1].outputs
    if "rfl.check" in copy.cells[first_stub + 1].source:
        assert "No answer yet" in str(check_output)
