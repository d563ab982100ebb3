"""Lab 9 (engine), public tests: the check cells run these; hidden tests try random graphs at grading."""
import numpy as np
import pytest

from labs.testing import close

HAND_BACK = """
a, b = Value(a_data), Value(b_data)
out = OP
out.grad = g
out.backward_step()
result = {"out": out.data, "a": a.grad, "b": b.grad, "inputs": len(out.inputs)}
"""


@pytest.mark.exercise("rules")
@pytest.mark.points(1)
def test_rules_on_numbers(student):
    for op, a, b, out, da, db in [("mul(a, b)", 3.0, -2.0, -6.0, -2.0, 3.0),
                                  ("tanh(a)", 0.5, 0.0, np.tanh(0.5), 1 - np.tanh(0.5) ** 2, 0.0),
                                  ("power(a, 3)", 2.0, 0.0, 8.0, 12.0, 0.0)]:
        got = student.run(HAND_BACK.replace("OP", op), a_data=a, b_data=b, g=1.0, what=op,
                          hint="compute out, then set out.backward_step to a function that adds the local "
                               "derivative times out.grad to each input's grad.")
        assert close(got["out"], out), f"{op} with a={a}, b={b} gives {got['out']}, not {out:.4g}. Hint: check the forward."
        assert close(got["a"], da) and close(got["b"], db), (
            f"after {op} with a={a}, b={b} hands back out.grad = 1, a.grad = {got['a']:.4g} and b.grad = {got['b']:.4g}; "
            f"expected {da:.4g} and {db:.4g}. Hint: the local derivative of {op} times out.grad, added to each input's grad.")


# The lab's graph u = x y, v = u + x, dead = u 100, L = v^2, built without your local rules: each value gets its
# backward_step here, so the checks of exercises 2-4 do not depend on exercise 1.
GRAPH = """
x, y = Value(3.0), Value(-2.0)
u, dead = Value(-6.0, (x, y), "*"), Value(-600.0, (x,), "*100")
v = Value(-3.0, (u, x), "+")
L = Value(9.0, (v,), "**2")
def hand_back(out, pairs):
    def backward_step():
        for value, local in pairs:
            value.grad += local() * out.grad
    out.backward_step = backward_step
hand_back(u, [(x, lambda: y.data), (y, lambda: x.data)])
hand_back(v, [(u, lambda: 1.0), (x, lambda: 1.0)])
hand_back(dead, [(u, lambda: 100.0)])
hand_back(L, [(v, lambda: 2 * v.data)])
L.order_for_test = [x, y, u, v, L]
"""
# Stand-ins for the exercises before the one a test checks: the order of the lab's graph as written above
# (not a topological sort), and backward as the exercise's text spells it out.
ORDER = {"topological_order": "def topological_order(root):\n    return list(root.order_for_test)\n"}
BACKWARD = {"backward": "def backward(root):\n    root.grad = 1.0\n    for value in reversed(topological_order(root)):\n"
                        "        value.backward_step()\n"}


@pytest.mark.exercise("topo")
@pytest.mark.points(1)
def test_order_of_the_lab_graph(student):
    got = student.run(GRAPH + """
names = {id(x): "x", id(y): "y", id(u): "u", id(v): "v", id(dead): "dead", id(L): "L"}
result = [names.get(id(value), "a constant") for value in topological_order(L)]
""", what="topological_order(L)", hint="depth-first: visit a value's inputs, then append the value.")
    assert isinstance(got, list), f"topological_order returned a {type(got).__name__}. Hint: return a list."
    assert sorted(got) == ["L", "u", "v", "x", "y"], (
        f"topological_order(L) lists {got}; expected x, y, u, v and L, each once. Hint: remember the values you "
        f"have seen (x is used twice), and leave out `dead`, which L does not depend on.")
    assert got.index("u") > max(got.index("x"), got.index("y")) and got.index("L") == 4 and got.index("v") == 3, (
        f"topological_order(L) lists {got}: a value comes before one of its inputs. Hint: append a value after "
        f"visiting its inputs, not before.")


@pytest.mark.exercise("backward")
@pytest.mark.points(1)
def test_backward_of_the_lab_graph(student):
    got = student.run(GRAPH + """
backward(L)
result = {"x": x.grad, "y": y.grad, "u": u.grad, "v": v.grad, "L": L.grad, "dead": dead.grad}
""", what="backward(L)", hint="seed root.grad = 1.0, then call backward_step() in reversed topological order.",
                      unavailable=("numtorch.Tensor.backward",), replace=ORDER)
    expected = {"L": 1.0, "v": -6.0, "u": -6.0, "x": 6.0, "y": -18.0, "dead": 0.0}
    for name, value in expected.items():
        assert close(got[name], value), (
            f"after backward(L), {name}.grad is {got[name]:.4g}, not {value:g}. Hint: seed L.grad = 1.0 and walk the "
            f"topological order backwards, so that x's gradient is complete (both uses) before it is passed on.")


@pytest.mark.exercise("zero")
@pytest.mark.points(1)
def test_zero_and_one_step(student):
    got = student.run(GRAPH + """
for value in L.order_for_test + [dead]:
    value.grad = 5.0
zero_grad(L)
zeroed = [value.grad for value in L.order_for_test]
def square(params):
    p = params[0]
    out = Value(p.data ** 2, (p,), "**2")
    out.backward_step = lambda: setattr(p, "grad", p.grad + 2 * p.data * out.grad)
    out.order_for_test = [p, out]
    return out
p = Value(1.0)
p.grad = 7.0
before = train_step([p], square, 0.1)
result = {"zeroed": zeroed, "before": before, "p": p.data}
""", what="zero_grad(L), then train_step([p], p², lr=0.1)", replace={**ORDER, **BACKWARD},
                      hint="zero every value of the graph; train_step: loss, zero_grad, backward, p.data -= lr * p.grad.")
    assert all(g == 0 for g in got["zeroed"]), f"after zero_grad(loss) the grads are {got['zeroed']}. Hint: every value, not only the leaves."
    assert close(got["before"], 1.0), f"train_step returned {got['before']}, not the loss before the step (1.0). Hint: return loss.data."
    assert close(got["p"], 0.8), f"after one step of p² from p = 1 with lr 0.1, p is {got['p']:.4g}, not 0.8. Hint: p.data -= lr * p.grad."
