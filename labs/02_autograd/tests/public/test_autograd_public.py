"""Lab 2 (autograd), public tests: the check cells run these; hidden tests try other numbers at grading."""
import numpy as np
import pytest


@pytest.mark.exercise("chain_rule")
@pytest.mark.points(1)
def test_by_hand(check_by_hand):
    check_by_hand([(2.0, 1.0, 3.0, 4.0), (1.5, -0.5, -2.0, 1.0)])


@pytest.mark.exercise("reuse")
@pytest.mark.points(1)
def test_predict_grads(check_predictions):
    check_predictions([(3.0, -2.0)])


@pytest.mark.exercise("read_graph")
@pytest.mark.points(1)
def test_read_off_x_y_dead(check_read_off):
    check_read_off(["x", "y", "dead"])


@pytest.mark.exercise("descend")
@pytest.mark.points(1)
def test_descend_scalar(student):
    got = student.run("""
        w = nt.tensor(0.0, requires_grad=True)
        out = descend(w, lambda w: (w - 3) ** 2, 0.1, 5)
        result = {"same": out is w, "w": w.data}
    """, what="descend(w, lambda w: (w - 3) ** 2, 0.1, 5)",
        hint="loss_fn(w), loss.backward(), w.data -= lr * w.grad.data, w.zero_grad(), `steps` times.")
    assert got["same"], "descend did not return the tensor it was given. Hint: update w.data in place and `return w`."
    expected = 3.0 + (0.0 - 3.0) * (1 - 2 * 0.1) ** 5  # each step shrinks w - 3 by the factor 1 - 2 lr
    w = np.ravel(got["w"])  # (a one-element array)
    assert w.size == 1, f"descend turned the number w into {w.size} numbers. Hint: update w.data in place."
    assert np.isclose(w[0], expected), (
        f"after 5 steps of lr 0.1 on (w - 3)² from 0, w is {w[0]:.6g}, expected {expected:.6g}. Hint: move w "
        f"against its gradient by lr times the gradient, exactly `steps` times, and clear the gradient between "
        f"steps (w.zero_grad()): otherwise each backward() adds to the old one.")
