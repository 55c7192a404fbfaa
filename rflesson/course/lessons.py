"""The list of lessons, read from the notebooks themselves."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"


class CourseMap(list):
    """The lessons as (file, title, minutes) rows; shows as a linked table."""

    def _repr_html_(self) -> str:
        rows = "".join(
            f'<tr><td><a href="{name}">{html.escape(title)}</a></td><td>{minutes} min</td></tr>'
            for name, title, minutes in self
        )
        total = sum(minutes for _, _, minutes in self)
        return (
            "<table><tr><th>lesson</th><th>time</th></tr>"
            f"{rows}<tr><td><b>total</b></td><td><b>{total} min</b></td></tr></table>"
        )

    def __repr__(self) -> str:
        lines = [f"{title:<48} {minutes:>4} min" for _, title, minutes in self]
        return "\n".join(lines)


def course_map(notebook_dir: str | Path = NOTEBOOK_DIR) -> CourseMap:
    """Read each lesson's title and estimated time from its first cell.

    The table in the start page is built from the notebooks themselves, so it
    can never disagree with them.
    """
    rows = CourseMap()
    for path in sorted(Path(notebook_dir).glob("[0-9][0-9]_*.ipynb")):
        first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
        text = "".join(first["source"])
        title = text.splitlines()[0].lstrip("# ").strip()
        minutes = re.search(r"estimated time\W+(\d+)", text, re.IGNORECASE)
        rows.append((path.name, title, int(minutes.group(1)) if minutes else 0))
    return rows
