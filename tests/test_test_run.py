"""The maintainers' test run itself: the oneDNN-off notebook run, and its last line.

``make test`` runs strict nbval twice: as is, and with ``--onednn-off`` (PyTorch's
oneDNN switched off in every kernel, a stand-in for another CPU).  These tests run
pytest on a one-cell notebook and on the browser test to check that both work.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def _pytest(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _notebook_that_stored(text: str, path: Path) -> Path:
    """A notebook whose one cell prints whether oneDNN is on, stored as ``text``."""
    cell = nbformat.v4.new_code_cell(
        "import torch\n\nprint(torch.backends.mkldnn.enabled)", execution_count=1
    )
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


def test_onednn_off_reaches_the_notebook_kernels(tmp_path):
    notebook = _notebook_that_stored("False\n", tmp_path / "probe.ipynb")
    nbval = ["-p", "conftest", "--nbval", "--nbval-current-env", str(notebook)]
    off = _pytest(*nbval, "--onednn-off")
    assert off.returncode == 0, off.stdout + off.stderr
    # the same stored output fails a normal run: nbval compares it, so the option acts
    normal = _pytest(*nbval)
    assert normal.returncode == 1, normal.stdout + normal.stderr


def test_a_skipped_browser_test_ends_the_run_with_one_plain_line():
    run = _pytest("tests/test_browser.py", RFLESSON_CHROMIUM="/nonexistent/chromium")
    assert run.returncode == 0, run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("The browser test did not run: Chromium is not installed"), last
    assert "apt-get install chromium" in last
