"""Receptive fields of torch modules: tracing, every operation kind, errors, no side effects.

Each awkward network is checked against ``gradient_rf``, which measures the
field by back-propagation and never reads the geometry.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import rflesson as rfl
from rflesson import gradient_rf, input_region, receptive_field, rf_table
from rflesson.trace import trace_windows

FIELDS = ("size", "jump", "start", "center")


def same(a, b) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in FIELDS)


# -- a gallery of awkward networks ------------------------------------------------


class FunctionalPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3)

    def forward(self, x):
        return F.avg_pool2d(F.max_pool2d(self.conv(x), 3, 2, 1, ceil_mode=True), 2)


class PadThenSame(nn.Module):
    """Asymmetric zero pad, reflect F.pad, then 'same' with an even kernel and dilation."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((0, 1, 2, 0))
        self.even = nn.Conv2d(2, 2, 4, padding="same")
        self.dilated = nn.Conv2d(2, 2, (2, 3), padding="same", dilation=(3, 1))

    def forward(self, x):
        return self.dilated(self.even(F.pad(self.pad(x), (1, 0, 0, 0), mode="reflect")))


class Transposed(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(2, 2, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1)
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(self.up(self.down(x)))


class NonSquare(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 2, (3, 7), stride=(1, 3), padding=(1, 2))
        self.pool = nn.MaxPool2d((2, 3), (2, 1), dilation=(1, 2))
        self.b = nn.Conv2d(2, 2, (5, 1), stride=(2, 1))

    def forward(self, x):
        return self.b(self.pool(self.a(x)))


class Block(nn.Module):
    """A ResNet basic block with a strided 1x1 shortcut."""

    def __init__(self, stride):
        super().__init__()
        self.c1 = nn.Conv2d(2, 2, 3, stride, 1)
        self.c2 = nn.Conv2d(2, 2, 3, 1, 1)
        self.shortcut = nn.Conv2d(2, 2, 1, stride)

    def forward(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))) + self.shortcut(x))


