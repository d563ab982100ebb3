"""NumTorch: a teaching deep-learning framework on NumPy, with a dynamic autograd and a PyTorch-like API."""

from numtorch.tensor import Tensor, tensor, no_grad, is_grad_enabled, cat, stack, where
from numtorch.errors import (NumTorchError, ShapeError, GradError, NumTorchTypeError, NumTorchIndexError,
                             NumTorchValueError, GradcheckError)
from numtorch import operations, layers, optimizers, hooks, testing, graph
from numtorch.operations import Operation

__version__ = "0.2.0"

__all__ = [
    "Tensor", "tensor", "no_grad", "is_grad_enabled", "cat", "stack", "where", "Operation", "operations", "layers",
    "optimizers", "graph", "hooks", "testing", "NumTorchError", "ShapeError", "GradError", "NumTorchTypeError",
    "NumTorchIndexError", "NumTorchValueError", "GradcheckError",
]
