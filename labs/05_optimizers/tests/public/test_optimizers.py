"""Public tests of lab 5 (optimizers): the check cells run these. Hidden tests run at grading and check more.

The student's optimizers walk in the student's process; the library's walk the same way on the judge's side
(the `walk` fixture of tests/conftest.py), and the two paths are compared step by step."""
import numpy as np
import pytest

from labs.testing import describe

START = (-2.6, 1.4)  # the quadratic bowl's starting point (numtorch_magics.landscapes.QUADRATIC_BOWL.start)
SGD_OFF = ("numtorch.optimizers.SGDOptimizer.update",)
ADAM_OFF = ("numtorch.optimizers.AdamOptimizer.update",)
SGD_HINT = ("update returns the amount to subtract, the learning rate times the gradient (self.lr * grad); the "
            "base class subtracts it, so do not change p.data yourself.")


@pytest.mark.exercise("sgd")
@pytest.mark.points(1)
def test_my_sgd_takes_gradient_steps(student):
    w = student.run("""
        w = nt.tensor([1.0, -2.0, 3.0], requires_grad=True)
        optimizer = MySGD([w], 0.5)
        w.grad = nt.tensor([2.0, 2.0, -4.0])
        optimizer.step()
        result = w.data
    """, what="MySGD([w], lr=0.5).step()", hint=SGD_HINT, unavailable=SGD_OFF)
    assert np.allclose(w, [0.0, -3.0, 5.0]), (
        f"with lr 0.5 and gradient [2, 2, -4], w = [1, -2, 3] should become [0, -3, 5], got {w.round(6).tolist()}. "
        f"Hint: {SGD_HINT}")


LR_HINT = "try values in `walk` or the explorer: the bowl's steep direction has curvature 10."


def final_loss(student, library_walk, name):
    """The bowl's loss after 30 steps of the library's SGD at the student's learning rate `name`."""
    lr = student.run(f"result = {name}", what=name, hint=f"set {name} in the learning-rate cell.")
    assert isinstance(lr, (int, float)) and not isinstance(lr, bool), (
        f"{name} should be a plain number such as 0.01, got {type(lr).__name__}. Hint: {name} = 0.01")
    assert lr > 0, (f"{name} is {lr}: a rate of 0 never moves and a negative one climbs uphill (the optimizers "
                    f"refuse it). Hint: a positive number such as 0.01.")
    path = library_walk("bowl", "MySGD", start=START, settings={"lr": lr}, steps=30)
    return bowl_loss(path[-1]), lr


def bowl_loss(point):
    """f(x, y) = (x^2 + 10 y^2) / 2 (inf when the walk overflowed)."""
    x, y = point
    return 0.5 * (x * x + 10 * y * y) if abs(x) < 1e100 and abs(y) < 1e100 else float("inf")


BOWL_START = bowl_loss(START)


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_lr_too_small(student, library_walk):
    final, lr = final_loss(student, library_walk, "lr_too_small")
    assert final > BOWL_START / 2, (
        f"with lr_too_small = {lr} the loss after 30 steps is {final:.4g}, not above half the start "
        f"({BOWL_START / 2:.4g}). Hint: smaller still; with lr 0.01 the walker already covers most of the way.")


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_lr_just_right(student, library_walk):
    final, lr = final_loss(student, library_walk, "lr_just_right")
    assert final < 1e-3, (
        f"with lr_just_right = {lr} the loss after 30 steps is {final:.4g}, not below 0.001. Hint: as large as you "
        f"can without the steep direction oscillating out of control (lr * 10 below 2), but large enough for the "
        f"shallow direction to get there in 30 steps.")


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_lr_too_large(student, library_walk):
    final, lr = final_loss(student, library_walk, "lr_too_large")
    assert final > BOWL_START, (
        f"with lr_too_large = {lr} the loss after 30 steps is {final:.4g}, not above the start ({BOWL_START:.4g}). "
        f"Hint: a step overshoots and lands farther away than it started when lr * 10 > 2.")


MOMENTUM_HINT = ("the new velocity is momentum times the previous one (0 the first time) plus grad; keep it in "
                 "self.velocity[i] for the next step and return lr times it.")


def where(what, step, yours, library):
    """Where a student's path leaves the library's."""
    if yours.shape != library.shape:
        return f"{what}: the path has shape {yours.shape} instead of {library.shape}"
    return f"{what} at step {step}: {yours[step].round(5).tolist()} instead of {library[step].round(5).tolist()}"


