"""Lab 3 (operations), public tests: the check cells run these; hidden tests try other shapes at grading."""
import pytest
import numpy as np

import numtorch as nt
from numtorch.errors import GradcheckError
from numtorch.testing import gradcheck

HINT_RUN = "Hint: define it in your answer cell, then run that cell (and every cell above it) without errors."


def _get(ns, name):
    assert name in ns, f"`{name}` is not defined. {HINT_RUN}"
    return ns[name]


def _op(ns, name):
    op = _get(ns, name)
    assert isinstance(op, type) and issubclass(op, nt.Operation), (
        f"`{name}` is not an nt.Operation subclass. Hint: keep the line `class {name}(nt.Operation):` as given.")
    return op


def _problem(fn, *arrays):
    """None when fn's backward agrees with finite differences on these inputs, else what went wrong."""
    try:
        gradcheck(fn, *arrays)
    except NotImplementedError:
        return "backward is not written yet (it still raises NotImplementedError)"
    except GradcheckError as error:
        return str(error)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _assert_grads(what, fn, arrays, hint):
    problem = _problem(fn, *arrays)
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    assert problem is None, f"{what} on input shapes {shapes}: {problem}. Hint: {hint}"


def _assert_forward(what, fn, arrays, expected):
    out = fn(*[nt.tensor(a) for a in arrays])
    assert np.allclose(out.data, expected), (
        f"{what}: forward gives wrong values. Hint: the forward was written for you; put it back as it was.")


def _backward_shapes(fn, *arrays):
    """The shapes of the gradients fn's op returns from backward itself, before the engine sees them."""
    out = fn(*[nt.tensor(a, requires_grad=True) for a in arrays])
    try:
        grads = type(out.grad_fn).backward(out.grad_fn, np.ones_like(out.data))
    except Exception as error:
        return f"backward raised {type(error).__name__}: {error}"
    return [np.shape(g) for g in (grads if isinstance(grads, tuple) else (grads,))]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.exercise("mul")
@pytest.mark.points(1)
def test_mul(ns):
    MyMul = _op(ns, "MyMul")
    rng = np.random.default_rng(31)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    _assert_forward("MyMul", MyMul.apply, [x, y], x * y)
    _assert_grads("MyMul", MyMul.apply, [x, y],
                  "chain rule: upstream grad times the local derivative (dz/dx = y, dz/dy = x); return a tuple with one "
                  "gradient per input, in the order of forward's arguments.")


@pytest.mark.exercise("sigmoid")
@pytest.mark.points(1)
def test_sigmoid(ns):
    MySigmoid = _op(ns, "MySigmoid")
    x = np.random.default_rng(32).normal(0, 2, size=(2, 5))
    _assert_forward("MySigmoid", MySigmoid.apply, [x], _sigmoid(x))
    _assert_grads("MySigmoid", MySigmoid.apply, [x],
                  "multiply the upstream grad by the local derivative z·(1 − z), where z is what forward saved "
                  "(read it from ctx.saved_tensors).")


@pytest.mark.exercise("tanh")
@pytest.mark.points(1)
def test_tanh(ns):
    MyTanh = _op(ns, "MyTanh")
    x = np.random.default_rng(33).normal(0, 1.5, size=(3, 4))
    _assert_forward("MyTanh", MyTanh.apply, [x], np.tanh(x))
    _assert_grads("MyTanh", MyTanh.apply, [x], "multiply the upstream grad by the local derivative 1 − z², where z is the saved output.")


@pytest.mark.exercise("matmul")
@pytest.mark.points(2)
def test_matmul(ns):
    MyMatMul = _op(ns, "MyMatMul")
    rng = np.random.default_rng(34)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    _assert_forward("MyMatMul", MyMatMul.apply, [x, y], x @ y)
    _assert_grads("MyMatMul", MyMatMul.apply, [x, y],
                  "x's gradient must be (2, 3) and y's (3, 4); write down which product of grad (2, 4), x and y "
                  "(or their transposes, .T) has each of those shapes.")


