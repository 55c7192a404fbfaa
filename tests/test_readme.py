"""The README opens with the two commands and links every lesson, locally and on Binder."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_first_code_block_is_the_two_commands():
    block = re.search(r"```bash\n(.*?)```", README, re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make lab", "make test"]


def test_every_lesson_is_linked_and_has_a_binder_and_a_colab_badge():
    from rflesson.course.setup_cell import REPOSITORY  # what the notebooks install from

    colab = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/"
    for name in NOTEBOOKS:
        assert f"(notebooks/{name})" in README, name
        assert f"?urlpath=lab/tree/notebooks/{name})" in README, name
        assert f"({colab}{name})" in README, name


def test_readme_says_how_to_stop_the_lab_and_where_student_copies_are():
    assert "Ctrl-C twice" in README and "jupyter server stop" in README
    assert "`student/`" in README


def test_every_linked_notebook_exists():
    for name in re.findall(r"notebooks/(\d\d_\w+\.ipynb)", README):
        assert name in NOTEBOOKS, f"README links a missing notebook: {name}"


def test_makefile_targets_named_in_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make ([\w-]+)", README)):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_readme_examples_run_and_print_what_they_show():
    import doctest

    failures, tried = doctest.testfile(str(ROOT / "README.md"), module_relative=False)
    assert tried >= 6 and failures == 0
