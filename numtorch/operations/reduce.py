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
    """z = max(x) (along dim);  dz/dx = grad at the position of the maximum (the first one, on ties), 0 elsewhere"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        x = np.asarray(x)
        flat, axis = (x.reshape(-1), 0) if dim is None else (x, dim)
        where = np.expand_dims(np.argmax(flat, axis=axis), axis)
        ctx.save_for_backward(x.shape, where)
        z = np.take_along_axis(flat, where, axis)
        return z if keepdim and dim is not None else np.squeeze(z, axis)

    @staticmethod
    def backward(ctx, grad):
        shape, where = ctx.saved_tensors
        dim = ctx.args["dim"]
        g = np.zeros((int(np.prod(shape)),) if dim is None else shape, grad.dtype)
        np.put_along_axis(g, where, np.reshape(grad, where.shape), 0 if dim is None else dim)
        return g.reshape(shape)