@pytest.mark.exercise("sum")
@pytest.mark.points(1)
def test_sum(ns):
    MySum = _op(ns, "MySum")
    x = np.random.default_rng(35).normal(size=(3, 4))
    _assert_forward("MySum", MySum.apply, [x], x.sum())
    _assert_grads("MySum over all elements", MySum.apply, [x],
                  "every element of x gets the gradient of the sum it went into: spread grad out to x's saved "
                  "shape (see np.broadcast_to).")
    for dim in [1, 0]:
        _assert_grads(f"MySum with dim={dim}", lambda a: MySum.apply(a, dim=dim), [x],
                      f"grad lost axis {dim}: put that axis back (size 1, see np.expand_dims) before spreading grad "
                      f"to x's shape; read dim from ctx.args['dim'].")


@pytest.mark.exercise("expand")
@pytest.mark.points(1)
def test_expand(ns):
    MyExpand = _op(ns, "MyExpand")
    rng = np.random.default_rng(36)
    v, m = rng.normal(size=4), rng.normal(size=(2, 3))
    _assert_forward("MyExpand", lambda a: MyExpand.apply(a, dim=0, copies=3), [v], np.stack([v] * 3))
    for x, dim, copies in [(v, 0, 3), (m, 1, 5)]:
        _assert_grads(f"MyExpand with dim={dim}, copies={copies}", lambda a: MyExpand.apply(a, dim=dim, copies=copies),
                      [x], "sum grad over the new axis; its position is ctx.args['dim'].")


@pytest.mark.exercise("broadcast")
@pytest.mark.points(1)
def test_unbroadcast_examples(ns):
    unbroadcast = _get(ns, "unbroadcast")
    rng = np.random.default_rng(37)
    for grad_shape, shape in [((4, 3), (3,)), ((2, 5), (2, 1)), ((2, 3, 4), (3, 1)), ((3, 2), (3, 2))]:
        grad = rng.normal(size=grad_shape)
        expected = _engine_unbroadcast(grad, shape)
        try:
            got = unbroadcast(grad, shape)
        except NotImplementedError:
            got = "not written yet (NotImplementedError)"
        except Exception as error:
            got = f"an error, {type(error).__name__}: {error}"
        assert not isinstance(got, str) and np.shape(got) == shape and np.allclose(got, expected), (
            f"unbroadcast(grad of shape {grad_shape}, {shape}) gave {got if isinstance(got, str) else np.round(got, 3)}, "
            f"expected {np.round(expected, 3)}. Hint: first sum over the {len(grad_shape) - len(shape)} extra leading "
            f"axes, then over each axis where shape has a 1 (keepdims=True).")


@pytest.mark.exercise("broadcast")
@pytest.mark.points(1)
def test_broadcast_add(ns):
    BroadcastAdd = _op(ns, "BroadcastAdd")
    rng = np.random.default_rng(38)
    for a, b in [((4, 3), (3,)), ((2, 1), (1, 5))]:
        x, y = rng.normal(size=a), rng.normal(size=b)
        _assert_grads("BroadcastAdd", BroadcastAdd.apply, [x, y],
                      "pass each input's gradient through your unbroadcast, with the shapes forward saved.")
        shapes = _backward_shapes(BroadcastAdd.apply, x, y)
        assert shapes == [a, b], (
            f"BroadcastAdd.backward returned gradients of shapes {shapes} for inputs of shapes {[a, b]}. Hint: pass "
            f"each gradient through your unbroadcast, so each one has its input's exact shape.")


def _engine_unbroadcast(grad, shape):
    """What NumTorch's engine makes of a gradient `grad` for an input of `shape` that was broadcast."""
    leaf = nt.tensor(np.zeros(shape), requires_grad=True)
    (leaf + np.zeros(grad.shape)).backward(grad)
    return leaf.grad.data
