"""Lab 3 (operations): wrong answers lose points in their own exercise only, valid alternatives keep them all,
graded through the real grader (tests/answer_tables.py); answers that call NumTorch's own backward lose them;
and the figures the lab's text states."""
from pathlib import Path

import numpy as np
import pytest

import numtorch as nt
from answer_tables import (KEEPS, LOSES, Answer, check_coverage, check_hidden_share, check_row,
                           check_stated_points, grade_table, graded_with)
from labs.grading.lab import cell_role, load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "03_operations")
MUL = "return grad * y, grad * x"
SIGMOID = "return grad * z * (1 - z)"
TANH = "return grad * (1 - z ** 2)"
MATMUL = "return grad @ y.T, x.T @ grad"
SPREAD = "        if dim is not None:\n            grad = np.expand_dims(grad, dim)\n"
EXPAND = 'return grad.sum(axis=ctx.args["dim"])'
UNBROADCAST = """    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)"""
ROWS = [
    Answer("mul", "MyMul swaps the gradients", "mul", MUL, "return grad * x, grad * y", LOSES),
    Answer("mul", "MyMul forgets the upstream grad", "mul", MUL, "return y, x", LOSES),
    Answer("mul", "MyMul calls the library's backward", "mul", MUL, "return nt.operations.Mul.backward(ctx, grad)",
           LOSES),
    Answer("mul", "MyMul with np.multiply", "mul", MUL, "return np.multiply(y, grad), np.multiply(grad, x)", KEEPS),
    Answer("sigmoid", "MySigmoid uses 1 - z²", "sigmoid", SIGMOID, "return grad * (1 - z ** 2)", LOSES),
    Answer("sigmoid", "MySigmoid takes sigmoid of the output again", "sigmoid", SIGMOID,
           "s = 1 / (1 + np.exp(-z))\n        return grad * s * (1 - s)", LOSES),
    Answer("sigmoid", "MySigmoid calls the library's backward", "sigmoid", SIGMOID,
           "return nt.operations.Sigmoid.backward(ctx, grad)", LOSES),
    Answer("sigmoid", "MySigmoid as z - z²", "sigmoid", SIGMOID, "return grad * (z - z * z)", KEEPS),
    Answer("tanh", "MyTanh uses 1 - z", "tanh", TANH, "return grad * (1 - z)", LOSES),
    Answer("tanh", "MyTanh treats the output as the input", "tanh", TANH, "return grad / np.cosh(z) ** 2", LOSES),
    Answer("tanh", "MyTanh calls the library's backward", "tanh", TANH, "return nt.operations.Tanh.backward(ctx, grad)",
           LOSES),
    Answer("tanh", "MyTanh as grad - grad z z", "tanh", TANH, "return grad - grad * z * z", KEEPS),
    Answer("matmul", "MyMatMul multiplies on the wrong side", "matmul", MATMUL, "return y.T @ grad, grad @ x.T", LOSES),
    Answer("matmul", "MyMatMul returns y's gradient transposed", "matmul", MATMUL, "return grad @ y.T, grad.T @ x",
           LOSES,
           says='backward returned gradients of shapes'),
    Answer("matmul", "MyMatMul calls the library's backward", "matmul", MATMUL,
           "return nt.operations.MatMul.backward(ctx, grad)", LOSES,
           says='numtorch.operations.MatMul.backward is off-limits'),
    Answer("matmul", "MyMatMul lets autograd do it", "matmul", "x, y = ctx.saved_tensors\n        " + MATMUL,
           "a, b = (nt.tensor(v, requires_grad=True) for v in ctx.saved_tensors)\n        (a @ b).backward(grad)\n"
           "        return a.grad.data, b.grad.data", LOSES,
           says='is off-limits'),
    Answer("matmul", "MyMatMul through transposed products", "matmul", MATMUL, "return (y @ grad.T).T, (grad.T @ x).T",
           KEEPS),
    Answer("sum", "MySum ignores dim", "sum", SPREAD, "", LOSES),
    Answer("sum", "MySum returns the upstream grad as it is", "sum", "return np.broadcast_to(grad, shape)",
           "return grad", LOSES),
    Answer("sum", "MySum calls the library's helper", "sum", "return np.broadcast_to(grad, shape)",
           "return nt.operations.reduce._spread(grad, shape, dim, False)", LOSES,
           says='_spread is off-limits'),
    Answer("sum", "MySum multiplies by ones", "sum", "return np.broadcast_to(grad, shape)",
           "return np.ones(shape) * grad", KEEPS),
    Answer("expand", "MyExpand always sums axis 0", "expand", EXPAND, "return grad.sum(axis=0)", LOSES),
    Answer("expand", "MyExpand averages the copies", "expand", EXPAND, 'return grad.mean(axis=ctx.args["dim"])', LOSES),
    Answer("expand", "MyExpand calls the library's backward", "expand", EXPAND,
           "return nt.operations.Expand.backward(ctx, grad)", LOSES),
    Answer("expand", "MyExpand with np.sum", "expand", EXPAND, 'return np.sum(grad, ctx.args["dim"])', KEEPS),
    Answer("broadcast", "unbroadcast forgets keepdims", "broadcast", "return grad.sum(axis=stretched, keepdims=True)",
           "return grad.sum(axis=stretched)", LOSES),
    Answer("broadcast", "unbroadcast calls the engine's helper", "broadcast", UNBROADCAST,
           "    from numtorch.tensor import _unbroadcast\n    return _unbroadcast(grad, shape, 'add')", LOSES,
           says='numtorch.tensor._unbroadcast is off-limits'),
    Answer("broadcast", "BroadcastAdd leaves the summing to the engine", "broadcast",
           "return unbroadcast(grad, x_shape), unbroadcast(grad, y_shape)", "return grad, grad", LOSES,
           says='backward returned gradients of shapes'),
    Answer("broadcast", "unbroadcast as a loop", "broadcast", UNBROADCAST,
           "    while grad.ndim > len(shape):\n        grad = grad.sum(axis=0)\n    for axis, n in enumerate(shape):\n"
           "        if n == 1:\n            grad = grad.sum(axis=axis, keepdims=True)\n    return grad", KEEPS),
]

INDEPENDENT = [LAB.exercises()]  # no lab 3 test uses another exercise's answer


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    return grade_table(LAB, ROWS, tmp_path_factory.mktemp("lab03_answers"), INDEPENDENT)


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
    """Section 5's two unbroadcast examples, by the lab's reference solution."""
    (cell,) = [cell for cell in LAB.notebook.cells if cell_role(cell)[0] == "broadcast"]
    scope = {"np": np, "nt": nt}
    exec(cell.source, scope)
    assert scope["unbroadcast"](np.ones((4, 3)), (3,)).tolist() == [4.0, 4.0, 4.0]
    assert scope["unbroadcast"](np.ones((2, 5)), (2, 1)).tolist() == [[5.0], [5.0]]
