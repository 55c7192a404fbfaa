"""Every PyTorch operation and standard layer, mapped onto the ``Tracer``'s few shapes.

``RULES`` maps an operation's name (``'conv2d'``, ``'view'``, ``'softmax'``,
``'add'``...; functions, tensor methods and operators alike) to a function
``rule(tracer, label, key, args, kwargs, func)`` that returns its result.
Layers of ``torch.nn`` whose ``forward`` is the standard one are read from
their attributes by ``MODULE_RULES`` (faster, and named by their path);
any other module runs its own ``forward``, whose calls come here.

Rules are grouped: windows (convolution, pooling, padding, upsampling),
layout (views, permutes, slices), joins (cat, stack), reductions and other
operations that take a ``dim``, and linear algebra (linear layers, matmul,
einsum, attention).  See ``rflesson.trace`` for what each kind means.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import Resample, Window
from .layout import (
    Dim,
    axes_in,
    describe,
    digits,
    is_plain,
    normalize_dim,
    other,
    permute,
    reshape,
    shape,
    spatial,
    whole_axis,
)
from .record import MAX_REAL_ELEMENTS, Probe, TraceError
from .tracer import (
    IDENTITY,
    TooSmall,
    Tracer,
    UnknownOperation,
    argument,
    as_ints,
    as_meta,
    broadcast_shapes_of,
    shape_of,
    window_ops,
)

_REDUCE = {
    "mean", "sum", "nansum", "nanmean", "prod", "amax", "amin", "std", "var", "logsumexp",
    "any", "all", "argmax", "argmin", "count_nonzero", "std_mean", "var_mean", "aminmax",
    "median", "nanmedian", "mode", "norm",
}  # fmt: skip

_CUMULATIVE = {"cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"}
_BY_VALUE = {"sort", "argsort", "topk", "kthvalue", "msort", "unique", "unique_consecutive"}
_NEW = {
    "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "zeros_like", "ones_like",
    "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
}  # fmt: skip


# -- rules: one function per operation name ------------------------------------------------------
#
# Each rule gets (tracer, label, key, args, kwargs, func) and returns the result value.


def _r_conv(t: Tracer, label, key, args, kwargs, func):
    x, weight = args[0], argument(args, kwargs, 1, "weight")
    return t.conv(
        label,
        key,
        x,
        weight,
        argument(args, kwargs, 3, "stride", 1),
        argument(args, kwargs, 4, "padding", 0),
        argument(args, kwargs, 5, "dilation", 1),
        argument(args, kwargs, 6, "groups", 1),
    )


def _r_conv_transpose(t: Tracer, label, key, args, kwargs, func):
    x, weight = args[0], argument(args, kwargs, 1, "weight")
    groups = argument(args, kwargs, 6, "groups", 1)
    return t.conv_transpose(
        label,
        key,
        x,
        tuple(weight.shape[2:]),
        argument(args, kwargs, 3, "stride", 1),
        argument(args, kwargs, 4, "padding", 0),
        argument(args, kwargs, 5, "output_padding", 0),
        argument(args, kwargs, 7, "dilation", 1),
        weight.shape[1] * groups,
        weight.shape[0],
    )


def axes_of_name(key: str) -> int:
    for nd in (1, 2, 3):
        if f"{nd}d" in key:
            return nd
    raise UnknownOperation(f"{key}: cannot tell its number of spatial axes")


def _r_max_pool(t: Tracer, label, key, args, kwargs, func):
    nd = axes_of_name(key)
    out = t.pool(
        label,
        key,
        args[0],
        nd,
        argument(args, kwargs, 1, "kernel_size"),
        argument(args, kwargs, 2, "stride"),
        argument(args, kwargs, 3, "padding", 0),
        argument(args, kwargs, 4, "dilation", 1),
        argument(args, kwargs, 5, "ceil_mode", False),
    )
    if argument(args, kwargs, 6, "return_indices", False) or "indices" in key:
        return out, t.derive(out)
    return out


def _r_avg_pool(t: Tracer, label, key, args, kwargs, func):
    return t.pool(
        label,
        key,
        args[0],
        axes_of_name(key),
        argument(args, kwargs, 1, "kernel_size"),
        argument(args, kwargs, 2, "stride"),
        argument(args, kwargs, 3, "padding", 0),
        1,
        argument(args, kwargs, 4, "ceil_mode", False),
    )


def _r_lp_pool(t: Tracer, label, key, args, kwargs, func):
    return t.pool(
        label,
        key,
        args[0],
        axes_of_name(key),
        argument(args, kwargs, 2, "kernel_size"),
        argument(args, kwargs, 3, "stride"),
        0,
        1,
        argument(args, kwargs, 4, "ceil_mode", False),
    )


def _r_adaptive(t: Tracer, label, key, args, kwargs, func):
    out = t.adaptive(
        label, key, args[0], axes_of_name(key), argument(args, kwargs, 1, "output_size")
    )
    if argument(args, kwargs, 2, "return_indices", False) or "indices" in key:
        return out, t.derive(out)
    return out


def _r_pad(t: Tracer, label, key, args, kwargs, func):
    return t.pad(
        label,
        key,
        args[0],
        argument(args, kwargs, 1, "pad"),
        argument(args, kwargs, 2, "mode", "constant"),
    )


def _r_interpolate(t: Tracer, label, key, args, kwargs, func):
    mode = argument(args, kwargs, 3, "mode", "nearest")
    corners = argument(args, kwargs, 4, "align_corners")
    if key == "upsample_bilinear":
        mode, corners = "bilinear", True
    if key == "upsample_nearest":
        mode = "nearest"
    return t.interpolate(
        label,
        key,
        args[0],
        argument(args, kwargs, 1, "size"),
        argument(args, kwargs, 2, "scale_factor"),
        mode,
        corners,
        argument(args, kwargs, 5, "recompute_scale_factor"),
        argument(args, kwargs, 6, "antialias", False),
    )


def _r_pixel_shuffle(t: Tracer, label, key, args, kwargs, func):
    x, r = args[0], int(argument(args, kwargs, 1, "upscale_factor"))
    ops = (Resample("nearest", scale=r),) * 2
    out = t.windows(label, key, x, ops, "upsample")
    c = x.ndim - 3
    layout = list(out.layout)
    layout[c] = other(x.layout[c].size // (r * r))
    return t.relayout(out, layout)


def _r_pixel_unshuffle(t: Tracer, label, key, args, kwargs, func):
    x, r = args[0], int(argument(args, kwargs, 1, "downscale_factor"))
    out = t.windows(label, key, x, (Window(r, r),) * 2, "window")
    c = x.ndim - 3
    layout = list(out.layout)
    layout[c] = other(x.layout[c].size * r * r)
    return t.relayout(out, layout)


def _r_im2col(t: Tracer, label, key, args, kwargs, func):
    """``F.unfold``: each column is one window, its entries go to the channel axis."""
    x = args[0]
    kernel = as_ints(argument(args, kwargs, 1, "kernel_size"), 2, "kernel_size")
    ops = window_ops(
        label,
        key,
        2,
        kernel,
        argument(args, kwargs, 4, "stride", 1),
        argument(args, kwargs, 3, "padding", 0),
        argument(args, kwargs, 2, "dilation", 1),
    )
    out = t.windows(label, key, x, ops, "window", x.layout[-3].size * math.prod(kernel))
    return t.relayout(out, reshape(out.layout, _flat_last(out)))


def _flat_last(x: Probe) -> tuple[int, ...]:
    s = shape(x.layout)
    return (*s[:-2], s[-2] * s[-1])


def _r_unfold(t: Tracer, label, key, args, kwargs, func):
    if func is F.unfold:
        return _r_im2col(t, label, key, args, kwargs, func)
    x = args[0]
    index = normalize_dim(argument(args, kwargs, 1, "dimension"), x.ndim)
    size, step = int(argument(args, kwargs, 2, "size")), int(argument(args, kwargs, 3, "step"))
    dim = x.layout[index]
    if not digits(dim) and is_plain(dim):
        layout = list(x.layout)
        layout[index] = other((dim.size - size) // step + 1)
        return t.relayout(x, [*layout, other(size)])
    axis = whole_axis(dim, x.lengths)
    op = Window(size, step)
    try:
        n_out = op.out_length(dim.size)
    except ValueError as error:
        raise TooSmall(f"at {label!r} ({key}) {error}") from None
    axes = [IDENTITY] * t.ndim
    axes[axis] = op
    lengths = list(x.lengths)
    lengths[axis] = n_out
    layout = list(x.layout)
    layout[index] = spatial(axis, n_out)
    return t.emit(label, "window", [x], key, axes, [*layout, other(size)], lengths, x.mixed)


# -- layout ------------------------------------------------------------------------------------------


def _r_view(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    rest = args[1:] or (kwargs.get("shape") or kwargs.get("size"),)
    if len(rest) == 1 and isinstance(rest[0], torch.dtype):
        return t.derive(x)
    return t.view(label, key, x, rest)


def _r_view_as(t: Tracer, label, key, args, kwargs, func):
    return t.view(label, key, args[0], (tuple(shape_of(args[1])),))


def _r_flatten(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if x.ndim == 0:
        return t.view(label, key, x, ((1,),))
    start = normalize_dim(argument(args, kwargs, 1, "start_dim", 0), x.ndim)
    end = normalize_dim(argument(args, kwargs, 2, "end_dim", -1), x.ndim)
    s = shape(x.layout)
    new = (*s[:start], math.prod(s[start : end + 1]), *s[end + 1 :])
    return t.view(label, key, x, (new,))


def _r_unflatten(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(argument(args, kwargs, 1, "dim"), x.ndim)
    sizes = list(argument(args, kwargs, 2, "sizes"))
    s = shape(x.layout)
    if -1 in sizes:
        known = math.prod(v for v in sizes if v != -1)
        sizes[sizes.index(-1)] = s[index] // known
    return t.view(label, key, x, ((*s[:index], *sizes, *s[index + 1 :]),))


def _r_permute(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    order = args[1:] or (kwargs.get("dims"),)
    if len(order) == 1 and isinstance(order[0], tuple | list | torch.Size):
        order = tuple(order[0])
    order = tuple(normalize_dim(int(d), x.ndim) for d in order)
    return t.relayout(x, permute(x.layout, order))


def _r_transpose(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "t" and x.ndim < 2:
        return t.derive(x)
    d0 = normalize_dim(argument(args, kwargs, 1, "dim0", 0), x.ndim)
    d1 = normalize_dim(argument(args, kwargs, 2, "dim1", 1), x.ndim)
    order = list(range(x.ndim))
    order[d0], order[d1] = d1, d0
    return t.relayout(x, permute(x.layout, tuple(order)))


def _r_movedim(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    src = argument(args, kwargs, 1, "source")
    dst = argument(args, kwargs, 2, "destination")
    src = [src] if isinstance(src, int) else list(src)
    dst = [dst] if isinstance(dst, int) else list(dst)
    src = [normalize_dim(d, x.ndim) for d in src]
    dst = [normalize_dim(d, x.ndim) for d in dst]
    order = [None] * x.ndim
    for s, d in zip(src, dst, strict=True):
        order[d] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return t.relayout(x, permute(x.layout, tuple(order)))


def _r_squeeze(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dims = argument(args, kwargs, 1, "dim")
    s = shape(x.layout)
    if dims is None:
        drop = {i for i, n in enumerate(s) if n == 1}
    else:
        dims = [dims] if isinstance(dims, int) else list(dims)
        drop = {normalize_dim(d, x.ndim) for d in dims if s[normalize_dim(d, x.ndim)] == 1}
    return t.view(label, key, x, (tuple(n for i, n in enumerate(s) if i not in drop),))


def _r_unsqueeze(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    d = normalize_dim(argument(args, kwargs, 1, "dim"), x.ndim + 1)
    layout = list(x.layout)
    layout.insert(d, Dim(1))
    return t.relayout(x, layout)


def _r_expand(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "expand_as":
        sizes = shape_of(args[1])
    else:
        sizes = args[1:] or (kwargs.get("size") or kwargs.get("shape"),)
        if len(sizes) == 1 and isinstance(sizes[0], tuple | list | torch.Size):
            sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    extra = len(sizes) - x.ndim
    layout = [Dim(n, (), broadcast=n > 1) for n in sizes[:extra]]
    for dim, n in zip(x.layout, sizes[extra:], strict=True):
        if n == -1 or n == dim.size:
            layout.append(dim)
        elif dim.size == 1:
            layout.append(Dim(n, dim.factors, broadcast=True))
        else:
            raise TraceError(f"{label} ({key}) cannot expand size {dim.size} to {n}")
    return t.relayout(x, layout)


def _r_repeat(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    reps = args[1:] or (kwargs.get("repeats") or kwargs.get("dims"),)
    if len(reps) == 1 and isinstance(reps[0], tuple | list | torch.Size):
        reps = tuple(reps[0])
    reps = tuple(int(r) for r in reps)
    extra = len(reps) - x.ndim
    if extra < 0:
        reps = (1,) * (-extra) + reps
        extra = 0
    layout = [Dim(n, (), broadcast=n > 1) for n in reps[:extra]]
    for dim, r in zip(x.layout, reps[extra:], strict=True):
        if r == 1:
            layout.append(dim)
        elif digits(dim) or not is_plain(dim):
            raise t.refuse(
                label,
                key,
                "tiles a dimension that holds positions: a unit would read copies from elsewhere",
            )
        elif dim.size == 1:
            layout.append(Dim(r, dim.factors, broadcast=True))
        else:
            layout.append(other(dim.size * r))
    return t.relayout(x, layout)


def _r_narrow(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(argument(args, kwargs, 1, "dim"), x.ndim)
    start = int(argument(args, kwargs, 2, "start"))
    length = int(argument(args, kwargs, 3, "length"))
    start = start % x.layout[index].size if start < 0 else start
    return t.crop(label, key, x, index, start, start + length, 1, True)


def _r_select(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(argument(args, kwargs, 1, "dim"), x.ndim)
    i = int(argument(args, kwargs, 2, "index"))
    i = i % x.layout[index].size
    return t.crop(label, key, x, index, i, i + 1, 1, False)


def _pieces(t: Tracer, label, key, x: Probe, index: int, bounds, keep=True):
    return tuple(t.crop(label, key, x, index, a, b, 1, keep) for a, b in bounds)


def _r_split(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    sizes = argument(args, kwargs, 1, "split_size_or_sections", kwargs.get("split_size"))
    index = normalize_dim(argument(args, kwargs, 2, "dim", 0), x.ndim)
    n = x.layout[index].size
    if isinstance(sizes, int):
        sizes = [min(sizes, n - a) for a in range(0, n, sizes)]
    bounds, a = [], 0
    for s in sizes:
        bounds.append((a, a + int(s)))
        a += int(s)
    return _pieces(t, label, key, x, index, bounds)


def _r_chunk(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    chunks = int(argument(args, kwargs, 1, "chunks"))
    index = normalize_dim(argument(args, kwargs, 2, "dim", 0), x.ndim)
    n = x.layout[index].size
    size = -(-n // chunks)
    return _pieces(t, label, key, x, index, [(a, min(a + size, n)) for a in range(0, n, size)])


def _r_tensor_split(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    spec = argument(
        args, kwargs, 1, "indices_or_sections", kwargs.get("sections", kwargs.get("indices"))
    )
    index = normalize_dim(argument(args, kwargs, 2, "dim", 0), x.ndim)
    n = x.layout[index].size
    if isinstance(spec, int):
        q, r = divmod(n, spec)
        cuts, a = [], 0
        for i in range(spec):
            a += q + (1 if i < r else 0)
            cuts.append(a)
        cuts = cuts[:-1]
    else:
        cuts = [int(c) for c in spec]
    edges = [0, *cuts, n]
    return _pieces(t, label, key, x, index, list(zip(edges, edges[1:], strict=False)))


def _r_unbind(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(argument(args, kwargs, 1, "dim", 0), x.ndim)
    n = x.layout[index].size
    return _pieces(t, label, key, x, index, [(i, i + 1) for i in range(n)], keep=False)


def _r_getitem(t: Tracer, label, key, args, kwargs, func):
    x, index = args[0], args[1]
    if not isinstance(x, Probe):
        return x[index]
    items = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in items):
        k = next(i for i, v in enumerate(items) if v is Ellipsis)
        used = sum(1 for i in items if i is not None and i is not Ellipsis)
        items = items[:k] + (slice(None),) * (x.ndim - used) + items[k + 1 :]
    out, dim = x, 0
    for item in items:
        if item is None:
            layout = list(out.layout)
            layout.insert(dim, Dim(1))
            out = t.relayout(out, layout)
            dim += 1
        elif isinstance(item, slice):
            n = out.layout[dim].size
            start, stop, step = item.indices(n)
            if step < 1:
                raise t.refuse(label, key, "slices with a negative step")
            stop = max(stop, start)
            out = t.crop(label, key, out, dim, start, stop, step, True)
            dim += 1
        elif isinstance(item, int) and not isinstance(item, bool):
            n = out.layout[dim].size
            i = item % n if -n <= item < n else None
            if i is None:
                raise TraceError(f"{label} (getitem): index {item} is out of range for size {n}")
            out = t.crop(label, key, out, dim, i, i + 1, 1, False)
        else:
            return _advanced_index(t, label, key, out, dim, items, item)
    return out


def _advanced_index(t: Tracer, label, key, x: Probe, dim: int, items, item):
    """Indexing with a list or tensor: fine on channels, refused on positions."""
    if isinstance(item, Probe) or digits(x.layout[dim]) or not is_plain(x.layout[dim]):
        raise t.refuse(
            label,
            key,
            "indexes positions with a tensor or list: which positions it reads depends on values",
        )
    if isinstance(item, torch.Tensor) and item.dtype == torch.bool:
        raise t.refuse(
            label, key, "indexes with a boolean mask: the result's size depends on values"
        )
    position = next(i for i, v in enumerate(items) if v is item)
    if any(not (isinstance(r, slice) and r == slice(None)) for r in items[position + 1 :]):
        raise t.refuse(label, key, "mixes advanced indexing with other indices")
    layout = list(x.layout)
    layout[dim] = other(len(item))
    return t.relayout(x, layout)


def _r_setitem(t: Tracer, label, key, args, kwargs, func):
    x, index, value = args
    items = index if isinstance(index, tuple) else (index,)
    for i, item in enumerate(i for i in items if i is not Ellipsis):
        if i < x.ndim and not (isinstance(item, slice) and item == slice(None)):
            if digits(x.layout[i]):
                raise t.refuse(label, key, "writes into some positions only")
    out = (
        t.merge(label, key, [x, value]) if isinstance(value, Probe) else t.pointwise(x, label, key)
    )
    x.node, x.layout, x.lengths, x.mixed = out.node, out.layout, out.lengths, out.mixed
    return None


# -- joins -----------------------------------------------------------------------------------------


def _r_cat(t: Tracer, label, key, args, kwargs, func):
    tensors = list(argument(args, kwargs, 0, "tensors"))
    tensors = [
        v for v in tensors if not (isinstance(v, torch.Tensor) and v.dim() == 1 and v.numel() == 0)
    ]
    first = next(v for v in tensors if isinstance(v, Probe))
    index = normalize_dim(argument(args, kwargs, 1, "dim", 0), first.ndim)
    probes = [v for v in tensors if isinstance(v, Probe)]
    total = sum(shape_of(v)[index] for v in tensors)
    holders = [p for p in probes if digits(p.layout[index]) or not is_plain(p.layout[index])]
    if not holders:
        out = t.merge(label, key, [_stand_in(v, index) for v in tensors])
        layout = list(out.layout)
        layout[index] = other(total)
        return t.relayout(out, layout)
    if len(holders) > 1 or len(probes) > 1 and any(p is not holders[0] for p in probes):
        raise t.refuse(
            label,
            key,
            f"joins tensors along dim={index}, which holds positions: a unit would read from several places",
        )
    holder = holders[0]
    dim = holder.layout[index]
    position = next(i for i, v in enumerate(tensors) if v is holder)
    before = sum(shape_of(v)[index] for v in tensors[:position])
    after = sum(shape_of(v)[index] for v in tensors[position + 1 :])
    layout = list(holder.layout)
    layout[index] = Dim(total, dim.factors, dim.before + before, dim.after + after)
    return t.relayout(holder, layout)


def _stand_in(value, index):
    """A value with size 1 along ``index``, for aligning the other dimensions of a cat."""
    if isinstance(value, Probe):
        layout = list(value.layout)
        layout[index] = Dim(1)
        return value.recorder.derive(value, layout=layout)
    if isinstance(value, torch.Tensor):
        return value.narrow(index, 0, 1) if value.shape[index] else value
    return value


def _r_stack(t: Tracer, label, key, args, kwargs, func):
    tensors = list(argument(args, kwargs, 0, "tensors"))
    first = next(v for v in tensors if isinstance(v, Probe))
    index = normalize_dim(argument(args, kwargs, 1, "dim", 0), first.ndim + 1)
    expanded = [v.unsqueeze(index) if isinstance(v, Probe | torch.Tensor) else v for v in tensors]
    return _r_cat(t, label, key, (expanded, index), {}, func)


# -- dims, reductions, mixing --------------------------------------------------------------------


def _dims(x: Probe, value) -> set[int]:
    if value is None:
        return set(range(x.ndim))
    values = value if isinstance(value, tuple | list) else [value]
    return {normalize_dim(int(d), x.ndim) for d in values}


def _r_softmax(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dim = argument(args, kwargs, 1, "dim")
    if dim is None:  # PyTorch's legacy implicit dimension
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return t.mix(label, key, x, _dims(x, dim))


def _r_normalize(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    return t.mix(label, key, x, _dims(x, argument(args, kwargs, 2, "dim", 1)))


def _r_glu(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    index = normalize_dim(argument(args, kwargs, 1, "dim", -1), x.ndim)
    n = x.layout[index].size
    a, b = _pieces(t, label, key, x, index, [(0, n // 2), (n // 2, n)])
    if a.node == x.node and b.node == x.node:
        return t.pointwise(x, label, key, a.layout)
    return t.merge(label, key, [a, b])


def _r_cumulative(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dims = _dims(x, argument(args, kwargs, 1, "dim"))
    if any(digits(x.layout[d]) for d in dims):
        raise t.refuse(
            label,
            key,
            "runs along a spatial axis: position t reads positions 0..t, a region that grows with t (not one receptive field)",
        )
    out = t.pointwise(x, label, key)
    return (out, t.derive(out)) if key in ("cummax", "cummin") else out


def _r_by_value(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    dim = argument(args, kwargs, 2 if key in ("topk", "kthvalue") else 1, "dim", -1)
    dims = _dims(x, dim)
    if any(digits(x.layout[d]) or not is_plain(x.layout[d]) for d in dims):
        raise t.refuse(
            label,
            key,
            "orders or picks positions by their values: which positions it reads depends on the input",
        )
    return t.fallback(label, key, args, kwargs, func)


def _r_reduce(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "norm":
        dim, keepdim = argument(args, kwargs, 2, "dim"), argument(args, kwargs, 3, "keepdim", False)
    elif len(args) > 1 and isinstance(args[1], bool):  # std(x, unbiased)
        dim, keepdim = kwargs.get("dim"), kwargs.get("keepdim", False)
    else:
        dim, keepdim = argument(args, kwargs, 1, "dim"), argument(args, kwargs, 2, "keepdim", False)
    if key == "mode" and dim is None:
        dim = -1
    out = t.reduce(label, key, x, None if dim == () else dim, bool(keepdim))
    pairs = key in ("std_mean", "var_mean", "aminmax") or (
        key in ("median", "nanmedian", "mode") and dim is not None
    )
    return _pair(key, out, t.derive(out)) if pairs else out


def _pair(key, a, b):
    kind = getattr(torch.return_types, key, None)
    try:
        return kind((a, b)) if kind is not None else (a, b)
    except TypeError:
        return (a, b)


def _r_max(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    other_value = argument(args, kwargs, 1, "other", kwargs.get("dim"))
    if isinstance(other_value, Probe | torch.Tensor):
        return t.merge(label, key, [x, other_value])
    if other_value is None:
        return t.reduce(label, key, x, None, False)
    out = t.reduce(label, key, x, other_value, bool(argument(args, kwargs, 2, "keepdim", False)))
    return _pair(key, out, t.derive(out))


def _r_roll(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    shifts = argument(args, kwargs, 1, "shifts")
    dims = argument(args, kwargs, 2, "dims")
    if dims is None:
        if x.has_positions():
            raise t.refuse(label, key, "rolls the flattened tensor, positions included")
        return t.pointwise(x, label, key)
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = [dims] if isinstance(dims, int) else list(dims)
    for s, d in zip(shifts, dims, strict=True):
        dim = x.layout[normalize_dim(d, x.ndim)]
        if digits(dim) and s % dim.size:
            raise t.refuse(
                label,
                key,
                "shifts positions cyclically along a spatial axis (torch.roll, as in Swin's shifted "
                "windows): a unit near the border then reads pixels from the opposite border, so its "
                "region is not one box",
            )
    return t.pointwise(x, label, key)


def _r_flip(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    if key == "fliplr":
        dims = {1}
    elif key == "flipud":
        dims = {0}
    else:
        dims = _dims(x, argument(args, kwargs, 1, "dims", argument(args, kwargs, 2, "dims")))
    if any(digits(x.layout[d]) for d in dims):
        raise t.refuse(label, key, "reverses the order of positions along a spatial axis")
    return t.pointwise(x, label, key)


def _r_new(t: Tracer, label, key, args, kwargs, func):
    """A new tensor shaped like a probe: a constant (it does not depend on the input)."""
    target = func if func is not None else getattr(torch.Tensor, key)
    shaped = target(*as_meta(args), **as_meta(kwargs))
    if shaped.numel() > MAX_REAL_ELEMENTS:
        return shaped  # a meta tensor: no memory
    stand_ins = [_real_stand_in(v, key) for v in args]
    return target(*stand_ins, **kwargs)


def _real_stand_in(value, key: str):
    if not isinstance(value, Probe):
        return value
    if key.endswith("_like"):
        return torch.zeros(tuple(value.shape), dtype=value.dtype)
    return torch.zeros((), dtype=value.dtype)


def _r_shape_query(t: Tracer, label, key, args, kwargs, func):
    x = args[0]
    return x.numel() if key == "numel" else x.size(*args[1:])


def _r_embedding(t: Tracer, label, key, args, kwargs, func):
    raise t.refuse(label, key, "looks up rows by the input's values: it has no receptive field")


def _r_where(t: Tracer, label, key, args, kwargs, func):
    if len(args) + len(kwargs) == 1:
        raise t.refuse(
            label, key, "returns the positions where a condition holds, which depends on values"
        )
    return t.merge(label, key, list(args) + list(kwargs.values()))


# -- linear algebra and attention --------------------------------------------------------------------


def _r_linear(t: Tracer, label, key, args, kwargs, func):
    x, weight = args[0], argument(args, kwargs, 1, "weight")
    bias = argument(args, kwargs, 2, "bias")
    if isinstance(weight, Probe) or isinstance(bias, Probe):
        return _matmul(
            t, label, key, x, weight.transpose(-1, -2) if isinstance(weight, Probe) else weight.t()
        )
    return linear(t, label, key, x, weight.shape[0], weight.shape[1])


def linear(t: Tracer, label, key, x: Probe, out_features: int, in_features: int) -> Probe:
    """A linear map over the last dimension: pointwise on channels, mixing on positions."""
    last = x.ndim - 1
    dim = x.layout[last]
    if dim.size != in_features:
        raise TraceError(
            f"the model's forward fails: {label} ({key}) expects {in_features} features in the "
            f"last dimension, which has {dim.size} ({describe(dim)})"
        )
    layout = list(x.layout)
    if not digits(dim) and is_plain(dim):
        layout[last] = other(out_features)
        return t.pointwise(x, label, key, layout)
    if out_features == dim.size and is_plain(dim):  # a token-mixing layer keeps its positions
        return t.mix(label, key, x, {last})
    out = t.summarize(label, key, x, {last})
    layout = list(out.layout)
    layout[last] = other(out_features)
    return t.relayout(out, layout)


def _r_matmul(t: Tracer, label, key, args, kwargs, func):
    a, b = args[0], argument(args, kwargs, 1, "other", kwargs.get("mat2"))
    if key in ("baddbmm", "addmm", "addbmm", "addmv"):
        start, a, b = args[0], args[1], args[2]
        product = _matmul(t, label, key, a, b)
        return t.merge(label, key, [start, product])
    return _matmul(t, label, key, a, b)


def _layout_of(value) -> tuple[Dim, ...]:
    if isinstance(value, Probe):
        return value.layout
    return tuple(other(n) for n in value.shape)


def _matmul(t: Tracer, label, key, a, b):
    """``a @ b``: the contracted dimension is mixed; a row and a column of the same positions too."""
    la, lb = _layout_of(a), _layout_of(b)
    if len(la) == 0 or len(lb) == 0:
        return t.merge(label, key, [a, b])
    a_rank, b_rank = len(la), len(lb)
    if isinstance(a, Probe):
        a = t.summarize(label, key, a, {a_rank - 1})
    if isinstance(b, Probe):
        b = t.summarize(label, key, b, {b_rank - 2 if b_rank > 1 else 0})
    la, lb = _layout_of(a), _layout_of(b)
    row = la[-2] if a_rank > 1 else None
    col = lb[-1] if b_rank > 1 else None
    if isinstance(b, Probe) and row is not None and col is not None:
        twice = {f.axis for f in digits(col)} & axes_in(tuple(la[:-1]))
        if twice:  # q @ k^T: the column repeats positions the rows already hold
            b = t.summarize(label, key, b, {b_rank - 1})
            lb = _layout_of(b)
            col = lb[-1]
    batch_a, batch_b = la[:-2], lb[:-2]
    try:
        batch_shape = broadcast_shapes_of(
            tuple(d.size for d in batch_a), tuple(d.size for d in batch_b)
        )
    except ValueError as error:
        raise TraceError(f"{label} ({key}) cannot broadcast its operands: {error}") from None
    stand_ins = [
        t.derive(v, layout=v.layout[:-2]) for v in (a, b) if isinstance(v, Probe) and v.ndim > 2
    ]
    if stand_ins:
        batch = t.broadcast_layout(label, key, stand_ins, batch_shape)
    else:
        batch = tuple(other(n) for n in batch_shape)
    layout = [*batch, *([row] if row is not None else []), *([col] if col is not None else [])]
    return t.join(label, key, [v for v in (a, b) if isinstance(v, Probe)], layout)


def _r_einsum(t: Tracer, label, key, args, kwargs, func):
    equation = args[0]
    operands = list(args[1:])
    if len(operands) == 1 and isinstance(operands[0], tuple | list):
        operands = list(operands[0])
    equation = equation.replace(" ", "")
    if "..." in equation or "->" not in equation:
        raise t.refuse(
            label,
            key,
            f"uses the equation {equation!r}; rflesson reads only explicit ones (ab,bc->ac)",
        )
    inputs, output = equation.split("->")
    letters: dict[str, Dim] = {}
    probes = []
    for spec, value in zip(inputs.split(","), operands, strict=True):
        if isinstance(value, Probe):
            value = t.summarize(
                label, key, value, {i for i, c in enumerate(spec) if c not in output}
            )
            held = {f.axis for c, d in letters.items() if c in output for f in digits(d)}
            repeated = {
                i for i, c in enumerate(spec)
                if c in output and c not in letters and {f.axis for f in digits(value.layout[i])} & held
            }  # fmt: skip
            if repeated:
                value = t.summarize(label, key, value, repeated)
            probes.append(value)
        for c, d in zip(spec, _layout_of(value), strict=True):
            if c in output and (c not in letters or not digits(letters[c])):
                letters[c] = d
    return t.join(label, key, probes, [letters[c] for c in output])


def _r_sdpa(t: Tracer, label, key, args, kwargs, func):
    q, k, v = args[0], argument(args, kwargs, 1, "key"), argument(args, kwargs, 2, "value")
    mask = argument(args, kwargs, 3, "attn_mask")
    if argument(args, kwargs, 5, "is_causal", False) and digits(q.layout[-2]):
        raise t.refuse(
            label, key, "is causal along positions: position t reads 0..t, not one receptive field"
        )
    scores = _matmul(t, label, key, q, k.transpose(-2, -1))
    if isinstance(mask, Probe):
        scores = t.merge(label, key, [scores, mask])
    return _matmul(t, label, key, scores, v)


def _r_mha(t: Tracer, label, key, args, kwargs, func):
    """``F.multi_head_attention_forward``: (L, N, E) inputs, attention over dimension 0."""
    query, keyv, value = args[0], args[1], args[2]
    need_weights = argument(args, kwargs, 15, "need_weights", True)
    if argument(args, kwargs, 24, "is_causal", False) and digits(query.layout[0]):
        raise t.refuse(
            label, key, "is causal along positions: position t reads 0..t, not one receptive field"
        )
    scores = _matmul(
        t, label, key, query.transpose(0, -2) if query.ndim == 3 else query, _transpose_seq(keyv)
    )
    out = _matmul(t, label, key, scores, value.transpose(0, -2) if value.ndim == 3 else value)
    if query.ndim == 3:
        out = out.transpose(0, -2)
    layout = list(out.layout)
    layout[-1] = other(query.layout[-1].size)
    out = t.relayout(out, layout)
    weights = t.derive(scores) if need_weights else None
    return out, weights


def _transpose_seq(k):
    """(S, N, E) -> (N, E, S): the keys as the right factor of q @ k^T."""
    if k.ndim == 3:
        return k.permute(1, 2, 0)
    return k.transpose(0, 1)


RULES = {
    **dict.fromkeys(("conv1d", "conv2d", "conv3d"), _r_conv),
    **dict.fromkeys(
        ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"), _r_conv_transpose
    ),
    **dict.fromkeys(
        (
            "max_pool1d",
            "max_pool2d",
            "max_pool3d",
            "max_pool1d_with_indices",
            "max_pool2d_with_indices",
            "max_pool3d_with_indices",
        ),
        _r_max_pool,
    ),  # fmt: skip
    **dict.fromkeys(("avg_pool1d", "avg_pool2d", "avg_pool3d"), _r_avg_pool),
    **dict.fromkeys(("lp_pool1d", "lp_pool2d", "lp_pool3d"), _r_lp_pool),
    **dict.fromkeys(
        (
            "adaptive_avg_pool1d",
            "adaptive_avg_pool2d",
            "adaptive_avg_pool3d",
            "adaptive_max_pool1d",
            "adaptive_max_pool2d",
            "adaptive_max_pool3d",
            "adaptive_max_pool1d_with_indices",
            "adaptive_max_pool2d_with_indices",
            "adaptive_max_pool3d_with_indices",
        ),
        _r_adaptive,
    ),  # fmt: skip
    "pad": _r_pad,
    **dict.fromkeys(
        ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"), _r_interpolate
    ),
    "pixel_shuffle": _r_pixel_shuffle,
    "pixel_unshuffle": _r_pixel_unshuffle,
    "unfold": _r_unfold,
    **dict.fromkeys(("view", "reshape"), _r_view),
    **dict.fromkeys(("view_as", "reshape_as"), _r_view_as),
    "flatten": _r_flatten,
    "unflatten": _r_unflatten,
    "permute": _r_permute,
    **dict.fromkeys(("transpose", "swapaxes", "swapdims", "t"), _r_transpose),
    **dict.fromkeys(("movedim", "moveaxis"), _r_movedim),
    "squeeze": _r_squeeze,
    "unsqueeze": _r_unsqueeze,
    **dict.fromkeys(("expand", "expand_as", "broadcast_to"), _r_expand),
    **dict.fromkeys(("repeat", "tile"), _r_repeat),
    "narrow": _r_narrow,
    "select": _r_select,
    "split": _r_split,
    "chunk": _r_chunk,
    "tensor_split": _r_tensor_split,
    "unbind": _r_unbind,
    "getitem": _r_getitem,
    "setitem": _r_setitem,
    **dict.fromkeys(("cat", "concat", "concatenate"), _r_cat),
    "stack": _r_stack,
    **dict.fromkeys(("softmax", "log_softmax", "softmin"), _r_softmax),
    "normalize": _r_normalize,
    "glu": _r_glu,
    **dict.fromkeys(_CUMULATIVE, _r_cumulative),
    **dict.fromkeys(_BY_VALUE, _r_by_value),
    **dict.fromkeys(_REDUCE, _r_reduce),
    **dict.fromkeys(("max", "min"), _r_max),
    "roll": _r_roll,
    **dict.fromkeys(("flip", "fliplr", "flipud", "rot90"), _r_flip),
    **dict.fromkeys(_NEW, _r_new),
    **dict.fromkeys(("numel", "size"), _r_shape_query),
    "embedding": _r_embedding,
    "where": _r_where,
    "linear": _r_linear,
    **dict.fromkeys(
        ("matmul", "mm", "bmm", "mv", "baddbmm", "addmm", "addbmm", "addmv"), _r_matmul
    ),
    "einsum": _r_einsum,
    "scaled_dot_product_attention": _r_sdpa,
    "multi_head_attention_forward": _r_mha,
}


# -- torch.nn layers read from their attributes (faster, and named by their path) ----------------


def _m_conv(t: Tracer, path, mod, args, kwargs):
    mode = "zeros" if mod.padding_mode == "zeros" else mod.padding_mode
    ops = window_ops(
        path,
        type(mod).__name__,
        len(mod.kernel_size),
        mod.kernel_size,
        mod.stride,
        mod.padding,
        mod.dilation,
        mode=mode,
    )
    return t.windows(
        path, type(mod).__name__, args[0], ops, "window", mod.out_channels, mod.in_channels
    )


def _m_conv_transpose(t: Tracer, path, mod, args, kwargs):
    output_size = argument(args, kwargs, 1, "output_size")
    return t.conv_transpose(
        path,
        type(mod).__name__,
        args[0],
        tuple(mod.kernel_size),
        mod.stride,
        mod.padding,
        mod.output_padding,
        mod.dilation,
        mod.out_channels,
        mod.in_channels,
        output_size,
    )


def _m_max_pool(t: Tracer, path, mod, args, kwargs):
    nd = axes_of_name(type(mod).__name__.lower())
    out = t.pool(
        path,
        type(mod).__name__,
        args[0],
        nd,
        mod.kernel_size,
        mod.stride,
        mod.padding,
        mod.dilation,
        mod.ceil_mode,
    )
    return (out, t.derive(out)) if mod.return_indices else out


def _m_avg_pool(t: Tracer, path, mod, args, kwargs):
    nd = axes_of_name(type(mod).__name__.lower())
    return t.pool(
        path,
        type(mod).__name__,
        args[0],
        nd,
        mod.kernel_size,
        mod.stride,
        mod.padding,
        1,
        mod.ceil_mode,
    )


def _m_adaptive(t: Tracer, path, mod, args, kwargs):
    nd = axes_of_name(type(mod).__name__.lower())
    out = t.adaptive(path, type(mod).__name__, args[0], nd, mod.output_size)
    return (out, t.derive(out)) if getattr(mod, "return_indices", False) else out


def _m_pointwise(t: Tracer, path, mod, args, kwargs):
    if not isinstance(args[0], Probe):
        return mod.forward(*args, **kwargs)
    return t.pointwise(args[0], path, type(mod).__name__)


def _m_linear(t: Tracer, path, mod, args, kwargs):
    return linear(t, path, type(mod).__name__, args[0], mod.out_features, mod.in_features)


def _m_flatten(t: Tracer, path, mod, args, kwargs):
    return _r_flatten(t, path, "flatten", (args[0], mod.start_dim, mod.end_dim), {}, None)


def _m_recurrent(t: Tracer, path, mod, args, kwargs):
    """LSTM, GRU, RNN: a recurrence along the sequence dimension."""
    x = args[0]
    op = type(mod).__name__
    batched = x.ndim == 3
    seq = 1 if mod.batch_first and batched else 0
    directions = 2 if mod.bidirectional else 1
    hidden = getattr(mod, "proj_size", 0) or mod.hidden_size
    if digits(x.layout[seq]) and not mod.bidirectional:
        axes = sorted({f.axis for f in digits(x.layout[seq])})
        raise t.refuse(
            path,
            op,
            f"runs along spatial axis {axes[0]}: each step reads every earlier position, so "
            "position t sees positions 0..t, a region that grows with t (not one receptive field)",
        )
    out = t.mix(path, op, x, {seq})
    layout = list(out.layout)
    layout[-1] = other(hidden * directions)
    output = t.relayout(out, layout)
    summary = t.summarize(path, op, x, {seq})
    batch = [summary.layout[1 - seq]] if batched else []
    state_layout = [other(mod.num_layers * directions), *batch, other(hidden)]
    state = t.relayout(summary, state_layout)
    if isinstance(mod, nn.LSTM):
        cell = t.relayout(summary, [*state_layout[:-1], other(mod.hidden_size)])
        return output, (state, cell)
    return output, state


_POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.Threshold, nn.LogSigmoid, nn.Hardshrink,
    nn.Softshrink, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.GroupNorm, nn.LayerNorm,
    nn.LocalResponseNorm, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.FeatureAlphaDropout, nn.Identity, nn.ChannelShuffle,
)  # fmt: skip

MODULE_RULES = {
    **dict.fromkeys((nn.Conv1d, nn.Conv2d, nn.Conv3d), _m_conv),
    **dict.fromkeys(
        (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d), _m_conv_transpose
    ),
    **dict.fromkeys((nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d), _m_max_pool),
    **dict.fromkeys((nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d), _m_avg_pool),
    **dict.fromkeys(
        (
            nn.AdaptiveAvgPool1d,
            nn.AdaptiveAvgPool2d,
            nn.AdaptiveAvgPool3d,
            nn.AdaptiveMaxPool1d,
            nn.AdaptiveMaxPool2d,
            nn.AdaptiveMaxPool3d,
        ),
        _m_adaptive,
    ),  # fmt: skip
    **dict.fromkeys(_POINTWISE_MODULES, _m_pointwise),
    nn.Linear: _m_linear,
    nn.Flatten: _m_flatten,
    **dict.fromkeys((nn.LSTM, nn.GRU, nn.RNN), _m_recurrent),
}
_RULE_CACHE: dict[type, object] = {}


def _module_rule(cls: type):
    """The rule for a torch.nn layer class, unless a subclass changed its ``forward``."""
    if cls not in _RULE_CACHE:
        rule = None
        for base in cls.__mro__:
            if base in MODULE_RULES:
                rule = MODULE_RULES[base] if cls.forward is base.forward else None
                break
        _RULE_CACHE[cls] = rule
    return _RULE_CACHE[cls]


def module_rule(mod: nn.Module):
    """The rule that reads ``mod`` from its attributes, if any (``None``: run its forward)."""
    return _module_rule(type(mod))
