"""Activation layers: each calls the Tensor method of the same name."""

from numtorch.layers.base import Layer


class Tanh(Layer):
    def forward(self, input):
        return input.tanh()


class Sigmoid(Layer):
    def forward(self, input):
        return input.sigmoid()


class ReLU(Layer):
    def forward(self, input):
        return input.relu()


class Softmax(Layer):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, input):
        return input.softmax(self.dim)
