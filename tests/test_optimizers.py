"""Optimizers: convergence on XOR and a small classification, PyTorch's update rules, the bookkeeping."""

import numpy as np
import pytest

import numtorch as nt
from numtorch.layers import CrossEntropyLoss, LinearLayer, MSELoss, ReLU, SequentialLayer, Sigmoid, Tanh
from numtorch.optimizers import AdamOptimizer, SGDOptimizer

OPTIMIZERS = {
    "sgd": lambda params: SGDOptimizer(params, lr=0.5),
    "momentum": lambda params: SGDOptimizer(params, lr=0.1, momentum=0.9),
    "adam": lambda params: AdamOptimizer(params, lr=0.05),
}
XOR_X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0.0], [1], [1], [0]])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_xor_with_a_tanh_sigmoid_mlp(name):
    model = SequentialLayer([LinearLayer(2, 8), Tanh(), LinearLayer(8, 1), Sigmoid()])
    optimizer, criterion = OPTIMIZERS[name](model.get_params()), MSELoss()
    data, target = nt.Tensor(XOR_X), nt.Tensor(XOR_Y)
    for _ in range(1000):
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.01
    np.testing.assert_array_equal(model(data).data.round(), XOR_Y)


def blobs(n_per_class=40, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x = np.concatenate([c + 0.5 * rng.standard_normal((n_per_class, 2)) for c in centres])
    return x, np.repeat(np.arange(3), n_per_class)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_small_synthetic_classification_with_cross_entropy(name):
    x, labels = blobs()
    model = SequentialLayer([LinearLayer(2, 16), ReLU(), LinearLayer(16, 3)])
    optimizer, criterion = OPTIMIZERS[name](model.get_params()), CrossEntropyLoss()
    for _ in range(200):
        loss = criterion(model(nt.Tensor(x)), labels)
        loss.backward()
        optimizer.step()
    x_test, labels_test = blobs(seed=1)
    accuracy = (model(nt.Tensor(x_test)).argmax(dim=1).data == labels_test).mean()
    assert loss.item() < 0.1 and accuracy >= 0.95


# ---- the update rules, against PyTorch -----------------------------------------------------------------

@pytest.mark.parametrize("make, make_torch", [
    (lambda p: SGDOptimizer(p, lr=0.1), lambda T, p: T.optim.SGD(p, lr=0.1)),
    (lambda p: SGDOptimizer(p, lr=0.1, momentum=0.9), lambda T, p: T.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda p: AdamOptimizer(p, lr=0.1), lambda T, p: T.optim.Adam(p, lr=0.1)),
    (lambda p: AdamOptimizer(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
     lambda T, p: T.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    (lambda p: SGDOptimizer(p, lr=0.1, weight_decay=0.3), lambda T, p: T.optim.SGD(p, lr=0.1, weight_decay=0.3)),
    (lambda p: SGDOptimizer(p, lr=0.1, momentum=0.9, nesterov=True),
     lambda T, p: T.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    (lambda p: SGDOptimizer(p, lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True),
     lambda T, p: T.optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True)),
], ids=["sgd", "momentum", "adam", "adam-settings", "weight-decay", "nesterov", "nesterov-weight-decay"])
def test_update_rules_match_pytorch(make, make_torch, torch):
    start = np.array([1.5, -2.0, 0.5])
    w = nt.Tensor(start, autograd=True)
    tw = torch.tensor(start, requires_grad=True)
    optimizer, twin = make([w]), make_torch(torch, [tw])
    for _ in range(5):
        ((w ** 2) * np.array([1.0, 3.0, 0.1]) + w.exp()).sum().backward()
        optimizer.step()
        twin.zero_grad()
        ((tw ** 2) * torch.tensor([1.0, 3.0, 0.1], dtype=torch.float64) + tw.exp()).sum().backward()
        twin.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)


# ---- bookkeeping ------------------------------------------------------------------------------------------

def test_parameters_without_a_gradient_are_skipped():
    used, unused = nt.Tensor([1.0], autograd=True), nt.Tensor([2.0], autograd=True)
    for optimizer in (SGDOptimizer([used, unused], lr=0.1, momentum=0.9), AdamOptimizer([used, unused], lr=0.1)):
        (used * 3).sum().backward()
        optimizer.step()
        assert unused.data.tolist() == [2.0]
        assert used.data[0] < 1.0
        used.data[:] = 1.0


@pytest.mark.parametrize("make", [lambda p: SGDOptimizer(p, lr=0.1), lambda p: SGDOptimizer(p, lr=0.1, momentum=0.5),
                                  lambda p: AdamOptimizer(p, lr=0.1)], ids=["sgd", "momentum", "adam"])
def test_integer_valued_parameters_update_correctly(make):
    w = nt.Tensor([0.0, 0.0], autograd=True)
    w.data = np.array([1, 2])  # set by hand to integers
    reference = nt.Tensor([1.0, 2.0], autograd=True)
    opt, ref_opt = make([w]), make([reference])
    for _ in range(3):
        for p, o in ((w, opt), (reference, ref_opt)):
            (p * np.array([0.5, -0.25])).sum().backward()
            o.step()
    assert w.dtype.kind == "f", "a fractional step must not be truncated to an integer"
    np.testing.assert_allclose(w.data, reference.data, rtol=1e-15)
    assert abs(w.data[0] - 1.0) > 0.01


def test_an_integer_scalar_parameter_stays_an_array():
    w = nt.Tensor(0.0, autograd=True)
    w.data = np.array(3)
    (w * w).backward()
    SGDOptimizer([w], lr=0.1).step()
    assert type(w.data) is np.ndarray and w.data.shape == () and w.item() == pytest.approx(2.4)


def test_integer_parameters_with_integer_steps_stay_exact():
    w = nt.Tensor([0.0], autograd=True)
    w.data = np.array([5])
    (w * 2).sum().backward()
    SGDOptimizer([w], lr=1).step()
    assert w.data.tolist() == [3]


def test_step_zeroes_grads_unless_told_not_to():
    w = nt.Tensor([1.0, 2.0], autograd=True)
    optimizer = SGDOptimizer([w], lr=0.1)
    (w * 2).sum().backward()
    optimizer.step(zero=False)
    np.testing.assert_allclose(w.data, [0.8, 1.8])
    np.testing.assert_array_equal(w.grad.data, [2.0, 2.0])
    optimizer.step()  # uses the kept gradient once more, then clears it
    np.testing.assert_allclose(w.data, [0.6, 1.6])
    assert w.grad is None
    for clear in (optimizer.zero, optimizer.zero_grad):
        (w * 2).sum().backward()
        clear()
        assert w.grad is None


def test_reset_forgets_the_state():
    w = nt.Tensor([1.0], autograd=True)
    optimizer = SGDOptimizer([w], lr=0.1, momentum=0.9)
    for _ in range(2):
        (w * 1).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(w.data, [1 - 0.1 - 0.19])
    optimizer.reset()
    (w * 1).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(w.data, [1 - 0.1 - 0.19 - 0.1], err_msg="after reset the velocity starts from zero")
    adam = AdamOptimizer([w], lr=0.5)
    for _ in range(3):
        (w * 1).sum().backward()
        adam.step()
    adam.reset()
    before = w.data.copy()
    (w * 1).sum().backward()
    adam.step()
    np.testing.assert_allclose(before - w.data, [0.5], rtol=1e-6, err_msg="Adam's first step after reset is lr")


def test_learning_rate_can_change_between_steps():
    w = nt.Tensor([1.0], autograd=True)
    optimizer = SGDOptimizer(params=[w], lr=0.1)
    optimizer.lr = 0.5
    (w * 1).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(w.data, [0.5])


def test_params_may_be_a_list_a_generator_a_layer_or_one_tensor():
    model = SequentialLayer([LinearLayer(2, 2)])
    for params in (model.get_params(), model.parameters(), model):
        assert SGDOptimizer(params).params == model.get_params()
    w = nt.Tensor([1.0], autograd=True)
    assert SGDOptimizer(w).params == [w]


def test_a_parameter_listed_twice_is_updated_once():
    model = SequentialLayer([LinearLayer(2, 1)])
    with pytest.warns(UserWarning, match="listed twice"):
        optimizer = SGDOptimizer(model.get_params() + model[0].get_params(), lr=0.1)
    assert optimizer.params == model.get_params()
    weight = model[0].weight
    before = weight.data.copy()
    (weight * 1).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(weight.data, before - 0.1)
