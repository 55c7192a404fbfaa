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
    assert row["cpu_median_ms"] > 0


def test_a_failing_benchmark_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run

        broken = type(sys)("bench_broken")
        broken.bench_fails = lambda: (_ for _ in ()).throw(RuntimeError("no such demo"))
        broken.bench_works = lambda: lambda: None
        monkeypatch.setattr(run, "load_modules", lambda: [broken])
        assert run.main(["--repeats", "2"]) == 1
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_explorer_benchmarks_move_every_control():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_erf
        import bench_init
    finally:
        sys.path.remove(str(BENCHMARKS))
    moved = set().union(*bench_erf.MOVES)
    assert moved == set(bench_erf.NAMES)
    assert set().union(*bench_init.MOVES) == {"strength", "depth", "activation"}
