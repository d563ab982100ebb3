"""Hidden tests of the example lab: they run only at grading, on inputs drawn for each submission."""
import numpy as np
import pytest

from labs.testing import close, expect


@pytest.mark.exercise("ex1")
@pytest.mark.points(1)
def test_relu_keeps_the_shape(student, rng):
    x = rng.normal(size=(2, 3))
    got = student.call("relu", x, what="relu of a (2, 3) array")
    expect(got, np.maximum(x, 0), "relu of a (2, 3) array", hint="work elementwise and keep the shape")


@pytest.mark.exercise("ex2")
@pytest.mark.points(2)
def test_mse_value(student, rng):
    pred, target = rng.normal(size=5), rng.normal(size=5)
    got = student.call("mse", pred, target, what="mse(pred, target)", hint="average the squared differences")
    assert close(got, np.mean((pred - target) ** 2)), (
        f"mse(pred, target) gave {got}, expected {np.mean((pred - target) ** 2):.4f}. Hint: average the squared differences")


@pytest.mark.exercise("ex3")
@pytest.mark.points(1)
def test_sgd_step_leaves_w_alone(student, rng):
    w, grad = rng.normal(size=2), rng.normal(size=2)
    got = student.run("""
        before = w.copy()
        sgd_step(w, grad, 0.1)
        result = w
    """, w=w, grad=grad, what="sgd_step(w, grad, 0.1)")
    expect(got, w, "w after sgd_step(w, grad, 0.1)", hint="sgd_step changed w in place; return a new array instead")
