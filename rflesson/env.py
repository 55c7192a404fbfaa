"""Reproducibility: one seed for Python, NumPy and PyTorch.

(The check of a learner's set-up, which speaks the learner's language, is the
course's: :mod:`rflesson.course.environment`.)
"""

from __future__ import annotations

import random

import numpy as np
import torch

from ._validate import as_int


def set_seed(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and PyTorch so that a run repeats exactly.

    ``seed`` is an int from 0 to 2**32 - 1 (NumPy's range).

    >>> set_seed(0)
    """
    seed = as_int("seed", seed, minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
