"""The language the course speaks: English by default, Vietnamese on request.

Every string a learner reads from rflesson (exercise feedback, demo readouts,
figure titles and labels, printed summaries) goes through :func:`_` when it is
shown. The translations live in gettext catalogs (``locale/vi/LC_MESSAGES/
rflesson.po``, compiled to ``rflesson.mo`` that the standard library reads), so
translators can use the usual tools (Poedit, Weblate).

A notebook chooses its language once, in its setup cell::

    rfl.set_language("vi")   # Tiếng Việt; "en" is the default

Three rules for code that shows text:

* wrap the whole sentence, placeholders included, and fill it afterwards:
  ``_("ERF size {size:.1f} px").format(size=s)``; never an f-string inside
  ``_()`` (the catalog would need one entry per number);
* translate when the text is shown, not at import time: a module-level
  constant is marked with :func:`N_` and passed through :func:`_` where used;
* notebooks print with :func:`say` and label with :func:`tr`, so that the same
  code cell speaks both languages.
"""

from __future__ import annotations

import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "rflesson"
LANGUAGES = {"en": "English", "vi": "Tiếng Việt"}

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def set_language(language: str) -> None:
    """Speak ``language`` ("en" or "vi") from now on, in every message and figure.

    >>> set_language("en")
    """
    global _current, _language
    if language not in LANGUAGES:
        allowed = ", ".join(f"{code!r} ({name})" for code, name in LANGUAGES.items())
        raise ValueError(f"language must be one of {allowed}; got {language!r}")
    if language == "en":
        _current = gettext.NullTranslations()
    else:
        _current = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    _language = language


def current_language() -> str:
    """The language messages are shown in: "en" or "vi"."""
    return _language


def _(message: str) -> str:
    """``message`` in the current language (itself when there is no translation)."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count``, in the current language.

    >>> ngettext("{n} unit", "{n} units", 1).format(n=1)
    '1 unit'
    """
    return _current.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it yet (for constants)."""
    return message


def tr(message: str, **values: object) -> str:
    """A label in the current language, filled with ``values``: for notebook code.

    >>> tr("column from the centre")
    'column from the centre'
    """
    text = _(message)
    return text.format(**values) if values else text


def say(message: str, **values: object) -> None:
    """Print ``message`` in the current language, filled with ``values``.

    Notebooks print through this, so that one code cell serves both editions:

    >>> say("ERF size {size:.1f} px", size=13.94)
    ERF size 13.9 px
    """
    print(tr(message, **values))
