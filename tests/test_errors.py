"""Errors for students: the library's own types (subclassing the obvious built-in), naming the op, the shapes and a fix."""

import numpy as np
import pytest

import numtorch as nt
from numtorch.errors import GradError, NumTorchError, NumTorchIndexError, NumTorchTypeError, ShapeError


def raises(kind, builtin, fn, *fragments):
    """fn() raises `kind` (a NumTorchError and a `builtin`) whose message holds every fragment."""
    assert issubclass(kind, NumTorchError) and issubclass(kind, builtin)
    with pytest.raises(builtin) as info:
        fn()
    assert type(info.value) is kind, f"expected {kind.__name__}, got {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} is missing from the message: {message}"
    return message


def tracking(*shape):
    return nt.Tensor(np.ones(shape), autograd=True)


def test_mm_with_mismatched_shapes():
    for multiply in (lambda: tracking(2, 3).mm(tracking(4, 5)), lambda: tracking(2, 3) @ np.ones((4, 5)),
                     lambda: tracking(2, 3).dot(tracking(4, 5))):
        raises(ShapeError, ValueError, multiply, "mm", "(2, 3)", "(4, 5)", "inner sizes 3 and 4", ".T")


def test_linear_layer_given_the_wrong_number_of_features():
    layer = nt.layers.LinearLayer(3, 2)
    raises(ShapeError, ValueError, lambda: layer(nt.Tensor(np.ones((4, 5)))), "linear", "(4, 5)", "(3, 2)", "transpose")


def test_cross_entropy_with_an_out_of_range_target():
    logits = tracking(4, 3)
    raises(NumTorchIndexError, IndexError, lambda: logits.cross_entropy(np.array([0, 1, 3, 2])),
           "cross_entropy", "class 3", "(4, 3)", "0 to 2", "subtract 1")
    raises(NumTorchIndexError, IndexError, lambda: logits.cross_entropy(np.array([0, -1, 1, 2])), "class -1", "row 1")


def test_cross_entropy_with_float_targets():
    raises(NumTorchTypeError, TypeError, lambda: tracking(4, 3).cross_entropy(np.array([0.0, 1.0, 1.0, 2.0])),
           "cross_entropy", "float64", "(4,)", "(4, 3)", "astype(int)")
    raises(NumTorchTypeError, TypeError,
           lambda: nt.layers.CrossEntropyLoss()(tracking(2, 3), nt.Tensor(np.array([[0.0, 1], [1, 0]]))),
           "cross_entropy", "class probabilities of the logits' shape", "argmax(axis=1)")


def test_cross_entropy_with_the_wrong_number_of_targets():
    raises(ShapeError, ValueError, lambda: tracking(4, 3).cross_entropy(np.array([0, 1, 1])),
           "cross_entropy", "(3,)", "(4,)")
    raises(ShapeError, ValueError, lambda: tracking(3).cross_entropy(np.array([0, 1])), "cross_entropy", "(3,)",
           "reshape(1, -1)")
    raises(ShapeError, ValueError, lambda: tracking(2, 3, 4).cross_entropy(np.zeros((2, 3), int)), "cross_entropy",
           "(2, 3, 4)", "(2, 4)")


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = tracking(2, 3).tanh()
    raises(GradError, RuntimeError, lambda: y.backward(np.ones(3)), "backward", "(3,)", "(2, 3)",
           "gradient of the tensor's shape")


def test_backward_on_a_tensor_that_does_not_track_gradients():
    plain = nt.Tensor(np.ones((2, 3))).sum()
    raises(GradError, RuntimeError, plain.backward, "backward", "does not track", "shape ()", "autograd=True")
    with nt.no_grad():
        made_without_graph = tracking(2) * 2
    raises(GradError, RuntimeError, made_without_graph.backward, "(2,)", "no_grad")


