"""``python -m rflesson``: a table per stage from a terminal; bad input gets one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torchvision_models as tvm

TESTS = Path(__file__).resolve().parent
MODELS = str(TESTS / "cli_models.py")


def _run(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    command = (
        [sys.executable, "-m", "rflesson", *args] if code is None else [sys.executable, "-c", code]
    )
    return subprocess.run(command, capture_output=True, text=True, cwd=TESTS, timeout=300)


def test_a_file_factory_prints_the_table_per_stage():
    out = _run(f"{MODELS}:small", "--input", "32", "32", "--depth", "1")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].endswith("(Sequential), input 32 x 32")
    assert lines[1].split() == ["name", "op", "size", "jump", "start", "center", "n_out"]
    rows = {line.split()[0]: line for line in lines[3:]}
    assert list(rows) == ["0", "1"]
    assert "(3, 3)" in rows["0"] and "(9, 9)" in rows["1"] and "(8, 8)" in rows["1"]


def test_every_operation_and_one_length_for_all_axes():
    out = _run(f"{MODELS}:small", "--input", "32", "--pointwise")
    assert out.returncode == 0, out.stderr
    names = [line.split()[0] for line in out.stdout.splitlines()[3:]]
    assert names == ["0.0", "0.1", "1.0", "1.1"]
    without = _run(f"{MODELS}:small", "--input", "32")
    assert [line.split()[0] for line in without.stdout.splitlines()[3:]] == ["0.0", "1.0", "1.1"]


@pytest.mark.skipif(tvm.load() is None, reason="torchvision is not installed")
def test_torchvision_resnet50_from_the_terminal():
    # the command as a user types it, in a process where torchvision was imported the way
    # tests/torchvision_models.py must import it beside the CPU torch
    code = (
        "import sys, runpy, torchvision_models; torchvision_models.load(); "
        "sys.argv = ['rflesson', 'torchvision.models:resnet50', '--input', '224', '224', "
        "'--depth', '1']; runpy.run_module('rflesson', run_name='__main__')"
    )
    out = _run(code=code)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[3:]}
    assert rows["layer4"][1] == "Sequential" and rows["layer4"][2:4] == ["(427,", "427)"]
    assert rows["fc"][-2:] == ["whole", "input"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["nosuch.module:build", "--input", "8"], "cannot import nosuch.module"),
        ([f"{MODELS}:nope", "--input", "8"], "has no 'nope'"),
        ([f"{MODELS}", "--input", "8"], "module:factory"),
        (["missing.py:build", "--input", "8"], "no such file"),
        ([f"{MODELS}:broken", "--input", "8"], "broken() failed: RuntimeError"),
        ([f"{MODELS}:not_a_model", "--input", "8"], "returned a int, not a torch.nn.Module"),
        ([f"{MODELS}:small", "--input", "2", "2"], "the smallest input it takes is (3, 3)"),
        ([f"{MODELS}:small", "--input", "-3"], "input_size must be at least 1"),
        ([f"{MODELS}:small", "--input", "8", "8", "8"], "input_size has 3 axes, expected 2"),
        ([f"{MODELS}:small", "--input", "eight"], "invalid int value"),
        ([f"{MODELS}:small"], "--input"),
        ([f"{MODELS}:small", "--input", "8", "--output", "9"], "output='9' is not"),
        ([f"{MODELS}:unknown_op", "--input", "16"], "reverses the order of positions"),
    ],
)
def test_bad_input_gets_one_line_and_exit_status_2(args, words):
    out = _run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rflesson: error: "), out.stderr
    assert words in lines[0]
    assert "Traceback" not in out.stderr


def test_help_exits_cleanly():
    out = _run("--help")
    assert out.returncode == 0 and "module:factory" in out.stdout
