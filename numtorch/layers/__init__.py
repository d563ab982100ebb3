"""Layers: the higher-level API for composing networks (PyTorch's nn)."""

from numtorch.layers.base import Layer
from numtorch.layers.core import LinearLayer, SequentialLayer, EmbeddingLayer
from numtorch.layers.activations import Tanh, Sigmoid, ReLU, Softmax
from numtorch.layers.losses import MSELoss, CrossEntropyLoss
from numtorch.layers.recurrent import RNNCell, LSTMCell
from numtorch.layers.conv import Conv2d, MaxPool2d, Flatten
from numtorch.layers.norm import Dropout, LayerNorm, BatchNorm1d, BatchNorm2d
from numtorch.layers.attention import MultiHeadAttention

Linear, Sequential, Embedding, Module = LinearLayer, SequentialLayer, EmbeddingLayer, Layer

__all__ = [
    "Layer", "LinearLayer", "SequentialLayer", "EmbeddingLayer", "Tanh", "Sigmoid", "ReLU", "Softmax",
    "MSELoss", "CrossEntropyLoss", "RNNCell", "LSTMCell", "Linear", "Sequential", "Embedding", "Module",
    "Conv2d", "MaxPool2d", "Flatten", "Dropout", "LayerNorm", "BatchNorm1d", "BatchNorm2d", "MultiHeadAttention",
]
