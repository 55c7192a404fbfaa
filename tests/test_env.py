"""set_seed and check_environment."""

import random

import numpy as np
import pytest
import torch

import rflesson as rfl
from rflesson.course.environment import environment_report


def test_set_seed_repeats_all_three_generators():
    rfl.set_seed(3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    rfl.set_seed(3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_set_seed_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        rfl.set_seed(-1)
    with pytest.raises(TypeError, match="seed"):
        rfl.set_seed("0")
    with pytest.raises(ValueError, match="seed.*4294967295"):
        rfl.set_seed(2**32)  # NumPy's generator takes no more
    rfl.set_seed(np.int64(2**32 - 1))
    rfl.set_seed(torch.tensor(5))


def test_check_environment_prints_versions(capsys):
    rfl.check_environment()
    out = capsys.readouterr().out
    for name in ("python", "torch", "ipywidgets", "jupyterlab_widgets"):
        assert name in out


def test_missing_widget_extension_is_explained(monkeypatch):
    import rflesson.course.environment as env

    real = env._version
    monkeypatch.setattr(env, "_version", lambda p: None if p == "jupyterlab_widgets" else real(p))
    _, warnings = environment_report()
    assert any("plain text" in w for w in warnings)
