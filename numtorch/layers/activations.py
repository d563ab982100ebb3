"""Activation layers: each applies the operation of the same name (so arrays work as inputs too, as in LinearLayer)."""

from numtorch.layers.base import Layer
from numtorch.operations import ReLU as ReLUOp, Sigmoid as SigmoidOp, Softmax as SoftmaxOp, Tanh as TanhOp


class Tanh(Layer):
    def forward(self, input):
        return TanhOp.apply(input)


class Sigmoid(Layer):
    def forward(self, input):
        return SigmoidOp.apply(input)


class ReLU(Layer):
    def forward(self, input):
        return ReLUOp.apply(input)


class Softmax(Layer):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, input):
        return SoftmaxOp.apply(input, dim=self.dim)
