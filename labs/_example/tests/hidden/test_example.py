"""Hidden tests of the example lab: they run only at grading."""
import numpy as np
import pytest

from labs.testing import call, get


@pytest.mark.exercise("ex1")
@pytest.mark.points(1)
def test_relu_keeps_the_shape(ns):
    got = np.asarray(ns["relu"](np.zeros((2, 3))))
    assert got.shape == (2, 3), f"relu of a (2, 3) array gave shape {got.shape}; work elementwise"


@pytest.mark.exercise("ex2")
@pytest.mark.points(2)
def test_mse_value(ns):
    got = call(get(ns, "mse"), np.array([1.0, 2.0]), np.array([0.0, 4.0]), hint="average the squared differences")
    assert np.isclose(got, 2.5), f"mse([1, 2], [0, 4]) gave {got}, expected 2.5; average the squared differences"


@pytest.mark.exercise("ex3")
@pytest.mark.points(1)
def test_sgd_step_leaves_w_alone(ns):
    w = np.array([1.0, 2.0])
    ns["sgd_step"](w, np.array([1.0, 1.0]), 0.1)
    assert np.allclose(w, [1.0, 2.0]), "sgd_step changed w in place; return a new array instead"
