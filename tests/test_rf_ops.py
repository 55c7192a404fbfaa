"""Every operation by what it does to each spatial axis (issue: the networks people use).

Each case is checked against back-propagation (``gradient_rf`` for the field,
``gradient_truth.support`` for the pixels of single units), which never reads
the geometry; a few numbers are also worked out by hand.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from gradient_truth import box, support

from rflesson import gradient_rf, input_region, receptive_field, rf_table

FIELDS = ("size", "jump", "start", "center")


def same(a, b) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in FIELDS)


def regions_match(model, sizes, channels=1, units=None):
    """``input_region`` of each unit (or the ones given) equals the gradient's runs."""
    rf = receptive_field(model, sizes)
    n_out = rf.n_out if isinstance(rf.n_out, tuple) else (rf.n_out,)
    units = units or [tuple(u) for u in _corners_and_centre(n_out)]
    for unit in units:
        runs = support(model, sizes, unit, channels)
        region = input_region(model, unit, sizes)
        parts = region.parts if len(sizes) > 1 else (region.parts,)
        clipped = region.clipped if len(sizes) > 1 else (region.clipped,)
        assert parts == runs, (unit, parts, runs)
        assert clipped == tuple(box(r) for r in runs)


def _corners_and_centre(n_out):
    picks = {tuple(0 for _ in n_out), tuple(n - 1 for n in n_out), tuple(n // 2 for n in n_out)}
    return sorted(picks)


class Conv(nn.Module):
    """A 3x3 convolution (padding 1), then ``op``."""

    def __init__(self, op, channels=2):
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 3, padding=1)
        self.op = op

    def forward(self, x):
        return self.op(self.conv(x))


# -- dim-taking operations: pointwise only when the dim is not spatial -----------------


@pytest.mark.parametrize(
    "op",
    [
        lambda y: F.softmax(y, dim=1),
        lambda y: F.log_softmax(y, dim=-3),
        lambda y: F.normalize(y, dim=1),
        lambda y: y.cumsum(1),
        lambda y: F.glu(y, dim=1),
        lambda y: y - y.mean(1, keepdim=True),
    ],
    ids=["softmax-C", "log_softmax-C", "normalize-C", "cumsum-C", "glu-C", "centre-C"],
)
def test_dim_taking_operations_over_channels_are_pointwise(op):
    model = Conv(op, channels=4)
    rf = receptive_field(model, 12)
    assert (rf.size, rf.jump, rf.start, rf.n_out) == ((3, 3), (1, 1), (-1, -1), (12, 12))
    assert not rf.whole_input and rf.note == ""


def test_normalize_over_a_row_mixes_that_axis():
    # the case: F.normalize(x, dim=-1) divides by the norm of a whole row
    model = Conv(lambda y: F.normalize(y, dim=-1))
    region = input_region(model, (0, 0), (9, 9))
    assert region.clipped == ((0, 1), (0, 8))  # rows 0-1 (the 3x3 window), every column
    regions_match(model, (9, 9))
    rf = receptive_field(model, (9, 9))
    assert rf.size == (3, 9) and rf.jump == (1, 1) and rf.n_out == (9, 9)
    assert "normalize" in rf.note and "axes [1]" in rf.note


def test_softmax_over_width_mixes_width_only():
    model = Conv(lambda y: torch.softmax(y, dim=3))
    rf = receptive_field(model, (10, 12))
    assert rf.size == (3, 12) and rf.start == (-1, 0) and not rf.whole_input
    regions_match(model, (10, 12))


def test_glu_over_width_halves_it_and_reads_both_halves():
    # nn.GLU() uses dim=-1: unit u multiplies column u by column u + W/2
    model = Conv(nn.GLU())
    rf = receptive_field(model, (8, 8))
    assert rf.n_out == (8, 4)  # torch: (8, 4)
    assert rf.size == (3, 7)  # columns u-1 .. u+4+1
    regions_match(model, (8, 8))


def test_cumsum_over_an_axis_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"cumsum.*grows with t"):
        receptive_field(Conv(lambda y: y.cumsum(-1)), 8)


# -- reshapes, views, permutes ----------------------------------------------------------------


