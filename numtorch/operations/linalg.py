"""Matrix product, and LinearOp: the fused x @ W + b that LinearLayer uses (one node instead of two, for speed)."""

import numpy as np

from numtorch.errors import ShapeError
from numtorch.operations.base import Operation


def _check_inner(x, y, name="mm"):
    """x and y as arrays whose inner sizes fit for x @ y, or a ShapeError that says how to fix them."""
    if type(x) is not np.ndarray or type(y) is not np.ndarray:
        x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"{name}: needs tensors with at least one dimension, got shapes {x.shape} and {y.shape}; "
                         f"use * to multiply by a number")
    inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if x.shape[-1] != inner_y:
        raise ShapeError(f"{name}: cannot multiply {x.shape} by {y.shape}: inner sizes {x.shape[-1]} and {inner_y} "
                         f"differ; the last size of the first must equal the "
                         f"{'first' if y.ndim == 1 else 'second-to-last'} size of the second (transpose one? .T)")
    return x, y


class MatMul(Operation):
    """z = x @ y;  dz/dx = grad @ y.T, dz/dy = x.T @ grad (batched and 1-D operands as in NumPy)"""
    __slots__ = ()
    name = "mm"

    @staticmethod
    def forward(ctx, x, y):
        x, y = _check_inner(x, y)
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        if x.ndim == 2 and y.ndim == 2:  # speed only: the common matrix case without the general reshaping
            return (grad @ y.T if needs_x else None), (x.T @ grad if needs_y else None)
        if x.ndim == 1 and y.ndim == 1:
            return grad * y, grad * x
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = grad
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        gx = g2 @ np.swapaxes(y2, -1, -2) if needs_x else None
        gy = np.swapaxes(x2, -1, -2) @ g2 if needs_y else None
        if gx is not None and x.ndim == 1:
            gx = gx[..., 0, :]
        if gy is not None and y.ndim == 1:
            gy = gy[..., 0]
        return gx, gy


class LinearOp(Operation):
    """z = x @ w + b (w: (n_in, n_out), b: (n_out,));  dz/dx = grad @ w.T, dz/dw = x.T @ grad, dz/db = sum of grad
    over rows. Speed only: the same as x @ w + b in one node (LinearLayer uses it); the graph calls it "linear"."""
    __slots__ = ()
    name = "linear"

    @staticmethod
    def forward(ctx, x, w, b):
        x, w = _check_inner(x, w, "linear")
        ctx.save_for_backward(x, w)
        z = x @ w
        if z.dtype.kind != "f":  # integer weights and inputs set by hand: z cannot take a float bias in place
            return z + b
        z += b  # speed only: in place, no second array
        return z

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        rows = grad.reshape(-1, grad.shape[-1])  # a batch of any shape, as rows
        gx = grad @ w.T if needs_x else None
        gw = x.reshape(-1, x.shape[-1]).T @ rows if needs_w else None
        gb = rows.sum(axis=0) if needs_b else None
        return gx, gw, gb
