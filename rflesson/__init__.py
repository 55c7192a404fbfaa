"""rflesson: an exact receptive-field tool for PyTorch, and the course built on it.

The package has two parts that share a name:

* the **tool** (this folder): receptive fields, the gradient check, coverage,
  effective receptive fields, stacks, initialization and the model zoo.  It
  needs only torch and numpy, so a training script can call
  :func:`receptive_field` without paying for plotting libraries;
* the **course** (:mod:`rflesson.course`): figures, demos, exercises and style,
  built on matplotlib and ipywidgets, one folder per notebook.

The notebooks write ``rfl.<name>`` for both.  Course names are handed on
lazily (see :func:`__getattr__` below), so ``import rflesson`` loads neither
matplotlib nor ipywidgets until a course name is first used.

>>> import rflesson as rfl
>>> rfl.receptive_field([rfl.Layer(3)] * 2).size
5
"""

import importlib

from . import zoo
from .coverage import coverage, coverage_map
from .env import set_seed
from .erf import erf_map, erf_stats, trf_box
from .gradient import gradient_rf
from .hdc import hdc_ok
from .init import (
    center_profile,
    center_scaled_init_,
    predicted_sigma_ratio,
    profile_variance,
    scale_spread,
)
from .layers import Layer
from .rf import input_region, receptive_field, rf_size, rf_table
from .sizes import conv_output_size, dilated_kernel_size
from .stacks import conv_stack

__version__ = "0.1.0"


def __getattr__(name: str):
    """Hand on a course name (``rfl.draw_dog``, ``rfl.check``) on first use.

    Importing :mod:`rflesson.course` loads matplotlib and ipywidgets, which a
    script that only wants receptive fields should not pay for.
    """
    if name.startswith("__"):
        raise AttributeError(name)
    course = importlib.import_module("rflesson.course")
    try:
        return getattr(course, name)
    except AttributeError:
        raise AttributeError(f"module 'rflesson' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    course = importlib.import_module("rflesson.course")
    return sorted(set(globals()) | set(course.__all__))
