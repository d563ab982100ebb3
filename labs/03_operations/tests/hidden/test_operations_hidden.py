"""Lab 3 (operations), hidden tests: broadcast shapes, scalars, 3-D inputs, negative dims, exact gradient shapes."""
import pytest
import numpy as np

from labs.testing import assert_gradients, backward_shapes, engine_unbroadcast, get, operation
import numtorch as nt


@pytest.mark.exercise("mul")
@pytest.mark.points(1)
def test_mul_broadcast_and_scalars(ns):
    MyMul = operation(ns, "MyMul")
    rng = np.random.default_rng(41)
    for a, b in [((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((5,), ()), ((1,), (6,))]:
        assert_gradients("MyMul", MyMul.apply, [rng.normal(size=a), rng.normal(size=b)],
                         "the same formula works for any shapes (the engine sums broadcast gradients back for you); does "
                         "your backward assume both inputs have the same shape, or use anything but the saved arrays?")


@pytest.mark.exercise("sigmoid")
@pytest.mark.points(1)
def test_sigmoid_other_shapes(ns):
    MySigmoid = operation(ns, "MySigmoid")
    rng = np.random.default_rng(42)
    for x in [rng.normal(0, 3, size=7), rng.normal(size=(2, 3, 4)), np.array(0.7), np.array([-8.0, 8.0])]:
        assert_gradients("MySigmoid", MySigmoid.apply, [x],
                         "everything is elementwise, so nothing in backward should depend on the shape (or be a number "
                         "copied from the public test).")


@pytest.mark.exercise("tanh")
@pytest.mark.points(1)
def test_tanh_other_shapes(ns):
    MyTanh = operation(ns, "MyTanh")
    rng = np.random.default_rng(43)
    for x in [rng.normal(0, 2, size=6), rng.normal(size=(2, 2, 3)), np.array(-0.3), np.array([-4.0, 4.0])]:
        assert_gradients("MyTanh", MyTanh.apply, [x], "everything is elementwise: nothing in backward should depend on the shape.")


@pytest.mark.exercise("matmul")
@pytest.mark.points(1)
def test_matmul_other_shapes(ns):
    MyMatMul = operation(ns, "MyMatMul")
    rng = np.random.default_rng(44)
    for a, b in [((1, 5), (5, 1)), ((4, 1), (1, 3)), ((6, 2), (2, 6)), ((3, 3), (3, 3))]:
        x, y = rng.normal(size=a), rng.normal(size=b)
        assert_gradients("MyMatMul", MyMatMul.apply, [x, y],
                         "check your products on a non-square case: x's gradient has x's shape, y's has y's.")
        shapes = backward_shapes(MyMatMul.apply, x, y)
        assert shapes == [a, b], (
            f"MyMatMul.backward returned gradients of shapes {shapes} for inputs {[a, b]}. Hint: one gradient per "
            f"input, each in that input's shape.")


@pytest.mark.exercise("sum")
@pytest.mark.points(1)
def test_sum_3d_and_negative_dims(ns):
    MySum = operation(ns, "MySum")
    rng = np.random.default_rng(45)
    x3, v = rng.normal(size=(2, 3, 4)), rng.normal(size=5)
    for x, dim in [(x3, 0), (x3, 1), (x3, 2), (x3, -1), (x3, None), (v, 0), (v, None)]:
        assert_gradients(f"MySum with dim={dim}", (lambda a: MySum.apply(a)) if dim is None else
                         (lambda a: MySum.apply(a, dim=dim)), [x],
                         "put the summed axis back at position dim (np.expand_dims accepts negative dims too) before "
                         "spreading; with no dim, every element gets the one upstream value.")


@pytest.mark.exercise("expand")
@pytest.mark.points(1)
def test_expand_other_dims_and_exact_shape(ns):
    MyExpand = operation(ns, "MyExpand")
    rng = np.random.default_rng(46)
    m = rng.normal(size=(2, 3))
    for dim, copies in [(-1, 4), (2, 2), (0, 1), (1, 3)]:
        fn = lambda a: MyExpand.apply(a, dim=dim, copies=copies)
        assert_gradients(f"MyExpand with dim={dim}, copies={copies}", fn, [m],
                         "sum over the axis ctx.args['dim'] of grad (negative dims count from the end of the output's "
                         "axes).")
    shapes = backward_shapes(lambda a: MyExpand.apply(a, dim=0, copies=3), m)
    assert shapes == [(2, 3)], (
        f"with dim=0, MyExpand.backward returned a gradient of shape {shapes} for an input of shape (2, 3). Hint: the "
        f"engine happens to sum extra leading axes for you, but the backward itself should sum over the new axis.")


def _random_pair(rng):
    shape = tuple(int(n) if rng.random() < 0.6 else 1 for n in rng.integers(2, 5, size=rng.integers(0, 4)))
    stretched = tuple(int(rng.integers(2, 5)) if n == 1 and rng.random() < 0.7 else n for n in shape)
    return tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3))) + stretched, shape


@pytest.mark.exercise("broadcast")
@pytest.mark.points(1)
def test_unbroadcast_random_and_broadcast_add_3d(ns):
    unbroadcast, BroadcastAdd = get(ns, "unbroadcast"), operation(ns, "BroadcastAdd")
    rng = np.random.default_rng(47)
    pairs = [((3, 4), ()), ((2, 3), (1, 1)), ((5,), (1,)), ((2, 1), (2, 1))] + [_random_pair(rng) for _ in range(40)]
    for grad_shape, shape in pairs:
        grad = rng.normal(size=grad_shape)
        try:
            got = unbroadcast(grad, shape)
        except Exception as error:
            got = f"an error, {type(error).__name__}: {error}"
        expected = engine_unbroadcast(grad, shape)
        assert not isinstance(got, str) and np.shape(got) == shape and np.allclose(got, expected), (
            f"unbroadcast(grad of shape {grad_shape}, {shape}) gave "
            f"{got if isinstance(got, str) else 'shape ' + str(np.shape(got))}, expected shape {shape} and sums "
            f"{np.round(expected, 3).tolist()}. Hint: cover the edge cases: a target shape () (sum everything), no "
            f"extra axes at all, and a 1 in the target where grad also has a 1.")
    a, b = (2, 1, 3), (4, 1)
    x, y = rng.normal(size=a), rng.normal(size=b)
    assert_gradients("BroadcastAdd", BroadcastAdd.apply, [x, y], "each gradient goes through unbroadcast, to its input's saved shape.")
    shapes = backward_shapes(BroadcastAdd.apply, x, y)
    assert shapes == [a, b], f"BroadcastAdd.backward returned shapes {shapes} for inputs {[a, b]}. Hint: unbroadcast both gradients."
