"""Public tests of the example lab: students run them with labs.check("ex1") etc."""
import numpy as np
import pytest

from labs.testing import call, get


@pytest.mark.exercise("ex1")
@pytest.mark.points(1)
def test_relu_keeps_positive_values(ns):
    got = ns["relu"](np.array([0.5, 2.0]))
    assert np.allclose(got, [0.5, 2.0]), f"relu([0.5, 2.0]) gave {got}; positive values pass through unchanged"


@pytest.mark.exercise("ex1")
@pytest.mark.points(1)
def test_relu_zeroes_negative_values(ns):
    got = ns["relu"](np.array([-3.0, -0.1]))
    assert np.allclose(got, [0.0, 0.0]), f"relu([-3, -0.1]) gave {got}; negative values become 0 (np.maximum?)"


@pytest.mark.exercise("ex2")
@pytest.mark.points(1)
def test_mse_of_equal_arrays_is_zero(ns):
    x = np.array([1.0, 2.0, 3.0])
    got = ns["mse"](x, x)
    assert np.isclose(got, 0.0), f"mse(x, x) gave {got}; the error of a perfect prediction is 0"


@pytest.mark.exercise("ex3")
@pytest.mark.points(1)
def test_sgd_step_goes_against_the_gradient(ns):
    got = call(get(ns, "sgd_step"), np.array([1.0]), np.array([2.0]), 0.5, hint="return w - lr * grad")
    assert np.allclose(got, [0.0]), f"sgd_step(w=1, grad=2, lr=0.5) gave {got}; expected w - lr * grad = 0"
