"""Loss layers: forward(prediction, target) returns a scalar tensor."""

from numtorch.layers.base import Layer


class MSELoss(Layer):
    """mean((pred - target)^2) over every element."""

    def forward(self, pred, target):
        return ((pred - target) ** 2).mean()


class CrossEntropyLoss(Layer):
    """Mean cross-entropy of logits (batch, classes) against integer class indices (stable)."""

    def forward(self, input, target):
        return input.cross_entropy(target)
