"""The primitives of NumTorch's autograd: one `Operation` subclass each, forward and backward together."""

import warnings

from numtorch.operations.base import Operation
from numtorch.operations.arithmetic import Add, Sub, Neg, Mul, Div, Pow, Abs, Clamp
from numtorch.operations.linalg import MatMul, LinearOp
from numtorch.operations.reduce import Sum, Mean, Max
from numtorch.operations.shape import (Expand, Transpose, Reshape, GetItem, IndexSelect, Cat, Where, Clone,
                                       Cast)
from numtorch.operations.activations import Sigmoid, Tanh, ReLU, Exp, Log, Softmax, LogSoftmax
from numtorch.operations.losses import CrossEntropy, MSE

# log(0) = -inf and 1/0 = inf without NumPy's RuntimeWarning ("divide by zero encountered in log"), as in PyTorch,
# from the operations and the engine; a warning filter costs nothing per operation (np.errstate around each would)
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"numtorch\.(operations\.|tensor$)")

__all__ = [
    "Operation", "Add", "Sub", "Neg", "Mul", "Div", "Pow", "Abs", "Clamp", "MatMul", "LinearOp", "Sum", "Mean",
    "Max", "Expand", "Transpose", "Reshape", "GetItem", "IndexSelect", "Cat", "Where", "Clone", "Cast", "Sigmoid",
    "Tanh", "ReLU", "Exp", "Log", "Softmax", "LogSoftmax", "CrossEntropy", "MSE",
]
