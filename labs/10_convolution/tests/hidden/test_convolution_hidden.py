"""Lab 10 (convolution), hidden tests: random shapes, paddings and ties, the CNN's forward against the judge's,
and its test accuracy on held-out digits drawn per submission. Downstream exercises run with the reference
versions of the ones before them (`replace=`), so one bug costs one exercise."""
import numpy as np
import pytest


UNAVAILABLE = ("numtorch.functional.conv2d", "numtorch.functional.max_pool2d")
REFERENCE = {
    "im2col": '''
def im2col(x, kh, kw, padding):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    N, C = x.shape[:2]
    H, W = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
    cols = np.empty((N, C, kh, kw, H, W))
    for u in range(kh):
        for v in range(kw):
            cols[:, :, u, v] = xp[:, :, u:u + H, v:v + W]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * kh * kw)
''',
}
REFERENCE_OPS = {
    "col2im": '''
def col2im(dcols, x_shape, kh, kw, padding):
    N, C, H0, W0 = x_shape
    H, W = H0 + 2 * padding - kh + 1, W0 + 2 * padding - kw + 1
    d = dcols.reshape(N, H, W, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dxp = np.zeros((N, C, H0 + 2 * padding, W0 + 2 * padding))
    for u in range(kh):
        for v in range(kw):
            dxp[:, :, u:u + H, v:v + W] += d[:, :, u, v]
    return dxp[:, :, padding:padding + H0, padding:padding + W0]
''',
    "Conv2d": '''
class Conv2d(nt.Operation):
    @staticmethod
    def forward(ctx, x, w, b, padding=0):
        F, C, kh, kw = w.shape
        cols = im2col(x, kh, kw, padding)
        H, W = x.shape[2] + 2 * padding - kh + 1, x.shape[3] + 2 * padding - kw + 1
        ctx.save_for_backward(cols, w, x.shape, padding)
        return (cols @ w.reshape(F, -1).T + b).reshape(x.shape[0], H, W, F).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        cols, w, x_shape, padding = ctx.saved_tensors
        F, C, kh, kw = w.shape
        g = grad.transpose(0, 2, 3, 1).reshape(-1, F)
        return col2im(g @ w.reshape(F, -1), x_shape, kh, kw, padding), (g.T @ cols).reshape(w.shape), g.sum(axis=0)
''',
    "MaxPool2x2": '''
class MaxPool2x2(nt.Operation):
    @staticmethod
    def forward(ctx, x):
        N, C, H, W = x.shape
        blocks = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
        arg = blocks.argmax(axis=-1)
        ctx.save_for_backward(arg, x.shape)
        return np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        arg, (N, C, H, W) = ctx.saved_tensors
        blocks = np.zeros((N, C, H // 2, W // 2, 4))
        np.put_along_axis(blocks, arg[..., None], grad[..., None], axis=-1)
        return blocks.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)
''',
}


def random_case(rng):
    N, C, F = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kh, kw, p = int(rng.choice([1, 2, 3])), int(rng.choice([2, 3])), int(rng.integers(0, 3))
    H, W = int(rng.integers(max(kh - 2 * p, 1), 7)), int(rng.integers(max(kw - 2 * p, 1), 7))
    return rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, kh, kw)), rng.normal(size=F), p


@pytest.mark.exercise("loops")
@pytest.mark.points(2)
def test_loops_random(student, rng, reference):
    for _ in range(4):
        x, w, b, p = random_case(rng)
        got = student.call("conv2d_loops", x, w, b, p, hint="out[n, f, i, j] = b[f] + sum over c, u, v of xpad[n, c, i + u, j + v] · w[f, c, u, v].",
                           unavailable=UNAVAILABLE)
        expected = reference[0](x, w, b, p)
        assert np.shape(got) == expected.shape, (
            f"conv2d_loops on x {x.shape}, w {w.shape}, padding {p} gives shape {np.shape(got)}, not {expected.shape}. "
            f"Hint: H' = H + 2p - kh + 1 and W' = W + 2p - kw + 1; filters may be rectangular.")
        assert np.allclose(got, expected), (
            f"conv2d_loops on x {x.shape}, w {w.shape}, padding {p} gives other numbers than PyTorch's conv2d. Hint: no "
            f"flipped filter, a sum over all input channels, the bias of filter f, padding on H and W only.")


