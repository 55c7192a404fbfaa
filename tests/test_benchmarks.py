"""benchmarks/: every module loads, and the runner prints a table and JSON."""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(*args: str) -> str:
    command = [sys.executable, str(BENCHMARKS / "run.py"), "--repeats", "2", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def test_every_benchmark_module_loads_and_defines_benchmarks():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run

        modules = run.load_modules()
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert len(modules) == len(list(BENCHMARKS.glob("bench_*.py")))
    for module in modules:
        names = [name for name in vars(module) if name.startswith("bench_")]
        assert names, f"{module.__name__} defines no bench_ function"


def test_runner_prints_a_table_and_json():
    table = _run("start_here")
    assert "median ms" in table and "start_here_demo_update" in table
    rows = json.loads(_run("--json", "start_here"))["benchmarks"]
    row = next(r for r in rows if r["name"] == "start_here_demo_update")
    assert 0 < row["min_ms"] <= row["median_ms"] <= row["max_ms"] and row["runs"] >= 2
