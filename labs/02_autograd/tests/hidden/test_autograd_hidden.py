"""Lab 2 (autograd), hidden tests: numbers drawn per submission (large ones too), the rest of the graph, and
descent trajectories on losses that are not quadratic."""
import numpy as np
import pytest

import numtorch as nt


@pytest.mark.exercise("chain_rule")
@pytest.mark.points(2)
def test_by_hand_many_points(check_by_hand, rng):
    cases = [(1.0, 2.0, 0.0, 5.0), (2.0, 1.0, 1.5, 4.0)] + [tuple(rng.normal(0, 2, size=4)) for _ in range(10)]
    cases += [tuple(rng.normal(0, 1000, size=4)) for _ in range(4)]  # a measured slope is too coarse here
    check_by_hand([tuple(round(float(v), 6) for v in case) for case in cases])


@pytest.mark.exercise("reuse")
@pytest.mark.points(2)
def test_predict_grads_other_values(check_predictions, rng):
    cases = [(0.0, 4.0), (2.0, 0.0), (-1.0, -1.0)] + [tuple(rng.normal(0, 3, size=2)) for _ in range(10)]
    check_predictions([tuple(round(float(v), 6) for v in case) for case in cases])


@pytest.mark.exercise("read_graph")
@pytest.mark.points(1)
def test_read_off_u_v_L(check_read_off):
    check_read_off(["u", "v", "L"])


def reference_descent(start, target, power, lr, steps):
    """Where `steps` steps of gradient descent on sum(((w - target)^2)^(power/2)) land, from backward() here."""
    w = nt.tensor(start, requires_grad=True)
    for _ in range(steps):
        (((w - target) ** 2) ** (power / 2)).sum().backward()
        w.data -= lr * w.grad.data
        w.zero_grad()
    return w.data


@pytest.mark.exercise("descend")
@pytest.mark.points(2)
def test_descend_trajectories(student, rng):
    target, start = rng.normal(size=4), rng.normal(size=4)
    for power, lr, steps in [(2, float(rng.uniform(0.02, 0.2)), int(rng.integers(4, 9))),
                             (4, float(rng.uniform(0.02, 0.1)), int(rng.integers(3, 7))), (2, 0.2, 0)]:
        got = student.run("""
            w = nt.tensor(start, requires_grad=True)
            out = descend(w, lambda w: (((w - target) ** 2) ** (power / 2)).sum(), lr, steps)
            result = {"same": out is w, "w": w.data}
        """, start=start, target=target, power=power, lr=lr, steps=steps,
            what=f"descend(w, loss_fn, lr={lr:.3g}, steps={steps}) on a vector w",
            hint="the same loop works for any shape and any loss_fn.")
        assert got["same"], "descend did not return the tensor it was given. Hint: update w.data in place and `return w`."
        expected = reference_descent(start, target, power, lr, steps)
        same_shape = np.shape(got["w"]) == expected.shape
        assert same_shape and np.allclose(got["w"], expected, rtol=1e-7, atol=1e-10), (
            f"with a vector w, loss sum((w - target)^{power}), lr={lr:.3g}, steps={steps}: w is "
            f"{np.round(got['w'], 4).tolist()}, expected {np.round(expected, 4).tolist()}. Hint: use the lr you are "
            f"given, run exactly `steps` steps (none when steps is 0), and clear the gradient once per step "
            f"(w.zero_grad(), before backward or after the update): gradients of leaves add up across backward() calls.")
