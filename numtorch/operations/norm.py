"""Normalisation: layer norm (over each example's features) and batch norm (over the batch, per channel).

Both compute x_hat = (x - mean) / sqrt(var + eps) and return x_hat * w + b; they differ in the axes the
mean and variance are taken over. When the statistics come from x itself, the gradient flows through
them too (`_normalize_backward`); batch norm in eval mode uses stored statistics, which are constants.
"""

import numpy as np

from numtorch.errors import ShapeError
from numtorch.operations.base import Operation


def _normalize(x, axes, eps):
    """x_hat = (x - mean) / sqrt(var + eps) over `axes` (biased variance); returns x_hat, 1/sqrt(var + eps), mean, var."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    return centered * inv_std, inv_std, mean, var


def _normalize_backward(g_hat, x_hat, inv_std, axes):
    """dL/dx given dL/dx_hat, when the mean and var over `axes` come from x:
    inv_std * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat))"""
    return inv_std * (g_hat - g_hat.mean(axis=axes, keepdims=True)
                      - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))


class LayerNorm(Operation):
    """z = (x - mean) / sqrt(var + eps) * w + b, mean and var over the last len(normalized_shape) dims;
    dz/dw = sum of grad * x_hat, dz/db = sum of grad, dz/dx = _normalize_backward(grad * w)"""
    __slots__ = ()
    name = "layer_norm"

    @staticmethod
    def forward(ctx, x, w, b, normalized_shape, eps=1e-5):
        x = np.asarray(x)
        k = len(normalized_shape)
        if x.shape[x.ndim - k:] != tuple(normalized_shape) or x.ndim < k:
            raise ShapeError(f"layer_norm: normalized_shape {tuple(normalized_shape)} must be the last dims of the "
                             f"input, which has shape {x.shape}; use normalized_shape={x.shape[-1:]} to normalise "
                             f"each vector of the last dim")
        axes = tuple(range(x.ndim - k, x.ndim))
        x_hat, inv_std, _, _ = _normalize(x, axes, eps)
        ctx.save_for_backward(x_hat, inv_std, w, axes)
        return x_hat * w + b

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, w, axes = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        gx = _normalize_backward(grad * w, x_hat, inv_std, axes) if needs_x else None
        return gx, (grad * x_hat if needs_w else None), (grad if needs_b else None)  # the engine sums over the batch


def _per_channel(vector, ndim):
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against an (N, C, ...) input (a number stays a number)."""
    return vector if np.ndim(vector) == 0 else np.reshape(vector, (1, -1) + (1,) * (ndim - 2))


def _update_running(running, batch_value, momentum):
    """running = (1 - momentum) * running + momentum * batch_value, in place."""
    running *= 1 - momentum
    running += momentum * batch_value.reshape(running.shape)


def _check_channels(x, w, running_mean, batch_stats):
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expects input of shape (batch, channels, ...), got {x.shape}; "
                         f"for one feature vector use x.reshape(1, -1) (and train on batches of 2 or more)")
    channels = x.shape[1]
    for what, v in (("weight", w), ("running_mean", running_mean)):
        if v is not None and np.ndim(v) != 0 and np.shape(v) != (channels,):
            raise ShapeError(f"batch_norm: {what} of shape {np.shape(v)} for an input with {channels} channels "
                             f"(shape {x.shape}); it must have shape ({channels},) (BatchNorm1d({channels}))")
    if batch_stats and x.size == channels:
        raise ShapeError(f"batch_norm: training needs more than one value per channel, got input of shape {x.shape}; "
                         f"use a batch of 2 or more, or call model.eval() to use the running statistics")


class BatchNorm(Operation):
    """z = (x - mean) / sqrt(var + eps) * w + b per channel (dim 1), mean and var over the batch (and positions)
    when training, the running statistics in eval (training also updates them);  dz/dx = _normalize_backward(grad * w) when training,
    grad * w / sqrt(var + eps) in eval"""
    __slots__ = ()
    name = "batch_norm"

    @staticmethod
    def forward(ctx, x, w, b, running_mean=None, running_var=None, training=True, momentum=0.1, eps=1e-5):
        x = np.asarray(x)
        batch_stats = training or running_mean is None  # eval without running statistics uses the batch's, as PyTorch
        _check_channels(x, w, running_mean, batch_stats)
        axes = (0,) + tuple(range(2, x.ndim))
        if batch_stats:
            x_hat, inv_std, mean, var = _normalize(x, axes, eps)
            if running_mean is not None:
                n = x.size // x.shape[1]
                _update_running(running_mean, mean, momentum)
                _update_running(running_var, var * (n / (n - 1)), momentum)  # unbiased, as PyTorch
        else:
            inv_std = 1 / np.sqrt(_per_channel(running_var, x.ndim).astype(x.dtype) + eps)
            x_hat = (x - _per_channel(running_mean, x.ndim).astype(x.dtype)) * inv_std
        w, b = _per_channel(w, x.ndim), _per_channel(b, x.ndim)
        ctx.save_for_backward(x_hat, inv_std, w, axes, batch_stats)
        return x_hat * w + b

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, w, axes, batch_stats = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        gx = None
        if needs_x:
            gx = _normalize_backward(grad * w, x_hat, inv_std, axes) if batch_stats else grad * w * inv_std
        gw = (grad * x_hat).sum(axis=axes) if needs_w else None
        gb = grad.sum(axis=axes) if needs_b else None
        return gx, gw, gb
