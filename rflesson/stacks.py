"""The experimental networks of the effective-receptive-field lesson.

Luo, Li, Urtasun and Zemel (2016, "Understanding the Effective Receptive
Field in Deep Convolutional Neural Networks", arXiv 1701.04128) study plain
stacks of convolutions: all weights equal ("uniform"), or random; with or
without a nonlinearity; with sub-sampling, dilation, dropout or skip
connections.  :func:`conv_stack` builds exactly these, as a small torch
module that also knows its own geometry (:meth:`ConvStack.layers`), so the
theoretical receptive field comes from rflesson's RF engine, not from
arithmetic repeated here.

>>> net = conv_stack(4, 3, channels=2, weights="uniform")
>>> len(net.layers())
4
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

from ._validate import as_bool, as_float, as_int, one_of, shown
from .layers import Layer

#: Limits that keep a stack buildable (and measurable) in seconds and well under 2 GB.
#: Read at each call: raise one (``rflesson.stacks.MAX_DEPTH = 5000``) if you need more.
MAX_DEPTH = 1000  # layers
MAX_WEIGHTS = 2**24  # weights in all the convolutions together (64 MiB in float32)
MAX_STRIDE = 64  # beyond this, torch's backward pass slows down with the square of the stride
MAX_SPAN = 2**20  # dilation * (kernel_size - 1) + 1: the pixels one kernel spans

WEIGHTS = ("random", "uniform")
ACTIVATIONS = (None, "relu", "tanh", "sigmoid")
_ACTIVATION_MODULES = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _per_layer(name: str, value: object, depth: int) -> tuple[int, ...]:
    """An int for every layer, or a sequence with one int per layer."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (as_int(name, value, minimum=1),) * depth
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != depth:
            raise ValueError(
                f"{name} must be an int or one value per layer ({depth}); got {len(value)} values"
            )
        return tuple(as_int(name, v, minimum=1) for v in value)
    raise TypeError(f"{name} must be an int or a sequence of ints, got {shown(value)}")


def _check_limits(
    depth: int,
    kernel_size: int,
    channels: int,
    in_channels: int,
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
) -> None:
    """Refuse at once a stack beyond the documented limits (``MAX_DEPTH`` and co.)."""
    if depth > MAX_DEPTH:
        raise ValueError(
            f"depth must be at most rflesson.stacks.MAX_DEPTH = {MAX_DEPTH}, got {depth} "
            f"(raise the limit if you need more)"
        )
    weights = (in_channels + (depth - 1) * channels) * channels * kernel_size**2
    if weights > MAX_WEIGHTS:
        raise ValueError(
            f"this stack would hold {weights:,} weights (depth, kernel_size, channels, "
            f"in_channels), more than rflesson.stacks.MAX_WEIGHTS = {MAX_WEIGHTS:,}"
        )
    if max(strides) > MAX_STRIDE:
        raise ValueError(
            f"stride must be at most rflesson.stacks.MAX_STRIDE = {MAX_STRIDE}, got {max(strides)}"
        )
    span = max(dilations) * (kernel_size - 1) + 1
    if span > MAX_SPAN:
        raise ValueError(
            f"dilation {max(dilations)} makes a {kernel_size}-tap kernel span {span:,} pixels, "
            f"more than rflesson.stacks.MAX_SPAN = {MAX_SPAN:,}"
        )


