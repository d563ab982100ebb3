"""Losses that are primitives of their own for numerical stability."""

import numpy as np

from numtorch.errors import NumTorchIndexError, NumTorchTypeError, ShapeError
from numtorch.operations.activations import log_softmax
from numtorch.operations.base import Operation


def _class_indices(logits, target):
    """Validate integer class targets for (batch, classes) logits; return them flat."""
    if logits.ndim != 2:
        raise ShapeError(f"cross_entropy: expects logits of shape (batch, classes), got {logits.shape}; "
                         f"for one example use .reshape(1, -1)")
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise NumTorchTypeError(
            f"cross_entropy: targets must be integer class indices, got {target.dtype} targets of shape "
            f"{target.shape} for logits of shape {logits.shape}; pass e.g. np.array([2, 0, 1]) (use "
            f"labels.astype(int) for float labels, argmax(axis=1) for one-hot rows)")
    batch, classes = logits.shape
    if target.size != batch or (target.ndim == 2 and target.shape[1] != 1) or target.ndim > 2:
        raise ShapeError(f"cross_entropy: {batch} rows of logits need {batch} class indices, "
                         f"got targets of shape {target.shape}; pass shape ({batch},) or ({batch}, 1)")
    target = target.reshape(batch)
    bad = (target < 0) | (target >= classes)
    if bad.any():
        row = int(np.argmax(bad))
        raise NumTorchIndexError(
            f"cross_entropy: target class {target[row]} (row {row}) is out of range for logits of shape "
            f"{logits.shape}, which have {classes} classes; class indices must be 0 to {classes - 1} "
            f"(labels counted from 1? subtract 1; more classes? widen the last layer)")
    return target


class CrossEntropy(Operation):
    """z = -mean_i log softmax(x_i)[t_i];  dz/dx_i = (softmax(x_i) - onehot(t_i)) / batch"""
    __slots__ = ()
    name = "cross_entropy"

    @staticmethod
    def forward(ctx, logits, target):
        logits = np.asarray(logits)
        target = _class_indices(logits, target)
        log_probs = log_softmax(logits, 1)
        rows = np.arange(len(target))
        ctx.save_for_backward(log_probs, rows, target)
        return -log_probs[rows, target].mean()

    @staticmethod
    def backward(ctx, grad):
        log_probs, rows, target = ctx.saved_tensors
        g = np.exp(log_probs)
        g[rows, target] -= 1
        g *= grad / len(rows)
        return g, None


class MSE(Operation):
    """z = mean((x - y)^2);  dz/dx = 2 (x - y) / n, dz/dy = -2 (x - y) / n"""
    __slots__ = ()
    name = "mse_loss"

    @staticmethod
    def forward(ctx, pred, target):
        diff = np.subtract(pred, target)
        if diff.shape != np.shape(pred):
            raise ShapeError(f"mse_loss: prediction shape {np.shape(pred)} and target shape {np.shape(target)} "
                             f"broadcast to {diff.shape}, comparing every prediction with every target; "
                             f"reshape the target to {np.shape(pred)}")
        ctx.save_for_backward(diff)
        return np.vdot(diff, diff) / max(diff.size, 1)

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        g = diff * (2 * grad / max(diff.size, 1))
        return g, -g
