"""numtorch.testing: numerical_grad and gradcheck (the tool the labs use), and student-defined Operations."""

import numpy as np
import pytest

import numtorch as nt
from numtorch.testing import analytic_grad, gradcheck, numerical_grad


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


# ---- gradcheck on correct code -------------------------------------------------------------------------

def test_gradcheck_passes_on_correct_ops():
    x, w, b = arrays((4, 3), (3, 2), (2,))
    assert gradcheck(lambda x, w, b: (x @ w + b).tanh(), x, w, b) is True
    assert gradcheck(lambda x, w: (x @ w).cross_entropy(np.array([0, 1, 1, 0])), x, w) is True
    assert gradcheck(lambda x: (x.sigmoid() * (x * x + 1).log()).mean(dim=0), x) is True
    assert gradcheck(lambda x: x.softmax(dim=0) * x, x) is True


def test_gradcheck_takes_tensors_arrays_and_float32_and_leaves_them_alone():
    x32 = nt.Tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), autograd=True)
    w = np.ones((3, 1))
    before = x32.data.copy()
    assert gradcheck(lambda x, w: (x @ w).tanh(), x32, w)  # computed in float64 all the same
    np.testing.assert_array_equal(x32.data, before)
    assert x32.data.dtype == np.float32 and x32.grad is None
    assert gradcheck(lambda x: x * 3, 2.0), "a Python number is an input too"


# ---- gradcheck on wrong code ---------------------------------------------------------------------------

class SquareMissingTwo(nt.Operation):
    """z = x^2, with a wrong backward: grad * x instead of grad * 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class MulWrongAtOneElement(nt.Operation):
    """z = x * y, with a backward for y that is wrong at element (1, 2) only."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gy = grad * x
        gy[1, 2] += 1.0
        return grad * y, gy


def test_gradcheck_names_the_input_and_the_element_that_differ():
    x, y = arrays((2, 3), (2, 3))
    with pytest.raises(nt.GradcheckError) as info:
        gradcheck(lambda x: SquareMissingTwo.apply(x), x)
    message = str(info.value)
    assert "input 0" in message and "element (0, 0)" in message and "6 of 6 elements differ" in message
    assert "backward gives" in message and "finite differences give" in message
    with pytest.raises(AssertionError, match=r"input 1 \(shape \(2, 3\)\) element \(1, 2\).*1 of 6 elements differ"):
        gradcheck(lambda x, y: MulWrongAtOneElement.apply(x, y), x, y)


def test_gradcheck_tolerances():
    class SlightlyOff(nt.Operation):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0001

    x = np.ones(3)
    assert gradcheck(lambda x: SlightlyOff.apply(x), x, rtol=1e-3)
    with pytest.raises(nt.GradcheckError):
        gradcheck(lambda x: SlightlyOff.apply(x), x, rtol=1e-6, atol=1e-8)


def test_gradcheck_needs_a_tensor_back():
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda x: x.data * 2, np.ones(2))


# ---- numerical_grad and analytic_grad -----------------------------------------------------------------

def test_numerical_grad_matches_known_derivatives():
    (x,) = arrays((3, 2))
    (g,) = numerical_grad(lambda x: x ** 3, x)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-7)
    upstream = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])
    (g,) = numerical_grad(lambda x: x.exp(), x, upstream=upstream)
    np.testing.assert_allclose(g, np.exp(x) * upstream, rtol=1e-7)
    a, b = arrays((3,), (3,), seed=1)
    ga, gb = numerical_grad(lambda a, b: (a * b).sum(), a, b)
    np.testing.assert_allclose(ga, b, rtol=1e-7)
    np.testing.assert_allclose(gb, a, rtol=1e-7)
    assert ga.dtype == np.float64


def test_numerical_grad_does_not_modify_its_inputs():
    x = nt.Tensor(np.array([1.0, 2.0]), autograd=True)
    numerical_grad(lambda x: x * x, x)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_analytic_grad_gives_zeros_for_an_unused_input():
    ga, gb = analytic_grad(lambda a, b: a * 2, np.ones(2), np.ones(3))
    np.testing.assert_array_equal(ga, [2.0, 2.0])
    np.testing.assert_array_equal(gb, np.zeros(3))


# ---- a student's own Operation ---------------------------------------------------------------------------

class Sin(nt.Operation):
    """z = sin(x);  dz/dx = cos(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Scale(nt.Operation):
    """z = factor * x (factor is a setting, not an input);  dz/dx = factor"""

    name = "scale_by"

    @staticmethod
    def forward(ctx, x, factor=2.0):
        return factor * x

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.args["factor"]


class ScaledAdd(nt.Operation):
    """z = x + s * y, broadcasting;  dz/dx = 1, dz/dy = s (gradients returned in the broadcast shape)"""

    @staticmethod
    def forward(ctx, x, y, s=1.0):
        return x + s * y

    @staticmethod
    def backward(ctx, grad):
        needs_x, needs_y = ctx.needs_input_grad
        return (grad if needs_x else None), (grad * ctx.args["s"] if needs_y else None)


def test_a_student_operation_works_end_to_end():
    x = nt.Tensor(np.array([0.1, 0.5, 1.0]), autograd=True)
    y = Sin.apply(x * 2)
    assert y.autograd and y.grad_fn.op_name == "sin" and y.grad_fn.parents[0].grad_fn.op_name == "mul"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.cos(2 * x.data))
    (a,) = arrays((2, 3))
    assert gradcheck(lambda a: Sin.apply(a).tanh(), a)
    with nt.no_grad():
        assert not Sin.apply(x).autograd


def test_a_student_operation_with_settings_and_their_defaults():
    x = nt.Tensor(np.array([1.0, -2.0]), autograd=True)
    doubled = Scale.apply(x)  # forward's default factor=2.0 also reaches backward through ctx.args
    assert doubled.grad_fn.args == {"factor": 2.0} and repr(doubled.grad_fn) == "<scale_by(factor=2.0)>"
    doubled.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert gradcheck(lambda x: Scale.apply(x, factor=-3.0), x)


def test_a_student_operation_may_return_broadcast_gradients_and_none():
    x, row = arrays((3, 4), (4,))
    assert gradcheck(lambda x, row: ScaledAdd.apply(x, row, s=0.5), x, row)
    w = nt.Tensor(row, autograd=True)
    ScaledAdd.apply(np.ones((3, 4)), w, s=2.0).sum().backward()  # the constant input gets None
    np.testing.assert_allclose(w.grad.data, np.full(4, 6.0))


def test_a_model_built_on_a_student_operation_trains():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (32, 1))
    target = nt.Tensor(np.sin(3 * x))
    w = nt.Tensor(np.array([[1.0]]), autograd=True)
    optimizer = nt.optimizers.SGDOptimizer([w], lr=0.5)
    for _ in range(100):
        loss = nt.layers.MSELoss()(Sin.apply(nt.Tensor(x) @ w), target)
        loss.backward()
        optimizer.step()
    assert w.data[0, 0] == pytest.approx(3.0, abs=1e-3) and loss.item() < 1e-6
