"""Student copies: solutions become stubs, and each copy runs up to its first stub."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rflesson.course.notebooks import (
    STUB_MARK,
    STUDENT_EDITION_KEY,
    solution_stub,
    student_copy,
    student_markdown,
    write_student_copies,
)

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


def test_student_markdown_replaces_each_sentence_once():
    edition = {"replace": [["answers are filled in", "answer cells are blank"]]}
    assert student_markdown("Here the answers are filled in.", edition) == (
        "Here the answer cells are blank."
    )
    with pytest.raises(ValueError, match="exactly once.*found 0"):
        student_markdown("Someone reworded this sentence.", edition)
    with pytest.raises(ValueError, match="found 2"):
        student_markdown("answers are filled in; answers are filled in", edition)


def test_start_page_speaks_to_each_edition():
    path = NOTEBOOKS[0]
    assert path.name == "00_start_here.ipynb"
    course = nbformat.read(path, 4)
    copy = student_copy(course)
    course_text = "\n".join(c.source for c in course.cells if c.cell_type == "markdown")
    student_text = "\n".join(c.source for c in copy.cells if c.cell_type == "markdown")
    assert "already hold the right answers" in course_text
    assert "already hold the right answers" not in student_text
    assert "✏️ your answer" in student_text and "✏️" not in course_text
    assert STUB_MARK.lstrip("# ") in "".join(c.source for c in copy.cells)
    assert not any(STUDENT_EDITION_KEY in c.metadata for c in copy.cells)
    assert any(STUDENT_EDITION_KEY in c.metadata for c in course.cells)  # the original is kept
    # The start page promises exercises: they exist, with a check after each answer cell.
    assert "three exercises" in course_text
    solutions = [c for c in course.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) == 3


def test_every_student_edition_text_still_matches_its_notebook():
    # A sentence edited in a notebook without its student twin must fail here, not in class.
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, 4).cells:
            if STUDENT_EDITION_KEY in cell.metadata:
                assert cell.cell_type == "markdown", path.name
                student_markdown(cell.source, cell.metadata[STUDENT_EDITION_KEY])


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
