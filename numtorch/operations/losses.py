"""Losses that are primitives of their own for numerical stability."""

import numpy as np

from numtorch.errors import NumTorchIndexError, NumTorchTypeError, NumTorchValueError, ShapeError
from numtorch.operations.activations import log_softmax
from numtorch.operations.base import Operation
from numtorch.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op_name, reduction):
    if reduction not in REDUCTIONS:
        raise NumTorchValueError(f"{op_name}: reduction={reduction!r} is not one of {REDUCTIONS}")


def _rows(x, op_name="cross_entropy"):
    """Logits (or class probabilities) as rows of classes: (C,) -> (1, C), (N, C) as is, (N, C, d...) -> (N*d..., C)."""
    if x.ndim == 0:
        raise ShapeError(f"{op_name}: expects logits of shape (classes,), (batch, classes) or (batch, classes, d...), "
                         f"got a single number")
    if x.ndim == 1:
        return x[None]
    return x if x.ndim == 2 else np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unrows(rows, shape):
    """The inverse of _rows: rows of classes back in the (logits') shape."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    return np.moveaxis(rows.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


def _batch_shape(shape):
    """The shape of one loss per example: () for (C,) logits, (N, d...) for (N, C, d...)."""
    return shape[:1] + shape[2:] if len(shape) > 1 else ()


def _one_hot(logits, target):
    """Integer class targets, checked against the logits' shape, as one-hot rows."""
    shape, classes = logits.shape, logits.shape[min(1, logits.ndim - 1)]
    batch = _batch_shape(shape)
    if target.dtype.kind not in "iu":
        raise NumTorchTypeError(
            f"cross_entropy: targets must be integer class indices (or class probabilities of the logits' shape), "
            f"got {target.dtype} targets of shape {target.shape} for logits of shape {shape}; pass e.g. "
            f"np.array([2, 0, 1]) (use labels.astype(int) for float labels, argmax(axis=1) for one-hot rows)")
    legacy_column = len(shape) == 2 and target.shape == (shape[0], 1)
    if target.shape != batch and not legacy_column and not (batch == () and target.size == 1):
        hint = "; for one example use .reshape(1, -1)" if len(shape) == 1 else ""
        raise ShapeError(f"cross_entropy: logits of shape {shape} need class indices of shape {batch}, "
                         f"got targets of shape {target.shape}{hint}")
    target = target.reshape(-1)
    bad = (target < 0) | (target >= classes)
    if bad.any():
        row = int(np.argmax(bad))
        raise NumTorchIndexError(
            f"cross_entropy: target class {target[row]} (row {row}) is out of range for logits of shape "
            f"{shape}, which have {classes} classes; class indices must be 0 to {classes - 1} "
            f"(labels counted from 1? subtract 1; more classes? widen the last layer)")
    rows = np.zeros((target.size, classes), logits.dtype if logits.dtype.kind == "f" else float)
    rows[np.arange(target.size), target] = 1
    return rows


class CrossEntropy(Operation):
    """z = -sum_c w_c p_c log softmax(x)_c for each example, averaged (or summed, or one per example), where p is
    the one-hot of a class index or a row of class probabilities and w the class weights (1 by default);
    dz/dx = softmax(x) * sum_c w_c p_c - w p, divided as the mean divides (by the weights of the targets)"""
    __slots__ = ()
    name = "cross_entropy"

    @staticmethod
    def forward(ctx, logits, target, weight=None, reduction="mean"):
        _check_reduction("cross_entropy", reduction)
        logits, target = np.asarray(logits), np.asarray(target)
        probabilities = target.dtype.kind == "f" and target.shape == logits.shape and logits.ndim > 0
        rows = _rows(logits)
        wp = _rows(target) if probabilities else _one_hot(logits, target)
        if weight is not None:
            weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
            if weight.shape != rows.shape[1:]:
                raise ShapeError(f"cross_entropy: weight= needs one number per class, shape {rows.shape[1:]}, "
                                 f"got shape {weight.shape}")
            wp = wp * weight.astype(wp.dtype, copy=False)  # (float32 logits keep float32)
        log_q = log_softmax(rows, 1)
        losses = -(wp * log_q).sum(axis=1)
        denominator = len(rows) if probabilities else wp.sum()
        ctx.save_for_backward(log_q, wp, denominator, logits.shape, probabilities)
        if reduction == "none":
            return losses.reshape(_batch_shape(logits.shape))
        return losses.sum() / denominator if reduction == "mean" else losses.sum()

    @staticmethod
    def backward(ctx, grad):
        log_q, wp, denominator, shape, probabilities = ctx.saved_tensors
        reduction = ctx.args["reduction"]
        per_row = grad.reshape(-1, 1) if reduction == "none" else grad / denominator if reduction == "mean" else grad
        g_logits = (np.exp(log_q) * wp.sum(axis=1, keepdims=True) - wp) * per_row
        g_target = None
        if probabilities and ctx.needs_input_grad[1]:
            weight = ctx.args["weight"]
            w = 1 if weight is None else np.asarray(weight.data if isinstance(weight, Tensor) else weight)
            g_target = _unrows(-w * log_q * per_row, shape)
        return _unrows(g_logits, shape), g_target


class MSE(Operation):
    """z = mean((x - y)^2) (or the sum, or each square);  dz/dx = 2 (x - y) / n, dz/dy = -2 (x - y) / n"""
    __slots__ = ()
    name = "mse_loss"

    @staticmethod
    def forward(ctx, pred, target, reduction="mean"):
        _check_reduction("mse_loss", reduction)
        diff = np.subtract(pred, target)
        if diff.shape != np.shape(pred):
            raise ShapeError(f"mse_loss: prediction shape {np.shape(pred)} and target shape {np.shape(target)} "
                             f"broadcast to {diff.shape}, comparing every prediction with every target; "
                             f"reshape the target to {np.shape(pred)}")
        ctx.save_for_backward(diff)
        if reduction == "none":
            return diff * diff
        total = np.vdot(diff, diff)  # speed only: the sum of squares as one dot product
        return total / max(diff.size, 1) if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        scale = 2 / max(diff.size, 1) if ctx.args["reduction"] == "mean" else 2
        g = diff * (grad * scale)
        return g, -g
