"""Public tests of lab 4 (layers and training): run them with the check cells. Hidden tests run at grading."""
import numpy as np
import pytest

MLP_HINT = "chain a LinearLayer, a Tanh and a second LinearLayer in an nt.layers.SequentialLayer([...])."


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
    assert tuple(got["out"]) == (4, 2), (
        f"make_mlp(3, 5, 2) maps a (4, 3) batch to {got['out']}, not (4, 2). Hint: {MLP_HINT}")


@pytest.mark.exercise("train_step")
@pytest.mark.points(1)
def test_train_step_one_step(check_train_linear):
    check_train_linear(1)


# Stand-ins for make_mlp and train_step while train_xor and train_moons run here: they record how they are
# called (so these checks do not depend on your make_mlp and train_step) and return a linear model and fake losses.
RECORDERS = {"make_mlp": """
CALLS = {"make_mlp": [], "train_step": []}
def make_mlp(n_in, n_hidden, n_out):
    CALLS["make_mlp"].append([n_in, n_hidden, n_out])
    return nt.layers.LinearLayer(n_in, n_out)
""", "train_step": """
def train_step(model, criterion, optimizer, data, target):
    covers = {id(p) for p in optimizer.params} == {id(p) for p in model.get_params()}
    CALLS["train_step"].append((model, type(criterion).__name__, type(optimizer).__name__, optimizer.lr,
                                optimizer, covers, np.asarray(getattr(data, "data", data)),
                                np.asarray(getattr(target, "data", target))))
    return 0.5 / len(CALLS["train_step"])
"""}
SUMMARY = """
steps = CALLS["train_step"]
result = {"made": CALLS["make_mlp"], "steps": len(steps), "losses": list(losses),
          "fake_losses": [0.5 / (k + 1) for k in range(len(steps))],
          "same_model": all(s[0] is model for s in steps), "criteria": sorted({s[1] for s in steps}),
          "optimizers": sorted({s[2] for s in steps}), "lrs": sorted({float(s[3]) for s in steps}),
          "one_optimizer": len({id(s[4]) for s in steps}) <= 1, "covers": all(s[5] for s in steps),
          "data": steps[0][6] if steps else None, "target": steps[0][7] if steps else None,
          "same_data": all(np.array_equal(s[6], steps[0][6]) and np.array_equal(s[7], steps[0][7]) for s in steps)}
"""


def check_recipe(got, what, n_steps, layers, criterion, lr):
    """train_xor / train_moons called make_mlp once, then train_step n_steps times with one optimizer."""
    recipe = (f"make_mlp{layers} once, one {criterion}, one SGDOptimizer(model.get_params(), lr={lr}) made before "
              f"the loop, then train_step(model, criterion, optimizer, data, target) once per step")
    assert got["made"] == [list(layers)], (
        f"{what} called make_mlp with {got['made']}, expected once with {layers}. Hint: {recipe}.")
    assert got["steps"] == n_steps and got["same_model"], (
        f"{what} called train_step {got['steps']} times (expected {n_steps}), "
        f"{'always' if got['same_model'] else 'not always'} on the model make_mlp returned. Hint: {recipe}.")
    assert got["criteria"] == [criterion] and got["optimizers"] == ["SGDOptimizer"] and got["lrs"] == [lr], (
        f"{what} trained with {got['criteria']}, {got['optimizers']} and learning rates {got['lrs']}. Hint: {recipe}.")
    problem = ("made a new optimizer for each step" if not got["one_optimizer"]
               else "optimized parameters other than the model's")
    assert got["one_optimizer"] and got["covers"], (
        f"{what} {problem}. Hint: {recipe} (an optimizer with state, like momentum or Adam, must "
        f"live across steps).")
    assert got["losses"] == got["fake_losses"], (
        f"{what} returned losses other than the values train_step returned, in order. Hint: append what train_step "
        f"returns, once per step, and return (model, losses).")


@pytest.mark.exercise("xor")
@pytest.mark.points(0.5)
def test_train_xor_recipe(student, rng):
    steps = int(rng.integers(5, 20))
    got = student.run("model, losses = train_xor(steps)" + SUMMARY, steps=steps, replace=RECORDERS,
                      what=f"train_xor({steps})", hint="build the model, the loss and one optimizer, then loop.")
    check_recipe(got, f"train_xor({steps})", steps, (2, 8, 1), "MSELoss", 0.1)
    assert got["same_data"] and np.array_equal(got["data"], [[0, 0], [0, 1], [1, 0], [1, 1]]), (
        f"train_xor({steps}) trained on data other than xor_data. Hint: train_step(model, criterion, optimizer, "
        f"xor_data, xor_target).")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
def test_cross_entropy_value_and_gradient(check_cross_entropy, rng):
    check_cross_entropy(rng.normal(size=(5, 3)), rng.integers(0, 3, size=5))


@pytest.mark.exercise("accuracy")
@pytest.mark.points(0.5)
def test_accuracy_small_example(check_accuracy):
    check_accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), np.array([0, 1, 1]),
                   "rows 0 and 1 are right and row 2 is wrong, so accuracy is 2/3: the predicted class of a row is "
                   "the position of its largest logit (argmax along axis 1); return float(...).")


@pytest.mark.exercise("moons")
@pytest.mark.points(0.5)
def test_train_moons_recipe_and_reported_accuracy(student, rng):
    points, labels, steps = rng.normal(size=(10, 2)), rng.integers(0, 2, size=10), int(rng.integers(5, 20))
    got = student.run("model, losses = train_moons(points, labels, steps)" + SUMMARY, points=points, labels=labels,
                      steps=steps, replace=RECORDERS, what=f"train_moons(points, labels, {steps})",
                      hint="build the model, the loss and one optimizer, then loop.")
    check_recipe(got, f"train_moons(points, labels, {steps})", steps, (2, 16, 2), "CrossEntropyLoss", 0.5)
    same_points = np.shape(got["data"]) == points.shape and np.allclose(got["data"], points)
    assert got["same_data"] and same_points and np.array_equal(got["target"], labels), (
        f"train_moons trained on data other than the points and labels it was given. Hint: train_step(model, "
        f"criterion, optimizer, nt.Tensor(points), labels), with the arguments, not the global train_x.")
    assert student.defines("moons_test_accuracy"), (
        "your notebook sets no moons_test_accuracy: the moons cell stopped before that line (see its error). Hint: "
        "if accuracy or train_moons fail their own checks, fix them first; then set moons_test_accuracy = "
        "accuracy(moons_model(nt.Tensor(test_x)), test_y).")
    got = student.run("result = {'reported': moons_test_accuracy, "
                      "'on_test': accuracy(moons_model(nt.Tensor(test_x)), test_y)}",
                      what="moons_test_accuracy", hint="run the moons cell; it ends with moons_test_accuracy = ...")
    assert got["reported"] == got["on_test"], (
        f"moons_test_accuracy is {got['reported']!r}, but accuracy(moons_model(nt.Tensor(test_x)), test_y) is "
        f"{got['on_test']!r}. Hint: report the accuracy on the held-out test set, measured after training.")
