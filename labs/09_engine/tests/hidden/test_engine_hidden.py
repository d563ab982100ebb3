"""Lab 9 (engine), hidden tests: random values and random graphs, checked against NumTorch's engine.

Each exercise is tested with reference versions of the exercises before it (`replace=`), so one bug costs
one exercise.
"""
import math

import numpy as np
import pytest

from labs.testing import close

RULES = {
    "mul": '''
def mul(a, b):
    a, b = as_value(a), as_value(b)
    out = Value(a.data * b.data, (a, b), "*")
    def backward_step():
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad
    out.backward_step = backward_step
    return out
''',
    "tanh": '''
def tanh(a):
    a = as_value(a)
    out = Value(math.tanh(a.data), (a,), "tanh")
    def backward_step():
        a.grad += (1 - out.data ** 2) * out.grad
    out.backward_step = backward_step
    return out
''',
    "power": '''
def power(a, k):
    a = as_value(a)
    out = Value(a.data ** k, (a,), "**")
    def backward_step():
        a.grad += k * a.data ** (k - 1) * out.grad
    out.backward_step = backward_step
    return out
''',
}
TOPO = {"topological_order": '''
def topological_order(root):
    order, seen = [], set()
    def visit(value):
        if value not in seen:
            seen.add(value)
            for parent in value.inputs:
                visit(parent)
            order.append(value)
    visit(root)
    return order
'''}
BACKWARD = {"backward": '''
def backward(root):
    root.grad = 1.0
    for value in reversed(topological_order(root)):
        value.backward_step()
'''}
RULE_HINT = ("Hint: add (+=) the local derivative times out.grad to each input's grad; with `=`, a value used twice "
             "keeps only one contribution.")


@pytest.mark.exercise("rules")
@pytest.mark.points(1)
def test_rules_random_numbers(student, rng):
    for _ in range(5):
        a, b, g = (float(v) for v in rng.uniform(-2, 2, size=3))
        k = float(rng.choice([2.0, 3.0, 0.5, -1.0]))
        a_pos = abs(a) + 0.2
        got = student.run("""
            out = {}
            for name, make, x in [("mul", lambda p, q: mul(p, q), a), ("tanh", lambda p, q: tanh(p), a),
                                  ("power", lambda p, q: power(p, k), a_pos)]:
                p, q = Value(x), Value(b)
                r = make(p, q)
                r.grad = g
                r.backward_step()
                out[name] = [r.data, p.grad, q.grad]
            result = out
        """, a=a, b=b, g=g, k=k, a_pos=a_pos, what="mul, tanh and power on random numbers", hint=RULE_HINT)
        t = math.tanh(a)
        expected = {"mul": [a * b, g * b, g * a], "tanh": [t, g * (1 - t * t), 0.0],
                    "power": [a_pos ** k, g * k * a_pos ** (k - 1), 0.0]}
        for name, (out, da, db) in expected.items():
            o, ga, gb = got[name]
            assert close(o, out, 1e-6), f"{name} gives {o:.6g} for a={a:.4g}, b={b:.4g}, k={k:g}; expected {out:.6g}. Hint: check the forward."
            assert close(ga, da, 1e-6) and close(gb, db, 1e-6), (
                f"{name} with a={a:.4g}, b={b:.4g}, k={k:g} and out.grad={g:.4g} hands back {ga:.6g} and {gb:.6g}; "
                f"expected {da:.6g} and {db:.6g}. Hint: the local derivative times out.grad (not only the derivative).")


@pytest.mark.exercise("rules")
@pytest.mark.points(1)
def test_rules_accumulate(student, rng):
    x = float(rng.uniform(0.5, 2.0))
    got = student.run("""
        p = Value(x)
        square = mul(p, p)
        square.grad = 1.0
        square.backward_step()
        once = p.grad
        q = Value(x)
        t = tanh(q)
        t.grad = 1.0
        t.backward_step()
        t.backward_step()
        result = [once, q.grad]
    """, x=x, what="mul(x, x) and tanh handing back twice", hint=RULE_HINT)
    assert close(got[0], 2 * x, 1e-6), f"mul(x, x) with x = {x:.4g} hands x a grad of {got[0]:.6g}, not 2x = {2 * x:.6g}. {RULE_HINT}"
    assert close(got[1], 2 * (1 - math.tanh(x) ** 2), 1e-6), (
        f"calling tanh's backward_step twice leaves {got[1]:.6g}, not twice one step's share. {RULE_HINT}")


