"""rflesson.context_task: labels by brute force, determinism, learning, the progress bar,
and runs that give the same numbers on every CPU (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rflesson.context_task import (
    context_net,
    evaluate_context_model,
    make_context_batch,
    text_progress,
    train_context_model,
)


def test_labels_are_the_sign_of_the_local_mean():
    images, labels = make_context_batch(3, size=12, radius=2, seed=4)
    x = images.numpy()[:, 0]
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    for b in range(3):
        for i in range(12):
            for j in range(12):
                window = padded[b, i : i + 5, j : j + 5]
                assert labels[b, 0, i, j] == float(window.sum() > 0)
    assert 0.3 < float(labels.mean()) < 0.7


def test_batches_repeat_with_the_seed():
    a, la = make_context_batch(2, seed=1)
    b, lb = make_context_batch(2, seed=1)
    assert torch.equal(a, b) and torch.equal(la, lb)
    assert not torch.equal(a, make_context_batch(2, seed=2)[0])


def test_net_keeps_the_size_and_has_the_promised_field():
    import rflesson as rfl

    net = context_net()
    assert net(torch.zeros(2, 1, 32, 32, dtype=torch.float64)).shape == (2, 1, 32, 32)
    assert rfl.receptive_field(net, (32, 32)).size == (17, 17)
    first = [p.clone() for p in context_net(seed=3).parameters()]
    assert all(
        torch.equal(p, q) for p, q in zip(first, context_net(seed=3).parameters(), strict=True)
    )


def test_training_learns_repeats_and_restores_threads(capsys):
    threads = torch.get_num_threads()
    model = context_net(4, 4, seed=0)
    chance = evaluate_context_model(model, radius=4, size=16)
    history = train_context_model(model, 80, radius=4, size=16, lr=1e-2)
    assert torch.get_num_threads() == threads
    assert not model.training
    assert len(history.losses) == len(history.accuracies) == 80
    assert history.losses[-1] < history.losses[0]
    assert evaluate_context_model(model, radius=4, size=16) > max(chance, 0.65)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[-1].endswith("step   80/80")
    again = context_net(4, 4, seed=0)
    repeat = train_context_model(again, 80, radius=4, size=16, lr=1e-2, progress=False)
    assert repeat.losses == history.losses
    assert capsys.readouterr().out == ""


def test_progress_callable_and_text_bar():
    calls = []
    train_context_model(context_net(1, 2), 3, size=8, radius=1, progress=lambda *a: calls.append(a))
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert text_progress(50, 100) == "training [##########..........] step   50/100"
    assert text_progress(49, 100) is None


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: make_context_batch(0), "batch_size"),
        (lambda: make_context_batch(2, radius=-1), "radius"),
        (lambda: train_context_model("net", 5), "model"),
        (lambda: train_context_model(context_net(1, 2), 0), "steps"),
    ],
)
def test_bad_input(call, word):
    with pytest.raises((ValueError, TypeError), match=word):
        call()


def test_float64_by_default_and_the_same_task_in_every_precision():
    assert all(p.dtype == torch.float64 for p in context_net().parameters())
    images, labels = make_context_batch(2, size=12, seed=3)
    assert images.dtype == labels.dtype == torch.float64
    small, small_labels = make_context_batch(2, size=12, seed=3, dtype=torch.float32)
    assert torch.equal(small, images.float()) and torch.equal(small_labels, labels.float())
    same = [p.float() for p in context_net(seed=2).parameters()]
    assert all(
        torch.equal(a, b)
        for a, b in zip(same, context_net(seed=2, dtype=torch.float32).parameters(), strict=True)
    )


def _run(mkldnn: bool, nudge: float = 0.0) -> tuple[list[float], float]:
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = mkldnn
    try:
        model = context_net(4, 6, seed=1)
        with torch.no_grad():
            model[0].weight[0, 0, 0, 0] *= 1 + nudge
        history = train_context_model(model, 30, size=16, radius=4, progress=False)
        return history.losses, evaluate_context_model(model, size=16, radius=4)
    finally:
        torch.backends.mkldnn.enabled = previous


def test_float64_training_does_not_amplify_last_bit_differences():
    """Another convolution algorithm, or a nudge of 1e-13, leaves every printed digit alone.

    (In float32 the same runs drift apart by 1e-3 in the loss within a hundred
    steps: ReLUs and labels near their threshold flip.)
    """
    losses, accuracy = _run(mkldnn=True)
    other_losses, other_accuracy = _run(mkldnn=False)
    nudged_losses, nudged_accuracy = _run(mkldnn=True, nudge=1e-13)
    assert accuracy == other_accuracy == nudged_accuracy
    assert np.max(np.abs(np.subtract(losses, other_losses))) < 1e-12
    assert np.max(np.abs(np.subtract(losses, nudged_losses))) < 1e-11
