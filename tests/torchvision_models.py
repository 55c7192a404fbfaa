"""torchvision's classification families, as the convolutional trunks rflesson is tested on.

torchvision is a test-only dependency (rflesson never imports it).  Install it
beside the CPU torch with ``pip install --no-deps torchvision==0.28.0 pillow``.

That wheel is built against a CUDA torch: its compiled operators
(``torchvision::nms`` and friends) do not load beside ``torch 2.13.0+cpu``,
and ``import torchvision`` then fails while registering their fake (meta)
implementations.  The model code is plain Python and needs none of those
operators, so ``load()`` imports torchvision with
``torch.library.register_fake`` made to skip the ``torchvision::`` names, and
restores it at once.  Nothing else is changed.

``TRUNKS`` maps a family to ``(factory, trunk, input size)``: the trunk is
the model with its classification head removed (pooling, dropout, the last
linear layers), as a module whose children are the stages in call order.
"""

from __future__ import annotations

import importlib
from collections import OrderedDict

import torch
import torch.nn as nn

VERSION = "0.28.0"


def load():
    """``torchvision.models``, or ``None`` when torchvision is not installed."""
    if importlib.util.find_spec("torchvision") is None:
        return None
    original = torch.library.register_fake

    def skip_torchvision_ops(op, *args, **kwargs):
        if isinstance(op, str) and op.startswith("torchvision::"):
            return lambda fn: fn  # the compiled operator is missing: skip its fake kernel
        return original(op, *args, **kwargs)

    torch.library.register_fake = skip_torchvision_ops
    try:
        import torchvision.models as models
    finally:
        torch.library.register_fake = original
    return models


def _without(model: nn.Module, *names: str) -> nn.Sequential:
    """The model's children in order, without the named ones (its head)."""
    return nn.Sequential(OrderedDict((n, m) for n, m in model.named_children() if n not in names))


TRUNKS = {
    "alexnet": ("alexnet", lambda m: m.features, 224),
    "vgg16": ("vgg16", lambda m: m.features, 224),
    "resnet50": ("resnet50", lambda m: _without(m, "avgpool", "fc"), 224),
    "resnext50_32x4d": ("resnext50_32x4d", lambda m: _without(m, "avgpool", "fc"), 224),
    "wide_resnet50_2": ("wide_resnet50_2", lambda m: _without(m, "avgpool", "fc"), 224),
    "densenet121": ("densenet121", lambda m: m.features, 224),
    "googlenet": (
        "googlenet",
        lambda m: _without(m, "aux1", "aux2", "avgpool", "dropout", "fc"),
        224,
    ),
    "inception_v3": (
        "inception_v3",
        lambda m: _without(m, "AuxLogits", "avgpool", "dropout", "fc"),
        299,
    ),
    "squeezenet1_0": ("squeezenet1_0", lambda m: m.features, 224),
    "mobilenet_v2": ("mobilenet_v2", lambda m: m.features, 224),
    "mobilenet_v3_large": ("mobilenet_v3_large", lambda m: m.features, 224),
    "mobilenet_v3_small": ("mobilenet_v3_small", lambda m: m.features, 224),
    "mnasnet1_0": ("mnasnet1_0", lambda m: m.layers, 224),
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0", lambda m: _without(m, "fc"), 224),
    "efficientnet_b0": ("efficientnet_b0", lambda m: m.features, 224),
    "regnet_x_400mf": ("regnet_x_400mf", lambda m: _without(m, "avgpool", "fc"), 224),
    "regnet_y_400mf": ("regnet_y_400mf", lambda m: _without(m, "avgpool", "fc"), 224),
    "convnext_tiny": ("convnext_tiny", lambda m: m.features, 224),
}

_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False}}
_KWARGS["inception_v3"] = {"aux_logits": False, "init_weights": False}


def build(models, family: str) -> tuple[nn.Module, int]:
    """The trunk of ``family`` (random weights, eval mode) and its input size."""
    factory, trunk, size = TRUNKS[family]
    model = getattr(models, factory)(weights=None, **_KWARGS.get(factory, {}))
    return trunk(model).eval(), size


def whole_model(models, name: str) -> nn.Module:
    """A whole torchvision model (random weights, eval mode), e.g. ``'vit_b_16'``."""
    return getattr(models, name)(weights=None).eval()


def permute(models, dims: list[int]) -> nn.Module:
    """torchvision's own ``Permute`` layer (channels-last to channels-first and back)."""
    import torchvision.ops.misc as misc

    del models  # imported by load() already
    return misc.Permute(dims)