@pytest.mark.exercise("im2col")
@pytest.mark.points(2)
def test_im2col_random(student, rng, reference):
    for _ in range(4):
        x, w, b, p = random_case(rng)
        F, C, kh, kw = w.shape
        got = student.run("result = [im2col(x, kh, kw, p), conv2d_im2col(x, w, b, p)]", x=x, w=w, b=b, p=p, kh=kh, kw=kw,
                          what=f"im2col on x {x.shape} with a {kh}x{kw} window, padding {p}",
                          hint="rows in the order (n, i, j), columns in the order (c, u, v) of w[f].reshape(-1).",
                          unavailable=UNAVAILABLE)
        expected = reference[0](x, w, b, p)
        cols_ok = np.allclose(np.asarray(got[0]) @ w.reshape(F, -1).T + b,
                              expected.transpose(0, 2, 3, 1).reshape(-1, F)) if np.shape(got[0]) == (
            expected.shape[0] * expected.shape[2] * expected.shape[3], C * kh * kw) else False
        assert cols_ok, (f"im2col on x {x.shape} with a {kh}x{kw} window and padding {p}: cols @ w.reshape(F, -1).T does not "
                         f"give the convolution. Hint: one row per (n, i, j) in that order, and the columns in the order "
                         f"(c, u, v) that w[f].reshape(-1) uses.")
        assert np.shape(got[1]) == expected.shape and np.allclose(got[1], expected), (
            f"conv2d_im2col on x {x.shape}, w {w.shape}, padding {p} differs from conv2d. Hint: reshape the product to "
            f"(N, H', W', F), then transpose to (N, F, H', W').")


@pytest.mark.exercise("backward")
@pytest.mark.points(2)
def test_conv_gradients_random(student, rng, reference, numeric):
    for _ in range(3):
        x, w, b, p = random_case(rng)
        upstream = rng.normal(size=reference[0](x, w, b, p).shape)
        got = student.run("""
            tx, tw, tb = (nt.tensor(a, requires_grad=True) for a in (x, w, b))
            out = Conv2d.apply(tx, tw, tb, padding=p)
            (out * upstream).sum().backward()
            result = [out.data, tx.grad.data, tw.grad.data, tb.grad.data]
        """, x=x, w=w, b=b, p=p, upstream=upstream, what=f"Conv2d on x {x.shape}, w {w.shape}, padding {p}",
                          hint="save cols in forward; backward: g = grad as rows (n, i, j) x columns f; dW, db, and dx by col2im.",
                          replace=REFERENCE, unavailable=UNAVAILABLE)
        assert np.allclose(got[0], reference[0](x, w, b, p)), "Conv2d's forward differs from conv2d. Hint: the forward of exercise 2, inside the operation."
        expected = numeric(lambda x, w, b: np.sum(reference[0](x, w, b, p) * upstream), x, w, b)
        for name, g, e in zip(["x", "w", "b"], got[1:], expected):
            assert np.shape(g) == e.shape and np.allclose(g, e, atol=1e-5), (
                f"Conv2d's gradient for {name} (x {x.shape}, w {w.shape}, padding {p}) differs from finite differences. "
                f"Hint: " + {"x": "col2im adds (+=) each window entry back to its pixel, then removes the padding.",
                             "w": "dW = (g.T @ cols).reshape(w.shape).", "b": "db = g.sum(axis=0)."}[name])