@pytest.mark.exercise("momentum")
@pytest.mark.points(1)
def test_my_momentum_follows_the_library(walk):
    step, yours, library = walk("bowl", "MyMomentum", "MyMomentum(lr=0.03, momentum=0.9) on the bowl",
                                MOMENTUM_HINT, unavailable=SGD_OFF, start=START,
                                settings={"lr": 0.03, "momentum": 0.9}, steps=10)
    what = "MyMomentum(lr=0.03, momentum=0.9) leaves the path of SGD with momentum"
    assert step is None, f"{where(what, step, yours, library)}. Hint: {MOMENTUM_HINT}"


ADAM_HINT = ("go through the formulas in the text line by line: keep m, v and t per parameter number i "
             "(self.m[i], self.v[i], self.t[i]), count t from 1, and bias-correct with 1 - beta**t.")


@pytest.mark.exercise("adam")
@pytest.mark.points(0.5)
def test_my_adam_first_step_is_lr_per_coordinate(walk):
    _, path, _ = walk("bowl", "MyAdam", "MyAdam(lr=0.2) on the bowl", ADAM_HINT, unavailable=ADAM_OFF,
                      start=START, settings={"lr": 0.2}, steps=1)
    moved = abs(path[1] - path[0])
    assert abs(moved - 0.2).max() < 1e-5, (
        f"Adam's first step should move each coordinate by about lr = 0.2, but it moved {moved.round(5).tolist()}. "
        f"Hint: with bias correction m_hat = grad and v_hat = grad**2 at t = 1, so the step is lr * grad / |grad|.")


@pytest.mark.exercise("adam")
@pytest.mark.points(0.5)
def test_my_adam_follows_the_library(walk):
    step, yours, library = walk("bowl", "MyAdam", "MyAdam(lr=0.2) on the bowl", ADAM_HINT, unavailable=ADAM_OFF,
                                start=START, settings={"lr": 0.2}, steps=15)
    what = "MyAdam(lr=0.2) leaves the library Adam's path"
    assert step is None, f"{where(what, step, yours, library)}. Hint: {ADAM_HINT}"


COMPARE_HINT = ("follow the four steps of the exercise; record each loss as a float (loss.item()) before its "
                "backward and optimizer step.")


@pytest.mark.exercise("compare")
@pytest.mark.points(0.5)
def test_train_mlp_starts_every_run_alike(student, floats):
    first, second = student.run("""
        make = lambda params: nt.optimizers.SGDOptimizer(params, lr=0.1)
        result = [train_mlp(make, 5), train_mlp(make, 5)]
    """, what="train_mlp(SGD lr 0.1, steps=5), twice", hint=COMPARE_HINT)
    assert not floats(first, 5), (
        f"train_mlp(make_optimizer, steps=5) should return a list of 5 floats, got {floats(first, 5)}. "
        f"Hint: {COMPARE_HINT}")
    assert first == second, (
        f"two runs with the same optimizer gave different losses ({first[0]:.5f} and {second[0]:.5f} at the "
        f"first step), so they started from different weights. Hint: call np.random.seed(0) inside train_mlp, "
        f"just before make_spiral_mlp().")
    assert first[-1] < first[0], f"the loss did not go down in 5 steps of SGD: {first}. Hint: {COMPARE_HINT}"


@pytest.mark.exercise("compare")
@pytest.mark.points(0.5)
def test_the_race_with_the_library_optimizers(student):
    sgd, momentum, adam = student.run("""
        result = [train_mlp(make, 200)[-1] for make in (
            lambda params: nt.optimizers.SGDOptimizer(params, lr=0.1),
            lambda params: nt.optimizers.SGDOptimizer(params, lr=0.1, momentum=0.9),
            lambda params: nt.optimizers.AdamOptimizer(params, lr=0.01))]
    """, what="train_mlp with the library's SGD, momentum and Adam", hint=COMPARE_HINT)
    assert all(isinstance(v, float) for v in (sgd, momentum, adam)), (
        f"train_mlp should return a list of floats, but its last losses are {describe(sgd)}, {describe(momentum)}, "
        f"{describe(adam)}. Hint: {COMPARE_HINT}")
    assert momentum < sgd - 0.2 and adam < sgd - 0.2, (
        f"with the library's optimizers, after 200 steps of your train_mlp: SGD {sgd:.3f}, momentum {momentum:.3f}, "
        f"Adam {adam:.3f}; momentum and Adam should both end well below SGD. Hint: train_mlp must use the optimizer "
        f"make_optimizer returns, for `steps` steps on the whole data set.")
