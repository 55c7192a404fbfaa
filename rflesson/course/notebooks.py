"""Maintaining the course's notebooks: execute them, and make student copies.

Used by ``make notebooks``, ``make student``, Binder's ``postBuild`` and the
tests::

    python -m rflesson.course execute notebooks/*.ipynb
    python -m rflesson.course student notebooks student
    python -m rflesson.course catalogs     # Vietnamese edition: update the catalogs
    python -m rflesson.course translate    # Vietnamese edition: write notebooks/vi/

A student copy differs from the course's own notebook in three ways:

* every code cell tagged ``solution`` becomes a stub (``answer = ...  # ✏️ your answer``);
* every output is cleared;
* a markdown cell may carry sentences written for the student edition.  Its
  metadata holds pairs of (text in the course's notebook, text in the student
  copy)::

      "metadata": {"student_edition": {"replace": [
          ["In this copy the answers are already filled in.",
           "In your copy the answer cells are blank."]
      ]}}

  Each first text must occur exactly once in the cell, or the copy is not
  made: an edit of the sentence that forgets its student twin fails loudly.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOLUTION_TAG = "solution"
STUB_MARK = "# ✏️ your answer"
#: Markdown-cell metadata key holding the student edition's replacements.
STUDENT_EDITION_KEY = "student_edition"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def execute_notebook(path: str | Path, timeout: int = 600):
    """Run a notebook top to bottom in a fresh ``python3`` kernel and save it in place."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=False,
    )
    client.execute()
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    return notebook


def solution_stub(source: str) -> str:
    """Replace a solution by a stub: keep its comments, blank every answer.

    ``answer = 7  # three layers`` becomes ``answer = ...  # ✏️ your answer``.
    """
    comments = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    names: list[str] = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id not in names:
                    names.append(name.id)
    if not names:
        raise ValueError(f"a solution cell must assign an answer variable:\n{source}")
    return "\n".join(comments + [f"{name} = ...  {STUB_MARK}" for name in names])


def student_markdown(source: str, edition: dict) -> str:
    """The student edition of a markdown cell: apply its ``replace`` pairs.

    >>> student_markdown("The answers are filled in.", {"replace": [["filled in", "blank"]]})
    'The answers are blank.'
    """
    for old, new in edition.get("replace", []):
        count = source.count(old)
        if count != 1:
            raise ValueError(
                f"a student-edition replacement must match its cell exactly once, "
                f"found {count} times: {old!r}"
            )
        source = source.replace(old, new)
    return source


def student_copy(notebook):
    """A learner's copy: solutions become stubs, student-edition text replaces the
    course's, and every output is cleared."""
    import nbformat

    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        if cell.cell_type == "markdown" and STUDENT_EDITION_KEY in cell.metadata:
            cell.source = student_markdown(cell.source, cell.metadata.pop(STUDENT_EDITION_KEY))
        if cell.cell_type != "code":
            continue
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            cell.source = solution_stub(cell.source)
        cell.outputs = []
        cell.execution_count = None
    return copy


def write_student_copies(source_dir: str | Path, target_dir: str | Path) -> list[Path]:
    """Write a student copy of every notebook in ``source_dir`` to ``target_dir``."""
    import nbformat

    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        nbformat.write(student_copy(notebook), target / path.name)
        written.append(target / path.name)
    return written


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "execute":
        for name in argv[1:]:
            print(f"executing {name}", flush=True)
            execute_notebook(name)
        return 0
    if len(argv) == 3 and argv[0] == "student":
        for path in write_student_copies(argv[1], argv[2]):
            print(f"wrote {path}")
        return 0
    if argv == ["catalogs"]:
        from .translations import update_catalogs

        todo = update_catalogs()
        print("\n".join(todo) if todo else "every catalog is translated and up to date")
        return 0
    if argv == ["translate"]:
        from .translations import CatalogError, build_notebooks

        try:
            for path in build_notebooks():
                print(f"wrote {path}")
        except CatalogError as error:
            print(error)
            return 1
        return 0
    print(__doc__)
    return 2
