"""Fuzz the whole public API with odd arguments (issue 16).

Every tool name that ``rflesson/__init__.py`` exports (and the zoo's
builders) and the course's ``check`` is called with arguments hypothesis
draws: a valid call with, most of the time, one argument swapped for an odd
value (a wrong type, an extreme, a NumPy or torch value, NaN, 10**400, a
meta network, a set where order matters ...).  Each call runs in a separate
worker process under a memory limit (``tests/fuzz_worker.py``), and must:

1. answer right (an independent check of the result, where one exists) or
   raise ``ValueError`` / ``TypeError`` with a message that names a
   parameter (``check`` must never raise at all);
2. leave the caller's networks (weights, buffers, dtype, ``requires_grad``,
   mode, hooks), arrays and tensors, the global random generators and
   torch's thread count as they were, and fire none of the caller's hooks;
3. stay within the budget: at most ``TIME_BUDGET_S`` seconds of CPU time and
   ``MEMORY_BUDGET_MB`` of resident memory growth (a call stuck for
   ``HANG_S`` seconds of wall time is killed).

Deterministic (``derandomize=True``): CI draws the same cases every run.
``EXAMPLES`` sets the number of cases per function (``RFLESSON_FUZZ_SCALE``
multiplies them, for a longer hunt).  No case is excused.
"""

from __future__ import annotations

import inspect
import os
import pickle
import re
import select
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzz_worker import BUILD, MEMORY_BUDGET_MB, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rflesson as rfl

TIME_BUDGET_S = 30.0
HANG_S = 120.0


def rec(kind: str, spec: object) -> tuple:
    """A recipe the worker builds (networks, iterators, maps)."""
    return (BUILD, kind, spec)


# -- odd values ------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
EVERYTHING_ODD = [
    None,
    True,
    False,
    0,
    -1,
    -(10**400),
    10**9,
    10**18,
    10**400,
    2.5,
    -0.0,
    1e-300,
    1e300,
    NAN,
    INF,
    -INF,
    3 + 0j,
    1j,
    "3",
    "",
    b"3",
    [3],
    (3,),
    {3},
    {"a": 3},
    range(3),
    Fraction(7, 2),
    Decimal("3"),
    np.int64(3),
    np.int8(-3),
    np.uint64(2**64 - 1),
    np.float32(3.0),
    np.float64(NAN),
    np.bool_(True),
    np.array(3),
    np.array([3]),
    np.array([[3, 3]]),
    np.array([]),
    torch.tensor(3),
    torch.tensor(3.0),
    torch.tensor(True),
    torch.tensor([3, 3]),
    torch.empty(0),
    rec("iterator", [3, 3]),
    rec("count", None),
]
odd = st.sampled_from(EVERYTHING_ODD)
odd_int = st.one_of(
    odd,
    st.sampled_from([1, 2, 3, 7, 2**31, 2**63, np.int32(5), torch.tensor(5)]),
    st.integers(-(10**30), 10**30),
)
odd_float = st.one_of(odd, st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5]))
odd_text = st.one_of(odd, st.sampled_from(["RELU", " relu", "relu ", "x" * 10_000, "ramp\x00"]))
odd_sequence = st.one_of(
    odd,
    st.lists(odd_int, max_size=4),
    st.lists(odd_int, max_size=4).map(tuple),
    st.sampled_from([(), [], range(10**12), rec("iterator", [1, 2, 3]), {1, 2, 5}]),
)


# -- networks ------------------------------------------------------------------------------

small = st.integers(1, 4)


@st.composite
def layer_kwargs(draw) -> dict:
    stride = draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 3), st.just("valid")))
    if stride == 1 and draw(st.booleans()):
        padding = "same"
    return {
        "kernel": draw(st.integers(1, 5)),
        "stride": stride,
        "padding": padding,
        "dilation": draw(st.integers(1, 3)),
    }


layer_lists = st.lists(layer_kwargs(), min_size=1, max_size=4).map(lambda ks: rec("layers", ks))


@st.composite
def stack_kwargs(draw) -> dict:
    return {
        "depth": draw(st.integers(1, 4)),
        "kernel_size": draw(st.sampled_from([1, 3, 5])),
        "channels": draw(st.integers(1, 3)),
        "activation": draw(st.sampled_from([None, "relu", "tanh"])),
        "stride": draw(st.sampled_from([1, 1, 2])),
        "dilation": draw(st.sampled_from([1, 1, 2])),
        "dropout": draw(st.sampled_from([0.0, 0.0, 0.3])),
        "skip": draw(st.booleans()),
    }


