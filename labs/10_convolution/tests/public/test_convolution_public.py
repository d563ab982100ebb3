"""Lab 10 (convolution), public tests: the check cells run these; hidden tests try other shapes at grading."""
import numpy as np
import pytest



def small_case(seed=100, padding=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, 2, 4, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), padding


@pytest.mark.exercise("loops")
@pytest.mark.points(1)
def test_loops_small(student, reference):
    x, w, b, p = small_case()
    got = student.call("conv2d_loops", x, w, b, p, hint="pad H and W, then sum window * filter over c, u, v, plus b[f].")
    expected = reference[0](x, w, b, p)
    assert np.shape(got) == expected.shape, f"conv2d_loops gives shape {np.shape(got)}, not {expected.shape}. Hint: (N, F, H + 2p - kh + 1, W + 2p - kw + 1)."
    assert np.allclose(got, expected), ("conv2d_loops gives other numbers than PyTorch's conv2d. Hint: do not flip the filter; "
                                        "sum over every input channel; pad only the last two axes.")


@pytest.mark.exercise("im2col")
@pytest.mark.points(1)
def test_im2col_small(student, reference):
    x, w, b, p = small_case(101)
    got = student.run("result = [im2col(x, 3, 3, p), conv2d_im2col(x, w, b, p)]", x=x, w=w, b=b, p=p,
                      what="im2col and conv2d_im2col", hint="rows (n, i, j), columns (c, u, v) like w[f].reshape(-1).")
    assert np.shape(got[0]) == (2 * 4 * 5, 2 * 9), f"im2col gives shape {np.shape(got[0])}, not (N·H'·W', C·kh·kw) = (40, 18). Hint: one row per output position."
    assert np.allclose(got[1], reference[0](x, w, b, p)), "conv2d_im2col gives other numbers than conv2d. Hint: cols @ w.reshape(F, -1).T + b, then reshape to (N, H', W', F) and transpose to (N, F, H', W')."


@pytest.mark.exercise("backward")
@pytest.mark.points(1)
def test_col2im_gives_the_input_gradient(student, reference, numeric):
    x, w, b, p = small_case(102)
    upstream = np.random.default_rng(3).normal(size=(2, 3, 4, 5))
    dcols = upstream.transpose(0, 2, 3, 1).reshape(-1, 3) @ w.reshape(3, -1)
    got = student.call("col2im", dcols, x.shape, 3, 3, p, what="col2im(g @ w.reshape(F, -1), x.shape, 3, 3, padding=1)",
                       hint="add (+=) each window entry back to the pixel it came from, then cut the padding off.")
    (expected,) = numeric(lambda x: np.sum(reference[0](x, w, b, p) * upstream), x)
    assert np.shape(got) == x.shape and np.allclose(got, expected, atol=1e-5), (
        "col2im does not give the convolution's input gradient. Hint: loop over the window offsets (u, v) and add "
        "dcols' entries back with +=, so that pixels covered by several windows collect every share; then drop the padding.")


@pytest.mark.exercise("pool")
@pytest.mark.points(1)
def test_pool_small(student, reference):
    x = np.random.default_rng(103).normal(size=(1, 2, 4, 4))
    got = student.run("""
        t = nt.tensor(x, requires_grad=True)
        out = MaxPool2x2.apply(t)
        out.sum().backward()
        result = [out.data, t.grad.data]
    """, x=x, what="MaxPool2x2.apply(x)", hint="the max of each 2x2 block; the gradient goes to that maximum only.")
    out, mask = reference[1](x)
    assert np.shape(got[0]) == out.shape and np.allclose(got[0], out), "MaxPool2x2 gives the wrong maxima. Hint: non-overlapping 2x2 blocks, (N, C, H/2, W/2)."
    assert np.allclose(got[1], mask), "MaxPool2x2's gradient is wrong. Hint: each block's gradient goes to its maximum, 0 to the other three."


# The library's conv2d and max_pool2d stand in for your Conv2d and MaxPool2x2 here, so that this check of SmallCNN
# does not depend on exercises 3 and 4.
LIBRARY_OPS = {
    "Conv2d": "class Conv2d:\n    apply = staticmethod(lambda x, w, b, padding=0: nt.functional.conv2d(x, w, b, padding=padding))\n",
    "MaxPool2x2": "class MaxPool2x2:\n    apply = staticmethod(lambda x: nt.functional.max_pool2d(x, 2))\n",
}


@pytest.mark.exercise("cnn")
@pytest.mark.points(1)
def test_cnn_shapes(student):
    got = student.run("""
        model = SmallCNN()
        out = model(nt.tensor(images[:5]))
        result = {"out": out.shape, "n": sum(p.data.size for p in model.parameters())}
    """, what="SmallCNN()(5 digits)", hint="conv (16, 1, 3, 3) with padding 1, relu, pool, reshape to (N, 256), LinearLayer(256, 10).",
                      replace=LIBRARY_OPS)
    assert tuple(got["out"]) == (5, 10), f"SmallCNN gives scores of shape {got['out']} for 5 digits, not (5, 10). Hint: flatten to (N, 256) before the LinearLayer."
    assert got["n"] == 2730, f"SmallCNN has {got['n']} weights, not 16·9 + 16 + 256·10 + 10 = 2730. Hint: create the filters and bias as tracking tensors in __init__."
