"""Elementwise nonlinearities and (log-)softmax."""

import numpy as np

from numtorch.operations.base import Operation


class Sigmoid(Operation):
    """z = 1 / (1 + exp(-x));  dz/dx = z * (1 - z)"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))  # never overflows; z = 1 / (1 + e) for x >= 0 and e / (1 + e) below,
        z = np.where(np.greater_equal(x, 0), 1, e)  # so tiny values in the left tail keep their digits
        z /= 1 + e
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * z * (1 - z)


class Tanh(Operation):
    """z = tanh(x);  dz/dx = 1 - z^2"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        z = np.tanh(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * (1 - z * z)


class ReLU(Operation):
    """z = max(x, 0);  dz/dx = 1 where x > 0, else 0"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


class Exp(Operation):
    """z = exp(x);  dz/dx = z"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        z = np.exp(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * z


class Log(Operation):
    """z = log(x);  dz/dx = 1 / x"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


def log_softmax(x, dim):
    """log(softmax(x)) along dim, computed stably (the max is subtracted before exp)."""
    if np.size(x) == 0:  # nothing to normalise (and np.log(0) would warn)
        return np.zeros_like(x)
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


class Softmax(Operation):
    """z = exp(x) / sum(exp(x), dim);  dz/dx . g = z * (g - sum(g * z, dim))"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=-1):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True, initial=-np.inf))
        z = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return z * (grad - (grad * z).sum(axis=ctx.args["dim"], keepdims=True))


class LogSoftmax(Operation):
    """z = x - log(sum(exp(x), dim));  dz/dx . g = g - softmax(x) * sum(g, dim)"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, dim=-1):
        z = log_softmax(np.asarray(x), dim)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad - np.exp(z) * grad.sum(axis=ctx.args["dim"], keepdims=True)
