"""Lab 3 (operations), public tests: the check cells run these; hidden tests try other shapes at grading.
While they run, NumTorch's own backward of the same operation is off-limits (it raises)."""
import pytest


@pytest.mark.exercise("mul")
@pytest.mark.points(1)
def test_mul(check_op, rng):
    check_op("MyMul", lambda x, y: x * y, [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))])


@pytest.mark.exercise("sigmoid")
@pytest.mark.points(1)
def test_sigmoid(check_op, rng):
    check_op("MySigmoid", lambda x: x.sigmoid(), [rng.normal(0, 2, size=(2, 5))])


@pytest.mark.exercise("tanh")
@pytest.mark.points(1)
def test_tanh(check_op, rng):
    check_op("MyTanh", lambda x: x.tanh(), [rng.normal(0, 1.5, size=(3, 4))])


@pytest.mark.exercise("matmul")
@pytest.mark.points(1)
def test_matmul(check_op, rng):
    check_op("MyMatMul", lambda x, y: x @ y, [rng.normal(size=(2, 3)), rng.normal(size=(3, 4))], exact_shapes=True)


@pytest.mark.exercise("sum")
@pytest.mark.points(1)
def test_sum(check_op, rng):
    x = rng.normal(size=(3, 4))
    check_op("MySum", lambda a: a.sum(), [x], exact_shapes=True)
    for dim in [1, 0]:
        check_op("MySum", lambda a: a.sum(dim), [x], exact_shapes=True, dim=dim)


@pytest.mark.exercise("expand")
@pytest.mark.points(1)
def test_expand(check_op, rng):
    for shape, dim, copies in [((4,), 0, 3), ((2, 3), 1, 5)]:
        check_op("MyExpand", lambda a: a.expand(dim, copies), [rng.normal(size=shape)], exact_shapes=True,
                 dim=dim, copies=copies)


@pytest.mark.exercise("broadcast")
@pytest.mark.points(0.5)
def test_unbroadcast_examples(check_unbroadcast):
    check_unbroadcast([((4, 3), (3,)), ((2, 5), (2, 1)), ((2, 3, 4), (3, 1)), ((3, 2), (3, 2))])


@pytest.mark.exercise("broadcast")
@pytest.mark.points(0.5)
def test_broadcast_add(check_op, rng):
    for a, b in [((4, 3), (3,)), ((2, 1), (1, 5))]:
        check_op("BroadcastAdd", lambda x, y: x + y, [rng.normal(size=a), rng.normal(size=b)], exact_shapes=True)
