"""Images: 2-D convolution and max pooling on (batch, channels, height, width) arrays, through im2col.

im2col: every kh x kw patch of the image becomes one column, so a convolution is one matrix product;
col2im is its adjoint, which puts each patch's gradient back where the patch came from (overlapping
patches add up). Both walk the kernel positions (i, j) with `_kernel_slices`: x[:, :, i::stride,
j::stride] is what kernel position (i, j) sees at every output position. Max pooling takes the
elementwise maximum of those kh*kw views.
"""

import numpy as np

from numtorch.errors import NumTorchTypeError, NumTorchValueError, ShapeError
from numtorch.operations.base import Operation


def _pair(value, op="conv2d", what="kernel_size"):
    """3 -> (3, 3); (2, 3) stays (2, 3); anything else is an error naming the op and `what`."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(v, (int, np.integer)) for v in pair)):
        raise NumTorchTypeError(f"{op}: {what} must be a whole number or a pair of them (height, width), got {value!r}"
                                + ("; for 'same' with a 3x3 kernel and stride 1 use padding=1" if what == "padding"
                                   else ""))
    smallest = 0 if what == "padding" else 1
    if min(pair) < smallest:
        raise NumTorchValueError(f"{op}: {what} must be at least {smallest}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _kernel_slices(out_size, kernel, stride):
    """For each kernel position (i, j): the index of x[:, :, i + sh*h, j + sw*w] over every output position (h, w)."""
    (oh, ow), (kh, kw), (sh, sw) = out_size, kernel, stride
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))


def _im2col(x, kernel, stride, out_size):
    """The patches of x (N, C, H, W) as (N, C, kh, kw, OH, OW): [n, c, i, j, h, w] = x[n, c, i + sh*h, j + sw*w]."""
    columns = np.empty(x.shape[:2] + kernel + out_size, x.dtype)
    for i, j, where in _kernel_slices(out_size, kernel, stride):
        columns[:, :, i, j] = x[where]
    return columns


def _col2im(grad_columns, shape, stride):
    """The adjoint of _im2col: add each patch's gradient (N, C, kh, kw, OH, OW) into zeros of x's shape."""
    gx = np.zeros(shape, grad_columns.dtype)
    for i, j, where in _kernel_slices(grad_columns.shape[4:], grad_columns.shape[2:4], stride):
        gx[where] += grad_columns[:, :, i, j]
    return gx


def _out_size(x, kernel, stride, padding=(0, 0)):
    """(OH, OW): how many kernel positions fit along the height and the width."""
    return tuple((x.shape[2 + d] + 2 * padding[d] - kernel[d]) // stride[d] + 1 for d in (0, 1))


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
        stride, padding = _pair(stride, "conv2d", "stride"), _pair(padding, "conv2d", "padding")
        _check_images("conv2d", x)
        _check_weight(x, w, b)
        _check_fits("conv2d", x, w.shape[2:], padding)
        padded = _pad(x, padding)
        columns = _im2col(padded, w.shape[2:], stride, _out_size(x, w.shape[2:], stride, padding))
        n, c, kh, kw, oh, ow = columns.shape
        w2 = w.reshape(len(w), -1)
        z = w2 @ columns.reshape(n, c * kh * kw, oh * ow)
        z += np.reshape(b, (-1, 1))
        ctx.save_for_backward(columns, w2, padded.shape, stride, padding)
        return z.reshape(n, len(w), oh, ow)

    @staticmethod
    def backward(ctx, grad):
        columns, w2, padded_shape, stride, (ph, pw) = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        n, o = grad.shape[:2]
        g = grad.reshape(n, o, -1)  # (N, out, OH*OW)
        gw = None
        if needs_w:
            flat = columns.reshape(n, w2.shape[1], -1)  # (N, in*kh*kw, OH*OW)
            gw = (g @ flat.transpose(0, 2, 1)).sum(axis=0).reshape((o,) + columns.shape[1:4])
        gb = g.sum(axis=(0, 2)) if needs_b else None
        gx = None
        if needs_x:
            gx = _col2im((w2.T @ g).reshape(columns.shape), padded_shape, stride)
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
        kernel = _pair(kernel_size, "max_pool2d")
        stride = kernel if stride is None else _pair(stride, "max_pool2d", "stride")
        _check_images("max_pool2d", x)
        _check_fits("max_pool2d", x, kernel)
        z = None
        for _, _, where in _kernel_slices(_out_size(x, kernel, stride), kernel, stride):  # the max of kh*kw views
            z = x[where].copy() if z is None else np.maximum(z, x[where], out=z)
        ctx.save_for_backward(x, z, kernel, stride)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z, kernel, stride = ctx.saved_tensors
        gx = np.zeros(x.shape, grad.dtype)
        unclaimed = np.ones(z.shape, dtype=bool)
        overlapping = stride[0] < kernel[0] or stride[1] < kernel[1]
        for _, _, where in _kernel_slices(z.shape[2:], kernel, stride):
            first_max = (x[where] == z) & unclaimed
            unclaimed &= ~first_max
            if overlapping:
                gx[where] += grad * first_max
            else:  # speed only: patches that do not overlap share no element, so = does what += does, 2x faster
                np.multiply(grad, first_max, out=gx[where])
        return gx
