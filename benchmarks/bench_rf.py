"""Timings of the receptive-field engine, beside gradient_rf and torchscan.

* ``analytic_resnet50_*``: ``receptive_field`` of a full-width ResNet-50 up to
  ``layer4``, at 224, at 1024 and without an input size: the cost is the
  trace and one pass over ~170 operations, whatever the input size.
* ``analytic_tv_<family>``: ``receptive_field`` of the trunk (head removed) of
  every torchvision classification family at its usual input size, and of
  ViT-B/16 and Swin-T's first block (needs torchvision; see
  ``tests/torchvision_models.py`` for how it is imported; skipped with a
  printed reason without it).
* ``gradient_*``: ``gradient_rf`` (float64, back-propagation, input grown
  until the field is unclipped and confirmed at 1.5 times the size) on
  narrow copies (``width=1/32``): the field does not depend on the width.
  ``analytic_*_narrow`` times the analytic engine on the same narrow models.
* ``torchscan_*``: torchscan's ``crawl_module`` (hooks, one forward pass,
  ``pip install -e ".[bench]"``), a benchmark-only peer.  torchscan 0.2.0,
  the release that installs beside torch 2, reports each module's own kernel
  (``receptive_field`` of ``layer4.1.conv2`` is 3), not the field of the
  network up to that module; the printed line shows what it reports.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import torch.nn as nn

from rflesson import gradient_rf, receptive_field, zoo

NARROW = 1 / 32
TESTS = Path(__file__).resolve().parents[1] / "tests"


def _trunk(model: nn.Module) -> nn.Module:
    """A torchvision-layout ResNet up to ``layer4``."""
    return nn.Sequential(*list(model.children())[:-2])


def bench_analytic_resnet50_224():
    model = zoo.resnet50()
    return lambda: receptive_field(model, 224, output="layer4")


def bench_analytic_resnet50_1024():
    model = zoo.resnet50()
    return lambda: receptive_field(model, 1024, output="layer4")


def bench_analytic_resnet50_no_size():
    model = zoo.resnet50()
    return lambda: receptive_field(model, output="layer4")


# -- every torchvision family ------------------------------------------------------


def _torchvision():
    """``(torchvision.models, tests/torchvision_models.py)``, or ``None`` with a printed reason."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import torchvision_models

    models = torchvision_models.load()
    if models is None:
        print(
            "bench_rf: torchvision benchmarks skipped (torchvision is not installed; "
            f"pip install --no-deps torchvision=={torchvision_models.VERSION} pillow)"
        )
    return models, torchvision_models


def _family(name: str):
    def bench():
        models, helper = _torchvision()
        if models is None:
            return lambda: None
        trunk, size = helper.build(models, name)
        return lambda: receptive_field(trunk, size)

    bench.__name__ = f"bench_analytic_tv_{name}"
    return bench


for _name in (
    "alexnet", "vgg16", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet121",
    "googlenet", "inception_v3", "squeezenet1_0", "mobilenet_v2", "mobilenet_v3_large",
    "mobilenet_v3_small", "mnasnet1_0", "shufflenet_v2_x1_0", "efficientnet_b0",
    "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny",
):  # fmt: skip
    globals()[f"bench_analytic_tv_{_name}"] = _family(_name)


def bench_analytic_tv_vit_b_16():
    models, helper = _torchvision()
    if models is None:
        return lambda: None
    model = helper.whole_model(models, "vit_b_16")
    return lambda: receptive_field(model, 224)


def bench_analytic_tv_swin_t_first_block():
    models, helper = _torchvision()
    if models is None:
        return lambda: None
    features = helper.whole_model(models, "swin_t").features
    return lambda: receptive_field(features, 224, output="1.0")


# -- gradient_rf on narrow copies ----------------------------------------------------


def bench_analytic_resnet18_narrow():
    model = _trunk(zoo.resnet18(width=NARROW))
    return lambda: receptive_field(model, 224)


def bench_gradient_resnet18_narrow():
    model = _trunk(zoo.resnet18(width=NARROW))
    return lambda: gradient_rf(model, 224)


def bench_analytic_resnet50_narrow():
    model = _trunk(zoo.resnet50(width=NARROW))
    return lambda: receptive_field(model, 224)


