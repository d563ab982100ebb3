"""The backward engine: order, reuse, dead branches, broadcasting, accumulation, no_grad, memory, hooks."""

import copy
import gc
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import numtorch as nt
from numtorch.testing import gradcheck


class Spy(nt.Operation):
    """z = x (identity) that records, in `log`, the gradient each backward receives."""

    log = []

    @staticmethod
    def forward(ctx, x, tag=None):
        return np.array(x, copy=True)

    @staticmethod
    def backward(ctx, grad):
        Spy.log.append((ctx.args["tag"], grad.copy()))
        return grad


@pytest.fixture
def spy():
    Spy.log = []
    return lambda x, tag: Spy.apply(x, tag=tag)


def leaf(*shape, seed=0):
    return nt.Tensor(np.random.default_rng(seed).standard_normal(shape), autograd=True)


# ---- order and reuse --------------------------------------------------------------------------------

def test_backward_runs_in_reverse_topological_order_each_node_once_and_complete(spy):
    x = leaf(3)
    a = spy(x * 2, "a")
    b = spy(a.tanh(), "b")
    c = spy(a * 3, "c")
    d = spy(b + c, "d")
    loss = (d * a).sum()  # a feeds b, c and the loss
    loss.backward()
    order = [tag for tag, _ in Spy.log]
    assert sorted(order) == ["a", "b", "c", "d"], "each node's backward runs exactly once"
    assert order.index("d") < min(order.index("b"), order.index("c"))
    assert order[-1] == "a", "a node runs only after every consumer has given it its gradient"
    # the gradient a received is complete: the sum over its three uses
    av = 2 * x.data
    expected = (1 - np.tanh(av) ** 2) * av + 3 * av + (np.tanh(av) + 3 * av)
    np.testing.assert_allclose(dict(Spy.log)["a"], expected)
    np.testing.assert_allclose(x.grad.data, 2 * expected)
    assert gradcheck(lambda x: (((x * 2).tanh() + x * 6) * (x * 2)).sum(), x)