stacks = stack_kwargs().map(lambda kw: rec("conv_stack", kw))
sequentials = st.sampled_from(
    [
        [("Conv2d", (1, 2, 3)), ("ReLU", ()), ("MaxPool2d", (2,)), ("Conv2d", (2, 1, 3))],
        [("Conv1d", (1, 1, 5, 2)), ("AvgPool1d", (3,))],
        [("Conv2d", (1, 1, 3, 1, 1)), ("Upsample", (None, 2.0))],
        [("Conv2d", (1, 1, 3)), ("AdaptiveAvgPool2d", (1,))],
        [("Conv2d", (1, 1, 1))],
    ]
).map(lambda layers: rec("sequential", layers))
modules = st.one_of(stacks, sequentials)
odd_networks = st.sampled_from(
    [
        42,
        None,
        "conv",
        [],
        [3],
        rec("sequential", [("Linear", (4, 2))]),
        rec("sequential", [("ReLU", ())]),
        rec("sequential", []),
        rec("meta", ("conv_stack", {"depth": 2})),
        rec("half", ("conv_stack", {"depth": 2})),
        rec("frozen", ("conv_stack", {"depth": 2})),
        rec("layers", [{"kernel": 10**9}]),
        rec("layers", [{"kernel": 3}] * 5000),
        rec("conv_stack", {"depth": 2, "stride": 64}),
        rec("conv_stack", {"depth": 30, "channels": 16}),
        rec("zoo", ("wavenet", {})),
        rec("zoo", ("resnet18", {"width": 0.25})),
    ]
)
any_network = st.one_of(layer_lists, modules, odd_networks)


# -- one strategy of calls per function -------------------------------------------------------


@st.composite
def calls(draw, base: dict, odd_values: dict) -> dict:
    """``base`` (valid-looking keyword arguments), maybe with one argument made odd."""
    kwargs = {name: draw(value) for name, value in base.items()}
    mutated = None
    if odd_values and draw(st.integers(0, 9)) < 7:
        mutated = draw(st.sampled_from(sorted(odd_values)))
        kwargs[mutated] = draw(odd_values[mutated])
    return {"kwargs": kwargs, "mutated": mutated}


