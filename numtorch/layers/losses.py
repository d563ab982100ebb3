"""Loss layers: forward(prediction, target) returns a scalar tensor."""

from numtorch.layers.base import Layer
from numtorch.operations import MSE


class MSELoss(Layer):
    """mean((pred - target)^2) over every element (one primitive; target must have pred's shape)."""

    def forward(self, pred, target):
        return MSE.apply(pred, target)


class CrossEntropyLoss(Layer):
    """Mean cross-entropy of logits (batch, classes) against integer class indices (stable)."""

    def forward(self, input, target):
        return input.cross_entropy(target)
