"""The install guard at the top of every notebook's setup cell.

Many learners open a single notebook on Colab, Kaggle or a university
JupyterHub, where rflesson is not installed.  There the guard installs the
course from its repository; wherever rflesson is importable already (``make
lab``, Binder, conda, the tests) it runs nothing and prints nothing, so the
stored outputs and nbval do not change.  The setup cell then reads::

    %matplotlib inline
    import importlib.util

    if importlib.util.find_spec("rflesson") is None:  # Colab, Kaggle, a JupyterHub: install the course
        %pip install --quiet git+https://github.com/rflesson/rflesson

    import matplotlib.pyplot as plt
    ...

``tests/test_setup_guard.py`` runs a notebook's setup cell in a fresh
environment without rflesson, installing from the local checkout.
"""

from __future__ import annotations

REPOSITORY = "rflesson/rflesson"
INSTALL_URL = f"git+https://github.com/{REPOSITORY}"
GUARD_COMMENT = "# Colab, Kaggle, a JupyterHub: install the course"
INSTALL_GUARD = (
    "import importlib.util\n"
    "\n"
    f'if importlib.util.find_spec("rflesson") is None:  {GUARD_COMMENT}\n'
    f"    %pip install --quiet {INSTALL_URL}\n"
)
INLINE_FIGURES = "%matplotlib inline"


def has_install_guard(source: str) -> bool:
    """Whether a setup cell's source contains the install guard, word for word."""
    return INSTALL_GUARD in source


def add_install_guard(source: str) -> str:
    """The setup cell ``source`` with the install guard after ``%matplotlib inline``.

    The guard goes before the first import of rflesson; a cell that has it
    already is returned unchanged.

    >>> print(add_install_guard("%matplotlib inline\\nimport rflesson as rfl"))
    %matplotlib inline
    import importlib.util
    <BLANKLINE>
    if importlib.util.find_spec("rflesson") is None:  # Colab, Kaggle, a JupyterHub: install the course
        %pip install --quiet git+https://github.com/rflesson/rflesson
    <BLANKLINE>
    import rflesson as rfl
    """
    if has_install_guard(source):
        return source
    lines = source.splitlines()
    head = [INLINE_FIGURES] if lines and lines[0].strip() == INLINE_FIGURES else []
    rest = "\n".join(lines[len(head) :]).lstrip("\n")
    return "\n".join([*head, INSTALL_GUARD, rest])
