"""Matrix product."""

import numpy as np

from numtorch.errors import ShapeError
from numtorch.operations.base import Operation
from numtorch.tensor import Tensor


class MatMul(Operation):
    """z = x @ y;  dz/dx = grad @ y.T, dz/dy = x.T @ grad (batched and 1-D operands as in NumPy)"""
    __slots__ = ()
    name = "mm"

    @staticmethod
    def forward(ctx, x, y):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 0 or y.ndim == 0:
            raise ShapeError(f"mm: needs tensors with at least one dimension, got shapes {x.shape} and {y.shape}; "
                             f"use * to multiply by a number")
        inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
        if x.shape[-1] != inner_y:
            raise ShapeError(f"mm: cannot multiply {x.shape} by {y.shape}: inner sizes {x.shape[-1]} and {inner_y} "
                             f"differ; the last size of the first must equal the "
                             f"{'first' if y.ndim == 1 else 'second-to-last'} size of the second (transpose one? .T)")
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        px, py = ctx.parents
        needs_x = type(px) is Tensor and px.autograd
        needs_y = type(py) is Tensor and py.autograd
        if x.ndim == 2 and y.ndim == 2:
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