def bench_gradient_resnet50_narrow():
    model = _trunk(zoo.resnet50(width=NARROW))
    return lambda: gradient_rf(model, 224)


def bench_analytic_alexnet_narrow():
    model = zoo.alexnet(width=NARROW).features
    return lambda: receptive_field(model, 224)


def bench_gradient_alexnet_narrow():
    model = zoo.alexnet(width=NARROW).features
    return lambda: gradient_rf(model, 224)


# -- torchscan -------------------------------------------------------------------------


def _torchscan():
    try:
        import torchscan
    except ImportError as error:
        print(f'bench_rf: torchscan skipped ({error}); pip install -e ".[bench]" to compare')
        return None
    return torchscan


def _crawl(torchscan, model, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torchscan.crawl_module(model, shape)


def torchscan_field(row: dict):
    """What torchscan reports as a layer's receptive field (0.1: ``rf``; 0.2: a metric)."""
    if "rf" in row:
        return row["rf"]
    metric = row.get("metrics", {}).get("receptive_field")
    if metric is None or metric.get("status") != "complete":
        return None
    return metric["value"]


def _compare(name: str, torchscan, model: nn.Module, last: str) -> None:
    info = _crawl(torchscan, model, (3, 224, 224))
    rows = {row.get("name") if "rf" in row else row["path"]: row for row in info["layers"]}
    stage = torchscan_field(rows[last]) if last in rows else None
    convs = [r for r in info["layers"] if r.get("type") == "Conv2d"]
    final_conv = torchscan_field(convs[-1]) if convs else None
    ours = receptive_field(model, 224, output=last).size[0]
    print(
        f"bench_rf: torchscan {torchscan.__version__} for {name}: {last} {stage}, its last "
        f"convolution {final_conv} (each module's own kernel); rflesson: {last} {ours}"
    )


def bench_torchscan_resnet50_224():
    torchscan = _torchscan()
    if torchscan is None:
        return lambda: None
    model = zoo.resnet50()
    _compare("ResNet-50", torchscan, model, "layer4")
    return lambda: _crawl(torchscan, model, (3, 224, 224))


def bench_torchscan_resnet18_224():
    torchscan = _torchscan()
    if torchscan is None:
        return lambda: None
    model = zoo.resnet18()
    _compare("ResNet-18", torchscan, model, "layer4")
    return lambda: _crawl(torchscan, model, (3, 224, 224))


def bench_analytic_resnet18_224():
    model = zoo.resnet18()
    return lambda: receptive_field(model, 224, output="layer4")


def summarize(results: dict[str, float]) -> list[str]:
    """Ratios measured in this run, and the families over their time budget."""
    lines = []

    def ratio(a: str, b: str, label: str) -> None:
        if a in results and b in results and results[b] > 0:
            lines.append(f"{label}: {results[a] / results[b]:.1f}x")

    ratio(
        "analytic_resnet50_1024", "analytic_resnet50_224", "analytic ResNet-50, 1024 vs 224 input"
    )
    ratio(
        "gradient_resnet50_narrow", "analytic_resnet50_narrow", "ResNet-50 gradient_rf / analytic"
    )
    ratio(
        "gradient_resnet18_narrow", "analytic_resnet18_narrow", "ResNet-18 gradient_rf / analytic"
    )
    ratio("gradient_alexnet_narrow", "analytic_alexnet_narrow", "AlexNet gradient_rf / analytic")
    ratio("torchscan_resnet50_224", "analytic_resnet50_224", "ResNet-50 torchscan / analytic")
    ratio("torchscan_resnet18_224", "analytic_resnet18_224", "ResNet-18 torchscan / analytic")
    families = {k: v for k, v in results.items() if k.startswith("analytic_tv_")}
    if families:
        slowest = max(families, key=families.get)
        over = [k for k, v in families.items() if v > 100]
        lines.append(
            f"torchvision trunks: slowest {slowest} {families[slowest]:.1f} ms; over 100 ms: "
            f"{', '.join(over) or 'none'}"
        )
    if "analytic_resnet50_224" in results:
        budget = "under" if results["analytic_resnet50_224"] < 20 else "OVER"
        lines.append(
            f"ResNet-50 up to layer4: {results['analytic_resnet50_224']:.1f} ms ({budget} 20 ms)"
        )
    return lines
