"""Keeping the Vietnamese edition in step with the English one.

The English notebooks are the one source of truth for code and numbers. The
Vietnamese words live in gettext catalogs (PO files, which Poedit and Weblate
read):

* ``notebooks/vi/po/NN_name.po``: one entry per markdown cell of the English
  notebook, keyed by the cell's id (``msgctxt``); ``msgid`` is the English
  text, ``msgstr`` the Vietnamese;
* ``rflesson/course/locale/vi/LC_MESSAGES/rflesson.po``: every string rflesson
  shows (marked with ``_()`` in ``rflesson/course``) and every template the
  notebooks pass to ``rfl.say`` / ``rfl.tr``; compiled to ``rflesson.mo``.

When an English cell or string changes, :func:`update_catalogs` marks its
entry *fuzzy* (keeping the old English as ``#| msgid`` so the translator sees
what changed); :func:`build_notebook` refuses to build from a fuzzy, missing
or outdated entry, and the tests fail until the translation is updated. Used
by ``make catalogs`` and ``make notebooks``::

    python -m rflesson.course catalogs      # update every catalog, compile the .mo
    python -m rflesson.course translate     # write notebooks/vi/ from the catalogs

Babel (a maintainers' dependency) reads and writes the catalogs; the course
itself needs only the standard library's gettext at run time.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE = "vi"
SETUP_LINE = 'rfl.set_language("en")'
NOTEBOOK_STRING_CALLS = {"say", "tr"}  # rfl.say("...", ...) and rfl.tr("...")


class CatalogError(ValueError):
    """A catalog that cannot build its notebook: entries missing, fuzzy or outdated."""


def notebook_catalog_path(notebook: Path, root: Path = ROOT) -> Path:
    """Where the catalog of an English notebook lives."""
    return root / "notebooks" / LANGUAGE / "po" / f"{Path(notebook).stem}.po"


def message_catalog_path(root: Path = ROOT) -> Path:
    """rflesson's own catalog (messages, labels, printed summaries)."""
    return root / "rflesson" / "course" / "locale" / LANGUAGE / "LC_MESSAGES" / "rflesson.po"


def english_notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# -- catalogs of notebook prose ------------------------------------------------


HEADER_COMMENT = """\
# Vietnamese edition of the rflesson course (Bản tiếng Việt của khoá học rflesson).
# Terms follow notebooks/vi/GLOSSARY.md. See CONTRIBUTING.md, "The Vietnamese edition".
#"""


def _new_catalog(old=None):
    from datetime import UTC, datetime

    from babel.messages.catalog import Catalog

    # Keep the old header's date: an update then changes only what changed.
    date = old.creation_date if old is not None else datetime.now(UTC).replace(second=0)
    return Catalog(
        locale=LANGUAGE,
        header_comment=HEADER_COMMENT,
        project="rflesson",
        version="0.1",
        msgid_bugs_address="https://github.com/rflesson/rflesson/issues",
        creation_date=date,
        revision_date=date,
        last_translator="the rflesson authors",
        language_team="Vietnamese",
        fuzzy=False,  # a fuzzy header would hide the charset from gettext
    )


def markdown_catalog(notebook, old=None):
    """The catalog of ``notebook``'s markdown cells, carrying over ``old``'s translations.

    A cell whose English is unchanged keeps its translation; a changed cell
    keeps the old translation as a suggestion but is marked fuzzy, with the old
    English as ``previous_id``; a new cell gets an empty entry.
    """
    old_by_cell = {m.context: m for m in (old or []) if m.id}
    catalog = _new_catalog(old)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        previous = old_by_cell.get(cell.id)
        string, flags, previous_id = "", set(), ()
        if previous is not None and previous.string:
            string, flags = previous.string, set(previous.flags)
            if previous.id != cell.source:
                flags.add("fuzzy")
                previous_id = previous.id if "fuzzy" not in previous.flags else previous.previous_id
            elif "fuzzy" in flags:
                previous_id = previous.previous_id
        catalog.add(
            cell.source,
            string,
            context=cell.id,
            flags=flags,
            previous_id=previous_id,
            auto_comments=[f"cell {index}"],
        )
        for context, english in student_edition_texts(cell):
            _carry_over(catalog, old_by_cell.get(context), english, context, index)
    return catalog


