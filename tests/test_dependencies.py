"""The three dependency lists (pip, conda, Binder) must not drift apart."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PIP = {"pytorch-cpu": "torch"}
CONDA_ONLY = {"python", "pip"}


def _requirement(text: str) -> tuple[str, str]:
    """Split 'torch>=2.2' (or 'torch=2.2') into ('torch', '>=2.2')."""
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", text.strip())
    return match.group(1).lower(), match.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["course"]
    return dict(_requirement(r) for r in wanted)


def conda_requirements(path: Path) -> dict[str, str]:
    """The conda packages of an environment file (pip sub-list excluded)."""
    found = {}
    text = path.read_text()
    for line in text[text.index("dependencies:") :].splitlines():
        match = re.fullmatch(r"  - ([^\s:#]+)", line.rstrip())
        if match:
            name, spec = _requirement(match.group(1))
            if name not in CONDA_ONLY:
                found[CONDA_TO_PIP.get(name, name)] = spec
    return found


def test_binder_matches_pyproject():
    assert conda_requirements(ROOT / "binder/environment.yml") == pyproject_requirements()


def test_root_environment_matches_pyproject():
    assert conda_requirements(ROOT / "environment.yml") == pyproject_requirements()


def test_environments_pin_python_311_and_cpu_torch():
    for path in (ROOT / "binder/environment.yml", ROOT / "environment.yml"):
        text = path.read_text()
        assert "  - python=3.11\n" in text and "pytorch-cpu" in text and "conda-forge" in text


def test_makefile_pins_the_cpu_wheel_and_pyproject_keeps_a_range():
    assert "TORCH_PIN ?= torch==2.13.0" in (ROOT / "Makefile").read_text()
    assert pyproject_requirements()["torch"] == ">=2.2"


def test_postbuild_installs_package_without_dependencies():
    text = (ROOT / "binder/postBuild").read_text()
    assert "set -e" in text and "pip install --no-deps -e ." in text
    assert "rflesson.course student" in text


MAINTAINER_TOOLS = {"pytest", "nbval", "ruff", "hypothesis", "playwright"}


def _extra(name: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_requirement(r)[0] for r in project["optional-dependencies"][name]}


def test_learners_get_the_course_and_maintainers_their_tools():
    assert "jupyterlab" in _extra("course")
    assert not MAINTAINER_TOOLS & _extra("course"), "`make lab` must not install these"
    assert MAINTAINER_TOOLS <= _extra("dev")


def test_make_lab_installs_the_course_extra_and_make_test_adds_dev():
    makefile = (ROOT / "Makefile").read_text()
    lab = re.search(r"^\$\(LAB_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    test = re.search(r"^\$\(TEST_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert '"$(TORCH_PIN)" -e ".[course]"' in lab and "dev" not in lab
    assert '"$(TORCH_PIN)" -e ".[course,dev]"' in test
    assert '--no-deps "$(TORCHVISION_PIN)"' in test
    assert re.search(r"^lab: setup\b", makefile, re.MULTILINE), "make lab needs only the lab set"
    assert re.search(r"^test: lint nbval-portable$", makefile, re.MULTILINE)
