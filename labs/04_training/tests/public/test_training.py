"""Public tests of lab 4 (layers and training): run them with the check cells. Hidden tests run at grading."""
import numpy as np
import pytest


MLP_HINT = "chain a LinearLayer, a Tanh and a second LinearLayer in an nt.layers.SequentialLayer([...])."
UPSTREAM = "If make_mlp or train_step fail their checks, fix them first: this cell trains with them."


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
def test_make_mlp_shapes(student, rng):
    got = student.run("""
        model = make_mlp(3, 5, 2)
        result = {"out": model(nt.Tensor(x)).shape, "params": [list(p.shape) for p in model.get_params()]}
    """, x=rng.normal(size=(4, 3)), what="make_mlp(3, 5, 2) on a (4, 3) batch", hint=MLP_HINT)
    assert got["params"] == [[3, 5], [5], [5, 2], [2]], (
        f"make_mlp(3, 5, 2) should have parameters of shapes [(3, 5), (5,), (5, 2), (2,)] (two weights and two "
        f"biases), got {got['params']}. Hint: {MLP_HINT}")
    assert tuple(got["out"]) == (4, 2), f"make_mlp(3, 5, 2) maps a (4, 3) batch to {got['out']}, not (4, 2). Hint: {MLP_HINT}"


@pytest.mark.exercise("train_step")
@pytest.mark.points(1)
def test_train_step_one_step(check_train_linear):
    check_train_linear(1)


@pytest.mark.exercise("xor")
@pytest.mark.points(0.5)
def test_xor_is_learned(student):
    got = student.run("result = {'losses': list(xor_losses), 'pred': xor_model(xor_data).data.ravel()}",
                      what="xor_model and xor_losses", hint="run the XOR cell: xor_model, xor_losses = train_xor().")
    losses = got["losses"]
    assert len(losses) == 1000 and all(isinstance(v, float) for v in losses), (
        f"xor_losses should hold 1000 floats, one per step; it has {len(losses)}. Hint: append the value train_step "
        f"returns, once per step, and return the list. {UPSTREAM}")
    assert losses[-1] < 0.01 and np.all(np.abs(got["pred"] - [0, 1, 1, 0]) < 0.2), (
        f"after 1000 steps the XOR loss is {losses[-1]:.4f} and xor_model predicts {np.round(got['pred'], 3)} "
        f"(XOR is [0, 1, 1, 0]). Hint: one make_mlp(2, 8, 1), one SGD optimizer with lr=0.1 over its parameters, "
        f"1000 calls of train_step. {UPSTREAM}")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
def test_cross_entropy_value_and_gradient(check_cross_entropy, rng):
    check_cross_entropy(rng.normal(size=(5, 3)), rng.integers(0, 3, size=5))


@pytest.mark.exercise("accuracy")
@pytest.mark.points(0.5)
def test_accuracy_small_example(student):
    got = student.run("value = accuracy(nt.Tensor(z), labels)\nresult = {'value': value, 'float': isinstance(value, float)}",
                      z=np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), labels=np.array([0, 1, 1]),
                      what="accuracy(logits, labels)", hint="compare each row's argmax with its label and average.")
    assert got["float"] and np.isclose(got["value"], 2 / 3), (
        f"rows 0 and 1 are right and row 2 is wrong, so accuracy is the float 2/3; got {got['value']!r}. Hint: the "
        f"predicted class of a row is the position of its largest logit (argmax along axis 1); return float(...).")


@pytest.mark.exercise("moons")
@pytest.mark.points(0.5)
def test_moons_test_accuracy(student):
    got = student.run("result = {'reported': moons_test_accuracy, "
                      "'on_test': accuracy(moons_model(nt.Tensor(test_x)), test_y)}",
                      what="moons_test_accuracy", hint="run the moons cell; it ends with moons_test_accuracy = ...")
    assert got["reported"] == got["on_test"], (
        f"moons_test_accuracy is {got['reported']!r}, but accuracy(moons_model(nt.Tensor(test_x)), test_y) is "
        f"{got['on_test']!r}. Hint: report the accuracy on the held-out test set, measured after training.")
    assert got["reported"] >= 0.95, (
        f"test accuracy {got['reported']:.2f} is below 0.95 (a straight line gets 0.90). Hint: make_mlp(2, 16, 2), "
        f"CrossEntropyLoss, one SGD optimizer with lr=0.5, 300 steps on the points given. {UPSTREAM}")
