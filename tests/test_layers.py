"""Layers: parameters and their names, calling, the built-in layers and losses, recurrent cells that learn."""

import numpy as np
import pytest

import numtorch as nt
from numtorch.layers import (CrossEntropyLoss, EmbeddingLayer, Layer, LinearLayer, LSTMCell, MSELoss, ReLU, RNNCell,
                             SequentialLayer, Sigmoid, Softmax, Tanh)
from numtorch.testing import gradcheck


def mlp():
    return SequentialLayer([LinearLayer(2, 3), Tanh(), LinearLayer(3, 1)])


# ---- parameters -----------------------------------------------------------------------------------

def test_sequential_parameters_with_dotted_names():
    model = mlp()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    params = model.get_params()
    assert isinstance(params, list) and len(params) == 4
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert params[0] is model.layers[0].weight and params[3] is model[2].bias
    assert all(p.autograd for p in params)


class Net(Layer):
    """Never calls super().__init__(), like the seed's RNN; parameters found by walking attributes."""

    def __init__(self):
        self.encoder = SequentialLayer([LinearLayer(2, 4), ReLU()])
        self.head = LinearLayer(4, 1, bias=False)
        self.scale = nt.Tensor(1.5, autograd=True)
        self.blocks = [LinearLayer(1, 1)]
        self.same_weight_again = self.head.weight
        self.constant = nt.Tensor(np.ones(3))  # does not track: not a parameter
        self.size = 4

    def forward(self, x, double=False):
        y = self.blocks[0](self.head(self.encoder(x))) * self.scale
        return y * 2 if double else y


def test_a_layer_without_super_init_finds_nested_parameters_once():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == [
        "encoder.0.weight", "encoder.0.bias", "head.weight", "scale", "blocks.0.weight", "blocks.0.bias"]
    assert len(net.get_params()) == 6
    x = nt.Tensor(np.ones((5, 2)))
    out = net(x)  # __call__ is forward
    np.testing.assert_array_equal(out.data, net.forward(x).data)
    np.testing.assert_array_equal(net(x, double=True).data, 2 * out.data)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert "encoder" in repr(net)


def test_layer_without_forward_says_so():
    class Empty(Layer):
        pass

    with pytest.raises(NotImplementedError, match="Empty"):
        Empty()(nt.Tensor([1.0]))


# ---- linear and sequential ---------------------------------------------------------------------------

def test_linear_layer_computes_x_w_plus_b():
    layer = LinearLayer(3, 2)
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (2,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.bias.data[:] = [0.5, -1.0]
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(layer(nt.Tensor(x)).data, x @ layer.weight.data + layer.bias.data)
    assert layer(nt.Tensor(x[0])).shape == (2,), "one example without a batch axis"
    assert gradcheck(lambda x, w, b: nt.operations.LinearOp.apply(x, w, b), x, layer.weight, layer.bias)


def test_linear_layer_initialisation_has_he_scale():
    w = LinearLayer(400, 300).weight.data
    assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)


def test_linear_layer_without_bias():
    layer = LinearLayer(3, 2, bias=False)
    assert layer.bias is None and layer.get_params() == [layer.weight]
    x = np.ones((4, 3))
    np.testing.assert_allclose(layer(nt.Tensor(x)).data, x @ layer.weight.data)


def test_sequential_add_len_index():
    model = SequentialLayer()
    assert len(model) == 0 and model.get_params() == []
    x = nt.Tensor(np.ones((2, 2)))
    assert model(x) is x, "an empty SequentialLayer passes its input through"
    assert model.add(LinearLayer(2, 3)).add(Sigmoid()) is model
    assert len(model) == 2 and isinstance(model[1], Sigmoid)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert model(x).shape == (2, 3)


