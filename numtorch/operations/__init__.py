"""The primitives of NumTorch's autograd: one `Operation` subclass each, forward and backward together."""

from numtorch.operations.base import Operation
from numtorch.operations.arithmetic import Add, Sub, Neg, Mul, Div, Pow
from numtorch.operations.linalg import MatMul, Linear
from numtorch.operations.reduce import Sum, Mean
from numtorch.operations.shape import Expand, Transpose, Reshape, GetItem, IndexSelect
from numtorch.operations.activations import Sigmoid, Tanh, ReLU, Exp, Log, Softmax, LogSoftmax
from numtorch.operations.losses import CrossEntropy, MSE
from numtorch.operations.conv import Conv2d, MaxPool2d
from numtorch.operations.norm import LayerNorm, BatchNorm
from numtorch.operations.dropout import Dropout

__all__ = [
    "Operation", "Add", "Sub", "Neg", "Mul", "Div", "Pow", "MatMul", "Linear", "Sum", "Mean", "Expand", "Transpose",
    "Reshape", "GetItem", "IndexSelect", "Sigmoid", "Tanh", "ReLU", "Exp", "Log", "Softmax", "LogSoftmax",
    "CrossEntropy", "MSE",
    "Conv2d", "MaxPool2d", "LayerNorm", "BatchNorm", "Dropout",
]
