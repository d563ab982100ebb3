"""Lab 3 (operations), public tests: the check cells run these; hidden tests try other shapes at grading."""
import pytest
import numpy as np

from labs.testing import assert_forward, assert_gradients, backward_shapes, engine_unbroadcast, get, operation
import numtorch as nt


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.exercise("mul")
@pytest.mark.points(1)
def test_mul(ns):
    MyMul = operation(ns, "MyMul")
    rng = np.random.default_rng(31)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert_forward("MyMul", MyMul.apply, [x, y], x * y)
    assert_gradients("MyMul", MyMul.apply, [x, y],
                     "chain rule: upstream grad times the local derivative (dz/dx = y, dz/dy = x); return a tuple with one "
                     "gradient per input, in the order of forward's arguments.")


@pytest.mark.exercise("sigmoid")
@pytest.mark.points(1)
def test_sigmoid(ns):
    MySigmoid = operation(ns, "MySigmoid")
    x = np.random.default_rng(32).normal(0, 2, size=(2, 5))
    assert_forward("MySigmoid", MySigmoid.apply, [x], _sigmoid(x))
    assert_gradients("MySigmoid", MySigmoid.apply, [x],
                     "multiply the upstream grad by the local derivative z·(1 − z), where z is what forward saved "
                     "(read it from ctx.saved_tensors).")


@pytest.mark.exercise("tanh")
@pytest.mark.points(1)
def test_tanh(ns):
    MyTanh = operation(ns, "MyTanh")
    x = np.random.default_rng(33).normal(0, 1.5, size=(3, 4))
    assert_forward("MyTanh", MyTanh.apply, [x], np.tanh(x))
    assert_gradients("MyTanh", MyTanh.apply, [x], "multiply the upstream grad by the local derivative 1 − z², where z is the saved output.")


@pytest.mark.exercise("matmul")
@pytest.mark.points(2)
def test_matmul(ns):
    MyMatMul = operation(ns, "MyMatMul")
    rng = np.random.default_rng(34)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    assert_forward("MyMatMul", MyMatMul.apply, [x, y], x @ y)
    assert_gradients("MyMatMul", MyMatMul.apply, [x, y],
                     "x's gradient must be (2, 3) and y's (3, 4); write down which product of grad (2, 4), x and y "
                     "(or their transposes, .T) has each of those shapes.")


@pytest.mark.exercise("sum")
@pytest.mark.points(1)
def test_sum(ns):
    MySum = operation(ns, "MySum")
    x = np.random.default_rng(35).normal(size=(3, 4))
    assert_forward("MySum", MySum.apply, [x], x.sum())
    assert_gradients("MySum over all elements", MySum.apply, [x],
                     "every element of x gets the gradient of the sum it went into: spread grad out to x's saved "
                     "shape (see np.broadcast_to).")
    for dim in [1, 0]:
        assert_gradients(f"MySum with dim={dim}", lambda a: MySum.apply(a, dim=dim), [x],
                         f"grad lost axis {dim}: put that axis back (size 1, see np.expand_dims) before spreading grad "
                         f"to x's shape; read dim from ctx.args['dim'].")


@pytest.mark.exercise("expand")
@pytest.mark.points(1)
def test_expand(ns):
    MyExpand = operation(ns, "MyExpand")
    rng = np.random.default_rng(36)
    v, m = rng.normal(size=4), rng.normal(size=(2, 3))
    assert_forward("MyExpand", lambda a: MyExpand.apply(a, dim=0, copies=3), [v], np.stack([v] * 3))
    for x, dim, copies in [(v, 0, 3), (m, 1, 5)]:
        assert_gradients(f"MyExpand with dim={dim}, copies={copies}", lambda a: MyExpand.apply(a, dim=dim, copies=copies),
                         [x], "sum grad over the new axis; its position is ctx.args['dim'].")


@pytest.mark.exercise("broadcast")
@pytest.mark.points(1)
def test_unbroadcast_examples(ns):
    unbroadcast = get(ns, "unbroadcast")
    rng = np.random.default_rng(37)
    for grad_shape, shape in [((4, 3), (3,)), ((2, 5), (2, 1)), ((2, 3, 4), (3, 1)), ((3, 2), (3, 2))]:
        grad = rng.normal(size=grad_shape)
        expected = engine_unbroadcast(grad, shape)
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
    BroadcastAdd = operation(ns, "BroadcastAdd")
    rng = np.random.default_rng(38)
    for a, b in [((4, 3), (3,)), ((2, 1), (1, 5))]:
        x, y = rng.normal(size=a), rng.normal(size=b)
        assert_gradients("BroadcastAdd", BroadcastAdd.apply, [x, y],
                         "pass each input's gradient through your unbroadcast, with the shapes forward saved.")
        shapes = backward_shapes(BroadcastAdd.apply, x, y)
        assert shapes == [a, b], (
            f"BroadcastAdd.backward returned gradients of shapes {shapes} for inputs of shapes {[a, b]}. Hint: pass "
            f"each gradient through your unbroadcast, so each one has its input's exact shape.")

