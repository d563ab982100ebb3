"""Reductions: sum and mean over all elements or along dims."""

import numpy as np

from numtorch.operations.base import Operation


def _spread(grad, shape, dim, keepdim):
    """The gradient of a reduction, spread back over the reduced dims."""
    if dim is not None and not keepdim:
        grad = np.expand_dims(grad, dim)
    return np.broadcast_to(grad, shape)


class Sum(Operation):
    """z = sum(x, dim);  dz/dx = 1 for every element summed"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        x = np.asarray(x)
        ctx.save_for_backward(x.shape)
        return x.sum(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (shape,) = ctx.saved_tensors
        return _spread(grad, shape, ctx.args["dim"], ctx.args["keepdim"])


class Mean(Operation):
    """z = mean(x, dim);  dz/dx = 1/n for each of the n elements averaged"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        x = np.asarray(x)
        z = x.sum(axis=dim, keepdims=keepdim)
        n = x.size // max(z.size, 1)
        ctx.save_for_backward(x.shape, n)
        return z / n

    @staticmethod
    def backward(ctx, grad):
        shape, n = ctx.saved_tensors
        return _spread(grad / n, shape, ctx.args["dim"], ctx.args["keepdim"])
