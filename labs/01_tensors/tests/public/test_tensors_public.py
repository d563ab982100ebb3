"""Lab 1 (tensors), public tests: the check cells run these; hidden tests try more shapes at grading."""
import numpy as np
import pytest


@pytest.mark.exercise("make")
@pytest.mark.points(1)
def test_weights(tensor_from):
    weights = tensor_from("result = weights", "weights")
    assert weights.requires_grad, "weights does not track gradients. Hint: nt.Tensor(data, {\"autograd\": True})."
    assert weights.shape == (2, 3), f"weights has shape {weights.shape}, not (2, 3). Hint: two rows of three numbers."
    assert np.allclose(weights.data, [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]), (
        f"weights holds {weights.data.tolist()}. Hint: copy the numbers from the exercise, row by row.")


@pytest.mark.exercise("make")
@pytest.mark.points(1)
def test_bias_and_inputs(tensor_from):
    bias = tensor_from("result = bias", "bias")
    assert bias.requires_grad, "bias does not track gradients. Hint: nt.tensor(data, requires_grad=True)."
    assert np.allclose(bias.data, [0.1, 0.2, 0.3]), f"bias holds {bias.data.tolist()}. Hint: [0.1, 0.2, 0.3]."
    inputs = tensor_from("result = inputs", "inputs")
    assert not inputs.requires_grad, "inputs tracks gradients but is a constant. Hint: leave autograd out (it is False by default)."
    assert inputs.shape == (4, 2) and np.array_equal(inputs.data, np.arange(8).reshape(4, 2)), (
        f"inputs holds {inputs.data.tolist()}. Hint: nt.Tensor(np.arange(8).reshape(4, 2)).")


@pytest.mark.exercise("shapes")
@pytest.mark.points(1)
def test_flatten(tensor_from, rng):
    x = rng.normal(size=(2, 3, 4))
    out = tensor_from("result = flatten(nt.tensor(x, requires_grad=True))", "flatten(batch)", x=x)
    assert out.shape == (2, 12), f"flatten of a (2, 3, 4) batch has shape {out.shape}, not (2, 12). Hint: keep the first size, multiply the others (or use -1)."
    assert np.array_equal(out.data, x.reshape(2, 12)), "flatten changed the order of the numbers. Hint: reshape keeps the order; do not transpose."
    assert out.requires_grad, "the result of flatten does not track gradients. Hint: use batch.reshape(...), a tensor method, not np.reshape."


@pytest.mark.exercise("shapes")
@pytest.mark.points(1)
def test_to_column(tensor_from, rng):
    v = rng.normal(size=5)
    out = tensor_from("result = to_column(nt.tensor(v, requires_grad=True))", "to_column(v)", v=v)
    assert out.shape == (5, 1), f"to_column of a length-5 vector has shape {out.shape}, not (5, 1). Hint: reshape to (n, 1); -1 can stand for n."
    assert np.array_equal(out.data[:, 0], v), "to_column changed the numbers. Hint: only the shape should change."
    assert out.requires_grad, "the result of to_column does not track gradients. Hint: use the tensor's reshape method."


@pytest.mark.exercise("broadcast")
@pytest.mark.points(2)
def test_broadcast_examples(check_broadcast):
    check_broadcast([((4, 3), (3,)), ((4, 1), (3,)), ((2, 1, 5), (3, 1)), ((4, 3), (4,)), ((5,), (5,))],
                    "Hint: pad the shorter shape with 1s on the left, then compare position by position; return a "
                    "tuple, or None when two sizes differ and neither is 1.")


@pytest.mark.exercise("standardize")
@pytest.mark.points(2)
def test_standardize(tensor_from, rng):
    data = rng.normal(5.0, 3.0, size=(6, 3))
    out = tensor_from("result = standardize(nt.tensor(data, requires_grad=True))", "standardize(data)", data=data)
    assert out.shape == (6, 3), f"standardize of a (6, 3) data set has shape {out.shape}. Hint: the result has the shape of the data."
    assert np.allclose(out.data.mean(axis=0), 0, atol=1e-7), (
        f"column means are {out.data.mean(axis=0).round(4).tolist()}, not 0. Hint: subtract data.mean(dim=0), the mean of each column (dim=0 runs down the rows).")
    assert np.allclose(out.data.std(axis=0), 1, atol=1e-7), (
        f"column standard deviations are {out.data.std(axis=0).round(4).tolist()}, not 1. Hint: divide by sqrt(mean((data - mean)**2)) per column, i.e. with mean(dim=0).")
    assert out.requires_grad, "the result does not track gradients. Hint: use tensor operations (mean, -, **, /) on data, not NumPy functions on data.data."