class ConvStack(nn.Module):
    """``depth`` 2-D convolutions, each optionally followed by an activation and dropout.

    Layer ``i`` is ``conv_i`` (padding ``dilation * (kernel - 1) // 2``, no
    bias) -> activation -> dropout; with ``skip`` it becomes
    ``x + dropout(activation(conv_i(x)))`` wherever the shapes allow (stride
    1 and as many input as output channels).
    """

    def __init__(
        self,
        convs: list[nn.Conv2d],
        activation: str | None,
        dropout: float,
        skip: bool,
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(convs)
        self.activation = activation
        self.act = _ACTIVATION_MODULES[activation]() if activation else nn.Identity()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.skip = skip

    def _has_skip(self, conv: nn.Conv2d) -> bool:
        return self.skip and conv.stride == (1, 1) and conv.in_channels == conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            y = self.drop(self.act(conv(x)))
            x = x + y if self._has_skip(conv) else y
        return x

    def layers(self) -> list[Layer]:
        """The stack's geometry as a list of :class:`rflesson.Layer` (for the RF engine).

        A skip connection never widens the receptive field: the longest path,
        through every convolution, has the largest field.
        """
        return [
            Layer(c.kernel_size, stride=c.stride, padding=c.padding, dilation=c.dilation)
            for c in self.convs
        ]


def conv_stack(
    depth: int,
    kernel_size: int = 3,
    *,
    channels: int = 4,
    in_channels: int = 1,
    weights: str = "random",
    activation: str | None = None,
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    dropout: float = 0.0,
    skip: bool = False,
) -> ConvStack:
    """A stack of ``depth`` square ``kernel_size`` convolutions, as in Luo et al. 2016.

    * ``weights="uniform"``: every weight ``1 / fan_in`` (so values stay near
      the input's scale at any depth).  Without a nonlinearity the stack is
      then an exact ``depth``-fold box filter: the case with a closed form.
    * ``weights="random"``: independent Gaussian weights with standard
      deviation ``gain / sqrt(fan_in)`` (the gain of the activation, from
      ``torch.nn.init.calculate_gain``: 1 without one, sqrt(2) for ReLU), drawn
      from torch's global generator; seed it (or let :func:`rflesson.erf_map`
      do it) to repeat a draw.
    * ``activation``: None, ``"relu"``, ``"tanh"`` or ``"sigmoid"`` after every
      convolution.
    * ``stride``, ``dilation``: an int for every layer, or one value per layer
      (``stride=(2, 2, 1, 1)`` sub-samples twice, at the start).
    * ``dropout``: probability of ``nn.Dropout`` after every layer; active only
      in training mode (the module starts in training mode, as every torch
      module does).
    * ``skip``: residual connections ``x + f(x)`` where shapes allow.

    No biases: Luo et al.'s analysis has none, and a bias does not change a
    linear stack's gradient.  ``in_channels`` input channels, ``channels``
    channels everywhere else (the output too).

    Limits (module constants, raise them if you need more): at most
    ``MAX_DEPTH`` (1000) layers, ``MAX_WEIGHTS`` (2**24) weights in all,
    stride at most ``MAX_STRIDE`` (64), and a kernel span
    ``dilation * (kernel_size - 1) + 1`` of at most ``MAX_SPAN`` (2**20)
    pixels.  Beyond them the call is refused at once with a ``ValueError``.
    """
    depth = as_int("depth", depth, minimum=1)
    kernel_size = as_int("kernel_size", kernel_size, minimum=1)
    channels = as_int("channels", channels, minimum=1)
    in_channels = as_int("in_channels", in_channels, minimum=1)
    one_of("weights", weights, WEIGHTS)
    one_of("activation", activation, ACTIVATIONS)
    if depth > MAX_DEPTH:  # before a per-layer tuple of that length is built
        _check_limits(depth, kernel_size, channels, in_channels, (1,), (1,))
    strides = _per_layer("stride", stride, depth)
    dilations = _per_layer("dilation", dilation, depth)
    _check_limits(depth, kernel_size, channels, in_channels, strides, dilations)
    dropout = as_float("dropout", dropout, minimum=0.0)  # NaN and infinity are refused
    if dropout >= 1.0:
        raise ValueError(f"dropout must be a probability below 1, got {dropout}")
    skip = as_bool("skip", skip)
    gain = nn.init.calculate_gain(activation or "linear")
    convs = []
    for i, (s, d) in enumerate(zip(strides, dilations, strict=True)):
        conv = nn.Conv2d(
            in_channels if i == 0 else channels,
            channels,
            kernel_size,
            stride=s,
            dilation=d,
            padding=d * (kernel_size - 1) // 2,
            bias=False,
        )
        fan_in = conv.in_channels * kernel_size**2
        with torch.no_grad():
            if weights == "uniform":
                conv.weight.fill_(1.0 / fan_in)
            else:
                conv.weight.normal_(0.0, gain / fan_in**0.5)
        convs.append(conv)
    return ConvStack(convs, activation, dropout, skip)
