"""Public tests of lab 5 (optimizers): the check cells run these. Hidden tests run at grading and check more."""

import numpy as np
import pytest

from labs.testing import call, get
import numtorch as nt
from numtorch import landscapes


def bowl_path(make_optimizer, steps, what, hint):
    """The points visited by an optimizer on the quadratic bowl, from its start: a (steps + 1, 2) array."""
    x, y = (nt.tensor(float(v), requires_grad=True) for v in landscapes.QUADRATIC_BOWL.start)
    optimizer = call(make_optimizer, [x, y], hint=hint, what=what)
    path = [(x.item(), y.item())]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            landscapes.quadratic_bowl(x, y).backward()
            call(optimizer.step, hint=hint, what=f"{what}.step()")
            path.append((x.item(), y.item()))
    return np.array(path)


def bowl_loss(point):
    with np.errstate(all="ignore"):
        return 0.5 * (point[0] ** 2 + 10 * point[1] ** 2)


SGD_HINT = "update returns the amount to subtract: the learning rate times the gradient."



def _assert_on_path(yours, library, what, hint):
    """Every point of the student's path (one row per step) matches the library optimizer's."""
    steps_ok = np.isclose(yours, library).all(axis=1)
    step = np.argmin(steps_ok)
    assert steps_ok.all(), (f"{what} at step {step}: {yours[step].round(5).tolist()} instead of "
                            f"{library[step].round(5).tolist()}. Hint: {hint}")

@pytest.mark.exercise("sgd")
@pytest.mark.points(1)
def test_my_sgd_takes_gradient_steps(ns):
    MySGD = get(ns, "MySGD", "run the cell that defines class MySGD.")
    w = nt.Tensor([1.0, -2.0, 3.0], autograd=True)
    optimizer = call(MySGD, [w], 0.5, hint=SGD_HINT, what="MySGD([w], lr=0.5)")
    w.grad = nt.Tensor([2.0, 2.0, -4.0])
    call(optimizer.step, hint=SGD_HINT, what="MySGD.step()")
    assert np.allclose(w.data, [0.0, -3.0, 5.0]), (
        f"with lr 0.5 and gradient [2, 2, -4], w = [1, -2, 3] should become [0, -3, 5], got {w.data.tolist()}. "
        f"Hint: {SGD_HINT} (the base class subtracts it: do not change p.data yourself).")


LR_HINT = "try values in `walk` or the explorer: the bowl's steep direction has curvature 10."


def sgd_final_loss(lr):
    return bowl_loss(bowl_path(lambda params: nt.optimizers.SGDOptimizer(params, lr=lr), 30, "SGD", LR_HINT)[-1])


START = bowl_loss(landscapes.QUADRATIC_BOWL.start)


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_lr_too_small(ns):
    final = sgd_final_loss(get(ns, "lr_too_small", "set lr_too_small in the learning-rate cell."))
    assert final > START / 2, (
        f"with lr_too_small the loss after 30 steps is {final:.4g}, not above half the start ({START / 2:.4g}). "
        f"Hint: smaller still; with lr 0.01 the walker already covers most of the way.")


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_lr_just_right(ns):
    final = sgd_final_loss(get(ns, "lr_just_right", "set lr_just_right in the learning-rate cell."))
    assert final < 1e-3, (
        f"with lr_just_right the loss after 30 steps is {final:.4g}, not below 0.001. Hint: as large as you "
        f"can without the steep direction oscillating out of control (lr * 10 below 2), but large enough for the "
        f"shallow direction to get there in 30 steps.")


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_lr_too_large(ns):
    final = sgd_final_loss(get(ns, "lr_too_large", "set lr_too_large in the learning-rate cell."))
    assert not final <= START, (
        f"with lr_too_large the loss after 30 steps is {final:.4g}, below the start ({START:.4g}). Hint: a step "
        f"overshoots and lands farther away than it started when lr * 10 > 2.")


MOMENTUM_HINT = ("the new velocity is momentum times the previous one (0 the first time) plus grad; keep it in "
                 "self.velocity[i] for the next step and return lr times it.")


