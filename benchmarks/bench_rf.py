"""Timings of the receptive-field engine, beside gradient_rf and torchscan.

* ``analytic_resnet50_*``: ``receptive_field`` of a full-width ResNet-50 up to
  ``layer4``, at 224, at 1024 and without an input size: the cost is the
  trace and one pass over ~170 operations, whatever the input size.
* ``gradient_*``: ``gradient_rf`` (float64, back-propagation, input grown
  until the field is unclipped and confirmed at twice the size) on narrow
  copies (``width=1/32``): the field does not depend on the width, the cost
  does.  ``analytic_*_narrow`` times the analytic engine on the same narrow
  models, so the ratios compare like with like.
* ``torchscan_*``: torchscan's ``crawl_module`` (hooks, one forward pass),
  a benchmark-only peer, skipped with a printed reason when not importable.
"""

from __future__ import annotations

import warnings

import torch.nn as nn

from rflesson import gradient_rf, receptive_field, zoo

NARROW = 1 / 32


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


def _torchscan():
    try:
        import torchscan
    except ImportError as error:
        print(f"bench_rf: torchscan skipped ({error}); pip install torchscan to compare")
        return None
    return torchscan


def _crawl(torchscan, model, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torchscan.crawl_module(model, shape)


def bench_torchscan_resnet50_224():
    torchscan = _torchscan()
    if torchscan is None:
        return lambda: None
    model = zoo.resnet50()
    info = _crawl(torchscan, model, (3, 224, 224))
    layer4 = [row["rf"] for row in info["layers"] if row["name"] == "layer4"]
    print(
        f"bench_rf: torchscan's RF for ResNet-50: layer4 {layer4}, last layer "
        f"{info['layers'][-1]['rf']}; rflesson: {receptive_field(model, 224, output='layer4').size}"
    )
    return lambda: _crawl(torchscan, model, (3, 224, 224))


def bench_torchscan_resnet18_224():
    torchscan = _torchscan()
    if torchscan is None:
        return lambda: None
    model = zoo.resnet18()
    info = _crawl(torchscan, model, (3, 224, 224))
    layer4 = [row["rf"] for row in info["layers"] if row["name"] == "layer4"]
    print(
        f"bench_rf: torchscan's RF for ResNet-18: layer4 {layer4}, largest "
        f"{max(row['rf'] for row in info['layers'])}; rflesson: "
        f"{receptive_field(model, 224, output='layer4').size}"
    )
    return lambda: _crawl(torchscan, model, (3, 224, 224))


def bench_analytic_resnet18_224():
    model = zoo.resnet18()
    return lambda: receptive_field(model, 224, output="layer4")


def summarize(results: dict[str, float]) -> list[str]:
    """Ratios measured in this run."""
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
    return lines
