"""The list of lessons, read from the notebooks themselves."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from .i18n import N_, _

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
START_PAGE = "00_start_here.ipynb"
COURSE_PAGE = "https://github.com/rflesson/rflesson#the-course"
NOT_FOUND = N_(
    "The list of lessons is read from the course's notebooks, which are not beside this "
    "one; the lessons are listed at {url}"
)
# The first cell of a lesson gives its time, in English or in Vietnamese.
TIME_PATTERN = re.compile(r"(?:estimated time|thời gian dự kiến)\W+(\d+)", re.IGNORECASE)


class CourseMap(list):
    """The lessons as (file, title, minutes) rows; shows as a linked table.

    Empty when the notebooks could not be found: it then shows where the
    lessons are listed online instead.
    """

    def _repr_html_(self) -> str:
        if not self:
            link = f'<a href="{COURSE_PAGE}">{html.escape(COURSE_PAGE)}</a>'
            return f"<p>{_(NOT_FOUND).format(url=link)}</p>"
        minutes_text = _("{minutes} min")
        rows = "".join(
            f'<tr><td><a href="{name}">{html.escape(title)}</a></td>'
            f"<td>{minutes_text.format(minutes=minutes)}</td></tr>"
            for name, title, minutes in self
        )
        total = minutes_text.format(minutes=sum(row[2] for row in self))
        lesson, time, total_label = _("lesson"), _("time"), _("total")
        return (
            f"<table><tr><th>{lesson}</th><th>{time}</th></tr>"
            f"{rows}<tr><td><b>{total_label}</b></td><td><b>{total}</b></td></tr></table>"
        )

    def __repr__(self) -> str:
        if not self:
            return _(NOT_FOUND).format(url=COURSE_PAGE)
        minutes_text = _("{minutes} min")
        lines = [
            f"{title:<48} {minutes_text.format(minutes=f'{minutes:>4}')}"
            for _name, title, minutes in self
        ]
        return "\n".join(lines)


def find_notebook_dir() -> Path | None:
    """The folder holding the course's notebooks, or None where there is none.

    The running notebook's folder (the working directory) comes first: it
    holds the lessons the learner has open, also for student copies or a
    course installed from git (as on Colab), whose notebooks are not beside
    the package.  Then the checkout the package was installed from.
    """
    for folder in (Path.cwd(), NOTEBOOK_DIR):
        if (folder / START_PAGE).is_file():
            return folder
    return None


def _lesson_row(path: Path) -> tuple[str, str, int]:
    """(file, title, minutes) from a notebook's first cell; the file name if unreadable."""
    try:
        first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
        text = "".join(first["source"])
        title = text.splitlines()[0].lstrip("# ").strip()
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return path.name, path.stem, 0
    minutes = TIME_PATTERN.search(text)
    return path.name, title, int(minutes.group(1)) if minutes else 0


def course_map(notebook_dir: str | Path | None = None) -> CourseMap:
    """Read each lesson's title and estimated time from its first cell.

    The table in the start page is built from the notebooks themselves, so it
    can never disagree with them.  ``notebook_dir`` defaults to
    :func:`find_notebook_dir`; where no notebooks are found the map is empty
    and says where the lessons are listed online.
    """
    folder = Path(notebook_dir) if notebook_dir is not None else find_notebook_dir()
    if folder is None:
        return CourseMap()
    return CourseMap(_lesson_row(path) for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")))