class FlattenBack(nn.Module):
    """The issue's case: ``x.flatten(2).reshape(b, c, h, w)`` between two 3x3 convolutions."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 2, 3, padding=1)
        self.b = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        y = self.a(x)
        b, c, h, w = y.shape
        return self.b(y.flatten(2).reshape(b, c, h, w))


def test_flatten_then_reshape_back_keeps_positions():
    rf = receptive_field(FlattenBack(), 16)
    assert (rf.size, rf.jump, rf.n_out, rf.whole_input) == ((5, 5), (1, 1), (16, 16), False)
    assert same(rf, gradient_rf(FlattenBack(), 16))


class ChannelsLast(nn.Module):
    """ConvNeXt's block: permute to channels-last, LayerNorm and Linear over C, permute back."""

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 7, padding=3, groups=4)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 8)
        self.back = nn.Linear(8, 4)

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.back(F.gelu(self.fc(self.norm(y))))
        return y.permute(0, 3, 1, 2) + x


def test_linear_and_layer_norm_over_a_channels_last_axis_are_pointwise():
    rf = receptive_field(ChannelsLast(), 20)
    assert rf.size == (7, 7) and rf.jump == (1, 1) and rf.n_out == (20, 20)
    assert same(rf, gradient_rf(ChannelsLast(), 20))


class Shuffle(nn.Module):
    """ShuffleNet's channel shuffle: a view to 5 dimensions moves channels, not positions."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.next = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        b, c, h, w = y.size()
        y = y.view(b, 2, c // 2, h, w).transpose(1, 2).contiguous().view(b, c, h, w)
        return self.next(y)


def test_channel_shuffle_view_is_pointwise_in_space():
    rf = receptive_field(Shuffle(), 16)
    assert rf.size == (7, 7) and rf.jump == (2, 2)
    assert same(rf, gradient_rf(Shuffle(), 16))


def test_view_with_the_shape_unchanged_and_movedim():
    class Views(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)

        def forward(self, x):
            y = self.conv(x)
            b, c, h, w = y.shape
            y = y.view(b, c, h, w).movedim(1, -1).unflatten(-1, (1, c)).flatten(-2)
            return y.movedim(-1, 1)

    rf = receptive_field(Views(), 8)
    assert rf.size == (3, 3) and rf.n_out == (8, 8)


def test_patch_embedding_then_flatten_keeps_one_patch_per_token():
    # the case: nn.Flatten(2) after Conv2d(3, 8, 16, 16) is not global pooling
    model = nn.Sequential(nn.Conv2d(3, 8, 16, 16), nn.Flatten(2))
    rf = receptive_field(model, 64)
    assert (rf.size, rf.jump, rf.start, rf.n_out) == ((16, 16), (16, 16), (0, 0), (4, 4))
    assert not rf.whole_input


def test_a_reshape_that_cuts_across_rows_is_refused_naming_it():
    class Scramble(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 1, 3)
            self.b = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            y = self.a(x)
            return self.b(y.reshape(y.shape[0], 1, y.shape[3], y.shape[2]))

    with pytest.raises(ValueError) as info:
        receptive_field(Scramble(), (10, 6))  # 8 x 4 maps read as 4 x 8
    assert "b (Conv2d)" in str(info.value) and "not one whole spatial axis" in str(info.value)


class TokenMixer(nn.Module):
    """An MLP-Mixer token-mixing layer: a Linear over the flattened positions, reshaped back."""

    def __init__(self, n):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
        self.mix = nn.Linear(n * n, n * n)

    def forward(self, x):
        y = self.conv(x)
        b, c, h, w = y.shape
        return self.mix(y.flatten(2)).reshape(b, c, h, w)


def test_a_linear_layer_over_positions_mixes_them_and_keeps_the_output_units():
    rf = receptive_field(TokenMixer(8), 16)
    assert rf.whole_input and rf.size == (16, 16) and rf.n_out == (8, 8) and rf.jump == (2, 2)
    assert "mix" in rf.note
    assert gradient_rf(TokenMixer(8), 16).whole_input  # seen whole at the one size it takes
    regions_match(TokenMixer(8), (16, 16))


class Attention(nn.Module):
    """The issue's case: nn.MultiheadAttention over the flattened map, reshaped back."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        y = self.conv(x)
        b, c, h, w = y.shape
        t = y.flatten(2).transpose(1, 2)
        t, _ = self.mha(t, t, t)
        return t.transpose(1, 2).reshape(b, c, h, w)


def test_attention_over_the_map_sees_the_whole_input_and_keeps_its_units():
    rf = receptive_field(Attention(), 16)
    assert rf.whole_input and rf.size == (16, 16) and rf.n_out == (16, 16) and rf.jump == (1, 1)
    assert "mha" in rf.note and "multi_head_attention" in rf.note
    assert gradient_rf(Attention(), 16).whole_input


