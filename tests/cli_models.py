"""Model factories for the command-line tests (``python -m rflesson tests/cli_models.py:small``)."""

import torch.nn as nn


def small() -> nn.Module:
    """Two stages: a strided stem, then a block with a pooling layer."""
    stem = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU())
    block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.MaxPool2d(2))
    return nn.Sequential(stem, block)


def broken() -> nn.Module:
    raise RuntimeError("cannot build this one")


def not_a_model():
    return 42


def unknown_op() -> nn.Module:
    class Flip(nn.Module):
        def forward(self, x):
            return nn.functional.conv2d(x, nn.init.ones_(x.new_empty(1, 3, 3, 3))).flip(-1)

    return Flip()