FUNCTIONS: dict[str, tuple[dict, dict]] = {
    "Layer": (
        {"kernel": st.integers(1, 7), "stride": st.integers(1, 3), "dilation": st.integers(1, 3)},
        {
            "kernel": st.one_of(odd_int, odd_sequence),
            "stride": odd_int,
            "padding": st.one_of(odd_int, odd_text, odd_sequence),
            "dilation": odd_int,
            "name": odd,
            "ceil_mode": odd,
        },
    ),
    "conv_output_size": (
        {
            "input_size": st.integers(20, 100),
            "kernel": st.integers(1, 5),
            "stride": st.integers(1, 4),
            "padding": st.integers(0, 2),
            "dilation": st.integers(1, 3),
        },
        {k: odd_int for k in ("input_size", "kernel", "stride", "padding", "dilation")},
    ),
    "dilated_kernel_size": (
        {"kernel": st.integers(1, 9), "dilation": st.integers(1, 9)},
        {"kernel": odd_int, "dilation": odd_int},
    ),
    "rf_size": (
        {
            "kernels": st.just([3, 3, 5]),
            "strides": st.lists(st.integers(1, 3), min_size=3, max_size=3),
            "dilations": st.one_of(st.none(), st.just([1, 2, 1])),
        },
        {"kernels": odd_sequence, "strides": odd_sequence, "dilations": odd_sequence},
    ),
    "receptive_field": (
        {"net": st.one_of(layer_lists, modules), "input_size": st.sampled_from([None, 32, 33])},
        {"net": any_network, "input_size": st.one_of(odd_int, odd_sequence), "output": odd_text},
    ),
    "rf_table": (
        {"net": st.one_of(layer_lists, modules), "input_size": st.sampled_from([None, 32])},
        {
            "net": any_network,
            "input_size": st.one_of(odd_int, odd_sequence),
            "include_input": odd,
            "pointwise": odd,
            "output": odd_text,
        },
    ),
    "input_region": (
        {
            "net": layer_lists,
            "index": st.integers(0, 3),
            "input_size": st.sampled_from([None, 40]),
        },
        {
            "net": any_network,
            "index": st.one_of(odd_int, odd_sequence),
            "input_size": st.one_of(odd_int, odd_sequence),
            "output": odd_text,
        },
    ),
    "gradient_rf": (
        {"model": st.one_of(layer_lists, stacks), "input_size": st.sampled_from([16, 33])},
        {
            "model": any_network,
            "input_size": st.one_of(odd_int, odd_sequence),
            "phases": odd_int,
            "channels": odd_int,
            "max_pixels": odd_int,
        },
    ),
    "coverage": (
        {"net": st.one_of(layer_lists, stacks), "input_size": st.sampled_from([None, 40])},
        {"net": any_network, "input_size": st.one_of(odd_int, odd_sequence)},
    ),
    "coverage_map": (
        {"net": layer_lists, "input_size": st.sampled_from([None, 40])},
        {"net": any_network, "input_size": st.one_of(odd_int, odd_sequence)},
    ),
    "hdc_ok": (
        {"rates": st.lists(st.integers(1, 9), min_size=2, max_size=5), "kernel_size": small},
        {"rates": odd_sequence, "kernel_size": odd_int},
    ),
    "erf_map": (
        {
            "net": st.one_of(
                stacks,
                stacks.map(lambda r: rec("factory", r[1:])),
                stacks.map(lambda r: rec("held_factory", r[1:])),
            ),
            "input_size": st.sampled_from([9, 13, 17]),
            "n": st.integers(1, 6),
            "chunk": st.sampled_from([1, 4, 16]),
        },
        {
            "net": st.one_of(
                odd_networks,
                odd_networks.filter(lambda r: isinstance(r, tuple)).map(
                    lambda r: rec("factory", r[1:])
                ),
                odd.map(lambda v: rec("bad_factory", v)),
            ),
            "input_size": st.one_of(odd_int, odd_sequence),
            "n": odd_int,
            "seed": odd_int,
            "channel": odd_int,
            "unit": st.one_of(odd_int, odd_sequence),
            "inputs": st.one_of(
                odd,
                st.sampled_from(
                    [
                        torch.zeros(2, 1, 9, 9),
                        torch.zeros(2, 3, 9, 9),
                        torch.full((2, 1, 13, 13), NAN),
                        torch.zeros(2, 1, 9),
                        torch.empty(2, 1, 9, 9, device="meta"),
                    ]
                ),
            ),
            "in_channels": odd_int,
            "train": odd,
            "dtype": st.one_of(
                odd, st.sampled_from([torch.float16, torch.float64, torch.int64, "float32"])
            ),
            "batched": odd,
            "threads": odd_int,
            "chunk": odd_int,
        },
    ),
    "erf_stats": (
        {
            "erf": st.tuples(
                st.sampled_from([(21, 21), (15,), (9, 11)]),
                st.sampled_from([2.0, 5.0]),
                st.booleans(),
            ).map(lambda spec: rec("map", spec)),
            "threshold": st.sampled_from([0.2, 0.5, 1.0]),
        },
        {
            "erf": st.one_of(
                odd,
                st.sampled_from(
                    [np.zeros((5, 5)), -np.ones((3, 3)), np.ones((5, 5)) * 1j, [[1, 2], [3]]]
                ),
            ),
            "trf_box": st.one_of(
                odd_sequence,
                st.sampled_from(
                    [((15, 5), (15, 5)), ((-1, 30), (3, 8)), ((2, 3),), ((1.5, 3), (1, 2))]
                ),
            ),
            "threshold": odd_float,
            "centre": st.one_of(odd_sequence, st.sampled_from([(-1, -1), (10,), (99, 99), (5, 5)])),
        },
    ),
    "trf_box": (
        {"net": stacks, "input_size": st.sampled_from([21, 33]), "unit": st.none()},
        {
            "net": any_network,
            "input_size": st.one_of(odd_int, odd_sequence),
            "unit": st.one_of(odd_int, odd_sequence),
        },
    ),
    "center_profile": (
        {
            "kernel_size": st.sampled_from([1, 3, 5, (3, 5), (7,)]),
            "strength": st.floats(0, 1),
            "profile": st.sampled_from(["ramp", "gaussian"]),
            "preserve_variance": st.booleans(),
        },
        {
            "kernel_size": st.one_of(odd_int, odd_sequence),
            "strength": odd_float,
            "profile": odd_text,
            "preserve_variance": odd,
        },
    ),
    "scale_spread": (
        {"factors": st.sampled_from([np.ones((3, 3)), np.ones(5), [[0, 1, 0], [1, 1, 1]]])},
        {"factors": st.one_of(odd, odd_sequence, st.just(torch.ones(3, 3, requires_grad=True)))},
    ),
    "profile_variance": (
        {"kernel_size": st.sampled_from([3, 5, (3, 5)]), "strength": st.floats(0, 1)},
        {
            "kernel_size": st.one_of(odd_int, odd_sequence),
            "strength": odd_float,
            "profile": odd_text,
        },
    ),
    "predicted_sigma_ratio": (
        {"kernel_size": st.sampled_from([3, 5, (3, 5)]), "strength": st.floats(0, 1)},
        {
            "kernel_size": st.one_of(odd_int, odd_sequence),
            "strength": odd_float,
            "profile": odd_text,
        },
    ),
    "center_scaled_init_": (
        {
            "module": st.one_of(stacks, sequentials),
            "strength": st.floats(0, 1),
            "seed": st.one_of(st.none(), st.integers(0, 99)),
        },
        {
            "module": st.one_of(odd, odd_networks),
            "strength": odd_float,
            "profile": odd_text,
            "preserve_variance": odd,
            "reset": odd,
            "seed": odd_int,
        },
    ),
    "conv_stack": (
        {"depth": st.integers(1, 6), "kernel_size": st.sampled_from([1, 3, 5])},
        {
            "depth": odd_int,
            "kernel_size": odd_int,
            "channels": odd_int,
            "in_channels": odd_int,
            "weights": odd_text,
            "activation": odd_text,
            "stride": st.one_of(odd_int, odd_sequence),
            "dilation": st.one_of(odd_int, odd_sequence),
            "dropout": odd_float,
            "skip": odd,
        },
    ),
    "set_seed": ({"seed": st.integers(0, 2**32 - 1)}, {"seed": odd_int}),
    "check": (
        {
            "exercise_id": st.sampled_from(
                [
                    "00.output-length",
                    "00.never-seen",
                    "01.off-light-spot",
                    "02.jump",
                    "02.which-pixels",
                    "02.two-paths",
                    "03.cover-15",
                    "03.which-grid",
                    "04.uniform-sigma",
                    "05.corner-limit",
                ]
            ),
            "answer": st.one_of(odd, odd_sequence, odd_text, odd_float),
        },
        {"exercise_id": st.one_of(odd, odd_text), "answer": st.just(rec("raising", None))},
    ),
    "zoo.alexnet": (
        {"num_classes": st.integers(1, 10), "width": st.sampled_from([0.05, 0.1])},
        {"num_classes": odd_int, "width": odd_float},
    ),
    "zoo.resnet18": (
        {"num_classes": st.integers(1, 10), "width": st.sampled_from([0.05, 0.1])},
        {"num_classes": odd_int, "width": odd_float},
    ),
    "zoo.unet": (
        {"in_channels": small, "classes": small, "base": small, "depth": small},
        {"in_channels": odd_int, "classes": odd_int, "base": odd_int, "depth": odd_int},
    ),
    "zoo.context_module": ({"channels": small}, {"channels": odd_int}),
    "zoo.wavenet": (
        {"channels": small, "layers": small, "blocks": small},
        {"channels": odd_int, "layers": odd_int, "blocks": odd_int},
    ),
    "zoo.vgg16": (
        {"num_classes": st.integers(1, 10), "width": st.sampled_from([0.05, 0.1])},
        {"num_classes": odd_int, "width": odd_float},
    ),
    "zoo.resnet50": (
        {"num_classes": st.integers(1, 10), "width": st.sampled_from([0.05, 0.1])},
        {"num_classes": odd_int, "width": odd_float},
    ),
}

