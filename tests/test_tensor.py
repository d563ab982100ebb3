"""Tensor: the seed's form and PyTorch's, attributes, printing, dtypes, and numbers/arrays on either side of operators."""

import numpy as np
import pytest

import numtorch as nt


# ---- making tensors ---------------------------------------------------------------------------------

def test_seed_form_keyword_forms_and_factory_mean_the_same():
    data = np.array([[1.0, 2.0], [3.0, 4.0]])
    made = [
        nt.Tensor(data, {"autograd": True}),
        nt.Tensor(data, autograd=True),
        nt.Tensor(data, requires_grad=True),
        nt.tensor(data, requires_grad=True),
    ]
    for t in made:
        assert isinstance(t.data, np.ndarray)
        np.testing.assert_array_equal(t.data, data)
        assert t.autograd is True and t.requires_grad is True
        assert t.grad is None and t.is_leaf and t.grad_fn is None
        assert t.shape == (2, 2) and t.dtype == np.float64 and t.ndim == 2 and t.size == 4 and len(t) == 2
    for t in (nt.Tensor(data), nt.Tensor(data, {"autograd": False}), nt.tensor(data)):
        assert t.autograd is False and t.requires_grad is False


def test_names_in_either_form():
    assert nt.Tensor([1.0], {"autograd": True, "name": "w"}).name == "w"
    assert nt.Tensor([1.0], autograd=True, name="w").name == "w"
    assert nt.tensor([1.0], name="b").name == "b"
    assert nt.Tensor([1.0]).name is None


def test_requires_grad_and_autograd_are_one_flag():
    t = nt.Tensor([1.0, 2.0])
    t.requires_grad = True
    assert t.autograd is True
    t.autograd = False
    assert t.requires_grad is False


def test_data_is_copied_from_the_source():
    source = np.array([1.0, 2.0])
    t = nt.Tensor(source, autograd=True)
    source[0] = 99
    assert t.data[0] == 1.0
    u = nt.Tensor(t)
    u.data[1] = 99
    assert t.data[1] == 2.0


@pytest.mark.parametrize("data", [[1, 2, 3], np.array([1, 2, 3], dtype=np.int32), np.array([True, False]), 7])
def test_integer_and_bool_data_asking_for_autograd_becomes_float64(data):
    assert nt.Tensor(data, {"autograd": True}).dtype == np.float64
    assert nt.tensor(data, requires_grad=True).dtype == np.float64
    assert nt.Tensor(data).dtype.kind in "iub", "without autograd the data keeps its dtype"


def test_float32_stays_float32():
    data = np.ones((2, 3), dtype=np.float32)
    x = nt.Tensor(data, autograd=True)
    assert x.dtype == np.float32
    y = (2 * x + 1) / 3 - x ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_nested_lists_and_scalars():
    assert nt.Tensor([[1.0, 2.0], [3.0, 4.0]]).shape == (2, 2)
    assert nt.Tensor(3.5, autograd=True).shape == ()
    assert nt.Tensor(3.5).item() == 3.5


# ---- printing ------------------------------------------------------------------------------------------

def test_repr_and_str():
    x = nt.Tensor(np.array([1.0, 2.5]), autograd=True, name="w")
    assert repr(x) == "Tensor([1. , 2.5], autograd=True, name='w')"
    assert repr(nt.Tensor([1, 2])) == "Tensor([1, 2])"
    assert str(x) == str(x.data) == "[1.  2.5]"
    matrix = repr(nt.Tensor(np.eye(2)))
    assert matrix.startswith("Tensor([[1., 0.],") and "\n        [0., 1.]])" in matrix


def test_format_of_a_loss_as_the_seed_prints_it():
    x = nt.Tensor(np.array([[0.5], [1.0]]), autograd=True)
    loss = (x * x).mean()
    assert f"{loss}" == str(loss.data) and float(f"{loss}") == pytest.approx(0.625)
    assert f"Epoch 0: {loss}" == "Epoch 0: 0.625"
    assert f"{loss:.3f}" == "0.625" and f"{loss:8.2f}" == "    0.62"
    assert f"{x:.1f}" == "[[0.5]\n [1.0]]"


