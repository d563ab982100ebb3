"""Dropout and normalisation layers: what they do depends on `training` (set by model.train() / model.eval())."""

import numpy as np

from numtorch import functional as F
from numtorch.errors import ShapeError
from numtorch.layers.base import Layer, parameter
from numtorch.tensor import Tensor


class Dropout(Layer):
    """While training, zero each element with probability p and scale the rest by 1 / (1 - p); in eval, y = x."""

    def __init__(self, p=0.5):
        self.p = p

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def __repr__(self):
        return f"Dropout(p={self.p})"


class LayerNorm(Layer):
    """Normalise each example over its last dims (normalized_shape), then * weight + bias (ones and zeros at first)."""

    def __init__(self, normalized_shape, eps=1e-5):
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = parameter(np.ones(self.normalized_shape), "weight")
        self.bias = parameter(np.zeros(self.normalized_shape), "bias")

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def __repr__(self):
        return f"LayerNorm({self.normalized_shape}, eps={self.eps})"


class BatchNorm1d(Layer):
    """Normalise each feature of (N, C) or (N, C, L) inputs over the batch, then * weight + bias.

    Training: the batch's mean and variance, and running_mean / running_var move towards them by
    `momentum`. Eval: the running statistics (so one example at a time gives the same answer).
    """

    dims = (2, 3)  # the input dims this layer accepts

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = parameter(np.ones(num_features), "weight")
        self.bias = parameter(np.zeros(num_features), "bias")
        self.running_mean = Tensor(np.zeros(num_features), name="running_mean")
        self.running_var = Tensor(np.ones(num_features), name="running_var")

    def forward(self, input):
        if input.ndim not in self.dims:
            raise ShapeError(f"{type(self).__name__}: expects an input with {' or '.join(map(str, self.dims))} dims "
                             f"(batch, {self.num_features} channels, ...), got shape {input.shape}")
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            self.momentum, self.eps)

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum})"


class BatchNorm2d(BatchNorm1d):
    """Normalise each channel of (N, C, H, W) images over the batch and every position (see BatchNorm1d)."""

    dims = (4,)