def test_tensor_used_twice_sums_its_gradients_once():
    x = nt.Tensor([3.0, -2.0], autograd=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, -4.0])
    x.grad = None
    (x + x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_hidden_state_feeding_two_layers(spy):
    x, w, a, b = leaf(4, 3, seed=1), leaf(3, 5, seed=2), leaf(5, 2, seed=3), leaf(5, 1, seed=4)
    h = spy((x @ w).tanh(), "h")
    loss = (h @ a).sum() + (h @ b).sum()
    loss.backward()
    assert [tag for tag, _ in Spy.log] == ["h"]
    dh = np.ones((4, 2)) @ a.data.T + np.ones((4, 1)) @ b.data.T
    np.testing.assert_allclose(Spy.log[0][1], dh)
    np.testing.assert_allclose(w.grad.data, x.data.T @ (dh * (1 - np.tanh(x.data @ w.data) ** 2)))


def test_dead_branch_blocks_nothing_and_gets_no_gradient(spy):
    cell = nt.layers.RNNCell(2, 4, 3, activation="tanh")
    unused_head = nt.layers.LinearLayer(4, 2)
    xs = [leaf(1, 2, seed=s) for s in range(3)]

    def run(with_dead_outputs):
        cell.zero_grad()
        hidden, dead = cell.init_hidden(), []
        for x in xs:
            output, hidden = cell(x, hidden)
            if with_dead_outputs:
                dead += [output, spy(unused_head(hidden), "dead")]
        (output ** 2).sum().backward()
        return {name: p.grad.data.copy() for name, p in cell.named_parameters()}, dead

    grads_with, dead = run(True)
    grads_without, _ = run(False)
    assert grads_with.keys() == grads_without.keys()
    for name in grads_with:
        np.testing.assert_array_equal(grads_with[name], grads_without[name], err_msg=name)
    assert Spy.log == [], "backward never visits a branch that does not reach the loss"
    assert all(t.grad is None for t in dead[:-2]), "earlier outputs were computed but unused"
    assert all(p.grad is None for p in unused_head.parameters())


# ---- broadcasting ------------------------------------------------------------------------------------

class AddInBroadcastShape(nt.Operation):
    """z = x + b; backward returns grad in the broadcast shape for both: the engine sums it back."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


@pytest.mark.parametrize("b_shape", [(4,), (1, 4), (3, 1), (1, 1, 1), (), (2, 1, 4)])
def test_broadcasting_is_undone_once_by_the_engine(b_shape):
    x, b = leaf(2, 3, 4), leaf(*b_shape, seed=1)
    upstream = np.random.default_rng(2).standard_normal((2, 3, 4))
    AddInBroadcastShape.apply(x, b).backward(upstream)
    expected = upstream.sum(axis=tuple(range(3 - len(b_shape))))
    expected = expected.sum(axis=tuple(i for i, n in enumerate(b_shape) if n == 1), keepdims=True)
    assert b.grad.shape == b_shape
    np.testing.assert_allclose(b.grad.data, expected.reshape(b_shape))
    np.testing.assert_array_equal(x.grad.data, upstream)


def test_built_in_broadcasting_grads():
    x, row, col = leaf(3, 4), leaf(4, seed=1), leaf(3, 1, seed=2)
    ((x + row) * col).sum().backward()
    np.testing.assert_allclose(row.grad.data, np.broadcast_to(col.data, (3, 4)).sum(axis=0))
    np.testing.assert_allclose(col.grad.data, (x.data + row.data).sum(axis=1, keepdims=True))


# ---- accumulation and .grad of every node ------------------------------------------------------------

def test_second_backward_adds_exactly_one_more_gradient_to_leaves():
    x, w = leaf(2, 3), leaf(3, 1, seed=1)
    h = x @ w
    loss = (h.tanh() ** 2).sum()
    loss.backward()
    first_w, first_h = w.grad.data.copy(), h.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(w.grad.data, 2 * first_w)
    np.testing.assert_allclose(x.grad.data.shape, (2, 3))
    np.testing.assert_allclose(h.grad.data, first_h, err_msg="an intermediate's .grad is this call's gradient")


def test_every_node_of_the_graph_gets_its_grad():
    x = leaf(2, 3)
    h = x * 2
    t = h.tanh()
    loss = t.sum()
    loss.backward()
    np.testing.assert_array_equal(loss.grad.data, 1.0)
    np.testing.assert_allclose(t.grad.data, np.ones((2, 3)))
    np.testing.assert_allclose(h.grad.data, 1 - np.tanh(2 * x.data) ** 2)
    np.testing.assert_allclose(x.grad.data, 2 * h.grad.data)


def test_constants_and_non_tracking_tensors_get_no_grad():
    x, c = leaf(3), nt.Tensor(np.ones(3))
    (x * c + c).sum().backward()
    assert c.grad is None and x.grad is not None


def test_leaf_grads_are_arrays_of_their_own():
    a, b = leaf(3), leaf(3, seed=1)
    upstream = np.ones(3)
    s = a + b  # Add hands the same upstream array to both inputs
    s.backward(upstream)
    a.grad.data *= 10  # an in-place change, as gradient clipping does
    np.testing.assert_array_equal(b.grad.data, np.ones(3))
    np.testing.assert_array_equal(upstream, np.ones(3))
    np.testing.assert_array_equal(s.grad.data, np.ones(3))
    w = leaf(2)
    seed = np.array([1.0, 2.0])
    w.backward(seed)
    seed[:] = 0
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0])


def test_a_deep_copy_of_a_model_can_share_a_graph_with_the_original():
    model = nt.layers.SequentialLayer([nt.layers.LinearLayer(2, 3), nt.layers.Tanh(), nt.layers.LinearLayer(3, 1)])
    twin = copy.deepcopy(model)
    x = nt.Tensor(np.ones((4, 2)))
    (model(x) * twin(x)).sum().backward()
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert p.grad is not None and q.grad is not None, name
    np.testing.assert_allclose(model.layers[2].weight.grad.data, twin.layers[2].weight.grad.data)


# ---- seed gradient -----------------------------------------------------------------------------------

def test_seed_gradient_conventions():
    x = leaf(2, 3)
    x.sum().backward()  # size 1: seeded with 1
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))
    x.grad = None
    (x * 2).backward()  # larger: seeded with ones (the book's convention), the same as .sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * np.ones((2, 3)))
    for grad in ([[1, 2, 3], [4, 5, 6]], np.arange(6.0).reshape(2, 3), nt.Tensor(np.arange(6.0).reshape(2, 3))):
        x.grad = None
        (x * 2).backward(grad)
        np.testing.assert_array_equal(x.grad.data, 2 * np.asarray(nt.Tensor(grad).data, dtype=float))
    x.grad = None
    (x * 1).sum().backward(3.0)
    np.testing.assert_array_equal(x.grad.data, 3 * np.ones((2, 3)))


def test_float32_graph_gets_float32_seed_and_grads():
    x = nt.Tensor(np.ones((2, 2), np.float32), autograd=True)
    (x.tanh() * 3).mean().backward()
    assert x.grad.dtype == np.float32


# ---- diverged losses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_backward_warns_on_a_non_finite_loss(value):
    w = nt.Tensor([1.0], autograd=True)
    loss = (w * value).sum()
    with pytest.warns(RuntimeWarning, match="diverged"):
        loss.backward()


def test_no_warning_on_a_finite_loss():
    w = nt.Tensor([1.0, 2.0], autograd=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (w * 2).sum().backward()


# ---- no_grad --------------------------------------------------------------------------------------------

def test_no_grad_as_a_context_records_no_graph():
    x = leaf(3)
    assert nt.is_grad_enabled()
    with nt.no_grad():
        assert not nt.is_grad_enabled()
        y = (x * 2).tanh().sum()
        with nt.no_grad():
            pass
        assert not nt.is_grad_enabled(), "leaving an inner no_grad keeps the outer one"
    assert nt.is_grad_enabled()
    assert not y.autograd and y.grad_fn is None
    with pytest.raises(nt.GradError):
        y.backward()
    assert (x * 2).autograd, "recording is back on afterwards"


def test_no_grad_as_a_decorator_and_after_an_exception():
    @nt.no_grad()
    def predict(x):
        """Docstring kept."""
        return x * 2

    @nt.no_grad  # without parentheses, as PyTorch allows
    def bare(x):
        return x * 2

    x = leaf(3)
    assert not predict(x).autograd and not bare(x).autograd
    assert predict.__name__ == "predict" and predict.__doc__ == "Docstring kept."
    with pytest.raises(ZeroDivisionError):
        with nt.no_grad():
            1 / 0
    assert nt.is_grad_enabled()
    assert (x * 2).autograd


# ---- memory ----------------------------------------------------------------------------------------------

def _train_step(model, criterion, optimizer, data, target):
    loss = criterion(model(data), target)
    loss.backward()
    optimizer.step()
    return loss


def _xor_setup():
    model = nt.layers.SequentialLayer([nt.layers.LinearLayer(2, 4), nt.layers.Tanh(), nt.layers.LinearLayer(4, 1)])
    data = nt.Tensor(np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]]))
    target = nt.Tensor(np.array([[0.0], [1], [1], [0]]))
    return model, nt.layers.MSELoss(), nt.optimizers.SGDOptimizer(model.get_params(), lr=0.1), data, target


def test_the_graph_of_an_iteration_is_freed_by_the_next_without_the_cycle_collector():
    model, criterion, optimizer, data, target = _xor_setup()
    gc.collect()
    gc.disable()  # reference counting alone must free it: no cycles in the graph
    try:
        loss = _train_step(model, criterion, optimizer, data, target)
        refs = [weakref.ref(loss), weakref.ref(loss.grad_fn.parents[0])]
        loss = _train_step(model, criterion, optimizer, data, target)
        assert [r() for r in refs] == [None, None], "the previous iteration's graph is still alive"
    finally:
        gc.enable()


def test_ten_thousand_iterations_do_not_grow_memory():
    model = nt.layers.SequentialLayer([nt.layers.LinearLayer(2, 1), nt.layers.Sigmoid()])  # small: tracing is slow
    criterion, optimizer = nt.layers.MSELoss(), nt.optimizers.SGDOptimizer(model.get_params(), lr=0.5)
    data = nt.Tensor(np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]]))
    target = nt.Tensor(np.array([[0.0], [1], [0], [1]]))
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(10_000):
            loss = _train_step(model, criterion, optimizer, data, target)
            if i == 999:
                early = tracemalloc.get_traced_memory()[0]
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert late - early < 32 * 1024, f"memory grew by {(late - early) / 1024:.1f} KiB over 9000 iterations"
    assert loss.item() < 0.01, "and the model learned meanwhile"


# ---- hooks -------------------------------------------------------------------------------------------------

def test_backward_hooks_fire_once_per_backward_and_can_be_removed():
    seen = []
    x = leaf(3)

    def hook(root):
        seen.append((root, x.grad is not None))

    handle = nt.hooks.register_backward_hook(hook)
    try:
        assert hook in nt.hooks.backward_hooks()
        loss = (x * 2).sum()
        loss.backward()
        loss.backward()
        assert seen == [(loss, True), (loss, True)], "once per backward, after the gradients are in place"
    finally:
        handle.remove()
    handle.remove()  # harmless
    (x * 2).sum().backward()
    assert len(seen) == 2
    assert hook not in nt.hooks.backward_hooks()


def test_hooks_run_in_registration_order_and_work_as_context_managers():
    calls = []
    with nt.hooks.register_backward_hook(lambda root: calls.append("first")):
        with nt.hooks.register_backward_hook(lambda root: calls.append("second")):
            leaf(2).sum().backward()
        leaf(2).sum().backward()
    leaf(2).sum().backward()
    assert calls == ["first", "second", "first"]
    with pytest.raises(TypeError):
        nt.hooks.register_backward_hook("not callable")


# ---- random programs: reuse, dead values, broadcasting, all mixed ------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

# each works on numtorch and torch tensors alike; every value broadcasts to (3, 4)
STEPS = [
    lambda u, v: u + v, lambda u, v: u - v, lambda u, v: u * v, lambda u, v: (u * 0.5).tanh() * v,
    lambda u, v: u.tanh(), lambda u, v: u.sigmoid(), lambda u, v: -u, lambda u, v: u * u,
    lambda u, v: u.tanh().exp(), lambda u, v: u.sum(dim=0, keepdim=True), lambda u, v: v.mean(dim=-1, keepdim=True),
]
PROGRAMS = st.lists(st.tuples(st.integers(0, len(STEPS) - 1), st.integers(0, 99), st.integers(0, 99)),
                    min_size=1, max_size=12)


def run_program(program, a, b, c):
    values = [a, b, c]
    for step, i, j in program:
        values.append(STEPS[step](values[i % len(values)], values[j % len(values)]))
    return values[-1] * values[len(values) // 2]  # the middle value used twice more; others may be dead


INPUT_SHAPES = [(3, 4), (4,), (3, 1)]


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(program=PROGRAMS)
def test_random_programs_match_finite_differences(program):
    rng = np.random.default_rng(len(program))
    inputs = [rng.standard_normal(shape) for shape in INPUT_SHAPES]
    assert gradcheck(lambda a, b, c: run_program(program, a, b, c), *inputs)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(program=PROGRAMS)
def test_random_programs_match_pytorch(program):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(program))
    inputs = [rng.standard_normal(shape) for shape in INPUT_SHAPES]
    ours = [nt.Tensor(x, autograd=True) for x in inputs]
    theirs = [torch.tensor(x, requires_grad=True) for x in inputs]
    out, expected = run_program(program, *ours), run_program(program, *theirs)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for x, t in zip(ours, theirs):
        if t.grad is None:
            assert x.grad is None
        else:
            np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---- the engine as students read it ------------------------------------------------------------------------

class Remember(nt.Operation):
    """z = x * y that records, in forward, which inputs want a gradient (as PyTorch allows)."""

    seen = []

    @staticmethod
    def forward(ctx, x, y):
        Remember.seen.append(ctx.needs_input_grad)
        ctx.save_for_backward(y if ctx.needs_input_grad[0] else None, x if ctx.needs_input_grad[1] else None)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        return (grad * y if y is not None else None), (grad * x if x is not None else None)


def test_needs_input_grad_works_in_forward():
    Remember.seen = []
    w, c = leaf(3), nt.Tensor(np.ones(3))
    Remember.apply(w, c).sum().backward()
    Remember.apply(c, 2.0)
    assert Remember.seen == [(True, False), (False, False)]
    np.testing.assert_array_equal(w.grad.data, np.ones(3))


def test_backward_reads_in_at_most_25_lines():
    import inspect

    source = inspect.getsource(nt.Tensor.backward)
    body = source.split('"""')[2]  # after the docstring
    lines = [line for line in body.splitlines() if line.strip()]
    assert len(lines) <= 25, f"Tensor.backward has {len(lines)} lines of code"
