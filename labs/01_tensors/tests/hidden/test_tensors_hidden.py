"""Lab 1 (tensors), hidden tests: other shapes, edge cases, gradients flowing through (inputs per submission)."""
import numpy as np
import pytest


@pytest.mark.exercise("make")
@pytest.mark.points(1)
def test_make_exact_shapes_and_leaves(tensor_from, student):
    weights, bias = tensor_from("result = weights", "weights"), tensor_from("result = bias", "bias")
    inputs = tensor_from("result = inputs", "inputs")
    assert bias.shape == (3,), f"bias has shape {bias.shape}, not (3,). Hint: a flat list [0.1, 0.2, 0.3], not a list in a list."
    assert weights.dtype == np.float64 and bias.dtype == np.float64, (
        f"weights and bias are {weights.dtype} and {bias.dtype}. Hint: tensors that track gradients hold float64.")
    leaves = student.run("result = weights.is_leaf and bias.is_leaf", what="weights.is_leaf and bias.is_leaf")
    assert leaves is True, (
        "weights or bias was computed by an operation. Hint: make them directly with nt.Tensor / nt.tensor, "
        "so they are leaves (the things we learn).")
    assert weights.grad is None and bias.grad is None, "weights or bias already has a gradient. Hint: make fresh tensors; do not call backward in the answer cell."
    assert inputs.shape == (4, 2) and not inputs.requires_grad, f"inputs: shape {inputs.shape}, tracking {inputs.requires_grad}. Hint: a (4, 2) constant."


GRADIENT = """
    batch = nt.tensor(x, requires_grad=True)
    (flatten(batch) * upstream).sum().backward()
    result = batch.grad
"""


@pytest.mark.exercise("shapes")
@pytest.mark.points(1)
def test_shapes_other_sizes_and_gradients(tensor_from, student, rng):
    for shape in [(1, 5, 2), (3, 1, 1), (2, 3, 4, 5), (4, 7), (6, 2, 1, 3)]:
        x = rng.normal(size=shape)
        out = tensor_from("result = flatten(nt.tensor(x, requires_grad=True))", "flatten(batch)", x=x)
        rows = int(np.prod(shape[1:]))
        assert out.shape == (shape[0], rows), (
            f"flatten of a {shape} batch has shape {out.shape}, not {(shape[0], rows)}. Hint: the first size stays; "
            f"every other axis is folded into one (reshape with -1 does it for any number of axes).")
        assert np.array_equal(out.data, x.reshape(shape[0], rows)), f"flatten of a {shape} batch reordered the numbers. Hint: reshape only."
        upstream = rng.normal(size=out.shape)
        grad = student.run(GRADIENT, x=x, upstream=upstream, what=f"backward through flatten of a {shape} batch",
                           hint="build the result with tensor methods only.")
        assert grad is not None and np.allclose(grad.data, upstream.reshape(shape)), (
            f"the gradient that reached a {shape} batch is wrong or missing. Hint: build the result with tensor methods only.")
    for n in [1, 7]:
        v = rng.normal(size=n)
        out = tensor_from("result = to_column(nt.tensor(v, requires_grad=True))", "to_column(v)", v=v)
        assert out.shape == (n, 1), f"to_column of a length-{n} vector has shape {out.shape}, not {(n, 1)}. Hint: use the vector's length (or -1), not a fixed number."


def _random_pair(rng):
    a = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(0, 5)))
    b = [1 if rng.random() < 0.3 else s for s in a]
    if b and rng.random() < 0.25:
        b[rng.integers(len(b))] = int(rng.integers(1, 5))
    b = tuple(b[rng.integers(0, len(b) + 1):])
    if rng.random() < 0.2:
        b = tuple(int(s) for s in rng.integers(1, 4, size=rng.integers(1, 3))) + b
    return (a, b) if rng.random() < 0.5 else (b, a)


@pytest.mark.exercise("broadcast")
@pytest.mark.points(1)
def test_broadcast_random_shapes(check_broadcast, rng):
    pairs = [((), ()), ((), (2, 3)), ((1,), (3, 1, 1)), ((1, 1), (1,))] + [_random_pair(rng) for _ in range(100)]
    check_broadcast(pairs, "Hint: an empty shape () is a single number and broadcasts with anything; pad with 1s on "
                           "the left; a 1 on either side stretches.")


@pytest.mark.exercise("standardize")
@pytest.mark.points(1)
def test_standardize_other_shapes(tensor_from, student, rng):
    for shape in [(2, 1), (7, 4), (4, 4), (3, 5)]:
        raw = rng.normal(rng.normal(size=shape[1]) * 10, rng.uniform(0.5, 4, size=shape[1]), size=shape)
        out = tensor_from("result = standardize(nt.tensor(raw, requires_grad=True))", "standardize(data)", raw=raw)
        assert out.shape == shape, f"standardize of a {shape} data set has shape {out.shape}. Hint: keep the data's shape."
        ok = np.allclose(out.data.mean(axis=0), 0, atol=1e-7) and np.allclose(out.data.std(axis=0), 1, atol=1e-7)
        assert ok, (f"on a {shape} data set the columns do not have mean 0 and standard deviation 1. Hint: work per "
                    f"column (dim=0) and check with a square data set, where rows and columns are easy to mix up.")
        slopes = (out.data[1:] - out.data[:1]) / (raw[1:] - raw[:1])
        assert np.allclose(slopes, slopes[:1]) and (slopes > 0).all(), (
            f"on a {shape} data set a column is not a shifted, scaled copy of the data's column. Hint: subtract "
            f"one number per column, divide by one positive number per column.")
    student.run("""
        from numtorch.testing import gradcheck
        gradcheck(standardize, data)
    """, data=rng.normal(size=(4, 3)), what="the gradient of standardize",
                hint="use only tensor operations, so backward() can follow them.")