def test_sequential_matches_pytorch(torch):
    model = mlp()
    x = np.random.default_rng(0).standard_normal((5, 2))
    y = np.random.default_rng(1).standard_normal((5, 1))
    loss = MSELoss()(model(nt.Tensor(x)), nt.Tensor(y))
    loss.backward()
    twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    with torch.no_grad():
        for layer, t in ((model[0], twin[0]), (model[2], twin[2])):
            t.weight.copy_(torch.tensor(layer.weight.data.T))
            t.bias.copy_(torch.tensor(layer.bias.data))
    expected = torch.nn.functional.mse_loss(twin(torch.tensor(x)), torch.tensor(y))
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for layer, t in ((model[0], twin[0]), (model[2], twin[2])):
        np.testing.assert_allclose(layer.weight.grad.data, t.weight.grad.numpy().T, rtol=1e-10)
        np.testing.assert_allclose(layer.bias.grad.data, t.bias.grad.numpy(), rtol=1e-10)


def test_pytorch_aliases():
    assert nt.layers.Linear is LinearLayer and nt.layers.Sequential is SequentialLayer
    assert nt.layers.Embedding is EmbeddingLayer and nt.layers.Module is Layer
    assert nt.optimizers.SGD is nt.optimizers.SGDOptimizer and nt.optimizers.Adam is nt.optimizers.AdamOptimizer


# ---- activations and losses --------------------------------------------------------------------------

@pytest.mark.parametrize("layer, method", [(Tanh(), "tanh"), (Sigmoid(), "sigmoid"), (ReLU(), "relu"),
                                           (Softmax(), "softmax")])
def test_activation_layers_call_the_tensor_method(layer, method):
    x = nt.Tensor(np.random.default_rng(0).standard_normal((3, 4)), autograd=True)
    np.testing.assert_array_equal(layer(x).data, getattr(x, method)().data)
    assert layer.get_params() == []


def test_softmax_layer_dim():
    x = nt.Tensor(np.random.default_rng(0).standard_normal((3, 4)))
    np.testing.assert_allclose(Softmax(dim=0)(x).data.sum(axis=0), 1.0)
    np.testing.assert_allclose(Softmax()(x).data.sum(axis=1), 1.0)


def test_mse_loss_is_the_mean_squared_error():
    pred = nt.Tensor(np.array([[0.5], [2.0], [-1.0]]), autograd=True)
    target = nt.Tensor(np.array([[0], [1], [1]]), {"autograd": False})  # integer targets, as in the seed
    loss = MSELoss()(pred, target)
    assert loss.shape == () and loss.item() == pytest.approx((0.25 + 1 + 4) / 3)
    loss.backward()
    np.testing.assert_allclose(pred.grad.data, 2 * (pred.data - target.data) / 3)
    assert target.grad is None


def test_mse_loss_refuses_shapes_that_would_broadcast():
    with pytest.raises(nt.ShapeError, match=r"\(3, 1\).*\(3,\)"):
        MSELoss()(nt.Tensor(np.zeros((3, 1)), autograd=True), nt.Tensor(np.zeros(3)))


def test_cross_entropy_loss(torch):
    logits = np.random.default_rng(0).standard_normal((4, 3))
    targets = np.array([2, 0, 1, 2])
    x = nt.Tensor(logits, autograd=True)
    loss = CrossEntropyLoss()(x, nt.Tensor(targets))
    loss.backward()
    t = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t, torch.tensor(targets))
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-10)


def test_cross_entropy_loss_by_hand():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    loss = CrossEntropyLoss()(nt.Tensor(logits, autograd=True), np.array([0, 2]))
    expected = -np.mean([2 - np.log(np.exp(2) + 2), -np.log(3)])
    assert loss.item() == pytest.approx(expected)


# ---- embedding -----------------------------------------------------------------------------------------

def test_embedding_lookup_and_gradient():
    embed = EmbeddingLayer(5, 3)
    assert embed.weight.shape == (5, 3) and [n for n, _ in embed.named_parameters()] == ["weight"]
    ids = np.array([[1, 4], [1, 0]])
    out = embed(ids)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data[0, 1], embed.weight.data[4])
    out.sum().backward()
    np.testing.assert_array_equal(embed.weight.grad.data[:, 0], [1, 2, 0, 0, 1])
    np.testing.assert_array_equal(embed(nt.Tensor(np.array([3]))).data, embed.weight.data[[3]])


