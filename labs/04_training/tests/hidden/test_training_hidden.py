"""Hidden tests of lab 4 (layers and training): they run at grading and check more than the public ones."""

import numpy as np
import pytest

from labs.testing import call, get
import numtorch as nt
from numtorch.testing import numerical_grad


MLP_HINT = "build three new layers inside make_mlp at every call: LinearLayer, Tanh, LinearLayer."
STEP_HINT = ("forward with model(data), the loss with criterion(prediction, target), then backward and one "
             "optimizer step; return the loss as a float.")


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
def test_make_mlp_builds_fresh_parameters(ns):
    first = call(get(ns, "make_mlp"), 2, 4, 1, hint=MLP_HINT)
    second = call(get(ns, "make_mlp"), 2, 4, 1, hint=MLP_HINT)
    shared = {id(p) for p in first.parameters()} & {id(p) for p in second.parameters()}
    assert not shared, ("two calls of make_mlp share parameters, so training one model changes the other. "
                        f"Hint: {MLP_HINT}")
    out = call(call(get(ns, "make_mlp"), 7, 3, 5, hint=MLP_HINT), nt.Tensor(np.ones((2, 7))), hint=MLP_HINT,
               what="the model from make_mlp(7, 3, 5)")
    assert out.shape == (2, 5), f"make_mlp(7, 3, 5) maps a (2, 7) batch to {out.shape}, not (2, 5). Hint: {MLP_HINT}"


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
def test_make_mlp_is_not_linear(ns):
    np.random.seed(6)
    model = call(get(ns, "make_mlp"), 2, 6, 1, hint=MLP_HINT)
    a, b, zero = (nt.Tensor(v) for v in ([[1.5, -2.0]], [[-0.5, 3.0]], [[0.0, 0.0]]))
    f = lambda x: call(model, x, hint=MLP_HINT, what="the model from make_mlp").data
    assert not np.allclose(f(a + b) - f(b), f(a) - f(zero)), (
        "the model from make_mlp is linear (f(a + b) - f(b) = f(a) - f(0)), so it cannot learn XOR. "
        "Hint: put nt.layers.Tanh() between the two LinearLayers.")


def regression(seed, n_in=3):
    np.random.seed(seed)
    layer = nt.layers.LinearLayer(n_in, 1)
    return layer, nt.Tensor(np.random.randn(5, n_in)), nt.Tensor(np.random.randn(5, 1))


def mse_of(data, target):
    return lambda w, b: (((data @ w + b) - target) ** 2).mean()


@pytest.mark.exercise("train_step")
@pytest.mark.points(1)
def test_train_step_is_one_step_of_gradient_descent(ns):
    layer, data, target = regression(7)
    optimizer = nt.optimizers.SGDOptimizer(layer.get_params(), lr=0.05)
    for step in range(3):
        w, b = layer.weight.data.copy(), layer.bias.data.copy()
        gw, gb = numerical_grad(mse_of(data, target), w, b)
        call(get(ns, "train_step"), layer, nt.layers.MSELoss(), optimizer, data, target, hint=STEP_HINT)
        assert np.allclose(layer.weight.data, w - 0.05 * gw, atol=1e-6), (
            f"step {step + 1}: the weight did not move by -lr * gradient. Hint: gradients of leaves accumulate; "
            f"optimizer.step() clears them after the update, so call backward exactly once per step. {STEP_HINT}")
        assert np.allclose(layer.bias.data, b - 0.05 * gb, atol=1e-6), (
            f"step {step + 1}: the bias did not move by -lr * gradient. Hint: {STEP_HINT}")


@pytest.mark.exercise("train_step")
@pytest.mark.points(1)
def test_train_step_with_cross_entropy(ns):
    np.random.seed(8)
    layer = nt.layers.LinearLayer(3, 4)
    data, labels = nt.Tensor(np.random.randn(6, 3)), np.array([0, 1, 2, 3, 1, 0])
    optimizer = nt.optimizers.SGDOptimizer(layer.get_params(), lr=0.5)
    losses = [call(get(ns, "train_step"), layer, nt.layers.CrossEntropyLoss(), optimizer, data, labels, hint=STEP_HINT)
              for _ in range(20)]
    assert all(isinstance(v, float) for v in losses), f"train_step must return a float each time. Hint: {STEP_HINT}"
    assert losses[-1] < losses[0] - 0.3, (
        f"20 steps with CrossEntropyLoss took the loss from {losses[0]:.3f} to {losses[-1]:.3f} only. "
        f"Hint: train_step must work for any criterion and integer class targets: {STEP_HINT}")


@pytest.mark.exercise("xor")
@pytest.mark.points(0.5)
def test_xor_model_is_trained(ns):
    model = get(ns, "xor_model", "build and train xor_model in the XOR cell.")
    data = nt.Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    loss = nt.layers.MSELoss()(model(data), nt.Tensor([[0.0], [1.0], [1.0], [0.0]])).item()
    assert loss < 0.01, f"xor_model's MSE on XOR is {loss:.4f}, above 0.01. Hint: train the model you named xor_model."
    hidden = [p.shape for _, p in model.named_parameters()][:1]
    assert hidden == [(2, 8)], f"xor_model's first weight has shape {hidden}, expected [(2, 8)]. Hint: make_mlp(2, 8, 1)."


