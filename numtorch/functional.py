"""Functions with PyTorch's names and argument order (torch.nn.functional): ``import numtorch.functional as F``.

Each is one Operation (numtorch/operations/conv.py, norm.py, dropout.py), except attention, which is
written from primitives (batched @, masked_fill, softmax) as a student would write it. The layers in
numtorch.layers (Conv2d, MaxPool2d, Dropout, LayerNorm, BatchNorm1d, MultiHeadAttention) call these.
A missing weight or bias is the constant 1 or 0 (no gradient for it).
"""

import math

import numpy as np

from numtorch.operations import BatchNorm, Conv2d, Dropout, LayerNorm, MaxPool2d
from numtorch.tensor import Tensor


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """x (N, C_in, H, W) convolved with weight (C_out, C_in, kh, kw), plus bias (C_out,): (N, C_out, H', W')."""
    return Conv2d.apply(x, weight, 0.0 if bias is None else bias, stride=stride, padding=padding)


def max_pool2d(x, kernel_size, stride=None):
    """The maximum of each kernel_size patch of x (N, C, H, W); stride defaults to kernel_size."""
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride)


def dropout(x, p=0.5, training=True):
    """While training, zero each element with probability p and scale the rest by 1 / (1 - p); else x itself."""
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=p)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last dims (normalized_shape) to mean 0 and variance 1, then * weight + bias."""
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (normalized_shape,)
    return LayerNorm.apply(x, _or(weight, 1.0), _or(bias, 0.0), normalized_shape=tuple(normalized_shape), eps=eps)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) of x (N, C, ...) with the batch's mean and variance when training
    (and update running_mean / running_var in place), with running_mean / running_var otherwise."""
    return BatchNorm.apply(x, _or(weight, 1.0), _or(bias, 0.0), running_mean=_array(running_mean),
                           running_var=_array(running_var), training=training, momentum=momentum, eps=eps)


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    """softmax(query @ key^T / sqrt(d) + mask) @ value, over the last two dims (..., T, d);
    attn_mask: booleans, True where a query may attend; is_causal: each position sees itself and the past."""
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if is_causal:
        t_q, t_k = scores.shape[-2:]
        attn_mask = np.tril(np.ones((t_q, t_k), dtype=bool))
    if attn_mask is not None:
        scores = scores.masked_fill(~_array(attn_mask), -np.inf)
    return scores.softmax(dim=-1) @ value


def _or(value, default):
    return default if value is None else value


def _array(value):
    """The array behind a Tensor (running statistics are updated in place in it), or the value itself."""
    return value.data if isinstance(value, Tensor) else value