# ---- recurrent cells -------------------------------------------------------------------------------------

def test_rnn_cell_shapes_and_parameters():
    cell = RNNCell(3, 5, 2)
    hidden = cell.init_hidden(batch_size=4)
    assert hidden.shape == (4, 5)
    output, hidden = cell(nt.Tensor(np.ones((4, 3))), hidden)
    assert output.shape == (4, 2) and hidden.shape == (4, 5)
    assert (hidden.data > 0).all() and (hidden.data < 1).all(), "sigmoid is the default activation"
    assert [n for n, _ in cell.named_parameters()] == [
        "w_ih.weight", "w_ih.bias", "w_hh.weight", "w_hh.bias", "w_ho.weight", "w_ho.bias"]


def test_lstm_cell_shapes_and_gradients():
    cell = LSTMCell(3, 4, 2)
    h, c = cell.init_hidden(batch_size=2)
    assert h.shape == c.shape == (2, 4) and h.data[:, 0].tolist() == [1, 1]
    output, (h, c) = cell(nt.Tensor(np.ones((2, 3))), (h, c))
    assert output.shape == (2, 2) and h.shape == c.shape == (2, 4)
    rng = np.random.default_rng(0)
    assert gradcheck(lambda x, h, c: cell(x, (h, c))[0], rng.standard_normal((2, 3)),
                     rng.standard_normal((2, 4)), rng.standard_normal((2, 4)))


# After a 0 the sequence goes on with 1 or 2, depending on what came before it: the cell must remember.
SEQUENCE = np.array([0, 1, 0, 2])


def _phases(steps):
    """Every phase of the repeating sequence as a batch: tokens of shape (4, steps + 1)."""
    return np.stack([np.resize(np.roll(SEQUENCE, -k), steps + 1) for k in range(len(SEQUENCE))])


def _train_next_token(cell, hidden, epochs, lr=0.05, steps=8):
    embed = EmbeddingLayer(3, 8)
    optimizer = nt.optimizers.AdamOptimizer(cell.get_params() + embed.get_params(), lr=lr)
    criterion = CrossEntropyLoss()
    tokens = _phases(steps)
    for _ in range(epochs):
        state, losses, correct = hidden(), [], []
        for t in range(steps):
            output, state = cell(embed(tokens[:, t]), state)
            if t >= 1:  # from the second step on, the past says which token follows a 0
                losses.append(criterion(output, tokens[:, t + 1]))
                correct.append(output.argmax(dim=1).data == tokens[:, t + 1])
        loss = sum(losses[1:], losses[0]) / len(losses)
        loss.backward()
        optimizer.step()
    return loss.item(), np.mean(correct)


def test_rnn_cell_learns_a_sequence_that_needs_memory():
    cell = RNNCell(8, 16, 3, activation="tanh")
    loss, accuracy = _train_next_token(cell, lambda: cell.init_hidden(batch_size=4), epochs=150)
    assert accuracy == 1.0 and loss < 0.1


def test_lstm_cell_learns_a_sequence_that_needs_memory():
    cell = LSTMCell(8, 16, 3)
    loss, accuracy = _train_next_token(cell, lambda: cell.init_hidden(batch_size=4), epochs=150)
    assert accuracy == 1.0 and loss < 0.1


def test_linear_layer_with_integer_weights_and_inputs_set_by_hand():
    layer = LinearLayer(2, 1)
    layer.weight.data = np.array([[1], [2]])  # a student checking the forward pass by hand
    out = layer(nt.Tensor([[1, 2], [3, 4]]))
    np.testing.assert_array_equal(out.data, [[5.0], [11.0]])
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.data, [[4], [6]])


def test_a_child_that_refers_back_to_its_parent_is_walked_once():
    class Child(Layer):
        def __init__(self, parent):
            self.parent = parent
            self.weight = nt.Tensor(np.ones(2), autograd=True)

    class Parent(Layer):
        def __init__(self):
            self.child = Child(self)
            self.also_child = self.child

    model = Parent()
    assert [name for name, _ in model.named_parameters()] == ["child.weight"]
    assert "(parent): ..." in repr(model)


