"""Shared by lab 4's public and hidden tests (shipped with the public ones)."""
import numpy as np
import pytest

import numtorch as nt
from labs.testing import TensorData, close

# The snippet that runs the student's train_step `steps` times on a LinearLayer with the judge's parameters.
TRAIN_LINEAR = """
layer = nt.layers.LinearLayer(*np.shape(w))
layer.weight.data, layer.bias.data = np.array(w), np.array(b)
optimizer = nt.optimizers.SGDOptimizer(layer.get_params(), lr=lr)
losses = [train_step(layer, nt.layers.MSELoss(), optimizer, nt.Tensor(x), nt.Tensor(y)) for _ in range(steps)]
result = {"losses": losses, "floats": all(isinstance(v, float) for v in losses), "w": layer.weight.data,
          "b": layer.bias.data}
"""
STEP_HINT = ("forward with model(data), the loss with criterion(prediction, target), loss.backward(), then "
             "optimizer.step() (which clears the gradients); return loss.item(), the loss before the update.")
CE_OFF_LIMITS = ("numtorch.Tensor.cross_entropy", "numtorch.operations.CrossEntropy.forward",
                 "numtorch.layers.CrossEntropyLoss.forward")
CE_HINT = ("take log_softmax over the classes (dim=1), pick each row's entry at its label with two index arrays, "
           "average, and negate.")
UNSTABLE = "softmax(...).log() rounds tiny probabilities to 0 (log 0 = -inf); logits.log_softmax(dim=1) stays finite. "
RUN_CE = """
logits = nt.tensor(z, requires_grad=True)
loss = cross_entropy(logits, labels)
loss.backward()
result = {"loss": loss, "grad": None if logits.grad is None else logits.grad.data}
"""
RUN_ACCURACY = """
value = accuracy(nt.Tensor(z), labels)
result = {"value": value, "float": isinstance(value, float)}
"""


def mse_descent(w, b, x, y, lr, steps):
    """(losses, w, b) of `steps` steps of gradient descent on mean((x w + b - y)^2), worked out with NumPy."""
    losses = []
    for _ in range(steps):
        error = x @ w + b - y
        losses.append(float(np.mean(error ** 2)))
        grad = 2 * error / error.size
        w, b = w - lr * x.T @ grad, b - lr * grad.sum(axis=0)
    return losses, w, b


@pytest.fixture
def check_train_linear(student, rng):
    """check_train_linear(steps): the student's train_step, `steps` times with SGD and MSELoss on a LinearLayer,
    returns the losses before each update and moves the parameters as gradient descent does."""

    def check(steps):
        n_in = int(rng.integers(2, 5))
        w, b = rng.normal(size=(n_in, 1)), rng.normal(size=1)
        x, y, lr = rng.normal(size=(6, n_in)), rng.normal(size=(6, 1)), float(rng.uniform(0.02, 0.2))
        got = student.run(TRAIN_LINEAR, w=w, b=b, x=x, y=y, lr=lr, steps=steps, hint=STEP_HINT,
                          what=f"train_step, {steps} times on a LinearLayer({n_in}, 1) with SGD lr={lr:.3g}")
        losses, w_end, b_end = mse_descent(w, b, x, y, lr, steps)
        assert got["floats"], f"train_step should return a Python float. Hint: return loss.item(). {STEP_HINT}"
        for k, (mine, true) in enumerate(zip(got["losses"], losses)):
            assert np.isclose(mine, true, rtol=1e-6), (
                f"step {k + 1} of {steps}: train_step returned the loss {mine:.6g}, but the loss before that update is "
                f"{true:.6g}. Hint: {'return the loss computed before optimizer.step(). ' if k == 0 else ''}Gradients "
                f"of leaves add up across backward() calls: optimizer.step() clears them, so call backward exactly "
                f"once per step and use the optimizer you are given (its lr). {STEP_HINT}")
        assert np.allclose(got["w"], w_end, rtol=1e-6) and np.allclose(got["b"], b_end, rtol=1e-6), (
            f"after {steps} steps the parameters are not where {steps} steps of gradient descent with lr={lr:.3g} "
            f"take them. Hint: {STEP_HINT}")

    return check


@pytest.fixture
def check_cross_entropy(student):
    """check_cross_entropy(logits, labels): the student's cross_entropy gives the library's loss and gradient,
    with the library's cross-entropy off-limits."""

    def check(logits, labels):
        what = f"cross_entropy(logits of shape {logits.shape}, labels)"
        got = student.run(RUN_CE, z=logits, labels=labels, unavailable=CE_OFF_LIMITS, what=what, hint=CE_HINT)
        z = nt.tensor(logits, requires_grad=True)
        loss = nt.layers.CrossEntropyLoss()(z, labels)
        loss.backward()
        assert isinstance(got["loss"], TensorData) and got["loss"].data.size == 1, (
            f"{what} should return a scalar Tensor. Hint: keep the computation in Tensors and end with .mean().")
        value = got["loss"].data.item()
        unstable = "" if np.isfinite(value) else UNSTABLE
        assert np.isclose(value, loss.item(), rtol=1e-6), (
            f"{what} gave {value:.6g}, expected {loss.item():.6g}. Hint: {unstable}{CE_HINT}")
        assert got["grad"] is not None and np.allclose(got["grad"], z.grad.data, rtol=1e-6, atol=1e-9), (
            f"{what}: the gradient reaching the logits differs from the library's. Hint: build the loss from Tensor "
            f"operations on logits (not on logits.data), so backward() reaches them. {CE_HINT}")

    return check


@pytest.fixture
def check_accuracy(student):
    """check_accuracy(logits, labels, hint): the student's accuracy gives the fraction of rows whose argmax is the
    label, as a float."""

    def check(logits, labels, hint):
        what = f"accuracy(logits of shape {logits.shape}, labels as {type(labels).__name__})"
        got = student.run(RUN_ACCURACY, z=logits, labels=labels, what=what,
                          hint="compare each row's argmax with its label and average the matches.")
        expected = float(np.mean(logits.argmax(axis=1) == np.asarray(labels)))
        assert got["float"] and close(got["value"], expected, atol=1e-9), (
            f"{what} gave {got['value']!r}, expected the float {expected:.4f}. Hint: {hint}")

    return check
