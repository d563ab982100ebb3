"""Lab 3 (operations), hidden tests: shapes drawn per submission (broadcast, scalars, 3-D, negative dims), values
where a sloppy derivative shows, and gradients in their inputs' exact shapes."""
import numpy as np
import pytest


def shape(rng, ndim, low=1, high=5):
    return tuple(int(n) for n in rng.integers(low, high, size=ndim))


@pytest.mark.exercise("mul")
@pytest.mark.points(1)
def test_mul_broadcast_and_scalars(check_op, rng):
    m, n = shape(rng, 2, 2)
    for a, b in [((m, n), (n,)), ((2, 1, n), (m, 1)), ((m,), ()), ((1,), (n,))]:
        check_op("MyMul", lambda x, y: x * y, [rng.normal(size=a), rng.normal(size=b)])


@pytest.mark.exercise("sigmoid")
@pytest.mark.points(1)
def test_sigmoid_other_shapes(check_op, rng):
    for x in [rng.normal(0, 3, size=shape(rng, 1, 2, 9)), rng.normal(size=shape(rng, 3, 2)), rng.normal(size=()),
              np.array([-8.0, 8.0]) * rng.uniform(0.5, 1.0)]:
        check_op("MySigmoid", lambda a: a.sigmoid(), [x])


@pytest.mark.exercise("tanh")
@pytest.mark.points(1)
def test_tanh_other_shapes(check_op, rng):
    for x in [rng.normal(0, 2, size=shape(rng, 1, 2, 9)), rng.normal(size=shape(rng, 3, 2)), rng.normal(size=()),
              np.array([-4.0, 4.0]) * rng.uniform(0.5, 1.0)]:
        check_op("MyTanh", lambda a: a.tanh(), [x])


@pytest.mark.exercise("matmul")
@pytest.mark.points(2)
def test_matmul_other_shapes(check_op, rng):
    n, k, m = (int(v) for v in rng.choice(np.arange(2, 7), size=3, replace=False))  # three different sizes
    for a, b in [((n, k), (k, m)), ((1, k), (k, 1)), ((n, 1), (1, m)), ((k, k), (k, k))]:
        check_op("MyMatMul", lambda x, y: x @ y, [rng.normal(size=a), rng.normal(size=b)], exact_shapes=True)


@pytest.mark.exercise("sum")
@pytest.mark.points(1)
def test_sum_3d_and_negative_dims(check_op, rng):
    x3, v = rng.normal(size=shape(rng, 3, 2)), rng.normal(size=shape(rng, 1, 2, 7))
    for x, dim in [(x3, 0), (x3, 1), (x3, 2), (x3, -1), (x3, -2), (x3, None), (v, 0), (v, None)]:
        settings = {} if dim is None else {"dim": dim}
        check_op("MySum", lambda a: a.sum(dim), [x], exact_shapes=True, **settings)


@pytest.mark.exercise("expand")
@pytest.mark.points(1)
def test_expand_other_dims_and_exact_shape(check_op, rng):
    m = rng.normal(size=shape(rng, 2, 2))
    for dim, copies in [(-1, int(rng.integers(2, 5))), (2, 2), (0, 1), (1, int(rng.integers(2, 5))), (0, 3)]:
        check_op("MyExpand", lambda a: a.expand(dim, copies), [m], exact_shapes=True, dim=dim, copies=copies)


def random_pair(rng):
    """(a broadcast shape, the shape it was stretched from), with extra leading axes and stretched 1s."""
    target = tuple(int(n) if rng.random() < 0.6 else 1 for n in rng.integers(2, 5, size=rng.integers(0, 4)))
    stretched = tuple(int(rng.integers(2, 5)) if n == 1 and rng.random() < 0.7 else n for n in target)
    return tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3))) + stretched, target


@pytest.mark.exercise("broadcast")
@pytest.mark.points(1)
def test_unbroadcast_random_shapes(check_unbroadcast, rng):
    check_unbroadcast([((3, 4), ()), ((2, 3), (1, 1)), ((5,), (1,)), ((2, 1), (2, 1))]
                      + [random_pair(rng) for _ in range(16)])


@pytest.mark.exercise("broadcast")
@pytest.mark.points(1)
def test_broadcast_add_3d(check_op, rng):
    for _ in range(3):
        a, b = random_pair(rng)
        check_op("BroadcastAdd", lambda x, y: x + y, [rng.normal(size=a), rng.normal(size=b)], exact_shapes=True)
    check_op("BroadcastAdd", lambda x, y: x + y, [rng.normal(size=(2, 1, 3)), rng.normal(size=(4, 1))],
             exact_shapes=True)
