"""Argument checks shared by the whole package.

Every public function validates its input with these helpers so that bad
input gets an error naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np
import torch


def shown(value: object, limit: int = 80) -> str:
    """A short ``repr`` of a value for a message: at most about ``limit`` characters, never raising."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = limit
    try:
        return short.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _scalar(value: object) -> object:
    """A 0-d NumPy array or torch tensor as the Python number it holds; anything else as is."""
    if isinstance(value, np.ndarray | torch.Tensor) and value.ndim == 0:
        if isinstance(value, torch.Tensor) and value.is_meta:
            return value
        return value.item()
    return value


def as_int(name: str, value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` or raise a clear error.

    NumPy integers and 0-d arrays or tensors of integers count; bools do not.

    >>> as_int("kernel", 3, minimum=1)
    3
    """
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {shown(value)} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def as_float(name: str, value: object, minimum: float | None = None) -> float:
    """Return ``value`` as a finite ``float`` or raise a clear error.

    NaN and infinity are refused: no parameter of rflesson means anything by them.
    NumPy numbers and 0-d arrays or tensors count; bools do not.
    """
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {shown(value)} ({type(value).__name__})")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {shown(value)}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def as_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is True or False (NumPy's bool too), else raise ``TypeError``."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {shown(value)} ({type(value).__name__})")


def one_of(name: str, value: object, allowed: tuple) -> object:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``.

    Text is compared as text and anything else by identity (None), so an
    unhashable or odd value gets the same clear error instead of a raw one.
    """
    for choice in allowed:
        same_text = isinstance(choice, str) and isinstance(value, str) and value == choice
        if same_text or value is choice:
            return value
    choices = ", ".join(repr(a) for a in allowed)
    raise ValueError(f"{name} must be one of {choices}; got {shown(value)}")


def as_real_array(name: str, value: object, what: str) -> np.ndarray:
    """``value`` (a NumPy array, a torch tensor, nested lists) as an array of real numbers.

    ``what`` says what it holds, for the error (``"an ERF map"``).  A meta tensor,
    an array too large to build, ragged lists and complex or text values get a
    clear error that names ``name``.
    """
    if isinstance(value, torch.Tensor):
        if value.is_meta:
            raise ValueError(f"{name} is a 'meta' tensor: it has a shape but no values")
        value = value.detach().cpu()
    try:
        array = np.asarray(value)
    except MemoryError:
        raise ValueError(f"{name} is far too large to be {what}") from None
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"{name} must be an array of numbers ({what}): {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    return array
