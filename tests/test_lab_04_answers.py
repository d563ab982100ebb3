"""Lab 4 (training): wrong answers lose points in their own exercise only (train_xor and train_moons are graded
with the reference make_mlp and train_step), valid alternatives keep them all, graded through the real grader
(tests/answer_tables.py); and the figures the lab's text states, recomputed."""
from pathlib import Path

import numpy as np
import pytest

import numtorch as nt
from answer_tables import (KEEPS, LOSES, Answer, check_coverage, check_hidden_share, check_row,
                           check_stated_points, grade_table, graded_with)
from labs.grading.lab import cell_role, load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "04_training")
LAYERS = ("nt.layers.LinearLayer(n_in, n_hidden),\n        nt.layers.Tanh(),\n"
          "        nt.layers.LinearLayer(n_hidden, n_out),")
MLP = "    return nt.layers.SequentialLayer([\n        " + LAYERS + "\n    ])"
XOR_LOSSES = "    losses = [train_step(model, criterion, optimizer, xor_data, xor_target) for _ in range(steps)]"
MOONS_LOSSES = "    losses = [train_step(model, criterion, optimizer, data, labels) for _ in range(steps)]"
CE = "return -log_probs[rows, labels].mean()"
ACCURACY = "return float(np.mean(predicted == np.asarray(labels)))"
REPORTED = "moons_test_accuracy = accuracy(moons_model(nt.Tensor(test_x)), test_y)"
ROWS = [
    Answer("mlp", "make_mlp with ReLU", "mlp", "nt.layers.Tanh()", "nt.layers.ReLU()", LOSES),
    Answer("mlp", "make_mlp without a nonlinearity", "mlp", "        nt.layers.Tanh(),\n", "", LOSES),
    Answer("mlp", "make_mlp with 8 hidden units always", "mlp", LAYERS,
           "nt.layers.LinearLayer(n_in, 8),\n        nt.layers.Tanh(),\n        nt.layers.LinearLayer(8, n_out),",
           LOSES),
    Answer("mlp", "make_mlp from a list built in two steps", "mlp", MLP,
           "    layers = [nt.layers.LinearLayer(n_in, n_hidden)]\n"
           "    layers += [nt.layers.Tanh(), nt.layers.LinearLayer(n_hidden, n_out)]\n"
           "    return nt.layers.SequentialLayer(layers)", KEEPS),
    Answer("train_step", "train_step never clears the gradients", "train_step", "optimizer.step()",
           "optimizer.step(zero=False)", LOSES,
           says='add up across backward() calls'),
    Answer("train_step", "train_step returns the loss after the update", "train_step", "return loss.item()",
           "return criterion(model(data), target).item()", LOSES),
    Answer("train_step", "train_step makes its own SGD with lr=0.1", "train_step", "optimizer.step()",
           "nt.optimizers.SGDOptimizer(model.get_params(), lr=0.1).step()", LOSES),
    Answer("train_step", "train_step returns the loss tensor", "train_step", "return loss.item()", "return loss", LOSES,
           says='return loss.item()'),
    Answer("train_step", "train_step clears the gradients first (PyTorch habit)", "train_step",
           "    prediction = model(data)", "    optimizer.zero_grad()\n    prediction = model(data)", KEEPS),
    Answer("xor", "train_xor hard-codes the losses", "xor", XOR_LOSSES,
           "    for _ in range(steps):\n        train_step(model, criterion, optimizer, xor_data, xor_target)\n"
           "    losses = [0.001] * steps", LOSES,
           says='returned losses other than the values train_step returned'),
    Answer("xor", "train_xor makes a new optimizer every step", "xor", XOR_LOSSES,
           "    losses = [train_step(model, criterion, nt.optimizers.SGDOptimizer(model.get_params(), lr=0.1), "
           "xor_data, xor_target) for _ in range(steps)]", LOSES,
           says='made a new optimizer for each step'),
    Answer("xor", "train_xor with lr=0.5", "xor", "get_params(), lr=0.1)", "get_params(), lr=0.5)", LOSES),
    Answer("xor", "train_xor always runs 1000 steps", "xor", "for _ in range(steps)]", "for _ in range(1000)]", LOSES),
    Answer("xor", "train_xor as a loop over parameters()", "xor", XOR_LOSSES,
           "    optimizer = nt.optimizers.SGDOptimizer(model.parameters(), lr=0.1)\n    losses = []\n"
           "    for step in range(steps):\n"
           "        losses.append(train_step(model, criterion, optimizer, xor_data, xor_target))", KEEPS),
    Answer("cross_entropy", "cross_entropy sums instead of averaging", "cross_entropy", CE,
           "return -log_probs[rows, labels].sum()", LOSES),
    Answer("cross_entropy", "cross_entropy as log of softmax", "cross_entropy", "logits.log_softmax(dim=1)",
           "logits.softmax(dim=1).log()", LOSES,
           says='logits.log_softmax(dim=1) stays finite'),
    Answer("cross_entropy", "cross_entropy calls the library's loss", "cross_entropy", CE,
           "return nt.layers.CrossEntropyLoss()(logits, labels)", LOSES,
           says='is off-limits'),
    Answer("cross_entropy", "cross_entropy picks whole columns", "cross_entropy", CE,
           "return -log_probs[:, labels].mean()", LOSES),
    Answer("cross_entropy", "cross_entropy with a one-hot mask", "cross_entropy", CE,
           "return -(log_probs * np.eye(logits.shape[1])[labels]).sum() / len(labels)", KEEPS),
    Answer("accuracy", "accuracy counts instead of averaging", "accuracy", ACCURACY,
           "return float(np.sum(predicted == np.asarray(labels)))", LOSES),
    Answer("accuracy", "accuracy in percent", "accuracy", ACCURACY,
           "return 100 * float(np.mean(predicted == np.asarray(labels)))", LOSES),
    Answer("accuracy", "accuracy by argmin", "accuracy", "logits.data.argmax(axis=1)", "logits.data.argmin(axis=1)",
           LOSES),
    Answer("accuracy", "accuracy as a NumPy sum over a length", "accuracy", ACCURACY,
           "return (predicted == np.asarray(labels)).sum() / len(labels)", KEEPS),
    Answer("moons", "moons reports the training accuracy", "moons", REPORTED,
           "moons_test_accuracy = accuracy(moons_model(nt.Tensor(train_x)), train_y)", LOSES,
           says='held-out test set'),
    Answer("moons", "train_moons with a linear model", "moons", "model = make_mlp(2, 16, 2)",
           "model = nt.layers.LinearLayer(2, 2)", LOSES,
           says='a straight line'),
    Answer("moons", "train_moons trains on the global train_x", "moons", "data = nt.Tensor(points)",
           "data, labels = nt.Tensor(train_x), train_y", LOSES,
           says='not the global train_x'),
    Answer("moons", "train_moons ignores steps", "moons", "for _ in range(steps)]", "for _ in range(300)]", LOSES),
    Answer("moons", "train_moons as a loop, tensor made each step", "moons", MOONS_LOSSES,
           "    losses = []\n    for step in range(steps):\n"
           "        losses.append(train_step(model, criterion, optimizer, nt.Tensor(points), labels))", KEEPS),
]

