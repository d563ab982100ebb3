"""In-place changes under PyTorch's rules, NumPy arrays meeting tensors, and the version check that turns a backward
through a tensor changed in place into an error instead of a wrong gradient."""

import numpy as np
import pytest

import numtorch as nt
from numtorch.layers import LinearLayer, RNNCell, SequentialLayer, Tanh


def model_and_grads():
    model = SequentialLayer([LinearLayer(3, 4), Tanh(), LinearLayer(4, 2)])
    model(nt.Tensor(np.ones((5, 3)))).sum().backward()
    return model


# ---- updating parameters by hand, the three ways students write it ------------------------------------

def test_minus_equals_under_no_grad_updates_each_parameter_itself():
    model = model_and_grads()
    before = {name: (p, p.data.copy(), p.grad.data.copy()) for name, p in model.named_parameters()}
    with nt.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for name, p in model.named_parameters():
        same, old, grad = before[name]
        assert p is same, "the parameter object stays (the optimizer and the model share it)"
        np.testing.assert_allclose(p.data, old - 0.1 * grad, err_msg=name)


def test_data_minus_equals_grad_updates_the_array():
    model = model_and_grads()
    w = model[0].weight
    old, grad, array = w.data.copy(), w.grad.data.copy(), w.data
    w.data -= 0.1 * w.grad  # ndarray -= Tensor
    assert w.data is array
    np.testing.assert_allclose(w.data, old - 0.1 * grad)
    w.data *= nt.tensor(2.0)
    np.testing.assert_allclose(w.data, 2 * (old - 0.1 * grad))


def test_changing_a_parameter_in_place_outside_no_grad_is_refused_as_in_pytorch(torch):
    model = model_and_grads()
    w = model[0].weight
    old = w.data.copy()
    with pytest.raises(nt.GradError, match=r"'weight' \(shape \(3, 4\)\) is a leaf tensor that requires grad") as info:
        model[0].weight -= 0.1 * w.grad
    assert "with nt.no_grad()" in str(info.value)
    np.testing.assert_array_equal(w.data, old)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):  # the same rule in PyTorch
        torch.ones(2, requires_grad=True).sub_(1)
    with nt.no_grad():
        model[0].weight -= 0.1 * w.grad
    assert model[0].weight is w and not np.array_equal(w.data, old)


@pytest.mark.parametrize("change", [
    lambda x: x.zero_(), lambda x: x.copy_(np.ones(3)), lambda x: x.__setitem__(0, 5.0), lambda x: x.__iadd__(1)])
def test_zero_copy_setitem_and_plus_equals_follow_pytorch_rules(change):
    plain = nt.tensor([1.0, 2.0, 3.0])
    change(plain)  # a tensor that does not track: always allowed
    leaf = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(nt.GradError, match="leaf tensor that requires grad"):
        change(leaf)
    with nt.no_grad():
        result = change(leaf)
    assert result is None or result is leaf
    np.testing.assert_array_equal(leaf.data, plain.data)


def test_zero_copy_and_setitem_give_the_values_pytorch_gives(torch):
    ours, theirs = nt.tensor(np.arange(6.0).reshape(2, 3)), torch.arange(6.0, dtype=torch.float64).reshape(2, 3)
    for t in (ours, theirs):
        t[0, 1] = -1.0
        t[t > 3] = 0.0
        t[:, 2] = t[:, 0]
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    ours.copy_(np.array([7.0, 8.0, 9.0]))  # broadcast over the rows
    np.testing.assert_array_equal(ours.data, [[7, 8, 9], [7, 8, 9]])
    assert ours.zero_() is ours and not ours.data.any()


def test_setitem_on_a_computed_tensor_or_with_a_tracking_value_is_a_clear_error():
    w = nt.tensor([1.0, 2.0], requires_grad=True)
    h = w * 2
    with pytest.raises(nt.GradError, match=r"computed by `mul`.*masked_fill"):
        h[0] = 0.0
    with pytest.raises(nt.GradError, match=r"the value .* tracks gradients.*nt.stack"):
        nt.tensor([0.0, 0.0])[0] = w[0]


