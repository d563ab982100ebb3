"""Errors for students: the library's own types (subclassing the obvious built-in), naming the op, the shapes and a fix."""

import subprocess
import sys
import textwrap
import warnings

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


# ---- crashes that became errors for students (issue 12) -------------------------------------------------------

def test_reductions_of_a_0d_tensor_over_its_one_dim(torch):
    for method, dim in (("sum", 0), ("mean", -1), ("sum", (0,))):
        x, t = nt.tensor(2.5, requires_grad=True), torch.tensor(2.5, requires_grad=True)
        out, expected = getattr(x, method)(dim=dim), getattr(t, method)(dim=dim)
        (out * 3).backward()
        (expected * 3).backward()
        assert out.shape == () and out.item() == expected.item() and x.grad.item() == t.grad.item()
    raises(ShapeError, ValueError, lambda: nt.tensor(1.0).sum(dim=1), "sum", "axis 1")


def test_softmax_over_a_dim_of_size_zero_is_empty_as_in_pytorch():
    x = nt.tensor(np.zeros((3, 0)), requires_grad=True)
    for method in ("softmax", "log_softmax"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and without a warning
            out = getattr(x, method)(dim=1)
            out.backward()
        assert out.shape == (3, 0) and x.grad.shape == (3, 0)


def test_a_learning_rate_that_is_not_a_number():
    w = tracking(2)
    raises(NumTorchTypeError, TypeError, lambda: nt.optimizers.SGDOptimizer([w], lr="0.1"), "SGDOptimizer",
           "lr must be a number", "str", "lr=0.1")
    optimizer = nt.optimizers.AdamOptimizer([w])

    def set_lr(value):
        optimizer.lr = value

    raises(NumTorchTypeError, TypeError, lambda: set_lr(None), "AdamOptimizer", "NoneType")
    raises(nt.NumTorchValueError, ValueError, lambda: set_lr(-1.0), ">= 0")
    set_lr(np.float64(0.5))
    raises(nt.NumTorchValueError, ValueError, lambda: nt.optimizers.SGD([w], nesterov=True), "nesterov", "momentum")


def test_activation_layers_take_arrays_as_linear_layers_do():
    x = np.array([[-1.0, 0.5]])
    for layer, expected in ((nt.layers.Tanh(), np.tanh(x)), (nt.layers.Sigmoid(), 1 / (1 + np.exp(-x))),
                            (nt.layers.ReLU(), np.maximum(x, 0)), (nt.layers.Softmax(), np.exp(x) / np.exp(x).sum())):
        np.testing.assert_allclose(layer(x).data, expected)


def test_integers_to_negative_powers():
    raises(NumTorchTypeError, TypeError, lambda: nt.tensor([1, 2]) ** -1, "pow", "Integers to negative",
           "x.float()", "x ** -1.0")
    np.testing.assert_allclose((nt.tensor([1, 2]) ** -1.0).data, [1.0, 0.5])


def test_no_numpy_runtime_warnings_from_the_operations(torch):
    """log(0), 1/0, inf * 0, exp(1e300): inf and nan as PyTorch gives them, without NumPy's RuntimeWarnings. Run as
    a student's script does (a fresh interpreter: pytest resets warning filters around imports)."""
    script = textwrap.dedent("""
        import numpy as np, numtorch as nt
        x = nt.tensor([0.0, 1.0], requires_grad=True)
        y = x.log() + 1 / x + (x * np.inf) + nt.tensor([1e300]).exp()
        y.backward()
        print(y.data.tolist(), x.grad.data.tolist())
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr
    t = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    expected = t.log() + 1 / t + (t * np.inf) + torch.tensor([1e300], dtype=torch.float64).exp()
    expected.sum().backward()
    assert run.stdout.strip() == str(expected.tolist()) + " " + str(t.grad.tolist())


def test_negative_indices_for_embeddings():
    raises(NumTorchIndexError, IndexError, lambda: tracking(5, 3).index_select(np.array([0, -1])), "index_select",
           "-1", "negative")
    raises(NumTorchIndexError, IndexError, lambda: nt.layers.EmbeddingLayer(5, 3)(np.array([2, -1])), "index_select",
           "-1")


def test_transpose_with_a_permutation_that_names_a_dim_twice():
    raises(ShapeError, ValueError, lambda: tracking(2, 3, 4).transpose(0, 0, 1), "transpose", "(0, 0, 1)",
           "each dim once")
    raises(NumTorchIndexError, IndexError, lambda: tracking(2, 3, 4).transpose(0, 1, 3), "transpose", "(0, 1, 3)")


def test_loss_settings_outside_their_values():
    raises(nt.NumTorchValueError, ValueError, lambda: nt.layers.MSELoss(reduction="avg")(tracking(2), tracking(2)),
           "mse_loss", "'avg'", "'mean', 'sum', 'none'")
    raises(ShapeError, ValueError, lambda: tracking(4, 3).cross_entropy(np.array([0, 1, 2, 0]), weight=np.ones(4)),
           "cross_entropy", "weight=", "(3,)", "(4,)")
    raises(NumTorchTypeError, TypeError, lambda: nt.where(np.array([1, 0]), tracking(2), 0.0), "where", "boolean")
    raises(NumTorchTypeError, TypeError, lambda: tracking(2).clamp(), "clamp", "min=")


# ---- tracebacks in IPython: the student's line and NumTorch's message ------------------------------------------

def test_ipython_shows_the_students_line_and_the_message_without_library_frames(capsys):
    from IPython.terminal.interactiveshell import TerminalInteractiveShell

    shell = TerminalInteractiveShell.instance()  # the singleton class the magics' tests use too
    shell.run_cell("import numpy as np, numtorch as nt\n"
                   "a = nt.tensor(np.ones((2, 3)), requires_grad=True)\nb = nt.tensor(np.ones((4, 5)))")
    capsys.readouterr()
    result = shell.run_cell("def predict(a, b):\n    return a @ b\n\npredict(a, b)")
    text = capsys.readouterr().out
    assert isinstance(result.error_in_exec, ShapeError)
    assert "predict(a, b)" in text and "return a @ b" in text
    assert "ShapeError: mm: cannot multiply (2, 3) by (4, 5)" in text
    assert "numtorch/" not in text and "apply" not in text and "interactiveshell" not in text, text
    shell.run_cell("class Twice(nt.Operation):\n"
                   "    @staticmethod\n"
                   "    def forward(ctx, x):\n"
                   "        return x.reshape(7) * 2\n\n"
                   "Twice.apply(a)")
    text = capsys.readouterr().out
    assert "return x.reshape(7) * 2" in text and "Twice.apply(a)" in text, "a student's own forward is shown"
    assert "ShapeError: twice: cannot reshape" in text and "numtorch/" not in text, text
    shell.run_cell("1 / 0")
    assert "ZeroDivisionError" in capsys.readouterr().out, "other errors show as IPython shows them"