def test_optimizer_given_something_that_is_not_a_tensor():
    w = tracking(2)
    raises(NumTorchTypeError, TypeError, lambda: nt.optimizers.SGDOptimizer([w, np.ones((2, 3))]),
           "SGDOptimizer", "params[1]", "ndarray", "(2, 3)", "model.get_params()", "nt.Tensor(array, autograd=True)")
    raises(NumTorchTypeError, TypeError, lambda: nt.optimizers.AdamOptimizer(3), "AdamOptimizer", "int",
           "model.get_params()")
    raises(NumTorchTypeError, TypeError, lambda: nt.optimizers.SGDOptimizer([w, "bias"]), "params[1]", "str")


def test_add_that_cannot_broadcast():
    raises(ShapeError, ValueError, lambda: tracking(2, 3) + tracking(4), "add", "(2, 3)", "(4,)",
           "equal, or 1, in each dimension")
    raises(ShapeError, ValueError, lambda: np.ones((5, 1, 2)) * tracking(3, 4), "mul", "(5, 1, 2)", "(3, 4)")


def test_mse_loss_with_shapes_that_would_broadcast():
    raises(ShapeError, ValueError, lambda: nt.layers.MSELoss()(tracking(4, 1), nt.Tensor(np.zeros(4))),
           "mse_loss", "(4, 1)", "(4,)", "reshape the target")


def test_shape_and_index_errors_of_other_ops():
    x = tracking(2, 3)
    raises(ShapeError, ValueError, lambda: x.reshape(4, 2), "reshape", "(2, 3)", "(4,2)")
    raises(ShapeError, ValueError, lambda: x.sum(dim=2), "sum", "axis 2", "(2, 3)")
    raises(NumTorchIndexError, IndexError, lambda: x[5], "getitem", "index 5", "(2, 3)")
    raises(NumTorchIndexError, IndexError, lambda: x.index_select(np.array([0, 7])), "index_select", "7", "(2, 3)")
    raises(NumTorchTypeError, TypeError, lambda: x.index_select(np.array([0.0, 1.0])), "index_select", "float64",
           "astype(int)")
    raises(NumTorchIndexError, IndexError, lambda: x.transpose(0, 3), "transpose", "(0, 3)", "2 dims", "-2 to 1")


def test_making_tensors_from_the_wrong_things():
    raises(NumTorchTypeError, TypeError, lambda: nt.Tensor(object()), "Tensor", "object")
    raises(NumTorchTypeError, TypeError, lambda: nt.Tensor([1.0], {"autograd": True, "grad": 1}), "Tensor", "'grad'",
           "'autograd', 'name'")
    raises(NumTorchTypeError, TypeError, lambda: tracking(2) + {"a": 1}, "add", "dict", "NumPy array")
    raises(NumTorchTypeError, TypeError, lambda: tracking(2) + "a", "add", "(2,)")  # NumPy's UFuncTypeError
    raises(NumTorchTypeError, TypeError, lambda: nt.layers.RNNCell(2, 3, 4, activation="swish"), "RNNCell", "'swish'",
           "'tanh'")


class WrongCount(nt.Operation):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad  # one gradient for two inputs


class WrongShape(nt.Operation):
    name = "wrong_shape"

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return np.ones(7)


def test_a_custom_operation_with_a_wrong_backward_is_named():
    raises(GradError, RuntimeError, lambda: WrongCount.apply(tracking(2), tracking(2)).sum().backward(),
           "wrongcount.backward", "1 gradients for 2 inputs", "one per input")
    raises(ShapeError, ValueError, lambda: WrongShape.apply(tracking(2, 3)).sum().backward(),
           "wrong_shape.backward", "(7,)", "(2, 3)", "input's (or the broadcast) shape")


def test_subclassing_tensor_is_refused_rather_than_silently_losing_gradients():
    def subclass():
        class Parameter(nt.Tensor):
            pass

    raises(NumTorchTypeError, TypeError, subclass, "Parameter", "cannot be subclassed", "no gradients")
