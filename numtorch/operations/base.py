"""The Operation protocol: forward and backward of one primitive, side by side."""

import inspect

import numpy as np

from numtorch.errors import NumTorchError, NumTorchIndexError, NumTorchTypeError, ShapeError
from numtorch.tensor import Tensor, _GradMode

_PLAIN = (int, float, bool, np.ndarray)  # inputs forward receives as they are


class Operation:
    """One differentiable primitive, in the shape of PyTorch's ``torch.autograd.Function``.

    Subclass it and write two static methods that work on NumPy arrays::

        class Mul(Operation):
            '''z = x * y'''
            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_backward(x, y)
                return x * y

            @staticmethod
            def backward(ctx, grad):
                x, y = ctx.saved_tensors
                return grad * y, grad * x        # dz/dx = y, dz/dy = x

        z = Mul.apply(a, b)                      # a, b: Tensors, arrays or numbers

    ``apply(*inputs, **args)``: positional inputs are the values the op differentiates with respect to
    (Tensors, arrays or Python numbers; `forward` receives their arrays); keyword arguments are settings
    such as ``dim`` (passed to `forward` as keywords, kept in ``ctx.args`` with forward's defaults for
    those not given, so backward can read ``ctx.args["dim"]``, and shown in the graph view).
    The result tracks gradients when any input does (and `no_grad` is off).

    ``backward(ctx, grad)`` returns one gradient per positional input (a tuple, or one array for one
    input), ``None`` where there is none (an integer index, say). A gradient may be in the broadcast
    shape: the engine sums it back to the input's shape. ``ctx.needs_input_grad`` tells which inputs
    want one, to skip costly work. ``ctx.parents`` holds the inputs, ``ctx.saved_tensors`` what forward saved.

    The class attribute ``name`` is the op's name in errors and in the graph view (default: the class
    name in lower case).
    """

    __slots__ = ("parents", "saved_tensors", "args")
    name = None
    _defaults = {}

    def __init_subclass__(cls, **kwargs):
        """Remember forward's keyword defaults, so ``ctx.args`` holds ``dim`` even when apply() was not given it."""
        super().__init_subclass__(**kwargs)
        params = inspect.signature(cls.forward).parameters.values()
        cls._defaults = {p.name: p.default for p in params if p.default is not p.empty}

    @staticmethod
    def forward(ctx, *arrays, **args):
        raise NotImplementedError("an Operation subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("an Operation subclass must define backward(ctx, grad)")

    def save_for_backward(self, *values):
        """Keep arrays (or anything) for backward, where they come back as ``ctx.saved_tensors``."""
        self.saved_tensors = values

    @property
    def needs_input_grad(self):
        """One bool per input: does it track gradients?"""
        return tuple([type(p) is Tensor and p.autograd for p in self.parents])

    @property
    def op_name(self):
        return type(self).name or type(self).__name__.lower()

    @classmethod
    def apply(cls, *inputs, **args):
        """Run forward on the inputs' arrays and record this op in the graph when needed."""
        arrays = []
        track = False
        for x in inputs:
            if type(x) is Tensor:
                arrays.append(x.data)
                track = track or x.autograd
            elif type(x) in _PLAIN:
                arrays.append(x)
            elif isinstance(x, np.generic):  # np.float64(2.0) counts as the number 2.0: float32 stays float32
                arrays.append(x.item())
            else:
                arrays.append(_to_array(cls, x))
        ctx = cls.__new__(cls)
        ctx.parents = inputs
        ctx.args = {**cls._defaults, **args} if cls._defaults else args
        try:
            out = cls.forward(ctx, *arrays, **args)
        except NumTorchError:
            raise
        except (ValueError, IndexError, TypeError) as e:
            raise _friendly_error(ctx, arrays, e) from e
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if track and _GradMode.enabled:
            return Tensor._make(out, ctx, True)
        return Tensor._make(out, None, False)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.args.items() if v is not None)
        return f"<{self.op_name}{'(' + args + ')' if args else ''}>"


def _to_array(cls, x):
    array = np.asarray(x)
    if array.dtype == object:
        raise NumTorchTypeError(
            f"{cls.name or cls.__name__.lower()}: cannot use a {type(x).__name__} as a tensor input; "
            f"pass a Tensor, a NumPy array or a number")
    return array


def _friendly_error(ctx, arrays, error):
    """NumPy's complaint, prefixed with the op and the input shapes, as one of NumTorch's error types."""
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    message = f"{ctx.op_name}: {error} (input shapes: {shapes})"
    if "broadcast" in str(error):
        message += "; shapes must be equal, or 1, in each dimension counted from the right"
    if isinstance(error, TypeError):  # NumPy raises subclasses too (UFuncTypeError, AxisError)
        kind = NumTorchTypeError
    else:
        kind = ShapeError if isinstance(error, ValueError) else NumTorchIndexError
    return kind(message)