def test_plus_equals_on_a_computed_tensor_accumulates_like_pytorch(torch):
    """loss = 0; loss += ... (the RNN idiom): the gradient is the one of the sum."""
    x = np.array([0.5, -1.0, 2.0])
    w, tw = nt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for v in (w, tw):
        loss = (v * v).sum()
        loss += (v * 3).sum()
        loss *= 2
        loss -= v.sum()
        loss /= 4
        loss.backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy())
    total = nt.tensor(0.0)  # a plain tensor that starts the sum, then tracks
    total += (w * w).sum()
    w.grad = None
    total.backward()
    np.testing.assert_allclose(w.grad.data, 2 * x)


def test_in_place_changes_keep_shape_and_dtype_or_say_so():
    ints = nt.tensor([1, 2, 3])
    with pytest.raises(nt.NumTorchTypeError, match=r"x \+= y.*int64.*x = x \+ y"):
        ints += 0.5
    ints += 1
    assert ints.data.tolist() == [2, 3, 4]
    with pytest.raises(nt.ShapeError, match=r"shape \(3,\)"):
        ints += np.ones((2, 3), int)


# ---- NumPy arrays and tensors -------------------------------------------------------------------------------

def test_numpy_on_the_left_gives_tracking_tensors():
    w = nt.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    for y in (a + w, a - w, a * w, a / w, a ** w, np.exp(w), np.log(w), np.tanh(w), np.float64(2.0) * w, -w):
        assert isinstance(y, nt.Tensor) and y.autograd
    mask = a < nt.tensor([5.0, 1.0])
    assert isinstance(mask, nt.Tensor) and mask.data.tolist() == [True, False]
    (a * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, a)


# ---- the version check -----------------------------------------------------------------------------------------

def test_backward_after_an_optimizer_step_changed_a_saved_weight_is_an_error():
    layer = LinearLayer(3, 2)
    optimizer = nt.optimizers.SGD(layer.get_params(), lr=0.1)
    x = nt.tensor(np.ones((4, 3)), requires_grad=True)
    loss = (layer(x) ** 2).sum()
    loss.backward(); optimizer.step()  # noqa: E702
    with pytest.raises(nt.GradError, match=r"'weight' \(shape \(3, 2\)\) was changed in place.*`linear`.*detach\(\)"):
        loss.backward()


def test_an_rnn_hidden_state_carried_across_batches_needs_detach():
    cell = RNNCell(2, 4, 1, activation="tanh")
    optimizer = nt.optimizers.SGD(cell.get_params(), lr=0.1)
    batches = [nt.Tensor(np.random.default_rng(i).standard_normal((3, 1, 2))) for i in range(2)]

    def train(detach):
        hidden = cell.init_hidden()
        for batch in batches:
            if detach:
                hidden = hidden.detach()
            loss = 0
            for x in batch:
                out, hidden = cell(x, hidden)
                loss += (out ** 2).sum()
            loss.backward()
            optimizer.step()

    with pytest.raises(nt.GradError, match=r"hidden = hidden.detach\(\)"):
        train(detach=False)
    train(detach=True)


def test_an_in_place_change_the_gradient_does_not_depend_on_is_no_error(torch):
    """Add saves nothing, so PyTorch runs this backward too; changed values of an unsaved input do not matter."""
    w = nt.tensor([1.0, 2.0], requires_grad=True)
    c = nt.tensor([3.0, 4.0])
    out = (w + c).sum()
    c += 1
    out.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 1.0])
    tc = torch.tensor([3.0, 4.0])
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    t_out = (tw + tc).sum()
    tc += 1
    t_out.backward()


def test_a_changed_constant_that_an_op_saved_is_caught_too():
    w, c = nt.tensor([1.0, 2.0], requires_grad=True), nt.tensor([3.0, 4.0])
    out = (w * c).sum()
    c[0] = 10.0  # mul saved c: the gradient of w would be wrong
    with pytest.raises(nt.GradError, match=r"a tensor of shape \(2,\) was changed in place.*`mul`"):
        out.backward()
    w2 = nt.tensor([1.0, 2.0], requires_grad=True)
    s = w2.sigmoid()  # sigmoid saves its output
    with nt.no_grad():
        s *= 2
    with pytest.raises(nt.GradError, match="`sigmoid`"):
        s.sum().backward()
