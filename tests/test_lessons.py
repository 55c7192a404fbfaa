"""The course map in the start page: read from the notebooks, wherever they are."""

from __future__ import annotations

import shutil
from pathlib import Path

from rflesson.course import lessons
from rflesson.course.lessons import COURSE_PAGE, START_PAGE, course_map

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"


def test_map_lists_every_lesson_with_its_title_and_time():
    rows = course_map(NOTEBOOK_DIR)
    assert [name for name, _, _ in rows] == sorted(p.name for p in NOTEBOOK_DIR.glob("0*.ipynb"))
    assert rows[0][:2] == (START_PAGE, "00 · Start here")
    assert all(minutes > 0 for _, _, minutes in rows)
    assert f'<a href="{START_PAGE}">' in rows._repr_html_()


def test_notebooks_beside_the_running_notebook_come_first(tmp_path, monkeypatch):
    """Student copies, or a course installed from git: the working directory's lessons."""
    for name in (START_PAGE, "01_biology.ipynb"):
        shutil.copy(NOTEBOOK_DIR / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    assert [name for name, _, _ in course_map()] == [START_PAGE, "01_biology.ipynb"]


def test_beside_the_package_when_the_working_directory_has_no_course(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert course_map() == course_map(NOTEBOOK_DIR)


def test_without_notebooks_the_map_says_where_the_lessons_are(tmp_path, monkeypatch):
    """Installed from git (as on Colab): no notebooks beside the package, none here."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lessons, "NOTEBOOK_DIR", tmp_path / "site-packages" / "notebooks")
    found = course_map()
    assert found == []
    assert COURSE_PAGE in repr(found)
    assert f'<a href="{COURSE_PAGE}">' in found._repr_html_()


def test_an_unreadable_notebook_is_listed_by_its_file_name(tmp_path):
    shutil.copy(NOTEBOOK_DIR / START_PAGE, tmp_path / START_PAGE)
    (tmp_path / "01_broken.ipynb").write_text("{not json", encoding="utf-8")
    rows = course_map(tmp_path)
    assert rows[1] == ("01_broken.ipynb", "01_broken", 0)
    assert "01_broken" in repr(rows)
