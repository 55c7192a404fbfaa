"""Run every benchmark and print a table of timings.

    python benchmarks/run.py            # table: name, median ms, min, max, runs, CPU ms
    python benchmarks/run.py --json     # the same as JSON
    python benchmarks/run.py rf         # only benchmarks whose name contains 'rf'

Each ``benchmarks/bench_*.py`` module defines functions ``bench_<name>()``
that do their set-up and return a zero-argument callable: the thing timed.
Modules run in file-name order (``bench_00_start.py`` first), functions in
definition order.  A module may also define ``summarize(results) -> list[str]`` (results maps a
benchmark name to its median ms) to print ratios between its benchmarks.

Times are wall-clock milliseconds, what a learner waits.  The last column is
the median CPU time of this process: on a busy machine (a shared server) the
wall time grows with the load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_modules() -> list:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))  # so that benchmarks can import moves.py
    modules = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


def time_call(func, repeats: int, max_seconds: float) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call: one warm-up, then up to ``repeats`` timed calls."""
    func()
    wall, cpu = [], []
    started = time.perf_counter()
    while len(wall) < repeats and (time.perf_counter() - started < max_seconds or len(wall) < 3):
        t0, c0 = time.perf_counter(), time.process_time()
        func()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def format_row(row: dict) -> str:
    return (
        f"{row['name']:<44} {row['median_ms']:10.2f} {row['min_ms']:10.2f}"
        f" {row['max_ms']:10.2f} {row['runs']:5d} {row['cpu_median_ms']:10.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("filter", nargs="?", default="", help="run only names containing this")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=10.0, help="per benchmark")
    args = parser.parse_args(argv)

    rows, notes, failures = [], [], []
    if not args.json:
        print(
            f"{'benchmark':<44} {'median ms':>10} {'min':>10} {'max':>10} {'runs':>5} {'CPU ms':>10}"
        )
    for module in load_modules():
        results = {}
        names = [n for n in vars(module) if n.startswith("bench_")]  # in definition order
        for name in names:
            short = name.removeprefix("bench_")
            if args.filter not in short:
                continue
            try:
                timings, cpu = time_call(getattr(module, name)(), args.repeats, args.max_seconds)
            except Exception as error:  # one broken benchmark must not hide the others
                failures.append(f"{short}: {type(error).__name__}: {error}")
                if not args.json:
                    print(f"{short:<44} {'FAILED':>10}", flush=True)
                continue
            row = {
                "name": short,
                "median_ms": statistics.median(timings),
                "min_ms": min(timings),
                "max_ms": max(timings),
                "runs": len(timings),
                "cpu_median_ms": statistics.median(cpu),
            }
            rows.append(row)
            results[short] = row["median_ms"]
            if not args.json:
                print(format_row(row), flush=True)
        if results and hasattr(module, "summarize"):
            notes.extend(module.summarize(results))
    if args.json:
        print(json.dumps({"benchmarks": rows, "notes": notes, "failures": failures}, indent=2))
    else:
        for line in notes + [f"FAILED {failure}" for failure in failures]:
            print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
