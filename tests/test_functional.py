"""numtorch.functional and the layers built on it: dropout, batch norm's two modes, train()/eval(), a small
CNN and attention against PyTorch, and errors that name the op, the shapes and the fix.

The ops' gradients are checked by the op table (tests/test_ops.py); these tests check what the table cannot:
randomness, running statistics, modes, and layers put together.
"""

import numpy as np
import pytest

import numtorch as nt
import numtorch.functional as F
from numtorch import layers as L
from numtorch.errors import NumTorchError, ShapeError


def _copy_to_torch(torch, array):
    return torch.tensor(np.array(array), requires_grad=True)


# ---- dropout -----------------------------------------------------------------------------------------

def test_dropout_zeroes_about_p_and_scales_the_rest_by_1_over_1_minus_p():
    x = nt.tensor(np.ones((200, 100)), requires_grad=True)
    y = F.dropout(x, 0.25, training=True)
    dropped = y.data == 0
    assert 0.23 < dropped.mean() < 0.27
    np.testing.assert_allclose(y.data[~dropped], 1 / 0.75)
    y.backward(np.full(y.shape, 2.0))
    np.testing.assert_allclose(x.grad.data, 2.0 * y.data)  # the same mask, the same scale
    assert abs(y.data.mean() - 1.0) < 0.02  # the expected value is kept


def test_dropout_in_eval_mode_is_the_identity():
    x = nt.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = L.Dropout(0.5)
    assert layer.training and layer(x) is not x
    assert layer.eval()(x) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, 0)


def test_dropout_rejects_a_probability_outside_0_1():
    with pytest.raises(NumTorchError, match=r"dropout: p .* between 0 and 1, got 1.5"):
        F.dropout(nt.tensor([1.0, 2.0]), 1.5)


# ---- train() / eval() ----------------------------------------------------------------------------------

class Block(L.Layer):
    """No super().__init__(); sub-layers in an attribute, a list and a dict."""

    def __init__(self):
        self.drop = L.Dropout(0.1)
        self.stack = [L.Sequential([L.Linear(3, 3), L.BatchNorm1d(3)])]
        self.named = {"drop": L.Dropout(0.2)}

    def forward(self, x):
        return self.named["drop"](self.stack[0](self.drop(x)))


def test_train_and_eval_reach_every_sublayer():
    block = Block()
    layers = list(block.modules())
    assert len(layers) == 6 and layers[0] is block
    assert block.eval() is block
    assert not any(layer.training for layer in layers)
    block.train()
    assert all(layer.training for layer in layers)
    block.train(False)
    assert not block.stack[0][1].training
    assert [name for name, _ in block.named_parameters()] == [
        "stack.0.0.weight", "stack.0.0.bias", "stack.0.1.weight", "stack.0.1.bias"]


# ---- batch norm and layer norm against PyTorch ---------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (8, 3, 5), (4, 3, 2, 2)], ids=["1d", "1d sequence", "2d"])
def test_batch_norm_matches_pytorch_in_training_and_eval_with_running_stats(torch, shape):
    rng = np.random.default_rng(0)
    ours = (L.BatchNorm2d if len(shape) == 4 else L.BatchNorm1d)(3, momentum=0.2)
    theirs = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(3, momentum=0.2).double()
    ours.weight.data[:] = rng.uniform(0.5, 2.0, 3)
    ours.bias.data[:] = rng.standard_normal(3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        theirs.bias.copy_(torch.tensor(ours.bias.data))
    for training in (True, True, False):  # two training steps move the running statistics, then eval uses them
        ours.train(training)
        theirs.train(training)
        x = rng.standard_normal(shape) * 3 + 1
        upstream = rng.standard_normal(shape)
        xn, xt = nt.tensor(x, requires_grad=True), _copy_to_torch(torch, x)
        out, expected = ours(xn), theirs(xt)
        out.backward(upstream)
        expected.backward(torch.tensor(upstream))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(xn.grad.data, xt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), atol=1e-12)
    assert not np.allclose(ours.running_mean.data, 0), "training moved the running mean"