@pytest.mark.exercise("momentum")
@pytest.mark.points(1)
def test_my_momentum_follows_the_library(ns):
    MyMomentum = get(ns, "MyMomentum", "run the cell that defines class MyMomentum.")
    yours = bowl_path(lambda params: MyMomentum(params, lr=0.03, momentum=0.9), 10, "MyMomentum", MOMENTUM_HINT)
    library = bowl_path(lambda params: nt.optimizers.SGDOptimizer(params, lr=0.03, momentum=0.9), 10, "SGD", "")
    _assert_on_path(yours, library, "MyMomentum(lr=0.03, momentum=0.9) leaves the path of SGD with momentum",
                    MOMENTUM_HINT)


ADAM_HINT = ("go through the formulas in the text line by line: keep m, v and t per parameter number i "
             "(self.m[i], self.v[i], self.t[i]), count t from 1, and bias-correct with 1 - beta**t.")


@pytest.mark.exercise("adam")
@pytest.mark.points(0.5)
def test_my_adam_first_step_is_lr_per_coordinate(ns):
    MyAdam = get(ns, "MyAdam", "run the cell that defines class MyAdam.")
    path = bowl_path(lambda params: MyAdam(params, lr=0.2), 1, "MyAdam", ADAM_HINT)
    moved = np.abs(path[1] - path[0])
    assert np.allclose(moved, 0.2, atol=1e-5), (
        f"Adam's first step should move each coordinate by about lr = 0.2, but it moved {moved.round(5).tolist()}. "
        f"Hint: with bias correction m_hat = grad and v_hat = grad**2 at t = 1, so the step is lr * grad / |grad|.")


@pytest.mark.exercise("adam")
@pytest.mark.points(1)
def test_my_adam_follows_the_library(ns):
    MyAdam = get(ns, "MyAdam", "run the cell that defines class MyAdam.")
    yours = bowl_path(lambda params: MyAdam(params, lr=0.2), 15, "MyAdam", ADAM_HINT)
    library = bowl_path(lambda params: nt.optimizers.AdamOptimizer(params, lr=0.2), 15, "Adam", "")
    _assert_on_path(yours, library, "MyAdam(lr=0.2) leaves the library Adam's path", ADAM_HINT)


COMPARE_HINT = ("follow the four steps of the exercise; record each loss as a float before its backward and "
                "optimizer step.")


@pytest.mark.exercise("compare")
@pytest.mark.points(1)
def test_train_mlp_starts_every_run_alike(ns):
    train_mlp = get(ns, "train_mlp", "run the cell that defines train_mlp.")
    make = lambda params: nt.optimizers.SGDOptimizer(params, lr=0.1)
    first = call(train_mlp, make, 5, hint=COMPARE_HINT, what="train_mlp(..., steps=5)")
    second = call(train_mlp, make, 5, hint=COMPARE_HINT, what="train_mlp(..., steps=5)")
    assert isinstance(first, list) and len(first) == 5 and all(isinstance(v, float) for v in first), (
        f"train_mlp(make_optimizer, steps=5) should return a list of 5 floats, got {first!r:.100}. "
        f"Hint: {COMPARE_HINT}")
    assert first == second, (
        f"two runs with the same optimizer gave different losses ({first[0]:.5f} and {second[0]:.5f} at the "
        f"first step), so they started from different weights. Hint: call np.random.seed(0) inside train_mlp, "
        f"just before make_spiral_mlp().")
    assert first[-1] < first[0], f"the loss did not go down in 5 steps of SGD: {first}. Hint: {COMPARE_HINT}"


@pytest.mark.exercise("compare")
@pytest.mark.points(0.5)
def test_curves_show_the_race(ns):
    curves = get(ns, "curves", "run the cell that fills in curves.")
    assert len(curves) == 3 and all(len(losses) == 200 for losses in curves.values()), (
        f"curves should hold three runs of 200 losses, got {[len(v) for v in curves.values()]}. Hint: keep the "
        f"three train_mlp calls of the cell, with the default steps=200.")
    sgd, momentum, adam = (losses[-1] for losses in curves.values())
    assert momentum < sgd - 0.2 and adam < sgd - 0.2, (
        f"after 200 steps: SGD {sgd:.3f}, momentum {momentum:.3f}, Adam {adam:.3f}; momentum and Adam should "
        f"both end well below SGD. Hint: check MyMomentum and MyAdam first, then that train_mlp uses the optimizer "
        f"it is given.")
