"""Layers for images (chapter 10): Conv2d, MaxPool2d and Flatten, on (batch, channels, height, width)."""

import numpy as np

from numtorch import functional as F
from numtorch.layers.base import Layer, parameter
from numtorch.operations.conv import _pair


class Conv2d(Layer):
    """y = conv2d(x, weight, bias, stride, padding), weight (out_channels, in_channels, kh, kw) (He initialisation)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        kh, kw = _pair(kernel_size)
        fan_in = in_channels * kh * kw
        self.stride, self.padding = stride, padding
        self.weight = parameter(np.random.randn(out_channels, in_channels, kh, kw) * np.sqrt(2.0 / fan_in), "weight")
        self.bias = parameter(np.zeros(out_channels), "bias") if bias else None

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding)

    def __repr__(self):
        out_channels, in_channels, kh, kw = self.weight.shape
        return (f"Conv2d({in_channels}, {out_channels}, kernel_size=({kh}, {kw}), stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None})")


class MaxPool2d(Layer):
    """y = the maximum of each kernel_size patch (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride)

    def __repr__(self):
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size})"


class Flatten(Layer):
    """y = x with the dims from start_dim to end_dim merged into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        shape = input.shape
        start, end = self.start_dim % len(shape), self.end_dim % len(shape)
        return input.reshape(shape[:start] + (-1,) + shape[end + 1:])
