"""Shared by lab 3's public and hidden tests (shipped with the public ones): run a student's operation on inputs
the judge chose, with a random upstream gradient, and compare with the gradients of NumTorch's own ops, computed
on the judge's side."""
import numpy as np
import pytest

import numtorch as nt
from numtorch.testing import analytic_grad

# The student's op runs forward and backward in their process: the output, the shapes backward itself returned
# (before the engine sums anything; with `exact`, a wrong shape stops there, so the message names it rather than
# what the engine makes of it) and the gradients backward() leaves on the inputs. The input shapes travel beside
# the arrays, so a 0-d input stays 0-d.
RUN_OP = """
leaves = [nt.tensor(np.reshape(a, shape), requires_grad=True) for a, shape in zip(arrays, shapes)]
out = THE_OP.apply(*leaves, **settings)
upstream = np.reshape(upstream, out.shape)
returned = type(out.grad_fn).backward(out.grad_fn, upstream.copy())
returned = returned if isinstance(returned, tuple) else (returned,)
returned = [None if g is None else list(np.shape(g)) for g in returned]
result = {"out": out.data, "returned": returned, "grads": None}
if not exact or returned == [list(shape) for shape in shapes]:
    out.backward(upstream)
    result["grads"] = [None if x.grad is None else x.grad.data for x in leaves]
"""
RUN_UNBROADCAST = """
out = unbroadcast(np.reshape(grad, grad_shape), tuple(shape))
result = {"shape": np.shape(out), "out": out}
"""
FORWARD_HINT = "the forward was written for you; put it back as it was."
HINTS = {
    "MyMul": "chain rule: upstream grad times the local derivative (dz/dx = y, dz/dy = x); return a tuple with one "
             "gradient per input, in the order of forward's arguments.",
    "MySigmoid": "multiply the upstream grad by the local derivative z·(1 − z), z being what forward saved.",
    "MyTanh": "multiply the upstream grad by the local derivative 1 − z², where z is the saved output.",
    "MyMatMul": "x's gradient has x's shape (n, k) and y's has y's shape (k, m): find which product of grad (n, m), "
                "x and y (or their transposes, .T) has each of those shapes.",
    "MySum": "every element gets the grad of the sum it went into: put the summed axis back (np.expand_dims(grad, "
             "dim), dim from ctx.args['dim']; negative dims count from the end) and spread grad to x's saved shape "
             "(np.broadcast_to).",
    "MyExpand": "sum grad over the new axis, whose position is ctx.args['dim'] (a negative dim counts from the end of "
                "the output's axes).",
    "BroadcastAdd": "pass each input's gradient through your unbroadcast, with the shape forward saved for that input.",
    "unbroadcast": "first sum over the extra leading axes, then over each axis where shape has a 1 and grad does not "
                   "(keepdims=True); a target shape () means summing everything.",
}
# While the student's code runs, NumTorch's own backward methods raise (calling one, or letting autograd call one,
# would not be writing it yourself), and so do the helpers that spread a reduction's gradient and undo
# broadcasting: the engine's own unbroadcast stays available only to MyMul, whose broadcast gradients the engine
# sums as for any op (the other ops are checked before the engine sees a wrong shape).
BACKWARDS = tuple(f"numtorch.operations.{op}.backward" for op in nt.operations.__all__ if op != "Operation")
OFF_LIMITS = dict.fromkeys(HINTS, BACKWARDS + ("numtorch.operations.reduce._spread", "numtorch.tensor._unbroadcast"))
OFF_LIMITS["MyMul"] = BACKWARDS + ("numtorch.operations.reduce._spread",)


def engine_unbroadcast(grad, shape):
    """What NumTorch's engine makes of a gradient `grad` for an input of `shape` that was broadcast."""
    leaf = nt.tensor(np.zeros(shape), requires_grad=True)
    (leaf + np.zeros(grad.shape)).backward(grad)
    return leaf.grad.data