@pytest.mark.exercise("pool")
@pytest.mark.points(2)
def test_pool_random_with_ties(student, rng, reference):
    for _ in range(3):
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), 2 * int(rng.integers(1, 5)), 2 * int(rng.integers(1, 5)))
        x = rng.integers(-3, 4, size=shape).astype(float)  # small integers: ties in many blocks
        upstream = rng.normal(size=(shape[0], shape[1], shape[2] // 2, shape[3] // 2))
        got = student.run("""
            t = nt.tensor(x, requires_grad=True)
            out = MaxPool2x2.apply(t)
            (out * upstream).sum().backward()
            result = [out.data, t.grad.data]
        """, x=x, upstream=upstream, what=f"MaxPool2x2 on {shape}", hint="each block's gradient goes to its first maximum only.",
                          unavailable=UNAVAILABLE)
        out, mask = reference[1](x)
        assert np.shape(got[0]) == out.shape and np.allclose(got[0], out), f"MaxPool2x2 on {shape} gives wrong maxima. Hint: non-overlapping 2x2 blocks."
        expected = mask * np.repeat(np.repeat(upstream, 2, axis=2), 2, axis=3)
        assert np.allclose(got[1], expected), (
            f"MaxPool2x2's gradient on {shape} (with ties) is wrong. Hint: the whole gradient of a block goes to one entry, "
            f"its first maximum in row-major order (argmax), not to every maximum or the whole block.")


CNN_FORWARD = """
model = SmallCNN()
params = {"w": model.w.data, "b": model.b.data, "ow": model.out.weight.data, "ob": model.out.bias.data}
out = model(nt.tensor(x))
result = {"params": params, "out": out.data}
"""


@pytest.mark.exercise("cnn")
@pytest.mark.points(1)
def test_cnn_forward_matches(student, rng, reference):
    x = rng.uniform(0, 1, size=(4, 1, 8, 8))
    got = student.run(CNN_FORWARD, x=x, what="SmallCNN()(x)", replace=REFERENCE | REFERENCE_OPS,
                      hint="keep the filters in self.w (16, 1, 3, 3), the bias in self.b, the LinearLayer in self.out; "
                           "conv with padding 1 -> relu -> MaxPool2x2 -> reshape(N, -1) -> self.out.")
    p = got["params"]
    h, _ = reference[1](np.maximum(reference[0](x, p["w"], p["b"], 1), 0))
    expected = h.reshape(4, -1) @ p["ow"] + p["ob"]
    assert np.shape(got["out"]) == (4, 10) and np.allclose(got["out"], expected), (
        "SmallCNN's scores differ from conv -> relu -> pool -> flatten -> linear with its own parameters. Hint: padding 1, "
        "relu before pooling, flatten each example's 16 x 4 x 4 block to 256 numbers.")
    assert abs(np.std(p["w"]) - np.sqrt(2 / 9)) < 0.15 and np.all(p["b"] == 0), (
        f"SmallCNN's filters have std {np.std(p['w']):.3f}, He's scale is {np.sqrt(2 / 9):.3f}, and the bias should start "
        f"at 0. Hint: np.random.randn(16, 1, 3, 3) * np.sqrt(2 / 9).")


@pytest.mark.exercise("cnn")
@pytest.mark.points(1)
def test_cnn_beats_97_percent_on_held_out_digits(student, rng):
    order = rng.permutation(1797)
    got = student.run("""
        model = train_cnn(SmallCNN(), images[train], labels[train], epochs=12, seed=fit_seed)
        result = test_accuracy(model, images[test], labels[test])
    """, train=order[:1400], test=order[1400:], fit_seed=int(rng.integers(1000)), what="training SmallCNN",
                      hint="conv (1 -> 16, 3x3, padding 1) -> relu -> pool -> flatten -> LinearLayer(256, 10).",
                      replace=REFERENCE | REFERENCE_OPS)
    assert got >= 0.97, (f"trained for 12 epochs, your SmallCNN gets {got:.1%} of 397 held-out digits right, below 97%. "
                         f"Hint: check the architecture of exercise 5 and He's scale for the filters.")