#: Cases per function: the cheap ones more, the measurements fewer (about a minute in all).
#: ``RFLESSON_FUZZ_SCALE=10`` multiplies them, for a longer search by hand.
EXAMPLES = {name: 25 for name in FUNCTIONS} | {
    "Layer": 40,
    "conv_output_size": 40,
    "rf_size": 30,
    "hdc_ok": 40,
    "check": 60,
    "erf_map": 40,
    "gradient_rf": 20,
    "center_scaled_init_": 25,
    "zoo.alexnet": 10,
    "zoo.resnet18": 10,
    "zoo.unet": 10,
    "zoo.context_module": 10,
    "zoo.wavenet": 10,
    "zoo.vgg16": 5,
    "zoo.resnet50": 5,
}
SCALE = float(os.environ.get("RFLESSON_FUZZ_SCALE", "1"))
EXAMPLES = {name: max(1, round(n * SCALE)) for name, n in EXAMPLES.items()}


# -- the worker ---------------------------------------------------------------------------------


class Worker:
    """A ``fuzz_worker`` process: send a call, get its report (or kill it when it hangs)."""

    def __init__(self) -> None:
        self.process = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz_worker_{os.getpid()}.log"
        self.start()

    def start(self) -> None:
        tests = str(Path(__file__).parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tests, *sys.path]))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import fuzz_worker; fuzz_worker.serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("ab"),
            env=env,
        )
        ready = self._receive(600.0)
        assert ready and ready.get("ready"), f"the fuzz worker did not start (see {self.log})"

    def _receive(self, timeout: float) -> dict | None:
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not readable:
            return None
        try:
            return pickle.load(self.process.stdout)
        except EOFError:
            return None

    def call(self, function: str, kwargs: dict) -> dict:
        pickle.dump({"function": function, "args": (), "kwargs": kwargs}, self.process.stdin)
        self.process.stdin.flush()
        report = self._receive(HANG_S)
        if report is None:  # hung past HANG_S, or died (a crash, or the memory limit)
            self.process.kill()
            self.process.wait()
            code = self.process.returncode
            self.start()
            return {"outcome": "died", "message": f"no answer in {HANG_S} s (exit {code})"}
        return report

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def worker():
    process = Worker()
    yield process
    process.close()


