"""Convolution speed: numtorch's conv2d and a small CNN step against hand-written raw NumPy and PyTorch CPU.

    python benchmarks/bench_conv.py [--quick]

Every ratio is measured in this one run (best of several repeats, interleaved), so machine noise affects
all contenders alike. Targets (issue 12): conv2d forward + backward (gradients for the input, the weight
and the bias) <= 1.2x a raw-NumPy im2col reference, on 64x1x8x8 (1 -> 16 channels, 3x3, padding 1) and
on 64x1x28x28 (1 -> 8 channels, 3x3); a small CNN training step on digits-sized input (64x1x8x8: conv 3x3
1 -> 16, relu, max pool 2, linear 256 -> 10, cross-entropy, SGD) <= 1.3x raw NumPy. PyTorch CPU (one
thread) is reported beside them.
"""

import argparse
import os
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numtorch as nt  # noqa: E402
import numtorch.functional as F  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None

LR = 0.05


def best_time(fns, number, repeat):
    """Best mean seconds per call of each function, the repeats interleaved (noise hits all alike)."""
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / number)
    return best


# ---- the raw-NumPy reference, written by hand ------------------------------------------------
def np_conv_forward(x, w, b, pad):
    """im2col: columns (N, C*3*3, OH*OW), then one batched matrix product."""
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = x
    if pad:
        xp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
        xp[:, :, pad:pad + h, pad:pad + wd] = x
    oh, ow = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    cols = sliding_window_view(xp, (k, k), axis=(2, 3)).transpose(0, 1, 4, 5, 2, 3).reshape(n, c * k * k, oh * ow)
    out = w.reshape(o, -1) @ cols
    out += b[:, None]
    return out.reshape(n, o, oh, ow), (cols, w, xp.shape, pad)


def np_conv_backward(g, cache, input_grad=True):
    """Gradients for the weight and the bias, and for the input when input_grad (a first layer needs none)."""
    cols, w, padded_shape, pad = cache
    n, o, oh, ow = g.shape
    k = w.shape[2]
    g2 = g.reshape(n, o, -1)
    gw = (g2 @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    gb = g2.sum(axis=(0, 2))
    if not input_grad:
        return None, gw, gb
    gcols = (w.reshape(o, -1).T @ g2).reshape(n, -1, k, k, oh, ow)
    gxp = np.zeros(padded_shape)
    for i in range(k):
        for j in range(k):
            gxp[:, :, i:i + oh, j:j + ow] += gcols[:, :, i, j]
    return gxp[:, :, pad:padded_shape[2] - pad, pad:padded_shape[3] - pad], gw, gb


def np_conv_step(x, w, b, pad, upstream):
    out, cache = np_conv_forward(x, w, b, pad)
    return np_conv_backward(upstream, cache)


def np_cnn_step(params, x, labels):
    """conv 3x3 (padding 1) -> relu -> max pool 2 -> linear -> softmax cross-entropy; backward; SGD."""
    w, b, lw, lb = params
    conv, cache = np_conv_forward(x, w, b, 1)
    act = np.maximum(conv, 0)
    corners = [(i, j) for i in (0, 1) for j in (0, 1)]
    pooled = np.maximum(np.maximum(act[:, :, 0::2, 0::2], act[:, :, 0::2, 1::2]),
                        np.maximum(act[:, :, 1::2, 0::2], act[:, :, 1::2, 1::2]))
    n = len(x)
    flat = pooled.reshape(n, -1)
    logits = flat @ lw + lb
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    g = np.exp(log_probs)
    g[np.arange(n), labels] -= 1
    g /= n
    glw, glb = flat.T @ g, g.sum(axis=0)
    gpooled = (g @ lw.T).reshape(pooled.shape)
    gact = np.zeros(act.shape)
    for i, j in corners:  # ties are zeros from relu, whose gradient is 0 anyway
        gact[:, :, i::2, j::2] = gpooled * (act[:, :, i::2, j::2] == pooled)
    gconv = gact * (conv > 0)
    _, gw, gb = np_conv_backward(gconv, cache, input_grad=False)
    for p, gp in zip(params, (gw, gb, glw, glb)):
        p -= LR * gp
    return loss


# ---- numtorch and PyTorch ----------------------------------------------------------------------
def nt_conv_step(x, w, b, pad, upstream):
    F.conv2d(x, w, b, padding=pad).backward(upstream)
    x.grad = w.grad = b.grad = None


def torch_conv_step(x, w, b, pad, upstream):
    torch.nn.functional.conv2d(x, w, b, padding=pad).backward(upstream)
    x.grad = w.grad = b.grad = None


def nt_cnn(params):
    w, b, lw, lb = params
    model = nt.layers.Sequential([nt.layers.Conv2d(1, 16, 3, padding=1), nt.layers.ReLU(), nt.layers.MaxPool2d(2),
                                  nt.layers.Flatten(), nt.layers.Linear(256, 10)])
    for p, value in zip(model.parameters(), (w, b, lw, lb)):
        p.data[...] = value
    return model, nt.optimizers.SGDOptimizer(model.get_params(), lr=LR)


def nt_cnn_step(model, optimizer, x, labels):
    loss = model(x).cross_entropy(labels)
    loss.backward()
    optimizer.step()
    return loss


def torch_cnn(params):
    w, b, lw, lb = params
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(256, 10)).double()
    with torch.no_grad():
        for p, value in zip(model.parameters(), (w, b, lw.T, lb)):
            p.copy_(torch.tensor(value))
    return model, torch.optim.SGD(model.parameters(), lr=LR)