def student_edition_texts(cell) -> list[tuple[str, str]]:
    """The (context, English) pairs of a cell's student-edition replacements.

    A markdown cell may say, in its metadata, which of its sentences the
    student copy rewrites (``{"student_edition": {"replace": [[course, student]]}}``,
    see :mod:`rflesson.course.notebooks`); each side is translated too.
    """
    pairs = cell.metadata.get("student_edition", {}).get("replace", [])
    texts = []
    for number, (course_text, student_text) in enumerate(pairs):
        texts.append((f"{cell.id}/student/{number}/course", course_text))
        texts.append((f"{cell.id}/student/{number}/student", student_text))
    return texts


def _carry_over(catalog, previous, english: str, context: str, index: int) -> None:
    """Add one entry, keeping ``previous``'s translation (fuzzy if the English changed)."""
    string, flags = "", set()
    if previous is not None and previous.string:
        string, flags = previous.string, set(previous.flags)
        if previous.id != english:
            flags.add("fuzzy")
    catalog.add(english, string, context=context, flags=flags, auto_comments=[f"cell {index}"])


def read_catalog(path: Path):
    """A PO file as a Babel catalog (None when the file does not exist)."""
    from babel.messages.pofile import read_po

    path = Path(path)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=LANGUAGE, abort_invalid=True)


def catalog_text(catalog) -> bytes:
    """A catalog as PO text, in the order of its entries (the notebook's order)."""
    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        width=100,
        sort_output=False,
        ignore_obsolete=True,
        include_previous=True,
        omit_header=False,
    )
    return buffer.getvalue()


# -- rflesson's messages -------------------------------------------------------


def notebook_strings(notebook) -> list[tuple[str, int]]:
    """The templates a notebook's code passes to ``rfl.say`` / ``rfl.tr``, with cell numbers."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        # IPython lines (%matplotlib, !pip) are not Python: blank them out first.
        source = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line
            for line in cell.source.splitlines()
        )
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in NOTEBOOK_STRING_CALLS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((node.args[0].value, index))
    return found


def message_template(root: Path = ROOT):
    """Every string rflesson shows: ``_()``-marked strings in ``rflesson/course`` and
    the ``rfl.say`` / ``rfl.tr`` templates of the English notebooks."""
    import nbformat
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    template = Catalog(project="rflesson", version="", fuzzy=False)
    course_dir = root / "rflesson" / "course"
    keywords = {"_": None, "N_": None, "ngettext": (1, 2), "tr": None, "say": None}
    for filename, lineno, message, comments, context in extract_from_dir(
        course_dir,
        method_map=[("**.py", "python")],
        keywords=keywords,
        comment_tags=("TRANSLATORS:",),
    ):
        location = (f"rflesson/course/{filename}", lineno)
        template.add(message, locations=[location], auto_comments=comments, context=context)
    for path in english_notebooks(root):
        notebook = nbformat.read(path, as_version=4)
        for message, cell in notebook_strings(notebook):
            template.add(message, locations=[(f"notebooks/{path.name}", cell)])
    return template


def updated_message_catalog(template, old):
    """``old`` (the Vietnamese catalog) brought up to date with ``template``.

    Babel's update keeps exact matches, marks near matches fuzzy and drops
    strings rflesson no longer shows.
    """
    catalog = old if old is not None else _new_catalog()
    catalog.update(
        template, no_fuzzy_matching=False, update_header_comment=False, update_creation_date=False
    )
    catalog.obsolete.clear()
    return catalog


def compiled(catalog) -> bytes:
    """The .mo bytes the standard library's gettext reads (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def problems(catalog) -> list[str]:
    """Entries a translator still has to do: missing or fuzzy."""
    found = []
    for message in catalog:
        if not message.id:
            continue
        where = message.context or ", ".join(f"{f}:{n}" for f, n in message.locations)
        first = str(message.id if isinstance(message.id, str) else message.id[0])
        first_line = first.strip().splitlines()[0][:60] if first.strip() else "(blank)"
        if not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            found.append(f"{where}: no translation yet for {first_line!r}")
        elif message.fuzzy:
            found.append(f"{where}: the English changed; update the translation of {first_line!r}")
    return found


