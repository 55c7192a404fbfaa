"""Argument checks shared by the whole package.

Every public function validates its input with these helpers so that bad
input gets an error naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import numbers


def as_int(name: str, value: object, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int`` or raise a clear error.

    >>> as_int("kernel", 3, minimum=1)
    3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def as_float(name: str, value: object, minimum: float | None = None) -> float:
    """Return ``value`` as a ``float`` or raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def one_of(name: str, value: object, allowed: tuple) -> object:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value
