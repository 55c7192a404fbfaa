"""Shared test set-up: a report of each notebook's wall time and peak memory, the
``--onednn-off`` run of the notebooks, and a plain last line when the browser test
could not run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests draw the same examples on every run, so that CI is reproducible;
# HYPOTHESIS_PROFILE=explore draws new ones (hunt for bugs, then pin what you find).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ONEDNN_OFF_STARTUP = "import torch\n\ntorch.backends.mkldnn.enabled = False\n"
BROWSER_TEST = "test_browser.py"

_wall: dict[str, float] = defaultdict(float)
_peak_kib: dict[str, int] = defaultdict(int)


def _kernel_pid(item: pytest.Item) -> int | None:
    """The process id of the kernel nbval runs a notebook in (None if unknown)."""
    try:
        return item.parent.kernel.km.provisioner.process.pid
    except AttributeError:
        return None


def _peak_rss_kib(pid: int) -> int:
    """Peak resident memory of a process (VmHWM), in KiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    started = time.perf_counter()
    yield
    if not str(item.fspath).endswith(".ipynb"):
        return
    path = Path(str(item.fspath))
    name = f"{path.parent.name}/{path.name}" if path.parent.name == "vi" else path.name
    _wall[name] += time.perf_counter() - started
    pid = _kernel_pid(item)
    if pid is not None:
        _peak_kib[name] = max(_peak_kib[name], _peak_rss_kib(pid))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _wall:
        return
    terminalreporter.section("notebook budget (30 s and 1 GB each on 2 cores)")
    for name in sorted(_wall):
        peak = _peak_kib[name] / 1024
        memory = f"{peak:7.0f} MiB" if peak else "    n/a"
        terminalreporter.write_line(f"{name:<35} {_wall[name]:6.1f} s  peak {memory}")


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--onednn-off",
        action="store_true",
        help="switch PyTorch's oneDNN off in every notebook kernel: strict nbval then "
        "checks that the stored outputs survive other convolution kernels (another CPU)",
    )


def pytest_configure(config) -> None:
    """With ``--onednn-off``, give every kernel an IPython startup file that switches oneDNN off.

    The kernels nbval starts inherit ``IPYTHONDIR``; a fresh temporary one keeps the
    user's own IPython profile out of the run.
    """
    if not config.getoption("--onednn-off"):
        return
    ipython_dir = Path(tempfile.mkdtemp(prefix="rflesson-onednn-off-"))
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-onednn-off.py").write_text(ONEDNN_OFF_STARTUP)
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    config.add_cleanup(lambda: shutil.rmtree(ipython_dir, ignore_errors=True))


def pytest_report_header(config) -> str | None:
    if config.getoption("--onednn-off"):
        return "notebook kernels: oneDNN off (torch.backends.mkldnn.enabled = False)"
    return None


def _skip_reason(report) -> str:
    """The reason pytest recorded for a skipped test ('Skipped: ' removed)."""
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    """End the run with one plain line when the browser test was skipped, and why.

    A summary such as "6 skipped" is easy to miss; this line says what did not run
    and how to get it (the test's skip reason says how).
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = [r for r in reporter.stats.get("skipped", []) if BROWSER_TEST in r.nodeid]
    if skipped:
        reason = _skip_reason(skipped[0])
        reporter.write_line(f"The browser test did not run: {reason}")
