"""Lab 2 (autograd), public tests: the check cells run these; hidden tests try other numbers at grading."""
import numpy as np
import pytest

from labs.testing import call, close, get
import numtorch as nt
from numtorch.testing import numerical_grad

HINTS = {
    "v": "Hint: L = v·v, so dL/dv = 2v.",
    "u": "Hint: v = u + x moves one for one with u, so dL/du = dL/dv.",
    "y": "Hint: y reaches L only through u = x·y, and du/dy = x: dL/dy = dL/du · x.",
    "x": "Hint: x is used twice. Add the gradient through u (dL/du · y) and the one straight into v (dL/dv · 1).",
    "L": "Hint: the root's own gradient is dL/dL = 1.",
    "dead": "Hint: the dead branch does not lead to L, so backward never visits it: its box reads 'grad —', i.e. None.",
}


def _neuron_grads(w, b, x, y):
    """(dL/dw, dL/db) of L = (w x + b - y)^2, measured by finite differences."""
    return [float(g) for g in numerical_grad(lambda w, b: (w * x + b - y) ** 2, w, b)]


@pytest.mark.exercise("chain_rule")
@pytest.mark.points(2)
def test_by_hand(ns):
    by_hand = get(ns, "by_hand")
    for w, b, x, y in [(2.0, 1.0, 3.0, 4.0), (1.5, -0.5, -2.0, 1.0)]:
        got = call(by_hand, w, b, x, y)
        assert isinstance(got, (tuple, list)) and len(got) == 2, (
            f"by_hand{(w, b, x, y)} returned {got!r}. Hint: return two numbers: `return dL_dw, dL_db`.")
        dw, db = _neuron_grads(w, b, x, y)
        assert close(got[1], db), (
            f"by_hand{(w, b, x, y)}: dL/db is {got[1]}, expected {db:.4g}. Hint: dL/db = dL/du · du/db with "
            f"u = w·x + b − y; dL/du = 2u and du/db = 1.")
        assert close(got[0], dw), (
            f"by_hand{(w, b, x, y)}: dL/dw is {got[0]}, expected {dw:.4g}. Hint: dL/dw = dL/du · du/dw, and "
            f"du/dw = x.")


@pytest.mark.exercise("reuse")
@pytest.mark.points(2)
def test_predict_grads(ns, graph_grads):
    predict_grads = get(ns, "predict_grads")
    got = call(predict_grads, 3.0, -2.0)
    assert isinstance(got, dict), f"predict_grads returned a {type(got).__name__}. Hint: return a dict like {{'x': ..., 'y': ..., 'u': ..., 'v': ...}}."
    expected = graph_grads(3.0, -2.0)
    for name in ["v", "u", "y", "x"]:
        assert name in got, f"predict_grads(3.0, -2.0) has no key {name!r}. Hint: the dict needs the keys 'x', 'y', 'u', 'v'."
        assert close(got[name], expected[name]), (
            f"predict_grads(3.0, -2.0)[{name!r}] is {got[name]}, but backward() gives {expected[name]}. {HINTS[name]}")


@pytest.mark.exercise("read_graph")
@pytest.mark.points(1)
def test_read_off_x_y_dead(ns, graph_grads):
    read_off = get(ns, "read_off")
    assert isinstance(read_off, dict), f"read_off is a {type(read_off).__name__}. Hint: a dict: {{'x': ..., 'dead': ...}}."
    expected = graph_grads(3.0, -2.0)
    for name in ["x", "y", "dead"]:
        assert name in read_off, f"read_off has no key {name!r}. Hint: one key per box: 'x', 'y', 'u', 'v', 'L', 'dead'."
        if expected[name] is None:
            assert read_off[name] is None, f"read_off[{name!r}] is {read_off[name]!r}. {HINTS[name]}"
        else:
            assert close(read_off[name], expected[name]), (
                f"read_off[{name!r}] is {read_off[name]!r}, but its box shows {expected[name]}. {HINTS[name]}")


def _descent_expected(w0, target, lr, steps):
    """Where gradient descent on sum((w - target)^2) lands: each step shrinks w - target by (1 - 2 lr)."""
    return target + (w0 - target) * (1 - 2 * lr) ** steps


@pytest.mark.exercise("descend")
@pytest.mark.points(2)
def test_descend_scalar(ns):
    descend = get(ns, "descend")
    w = nt.Tensor(0.0, autograd=True)
    out = call(descend, w, lambda w: (w - 3) ** 2, 0.1, 5)
    assert out is w, "descend did not return the tensor it was given. Hint: update w.data in place and `return w`."
    expected = _descent_expected(0.0, 3.0, 0.1, 5)
    if w.grad is not None:
        cause = ("w.grad is still set when descend returns: clear it after each step with w.zero_grad(), otherwise "
                 "each backward() adds to the old gradient")
    else:
        cause = "move w against its gradient, by lr times the gradient, once per step, exactly `steps` times"
    assert np.isclose(w.item(), expected), (
        f"after 5 steps of lr 0.1 on (w - 3)² from 0, w is {w.item():.6g}, expected {expected:.6g}. Hint: {cause}.")
