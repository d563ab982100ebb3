"""Public tests of the example lab: students run them with labs.check("ex1") etc."""
import numpy as np
import pytest

from labs.testing import close, expect


@pytest.mark.exercise("ex1")
@pytest.mark.points(1)
def test_relu_keeps_positive_values(student, rng):
    x = rng.uniform(0.1, 3.0, size=4)
    got = student.call("relu", x, hint="positive values pass through unchanged")
    expect(got, x, f"relu({x.round(3).tolist()})", hint="positive values pass through unchanged")


@pytest.mark.exercise("ex1")
@pytest.mark.points(1)
def test_relu_zeroes_negative_values(student, rng):
    x = -rng.uniform(0.1, 3.0, size=4)
    got = student.call("relu", x)
    expect(got, np.zeros(4), f"relu({x.round(3).tolist()})", hint="negative values become 0 (np.maximum?)")


@pytest.mark.exercise("ex2")
@pytest.mark.points(1)
def test_mse_of_equal_arrays_is_zero(student, rng):
    x = rng.normal(size=3)
    got = student.call("mse", x, x, what="mse(x, x)")
    assert close(got, 0.0), f"mse(x, x) gave {got}. Hint: the error of a perfect prediction is 0"


@pytest.mark.exercise("ex3")
@pytest.mark.points(1)
def test_sgd_step_goes_against_the_gradient(student):
    got = student.call("sgd_step", np.array([1.0]), np.array([2.0]), 0.5, hint="return w - lr * grad")
    expect(got, np.array([0.0]), "sgd_step(w=1, grad=2, lr=0.5)", hint="expected w - lr * grad = 0")
