"""Small tables of results, shown as aligned text in a terminal and as HTML in a notebook.

>>> print(text_table(("name", "size"), [("plain", "13.7"), ("deeper", "27.1")]))
name    size
plain   13.7
deeper  27.1
"""

from __future__ import annotations

import html
from collections.abc import Sequence


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    table = [tuple(headers), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in table
    )


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The same cells as an HTML table (what a notebook displays)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