class Upsampling(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.mode = mode
        self.down = nn.Conv2d(2, 2, 3, stride=4, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode=mode)
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        y = self.up(F.interpolate(self.down(x), scale_factor=2, mode=self.mode))
        return self.conv(y) + x


class Unaligned(nn.Module):
    """Two branches whose fields are not centred alike: the union counts."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 2, 3, padding=1)
        self.b = nn.Conv2d(2, 2, 5)

    def forward(self, x):
        return self.a(x)[:, :, 2:-2, 2:-2] * self.b(x)


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 2, 3, padding=1)
        self.b = nn.Conv2d(2, 2, 7, padding=3, dilation=1)

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x), x], dim=1)


GALLERY = {
    "functional pool": (FunctionalPool, 32, 1),
    "pad then same": (PadThenSame, 32, 1),
    "transposed conv": (Transposed, 32, 2),
    "non-square kernel and stride": (NonSquare, (32, 48), 1),
    "resnet blocks": (
        lambda: nn.Sequential(nn.Conv2d(2, 2, 3), Block(2), Block(1), Block(2)),
        32,
        1,
    ),
    "upsample nearest": (lambda: Upsampling("nearest"), 32, 4),
    "upsample bilinear": (lambda: Upsampling("bilinear"), 32, 4),
    "upsample bicubic": (lambda: Upsampling("bicubic"), 32, 4),
    "unaligned merge": (Unaligned, 32, 1),
    "concat": (Concat, 32, 1),
    "conv1d ceil_mode dilation": (
        lambda: nn.Sequential(
            nn.Conv1d(1, 1, 5, 2, padding=2),
            nn.MaxPool1d(3, 2, ceil_mode=True),
            nn.Conv1d(1, 1, 3, dilation=4),
        ),
        64,
        1,
    ),
    "conv3d": (
        lambda: nn.Sequential(
            nn.Conv3d(1, 1, 3, (1, 2, 2), 1), nn.AvgPool3d(2), nn.Conv3d(1, 1, (1, 3, 3))
        ),
        16,
        1,
    ),
    "pixel shuffle": (
        lambda: nn.Sequential(
            nn.Conv2d(2, 8, 3, 2, 1), nn.PixelShuffle(2), nn.Conv2d(2, 2, 3, padding=1)
        ),
        32,
        2,
    ),
    "replicate and circular padding": (
        lambda: nn.Sequential(
            nn.Conv2d(2, 2, 3, padding=2, padding_mode="replicate"),
            nn.ReplicationPad2d((1, 0, 0, 3)),
            nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"),
        ),
        32,
        1,
    ),
}


@pytest.mark.parametrize("name", list(GALLERY))
def test_gallery_analytic_equals_gradient(name):
    build, size, phases = GALLERY[name]
    torch.manual_seed(0)
    model = build()
    assert same(receptive_field(model, size), gradient_rf(model, size, phases=phases))


def test_gallery_values():
    # a few numbers worked out by hand, so the pair above cannot agree on nonsense
    assert receptive_field(FunctionalPool(), 32).size == (7, 7)  # 3, +2 (pool 3), +2*2 (pool 2)
    assert receptive_field(Block(2), 16).size == (7, 7)  # 3 (stride 2) then 3: 3 + 2*2
    up = receptive_field(Upsampling("nearest"), 32)
    assert up.jump == (1, 1) and up.size == (7, 7)  # x itself adds 1 at unit 0's own pixel


# -- operations one by one ------------------------------------------------------------


def test_sequential_of_modules_and_list_of_modules():
    layers = [nn.Conv2d(1, 1, 3, 2, 1), nn.ReLU(), nn.Conv2d(1, 1, 3, 2, 1)]
    assert receptive_field(nn.Sequential(*layers)).size == (7, 7)
    assert receptive_field(layers).size == (7, 7)


def test_nested_modules_keep_their_paths():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), Block(2))
    names = [row.name for row in rf_table(model)]
    assert names[:2] == ["0.0", "0.1"]
    assert "1.c1" in names and "1.shortcut" in names and names[-1].startswith("1.")


def test_same_padding_even_kernel_puts_extra_after():
    rf = receptive_field(nn.Conv1d(1, 1, 4, padding="same"), 10)
    assert (rf.start, rf.size, rf.n_out) == (-1, 4, 10)


def test_pad_forms():
    for pad in (
        nn.ZeroPad2d((0, 2, 1, 0)),
        nn.ReflectionPad2d((0, 2, 1, 0)),
        nn.ConstantPad2d((0, 2, 1, 0), 3.0),
    ):
        rf = receptive_field(nn.Sequential(pad, nn.Conv2d(1, 1, 3)), 8)
        assert rf.start == (-1, 0) and rf.n_out == (7, 8)


def test_negative_pad_crops():
    class Crop(nn.Module):
        def forward(self, x):
            return F.conv1d(F.pad(x, (-2, -1)), torch.ones(1, 1, 3))

    rf = receptive_field(Crop(), 12)
    assert (rf.start, rf.size, rf.n_out) == (2, 3, 7)


def test_ceil_mode_changes_only_the_length():
    floor = receptive_field(nn.MaxPool1d(2, 2), 5)
    ceil = receptive_field(nn.MaxPool1d(2, 2, ceil_mode=True), 5)
    assert (floor.n_out, ceil.n_out) == (2, 3)
    assert same(floor, ceil)


def test_transposed_jump_is_a_fraction_and_size_the_max_over_phases():
    rf = receptive_field(nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1))
    assert rf.jump == Fraction(1, 2) and rf.size == 2
    # kernel smaller than the stride: odd outputs see nothing, the field is still 1
    rf = receptive_field(nn.ConvTranspose1d(1, 1, 1, stride=2))
    assert rf.size == 1 and rf.jump == Fraction(1, 2)


def test_upsampling_modes():
    conv = nn.Conv1d(1, 1, 1)
    assert receptive_field(nn.Sequential(conv, nn.Upsample(scale_factor=2))).jump == Fraction(1, 2)
    linear = nn.Sequential(conv, nn.Upsample(scale_factor=2, mode="linear"))
    assert receptive_field(linear).size == 2
    corners = nn.Sequential(
        nn.Conv1d(1, 1, 3), nn.Upsample(scale_factor=2, mode="linear", align_corners=True)
    )
    with pytest.raises(ValueError, match="align_corners=True needs input_size"):
        receptive_field(corners)
    # 17 -> 15 -> 30: output u samples u * 14 / 29, a period of 29 units
    rf = receptive_field(corners, 17)
    assert rf.jump == Fraction(14, 29) and rf.size == 4
    # the geometry depends on the input size, so gradient_rf (which grows the
    # input) cannot check it: compare every unit with its gradient at size 17
    twin = nn.Sequential(nn.Conv1d(1, 1, 3).double(), corners[1])
    nn.init.constant_(twin[0].weight, 1.0)
    nn.init.zeros_(twin[0].bias)
    x = torch.rand(1, 1, 17, dtype=torch.float64, requires_grad=True)
    y = twin(x)
    widths = []
    for u in range(y.shape[-1]):
        (g,) = torch.autograd.grad(y[0, 0, u], x, retain_graph=True)
        seen = torch.nonzero(g[0, 0]).flatten().tolist()
        assert input_region(corners, u, 17).clipped == (seen[0], seen[-1])
        widths.append(seen[-1] - seen[0] + 1)
    assert max(widths) == rf.size


def test_interpolate_to_a_size_needs_input_size():
    class Up(nn.Module):
        def forward(self, x):
            return F.interpolate(F.conv1d(x, torch.ones(1, 1, 3)), size=20)

    assert receptive_field(Up(), 12).jump == Fraction(1, 2)
    with pytest.raises(ValueError, match="input_size"):
        receptive_field(Up())


def test_pointwise_operations_change_nothing():
    base = nn.Conv2d(3, 4, 5, 2)
    for extra in (
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout2d(),
        nn.Identity(),
        nn.GELU(),
        nn.GroupNorm(2, 4),
        nn.Softmax2d(),
    ):
        assert same(receptive_field(nn.Sequential(base, extra)), receptive_field(base))


def test_functional_pointwise_and_scalar_arithmetic():
    class Net(nn.Module):
        def forward(self, x):
            y = F.conv2d(x, torch.ones(1, 1, 3, 3))
            return torch.sigmoid(F.leaky_relu(y * 2 + 1).clamp(0, 1)) / 3

    assert receptive_field(Net()).size == (3, 3)


def test_merge_with_different_jumps_names_the_merge():
    class Bad(nn.Module):
        """A strided branch (jump 2) added to the first half of the input (jump 1)."""

        def __init__(self):
            super().__init__()
            self.a = nn.Conv1d(1, 1, 1, stride=2)

        def forward(self, x):
            return self.a(x) + x[:, :, : x.shape[2] // 2]

    with pytest.raises(ValueError) as info:
        receptive_field(Bad(), 16)
    assert "add" in str(info.value) and "jumps differ" in str(info.value)


def test_global_pooling_and_flatten_make_the_whole_input():
    model = rfl.zoo.alexnet(num_classes=3, width=1 / 32)
    rf = receptive_field(model, 96)
    assert rf.whole_input and rf.size == (96, 96) and "whole input" in rf.note
    with pytest.raises(ValueError, match="pass input_size"):
        receptive_field(model)
    gap = nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1, 2))
    assert receptive_field(gap, (20, 30)).size == (20, 30)
    assert gradient_rf(gap, (20, 30)).whole_input


def test_output_selects_a_node_or_module_path():
    model = rfl.zoo.resnet18(width=1 / 16)
    assert receptive_field(model, 64, output="layer4").size == (435, 435)
    assert receptive_field(model, 64, output="layer1").size == (43, 43)  # 7, +2*2, +4*2*4
    assert receptive_field(model, 64, output="conv1").size == (7, 7)
    with pytest.raises(ValueError, match="layer9"):
        receptive_field(model, 64, output="layer9")


def test_input_region_of_a_module():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, 2, 1), nn.Conv2d(1, 1, 3, 2, 1))
    region = input_region(model, (0, 1), 8)
    assert region.unclipped == ((-3, 3), (1, 7))
    assert region.clipped == ((0, 3), (1, 7))


def test_input_region_matches_gradient_support_at_the_border():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(1, 1, 3, 2), nn.Conv1d(1, 1, 2, padding=1, dilation=2), nn.ReLU()
    )
    n = 9
    x = torch.rand(1, 1, n, dtype=torch.float64, requires_grad=True)
    twin = nn.Sequential(*[m.double() for m in model])
    for m in twin:
        if isinstance(m, nn.Conv1d):
            nn.init.constant_(m.weight, 1.0)
            nn.init.zeros_(m.bias)
    y = twin(x)
    for u in range(y.shape[-1]):
        (g,) = torch.autograd.grad(y[0, 0, u], x, retain_graph=True)
        seen = torch.nonzero(g[0, 0]).flatten().tolist()
        clipped = input_region(model, u, n).clipped
        assert (clipped == (seen[0], seen[-1])) if seen else clipped[0] > clipped[1]


# -- tracing details --------------------------------------------------------------------


def test_trace_windows_describes_the_graph():
    nodes, ndim = trace_windows(Block(2))
    assert ndim == 2
    assert nodes[0].name == "input" and nodes[0].kind == "input"
    kinds = {n.name: n.kind for n in nodes}
    assert kinds["c1"] == "window" and kinds["add"] == "merge" and kinds["relu"] == "pointwise"
    merge = next(n for n in nodes if n.kind == "merge")
    assert set(merge.inputs) == {"c2", "shortcut"}
    c1 = next(n for n in nodes if n.name == "c1")
    assert c1.axes[0].taps(1) == (1, 2, 3)


def test_untraceable_forward_uses_the_recording_fallback():
    class Untraceable(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 1, 3)
            self.b = nn.Conv2d(1, 1, 5)

        def forward(self, x):
            if int(x.shape[-1]) > 10:  # fx cannot trace int() of a proxy
                x = self.b(x)
            return F.max_pool2d(self.a(x), 2) + 1

    model = Untraceable()
    big, small = receptive_field(model, 32), receptive_field(model, 8)
    assert big.size == (8, 8) and small.size == (4, 4)
    assert same(big, gradient_rf(model, 32))


def test_unknown_operation_names_path_and_type():
    class Weird(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)
            self.attn = nn.Linear(4, 4)

        def forward(self, x):
            return self.attn(self.conv(x))

    with pytest.raises(ValueError) as info:
        receptive_field(Weird())
    assert "attn" in str(info.value) and "Linear" in str(info.value)

    class Flip(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(x).flip(3)

    with pytest.raises(ValueError) as info:
        receptive_field(Flip())
    assert "flip" in str(info.value) and "reverses the order of positions" in str(info.value)


def test_transpose_relabels_axes_and_a_mismatched_merge_is_refused():
    class Transpose(nn.Module):
        def forward(self, x):
            return F.conv2d(x, torch.ones(1, 1, 3, 5)).transpose(2, 3)

    # the field is reported per input axis: 3 rows by 5 columns, whatever the layout
    assert receptive_field(Transpose(), 16).size == (3, 5)

    class Crossed(nn.Module):
        def forward(self, x):
            y = F.conv2d(x, torch.ones(1, 1, 3, 3))
            return y + y.transpose(2, 3)  # unit (i, j) adds unit (j, i): not one field

    with pytest.raises(ValueError, match="do not line up"):
        receptive_field(Crossed(), 16)


def test_cat_along_a_spatial_axis_is_refused():
    class Tile(nn.Module):
        def forward(self, x):
            y = F.conv1d(x, torch.ones(1, 1, 3))
            return torch.cat([y, y], dim=2)

    with pytest.raises(ValueError, match="dim=2"):
        receptive_field(Tile())


def test_several_outputs_ask_for_output():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv1d(1, 1, 3)
            self.b = nn.Conv1d(1, 1, 5)

        def forward(self, x):
            return self.a(x), self.b(x)

    with pytest.raises(ValueError, match="output="):
        receptive_field(Two())
    assert receptive_field(Two(), output="b").size == 5


# -- bad input and no side effects ---------------------------------------------------


def test_model_without_spatial_layer():
    with pytest.raises(ValueError, match="no spatial layer"):
        receptive_field(nn.Sequential(nn.Linear(3, 3), nn.ReLU()))


def test_module_input_too_small_says_the_minimum():
    with pytest.raises(ValueError) as info:
        receptive_field(rfl.zoo.alexnet(width=1 / 32).features, 50)
    assert "smallest input it takes is (63, 63)" in str(info.value)
    receptive_field(rfl.zoo.alexnet(width=1 / 32).features, 63)
    with pytest.raises(RuntimeError):
        rfl.zoo.alexnet(width=1 / 32).features(torch.zeros(1, 3, 62, 62))


def test_mixed_dimensions_are_refused():
    with pytest.raises(ValueError, match="different dimensions"):
        receptive_field(nn.Sequential(nn.Conv1d(1, 1, 3), nn.Conv2d(1, 1, 3)))


def _checksum(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("training", [True, False])
def test_no_side_effects(training):
    torch.manual_seed(0)
    model = rfl.zoo.resnet18(width=1 / 16)
    model.train(training)
    model.layer1[0].bn1.running_mean.fill_(0.25)
    before = _checksum(model)
    flags = [m.training for m in model.modules()]
    receptive_field(model, 64, output="layer4")
    rf_table(model, 64)
    input_region(model, 0, 64)
    gradient_rf(model.layer1, 16, channels=4)

    class Untraceable(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner.layer1(self.inner.conv1(x)) if int(x.shape[-1]) else x

    receptive_field(Untraceable(model), 32)
    assert _checksum(model) == before
    assert [m.training for m in model.modules()] == flags
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in model.parameters())
    assert int(model.layer1[0].bn1.num_batches_tracked) == 0


def test_sizes_known_only_at_run_time_use_the_recording():
    class SkipUp(nn.Module):
        """A decoder step that upsamples to its skip connection's size."""

        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(1, 1, 3, stride=2, padding=1)
            self.conv = nn.Conv2d(2, 1, 3, padding=1)

        def forward(self, x):
            up = F.interpolate(self.down(x), size=x.shape[2:], mode="bilinear")
            return self.conv(torch.cat([x, up], dim=1))

    model = SkipUp()
    rf = receptive_field(model, 32)
    assert rf.jump == (1, 1)
    assert same(rf, gradient_rf(model, 32, phases=2))
