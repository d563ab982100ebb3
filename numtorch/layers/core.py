"""Linear, Sequential and Embedding layers."""

import numpy as np

from numtorch.layers.base import Layer, parameter
from numtorch.operations import LinearOp


class LinearLayer(Layer):
    """y = x @ weight + bias, with weight of shape (n_inputs, n_outputs) (He initialisation, as the book)."""

    def __init__(self, n_inputs, n_outputs, bias=True):
        self.weight = parameter(np.random.randn(n_inputs, n_outputs) * np.sqrt(2.0 / n_inputs), "weight")
        self.bias = parameter(np.zeros(n_outputs), "bias") if bias else None

    def forward(self, input):
        if self.bias is None:
            return input.mm(self.weight)
        return LinearOp.apply(input, self.weight, self.bias)

    def __repr__(self):
        n_in, n_out = self.weight.shape
        return f"LinearLayer({n_in}, {n_out}, bias={self.bias is not None})"


class SequentialLayer(Layer):
    """Layers applied one after the other; parameters are named by position (``0.weight``)."""

    def __init__(self, layers=None):
        self.layers = list(layers or [])

    def add(self, layer):
        self.layers.append(layer)
        return self

    def children(self):
        """The layers by position ("0", "1", ...), then any other attribute a subclass added (self.head = ...)."""
        yield from ((str(i), layer) for i, layer in enumerate(self.layers))
        yield from ((name, value) for name, value in vars(self).items() if name != "layers")

    def forward(self, input):
        for layer in self.layers:
            input = layer(input)
        return input

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]


class EmbeddingLayer(Layer):
    """Row lookup in a (vocab_size, dim) weight: forward(indices) = weight[indices]."""

    def __init__(self, vocab_size, dim):
        self.vocab_size, self.dim = vocab_size, dim
        self.weight = parameter((np.random.rand(vocab_size, dim) - 0.5) / dim, "weight")

    def forward(self, input):
        return self.weight.index_select(input)

    def __repr__(self):
        return f"EmbeddingLayer({self.vocab_size}, {self.dim})"
