"""Dropout: zero random elements while training, scaling the rest so the expected value is unchanged."""

import numpy as np

from numtorch.errors import NumTorchValueError
from numtorch.operations.base import Operation


class Dropout(Operation):
    """z = x * mask / (1 - p), each mask element 0 with probability p (drawn from np.random);
    dz/dx = mask / (1 - p)"""
    __slots__ = ()
    name = "dropout"

    @staticmethod
    def forward(ctx, x, p=0.5):
        if not 0 <= p <= 1:
            raise NumTorchValueError(f"dropout: p is the probability of zeroing an element, between 0 and 1, got {p}")
        x = np.asarray(x)
        keep = np.random.random_sample(x.shape) >= p
        scale = np.asarray(0 if p == 1 else 1 / (1 - p), x.dtype)  # p = 1 drops everything
        mask = keep * scale
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask
