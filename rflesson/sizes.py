"""Output length of a sliding-window layer (convolution or pooling).

The formula, from Dumoulin & Visin's "A guide to convolution arithmetic":

    o = floor((i + 2p - d (k - 1) - 1) / s) + 1

which, for dilation ``d = 1``, is the familiar ``floor((i + 2p - k) / s) + 1``.
"""

from __future__ import annotations

from ._validate import as_int


def dilated_kernel_size(kernel: int, dilation: int = 1) -> int:
    """Span of a kernel with ``dilation - 1`` holes between taps: ``k + (k-1)(d-1)``.

    >>> dilated_kernel_size(3, dilation=2)
    5
    """
    kernel = as_int("kernel", kernel, minimum=1)
    dilation = as_int("dilation", dilation, minimum=1)
    return kernel + (kernel - 1) * (dilation - 1)


def conv_output_size(
    input_size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Number of window positions along one axis.

    Raises ``ValueError`` (with the minimum input size) when the window does
    not fit even once.

    >>> conv_output_size(7, kernel=3, stride=2, padding=1)
    4
    """
    input_size = as_int("input_size", input_size, minimum=1)
    stride = as_int("stride", stride, minimum=1)
    padding = as_int("padding", padding, minimum=0)
    span = dilated_kernel_size(kernel, dilation)
    if input_size + 2 * padding < span:
        minimum = max(1, span - 2 * padding)
        raise ValueError(
            f"input_size={input_size} is too small: a window spanning {span} pixels "
            f"with padding={padding} needs an input of at least {minimum}"
        )
    return (input_size + 2 * padding - span) // stride + 1