def torch_cnn_step(model, optimizer, x, labels):
    loss = torch.nn.functional.cross_entropy(model(x), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def cnn_params(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((16, 1, 3, 3)) / 3, np.zeros(16), rng.standard_normal((256, 10)) / 16, np.zeros(10)]


def check_same_results(x, labels):
    """numtorch computes what the references compute (so the race is fair)."""
    rng = np.random.default_rng(1)
    w, b, upstream = rng.standard_normal((16, 1, 3, 3)), rng.standard_normal(16), rng.standard_normal((64, 16, 8, 8))
    xt, wt, bt = (nt.tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv2d(xt, wt, bt, padding=1).backward(upstream)
    for ours, expected in zip((xt.grad, wt.grad, bt.grad), np_conv_step(x, w, b, 1, upstream)):
        assert np.allclose(ours.data, expected)
    ref = cnn_params()
    model, optimizer = nt_cnn(cnn_params())
    for _ in range(3):
        assert np.isclose(np_cnn_step(ref, x, labels), nt_cnn_step(model, optimizer, nt.tensor(x), labels).item())
    assert all(np.allclose(p.data, r) for p, r in zip(model.parameters(), ref))


def bench_conv(n, channels_out, size, pad, number, repeat):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((n, 1, size, size)), rng.standard_normal((channels_out, 1, 3, 3)), np.zeros(channels_out)
    upstream = rng.standard_normal((n, channels_out, size + 2 * pad - 2, size + 2 * pad - 2))
    xt, wt, bt = (nt.tensor(a, requires_grad=True) for a in (x, w, b))
    fns = {"raw NumPy": lambda: np_conv_step(x, w, b, pad, upstream),
           "numtorch": lambda: nt_conv_step(xt, wt, bt, pad, upstream)}
    if torch is not None:
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        tu = torch.tensor(upstream)
        fns["PyTorch CPU (1 thread)"] = lambda: torch_conv_step(tx, tw, tb, pad, tu)
    return best_time(fns, number, repeat)


def bench_cnn(x, labels, number, repeat):
    ref = cnn_params()
    model, optimizer = nt_cnn(cnn_params())
    xt = nt.tensor(x)
    fns = {"raw NumPy": lambda: np_cnn_step(ref, x, labels),
           "numtorch": lambda: nt_cnn_step(model, optimizer, xt, labels)}
    if torch is not None:
        tmodel, toptimizer = torch_cnn(cnn_params())
        tx, tl = torch.tensor(x), torch.tensor(labels)
        fns["PyTorch CPU (1 thread)"] = lambda: torch_cnn_step(tmodel, toptimizer, tx, tl)
    return best_time(fns, number, repeat)


def report_ratio(title, times, target):
    print(f"\n{title}")
    for name, t in times.items():
        print(f"  {name:24s} {t * 1e6:10.1f} us   {t / times['raw NumPy']:5.2f}x raw NumPy")
    ratio = times["numtorch"] / times["raw NumPy"]
    print(f"  -> numtorch / raw NumPy = {ratio:.2f}x (target <= {target}x): {'MET' if ratio <= target else 'MISSED'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, noisier figures)")
    args = parser.parse_args(argv)
    scale = 0.2 if args.quick else 1.0
    rep = 3 if args.quick else 9
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed'}")
    rng = np.random.default_rng(0)
    digits, labels = rng.uniform(0, 16, (64, 1, 8, 8)) / 16, rng.integers(0, 10, 64)  # sklearn digits' sizes
    check_same_results(digits, labels)

    report_ratio("conv2d forward + backward, 64x1x8x8, 1 -> 16 channels, 3x3, padding 1",
                 bench_conv(64, 16, 8, 1, int(200 * scale) or 1, rep), 1.2)
    report_ratio("conv2d forward + backward, 64x1x28x28, 1 -> 8 channels, 3x3",
                 bench_conv(64, 8, 28, 0, int(40 * scale) or 1, rep), 1.2)
    report_ratio("small CNN training step, 64x1x8x8 digits: conv 1->16 3x3, relu, max pool 2, linear 256->10, "
                 "cross-entropy, SGD", bench_cnn(digits, labels, int(100 * scale) or 1, rep), 1.3)


if __name__ == "__main__":
    main()
