"""The notebooks' install guard, run where rflesson is missing (as on Colab).

A fresh virtual environment without rflesson runs a notebook's setup cell in
IPython.  The guard's ``%pip install git+https://github.com/rflesson/rflesson``
reaches a snapshot of this checkout instead of GitHub: git's ``insteadOf``
rewrites the URL, so the cell runs word for word and nothing is downloaded.
Torch and the rest come from this environment's site-packages (a ``.pth``
file pointing to a copy of it without rflesson), which keeps the test quick.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from rflesson.course.lessons import COURSE_PAGE
from rflesson.course.setup_cell import (
    INSTALL_GUARD,
    INSTALL_URL,
    add_install_guard,
    has_install_guard,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GITHUB_URL = INSTALL_URL.removeprefix("git+")
DONE = "setup cell finished; rflesson from"
PIP_MAGIC_NOTE = "you may need to restart the kernel"  # %pip prints it after every run


def _setup_cell(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


def _shared_packages_without_rflesson(target: Path) -> Path:
    """A directory of links to this environment's packages, rflesson left out."""
    target.mkdir()
    for directory in site.getsitepackages():
        for entry in Path(directory).iterdir():
            skip = entry.name.startswith(("rflesson", "__editable__")) or entry.suffix == ".pth"
            if not skip and not (target / entry.name).exists():
                (target / entry.name).symlink_to(entry)
    return target


def _snapshot_of_checkout(target: Path) -> Path:
    """A one-commit git repository holding what pip needs to build rflesson."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "rflesson", target / "rflesson", ignore=shutil.ignore_patterns("__pycache__")
    )
    git = ["git", "-c", "user.name=rflesson-test", "-c", "user.email=test@example.invalid"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run([*git, *command], cwd=target, check=True, capture_output=True)
    return target


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A venv without rflesson (and its own pip-free bin), seeing the shared packages."""
    home = tmp_path_factory.mktemp("setup-guard")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", home / "venv"], check=True)
    packages = _shared_packages_without_rflesson(home / "shared")
    (site_packages,) = (home / "venv" / "lib").glob("python3*/site-packages")
    (site_packages / "shared-packages.pth").write_text(f"{packages}\n")
    return home


def _run_setup_cell(home: Path, source: str, repository: Path) -> subprocess.CompletedProcess:
    """Run ``source`` as one IPython cell in the fresh venv; GitHub points to ``repository``."""
    script = home / "setup_cell.ipy"
    script.write_text(source + f'\nprint("{DONE}", rfl.__file__)\nprint(repr(rfl.course_map()))\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "GIT_CONFIG"))}
    env.pop("PYTHONPATH", None)
    env.update(
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0=f"url.file://{repository}.insteadOf",
        GIT_CONFIG_VALUE_0=GITHUB_URL,
        PIP_CONFIG_FILE=os.devnull,  # no index, no extra links: offline
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip reads "0" as --no-build-isolation
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "matplotlib"),
        MPLBACKEND="Agg",
    )
    command = [home / "venv" / "bin" / "python", "-m", "IPython", "--quick", "--no-banner"]
    return subprocess.run(
        [*command, script], cwd=home, env=env, capture_output=True, text=True, timeout=600
    )


def test_guard_installs_the_course_where_it_is_missing_and_then_runs_nothing(fresh):
    source = add_install_guard(_setup_cell(NOTEBOOKS[0]))
    venv = fresh / "venv"

    first = _run_setup_cell(fresh, source, _snapshot_of_checkout(fresh / "repository"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Traceback" not in first.stdout + first.stderr, first.stdout + first.stderr
    installed = Path(first.stdout.split(DONE, 1)[1].split()[0])
    assert installed.is_relative_to(venv), f"rflesson was imported from {installed}"

    assert PIP_MAGIC_NOTE in first.stdout, "the first run installed with %pip"
    # installed from git, the notebooks are not beside the package: the map says where
    assert COURSE_PAGE in first.stdout, first.stdout

    # installed now: the guard must not call pip (it would fail: the URL leads nowhere)
    second = _run_setup_cell(fresh, source, fresh / "no-such-repository")
    output = second.stdout + second.stderr
    assert second.returncode == 0 and DONE in second.stdout, output
    assert PIP_MAGIC_NOTE not in output and "ERROR" not in output, output


def test_add_install_guard_puts_it_after_inline_figures_once():
    cell = "%matplotlib inline\nimport matplotlib.pyplot as plt\n\nimport rflesson as rfl"
    guarded = add_install_guard(cell)
    assert guarded.startswith("%matplotlib inline\n" + INSTALL_GUARD + "\n")
    assert guarded.endswith("import matplotlib.pyplot as plt\n\nimport rflesson as rfl")
    assert add_install_guard(guarded) == guarded
    assert INSTALL_URL == "git+https://github.com/rflesson/rflesson"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_guarded_notebook_passes_ruff(notebook):
    """With the guard in its setup cell, each notebook keeps `make lint` green."""
    content = json.loads(notebook.read_text(encoding="utf-8"))
    setup = next(c for c in content["cells"] if c["cell_type"] == "code")
    setup["source"] = add_install_guard("".join(setup["source"])).splitlines(keepends=True)
    ruff = [sys.executable, "-m", "ruff"]
    name = f"notebooks/{notebook.name}"
    for args in (["check", "--quiet"], ["format", "--check", "--quiet"]):
        run = subprocess.run(
            [*ruff, *args, "--stdin-filename", name],
            input=json.dumps(content),
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_every_notebook_setup_cell_has_the_install_guard():
    missing = [p.name for p in NOTEBOOKS if not has_install_guard(_setup_cell(p))]
    assert not missing, f"setup cells without the install guard: {missing}"


def test_the_documented_example_holds():
    import doctest

    from rflesson.course import setup_cell

    assert doctest.testmod(setup_cell).failed == 0
