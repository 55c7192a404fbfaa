"""rflesson.tables: aligned text and HTML from the same cells."""

from rflesson.course.tables import html_table, text_table


def test_text_columns_are_padded_to_the_widest_cell():
    lines = text_table(("a", "long header"), [("wide cell", "1"), ("x", "22")]).splitlines()
    assert lines[0] == "a          long header"
    assert lines[1].startswith("wide cell  1") and lines[2].startswith("x          22")
    assert len({line.index(c) for line, c in zip(lines, "l12", strict=True)}) == 1


def test_html_has_one_row_per_row_and_escapes_cells():
    table = html_table(("name", "size"), [("<b>", "1"), ("y", "2")])
    assert table.count("<tr>") == 3 and "&lt;b&gt;" in table and "<th>size</th>" in table
