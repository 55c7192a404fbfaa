"""One layer's geometry: the ``Layer`` spec, and what one layer does along one axis.

``Layer`` is what a learner writes: ``Layer(3, stride=2, padding=1)``.  It
turns into one *axis operation* per spatial axis.  An axis operation knows
three things about its layer along one axis:

* ``out_length(n)``: how many output units an input of length ``n`` gives;
* ``taps(u)``: which input indices output unit ``u`` reads (unclipped:
  negative indices lie in the padding); the coverage tools count these;
* ``axis_map(n)``: the same as an exact periodic ``AxisMap``, to compose.

There are four kinds: ``Window`` (convolution and pooling, also padding and
cropping), ``Transposed`` (transposed convolution), ``Resample``
(upsampling by ``F.interpolate``) and ``Collapse`` (adaptive and global
pooling, flatten: each output unit reads a whole bin of the input).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

from ._validate import as_int
from .axismap import AxisMap

# -- axis operations ----------------------------------------------------------


def _too_small(what: str, n: int, minimum: int) -> ValueError:
    return ValueError(
        f"input_size is too small: {what} gets an input of length {n} along an axis, "
        f"and needs at least {minimum}"
    )


@dataclass(frozen=True)
class Window:
    """A sliding window along one axis: convolution, pooling, padding or cropping.

    Unit ``u`` reads ``u*stride - pad_before + dilation*t`` for ``t`` in
    ``0..kernel-1``.  Negative pads (``F.pad`` with negative widths) crop.
    """

    kernel: int = 1
    stride: int = 1
    dilation: int = 1
    pad_before: int = 0
    pad_after: int = 0
    ceil_mode: bool = False

    @property
    def span(self) -> int:
        """Input pixels from the first to the last tap: ``d (k - 1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1

    def taps(self, u: int, n: int | None = None) -> tuple[int, ...]:
        base = u * self.stride - self.pad_before
        return tuple(base + self.dilation * t for t in range(self.kernel))

    def axis_map(self, n: int | None = None) -> AxisMap:
        first = -self.pad_before
        return AxisMap.affine(self.stride, first, first + self.span - 1)

    def out_length(self, n: int) -> int:
        """PyTorch's output length, with ``ceil_mode`` as in its pooling layers."""
        padded = n + self.pad_before + self.pad_after
        if padded < self.span or padded < 1:
            raise _too_small("a window", n, self.min_input())
        if not self.ceil_mode:
            return (padded - self.span) // self.stride + 1
        out = -(-(padded - self.span) // self.stride) + 1
        # PyTorch drops a last window that would start in the right padding.
        if (out - 1) * self.stride >= n + self.pad_before:
            out -= 1
        return out

    def min_input(self, units: int = 1) -> int:
        """Smallest input length that gives at least ``units`` outputs."""
        need = (units - 1) * self.stride + self.span - self.pad_before - self.pad_after
        return max(1, need)


@dataclass(frozen=True)
class Transposed:
    """A transposed convolution along one axis (``ConvTranspose``).

    Input ``i`` reaches outputs ``i*stride - padding + dilation*t``, so
    output ``o`` reads every ``i`` with ``o + padding - dilation*t`` a
    multiple of ``stride``.  With ``kernel < stride`` some outputs read
    nothing.
    """

    kernel: int
    stride: int = 1
    dilation: int = 1
    padding: int = 0
    output_padding: int = 0

    def taps(self, u: int, n: int | None = None) -> tuple[int, ...]:
        reads = []
        for t in range(self.kernel):
            q, r = divmod(u + self.padding - self.dilation * t, self.stride)
            if r == 0:
                reads.append(q)
        return tuple(sorted(reads))

    def axis_map(self, n: int | None = None) -> AxisMap:
        return AxisMap.from_taps(self.taps, self.stride, 1)

    def out_length(self, n: int) -> int:
        out = (
            (n - 1) * self.stride
            - 2 * self.padding
            + self.dilation * (self.kernel - 1)
            + self.output_padding
            + 1
        )
        if out < 1:
            raise _too_small("a transposed convolution", n, 1)
        return out


_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic")


@dataclass(frozen=True)
class Resample:
    """Upsampling (``F.interpolate``, ``nn.Upsample``) by a rational factor.

    ``scale`` is output length over input length; ``size`` a fixed output
    length (then the factor depends on the input length).  Linear modes read
    two neighbours and ``bicubic`` four, except where a neighbour's weight is
    exactly zero.  With ``align_corners=True`` (linear and cubic modes) the
    first and last pixels of input and output coincide: output ``u`` samples
    input ``u (n_in - 1) / (n_out - 1)``, so the input length must be known.
    """

    mode: str = "nearest"
    scale: Fraction | None = None
    size: int | None = None
    align_corners: bool = False

    def factor(self, n: int | None) -> Fraction:
        if self.scale is not None and not self.align_corners:
            return self.scale
        if n is None:
            what = "align_corners=True" if self.align_corners else f"a fixed size={self.size}"
            raise ValueError(f"upsampling with {what} needs input_size to know its factor")
        if self.align_corners:
            m = self.out_length(n)
            if n < 2 or m < 2:
                raise ValueError("align_corners=True needs input and output lengths of at least 2")
            return Fraction(m - 1, n - 1)
        return Fraction(self.size, n)

    def taps(self, u: int, n: int | None = None) -> tuple[int, ...]:
        inv = 1 / self.factor(n)  # input pixels per output pixel
        if self.mode == "nearest":
            return (math.floor(u * inv),)
        if self.mode == "nearest-exact":
            return (math.floor((u + Fraction(1, 2)) * inv),)
        if self.align_corners:
            src = u * inv
        else:
            src = (u + Fraction(1, 2)) * inv - Fraction(1, 2)
        base = math.floor(src)
        if src == base:
            return (base,)
        if self.mode == "bicubic":
            return (base - 1, base, base + 1, base + 2)
        return (base, base + 1)

    def axis_map(self, n: int | None = None) -> AxisMap:
        f = self.factor(n)
        return AxisMap.from_taps(lambda u: self.taps(u, n), f.numerator, f.denominator)

    def out_length(self, n: int) -> int:
        if self.size is not None:
            return self.size
        return math.floor(n * self.scale)


@dataclass(frozen=True)
class Collapse:
    """Adaptive pooling to ``out`` bins; ``out=1`` is global pooling (or flatten).

    Bin ``u`` of an input of length ``n`` covers ``floor(u n / out)`` to
    ``ceil((u+1) n / out) - 1`` (PyTorch's adaptive pooling), so the input
    length must be known.
    """

    out: int = 1

    def _need(self, n: int | None) -> int:
        if n is None:
            raise ValueError(
                "adaptive or global pooling (or flatten) needs input_size: its windows depend "
                "on the input length; pass input_size"
            )
        return n

    def taps(self, u: int, n: int | None = None) -> tuple[int, ...]:
        n = self._need(n)
        return tuple(range((u * n) // self.out, -(-((u + 1) * n) // self.out)))

    def axis_map(self, n: int | None = None) -> AxisMap:
        n = self._need(n)
        g = math.gcd(n, self.out)
        return AxisMap.from_taps(lambda u: self.taps(u, n), self.out // g, n // g)

    def out_length(self, n: int) -> int:
        return self.out


AxisOp = Window | Transposed | Resample | Collapse

# -- the Layer spec -----------------------------------------------------------


def _per_axis(name: str, value: object, minimum: int) -> tuple[int, ...]:
    if isinstance(value, tuple | list):
        if len(value) == 0:
            raise ValueError(f"{name} must be an int or a non-empty tuple of ints, got {value!r}")
        return tuple(as_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    return (as_int(name, value, minimum=minimum),)


def _padding_per_axis(value: object) -> tuple[tuple[int, int], ...] | str:
    """Normalize padding to one ``(before, after)`` pair per axis, or a keyword."""
    if isinstance(value, str):
        if value not in ("same", "valid"):
            raise ValueError(
                f"padding must be an int, a per-axis tuple, 'same' or 'valid'; got {value!r}"
            )
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        p = as_int("padding", value, minimum=0)
        return ((p, p),)
    if isinstance(value, tuple | list) and value:
        pairs = []
        for i, item in enumerate(value):
            if isinstance(item, tuple | list):
                if len(item) != 2:
                    raise ValueError(
                        f"padding[{i}] must be an int or a (before, after) pair, got {item!r}"
                    )
                b = as_int(f"padding[{i}][0]", item[0], minimum=0)
                a = as_int(f"padding[{i}][1]", item[1], minimum=0)
                pairs.append((b, a))
            else:
                p = as_int(f"padding[{i}]", item, minimum=0)
                pairs.append((p, p))
        return tuple(pairs)
    raise TypeError(
        "padding must be an int, 'same', 'valid', or a per-axis tuple of ints or "
        f"(before, after) pairs; got {value!r} ({type(value).__name__})"
    )


def _fit(name: str, values: tuple, ndim: int) -> tuple:
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise ValueError(
            f"{name} has {len(values)} axes, expected 1 or {ndim} (one per spatial axis); "
            f"got {values!r}"
        )
    return values


class Layer:
    """One convolution or pooling layer, as far as its receptive field is concerned.

    Each argument is an int (the same on every axis) or a per-axis tuple
    ``(h, w[, ...])``.  ``padding`` may also be ``'valid'`` (none),
    ``'same'`` (output as long as the input; needs stride 1; an odd total
    puts the extra pixel *after*, as PyTorch does), or per axis a
    ``(before, after)`` pair, e.g. ``padding=((0, 1), (0, 1))``.  A flat tuple
    of ints is always per axis, never a pair.  ``ceil_mode`` is the pooling
    option: it changes the output length, never a unit's receptive field.

    >>> Layer(3, stride=2, padding=1)
    Layer(kernel=3, stride=2, padding=1)
    """

    def __init__(
        self,
        kernel: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | str | tuple = 0,
        dilation: int | tuple[int, ...] = 1,
        name: str | None = None,
        *,
        ceil_mode: bool = False,
    ) -> None:
        self.kernel = _per_axis("kernel", kernel, 1)
        self.stride = _per_axis("stride", stride, 1)
        self.dilation = _per_axis("dilation", dilation, 1)
        self._padding = _padding_per_axis(padding)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {name!r}")
        self.name = name
        if not isinstance(ceil_mode, bool):
            raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
        self.ceil_mode = ceil_mode
        self._args = (kernel, stride, padding, dilation)
        lengths = {f: len(getattr(self, f)) for f in ("kernel", "stride", "dilation")}
        if not isinstance(self._padding, str):
            lengths["padding"] = len(self._padding)
        if len({n for n in lengths.values() if n != 1}) > 1:
            told = ", ".join(f"{f} has {n}" for f, n in lengths.items() if n != 1)
            raise ValueError(
                f"per-axis tuples must agree on the number of axes: {told} axes "
                f"(kernel={kernel!r}, stride={stride!r}, padding={padding!r}, dilation={dilation!r})"
            )
        if self._padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(
                f"padding='same' needs stride 1 (as in PyTorch), got stride={stride!r}; "
                "give the padding as numbers instead"
            )

    @property
    def ndim(self) -> int:
        """Number of spatial axes the arguments spell out (1 if all are ints)."""
        lengths = [len(self.kernel), len(self.stride), len(self.dilation)]
        if not isinstance(self._padding, str):
            lengths.append(len(self._padding))
        return max(lengths)

    def padding(self, ndim: int | None = None) -> tuple[tuple[int, int], ...]:
        """The ``(before, after)`` padding of each axis."""
        ndim = ndim or self.ndim
        if self._padding == "valid":
            return ((0, 0),) * ndim
        if self._padding == "same":
            pairs = []
            for k, d in zip(
                _fit("kernel", self.kernel, ndim),
                _fit("dilation", self.dilation, ndim),
                strict=True,
            ):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
        return _fit("padding", self._padding, ndim)

    def axes(self, ndim: int | None = None) -> tuple[Window, ...]:
        """One ``Window`` per spatial axis (ints spread over all ``ndim`` axes)."""
        ndim = ndim or self.ndim
        if ndim < self.ndim:
            raise ValueError(f"this layer has {self.ndim} axes, cannot use it with {ndim}")
        return tuple(
            Window(k, s, d, b, a, self.ceil_mode)
            for k, s, d, (b, a) in zip(
                _fit("kernel", self.kernel, ndim),
                _fit("stride", self.stride, ndim),
                _fit("dilation", self.dilation, ndim),
                self.padding(ndim),
                strict=True,
            )
        )

    def __repr__(self) -> str:
        kernel, stride, padding, dilation = self._args
        parts = [f"kernel={kernel!r}"]
        if stride != 1:
            parts.append(f"stride={stride!r}")
        if padding != 0:
            parts.append(f"padding={padding!r}")
        if dilation != 1:
            parts.append(f"dilation={dilation!r}")
        if self.ceil_mode:
            parts.append("ceil_mode=True")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        return f"Layer({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layer):
            return NotImplemented
        return self.axes() == other.axes() and self.name == other.name

    def __hash__(self) -> int:
        return hash((self.axes(), self.name))


# -- the textbook recurrences -------------------------------------------------


def next_jump(jump: int | Fraction, stride: int) -> int | Fraction:
    """Dang Ha The Hien's ``j_out = j_in * s``."""
    return jump * stride


def next_size(size: int, jump: int | Fraction, kernel: int, dilation: int = 1) -> int:
    """Dang Ha The Hien's ``r_out = r_in + (k - 1) j_in``, with a dilated kernel."""
    return size + dilation * (kernel - 1) * jump


def next_start(start: int | Fraction, jump: int | Fraction, pad_before: int) -> int | Fraction:
    """First input index unit 0 sees: ``start_out = start_in - p j_in``."""
    return start - pad_before * jump
