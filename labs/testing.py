"""Helpers for lab tests (tests/public and tests/hidden): `from labs.testing import get, call`.

A lab test reads the executed notebook through the fixture `ns` and calls the student's code. These helpers
turn what goes wrong there into a failure a student can act on, always with a hint:

    mse = get(ns, "mse")                                    # not defined: says so, and which cell to run
    got = call(mse, pred, target, hint="average the squared differences")   # a crash: the error and the hint

and check what NumTorch labs ask for: `tensor` (a result is an nt.Tensor), `close` (a number),
`operation`, `assert_forward`, `assert_gradients`, `backward_shapes` and `engine_unbroadcast` (an
nt.Operation the student writes). The grader protects this module: whatever a notebook replaces in it is
put back before the tests run.
"""
import numpy as np

import numtorch as nt
from labs.grading.runner import DEFINE_HINT, not_defined
from numtorch.errors import GradcheckError
from numtorch.testing import gradcheck

SCRATCH_HINT = "call it the same way in a scratch cell to see the whole error."
STUB_HINT = "replace `raise NotImplementedError()` with your code"
FORWARD_HINT = "the forward was written for you; put it back as it was."


def get(ns, name, hint=DEFINE_HINT):
    """ns[name]; when the notebook does not define `name`, a failure that says so, with the hint."""
    if name not in ns:
        raise not_defined(name, hint)
    return ns[name]


def call(fn, *args, hint=None, what=None):
    """fn(*args); an error in the student's code becomes a failure naming the call, the error and the hint.

    `what` names the call (default: fn's name and its arguments). Without `hint`, a crash tells the student
    to repeat the call in a scratch cell to see the whole error.
    """
    try:
        return fn(*args)
    except NotImplementedError as error:
        advice = STUB_HINT + (f"; {hint}" if hint else ".")
        raise AssertionError(f"{what or described(fn, args)}: {not_written(error)}. Hint: {advice}") from None
    except Exception as error:
        raise AssertionError(f"{what or described(fn, args)} raised {type(error).__name__}: {error}. "
                             f"Hint: {hint or SCRATCH_HINT}") from None


def described(fn, args):
    """A call as a failure message shows it: `flatten(Tensor of shape (2, 3, 4))`."""
    return f"{getattr(fn, '__name__', type(fn).__name__)}({', '.join(map(describe, args))})"


def describe(value):
    """An argument as a failure message shows it: its repr when short, else its shape, name or type."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the failure being reported
        text = ""
    if text and len(text) <= 40 and "\n" not in text and " at 0x" not in text:
        return text
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return f"{type(value).__name__} of shape {shape}"
    return getattr(value, "__name__", type(value).__name__)


def not_written(error):
    """What a NotImplementedError means in a lab: the function that raised it is still the stub."""
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    return f"{frame.tb_frame.f_code.co_name} is not written yet (it still raises NotImplementedError)"


def tensor(value, what):
    """`value`, which must be an nt.Tensor; the failure names `what` and how to make one."""
    if not isinstance(value, nt.Tensor):
        raise AssertionError(f"{what} should be an nt.Tensor, got {type(value).__name__}. Hint: wrap the data: "
                             f"nt.Tensor(data) or nt.tensor(data).")
    return value


def close(value, expected, atol=1e-4):
    """value is a number (or a one-element tensor) within `atol` of expected; False for anything else."""
    try:
        return bool(np.isclose(float(value), expected, atol=atol))
    except (TypeError, ValueError):
        return False


def operation(ns, name):
    """The notebook's class `name`, which must subclass nt.Operation."""
    op = get(ns, name)
    if not (isinstance(op, type) and issubclass(op, nt.Operation)):
        raise AssertionError(f"`{name}` is not an nt.Operation subclass. Hint: keep the line "
                             f"`class {name}(nt.Operation):` as given.")
    return op


def assert_forward(what, fn, arrays, expected, hint=FORWARD_HINT):
    """fn on constant tensors made from `arrays` gives `expected`."""
    out = fn(*[nt.tensor(a) for a in arrays])
    if not np.allclose(out.data, expected):
        raise AssertionError(f"{what}: forward gives wrong values. Hint: {hint}")


def assert_gradients(what, fn, arrays, hint):
    """backward() of fn agrees with finite differences on `arrays` (numtorch.testing.gradcheck)."""
    try:
        gradcheck(fn, *arrays)
        return
    except NotImplementedError as error:
        problem = not_written(error)
    except GradcheckError as error:
        problem = str(error)
    except Exception as error:
        problem = f"{type(error).__name__}: {error}"
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    raise AssertionError(f"{what} on input shapes {shapes}: {problem}. Hint: {hint}")


def backward_shapes(fn, *arrays):
    """The shapes of the gradients fn's operation returns from backward itself, before the engine sees them."""
    out = fn(*[nt.tensor(a, requires_grad=True) for a in arrays])
    try:
        grads = type(out.grad_fn).backward(out.grad_fn, np.ones_like(out.data))
    except Exception as error:
        return f"backward raised {type(error).__name__}: {error}"
    return [np.shape(g) for g in (grads if isinstance(grads, tuple) else (grads,))]


def engine_unbroadcast(grad, shape):
    """What NumTorch's engine makes of a gradient `grad` for an input of `shape` that was broadcast."""
    leaf = nt.tensor(np.zeros(shape), requires_grad=True)
    (leaf + np.zeros(grad.shape)).backward(grad)
    return leaf.grad.data