def matches(got, expected):
    """got has expected's values (and size: a one-element array stands for a number)."""
    return got is not None and np.size(got) == np.size(expected) and np.allclose(
        np.reshape(got, np.shape(expected)), expected, rtol=1e-6, atol=1e-8)


def first_difference(got, expected):
    """Where two arrays first differ, in words."""
    if got is None:
        return "there is none"
    if np.size(got) != np.size(expected):
        return f"it has shape {np.shape(got)}, expected {np.shape(expected)}"
    got = np.reshape(got, np.shape(expected))
    where = tuple(int(i) for i in np.argwhere(~np.isclose(got, expected, rtol=1e-6, atol=1e-8))[0])
    return f"at {where or 'the only element'} you give {got[where]:.6g}, expected {expected[where]:.6g}"


@pytest.fixture
def check_op(student, rng):
    """check_op(name, fn, arrays, exact_shapes=False, **settings): the student's operation `name`, applied to
    `arrays` with `settings`, gives fn's output and gradients (fn: the same op built from NumTorch's own, run
    here), with NumTorch's own piece off-limits. exact_shapes: backward itself must return each gradient in its
    input's shape (not leave the summing to the engine)."""

    def check(name, fn, arrays, exact_shapes=False, **settings):
        hint = HINTS[name]
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shapes = " and ".join(str(a.shape) for a in arrays)
        what = f"{name}.apply on inputs of shapes {shapes}" + "".join(f", {k}={v!r}" for k, v in settings.items())
        expected_out = fn(*[nt.tensor(a) for a in arrays]).data
        upstream = np.asarray(rng.normal(size=expected_out.shape))
        expected = analytic_grad(fn, *arrays, upstream=upstream)
        got = student.run(RUN_OP.replace("THE_OP", name), arrays=arrays, shapes=[a.shape for a in arrays],
                          upstream=upstream, settings=settings, exact=exact_shapes,
                          unavailable=OFF_LIMITS[name], what=what, hint=hint)
        assert matches(got["out"], expected_out), (
            f"{what}: forward gives wrong values. Hint: {FORWARD_HINT}")
        if exact_shapes:
            wanted = [list(a.shape) for a in arrays]
            returned = [None if g is None else tuple(g) for g in got["returned"]]
            assert got["returned"] == wanted, (
                f"{what}: backward returned gradients of shapes {returned} for inputs of shapes "
                f"{[a.shape for a in arrays]}. "
                f"Hint: return one gradient per input, each in that input's exact shape. {hint}")
        for k, (mine, true) in enumerate(zip(got["grads"], expected)):
            assert matches(mine, true), (
                f"{what}: the gradient of input {k} is wrong: {first_difference(mine, true)}. Hint: {hint}")

    return check


@pytest.fixture
def check_unbroadcast(student, rng):
    """check_unbroadcast(pairs): the student's unbroadcast sums a random grad of shape pairs[i][0] down to
    pairs[i][1] as NumTorch's engine does."""

    def check(pairs):
        for grad_shape, shape in pairs:
            grad = rng.normal(size=grad_shape)
            what = f"unbroadcast(grad of shape {grad_shape}, {shape})"
            got = student.run(RUN_UNBROADCAST, grad=grad, grad_shape=grad_shape, shape=shape, what=what,
                              unavailable=OFF_LIMITS["unbroadcast"], hint=HINTS["unbroadcast"])
            expected = engine_unbroadcast(grad, shape)
            right_shape = tuple(got["shape"]) == tuple(shape)
            gave = np.round(np.reshape(got["out"], shape), 3).tolist() if right_shape else f"shape {tuple(got['shape'])}"
            assert right_shape and matches(got["out"], expected), (
                f"{what} gave {gave}, expected shape {shape} and {np.round(expected, 3).tolist()}. "
                f"Hint: {HINTS['unbroadcast']}")

    return check
