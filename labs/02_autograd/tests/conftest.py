"""Shared by lab 2's public and hidden tests (shipped with the public ones): the checks, with the judge's own
gradients (from backward() on the judge's side) as the reference."""
import numpy as np
import pytest

import numtorch as nt
from labs.testing import close

# While a "by hand" answer runs, the engine and finite differences (the notebook's slope too) raise.
BY_HAND = {
    "unavailable": ("numtorch.Tensor.backward", "numtorch.testing.numerical_grad"),
    "replace": {"slope": "def slope(f, x, eps=1e-6):\n"
                         "    raise RuntimeError('slope is off-limits in this exercise: use the chain rule')\n"},
}
HINTS = {
    "v": "Hint: L = v·v, so dL/dv = 2v, with v = x·y + x computed from the x and y you are given.",
    "u": "Hint: v = u + x moves one for one with u, so dL/du = dL/dv.",
    "y": "Hint: y reaches L only through u = x·y, and du/dy = x: dL/dy = dL/du · x.",
    "x": "Hint: x is used twice. Add the gradient through u (dL/du · y) and the one straight into v (dL/dv · 1).",
    "L": "Hint: the root's own gradient is dL/dL = 1.",
    "dead": "Hint: the dead branch does not lead to L, so backward never visits it: its box reads 'grad —', i.e. None.",
}
NEURON_HINT = "name u = w·x + b − y; then dL/dw = dL/du · du/dw and dL/db = dL/du · du/db, worked out on paper."


def exact(value, expected):
    """value is a number equal to expected up to float rounding (a measured slope is not)."""
    return isinstance(value, (int, float)) and bool(np.isclose(value, expected, rtol=1e-9, atol=1e-12))


def neuron_grads(w, b, x, y):
    """(dL/dw, dL/db) of L = (w x + b - y)^2, from backward() on the judge's side."""
    w, b = nt.Tensor(w, autograd=True), nt.Tensor(b, autograd=True)
    ((w * x + b - y) ** 2).backward()
    return w.grad.item(), b.grad.item()


def graph_grads(x, y):
    """The grads backward() gives in the graph u = x y, v = u + x, dead = u 100, L = v v."""
    x, y = nt.Tensor(float(x), autograd=True), nt.Tensor(float(y), autograd=True)
    u = x * y
    v = u + x
    dead = u * 100
    L = v * v
    L.backward()
    return {name: None if t.grad is None else t.grad.item() for name, t in
            {"x": x, "y": y, "u": u, "v": v, "L": L, "dead": dead}.items()}


@pytest.fixture
def check_by_hand(student):
    """check_by_hand(cases): by_hand(w, b, x, y) gives the exact gradients for every case, without backward()."""

    def check(cases):
        for w, b, x, y in cases:
            got = student.call("by_hand", w, b, x, y, hint=NEURON_HINT, **BY_HAND)
            assert isinstance(got, (tuple, list)) and len(got) == 2, (
                f"by_hand{(w, b, x, y)} returned {got!r}. Hint: return two numbers: `return dL_dw, dL_db`.")
            dw, db = neuron_grads(w, b, x, y)
            assert exact(got[1], db), (
                f"by_hand{(w, b, x, y)}: dL/db is {got[1]!r}, expected {db:.6g}. Hint: dL/db = dL/du · du/db with "
                f"dL/du = 2u and du/db = 1; the second number you return is dL/db.")
            assert exact(got[0], dw), (
                f"by_hand{(w, b, x, y)}: dL/dw is {got[0]!r}, expected {dw:.6g}. Hint: dL/dw = dL/du · du/dw, and "
                f"du/dw = x (an exact formula: a measured slope is not precise enough for large numbers).")

    return check


@pytest.fixture
def check_predictions(student):
    """check_predictions(cases): predict_grads(x, y) agrees with backward() for every (x, y), without backward()."""

    def check(cases):
        for x, y in cases:
            got = student.call("predict_grads", x, y, hint="compute u and v from x and y, then the four gradients.",
                               **BY_HAND)
            assert isinstance(got, dict), (
                f"predict_grads returned a {type(got).__name__}. Hint: return a dict like {{'x': ..., 'y': ..., "
                f"'u': ..., 'v': ...}}.")
            expected = graph_grads(x, y)
            for name in ["v", "u", "y", "x"]:
                assert name in got, (f"predict_grads({x:.4g}, {y:.4g}) has no key {name!r}. Hint: the dict needs the "
                                     f"keys 'x', 'y', 'u', 'v'.")
                assert exact(got[name], expected[name]), (
                    f"predict_grads({x:.4g}, {y:.4g})[{name!r}] is {got[name]!r}, but backward() gives "
                    f"{expected[name]:.6g}. {HINTS[name]}")

    return check


@pytest.fixture
def check_read_off(student):
    """check_read_off(names): the boxes `names` of read_off hold the grads the picture shows."""

    def check(names):
        read_off = student.run("result = read_off", what="read_off", hint="run the cell that defines read_off.")
        assert isinstance(read_off, dict), (
            f"read_off is a {type(read_off).__name__}. Hint: a dict: {{'x': ..., 'dead': ...}}.")
        expected = graph_grads(3.0, -2.0)
        for name in names:
            assert name in read_off, (
                f"read_off has no key {name!r}. Hint: one key per box: 'x', 'y', 'u', 'v', 'L', 'dead'.")
            value = read_off[name]
            if expected[name] is None:
                assert value is None, f"read_off[{name!r}] is {value!r}. {HINTS[name]}"
            else:
                assert value is not None and close(value, expected[name]), (
                    f"read_off[{name!r}] is {value!r}, but its box shows {expected[name]:g}. {HINTS[name]}")

    return check