def test_scaled_dot_product_attention_and_einsum_attention():
    class SDPA(nn.Module):
        def __init__(self, einsum):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.einsum = einsum

        def forward(self, x):
            y = self.conv(x)
            b, c, h, w = y.shape
            t = y.flatten(2).transpose(1, 2)  # (b, hw, c)
            if self.einsum:
                a = torch.einsum("bic,bjc->bij", t, t).softmax(-1)
                t = torch.einsum("bij,bjc->bic", a, t)
            else:
                t = F.scaled_dot_product_attention(t, t, t)
            return t.transpose(1, 2).reshape(b, c, h, w)

    for einsum in (False, True):
        rf = receptive_field(SDPA(einsum), 8)
        assert rf.whole_input and rf.n_out == (8, 8)
        assert gradient_rf(SDPA(einsum), 8).whole_input


class ClassToken(nn.Module):
    """A tiny vision transformer: patches, a class token, attention, then the class token."""

    def __init__(self, keep_tokens=False):
        super().__init__()
        self.patch = nn.Conv2d(1, 8, 4, 4)
        self.token = nn.Parameter(torch.zeros(1, 1, 8))
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)
        self.keep_tokens = keep_tokens

    def forward(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.token.expand(t.shape[0], -1, -1), t], dim=1)
        t = t + self.mha(t, t, t, need_weights=False)[0]
        if self.keep_tokens:  # the positions again, as a map
            side = int((t.shape[1] - 1) ** 0.5)
            return t[:, 1:].transpose(1, 2).reshape(t.shape[0], 8, side, side)
        return t[:, 0]


def test_class_token_after_attention_sees_the_whole_input():
    rf = receptive_field(ClassToken(), 16)
    assert rf.whole_input and rf.size == (16, 16) and rf.n_out == (1, 1)
    table = rf_table(ClassToken(), 16)
    assert table["patch"].size == (4, 4) and table["patch"].jump == (4, 4)
    tokens = receptive_field(ClassToken(keep_tokens=True), 16)
    assert tokens.whole_input and tokens.n_out == (4, 4) and tokens.jump == (4, 4)
    assert gradient_rf(ClassToken(keep_tokens=True), 16).whole_input


