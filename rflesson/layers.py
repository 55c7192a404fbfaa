"""One layer's geometry: the ``Layer`` spec, and what one layer does along one axis.

``Layer`` is what a learner writes: ``Layer(3, stride=2, padding=1)``.  It
turns into one *axis operation* per spatial axis.  An axis operation knows
four things about its layer along one axis:

* ``out_length(n)``: how many output units an input of length ``n`` gives;
* ``taps(u, n)``: which input indices output unit ``u`` reads (unclipped:
  negative indices lie in the padding); the coverage tools count these;
* ``axis_map(n)``: the same as an exact periodic ``AxisMap``, to compose;
* ``reach(units, n)``: the *real* input pixels (an interval set, see
  ``rflesson.axismap``) that a set of output units reads, with the padding's
  copies (reflect, replicate, circular) folded back onto the pixels they copy.

There are six kinds: ``Window`` (convolution and pooling, also padding and
cropping), ``Transposed`` (transposed convolution), ``Resample``
(upsampling by ``F.interpolate``), ``Collapse`` (adaptive and global
pooling: each output unit reads a whole bin of the input), ``Block``
(windowed attention: a unit reads every position of its window) and ``Mix``
(attention, softmax over an axis: every unit reads the whole axis).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

from ._validate import as_int
from .axismap import AxisMap, Intervals, clip, merge

MAX_DENOMINATOR = 1000  # a float scale factor is read as p/q with q <= this when it is one
MAX_ENUMERATE = 1 << 20  # documented limit: units listed one by one when no closed form exists
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

# -- axis operations ----------------------------------------------------------


def _too_small(what: str, n: int, minimum: int) -> ValueError:
    return ValueError(f"{what} gets {n} pixels along an axis and needs at least {minimum}")


def _enumerate(op, units: Intervals, n: int) -> Intervals:
    """Reach by listing every unit's taps: the fallback without a closed form."""
    total = sum(b - a + 1 for a, b in units)
    if total > MAX_ENUMERATE:
        raise ValueError(
            f"following {total} units one by one is beyond rflesson's limit of "
            f"{MAX_ENUMERATE} (rflesson.layers.MAX_ENUMERATE); use a smaller input_size"
        )
    taps = [t for a, b in units for u in range(a, b + 1) for t in op.taps(u, n)]
    return clip(merge((t, t) for t in taps), n)