def test_conversions():
    x = nt.Tensor(np.array([[1.0, 5.0], [7.0, 2.0]]), autograd=True)
    assert float(x.sum()) == 15.0 and x.sum().item() == 15.0
    assert x.tolist() == [[1.0, 5.0], [7.0, 2.0]]
    assert x.numpy() is x.data
    np.testing.assert_array_equal(np.asarray(x), x.data)
    np.testing.assert_array_equal(x.argmax(dim=1).data, [1, 0])
    assert bool(nt.Tensor([1.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    d = x.detach()
    assert not d.autograd and d.grad_fn is None and d.data is x.data


# ---- Python numbers and arrays on either side of every operator -----------------------------------

A = np.array([0.5, 2.0, 3.0])
M = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

# expression, its value and its derivative (elementwise, for an upstream of ones) at x
MIXED = {
    "2 * x": (lambda x: 2 * x, lambda x: 2 * x, lambda x: 2 + 0 * x),
    "x * 2": (lambda x: x * 2, lambda x: 2 * x, lambda x: 2 + 0 * x),
    "1 + x": (lambda x: 1 + x, lambda x: 1 + x, lambda x: 1 + 0 * x),
    "x + 1": (lambda x: x + 1, lambda x: x + 1, lambda x: 1 + 0 * x),
    "1 - x": (lambda x: 1 - x, lambda x: 1 - x, lambda x: -1 + 0 * x),
    "x - 1": (lambda x: x - 1, lambda x: x - 1, lambda x: 1 + 0 * x),
    "x / 3": (lambda x: x / 3, lambda x: x / 3, lambda x: 1 / 3 + 0 * x),
    "3 / x": (lambda x: 3 / x, lambda x: 3 / x, lambda x: -3 / x ** 2),
    "x ** 2": (lambda x: x ** 2, lambda x: x ** 2, lambda x: 2 * x),
    "2 ** x": (lambda x: 2 ** x, lambda x: 2 ** x, lambda x: 2 ** x * np.log(2)),
    "2.5 * x (a NumPy scalar)": (lambda x: np.float64(2.5) * x, lambda x: 2.5 * x, lambda x: 2.5 + 0 * x),
    "-x": (lambda x: -x, lambda x: -x, lambda x: -1 + 0 * x),
    "ndarray + x": (lambda x: A + x, lambda x: A + x, lambda x: 1 + 0 * x),
    "x + ndarray": (lambda x: x + A, lambda x: A + x, lambda x: 1 + 0 * x),
    "ndarray - x": (lambda x: A - x, lambda x: A - x, lambda x: -1 + 0 * x),
    "ndarray * x": (lambda x: A * x, lambda x: A * x, lambda x: A + 0 * x),
    "ndarray / x": (lambda x: A / x, lambda x: A / x, lambda x: -A / x ** 2),
    "x / ndarray": (lambda x: x / A, lambda x: x / A, lambda x: 1 / A + 0 * x),
    "ndarray ** x": (lambda x: A ** x, lambda x: A ** x, lambda x: A ** x * np.log(A)),
    "x ** ndarray": (lambda x: x ** A, lambda x: x ** A, lambda x: A * x ** (A - 1)),
    "ndarray @ x": (lambda x: M @ x, lambda x: M @ x, lambda x: M.sum(axis=0) + 0 * x),
    "x @ ndarray": (lambda x: x @ M.T, lambda x: x @ M.T, lambda x: M.sum(axis=0) + 0 * x),
    "x @ list (a list is an array)": (lambda x: x.mm(M.T.tolist()), lambda x: x @ M.T, lambda x: M.sum(axis=0) + 0 * x),
}


@pytest.mark.parametrize("name", list(MIXED))
def test_numbers_and_arrays_on_either_side(name):
    expression, value, derivative = MIXED[name]
    xv = np.array([0.5, 1.5, 2.0])
    x = nt.Tensor(xv, autograd=True)
    y = expression(x)
    assert isinstance(y, nt.Tensor) and y.autograd, f"{name} must give a tracking Tensor"
    np.testing.assert_allclose(y.data, value(xv))
    y.backward()
    np.testing.assert_allclose(x.grad.data, derivative(xv))


def test_result_tracks_when_any_input_does():
    tracking, plain = nt.Tensor([1.0, 2.0], autograd=True), nt.Tensor([3.0, 4.0])
    assert (tracking * plain).autograd and (plain * tracking).autograd and (plain - tracking).autograd
    assert not (plain * plain).autograd and not (plain + 1).autograd
    assert (plain + 1).grad_fn is None


def test_tensor_indices_and_keys():
    x = nt.Tensor(np.arange(12.0).reshape(4, 3), autograd=True)
    rows = nt.Tensor(np.array([3, 0, 3]))
    picked = x.index_select(rows)
    np.testing.assert_array_equal(picked.data, x.data[[3, 0, 3]])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data[:, 0], [1, 0, 0, 2])
    x.grad = None
    x[rows].sum().backward()
    np.testing.assert_array_equal(x.grad.data[:, 0], [1, 0, 0, 2])


def test_shape_methods():
    x = nt.Tensor(np.arange(6.0).reshape(2, 3), autograd=True)
    assert x.T.shape == (3, 2) and x.transpose().shape == (3, 2) and x.transpose(0, 1).shape == (3, 2)
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((6,)).shape == (6,) and x.view(-1, 1).shape == (6, 1)
    assert x.expand(0, 4).shape == (4, 2, 3) and x.expand(2, 5).shape == (2, 3, 5)
    assert x.sum(0).shape == (3,) and x.mean(1, keepdim=True).shape == (2, 1)
    y = nt.Tensor(np.zeros((2, 3, 4)))
    assert y.transpose(0, 2).shape == (4, 3, 2) and y.transpose(1, 2, 0).shape == (3, 4, 2)
    assert y.transpose((2, 0, 1)).shape == (4, 2, 3)


def test_comparisons_give_boolean_tensors_without_gradient():
    loss = nt.tensor(0.005, requires_grad=True)
    assert loss < 0.01 and not (loss > 0.01) and loss <= 0.005 and loss >= 0.005
    mask = nt.tensor([1.0, 2.0, 3.0]) > nt.tensor([2.0, 2.0, 2.0])
    assert mask.data.tolist() == [False, False, True] and not mask.autograd
    with pytest.raises(nt.ShapeError, match="holds 3 numbers"):
        nt.tensor([1.0, 2.0, 3.0]).item()


def test_float32_grad_stays_float32_whatever_constants_it_meets():
    x = nt.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    (x * np.float64(2.0) + np.ones(2)).sum().backward()
    assert x.grad.dtype == np.float32


# ---- PyTorch habits (issue 12) -------------------------------------------------------------------------

def test_equality_is_elementwise_and_tensors_stay_hashable_by_identity(torch):
    x = nt.tensor([[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 4.0, 5.0]])
    assert x[x == 0].shape == (3,) and x[x != 0].shape == (5,)
    logits, labels = np.random.default_rng(0).standard_normal((8, 3)), np.array([0, 1, 2, 0, 1, 2, 0, 1])
    accuracy = (nt.tensor(logits).argmax(1) == nt.tensor(labels)).float().mean()
    expected = (torch.tensor(logits).argmax(1) == torch.tensor(labels)).float().mean()
    assert accuracy.item() == pytest.approx(expected.item()) and accuracy.dtype == np.float32
    assert ((labels == nt.tensor(labels)).data.all())  # an array on the left gives a tensor too
    a, b = nt.tensor([1.0]), nt.tensor([1.0])
    assert len({a, b}) == 2 and {a: "a", b: "b"}[b] == "b" and a in [b, a]
    assert (a == None) is False and (a != None) is True  # noqa: E711 (as in PyTorch)


def test_numpy_float64_scalars_and_float_keep_float32(torch):
    x = nt.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
    for y in (x * np.float64(2.5), np.float64(2.5) * x, x + np.float64(1), x / np.float32(3), x ** np.int64(2)):
        assert y.dtype == np.float32
    y = x.double() * 3
    assert y.dtype == np.float64 and y.float().dtype == np.float32 and x.float() is x
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.data.tolist() == [3.0, 3.0]
    ints = nt.tensor([1, 2])
    assert ints.float().dtype == np.float32 and ints.double().dtype == np.float64
    t = torch.tensor([1.0, -2.0], dtype=torch.float32)
    assert (t * np.float64(2.5)).dtype == torch.float32  # PyTorch's rule, the one we follow


def test_float_and_int_of_one_element_tensors():
    assert float(nt.tensor([[1.5]])) == 1.5 and int(nt.tensor([[3.0]])) == 3 and float(nt.tensor(2)) == 2.0
    with pytest.raises(nt.ShapeError, match="holds 2 numbers"):
        float(nt.tensor([1.0, 2.0]))


def test_max_min_argmax_as_pytorch(torch):
    data = np.random.default_rng(1).standard_normal((3, 4, 5))
    x, t = nt.tensor(data), torch.tensor(data)
    assert x.max().item() == t.max().item() and x.min().item() == t.min().item()
    assert x.argmax().item() == t.argmax().item() and x.argmin().item() == t.argmin().item()
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            ours, theirs = x.max(dim, keepdim), t.max(dim, keepdim)
            np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
            np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
            values, indices = x.min(dim=dim, keepdim=keepdim)
            np.testing.assert_array_equal(values.data, t.min(dim, keepdim).values.numpy())
            np.testing.assert_array_equal(indices.data, t.min(dim, keepdim).indices.numpy())
            np.testing.assert_array_equal(x.argmax(dim, keepdim).data, t.argmax(dim, keepdim).numpy())


def test_shape_methods_of_pytorch(torch):
    data = np.zeros((2, 1, 3))
    x, t = nt.tensor(data), torch.tensor(data)
    for ours, theirs in [(x.unsqueeze(0), t.unsqueeze(0)), (x.unsqueeze(-1), t.unsqueeze(-1)),
                         (x.squeeze(), t.squeeze()), (x.squeeze(1), t.squeeze(1)), (x.squeeze(0), t.squeeze(0)),
                         (x.flatten(), t.flatten()), (x.flatten(1), t.flatten(1)), (x.flatten(0, 1), t.flatten(0, 1)),
                         (x.permute(2, 0, 1), t.permute(2, 0, 1)), (x.permute((1, 2, 0)), t.permute((1, 2, 0))),
                         (x.transpose(-1, 0, 1), t.permute(-1, 0, 1)), (x.clone(), t.clone())]:
        assert ours.shape == tuple(theirs.shape)
    m = nt.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.permute(0, 1).data, m.data)
    np.testing.assert_array_equal(m.permute(1, 0).data, m.data.T)
    with pytest.raises(nt.NumTorchIndexError, match="unsqueeze: dim 4"):
        x.unsqueeze(4)
    with pytest.raises(nt.ShapeError, match="permute"):
        x.permute(1, 0)


def test_expand_written_the_pytorch_way_is_an_error_showing_both_spellings():
    x = nt.tensor([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(nt.ShapeError) as info:
        x.expand(2, 4)  # PyTorch: shape (2, 4); the book: a new axis 2 (out of range), 4 copies
    assert "x.expand(dim=2, copies=4)" in str(info.value) and "x + np.zeros((2, 4))" in str(info.value)
    with pytest.raises(nt.ShapeError, match="book's expand"):
        x.expand((2, 4))
    assert x.expand(0, 3).shape == (3, 4) and x.expand(dim=1, copies=2).shape == (4, 2)
    assert x.expand(0, copies=2).shape == (2, 4)


def test_causal_self_attention_from_the_primitives_matches_pytorch(torch):
    rng = np.random.default_rng(3)
    x, wq, wk = rng.standard_normal((2, 5, 4)), rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    future = np.triu(np.ones((5, 5), dtype=bool), k=1)

    def attend(T, x, wq, wk):
        q, k = x @ wq, x @ wk
        scores = (q @ k.transpose(-1, -2)) / 2.0
        weights = scores.masked_fill(T.tensor(future) if T is torch else future, -np.inf).softmax(dim=-1)
        return weights @ x

    ours = [nt.tensor(a, requires_grad=True) for a in (x, wq, wk)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, wq, wk)]
    out, expected = attend(nt, *ours), attend(torch, *theirs)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)
