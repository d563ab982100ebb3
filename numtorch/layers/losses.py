"""Loss layers: forward(prediction, target) returns a scalar tensor (or one loss per example with reduction="none")."""

from numtorch.layers.base import Layer
from numtorch.operations import MSE, CrossEntropy


class MSELoss(Layer):
    """mean((pred - target)^2) over every element (reduction="sum": the sum, "none": each square); one primitive,
    and the target must have pred's shape."""

    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        return MSE.apply(pred, target, reduction=self.reduction)


class CrossEntropyLoss(Layer):
    """Cross-entropy of logits against integer class indices or class probabilities (stable), as PyTorch's:
    logits (classes,), (batch, classes) or (batch, classes, d...); weight= one number per class;
    reduction= "mean" (weighted by the targets' weights), "sum" or "none"."""

    def __init__(self, weight=None, reduction="mean"):
        self.weight, self.reduction = weight, reduction

    def forward(self, input, target):
        return CrossEntropy.apply(input, target, weight=self.weight, reduction=self.reduction)
