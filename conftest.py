"""Shared test set-up, and a report of each notebook's wall time and peak memory."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

_started: dict[str, float] = {}
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
    name = Path(str(item.fspath)).name
    _wall[name] += time.perf_counter() - started
    pid = _kernel_pid(item)
    if pid is not None:
        _peak_kib[name] = max(_peak_kib[name], _peak_rss_kib(pid))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _wall:
        return
    terminalreporter.section("notebook budget (60 s and 1 GB each on 2 cores)")
    for name in sorted(_wall):
        peak = _peak_kib[name] / 1024
        memory = f"{peak:7.0f} MiB" if peak else "    n/a"
        terminalreporter.write_line(f"{name:<32} {_wall[name]:6.1f} s  peak {memory}")