@dataclass(frozen=True)
class Window:
    """A sliding window along one axis: convolution, pooling, padding or cropping.

    Unit ``u`` reads ``u*stride - pad_before + dilation*t`` for ``t`` in
    ``0..kernel-1``.  Negative pads (``F.pad`` with negative widths) crop.
    ``mode`` says what the padding holds: ``'zeros'`` (or a constant: nothing
    of the input), or a copy of input pixels: ``'reflect'`` (position ``-j``
    reads pixel ``j``), ``'replicate'`` (the border pixel) or ``'circular'``
    (the far edge: a border unit then reads pixels at both ends).
    """

    kernel: int = 1
    stride: int = 1
    dilation: int = 1
    pad_before: int = 0
    pad_after: int = 0
    ceil_mode: bool = False
    mode: str = "zeros"

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

    def reach(self, units: Intervals, n: int) -> Intervals:
        """The real input pixels that ``units`` read (padding copies folded back)."""
        padded = merge(piece for a, b in units for piece in self._padded_run(a, b))
        return self.fold(padded, n)

    def _padded_run(self, a: int, b: int) -> list[tuple[int, int]]:
        """Positions (padding included) read by units ``a..b``."""
        k, s, d, p = self.kernel, self.stride, self.dilation, self.pad_before
        if s == 1:
            if d == 1 or b - a + 1 >= d:  # the shifted copies of the run overlap
                return [(a - p, b - p + d * (k - 1))]
            return [(a - p + d * t, b - p + d * t) for t in range(k)]
        if d == 1 and s <= k:  # neighbouring windows touch
            return [(a * s - p, b * s - p + k - 1)]
        offsets = sorted({d * t - p for t in range(k)})
        units, edge = b - a + 1, -(-self.span // s) + 1
        if units <= 2 * edge + 2 or units * k <= 4096:
            return [(u * s + c, u * s + c) for u in range(a, b + 1) for c in offsets]
        if {c % s for c in offsets} == set(range(s)):  # dense except near both ends
            ends = [*range(a, a + edge), *range(b - edge + 1, b + 1)]
            pieces = [(u * s + c, u * s + c) for u in ends for c in offsets]
            pieces.append(((a + edge) * s + offsets[0], (b - edge) * s + offsets[-1]))
            return pieces
        if units * k > MAX_ENUMERATE:
            raise ValueError(
                f"a window of stride {s} and span {self.span} leaves holes over {units} units, "
                f"beyond rflesson's limit of {MAX_ENUMERATE} (rflesson.layers.MAX_ENUMERATE); "
                "use a smaller input_size"
            )
        return [(u * s + c, u * s + c) for u in range(a, b + 1) for c in offsets]

    def source(self, i: int, n: int) -> int | None:
        """The input pixel that padded position ``i`` holds (``None``: zero padding)."""
        if 0 <= i < n:
            return i
        if self.mode == "reflect":
            return -i if i < 0 else 2 * (n - 1) - i
        if self.mode == "replicate":
            return 0 if i < 0 else n - 1
        if self.mode == "circular":
            return i % n
        return None

    def fold(self, positions: Intervals, n: int) -> Intervals:
        """Real pixels behind padded ``positions``, as an interval set."""
        inside = clip(positions, n)
        if self.mode == "zeros":
            return inside
        pieces = list(inside)
        for lo, hi in positions:
            if lo < 0:  # the part in the left padding
                top = min(hi, -1)
                pieces.append(self._fold_piece(lo, top, n))
            if hi > n - 1:  # the part in the right padding
                bottom = max(lo, n)
                pieces.append(self._fold_piece(bottom, hi, n))
        return clip(merge(pieces), n)

    def _fold_piece(self, lo: int, hi: int, n: int) -> tuple[int, int]:
        a, b = self.source(lo, n), self.source(hi, n)
        if self.mode == "circular" and hi - lo + 1 >= n:
            return (0, n - 1)
        return (min(a, b), max(a, b))


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

    def reach(self, units: Intervals, n: int) -> Intervals:
        """Inputs read by ``units``: per kernel tap, the inputs whose output lands in a run."""
        pieces = []
        for a, b in units:
            for t in range(self.kernel):
                shift = self.padding - self.dilation * t
                pieces.append((-(-(a + shift) // self.stride), (b + shift) // self.stride))
        return clip(merge(pieces), n)


_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic")


def _small_fraction(x: float) -> Fraction | None:
    """``x`` as ``p/q`` with ``q <= MAX_DENOMINATOR`` if that is the float ``x`` (e.g. 1/3)."""
    guess = Fraction(x).limit_denominator(MAX_DENOMINATOR)
    return guess if float(guess) == x else None


@dataclass(frozen=True)
class Resample:
    """Upsampling (``F.interpolate``, ``nn.Upsample``), as PyTorch computes it.

    ``scale`` is the ``scale_factor`` given (a float, or an exact
    ``Fraction``); ``size`` a fixed output length.  The output length and
    each unit's source position follow PyTorch's formulas in double
    precision: ``floor(n * scale)`` outputs, and output ``u`` samples input
    ``u / scale`` (nearest) or ``(u + 1/2) / scale - 1/2`` (linear, cubic).
    Linear modes read two neighbours and ``bicubic`` four, except where a
    neighbour's weight is exactly zero.  With ``align_corners=True`` the
    first and last pixels of input and output coincide, so the input length
    must be known.  A factor that is a fraction ``p/q`` with ``q <= 1000``
    repeats every ``p`` units; any other (``1.0005``) needs the input length
    and is followed unit by unit (up to ``MAX_PERIOD`` outputs).
    """

    mode: str = "nearest"
    scale: Fraction | float | None = None
    size: int | None = None
    align_corners: bool = False

    def _exact(self) -> Fraction | None:
        if self.scale is None or self.align_corners:
            return None
        if isinstance(self.scale, Fraction):
            return self.scale
        return _small_fraction(float(self.scale))

    def factor(self, n: int | None) -> Fraction:
        """Output units per input pixel, exactly (it sets the map's period)."""
        exact = self._exact()
        if exact is not None:
            return exact
        if n is None:
            if self.align_corners:
                what = "align_corners=True"
            elif self.size is not None:
                what = f"a fixed size={self.size}"
            else:
                what = f"scale_factor={self.scale!r} (not a fraction p/q with q <= 1000)"
            raise ValueError(f"upsampling with {what} needs input_size to know its factor")
        m = self.out_length(n)
        if self.align_corners:
            if n < 2 or m < 2:
                raise ValueError("align_corners=True needs input and output lengths of at least 2")
            return Fraction(m - 1, n - 1)  # the first and last pixels coincide
        return Fraction(m, n)  # one period covers every output unit

    def _inverse(self, n: int | None) -> float:
        """PyTorch's ``scale`` in its source-index formulas: input pixels per output unit."""
        if self.align_corners:
            m = self.out_length(n)
            return (n - 1) / (m - 1) if m > 1 else 0.0
        if self.scale is not None:
            return 1.0 / float(self.scale)
        return n / self.size if n is not None else float(1 / self.factor(n))

    def taps(self, u: int, n: int | None = None) -> tuple[int, ...]:
        inv = self._inverse(n)
        if self.mode == "nearest":
            return (math.floor(u * inv),)
        if self.mode == "nearest-exact":
            return (math.floor((u + 0.5) * inv),)
        # PyTorch clamps a source index below 0 (and reads past-the-end neighbours as the
        # border pixel); a border unit then reads the pixels these taps clip to.
        src = inv * u if self.align_corners else inv * (u + 0.5) - 0.5
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
        if isinstance(self.scale, Fraction):
            return math.floor(n * self.scale)
        return math.floor(n * float(self.scale))  # PyTorch multiplies in double precision

    def reach(self, units: Intervals, n: int) -> Intervals:
        if self.factor(n) >= 1:  # each unit reads at most one input further than the last
            return clip(merge((self.taps(a, n)[0], self.taps(b, n)[-1]) for a, b in units), n)
        return _enumerate(self, units, n)


@dataclass(frozen=True)
class Collapse:
    """Adaptive pooling to ``out`` bins; ``out=1`` is global pooling.

    Bin ``u`` of an input of length ``n`` covers ``floor(u n / out)`` to
    ``ceil((u+1) n / out) - 1`` (PyTorch's adaptive pooling), so the input
    length must be known.  Bins are computed from this closed form, never
    listed: a bin of 10**8 pixels costs no more than one of 3.
    """

    out: int = 1

    def _need(self, n: int | None) -> int:
        if n is None:
            raise ValueError(
                "adaptive or global pooling needs input_size: its windows depend "
                "on the input length; pass input_size"
            )
        return n

    def bin(self, u: int, n: int) -> tuple[int, int]:
        """First and last input pixel of bin ``u``."""
        return (u * n) // self.out, -(-((u + 1) * n) // self.out) - 1

    def taps(self, u: int, n: int | None = None) -> range:
        first, last = self.bin(u, self._need(n))
        return range(first, last + 1)

    def axis_map(self, n: int | None = None) -> AxisMap:
        n = self._need(n)
        g = math.gcd(n, self.out)
        period = self.out // g
        bins = [self.bin(r, n) for r in range(period)]
        return AxisMap(period, n // g, tuple(b[0] for b in bins), tuple(b[1] for b in bins))

    def out_length(self, n: int) -> int:
        return self.out

    def reach(self, units: Intervals, n: int) -> Intervals:
        return clip(merge((self.bin(a, n)[0], self.bin(b, n)[1]) for a, b in units), n)


@dataclass(frozen=True)
class Block:
    """Every unit reads every position of its block: windowed attention (Swin).

    Positions that differ only in one digit of a reshaped axis form a block:
    with ``stride`` 1 the windows ``[size*w, size*w + size - 1]``; with a
    larger stride every ``stride``-th position of a longer block.
    """

    size: int
    stride: int = 1

    def taps(self, u: int, n: int | None = None) -> range:
        whole = self.size * self.stride
        base = (u // whole) * whole + u % self.stride
        return range(base, base + whole, self.stride)

    def axis_map(self, n: int | None = None) -> AxisMap:
        whole = self.size * self.stride
        return AxisMap.from_taps(self.taps, whole, whole)

    def out_length(self, n: int) -> int:
        return n

    def reach(self, units: Intervals, n: int) -> Intervals:
        if self.stride == 1:
            return clip(
                merge(
                    ((a // self.size) * self.size, (b // self.size + 1) * self.size - 1)
                    for a, b in units
                ),
                n,
            )
        return _enumerate(self, units, n)


@dataclass(frozen=True)
class Mix:
    """Every unit reads the whole axis: attention, softmax or a norm over the axis."""

    def taps(self, u: int, n: int | None = None) -> range:
        if n is None:
            raise ValueError("an operation that mixes a whole axis needs input_size")
        return range(n)

    def axis_map(self, n: int | None = None) -> AxisMap:
        if n is None:
            raise ValueError("an operation that mixes a whole axis needs input_size")
        return AxisMap(1, 0, (0,), (n - 1,))

    def out_length(self, n: int) -> int:
        return n

    def reach(self, units: Intervals, n: int) -> Intervals:
        return ((0, n - 1),) if units else ()


AxisOp = Window | Transposed | Resample | Collapse | Block | Mix

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
