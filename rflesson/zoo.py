"""Classic architectures, layer for layer, to study their receptive fields.

No weights, no downloads, no torchvision: plain ``torch.nn`` modules with
torchvision's layout and module names (``features.0``, ``layer4.1.conv2``),
so per-layer tables read like the published ones.  ``width`` scales every
channel count (the receptive field does not depend on it; tests and demos
use narrow copies to stay fast).

* ``alexnet``: Krizhevsky et al. 2012, torchvision variant (64-192-384-256-256).
* ``vgg16``: Simonyan & Zisserman 2015, configuration D.
* ``resnet18``, ``resnet50``: He et al. 2016; as in torchvision the stride
  of a stage's first block sits on its 3x3 convolution ("ResNet v1.5").
* ``unet``: a small U-Net-style encoder-decoder (Ronneberger et al. 2015)
  with padded convolutions and transposed-convolution upsampling.
* ``context_module``: Yu & Koltun 2016's basic context module, 3x3
  convolutions with dilations 1, 1, 2, 4, 8, 16, 1, then a 1x1.
* ``wavenet``: van den Oord et al. 2016, 1-D causal convolutions (kernel 2)
  with dilations 1, 2, ..., 512 per block, gated units, residual and skip
  connections.

Receptive fields to check against: AlexNet's ``features`` (up to pool5)
195; VGG-16's ``features`` (up to pool5) 212, the value usually quoted
for VGG-16 (its conv5_3 alone: 196); ResNet-18's last stage 435; a
WaveNet block 1024 (van den Oord et al. 2016); the context module 67x67
feature-map cells (Yu & Koltun 2016, table 1).  ResNet-50 in this (torchvision, v1.5) layout gives
427 at ``layer4``; Distill's 483 is for TF-slim's resnet_v1_50, whose
stride sits elsewhere in the block.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._validate import as_float, as_int

#: Documented limits: the largest networks the builders make (VGG-16 at width 1 with
#: MAX_CLASSES classes holds about 0.5 GB of float32 weights).  Beyond them a builder
#: refuses at once instead of filling the memory.
MAX_WIDTH = 1.0
MAX_CLASSES = 25_000
MAX_CHANNELS = 1024
MAX_DEPTH = 8
MAX_LAYERS = 16
MAX_BLOCKS = 64


def _width(width: object) -> float:
    width = as_float("width", width, 1e-6)
    if width > MAX_WIDTH:
        raise ValueError(
            f"width must be at most {MAX_WIDTH} (rflesson.zoo.MAX_WIDTH: the published "
            f"network's own size), got {width}"
        )
    return width


def _classes(num_classes: object) -> int:
    return as_int("num_classes", num_classes, 1, maximum=MAX_CLASSES)


def _w(channels: int, width: float) -> int:
    return max(1, round(channels * width))


# -- AlexNet and VGG-16 ---------------------------------------------------------------


class AlexNet(nn.Module):
    """torchvision's AlexNet: ``features`` (5 convs, 3 max pools), ``avgpool``, ``classifier``."""

    def __init__(self, num_classes: int = 1000, width: float = 1.0) -> None:
        super().__init__()
        c = [_w(n, width) for n in (64, 192, 384, 256, 256)]
        hidden = _w(4096, width)
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[0], c[1], kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[1], c[2], kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Linear(c[4] * 6 * 6, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


_VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGG(nn.Module):
    """torchvision's VGG-16 (configuration D, no batch norm)."""

    def __init__(self, num_classes: int = 1000, width: float = 1.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for v in _VGG16:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                out = _w(v, width)
                layers += [
                    nn.Conv2d(channels, out, kernel_size=3, padding=1),
                    nn.ReLU(inplace=True),
                ]
                channels = out
        hidden = _w(4096, width)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(channels * 7 * 7, hidden),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(hidden, hidden),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet(num_classes: int = 1000, width: float = 1.0) -> AlexNet:
    """AlexNet in torchvision's layout; ``features`` ends with pool5 (RF 195)."""
    return AlexNet(_classes(num_classes), _width(width))


def vgg16(num_classes: int = 1000, width: float = 1.0) -> VGG:
    """VGG-16; ``features`` ends with pool5 (``features.30``, RF 212); conv5_3 is ``features.28``."""
    return VGG(_classes(num_classes), _width(width))


# -- ResNets --------------------------------------------------------------------------


def _conv3x3(a: int, b: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(a, b, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(a: int, b: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(a, b, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a skip connection (strided 1x1 shortcut when needed)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (with the stride, as in torchvision), 1x1 expand, skip connection."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """torchvision's ResNet: stem, four stages ``layer1..layer4``, global pooling, ``fc``."""

    def __init__(self, block, layers: list[int], num_classes: int = 1000, width: float = 1.0):
        super().__init__()
        self.inplanes = _w(64, width)
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._stage(block, _w(64, width), layers[0])
        self.layer2 = self._stage(block, _w(128, width), layers[1], stride=2)
        self.layer3 = self._stage(block, _w(256, width), layers[2], stride=2)
        self.layer4 = self._stage(block, _w(512, width), layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, num_classes)

    def _stage(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(num_classes: int = 1000, width: float = 1.0) -> ResNet:
    """ResNet-18; its last stage ``layer4`` has a receptive field of 435."""
    return ResNet(
        BasicBlock,
        [2, 2, 2, 2],
        _classes(num_classes),
        _width(width),
    )


def resnet50(num_classes: int = 1000, width: float = 1.0) -> ResNet:
    """ResNet-50 (v1.5: stride on the 3x3 convolution, as in torchvision)."""
    return ResNet(
        Bottleneck,
        [3, 4, 6, 3],
        _classes(num_classes),
        _width(width),
    )


# -- U-Net ---------------------------------------------------------------------------


class DoubleConv(nn.Sequential):
    """Two padded 3x3 convolutions, each with batch norm and ReLU."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(
            nn.Conv2d(a, b, 3, padding=1, bias=False),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
            nn.Conv2d(b, b, 3, padding=1, bias=False),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """A small U-Net: ``depth`` poolings down, transposed convolutions up, skips by concatenation."""

    def __init__(self, in_channels: int = 3, classes: int = 2, base: int = 16, depth: int = 3):
        super().__init__()
        widths = [base * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([DoubleConv(in_channels, widths[0])])
        self.down.extend(DoubleConv(widths[i], widths[i + 1]) for i in range(depth))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size=2, stride=2)
            for i in reversed(range(depth))
        )
        self.merge = nn.ModuleList(
            DoubleConv(2 * widths[i], widths[i]) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(widths[0], classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            x = merge(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)


def unet(in_channels: int = 3, classes: int = 2, base: int = 16, depth: int = 3) -> UNet:
    """A small U-Net-style encoder-decoder (input sides divisible by ``2**depth``)."""
    in_channels = as_int("in_channels", in_channels, 1, maximum=MAX_CHANNELS)
    classes = as_int("classes", classes, 1, maximum=MAX_CHANNELS)
    depth = as_int("depth", depth, 1, maximum=MAX_DEPTH)
    base = as_int(
        "base", base, 1, maximum=MAX_CHANNELS >> depth
    )  # the widest level: base * 2**depth
    return UNet(in_channels, classes, base, depth)


# -- dilated networks -------------------------------------------------------------------


class ContextModule(nn.Sequential):
    """Yu & Koltun's basic context module: 3x3 convs, dilations 1,1,2,4,8,16,1, then 1x1."""

    DILATIONS = (1, 1, 2, 4, 8, 16, 1)

    def __init__(self, channels: int = 21) -> None:
        layers: list[nn.Module] = []
        for d in self.DILATIONS:
            layers += [
                nn.Conv2d(channels, channels, 3, padding=d, dilation=d),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(channels, channels, 1))
        super().__init__(*layers)


def context_module(channels: int = 21) -> ContextModule:
    """Yu & Koltun 2016's basic context module: its output sees 67x67 cells of its input map."""
    return ContextModule(as_int("channels", channels, 1, maximum=MAX_CHANNELS))


class WaveNetLayer(nn.Module):
    """One causal dilated layer: gated tanh/sigmoid unit, residual and skip outputs."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.dilation = dilation
        self.filter = nn.Conv1d(channels, channels, kernel_size=2, dilation=dilation)
        self.gate = nn.Conv1d(channels, channels, kernel_size=2, dilation=dilation)
        self.residual = nn.Conv1d(channels, channels, kernel_size=1)
        self.skip = nn.Conv1d(channels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        padded = F.pad(x, (self.dilation, 0))  # causal: look only left
        z = torch.tanh(self.filter(padded)) * torch.sigmoid(self.gate(padded))
        return x + self.residual(z), self.skip(z)


class WaveNet(nn.Module):
    """A WaveNet-style stack: ``blocks`` times dilations 1, 2, ..., 2**(layers-1)."""

    def __init__(self, channels: int = 16, layers: int = 10, blocks: int = 1) -> None:
        super().__init__()
        self.causal = nn.Conv1d(1, channels, kernel_size=1)
        self.layers = nn.ModuleList(
            WaveNetLayer(channels, 2**i) for _ in range(blocks) for i in range(layers)
        )
        self.out = nn.Sequential(
            nn.ReLU(), nn.Conv1d(channels, channels, 1), nn.ReLU(), nn.Conv1d(channels, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.causal(x)
        total = None
        for layer in self.layers:
            x, skip = layer(x)
            total = skip if total is None else total + skip
        return self.out(total)


def wavenet(channels: int = 16, layers: int = 10, blocks: int = 1) -> WaveNet:
    """WaveNet-style 1-D causal stack; one block of 10 layers sees 1024 samples."""
    return WaveNet(
        as_int("channels", channels, 1, maximum=MAX_CHANNELS),
        as_int("layers", layers, 1, maximum=MAX_LAYERS),
        as_int("blocks", blocks, 1, maximum=MAX_BLOCKS),
    )