def test_class_token_before_attention_does_not_depend_on_the_input():
    class Early(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch = nn.Conv2d(1, 8, 4, 4)

        def forward(self, x):
            t = self.patch(x).flatten(2).transpose(1, 2)
            t = torch.cat([torch.zeros(t.shape[0], 1, 8), t], dim=1)
            return t[:, 0]

    with pytest.raises(ValueError, match="class token"):
        receptive_field(Early(), 16)


class Windows(nn.Module):
    """Swin's window attention: cut the map into 4x4 windows, attend inside each."""

    def __init__(self, shift=0):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.shift = shift

    def forward(self, x):
        y = self.conv(x).permute(0, 2, 3, 1)  # (b, h, w, c)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        b, h, w, c = y.shape
        t = y.view(b, h // 4, 4, w // 4, 4, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, 16, c)
        t = (t @ t.transpose(1, 2)).softmax(-1) @ t
        t = t.view(b, h // 4, w // 4, 4, 4, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
        return t.permute(0, 3, 1, 2)


def test_window_attention_reads_its_window_exactly():
    rf = receptive_field(Windows(), 16)
    # unit 0's window is pixels 0..3, read through a 3x3 convolution: -1..4
    assert rf.size == (6, 6) and rf.start == (-1, -1) and rf.jump == (1, 1)
    assert not rf.whole_input
    regions_match(Windows(), (16, 16), units=[(0, 0), (5, 6), (15, 15)])
    assert same(rf, gradient_rf(Windows(), 16, phases=4))


def test_shifted_windows_are_refused_naming_torch_roll():
    with pytest.raises(ValueError) as info:
        receptive_field(Windows(shift=2), 16)
    assert "roll" in str(info.value) and "not one box" in str(info.value)


# -- broadcast merges -----------------------------------------------------------------------------


class Squeeze(nn.Module):
    """Squeeze-and-excitation, in the three ways torchvision and timm write it."""

    def __init__(self, how):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Conv2d(4, 4, 1)
        self.how = how

    def forward(self, x):
        y = self.conv(x)
        s = torch.sigmoid(self.fc(F.adaptive_avg_pool2d(y, 1)))
        if self.how == "mul":
            return y * s
        if self.how == "expand_as":
            return y * s.expand_as(y)
        return torch.cat([y, s.expand_as(y)], dim=1)


@pytest.mark.parametrize("how", ["mul", "expand_as", "cat"])
def test_squeeze_and_excitation_sees_the_whole_input_and_says_why(how):
    rf = receptive_field(Squeeze(how), 12)
    assert rf.whole_input and rf.size == (12, 12) and rf.n_out == (12, 12) and rf.jump == (1, 1)
    assert "adaptive_avg_pool2d" in rf.note and "broadcasts" in rf.note
    assert gradient_rf(Squeeze(how), 12).whole_input


def test_strip_pooling_broadcast_mixes_one_axis():
    # the case: x + x.mean(3, keepdim=True)
    model = Conv(lambda y: y + y.mean(3, keepdim=True))
    rf = receptive_field(model, (9, 11))
    assert rf.size == (3, 11) and rf.start == (-1, 0) and not rf.whole_input
    assert "mean" in rf.note
    regions_match(model, (9, 11))


def test_global_context_attention_pooling_sees_the_whole_input():
    class GlobalContext(nn.Module):
        """GCNet: softmax attention pooling over all positions, added back everywhere."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.key = nn.Conv2d(4, 1, 1)

        def forward(self, x):
            y = self.conv(x)
            b, c, h, w = y.shape
            weights = self.key(y).view(b, 1, h * w).softmax(-1)  # (b, 1, hw)
            context = y.view(b, c, h * w) @ weights.transpose(1, 2)  # (b, c, 1)
            return y + context.unsqueeze(-1)

    rf = receptive_field(GlobalContext(), 10)
    assert rf.whole_input and rf.n_out == (10, 10)
    assert gradient_rf(GlobalContext(), 10).whole_input


def test_broadcasting_one_position_that_is_not_a_summary_is_refused():
    with pytest.raises(ValueError) as info:
        receptive_field(Conv(lambda y: y + y[:, :, :1]), 8)
    assert "add" in str(info.value) and "not a summary of the whole axis" in str(info.value)


# -- padding modes: border units read the pixels the padding copies ------------------------------


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_input_region_follows_every_padding_mode(mode):
    model = nn.Sequential(
        nn.Conv2d(1, 1, 3, padding=2, padding_mode=mode),
        nn.Conv2d(1, 1, 3, stride=2),
        nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode),
    )
    regions_match(model, (11, 12))


def test_circular_padding_says_the_region_is_not_a_box():
    model = nn.Sequential(
        nn.Conv1d(1, 1, 3, padding=2, padding_mode="circular"), nn.Conv1d(1, 1, 3)
    )
    region = input_region(model, 0, 10)
    assert region.parts == ((0, 2), (8, 9)) and region.clipped == (0, 9)
    assert "not one box" in region.note
    assert support(model, (10,), (0,)) == ((region.parts),)


# -- errors that point at the right thing ---------------------------------------------------------


def test_a_recurrent_layer_along_an_axis_is_named():
    class ConvLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.lstm = nn.LSTM(4, 4)

        def forward(self, x):
            sequence = self.conv(x).mean(2).permute(2, 0, 1)  # (width, batch, channels)
            return self.lstm(sequence)[0]

    with pytest.raises(ValueError) as info:
        receptive_field(ConvLSTM(), 16)
    text = str(info.value)
    assert text.startswith("lstm (LSTM)") and "grows with t" in text and "permute" not in text


def test_a_bidirectional_recurrent_layer_mixes_its_axis():
    class BiLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.lstm = nn.LSTM(4, 4, bidirectional=True, batch_first=True)

        def forward(self, x):
            sequence = self.conv(x).mean(2).transpose(1, 2)  # (batch, width, channels)
            return self.lstm(sequence)[0].transpose(1, 2).unsqueeze(2)  # (batch, c, 1, width)

    rf = receptive_field(BiLSTM(), 16)
    assert rf.whole_input and rf.n_out == (1, 14)


def test_a_zero_size_kernel_is_reported_as_such():
    with pytest.warns(UserWarning):
        model = nn.Sequential(nn.Conv2d(1, 1, kernel_size=0))
    with pytest.raises(ValueError, match="a kernel of size 0 along axis 0"):
        receptive_field(model, 8)


def test_stochastic_depth_in_training_drops_whole_rows_pointwise_in_space():
    """EfficientNet's stochastic depth (torchvision.ops.stochastic_depth, mode 'row'):
    each sample is kept or dropped whole, a random (N, 1, 1, 1) factor, not a summary
    of the input, so it changes no field."""

    class Dropped(nn.Module):
        def __init__(self):
            super().__init__()
            self.first, self.second = nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)

        def forward(self, x):
            y = self.first(x)
            keep = torch.empty(y.shape[0], 1, 1, 1).bernoulli_(0.8) / 0.8
            return self.second(y * keep)

    rf = receptive_field(Dropped(), 16)
    assert (rf.size, rf.jump, rf.n_out, rf.whole_input) == ((5, 5), (1, 1), (12, 12), False)
