"""Lab 2 (autograd), hidden tests: other numbers, zeros, vectors, zero steps."""
import numpy as np
import pytest

from labs.testing import call, close, get
import numtorch as nt
from numtorch.testing import numerical_grad

HINTS = {
    "v": "Hint: L = v·v, so dL/dv = 2v, with v computed from the x and y you are given.",
    "u": "Hint: v = u + x moves one for one with u, so dL/du = dL/dv.",
    "y": "Hint: dL/dy = dL/du · x; compute it from the arguments, not from the numbers 3 and -2.",
    "x": "Hint: x is used twice. Add the gradient through u (dL/du · y) and the one straight into v (dL/dv · 1).",
    "L": "Hint: the root's own gradient is dL/dL = 1.",
}


@pytest.mark.exercise("chain_rule")
@pytest.mark.points(1)
def test_by_hand_many_points(ns):
    by_hand = get(ns, "by_hand")
    rng = np.random.default_rng(21)
    cases = [(1.0, 2.0, 0.0, 5.0), (2.0, 1.0, 1.5, 4.0)] + [tuple(rng.normal(0, 2, size=4)) for _ in range(20)]
    for w, b, x, y in cases:
        got = call(by_hand, float(w), float(b), float(x), float(y))
        dw, db = (float(g) for g in numerical_grad(lambda w, b: (w * x + b - y) ** 2, w, b))
        ok = isinstance(got, (tuple, list)) and len(got) == 2 and close(got[0], dw) and close(got[1], db)
        assert ok, (f"by_hand{(w, b, x, y)} returned {got!r}, expected ({dw:.4g}, {db:.4g}). Hint: both are 2u times "
                    f"du/dw = x or du/db = 1, with u = w·x + b − y computed from the arguments.")


@pytest.mark.exercise("reuse")
@pytest.mark.points(1)
def test_predict_grads_other_values(ns, graph_grads):
    predict_grads = get(ns, "predict_grads")
    rng = np.random.default_rng(22)
    cases = [(0.0, 4.0), (2.0, 0.0), (-1.0, -1.0)] + [tuple(rng.normal(0, 3, size=2)) for _ in range(15)]
    for x, y in cases:
        got = call(predict_grads, float(x), float(y))
        assert isinstance(got, dict), f"predict_grads returned a {type(got).__name__}. Hint: return a dict."
        expected = graph_grads(float(x), float(y))
        for name in ["v", "u", "y", "x"]:
            assert close(got.get(name), expected[name]), (
                f"predict_grads({x:.3g}, {y:.3g})[{name!r}] is {got.get(name)}, but backward() gives "
                f"{expected[name]:.4g}. {HINTS[name]}")


@pytest.mark.exercise("read_graph")
@pytest.mark.points(1)
def test_read_off_u_v_L(ns, graph_grads):
    read_off = get(ns, "read_off")
    assert isinstance(read_off, dict), f"read_off is a {type(read_off).__name__}. Hint: a dict with one key per box."
    expected = graph_grads(3.0, -2.0)
    for name in ["u", "v", "L"]:
        value = read_off.get(name)
        assert close(value, expected[name]), (
            f"read_off[{name!r}] is {value!r}, but its box shows {expected[name]}. {HINTS[name]}")


@pytest.mark.exercise("descend")
@pytest.mark.points(1)
def test_descend_vector_and_zero_steps(ns):
    descend = get(ns, "descend")
    rng = np.random.default_rng(23)
    target, start = rng.normal(size=4), rng.normal(size=4)
    for lr, steps in [(0.05, 7), (0.3, 3), (0.2, 0)]:
        w = nt.tensor(start, requires_grad=True)
        out = call(descend, w, lambda w: ((w - target) ** 2).sum(), lr, steps)
        assert out is w, "descend did not return the tensor it was given. Hint: update w.data in place and `return w`."
        expected = target + (start - target) * (1 - 2 * lr) ** steps
        assert np.allclose(w.data, expected), (
            f"with a vector w, lr={lr}, steps={steps}: w is {np.round(w.data, 4).tolist()}, expected "
            f"{np.round(expected, 4).tolist()}. Hint: the same loop works for any shape; run exactly `steps` steps "
            f"(none when steps is 0) and clear the gradient after each one.")
        assert w.grad is None or steps == 0, "w.grad is still set after descend. Hint: call w.zero_grad() after each step."