# train_xor and train_moons are graded with the reference make_mlp and train_step, and moons_test_accuracy
# comes from the student's accuracy: neither is ever packed with the pieces it calls.
INDEPENDENT = [["mlp", "train_step", "cross_entropy", "accuracy"], ["xor", "moons"]]


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    return grade_table(LAB, ROWS, tmp_path_factory.mktemp("lab04_answers"), INDEPENDENT)


def test_every_exercise_has_wrong_answers_and_a_valid_alternative():
    check_coverage(LAB, ROWS)


def test_the_points_the_text_states_and_hidden_tests_carry_half():
    check_stated_points(LAB)
    check_hidden_share(LAB)


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_answer(grades, row):
    check_row(LAB, row, grades[row.label], graded_with(ROWS, INDEPENDENT, row))


def solved_lab():
    """The namespace of the lab's reference solution: its setup and answer cells, run in order."""
    scope = {}
    for cell in LAB.notebook.cells:
        if cell.cell_type == "code" and cell_role(cell)[1] in ("setup", "answer"):
            exec(cell.source, scope)
    return scope


@pytest.mark.slow
def test_the_figures_the_text_states():
    """XOR: loss below 0.01 and predictions within 0.2 after 1000 steps; the moons: an MLP reaches 0.95 on the test
    set, a linear classifier trained to convergence gets 0.90 (90 of 100); log(3) for a uniform guess."""
    scope = solved_lab()
    assert scope["xor_losses"][-1] < 0.01
    assert np.all(np.abs(scope["xor_model"](scope["xor_data"]).data.ravel() - [0, 1, 1, 0]) < 0.2)
    assert scope["moons_test_accuracy"] >= 0.95
    np.random.seed(0)
    line = nt.layers.LinearLayer(2, 2)
    optimizer = nt.optimizers.SGDOptimizer(line.get_params(), lr=0.5)
    for _ in range(3000):
        scope["train_step"](line, nt.layers.CrossEntropyLoss(), optimizer, nt.Tensor(scope["train_x"]),
                            scope["train_y"])
    assert scope["accuracy"](line(nt.Tensor(scope["test_x"])), scope["test_y"]) == 0.90
    uniform = nt.Tensor([[0.0, 0.0, 0.0]])
    assert np.isclose(scope["cross_entropy"](uniform, np.array([2])).item(), np.log(3))
