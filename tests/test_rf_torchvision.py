"""Every torchvision classification family: the exact field of its trunk, checked by back-propagation.

For each family the analytic field after every block of the trunk is
compared with the composition of the fields ``gradient_rf`` measures on each
block alone (a whole trunk at the sizes its field needs is beyond what
``gradient_rf`` can afford in float64).  Blocks are composed with Dang Ha The
Hien's recurrences: a block whose unit ``u`` reads its input units
``[s + j u, s + j u + r - 1]``, after a field ``(R, J, S)``, gives
``(R + (r - 1) J, J j, S + J s)``.  Once a block makes every unit see the
whole input (squeeze-and-excitation), every later row must say so too.

torchvision is test-only; see ``torchvision_models`` for how it is imported.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torchvision_models as tvm

from rflesson import gradient_rf, input_region, receptive_field, rf_table

models = tvm.load()
pytestmark = pytest.mark.skipif(
    models is None,
    reason=f"torchvision is not installed: pip install --no-deps torchvision=={tvm.VERSION} pillow",
)

# (size, jump, start) of the trunk's output, or the reason every unit sees the whole input
EXPECTED = {
    "alexnet": (195, 32, -66),
    "vgg16": (212, 32, -90),
    "resnet50": (427, 32, -213),
    "resnext50_32x4d": (427, 32, -213),
    "wide_resnet50_2": (427, 32, -213),
    "densenet121": (2071, 32, -1021),
    "googlenet": (379, 32, -167),
    "inception_v3": (1311, 32, -618),
    "squeezenet1_0": (155, 16, -60),
    "mobilenet_v2": (491, 32, -245),
    "mobilenet_v3_large": "squeeze-and-excitation",
    "mobilenet_v3_small": "squeeze-and-excitation",
    "mnasnet1_0": (843, 32, -421),
    "shufflenet_v2_x1_0": (527, 32, -263),
    "efficientnet_b0": "squeeze-and-excitation",
    "regnet_x_400mf": (975, 32, -487),
    "regnet_y_400mf": "squeeze-and-excitation",
    "convnext_tiny": (1688, 32, -828),
}

_SPATIAL = (
    nn.modules.conv._ConvNd,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
)


def _blocks(trunk: nn.Module):
    """``(name, block)`` in call order: plain ``nn.Sequential`` stages are opened up."""
    for name, child in trunk.named_children():
        if type(child) is nn.Sequential:
            for sub, block in child.named_children():
                yield f"{name}.{sub}", block
        else:
            yield name, child


def _measured_block(block: nn.Module, channels: int, cache: dict):
    """``(r, j, s)`` of one block alone, or ``'whole'``; identical blocks are measured once."""
    key = repr(block)
    if key not in cache:
        if not any(isinstance(m, _SPATIAL) for m in block.modules()):
            cache[key] = (1, 1, 0)  # activations and norms: pointwise
        elif type(block).__name__ == "_DenseBlock":
            cache[key] = _dense_block(block, channels, cache)
        else:
            g = gradient_rf(block, 16, channels=channels)
            cache[key] = "whole" if g.whole_input else (g.size[0], g.jump[0], g.start[0])
    return cache[key]


def _dense_block(block: nn.Module, channels: int, cache: dict):
    """A DenseNet block concatenates its input and every layer's output: the widest chain wins.

    Each layer is measured alone; layer k reads all earlier outputs, which
    are aligned (jump 1), so the block's field is the union of the chains
    through 0..k layers: ``[min start, max end]``.
    """
    chain = (1, 1, 0)
    start, end = 0, 0
    for layer in block.values():
        r, j, s = _measured_block(layer, channels, cache)
        assert j == 1
        chain = (chain[0] + r - 1, 1, chain[2] + s)
        start, end = min(start, chain[2]), max(end, chain[2] + chain[0] - 1)
        channels += layer.conv2.out_channels
    return (end - start + 1, 1, start)


def _compose(total, block):
    if total == "whole" or block == "whole":
        return "whole"
    (big_r, big_j, big_s), (r, j, s) = total, block
    return (big_r + (r - 1) * big_j, big_j * j, big_s + big_j * s)


def _row(rf) -> tuple | str:
    return "whole" if rf.whole_input else (rf.size[0], rf.jump[0], rf.start[0])


@pytest.mark.parametrize("family", list(tvm.TRUNKS))
def test_family_trunk_field_equals_the_composed_gradient(family):
    trunk, size = tvm.build(models, family)
    rf = receptive_field(trunk, size)
    expected = EXPECTED[family]
    if isinstance(expected, str):
        assert rf.whole_input and rf.size == (size, size) and expected in rf.note
    else:
        assert (_row(rf), rf.jump, rf.n_out[0]) == (
            expected,
            (32, 32) if expected[1] == 32 else (16, 16),
            rf.n_out[0],
        )
    by_depth = {1: rf_table(trunk, size, depth=1), 2: rf_table(trunk, size, depth=2)}
    x = torch.zeros(1, 3, size, size)
    total, cache = (1, 1, 0), {}
    for name, block in _blocks(trunk):
        channels = x.shape[1]
        with torch.no_grad():
            x = block(x)  # the real block, to know the next block's channels
        total = _compose(total, _measured_block(block, channels, cache))
        row = by_depth[name.count(".") + 1][name]
        assert _row(row) == total, name
    assert _row(rf) == total


def test_vision_transformer_sees_the_whole_input_after_its_first_attention():
    vit = tvm.whole_model(models, "vit_b_16")
    rf = receptive_field(vit, 224)
    assert rf.whole_input and rf.size == (224, 224) and rf.n_out == (1, 1)
    assert "encoder.layers.encoder_layer_0.self_attention" in rf.note
    table = rf_table(vit, 224, depth=3)
    patch = table["conv_proj"]
    assert (patch.size, patch.jump, patch.start, patch.n_out) == (
        (16, 16),
        (16, 16),
        (0, 0),
        (14, 14),
    )
    first = table["encoder.layers.encoder_layer_0"]
    assert first.whole_input and first.n_out == (14, 14) and first.jump == (16, 16)
    # the same code, small enough for back-propagation in float64
    small = models.VisionTransformer(32, 8, 2, 2, 16, 32).eval()
    assert gradient_rf(small, 32).whole_input
    assert receptive_field(small, 32).whole_input


def test_swin_first_block_is_exact_and_the_shifted_window_is_refused_naming_roll():
    swin = tvm.whole_model(models, "swin_t").features
    with pytest.raises(ValueError) as info:
        receptive_field(swin, 224)
    assert "1.1.attn" in str(info.value) and "roll" in str(info.value)
    first = receptive_field(swin, 224, output="1.0")
    # a 7x7 window of 4x4 patches: unit 0 reads pixels 0..27, jump 4, not the whole input
    assert (first.size, first.jump, first.start, first.whole_input) == (
        (28, 28),
        (4, 4),
        (0, 0),
        False,
    )
    channels_first = nn.Sequential(swin[0], swin[1][0], tvm.permute(models, [0, 3, 1, 2])).eval()
    assert receptive_field(channels_first, 112).size == (28, 28)
    measured = gradient_rf(channels_first, 112, phases=7)
    assert (measured.size, measured.jump) == ((28, 28), (4, 4))
    for unit in [(0, 0), (3, 9), (27, 27)]:
        region = input_region(channels_first, unit, 112)
        window = tuple((u // 7 * 28, u // 7 * 28 + 27) for u in unit)
        assert region.clipped == window


def test_per_stage_table_of_a_whole_resnet():
    table = rf_table(tvm.whole_model(models, "resnet50"), 224, depth=1)
    assert [r.name for r in table] == [
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "fc",
    ]  # fmt: skip  (torch.flatten only moves dimensions: no row of its own)
    assert [r.op for r in table][4:8] == ["Sequential"] * 4
    assert [r.size[0] for r in table][4:8] == [35, 91, 267, 427]
    assert table["fc"].whole_input and "avgpool" in table["fc"].note