# -- building the Vietnamese notebooks ----------------------------------------


def translated_notebook(notebook, catalog):
    """A copy of an English notebook with its markdown in the catalog's language.

    Code cells stay identical, except that the setup cell's
    ``rfl.set_language("en")`` becomes ``rfl.set_language("vi")``. Outputs are
    cleared: the built notebook is then executed like any other.
    Raises :class:`CatalogError` listing every entry that is missing, fuzzy or
    written for an older English text.
    """
    import nbformat

    by_cell = {m.context: m for m in catalog if m.id}
    built = nbformat.from_dict(notebook)
    trouble = []
    for cell in built.cells:
        if cell.cell_type == "markdown":
            entry = by_cell.get(cell.id)
            if entry is None or not entry.string:
                trouble.append(f"cell {cell.id}: no translation")
            elif entry.fuzzy or entry.id != cell.source:
                trouble.append(f"cell {cell.id}: the English changed since it was translated")
            else:
                cell.source = entry.string
            if "student_edition" in cell.metadata:
                translated = []
                for context, english in student_edition_texts(cell):
                    entry = by_cell.get(context)
                    if entry is None or not entry.string or entry.fuzzy or entry.id != english:
                        trouble.append(f"cell {cell.id}: the student edition's text {context}")
                    else:
                        translated.append(entry.string)
                cell.metadata["student_edition"]["replace"] = [
                    list(pair) for pair in zip(translated[::2], translated[1::2], strict=True)
                ]
        elif cell.cell_type == "code":
            cell.source = cell.source.replace(SETUP_LINE, f'rfl.set_language("{LANGUAGE}")')
            cell.outputs = []
            cell.execution_count = None
    if trouble:
        raise CatalogError(
            "the Vietnamese catalog is not up to date:\n  "
            + "\n  ".join(trouble)
            + "\nRun `make catalogs`, translate the entries (Poedit, or any text editor), "
            "then `make notebooks`."
        )
    built.metadata["language"] = LANGUAGE
    return built


def same_sources(first, second) -> bool:
    """True when two notebooks have the same cells (type, id, source, metadata), outputs aside."""

    def shape(notebook):
        return [(c.cell_type, c.get("id"), c.source, dict(c.metadata)) for c in notebook.cells]

    return shape(first) == shape(second)


# -- the commands ---------------------------------------------------------------


def update_catalogs(root: Path = ROOT) -> list[str]:
    """Bring every catalog up to date with the English sources; compile the .mo.

    Returns what is left for a translator to do (empty when all is translated).
    """
    import nbformat

    todo = []
    for path in english_notebooks(root):
        target = notebook_catalog_path(path, root)
        catalog = markdown_catalog(nbformat.read(path, as_version=4), read_catalog(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(catalog_text(catalog))
        todo += [f"{target.name}: {p}" for p in problems(catalog)]
    target = message_catalog_path(root)
    catalog = updated_message_catalog(message_template(root), read_catalog(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(catalog_text(catalog))
    target.with_suffix(".mo").write_bytes(compiled(catalog))
    todo += [f"{target.name}: {p}" for p in problems(catalog)]
    return todo


def build_notebooks(root: Path = ROOT) -> list[Path]:
    """Write ``notebooks/vi/NN_name.ipynb`` for every English notebook (not executed)."""
    import nbformat

    written = []
    for path in english_notebooks(root):
        catalog = read_catalog(notebook_catalog_path(path, root))
        if catalog is None:
            raise CatalogError(f"no catalog for {path.name}: run `make catalogs` first")
        built = translated_notebook(nbformat.read(path, as_version=4), catalog)
        target = root / "notebooks" / LANGUAGE / path.name
        nbformat.write(built, target)
        written.append(target)
    return written


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def relative_links(markdown: str) -> list[str]:
    """The relative link targets in a markdown text (web links and anchors left out)."""
    return [t for t in _LINK.findall(markdown) if not re.match(r"[a-z]+:", t)]
