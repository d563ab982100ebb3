"""Elementwise arithmetic: + - * / **, negation, abs and clamp. Broadcasting is undone by the engine."""

import numpy as np

from numtorch.errors import NumTorchTypeError
from numtorch.operations.base import Operation


class Add(Operation):
    """z = x + y;  dz/dx = 1, dz/dy = 1"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Operation):
    """z = x - y;  dz/dx = 1, dz/dy = -1"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Neg(Operation):
    """z = -x;  dz/dx = -1"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Mul(Operation):
    """z = x * y;  dz/dx = y, dz/dy = x"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x


class Div(Operation):
    """z = x / y;  dz/dx = 1/y, dz/dy = -x/y^2"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = grad / y
        return gx, -gx * x / y


class Pow(Operation):
    """z = x ** y;  dz/dx = y * x^(y-1), dz/dy = z * log(x)  (both 0 at x = 0 where the limit is, as PyTorch)"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = x ** y
        except ValueError as e:  # NumPy: "Integers to integer powers are not allowed" (PyTorch refuses too)
            raise NumTorchTypeError(f"pow: {e} (base shape {np.shape(x)}); make the base float with x.float(), "
                                    f"or write x ** -1.0") from e
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        gx = gy = None
        if needs_x:
            squared = type(y) in (int, float) and y == 2
            if squared:  # speed only: the common x ** 2 without a power
                gx = grad * (2 * x)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gx = grad * np.where(np.equal(y, 0), 0, y * x ** (y - 1))  # d(x^0)/dx = 0, even at 0
        if needs_y:
            with np.errstate(divide="ignore", invalid="ignore"):  # 2 ** x: log(2) in x's float32, not float64
                gy = grad * np.where(np.equal(x, 0) & np.greater_equal(y, 0), 0, z * np.log(x, dtype=z.dtype))
        return gx, gy


class Abs(Operation):
    """z = |x|;  dz/dx = sign(x) (0 at 0, as PyTorch)"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Clamp(Operation):
    """z = x limited to [min, max];  dz/dx = 1 where min <= x <= max, else 0 (as PyTorch)"""
    __slots__ = ()

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        if min is None and max is None:
            raise NumTorchTypeError("clamp: give min=, max= or both (x.clamp(min=0) is relu)")
        ctx.save_for_backward(x)
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.args["min"], ctx.args["max"]
        inside = np.ones(np.shape(x), bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return grad * inside
