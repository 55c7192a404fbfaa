"""A small task that needs context, and a small network to learn it.

Luo et al. (2016) report that training makes the effective receptive field
grow.  To see it on a CPU in seconds we need a task whose answer at a pixel
depends on pixels *far away*: then the network has to learn to listen to
them.  The task here:

    the input is white noise; label a pixel 1 when the mean of the
    ``(2 radius + 1) x (2 radius + 1)`` square centred on it is positive
    ("is this pixel in a bright region?"), else 0.

A pixel's own value says little (it is one of 289 numbers in the default
17x17 square); the answer needs the whole square.  A network can only get
it right with a receptive field at least ``2 radius + 1`` pixels wide whose
outer part really counts, which is what training has to achieve.
Everything is generated here (no downloads) and seeded.

Everything runs in float64 by default, so that a run gives the same printed
numbers on every CPU.  In float32, PyTorch's CPU convolutions (oneDNN) pick
different kernels on different processors; their last-bit differences flip a
label or a ReLU here and there, and a few hundred Adam steps turn that into a
different accuracy in the second digit.  In float64 the differences start
near 1e-16 and stay there (the tests perturb a weight by 1e-13 and check
that the trained network moves by no more).  On these small networks float64
costs about 1.5 times the float32 time.

>>> images, labels = make_context_batch(2, size=9, radius=1, seed=0)
>>> images.shape, labels.shape
(torch.Size([2, 1, 9, 9]), torch.Size([2, 1, 9, 9]))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import as_float, as_int

#: The task's defaults: 24x24 images, label from the 17x17 square around each pixel.
SIZE, RADIUS = 24, 8
#: Default precision of the task and the network (see the module docstring).
DTYPE = torch.float64


def make_context_batch(
    batch_size: int,
    *,
    size: int = SIZE,
    radius: int = RADIUS,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = DTYPE,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise images ``(B, 1, size, size)`` and their labels (same shape, 0./1. floats).

    The label of a pixel is 1 where the mean of the ``(2 radius + 1)``
    square around it is positive (zero padding at the borders), so half the
    pixels are 1.  Pass ``seed`` for a fixed batch or a ``generator`` to draw
    a stream of batches.  The noise is drawn and the labels are computed in
    float64 whatever ``dtype`` is (a float32 mean that sits within 1e-7 of 0
    could get another label on another CPU); both are then cast to ``dtype``.
    """
    batch_size = as_int("batch_size", batch_size, minimum=1)
    size = as_int("size", size, minimum=1)
    radius = as_int("radius", radius, minimum=0)
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else as_int("seed", seed, 0))
    images = torch.randn((batch_size, 1, size, size), generator=generator, dtype=torch.float64)
    local_mean = F.avg_pool2d(images, 2 * radius + 1, stride=1, padding=radius)
    return images.to(dtype), (local_mean > 0).to(dtype)


def context_net(
    depth: int = 8,
    channels: int = 8,
    *,
    kernel_size: int = 3,
    seed: int = 0,
    dtype: torch.dtype = DTYPE,
) -> nn.Sequential:
    """A small fully convolutional network for the task: ``depth`` 3x3 conv + ReLU, then a 1x1 conv.

    Same padding everywhere, so the output (one logit per pixel) has the
    input's size.  PyTorch's usual initialisation, drawn from ``seed`` without
    touching the global random state (the same weights in every ``dtype``:
    they are drawn in float32 and then converted).  Its theoretical RF is
    ``depth * (kernel_size - 1) + 1`` pixels (17 for the defaults): just wide
    enough for the task's 17-pixel square, but only if its outer pixels count.
    """
    depth = as_int("depth", depth, minimum=1)
    channels = as_int("channels", channels, minimum=1)
    kernel_size = as_int("kernel_size", kernel_size, minimum=1)
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(as_int("seed", seed, minimum=0))
        for i in range(depth):
            layers.append(
                nn.Conv2d(1 if i == 0 else channels, channels, kernel_size, padding="same")
            )
            layers.append(nn.ReLU())
        layers.append(nn.Conv2d(channels, 1, 1))
    return nn.Sequential(*layers).to(dtype)


def _dtype_of(model: nn.Module) -> torch.dtype:
    """The floating-point type of ``model``'s parameters (float32 if it has none)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


@dataclass
class TrainingHistory:
    """What :func:`train_context_model` measured, step by step."""

    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_accuracy(self) -> float:
        """Mean pixel accuracy over the last 10 % of the steps (at least one)."""
        tail = self.accuracies[-max(1, len(self.accuracies) // 10) :]
        return sum(tail) / len(tail)


def text_progress(step: int, steps: int, every: int = 4) -> str | None:
    """A deterministic text progress bar, one line each ``1/every`` of the way."""
    marks = {round(steps * k / every) for k in range(1, every + 1)}
    if step not in marks:
        return None
    done = round(20 * step / steps)
    return f"training [{'#' * done}{'.' * (20 - done)}] step {step:>4}/{steps}"


def evaluate_context_model(
    model: nn.Module, *, n: int = 64, seed: int = 12345, **task: object
) -> float:
    """Pixel accuracy of ``model`` on ``n`` fresh images (a fixed, held-out seed).

    The images come in the model's own precision.
    """
    images, labels = make_context_batch(n, seed=seed, dtype=_dtype_of(model), **task)
    with torch.no_grad():
        predicted = (model(images) > 0).to(labels.dtype)
    return float((predicted == labels).double().mean())


def train_context_model(
    model: nn.Module,
    steps: int = 400,
    *,
    seed: int = 0,
    batch_size: int = 8,
    lr: float = 3e-3,
    progress: bool | Callable[[int, int, float, float], None] = True,
    **task: object,
) -> TrainingHistory:
    """Train ``model`` in place on the context task with Adam and a per-pixel logistic loss.

    Batches come from a generator seeded with ``seed``, so the same model,
    steps and seed give the same run, in the model's own precision (float64
    for :func:`context_net`'s default).  ``progress=True`` prints a text bar
    at each quarter (deterministic, so stored notebook outputs compare
    exactly); a callable gets ``(step, steps, loss, accuracy)`` after each
    step; False is silent.  ``task`` passes ``size`` or ``radius`` to
    :func:`make_context_batch`.  The model is left in evaluation mode.

    Runs on one thread (restored afterwards): convolutions this small gain
    little from more, and a busy machine slows many threads down a lot.
    """
    steps = as_int("steps", steps, minimum=1)
    batch_size = as_int("batch_size", batch_size, minimum=1)
    lr = as_float("lr", lr, minimum=0.0)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    generator = torch.Generator().manual_seed(as_int("seed", seed, minimum=0))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = TrainingHistory()
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _train(model, optimizer, generator, steps, batch_size, progress, history, task)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    history.seconds = time.perf_counter() - started
    return history


def _train(model, optimizer, generator, steps, batch_size, progress, history, task) -> None:
    model.train()
    dtype = _dtype_of(model)
    for step in range(1, steps + 1):
        images, labels = make_context_batch(batch_size, generator=generator, dtype=dtype, **task)
        logits = model(images)
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        accuracy = float(((logits.detach() > 0).to(dtype) == labels).double().mean())
        history.losses.append(float(loss.detach()))
        history.accuracies.append(accuracy)
        if callable(progress):
            progress(step, steps, history.losses[-1], accuracy)
        elif progress:
            line = text_progress(step, steps)
            if line:
                print(line, flush=True)
