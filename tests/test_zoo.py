"""The teaching zoo: layer-for-layer architectures, their fields, checked by back-propagation."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from rflesson import gradient_rf, receptive_field, rf_table, zoo

FIELDS = ("size", "jump", "start", "center")


def same(a, b) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in FIELDS)


def _trunk(model: zoo.ResNet) -> nn.Sequential:
    """The ResNet up to ``layer4`` (gradient_rf measures a module's output)."""
    return nn.Sequential(*list(model.children())[:-2])


def test_published_receptive_fields():
    assert receptive_field(zoo.alexnet(width=1 / 16).features, 224).size == (195, 195)
    assert receptive_field(zoo.vgg16(width=1 / 16).features, 224).size == (212, 212)
    assert receptive_field(zoo.resnet18(width=1 / 16), 224, output="layer4").size == (435, 435)
    assert receptive_field(zoo.context_module(4), 64).size == (67, 67)
    assert receptive_field(zoo.wavenet(4), 2048).size == 1024
    assert receptive_field(zoo.wavenet(4, blocks=2), 4096).size == 2047


def test_resnet50_v15_layout():
    rf = receptive_field(zoo.resnet50(width=1 / 16), 224, output="layer4")
    assert rf.size == (427, 427) and rf.jump == (32, 32) and rf.n_out == (7, 7)


def test_alexnet_table_matches_the_recurrences():
    features = zoo.alexnet(width=1 / 16).features
    table = rf_table(features, 227, pointwise=False)
    assert [r.size[0] for r in table] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert [r.jump[0] for r in table] == [4, 8, 8, 16, 16, 16, 16, 32]
    # torchvision's conv1 has padding 2: (227 + 4 - 11) / 4 + 1 = 56
    assert [r.n_out[0] for r in table] == [56, 27, 27, 13, 13, 13, 13, 6]
    assert table[-1].n_out == tuple(features(torch.zeros(1, 3, 227, 227)).shape[2:])


def test_table_stops_at_an_output():
    table = rf_table(zoo.resnet18(width=1 / 16), 224, output="layer2", pointwise=False)
    assert table[-1].name.startswith("layer2.1") and table[-1].size == (99, 99)


def test_context_module_follows_yu_koltun_table_1():
    table = rf_table(zoo.context_module(2), 64, pointwise=False)
    assert [r.size[0] for r in table] == [3, 5, 9, 17, 33, 65, 67, 67]


def test_wavenet_is_causal():
    rf = receptive_field(zoo.wavenet(2), 2048)
    assert rf.start == -1023 and rf.start + rf.size - 1 == 0  # unit 0 sees only the past


def test_torchvision_names():
    names = {n for n, _ in zoo.resnet18().named_modules()}
    assert {"layer4.1.conv2", "layer2.0.downsample.0", "fc"} <= names
    assert isinstance(zoo.vgg16().features[28], nn.Conv2d)
    block = zoo.resnet50(width=1 / 16).layer2[0]
    assert block.conv2.stride == (2, 2) and block.conv1.stride == (1, 1)  # v1.5
    assert sum(p.numel() for p in zoo.resnet18().parameters()) == 11_689_512


@pytest.mark.parametrize(
    "name, build, size, phases",
    [
        ("alexnet", lambda: zoo.alexnet(width=1 / 16).features, 64, 1),
        ("vgg16", lambda: zoo.vgg16(width=1 / 64).features, 64, 1),
        ("resnet18", lambda: _trunk(zoo.resnet18(width=1 / 64)), 64, 1),
        ("resnet50", lambda: _trunk(zoo.resnet50(width=1 / 64)), 64, 1),
        ("unet", lambda: zoo.unet(base=1, depth=2), 64, 4),
        ("context", lambda: zoo.context_module(2), 64, 1),
        ("wavenet", lambda: zoo.wavenet(2), 256, 1),
    ],
)
def test_analytic_equals_gradient(name, build, size, phases):
    torch.manual_seed(0)
    model = build()
    assert same(receptive_field(model, size), gradient_rf(model, size, phases=phases))


def test_whole_classifiers_see_the_whole_input():
    for model in (zoo.alexnet(width=1 / 32), zoo.resnet18(width=1 / 32)):
        rf = receptive_field(model, 96)
        assert rf.whole_input and rf.size == (96, 96)
        assert gradient_rf(model, 96).whole_input


def test_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        zoo.resnet18(width=0)
    with pytest.raises(TypeError, match="layers"):
        zoo.wavenet(layers=2.5)