@pytest.mark.exercise("topo")
@pytest.mark.points(2)
def test_topological_order_random_graphs(student, rng):
    for _ in range(6):
        n_leaves, n_ops = 3, int(rng.integers(6, 16))
        from_program = rng.integers(0, 10_000, size=(n_ops, 2)).tolist()
        got = student.run("""
            values = [Value(1.0) for _ in range(n_leaves)]
            for k, (i, j) in enumerate(pairs):
                n = len(values)
                values.append(Value(0.0, (values[i % n], values[j % n]), "*"))
            index = {id(v): k for k, v in enumerate(values)}
            result = [index.get(id(v), -1) for v in topological_order(values[-1])]
        """, n_leaves=n_leaves, pairs=from_program, what="topological_order(root) on a random graph",
                          hint="depth-first search: visit the inputs, then append; skip values already seen.",
                          replace=RULES)
        inputs = {}
        for k, (i, j) in enumerate(from_program):
            n = n_leaves + k
            inputs[n] = {i % n, j % n}
        reach, stack = set(), [n_leaves + n_ops - 1]
        while stack:
            v = stack.pop()
            if v not in reach:
                reach.add(v)
                stack.extend(inputs.get(v, ()))
        assert isinstance(got, list) and -1 not in got, (
            "topological_order listed something that is not a value of the graph. Hint: list the Values themselves.")
        assert len(got) == len(set(got)), (
            f"topological_order lists a value more than once ({len(got)} entries for {len(set(got))} values). Hint: "
            f"remember the values you have visited, and visit each once.")
        assert set(got) == reach, (
            f"topological_order lists {len(got)} values; the root depends on {len(reach)}. Hint: list every value "
            f"the root was computed from, directly or not, and no value it does not depend on (a dead branch).")
        position = {v: k for k, v in enumerate(got)}
        late = [v for v in got if any(position[p] > position[v] for p in inputs.get(v, ()))]
        assert not late, "a value comes before one of its inputs. Hint: append a value after visiting all of its inputs."


@pytest.mark.exercise("backward")
@pytest.mark.points(2)
def test_backward_random_graphs(rng, random_program, check_program):
    for _ in range(8):
        leaves, program = random_program(rng)
        check_program(leaves, program, "seed root.grad = 1.0, then backward_step() of each value in "
                                        "reversed(topological_order(root)), so a reused value's gradient is complete "
                                        "before it is passed on.",
                      replace={**RULES, **TOPO}, unavailable=("numtorch.Tensor.backward",))


@pytest.mark.exercise("zero")
@pytest.mark.points(1)
def test_zero_grad_every_value(student, rng):
    got = student.run("""
        a, b = Value(x), Value(y)
        root = power(add(mul(a, b), a), 2)
        backward(root)
        zero_grad(root)
        result = [v.grad for v in topological_order(root)]
    """, x=float(rng.uniform(-1, 1)), y=float(rng.uniform(-1, 1)), what="zero_grad(root)",
                      hint="set .grad = 0.0 on every value of topological_order(root).",
                      replace={**RULES, **TOPO, **BACKWARD})
    assert all(g == 0 for g in got), f"after zero_grad the graph's grads are {np.round(got, 4).tolist()}. Hint: every value, not only the leaves."


@pytest.mark.exercise("zero")
@pytest.mark.points(2)
def test_train_step_trajectory(student, rng):
    xs = rng.uniform(-1, 1, size=4)
    ys = np.tanh(1.5 * xs + 0.3)
    lr = float(rng.choice([0.05, 0.1, 0.3]))
    w0, b0 = (float(v) for v in rng.uniform(-0.5, 0.5, size=2))
    got = student.run("""
        params = [Value(w0), Value(b0)]
        def loss_fn(params):
            w, b = params
            total = Value(0.0)
            for x, y in zip(xs, ys):
                total = add(total, power(add(tanh(add(mul(w, float(x)), b)), -float(y)), 2))
            return total
        losses = [train_step(params, loss_fn, lr) for _ in range(6)]
        result = {"losses": losses, "w": params[0].data, "b": params[1].data}
    """, xs=xs, ys=ys, lr=lr, w0=w0, b0=b0, what="six train_step calls",
                      hint="each step: loss = loss_fn(params); zero_grad(loss); backward(loss); p.data -= lr * p.grad; "
                           "return the loss before the update.",
                      replace={**RULES, **TOPO, **BACKWARD})
    w, b, losses = w0, b0, []
    for _ in range(6):
        t = np.tanh(w * xs + b)
        losses.append(float(np.sum((t - ys) ** 2)))
        dpre = 2 * (t - ys) * (1 - t ** 2)
        w, b = w - lr * float(np.sum(dpre * xs)), b - lr * float(np.sum(dpre))
    assert np.allclose(got["losses"], losses, atol=1e-6), (
        f"six steps with lr = {lr} give losses {np.round(got['losses'], 5).tolist()}, expected "
        f"{np.round(losses, 5).tolist()}. Hint: zero the gradients before each backward (they accumulate), use lr, "
        f"step against the gradient, and return the loss computed before the update.")
    assert close(got["w"], w, 1e-6) and close(got["b"], b, 1e-6), (
        f"after six steps w, b = {got['w']:.5g}, {got['b']:.5g}; expected {w:.5g}, {b:.5g}. Hint: update every "
        f"parameter with p.data -= lr * p.grad.")
