"""Lab 2 (autograd): wrong answers lose points in their own exercise only, valid alternatives keep them all,
graded through the real grader (tests/answer_tables.py); and the figures the lab's text states."""
from pathlib import Path

import pytest

import numtorch as nt
from answer_tables import (KEEPS, LOSES, Answer, check_coverage, check_hidden_share, check_row,
                           check_stated_points, grade_table, graded_with)
from labs.grading.lab import load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "02_autograd")
BY_HAND = "u = w * x + b - y\n    return 2 * u * x, 2 * u"
PREDICT = ('    u = x * y\n    v = u + x\n    dv = 2 * v\n    du = dv\n'
           '    return {"v": dv, "u": du, "y": du * x, "x": du * y + dv}')
READ_OFF = 'read_off = {"x": 6.0, "y": -18.0, "u": -6.0, "v": -6.0, "L": 1.0, "dead": None}'
STEP = "        loss = loss_fn(w)\n        loss.backward()\n        w.data -= lr * w.grad.data\n        w.zero_grad()"
ROWS = [
    Answer("chain_rule", "by_hand forgets the 2", "chain_rule", "return 2 * u * x, 2 * u", "return u * x, u", LOSES),
    Answer("chain_rule", "by_hand swaps the two", "chain_rule", "return 2 * u * x, 2 * u", "return 2 * u, 2 * u * x",
           LOSES),
    Answer("chain_rule", "by_hand flips the sign of u", "chain_rule", "u = w * x + b - y", "u = y - w * x - b", LOSES),
    Answer("chain_rule", "by_hand calls backward", "chain_rule", BY_HAND,
           "w, b = nt.Tensor(w, autograd=True), nt.Tensor(b, autograd=True)\n"
           "    ((w * x + b - y) ** 2).backward()\n    return w.grad.item(), b.grad.item()", LOSES,
           says='numtorch.Tensor.backward is off-limits'),
    Answer("chain_rule", "by_hand measures with slope", "chain_rule", BY_HAND,
           "return slope(lambda v: (v * x + b - y) ** 2, w), slope(lambda v: (w * x + v - y) ** 2, b)", LOSES,
           says='slope is off-limits'),
    Answer("chain_rule", "by_hand expanded, as a list", "chain_rule", BY_HAND,
           "return [2 * x * (w * x + b - y), 2 * (w * x + b - y)]", KEEPS),
    Answer("reuse", "predict_grads forgets x's direct path", "reuse", '"x": du * y + dv', '"x": du * y', LOSES,
           says='x is used twice'),
    Answer("reuse", "predict_grads multiplies dL/dy by y", "reuse", '"y": du * x', '"y": du * y', LOSES),
    Answer("reuse", "predict_grads hard-codes x=3, y=-2", "reuse", PREDICT,
           '    return {"v": -6.0, "u": -6.0, "y": -18.0, "x": 6.0}', LOSES),
    Answer("reuse", "predict_grads runs backward", "reuse", PREDICT,
           "    x, y = nt.Tensor(x, autograd=True), nt.Tensor(y, autograd=True)\n    u = x * y\n    v = u + x\n"
           "    (v * v).backward()\n    return {'x': x.grad.item(), 'y': y.grad.item(), 'u': u.grad.item(), "
           "'v': v.grad.item()}", LOSES),
    Answer("reuse", "predict_grads in one expression per key, with an extra key", "reuse", PREDICT,
           '    return {"x": 2 * (x * y + x) * (y + 1), "y": 2 * (x * y + x) * x, "u": 2 * (x * y + x), '
           '"v": 2 * (x * y + x), "L": 1}', KEEPS),
    Answer("read_graph", "read_off reads the dead branch as 0", "read_graph", '"dead": None', '"dead": 0.0', LOSES,
           says='dead branch'),
    Answer("read_graph", "read_off gives the root no grad", "read_graph", '"L": 1.0', '"L": None', LOSES),
    Answer("read_graph", "read_off counts only x's path through u", "read_graph", '"x": 6.0', '"x": 12.0', LOSES),
    Answer("read_graph", "read_off read from the tensors, as ints", "read_graph", READ_OFF,
           'read_off = {"x": x.grad.item(), "y": int(y.grad.item()), "u": u.grad.item(), "v": v.grad.item(), '
           '"L": 1, "dead": dead.grad}', KEEPS),
    Answer("descend", "descend never clears the gradient", "descend", "        w.zero_grad()\n", "", LOSES,
           says='add up across backward() calls'),
    Answer("descend", "descend makes a new tensor", "descend", "w.data -= lr * w.grad.data", "w = w - lr * w.grad",
           LOSES,
           says='did not return the tensor it was given'),
    Answer("descend", "descend hard-codes lr=0.1", "descend", "w.data -= lr * w.grad.data",
           "w.data -= 0.1 * w.grad.data", LOSES),
    Answer("descend", "descend takes one step too many", "descend", "range(steps)", "range(steps + 1)", LOSES),
    Answer("descend", "descend clears the gradient before backward (PyTorch habit)", "descend", STEP,
           "        w.zero_grad()\n        loss = loss_fn(w)\n        loss.backward()\n"
           "        w.data -= lr * w.grad.data",
           KEEPS),
]

INDEPENDENT = [LAB.exercises()]  # no lab 2 test uses another exercise's answer


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    return grade_table(LAB, ROWS, tmp_path_factory.mktemp("lab02_answers"), INDEPENDENT)


def test_every_exercise_has_wrong_answers_and_a_valid_alternative():
    check_coverage(LAB, ROWS)


def test_the_points_the_text_states_and_hidden_tests_carry_half():
    check_stated_points(LAB)
    check_hidden_share(LAB)


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_answer(grades, row):
    check_row(LAB, row, grades[row.label], graded_with(ROWS, INDEPENDENT, row))


def test_the_figures_the_text_states():
    """Section 1's demos (6, 24, and the neuron's gradients 18 and 6), and the graph of sections 2 and 3."""
    slope = lambda f, x, eps=1e-6: (f(x + eps) - f(x - eps)) / (2 * eps)
    assert round(slope(lambda x: x ** 2, 3.0), 4) == 6 and round(slope(lambda x: (3 * x + 1) ** 2, 1.0), 4) == 24
    w, b = nt.Tensor(2.0, autograd=True), nt.Tensor(1.0, autograd=True)
    ((w * 3.0 + b - 4.0) ** 2).backward()
    assert (w.grad.item(), b.grad.item()) == (18.0, 6.0)
    x, y = nt.Tensor(3.0, autograd=True), nt.Tensor(-2.0, autograd=True)
    u = x * y
    v = u + x
    dead = u * 100
    (v * v).backward()
    assert {"x": x.grad.item(), "y": y.grad.item(), "u": u.grad.item(), "v": v.grad.item(), "dead": dead.grad} == {
        "x": 6.0, "y": -18.0, "u": -6.0, "v": -6.0, "dead": None}
