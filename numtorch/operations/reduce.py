"""Reductions: sum, mean and max over all elements or along dims."""

import numpy as np

from numtorch.operations.base import Operation


def _sum(x, dim, keepdim):
    """x summed along dim (None, an int or a tuple); a 0-d x has one dim (0 or -1), as in PyTorch."""
    x = np.asarray(x)
    if x.ndim == 0 and dim is not None:
        return x.reshape(1).sum(axis=dim, keepdims=keepdim).reshape(())
    return x.sum(axis=dim, keepdims=keepdim)


def _spread(grad, shape, dim, keepdim):
    """The gradient of a reduction, spread back over the reduced dims."""
    if dim is not None and not keepdim and shape:
        grad = np.expand_dims(grad, dim)
    return np.broadcast_to(grad, shape)  # speed only: a read-only view, not a copy (the engine copies if needed)


class Sum(Operation):
    """z = sum(x, dim);  dz/dx = 1 for every element summed"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.save_for_backward(np.shape(x))
        return _sum(x, dim, keepdim)

    @staticmethod
    def backward(ctx, grad):
        (shape,) = ctx.saved_tensors
        return _spread(grad, shape, ctx.args["dim"], ctx.args["keepdim"])


class Mean(Operation):
    """z = mean(x, dim);  dz/dx = 1/n for each of the n elements averaged"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        z = _sum(x, dim, keepdim)
        n = np.size(x) // max(z.size, 1)
        ctx.save_for_backward(np.shape(x), n)
        return z / n

    @staticmethod
    def backward(ctx, grad):
        shape, n = ctx.saved_tensors
        return _spread(grad / n, shape, ctx.args["dim"], ctx.args["keepdim"])


class Max(Operation):
    """z = max(x);  dz/dx = grad shared equally by the elements equal to the maximum, 0 elsewhere.
    Along dim:  dz/dx = grad at the index max(dim) returns (the first maximum), 0 elsewhere. (As PyTorch.)"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        x = np.asarray(x)
        if dim is None:
            z = x.max()
            ctx.save_for_backward(x == z if z == z else np.isnan(x))  # z != z: the maximum is NaN
            return z
        where = np.expand_dims(np.argmax(x, axis=dim), dim)
        ctx.save_for_backward(where)
        z = np.take_along_axis(x, where, dim)
        return z if keepdim else np.squeeze(z, dim)

    @staticmethod
    def backward(ctx, grad):
        dim = ctx.args["dim"]
        if dim is None:
            (is_max,) = ctx.saved_tensors
            return is_max * (grad / np.count_nonzero(is_max))
        (where,) = ctx.saved_tensors
        g = np.zeros(ctx.parents[0].shape, grad.dtype)
        np.put_along_axis(g, where, np.reshape(grad, where.shape), dim)
        return g