def test_batch_norm_eval_gives_one_example_the_same_answer_as_in_a_batch():
    layer = L.BatchNorm1d(4)
    x = np.random.default_rng(1).standard_normal((6, 4))
    layer(nt.tensor(x))  # one training step: running statistics move
    layer.eval()
    np.testing.assert_allclose(layer(nt.tensor(x[:1])).data, layer(nt.tensor(x)).data[:1])


def test_layer_norm_layer_matches_pytorch(torch):
    x = np.random.default_rng(2).standard_normal((2, 5, 6))
    ours, theirs = L.LayerNorm(6), torch.nn.LayerNorm(6).double()
    xn, xt = nt.tensor(x, requires_grad=True), _copy_to_torch(torch, x)
    (ours(xn) * np.arange(6)).sum().backward()
    (theirs(xt) * torch.arange(6)).sum().backward()
    np.testing.assert_allclose(xn.grad.data, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), atol=1e-12)


# ---- a small CNN against PyTorch -------------------------------------------------------------------

def test_a_small_cnn_matches_pytorch(torch):
    rng = np.random.default_rng(3)
    model = L.Sequential([L.Conv2d(1, 4, 3, padding=1), L.ReLU(), L.MaxPool2d(2), L.Conv2d(4, 6, 2, stride=2),
                          L.Flatten(), L.Linear(24, 10)])
    twin = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(4, 6, 2, stride=2), torch.nn.Flatten(), torch.nn.Linear(24, 10)).double()
    pairs = [(model[0].weight, twin[0].weight), (model[0].bias, twin[0].bias), (model[3].weight, twin[3].weight),
             (model[3].bias, twin[3].bias), (model[5].weight, twin[5].weight), (model[5].bias, twin[5].bias)]
    as_theirs = lambda a: a.T if a.ndim == 2 else a  # noqa: E731  (our Linear weight is (in, out), PyTorch's (out, in))
    with torch.no_grad():
        for ours, theirs in pairs:
            theirs.copy_(torch.tensor(as_theirs(ours.data)))
    x, labels = rng.standard_normal((5, 1, 8, 8)), rng.integers(0, 10, 5)
    loss = model(nt.tensor(x)).cross_entropy(labels)
    expected = torch.nn.functional.cross_entropy(twin(torch.tensor(x)), torch.tensor(labels))
    loss.backward()
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for ours, theirs in pairs:
        np.testing.assert_allclose(as_theirs(ours.grad.data), theirs.grad.numpy(), atol=1e-12)


def test_flatten_keeps_the_batch_dim():
    x = nt.tensor(np.zeros((2, 3, 4, 5)))
    assert L.Flatten()(x).shape == (2, 60)
    assert L.Flatten(start_dim=0)(x).shape == (120,)
    assert L.Flatten(1, 2)(x).shape == (2, 12, 5)


# ---- errors a student meets -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(nt.tensor(np.zeros((2, 3, 8, 8))), nt.tensor(np.zeros((4, 1, 3, 3)))),
     r"conv2d: weight of shape \(4, 1, 3, 3\) does not fit an input of shape \(2, 3, 8, 8\).*in_channels=3"),
    (lambda: F.conv2d(nt.tensor(np.zeros((8, 8))), nt.tensor(np.zeros((4, 1, 3, 3)))),
     r"conv2d: expects input of shape \(batch, channels, height, width\), got \(8, 8\); .*reshape"),
    (lambda: F.conv2d(nt.tensor(np.zeros((1, 1, 2, 2))), nt.tensor(np.zeros((4, 1, 3, 3)))),
     r"conv2d: the 3x3 kernel does not fit in 2x2 images .*more padding"),
    (lambda: F.conv2d(nt.tensor(np.zeros((1, 1, 4, 4))), nt.tensor(np.zeros((4, 1, 3, 3))), nt.tensor(np.zeros(3))),
     r"conv2d: bias of shape \(3,\) for 4 output channels"),
    (lambda: F.max_pool2d(nt.tensor(np.zeros((1, 1, 1, 5))), 2),
     r"max_pool2d: the 2x2 kernel does not fit in 1x5 images"),
    (lambda: F.layer_norm(nt.tensor(np.zeros((3, 5))), 4),
     r"layer_norm: normalized_shape \(4,\) must be the last dims of the input, which has shape \(3, 5\)"),
    (lambda: L.BatchNorm1d(4)(nt.tensor(np.zeros((1, 4)))),
     r"batch_norm: training needs more than one value per channel.*model.eval\(\)"),
    (lambda: L.BatchNorm1d(4)(nt.tensor(np.zeros((2, 3)))),
     r"batch_norm: weight of shape \(4,\) for an input with 3 channels"),
    (lambda: L.BatchNorm2d(4)(nt.tensor(np.zeros((2, 4)))), r"BatchNorm2d: expects an input with 4 dims"),
    (lambda: L.MultiHeadAttention(10, 3), r"embed_dim 10 must be divisible by num_heads 3"),
], ids=["conv channels", "conv 2-d input", "conv kernel too large", "conv bias", "pool too small", "layer_norm shape",
        "batch_norm batch of one", "batch_norm channels", "BatchNorm2d dims", "attention heads"])
