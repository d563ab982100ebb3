"""Operations that move data around: expand, transpose, reshape, indexing, index_select, cat, where, clone, cast."""

import numpy as np

from numtorch.errors import NumTorchIndexError, NumTorchTypeError, ShapeError
from numtorch.operations.base import Operation
from numtorch.tensor import Tensor


class Expand(Operation):
    """z = x repeated `copies` times along a new axis `dim`;  dz/dx = sum of grad over that axis"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim, copies):
        return np.repeat(np.expand_dims(x, dim), copies, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return grad.sum(axis=ctx.args["dim"])


def _permutation(ndim, axes):
    """The axes order of a transpose, counted from 0: reversed (None), two axes swapped (PyTorch), or all of
    them (NumPy; negative axes count from the end)."""
    if axes is None:
        return tuple(range(ndim - 1, -1, -1))
    if not all(-ndim <= d < ndim for d in axes):
        raise NumTorchIndexError(f"transpose: dims {tuple(axes)} do not fit a tensor with {ndim} dims; "
                                 f"use dims from {-ndim} to {ndim - 1}")
    axes = tuple(d % ndim for d in axes)
    if len(axes) == 2:
        order = list(range(ndim))
        order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
        return tuple(order)
    if sorted(axes) != list(range(ndim)):
        raise ShapeError(f"transpose: {tuple(axes)} is not an order of the {ndim} dims of this tensor; "
                         f"name each dim once (or two dims, to swap them)")
    return axes


class Transpose(Operation):
    """z = x with its axes reversed, two of them swapped (axes=(0, 1), as PyTorch) or all permuted;
    dz/dx = grad permuted back"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, axes=None):
        order = _permutation(np.ndim(x), axes)
        ctx.save_for_backward(order)
        return np.transpose(x, order)

    @staticmethod
    def backward(ctx, grad):
        (order,) = ctx.saved_tensors
        return np.transpose(grad, np.argsort(order))


class Reshape(Operation):
    """z = x with a new shape;  dz/dx = grad in x's shape"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, shape):
        x = np.asarray(x)
        ctx.save_for_backward(x.shape)
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        (shape,) = ctx.saved_tensors
        return grad.reshape(shape)


def _plain_key(key):
    """An index with any Tensors in it replaced by their arrays."""
    if type(key) is tuple:
        return tuple(k.data if type(k) is Tensor else k for k in key)
    return key.data if type(key) is Tensor else key


def _is_basic(key):
    """True for keys made only of ints, slices, None and Ellipsis: no element is picked twice."""
    keys = key if type(key) is tuple else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in keys)


def _scatter(grad, shape, key):
    """Gradient of x[key]: grad added into zeros of x's shape (repeated indices add up)."""
    out = np.zeros(shape, dtype=grad.dtype)
    if _is_basic(key):  # speed only: nothing is picked twice, so assigning is adding (np.add.at is slow)
        out[key] = grad
    else:
        np.add.at(out, key, grad)
    return out


class GetItem(Operation):
    """z = x[key];  dz/dx = grad scattered back into x's positions (repeats add up)"""
    __slots__ = ()
    name = "getitem"

    @staticmethod
    def forward(ctx, x, key):
        x = np.asarray(x)
        key = _plain_key(key)
        ctx.save_for_backward(x.shape, key)
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        shape, key = ctx.saved_tensors
        return _scatter(grad, shape, key)


class IndexSelect(Operation):
    """z = x[indices] (rows picked by integer indices of any shape);  dz/dx = grad added back per row"""
    __slots__ = ()
    name = "index_select"

    @staticmethod
    def forward(ctx, x, indices):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise NumTorchTypeError(
                f"index_select: indices must be integers, got {indices.dtype} values; use indices.astype(int)")
        if indices.size and indices.min() < 0:
            raise NumTorchIndexError(f"index_select: index {indices.min()} is negative; indices count rows from 0 "
                                     f"(PyTorch refuses negative ones too)")
        x = np.asarray(x)
        ctx.save_for_backward(x.shape, indices)
        return x[indices]

    @staticmethod
    def backward(ctx, grad):
        shape, indices = ctx.saved_tensors
        return _scatter(grad, shape, indices), None


class Cat(Operation):
    """z = x_1, x_2, ... joined along dim;  dz/dx_i = the slice of grad where x_i went"""
    __slots__ = ()
    name = "cat"

    @staticmethod
    def forward(ctx, *xs, dim=0):
        z = np.concatenate(xs, axis=dim)
        ctx.save_for_backward(np.cumsum([np.shape(x)[dim] for x in xs[:-1]], dtype=int))
        return z

    @staticmethod
    def backward(ctx, grad):
        (ends,) = ctx.saved_tensors
        return tuple(np.split(grad, ends, axis=ctx.args["dim"]))


class Where(Operation):
    """z = x where condition, else y;  dz/dx = grad where condition (else 0), dz/dy = grad elsewhere"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, condition, x, y):
        condition = np.asarray(condition)
        if condition.dtype != bool:
            raise NumTorchTypeError(f"where: the condition (mask) must be boolean, got {condition.dtype}; "
                                    f"compare to make one (x > 0, ids == 0)")
        ctx.save_for_backward(condition)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        return None, np.where(condition, grad, 0), np.where(condition, 0, grad)


class Clone(Operation):
    """z = a copy of x;  dz/dx = 1"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Operation):
    """z = x converted to dtype (x.float(), x.double());  dz/dx = grad, converted back by the engine"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dtype):
        return np.asarray(x).astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad
