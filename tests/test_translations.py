"""The Vietnamese edition can never silently fall behind the English one.

The English notebooks are the one source of code and numbers; the Vietnamese
words live in gettext catalogs (see :mod:`rflesson.course.translations`).
These tests fail when an English cell changed and its translation did not,
when a code cell differs between the editions, when a string rflesson shows
has no Vietnamese, and when ``notebooks/vi/`` is stale against its sources.
The last tests show, on a scratch copy, that the mechanism really fails.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

import rflesson as rfl
from rflesson.course import translations as t

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = t.english_notebooks(ROOT)
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _vietnamese(path: Path) -> Path:
    return ROOT / "notebooks" / t.LANGUAGE / path.name


@pytest.fixture(params=ENGLISH, ids=[p.stem for p in ENGLISH])
def english(request) -> Path:
    return request.param


def test_every_english_cell_is_translated_and_up_to_date(english):
    catalog = t.read_catalog(t.notebook_catalog_path(english, ROOT))
    assert catalog is not None, f"no catalog for {english.name}: run `make catalogs`"
    fresh = t.markdown_catalog(_read(english), catalog)  # what `make catalogs` would write
    assert t.problems(fresh) == [], "translate these entries, then `make notebooks`"
    assert t.catalog_text(fresh) == t.catalog_text(catalog), "run `make catalogs`"


def test_vietnamese_notebook_is_built_from_its_sources(english):
    catalog = t.read_catalog(t.notebook_catalog_path(english, ROOT))
    built = t.translated_notebook(_read(english), catalog)
    stored = _vietnamese(english)
    assert stored.exists(), f"{stored} is missing: run `make notebooks`"
    assert t.same_sources(built, _read(stored)), f"{stored.name} is stale: run `make notebooks`"


def test_code_cells_are_the_same_in_both_editions(english):
    english_cells = [c for c in _read(english).cells if c.cell_type == "code"]
    vietnamese_cells = [c for c in _read(_vietnamese(english)).cells if c.cell_type == "code"]
    assert len(english_cells) == len(vietnamese_cells)
    setup = [c for c in english_cells if t.SETUP_LINE in c.source]
    assert len(setup) == 1 and setup[0].source.count(t.SETUP_LINE) == 1, "one language line"
    chosen = f'rfl.set_language("{t.LANGUAGE}")'
    for ours, theirs in zip(english_cells, vietnamese_cells, strict=True):
        assert theirs.source == ours.source.replace(t.SETUP_LINE, chosen)


def test_every_string_rflesson_shows_has_vietnamese():
    catalog = t.read_catalog(t.message_catalog_path(ROOT))
    fresh = t.updated_message_catalog(
        t.message_template(ROOT), t.read_catalog(t.message_catalog_path(ROOT))
    )
    assert t.problems(fresh) == [], "translate these strings (`make catalogs` lists them)"
    assert t.catalog_text(fresh) == t.catalog_text(catalog), "run `make catalogs`"
    stored = t.message_catalog_path(ROOT).with_suffix(".mo").read_bytes()
    assert stored == t.compiled(catalog), "rflesson.mo is older than rflesson.po: `make catalogs`"


def test_translations_fill_the_same_placeholders():
    catalog = t.read_catalog(t.message_catalog_path(ROOT))
    for message in catalog:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        fields = {field for text in english for field in PLACEHOLDER.findall(text)}
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            assert set(PLACEHOLDER.findall(text)) == fields, (message.id, text)


def test_no_translated_call_hides_inside_an_f_string():
    """Babel cannot see ``_()`` inside an f-string on Python 3.11: it would never be translated."""
    hidden = re.compile(r"""f(["']).*?\{\s*(_|ngettext|tr)\(\s*["']""")
    for path in sorted((ROOT / "rflesson" / "course").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not hidden.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks" / t.LANGUAGE).glob("*.ipynb")))
def test_vietnamese_links_resolve(path):
    for cell in _read(path).cells:
        if cell.cell_type == "markdown":
            for target in t.relative_links(cell.source):
                assert (path.parent / target).exists(), f"{path.name}: broken link {target}"


def test_language_switches_and_comes_back():
    try:
        rfl.set_language("vi")
        assert rfl.current_language() == "vi"
        assert rfl.tr("lesson") != "lesson"
    finally:
        rfl.set_language("en")
    assert rfl.tr("lesson") == "lesson"
    with pytest.raises(ValueError, match="language must be one of"):
        rfl.set_language("fr")


# -- the mechanism fails when it should (on a scratch copy) ---------------------


@pytest.fixture
def scratch(tmp_path):
    """A copy of notebook 00, its catalog and its Vietnamese edition."""
    (tmp_path / "notebooks" / "vi" / "po").mkdir(parents=True)
    name = "00_start_here"
    shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", tmp_path / "notebooks")
    shutil.copy(ROOT / "notebooks" / "vi" / f"{name}.ipynb", tmp_path / "notebooks" / "vi")
    shutil.copy(t.notebook_catalog_path(Path(name), ROOT), tmp_path / "notebooks" / "vi" / "po")
    return tmp_path / "notebooks" / f"{name}.ipynb"


def test_a_changed_english_cell_marks_its_translation_fuzzy(scratch):
    notebook = _read(scratch)
    notebook.cells[0].source += "\n\nA new sentence."
    old = t.read_catalog(t.notebook_catalog_path(scratch, scratch.parents[1]))
    updated = t.markdown_catalog(notebook, old)
    assert any("the English changed" in problem for problem in t.problems(updated))
    with pytest.raises(t.CatalogError, match="the English changed"):
        t.translated_notebook(notebook, updated)


def test_a_new_english_cell_needs_a_translation(scratch):
    notebook = _read(scratch)
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell("A new paragraph."))
    old = t.read_catalog(t.notebook_catalog_path(scratch, scratch.parents[1]))
    with pytest.raises(t.CatalogError, match="no translation"):
        t.translated_notebook(notebook, t.markdown_catalog(notebook, old))


def test_a_changed_code_cell_makes_the_vietnamese_notebook_stale(scratch):
    notebook = _read(scratch)
    code = next(c for c in notebook.cells if c.cell_type == "code" and "rfl." in c.source)
    code.source += "\nprint(1)"
    catalog = t.read_catalog(t.notebook_catalog_path(scratch, scratch.parents[1]))
    built = t.translated_notebook(notebook, catalog)
    assert not t.same_sources(built, _read(scratch.parent / "vi" / scratch.name))


def test_an_unchanged_catalog_is_written_byte_for_byte(scratch):
    path = t.notebook_catalog_path(scratch, scratch.parents[1])
    before = path.read_bytes()
    catalog = t.markdown_catalog(_read(scratch), t.read_catalog(path))
    assert t.catalog_text(catalog) == before
