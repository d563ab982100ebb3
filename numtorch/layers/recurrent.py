"""Recurrent cells of the book's chapter 14: call once per time step, carrying the hidden state."""

import numpy as np

from numtorch.errors import NumTorchTypeError
from numtorch.layers.activations import ReLU, Sigmoid, Tanh
from numtorch.layers.base import Layer
from numtorch.layers.core import LinearLayer
from numtorch.tensor import Tensor

_ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}


class RNNCell(Layer):
    """hidden' = activation(input @ w_ih + hidden @ w_hh);  output = hidden' @ w_ho."""

    def __init__(self, n_inputs, n_hidden, n_output, activation="sigmoid"):
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise NumTorchTypeError(f"RNNCell: unknown activation {activation!r}; use one of {sorted(_ACTIVATIONS)}")
            activation = _ACTIVATIONS[activation]()
        self.n_inputs, self.n_hidden, self.n_output = n_inputs, n_hidden, n_output
        self.activation = activation
        self.w_ih = LinearLayer(n_inputs, n_hidden)
        self.w_hh = LinearLayer(n_hidden, n_hidden)
        self.w_ho = LinearLayer(n_hidden, n_output)

    def forward(self, input, hidden):
        new_hidden = self.activation(self.w_ih(input) + self.w_hh(hidden))
        return self.w_ho(new_hidden), new_hidden

    def init_hidden(self, batch_size=1):
        return Tensor(np.zeros((batch_size, self.n_hidden)), autograd=True)


class LSTMCell(Layer):
    """Long short-term memory: forget, input and output gates around a cell state (the book's LSTMCell)."""

    def __init__(self, n_inputs, n_hidden, n_output):
        self.n_inputs, self.n_hidden, self.n_output = n_inputs, n_hidden, n_output
        self.xf, self.xi, self.xo, self.xc = (LinearLayer(n_inputs, n_hidden) for _ in range(4))
        self.hf, self.hi, self.ho, self.hc = (LinearLayer(n_hidden, n_hidden, bias=False) for _ in range(4))
        self.w_ho = LinearLayer(n_hidden, n_output, bias=False)

    def forward(self, input, hidden):
        """hidden is the pair (h, c); returns (output, (h', c'))."""
        prev_hidden, prev_cell = hidden
        f = (self.xf(input) + self.hf(prev_hidden)).sigmoid()
        i = (self.xi(input) + self.hi(prev_hidden)).sigmoid()
        o = (self.xo(input) + self.ho(prev_hidden)).sigmoid()
        g = (self.xc(input) + self.hc(prev_hidden)).tanh()
        cell = f * prev_cell + i * g
        h = o * cell.tanh()
        return self.w_ho(h), (h, cell)

    def init_hidden(self, batch_size=1):
        """(h, c) of zeros with a 1 in the first unit, as the book starts them."""
        h, c = np.zeros((batch_size, self.n_hidden)), np.zeros((batch_size, self.n_hidden))
        h[:, 0] = c[:, 0] = 1
        return Tensor(h, autograd=True), Tensor(c, autograd=True)
