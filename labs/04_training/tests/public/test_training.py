"""Public tests of lab 4 (layers and training): run them with the check cells. Hidden tests run at grading."""

import numpy as np
import pytest

from labs.testing import call, get
import numtorch as nt


def small_regression():
    """A LinearLayer(3, 1), an MSE loss, SGD with lr=0.05 and a batch of 4 (data, target)."""
    np.random.seed(3)
    layer = nt.layers.LinearLayer(3, 1)
    data, target = nt.Tensor(np.random.randn(4, 3)), nt.Tensor(np.random.randn(4, 1))
    return layer, nt.layers.MSELoss(), nt.optimizers.SGDOptimizer(layer.get_params(), lr=0.05), data, target


MLP_HINT = "chain a LinearLayer, a Tanh and a second LinearLayer in an nt.layers.SequentialLayer([...])."


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
def test_make_mlp_output_shape(ns):
    model = call(get(ns, "make_mlp"), 3, 5, 2, hint=MLP_HINT)
    out = call(model, nt.Tensor(np.ones((4, 3))), hint="the model must accept a (batch, n_in) Tensor; " + MLP_HINT,
               what="the model from make_mlp(3, 5, 2)")
    assert isinstance(out, nt.Tensor) and out.shape == (4, 2), (
        f"make_mlp(3, 5, 2) on a (4, 3) batch should give a (4, 2) Tensor, got {getattr(out, 'shape', out)!r}. "
        f"Hint: the last layer maps n_hidden to n_out.")


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
def test_make_mlp_parameters(ns):
    model = call(get(ns, "make_mlp"), 3, 5, 2, hint=MLP_HINT)
    shapes = [p.shape for _, p in model.named_parameters()]
    assert shapes == [(3, 5), (5,), (5, 2), (2,)], (
        f"make_mlp(3, 5, 2) should have parameters of shapes [(3, 5), (5,), (5, 2), (2,)] (two weights and two "
        f"biases), got {shapes}. Hint: {MLP_HINT}")


@pytest.mark.exercise("train_step")
@pytest.mark.points(0.5)
def test_train_step_returns_the_loss_before_the_update(ns):
    layer, criterion, optimizer, data, target = small_regression()
    expected = criterion(layer(data), target).item()
    loss = call(get(ns, "train_step"), layer, criterion, optimizer, data, target,
                hint="the step is forward, loss, backward, optimizer step, in that order.")
    assert isinstance(loss, float), (
        f"train_step should return a Python float, got {type(loss).__name__}. Hint: return loss.item().")
    assert np.isclose(loss, expected), (
        f"train_step returned {loss}, but the loss before the update is {expected}. "
        f"Hint: compute the loss from model(data) first, and return that value (not a loss computed after step).")


@pytest.mark.exercise("train_step")
@pytest.mark.points(0.5)
def test_train_step_updates_and_clears_gradients(ns):
    layer, criterion, optimizer, data, target = small_regression()
    before = [p.data.copy() for p in layer.get_params()]
    call(get(ns, "train_step"), layer, criterion, optimizer, data, target,
         hint="forward, loss, loss.backward(), optimizer.step().")
    moved = [not np.allclose(b, p.data) for b, p in zip(before, layer.get_params())]
    assert all(moved), "train_step did not change every parameter. Hint: call loss.backward() and then optimizer.step()."
    assert all(p.grad is None for p in layer.get_params()), (
        "after train_step the gradients should be cleared. Hint: optimizer.step() clears them; do not call "
        "loss.backward() again after the step.")


@pytest.mark.exercise("xor")
@pytest.mark.points(0.5)
def test_xor_loss_is_small(ns):
    losses = get(ns, "xor_losses", "run the XOR training cell.")
    assert len(losses) > 1, "xor_losses is empty. Hint: append the value train_step returns, once per step."
    assert losses[-1] < 0.01, (
        f"the last XOR loss is {losses[-1]:.4f}, it should be below 0.01. "
        f"Hint: 1000 steps of train_step with SGD lr=0.1 on make_mlp(2, 8, 1).")


@pytest.mark.exercise("xor")
@pytest.mark.points(0.5)
def test_xor_predictions(ns):
    model = get(ns, "xor_model", "build xor_model = make_mlp(2, 8, 1) in the XOR cell and train it.")
    prediction = model(nt.Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])).data.ravel()
    assert np.all(np.abs(prediction - [0, 1, 1, 0]) < 0.2), (
        f"xor_model predicts {np.round(prediction, 3)} for the inputs 00, 01, 10, 11; XOR is [0, 1, 1, 0]. "
        f"Hint: train xor_model itself (the same object) for 1000 steps.")


CE_HINT = ("take log_softmax over the classes (dim=1), pick each row's entry at its label with two index "
           "arrays, average, and negate.")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
def test_cross_entropy_value(ns):
    np.random.seed(4)
    logits, labels = nt.Tensor(np.random.randn(5, 3), autograd=True), np.array([0, 2, 1, 1, 0])
    loss = call(get(ns, "cross_entropy"), logits, labels, hint=CE_HINT)
    expected = nt.layers.CrossEntropyLoss()(logits, labels).item()
    assert isinstance(loss, nt.Tensor) and loss.size == 1, (
        f"cross_entropy should return a scalar Tensor, got {loss!r:.80}. Hint: keep the computation in Tensors "
        f"and end with .mean().")
    assert np.isclose(loss.item(), expected), (
        f"cross_entropy gave {loss.item():.5f}, expected {expected:.5f}. Hint: {CE_HINT}")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
def test_cross_entropy_gradient(ns):
    np.random.seed(5)
    logits, labels = nt.Tensor(np.random.randn(4, 3), autograd=True), np.array([2, 0, 1, 2])
    call(get(ns, "cross_entropy"), logits, labels, hint=CE_HINT).backward()
    assert logits.grad is not None, "no gradient reached the logits. Hint: build the loss from Tensor operations."
    yours = logits.grad.data
    logits.grad = None
    nt.layers.CrossEntropyLoss()(logits, labels).backward()
    assert np.allclose(yours, logits.grad.data), (
        "the gradient of your cross_entropy differs from the library's. Hint: average over the rows with .mean() "
        "and take the minus sign.")


@pytest.mark.exercise("accuracy")
@pytest.mark.points(0.5)
def test_accuracy_small_example(ns):
    logits = nt.Tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    value = call(get(ns, "accuracy"), logits, np.array([0, 1, 1]),
                 hint="compare each row's argmax with its label and average the matches.")
    assert np.isclose(value, 2 / 3), (
        f"rows 0 and 1 are right and row 2 is wrong, so accuracy is 2/3; got {value}. "
        f"Hint: the predicted class of a row is the position of its largest logit (argmax along axis 1).")


@pytest.mark.exercise("moons")
@pytest.mark.points(1)
def test_moons_test_accuracy(ns):
    value = get(ns, "moons_test_accuracy", "run the moons cell; it ends with moons_test_accuracy = accuracy(...).")
    assert value >= 0.9, (
        f"test accuracy {value:.2f} is below 0.9. Hint: make_mlp(2, 16, 2), CrossEntropyLoss, SGD lr=0.5, "
        f"300 steps on nt.Tensor(train_x) and train_y; measure on test_x, test_y.")