@pytest.mark.exercise("xor")
@pytest.mark.points(0.5)
def test_xor_losses_record_the_training(ns):
    losses = get(ns, "xor_losses", "run the XOR training cell.")
    assert len(losses) == 1000, (
        f"xor_losses has {len(losses)} entries; expected one per step, 1000. Hint: append train_step's value "
        f"inside the loop.")
    assert all(isinstance(v, float) for v in losses), "xor_losses should hold floats. Hint: train_step returns loss.item()."
    assert losses[-1] < losses[0] / 10, (
        f"the loss went from {losses[0]:.4f} to {losses[-1]:.4f}; it should fall at least tenfold. "
        f"Hint: make one model, one optimizer, and step them 1000 times.")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
def test_cross_entropy_is_stable_for_large_logits(ns):
    logits = nt.Tensor([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]], autograd=True)
    labels = np.array([1, 2])
    loss = call(get(ns, "cross_entropy"), logits, labels, hint="use logits.log_softmax(dim=1), not softmax then log.")
    assert np.isfinite(loss.item()) and np.isclose(loss.item(), 900.0), (
        f"for logits of size 1000 the loss should be 900 (finite), got {loss.item()}. Hint: softmax(...).log() "
        f"rounds tiny probabilities to 0 and gives inf; logits.log_softmax(dim=1) stays finite.")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
def test_cross_entropy_without_the_library_loss(ns, monkeypatch):
    def forbidden(*args, **kwargs):
        raise RuntimeError("the exercise asks you to write cross-entropy without the library's loss")

    monkeypatch.setattr(nt.Tensor, "cross_entropy", forbidden)
    monkeypatch.setattr(nt.layers.CrossEntropyLoss, "forward", forbidden)
    np.random.seed(9)
    logits, labels = nt.Tensor(np.random.randn(1, 4), autograd=True), np.array([3])
    loss = call(get(ns, "cross_entropy"), logits, labels,
                hint="build it from log_softmax and indexing, without .cross_entropy or CrossEntropyLoss.")
    expected = -(logits.data[0, 3] - np.log(np.exp(logits.data[0]).sum()))
    assert np.isclose(loss.item(), expected), (
        f"for one row the loss should be -log softmax[label] = {expected:.5f}, got {loss.item():.5f}. "
        f"Hint: pick one log-probability per row, the one at that row's label.")


@pytest.mark.exercise("accuracy")
@pytest.mark.points(0.5)
def test_accuracy_edge_cases(ns):
    hint = "the fraction of rows whose argmax equals the label, converted with float(...)."
    logits = nt.Tensor([[0.1, 0.5, 0.2], [3.0, 1.0, 2.0], [0.0, -1.0, 4.0], [1.0, 2.0, 0.0]])
    right = call(get(ns, "accuracy"), logits, np.array([1, 0, 2, 1]), hint=hint)
    wrong = call(get(ns, "accuracy"), logits, np.array([0, 1, 1, 2]), hint=hint)
    half = call(get(ns, "accuracy"), logits, np.array([1, 1, 2, 0]), hint=hint)
    assert type(right) is float, f"accuracy should return a Python float, got {type(right).__name__}. Hint: {hint}"
    assert (right, wrong, half) == (1.0, 0.0, 0.5), (
        f"with 3 classes: all right should give 1.0, all wrong 0.0, two of four 0.5; got {right}, {wrong}, {half}. "
        f"Hint: {hint}")


@pytest.mark.exercise("moons")
@pytest.mark.points(0.5)
def test_moons_model_generalises_to_fresh_data(ns):
    model = get(ns, "moons_model", "build and train moons_model in the moons cell.")
    points, labels = get(ns, "make_moons", "run the cell that makes the moons data.")(400, 0.15, 123)
    predicted = model(nt.Tensor(points)).data.argmax(axis=1)
    fresh = np.mean(predicted == labels)
    assert fresh >= 0.9, (
        f"moons_model classifies {fresh:.2f} of 400 new moon points correctly; it should reach 0.9. "
        f"Hint: train make_mlp(2, 16, 2) with CrossEntropyLoss and SGD lr=0.5 for 300 steps.")


@pytest.mark.exercise("moons")
@pytest.mark.points(0.5)
def test_moons_losses_and_reported_accuracy(ns):
    losses = get(ns, "moons_losses", "run the moons cell.")
    assert len(losses) == 300 and losses[-1] < losses[0] / 3, (
        f"moons_losses should hold 300 losses falling at least threefold; got {len(losses)} from "
        f"{losses[0] if losses else None} to {losses[-1] if losses else None}. Hint: append train_step's value.")
    model, test_x, test_y = (get(ns, n, "run the moons cells.") for n in ("moons_model", "test_x", "test_y"))
    actual = np.mean(model(nt.Tensor(test_x)).data.argmax(axis=1) == test_y)
    reported = get(ns, "moons_test_accuracy", "run the moons cell.")
    assert np.isclose(reported, actual), (
        f"moons_test_accuracy is {reported}, but moons_model scores {actual} on test_x. Hint: "
        f"moons_test_accuracy = accuracy(moons_model(nt.Tensor(test_x)), test_y), after training.")