def test_a_stored_intermediate_is_not_a_parameter():
    class Remembers(nt.layers.Layer):
        def __init__(self):
            self.lin = nt.layers.LinearLayer(2, 2)

        def forward(self, x):
            self.hidden = self.lin(x)  # an intermediate kept for inspection
            return self.hidden

    layer = Remembers()
    layer(nt.tensor(np.ones((1, 2)), requires_grad=True))
    assert [name for name, _ in layer.named_parameters()] == ["lin.weight", "lin.bias"]


# ---- issue 12: subclasses, dtypes, loss settings ------------------------------------------------------------

class WithHead(SequentialLayer):
    """A SequentialLayer subclass with an extra attribute: its parameters count too."""

    def __init__(self):
        super().__init__([LinearLayer(2, 3), Tanh()])
        self.head = LinearLayer(3, 1)

    def forward(self, x):
        return self.head(super().forward(x))


def test_a_sequential_subclass_keeps_the_parameters_of_extra_attributes():
    model = WithHead()
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "head.weight", "head.bias"]
    optimizer = nt.optimizers.SGD(model.get_params(), lr=0.1)
    before = model.head.weight.data.copy()
    model(nt.Tensor(np.ones((4, 2)))).sum().backward()
    optimizer.step()
    assert not np.array_equal(model.head.weight.data, before), "the optimizer trains the head"


def test_float_makes_a_model_float32_end_to_end(torch):
    model = SequentialLayer([LinearLayer(3, 4), Tanh(), LinearLayer(4, 2)])
    params = model.get_params()
    assert model.float() is model and all(p.dtype == np.float32 for p in model.parameters())
    assert [id(p) for p in model.parameters()] == [id(p) for p in params], "the same tensors: optimizers keep them"
    optimizer = nt.optimizers.SGD(params, lr=0.1, momentum=0.9)
    x = nt.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    for _ in range(2):
        out = model(x) * np.float64(0.5)
        loss = CrossEntropyLoss(weight=np.array([1.0, 2.0]))(out, np.array([0, 1, 1, 0, 1]))
        assert out.dtype == np.float32 and loss.dtype == np.float32
        loss.backward()
        assert all(p.grad.dtype == np.float32 for p in params)
        optimizer.step()
    assert all(p.dtype == np.float32 for p in params)
    model.double()
    assert all(p.dtype == np.float64 for p in params) and model(x.double()).dtype == np.float64


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_layers_take_pytorchs_settings(reduction, torch):
    rng = np.random.default_rng(0)
    logits, targets, weight = rng.standard_normal((6, 4)), np.array([0, 3, 1, 1, 2, 3]), np.array([1.0, 0.5, 2.0, 1.5])
    probabilities = np.exp(logits[::-1]) / np.exp(logits[::-1]).sum(axis=1, keepdims=True)
    cases = [(CrossEntropyLoss(weight=weight, reduction=reduction), torch.nn.CrossEntropyLoss(
                 weight=torch.tensor(weight), reduction=reduction), targets),
             (CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction), probabilities),
             (MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), probabilities)]
    for ours, theirs, target in cases:
        x, t = nt.Tensor(logits, autograd=True), torch.tensor(logits, requires_grad=True)
        out, expected = ours(x, nt.Tensor(target)), theirs(t, torch.tensor(target))
        out.backward()
        expected.backward(torch.ones_like(expected))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_cross_entropy_of_one_example_and_of_one_hot_rows():
    logits = nt.tensor([2.0, 0.5, -1.0], requires_grad=True)
    one = CrossEntropyLoss()(logits, np.array(0))
    batch = CrossEntropyLoss()(logits.reshape(1, -1), np.array([0]))
    one_hot = CrossEntropyLoss()(logits.reshape(1, -1), np.array([[1.0, 0.0, 0.0]]))
    assert one.shape == () and one.item() == pytest.approx(batch.item()) == pytest.approx(one_hot.item())