# -- the three promises --------------------------------------------------------------------------


def _parameters(name: str) -> list[str]:
    return list(inspect.signature(resolve(name)).parameters)


def _names_a_parameter(name: str, message: str) -> bool:
    return any(re.search(rf"\b{re.escape(p)}\b", message) for p in _parameters(name))


MEMORY_WORDS = ("allocate", "out of memory", "memory")


def _judge(name: str, case: dict, report: dict) -> list[str]:
    """Every broken promise of one call, in words."""
    problems = []
    outcome = report["outcome"]
    if outcome in ("died", "worker error"):
        return [f"{outcome}: {report['message']}"]
    if outcome == "raised":
        kind, message = report["error_type"], report["message"]
        if name == "check":
            problems.append(f"check raised {kind}: {message}")
        elif kind not in ("ValueError", "TypeError"):
            problems.append(f"raised {kind}: {message}")
        elif any(w in message.lower() for w in MEMORY_WORDS) and "MAX_" not in message:
            problems.append(f"ran out of memory: {message}")
        elif not _names_a_parameter(name, message):
            problems.append(f"{kind} names no parameter of {name}: {message}")
    elif report["oracle"]:
        problems.append(f"wrong answer: {report['oracle']}")
    problems += [f"changed: {c}" for c in report["changes"]]
    if report["cpu"] > TIME_BUDGET_S:
        problems.append(f"took {report['cpu']:.1f} s of CPU time (budget {TIME_BUDGET_S} s)")
    if report["rss_growth_mb"] > MEMORY_BUDGET_MB:
        problems.append(f"grew the memory by {report['rss_growth_mb']:.0f} MB")
    return problems


def _make_test(name: str, examples: int):
    base, odd_values = FUNCTIONS[name]

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=calls(base, odd_values))
    def test(worker, case):
        report = worker.call(name, case["kwargs"])
        problems = _judge(name, case, report)
        assert not problems, (
            f"{name}(**{case['kwargs']!r}): {problems}\n{report.get('traceback', '')}"
        )

    test.__name__ = f"test_fuzz_{name.replace('.', '_')}"
    return test


for _name, _examples in EXAMPLES.items():
    globals()[f"test_fuzz_{_name.replace('.', '_')}"] = _make_test(_name, _examples)


def test_every_public_tool_name_is_fuzzed():
    def public(namespace: dict, module: str) -> set[str]:
        return {
            name
            for name, value in namespace.items()
            if not name.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__.startswith(module)
        }

    tools = public(vars(rfl), "rflesson.")
    builders = {f"zoo.{name}" for name in public(vars(rfl.zoo), "rflesson.zoo")}
    builders = {b for b in builders if not b[4].isupper()}  # the classes come from the builders
    assert tools | builders | {"check"} == set(FUNCTIONS)