def test_errors_name_the_op_the_shapes_and_the_fix(call, message):
    with pytest.raises(ShapeError, match=message):
        call()


def test_max_pool_gives_a_tie_to_the_first_maximum_as_pytorch(torch):
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.0, 2.0], [2.0, 2.0, 2.0]]]])
    xn, xt = nt.tensor(x, requires_grad=True), _copy_to_torch(torch, x)
    F.max_pool2d(xn, 2, stride=1).sum().backward()
    torch.nn.functional.max_pool2d(xt, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(xn.grad.data, xt.grad.numpy())


# ---- attention from primitives against PyTorch ------------------------------------------------------

def test_causal_attention_from_primitives_matches_pytorch(torch):
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))  # (batch, heads, time, head_dim)
    upstream = rng.standard_normal((2, 3, 5, 4))
    ours = [nt.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [_copy_to_torch(torch, a) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, is_causal=True)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-12)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), atol=1e-12)
    assert {op.op for op in nt.graph.trace(out).ops} == {"mm", "transpose", "div", "where", "softmax"}, \
        "written from primitives: batched @, masked_fill (where), softmax"


def test_multi_head_attention_matches_pytorch_and_never_looks_ahead(torch):
    rng = np.random.default_rng(5)
    ours = L.MultiHeadAttention(8, num_heads=2, causal=True)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    projections = [ours.q_proj, ours.k_proj, ours.v_proj]
    with torch.no_grad():  # PyTorch keeps (out, in) weights, q, k and v stacked; ours are (in, out)
        theirs.in_proj_weight.copy_(torch.tensor(np.concatenate([p.weight.data.T for p in projections])))
        theirs.in_proj_bias.copy_(torch.tensor(rng.standard_normal(24)))
        theirs.out_proj.weight.copy_(torch.tensor(ours.out_proj.weight.data.T))
        theirs.out_proj.bias.copy_(torch.tensor(rng.standard_normal(8)))
    for p, bias in zip(projections, np.split(theirs.in_proj_bias.detach().numpy(), 3)):
        p.bias.data[:] = bias
    ours.out_proj.bias.data[:] = theirs.out_proj.bias.detach().numpy()
    x = rng.standard_normal((3, 6, 8))
    xn, xt = nt.tensor(x, requires_grad=True), _copy_to_torch(torch, x)
    future = torch.triu(torch.ones(6, 6, dtype=torch.bool), 1)  # PyTorch's mask: True where attention is barred
    out = ours(xn)
    expected, _ = theirs(xt, xt, xt, attn_mask=future, need_weights=False)
    out.backward(np.arange(out.size, dtype=float).reshape(out.shape) / out.size)
    expected.backward(torch.arange(expected.numel(), dtype=torch.float64).reshape(expected.shape) / expected.numel())
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(xn.grad.data, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.q_proj.weight.grad.data.T, theirs.in_proj_weight.grad[:8].numpy(), atol=1e-12)
    changed = x.copy()
    changed[:, 4:] = rng.standard_normal((3, 2, 8))  # new future tokens: the first four outputs must not move
    np.testing.assert_allclose(ours(nt.tensor(changed)).data[:, :4], out.data[:, :4], atol=1e-12)
