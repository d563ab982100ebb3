"""Hidden tests of lab 5 (optimizers): they run at grading and check more than the public ones."""

import numpy as np
import pytest

from labs.testing import call, get
import numtorch as nt
from numtorch import landscapes


def matrix_problem(seed=11):
    """Parameters of different shapes, a (3, 2) matrix and a (2,) vector, and a loss with gradients on both."""
    rng = np.random.RandomState(seed)
    data, target = rng.randn(6, 3), rng.randn(6, 2)
    weight = nt.Tensor(rng.randn(3, 2), autograd=True)
    bias = nt.Tensor(rng.randn(2), autograd=True)
    return [weight, bias], lambda: (((nt.Tensor(data) @ weight + bias) - nt.Tensor(target)) ** 2).mean()


def trajectory(optimizer, params, loss, steps, what, hint, lr_schedule=None):
    """The parameters after each step, flattened: a (steps, n) array."""
    points = []
    for step in range(steps):
        if lr_schedule:
            optimizer.lr = lr_schedule(step)
        loss().backward()
        call(optimizer.step, hint=hint, what=f"{what}.step()")
        points.append(np.concatenate([p.data.ravel() for p in params]))
    return np.array(points)


def same_as_library(ns, name, settings, library_class, steps, hint, lr_schedule=None, subclass_of=None):
    """Run the student's optimizer class and the library's on the matrix problem; fail with a hint on a difference."""
    cls = get(ns, name, f"run the cell that defines class {name}.")
    if subclass_of is not None:
        assert not issubclass(cls, subclass_of), (
            f"{name} subclasses the library's {subclass_of.__name__}. Hint: subclass nt.optimizers.Optimizer and "
            f"write update yourself.")
    params, loss = matrix_problem()
    yours = trajectory(call(cls, params, *settings, hint=hint, what=name), params, loss, steps, name, hint, lr_schedule)
    params, loss = matrix_problem()
    library = trajectory(library_class(params, *settings), params, loss, steps, "library", "", lr_schedule)
    ok = np.isclose(yours, library, atol=1e-7).all(axis=1)
    assert ok.all(), (
        f"{name}{tuple(settings)} on a (3, 2) weight and a (2,) bias first differs from the library at step "
        f"{np.argmin(ok) + 1}. Hint: {hint}")


SGD_HINT = "return self.lr * grad, reading self.lr at every call (it may change during training)."


@pytest.mark.exercise("sgd")
@pytest.mark.points(1)
def test_my_sgd_with_changing_learning_rate(ns):
    same_as_library(ns, "MySGD", (0.1,), nt.optimizers.SGDOptimizer, 6, SGD_HINT,
                    lr_schedule=lambda step: 0.1 / (step + 1), subclass_of=nt.optimizers.SGDOptimizer)


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_learning_rates_are_ordered_numbers(ns):
    names = ("lr_too_small", "lr_just_right", "lr_too_large")
    values = [get(ns, name, f"set {name} in the learning-rate cell.") for name in names]
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values), (
        f"the learning rates should be positive numbers, got {values}. Hint: plain Python numbers such as 0.05.")
    assert values[0] < values[1] < values[2], (
        f"expected lr_too_small < lr_just_right < lr_too_large, got {values}. Hint: the loss crawls, converges or "
        f"diverges as the rate grows.")


MOMENTUM_HINT = ("keep one velocity per parameter number i in self.velocity, of that parameter's shape; start it "
                 "at 0; reset() must forget it.")


@pytest.mark.exercise("momentum")
@pytest.mark.points(0.5)
def test_my_momentum_keeps_one_velocity_per_parameter(ns):
    same_as_library(ns, "MyMomentum", (0.05, 0.8), nt.optimizers.SGDOptimizer, 12, MOMENTUM_HINT,
                    subclass_of=nt.optimizers.SGDOptimizer)


@pytest.mark.exercise("momentum")
@pytest.mark.points(0.5)
def test_my_momentum_reset_forgets_the_velocity(ns):
    MyMomentum = get(ns, "MyMomentum", "run the cell that defines class MyMomentum.")
    w = nt.Tensor([0.0], autograd=True)
    optimizer = call(MyMomentum, [w], 1.0, 0.5, hint=MOMENTUM_HINT, what="MyMomentum")
    for _ in range(3):
        w.grad = nt.Tensor([1.0])
        call(optimizer.step, hint=MOMENTUM_HINT, what="MyMomentum.step()")
    assert np.isclose(w.data[0], -(1 + 1.5 + 1.75)), (
        f"with lr 1, momentum 0.5 and a gradient of 1 three times, w should go 0 -> -1 -> -2.5 -> -4.25, got "
        f"{w.data[0]}. Hint: {MOMENTUM_HINT}")
    optimizer.reset()
    w.grad = nt.Tensor([1.0])
    call(optimizer.step, hint=MOMENTUM_HINT, what="MyMomentum.step()")
    assert np.isclose(w.data[0], -5.25), (
        f"after reset() the velocity should start again from 0, so the next step is -1 (to -5.25), got "
        f"{w.data[0]}. Hint: keep the velocity in the dictionary that reset() creates.")


ADAM_HINT = ("keep m, v and t per parameter number i; t counts from 1 for each parameter; honour betas and eps "
             "given to __init__ (self.betas, self.eps).")


@pytest.mark.exercise("adam")
@pytest.mark.points(1)
def test_my_adam_on_parameters_of_different_shapes(ns):
    same_as_library(ns, "MyAdam", (0.05,), nt.optimizers.AdamOptimizer, 20, ADAM_HINT,
                    subclass_of=nt.optimizers.AdamOptimizer)


@pytest.mark.exercise("adam")
@pytest.mark.points(0.5)
def test_my_adam_honours_its_settings(ns):
    same_as_library(ns, "MyAdam", (0.1, (0.5, 0.9), 0.1), nt.optimizers.AdamOptimizer, 8, ADAM_HINT)


def spiral_loss_at_start(ns):
    """The loss of make_spiral_mlp() built right after np.random.seed(0), on the whole spirals set."""
    np.random.seed(0)
    model = get(ns, "make_spiral_mlp", "run the cell that makes the spirals.")()
    x, y = get(ns, "spiral_x", "run the spirals cell."), get(ns, "spiral_y", "run the spirals cell.")
    return nt.layers.CrossEntropyLoss()(model(nt.Tensor(x)), y).item()


@pytest.mark.exercise("compare")
@pytest.mark.points(0.5)
def test_train_mlp_records_the_loss_before_each_step(ns):
    hint = ("seed 0 just before make_spiral_mlp(), use the optimizer make_optimizer returns, and append "
            "loss.item() before the update; train for `steps` steps.")
    train_mlp = get(ns, "train_mlp", "run the cell that defines train_mlp.")
    losses = call(train_mlp, lambda params: nt.optimizers.AdamOptimizer(params, lr=0.01), 7, hint=hint,
                  what="train_mlp(..., steps=7)")
    assert len(losses) == 7, f"train_mlp(..., steps=7) returned {len(losses)} losses. Hint: {hint}"
    start = spiral_loss_at_start(ns)
    assert np.isclose(losses[0], start), (
        f"the first loss should be the untrained model's, {start:.5f}, got {losses[0]:.5f}. Hint: {hint}")
    frozen = call(train_mlp, lambda params: nt.optimizers.SGDOptimizer(params, lr=0.0), 3, hint=hint,
                  what="train_mlp(..., steps=3)")
    assert np.allclose(frozen, start), (
        f"with a learning rate of 0 every loss should equal the start, {start:.5f}; got {frozen}. Hint: {hint}")
