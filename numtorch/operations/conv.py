"""Images: 2-D convolution and max pooling on (batch, channels, height, width) arrays, through im2col.

im2col: every kh x kw patch of the image becomes one column, so a convolution is one matrix product.
`_patches` makes the columns (a view, no copy) and `_add_patches` is its adjoint, which puts each
patch's gradient back where the patch came from (overlapping patches add up).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from numtorch.errors import ShapeError
from numtorch.operations.base import Operation


def _pair(value):
    """3 -> (3, 3); (2, 3) stays (2, 3)."""
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def _patches(x, kernel, stride):
    """View of x (N, C, H, W) as (N, C, kh, kw, OH, OW): patch (oh, ow) is x[:, :, oh*sh + i, ow*sw + j]."""
    (kh, kw), (sh, sw) = kernel, stride
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return windows.transpose(0, 1, 4, 5, 2, 3)


def _kernel_slices(out_size, kernel, stride):
    """For each kernel position (i, j): the index of x[:, :, i + sh*h, j + sw*w] over every output position (h, w)."""
    (oh, ow), (kh, kw), (sh, sw) = out_size, kernel, stride
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))


def _add_patches(grad_patches, shape, stride):
    """The adjoint of _patches: add each patch's gradient (N, C, kh, kw, OH, OW) into zeros of x's shape."""
    gx = np.zeros(shape, grad_patches.dtype)
    for i, j, where in _kernel_slices(grad_patches.shape[4:], grad_patches.shape[2:4], stride):
        gx[where] += grad_patches[:, :, i, j]
    return gx


def _pad(x, padding):
    """x with `padding` zeros around each image (height and width)."""
    ph, pw = padding
    if ph == pw == 0:
        return x
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), x.dtype)  # speed only: np.pad does the same, 5x slower
    padded[:, :, ph:ph + h, pw:pw + w] = x
    return padded


def _check_images(op, x):
    """x must be a batch of images: (N, C, H, W)."""
    if x.ndim != 4:
        raise ShapeError(f"{op}: expects input of shape (batch, channels, height, width), got {x.shape}; "
                         f"for one image use x.reshape(1, channels, height, width)")


def _check_fits(op, x, kernel, padding=(0, 0)):
    """The kernel must fit inside the (padded) images."""
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < kernel[0] or w < kernel[1]:
        raise ShapeError(f"{op}: the {kernel[0]}x{kernel[1]} kernel does not fit in {h}x{w} images (input {x.shape}, "
                         f"padding {padding}); use a smaller kernel_size, more padding or larger images")


def _check_weight(x, w, b):
    """w must be (out_channels, in_channels, kh, kw) with in_channels = x's channels, b (out_channels,)."""
    if w.ndim != 4 or w.shape[1] != x.shape[1]:
        raise ShapeError(f"conv2d: weight of shape {w.shape} does not fit an input of shape {x.shape}: the weight "
                         f"must be (out_channels, in_channels={x.shape[1]}, kh, kw), PyTorch's layout")
    if np.ndim(b) != 0 and np.shape(b) != (w.shape[0],):
        raise ShapeError(f"conv2d: bias of shape {np.shape(b)} for {w.shape[0]} output channels; "
                         f"the bias must have shape ({w.shape[0]},)")


class Conv2d(Operation):
    """z[n, o] = sum over c, i, j of x[n, c, s*h + i, s*w + j] * w[o, c, i, j] + b[o] (x zero-padded);
    dz/dw = grad @ columns.T, dz/dx = the columns' gradient w.T @ grad added back into place, dz/db = sum of grad"""
    __slots__ = ()
    name = "conv2d"

    @staticmethod
    def forward(ctx, x, w, b, stride=1, padding=0):
        x, w = np.asarray(x), np.asarray(w)
        stride, padding = _pair(stride), _pair(padding)
        _check_images("conv2d", x)
        _check_weight(x, w, b)
        _check_fits("conv2d", x, w.shape[2:], padding)
        padded = _pad(x, padding)
        patches = _patches(padded, w.shape[2:], stride)
        n, c, kh, kw, oh, ow = patches.shape
        columns = patches.reshape(n, c * kh * kw, oh * ow)  # one column per patch (this copies)
        w2 = w.reshape(len(w), -1)
        z = w2 @ columns
        z += np.reshape(b, (-1, 1))
        ctx.save_for_backward(columns, w2, patches.shape, padded.shape)
        return z.reshape(n, len(w), oh, ow)

    @staticmethod
    def backward(ctx, grad):
        columns, w2, patches_shape, padded_shape = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        n, o = grad.shape[:2]
        g = grad.reshape(n, o, -1)
        w_shape = (o,) + patches_shape[1:4]
        gw = (g @ columns.transpose(0, 2, 1)).sum(axis=0).reshape(w_shape) if needs_w else None
        gb = g.sum(axis=(0, 2)) if needs_b else None
        gx = None
        if needs_x:
            gx = _add_patches((w2.T @ g).reshape(patches_shape), padded_shape, _pair(ctx.args["stride"]))
            ph, pw = _pair(ctx.args["padding"])
            gx = gx[:, :, ph:padded_shape[2] - ph, pw:padded_shape[3] - pw]
        return gx, gw, gb


class MaxPool2d(Operation):
    """z[n, c, h, w] = max of the kernel-sized patch at (s*h, s*w);  dz/dx = grad routed to each patch's maximum
    (the first one, as PyTorch, when several elements tie)"""
    __slots__ = ()
    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None):
        x = np.asarray(x)
        kernel = _pair(kernel_size)
        stride = kernel if stride is None else _pair(stride)
        _check_images("max_pool2d", x)
        _check_fits("max_pool2d", x, kernel)
        out_size = ((x.shape[2] - kernel[0]) // stride[0] + 1, (x.shape[3] - kernel[1]) // stride[1] + 1)
        z = None
        for _, _, where in _kernel_slices(out_size, kernel, stride):  # the max of kh*kw shifted copies of x
            z = x[where].copy() if z is None else np.maximum(z, x[where], out=z)
        ctx.save_for_backward(x, z, kernel, stride)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z, kernel, stride = ctx.saved_tensors
        gx = np.zeros(x.shape, grad.dtype)
        unclaimed = np.ones(z.shape, dtype=bool)
        for _, _, where in _kernel_slices(z.shape[2:], kernel, stride):
            first_max = (x[where] == z) & unclaimed
            gx[where] += grad * first_max
            unclaimed &= ~first_max
        return gx
