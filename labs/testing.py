"""Helpers for lab tests (the judge's side): `from labs.testing import StudentError, close, expect`.

A lab test drives the student's code through the fixture `student` (a `Student`) and gets back plain data
(notes/TEST_API.md). What goes wrong on the student's side becomes a `StudentError` whose message names the
call, the error and a hint; a mistake of the test's own (a snippet that does not compile, an `unavailable=`
name that does not exist) is a `BrokenTest`, the grader's problem and never the student's. `expect` and
`close` compare what came back with what the test computed:

    out = student.call("relu", x, hint="np.maximum(x, 0)")             # a crash fails with the hint
    expect(out, np.maximum(x, 0), "relu(x)", hint="negative values become 0")
"""
import textwrap

import numpy as np

from labs.grading import plain, snippet
from labs.grading.plain import TensorData

__all__ = ["BrokenTest", "Student", "StudentError", "TensorData", "close", "describe", "expect", "not_floats",
           "run_on_judge"]

DEFINE_HINT = "run the cell that defines it (and every cell above it) without errors, and check its name."
SCRATCH_HINT = "call it the same way in a scratch cell to see the whole error."
STUB_HINT = "replace `raise NotImplementedError()` with your code"
PLAIN_HINT = "return the value itself (a number, an array or a tensor), not an object that holds it."


class StudentError(AssertionError):
    """The student's code failed a test's request; the message says what was called, what went wrong, the hint."""


class BrokenTest(Exception):
    """The test itself is wrong (its author's mistake, found by the judge): the test fails, the grader reports a
    problem of its own (not of the submission), and the student is told it is not their fault."""


class Student:
    """The handle on the student's process, given to tests as the fixture `student`.

    `send(request) -> reply` carries one request (a dict of plain data, see labs/grading/snippet.py) to the
    student's process and brings its reply back: in-process under labs.check, to the sandboxed worker at
    grading. Every reply is decoded here, on the judge's side, as plain data. `rng` draws the default seeds.
    """

    def __init__(self, send, rng):
        self.send, self.rng = send, rng

    def run(self, code, *, what=None, hint=None, seed=None, unavailable=(), replace=None, **inputs):
        """Run `code` in a copy of the notebook's namespace with `inputs`; return its `result` as plain data."""
        code = textwrap.dedent(code).strip("\n")
        what = what or snippet_name(code)
        seed = int(self.rng.integers(2**31)) if seed is None else int(seed)
        try:
            encoded = plain.encode(inputs, path="inputs")
        except plain.NotPlainData as error:
            raise BrokenTest(f"an input of {what} is not plain data: {error}") from None
        request = {"op": "run", "code": code, "inputs": encoded, "seed": seed,
                   "unavailable": list(unavailable), "replace": dict(replace or {})}
        return self._result(self.send(request), what, hint, request)

    def call(self, name, *args, what=None, hint=None, seed=None, unavailable=(), replace=None):
        """`name(*args)` in the student's namespace, as plain data."""
        if not name.isidentifier():
            raise BrokenTest(f"student.call needs a name, not {name!r}")
        what = what or f"{name}({', '.join(map(describe, args))})"
        return self.run(f"result = {name}(*args)", what=what, hint=hint, seed=seed, unavailable=unavailable,
                        replace=replace, args=list(args))

    def defines(self, name):
        """Whether the notebook defines `name`."""
        return self._result(self.send({"op": "defines", "name": name}), f"defines({name!r})", None) is True

    def _result(self, reply, what, hint, request=None):
        """The decoded result of a reply; BrokenTest when the reply says the request was the test's mistake and
        the judge finds that mistake itself (the student's process is not believed on its own)."""
        mistake = request and isinstance(reply, dict) and reply.get("kind") == "test_error" and snippet.broken(request)
        if mistake:
            raise BrokenTest(mistake)
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            raise StudentError(failure_message(reply if isinstance(reply, dict) else {}, what, hint))
        try:
            return plain.decode(reply.get("result"))
        except plain.NotPlainData as error:
            raise StudentError(f"{what} sent back data the grader cannot read: {error}. Hint: {PLAIN_HINT}") from None


def failure_message(reply, what, hint):
    """What a student reads when their side of a request failed (reply fields are shown as text, cut short)."""
    kind, error_type, message = (str(reply.get(key, ""))[:600] for key in ("kind", "type", "message"))
    if kind == "not_defined":
        return f"your notebook defines no `{message}`. Hint: {DEFINE_HINT}"
    if kind == "not_written":
        return (f"{what}: {message} is not written yet (it still raises NotImplementedError). "
                f"Hint: {STUB_HINT}{f'; {hint}' if hint else '.'}")
    if kind == "not_plain":
        where = f" (in {message})" if message not in ("", "result") else ""
        return f"{what} returned {article(error_type)}{where}, expected numbers, arrays, strings or tensors. Hint: {hint or PLAIN_HINT}"
    return f"{what} raised {error_type or 'an error'}: {message}. Hint: {hint or SCRATCH_HINT}"


def article(noun):
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def snippet_name(code):
    """A snippet as a failure message names it: its first line, cut short."""
    first = code.splitlines()[0].strip() if code else "the test's code"
    return first if len(first) <= 60 else first[:57] + "..."


def describe(value):
    """A value as a failure message shows it: its repr when short, else its kind and shape."""
    if isinstance(value, TensorData):
        return f"a tensor of shape {value.shape}"
    if isinstance(value, np.ndarray) and value.size > 6:
        return f"an array of shape {value.shape}"
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    if len(text) <= 60 and "\n" not in text:
        return text
    return f"{article(type(value).__name__)} of length {len(value)}" if hasattr(value, "__len__") else text[:57] + "..."


def close(value, expected, atol=1e-4):
    """value is a number (or a one-element array or tensor) within `atol` of expected; False for anything else."""
    try:
        array = np.asarray(value.data if isinstance(value, TensorData) else value, dtype=float)
    except (TypeError, ValueError):
        return False
    return array.size == 1 and bool(np.isclose(array.item(), expected, atol=atol))


def same(got, expected, atol=1e-4):
    """got matches expected: numbers and arrays within `atol` (same shape), containers item by item, else ==."""
    if isinstance(got, TensorData):
        got = got.data
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        got_array, expected_array = np.asarray(got), np.asarray(expected)
        return (got_array.shape == expected_array.shape and got_array.dtype.kind in "biuf"
                and bool(np.allclose(got_array, expected_array, atol=atol, equal_nan=True)))
    if type(expected) in (int, float) and type(got) in (int, float):
        return close(got, expected, atol)
    if type(expected) in (list, tuple) and type(got) is type(expected):
        return len(got) == len(expected) and all(same(g, e, atol) for g, e in zip(got, expected))
    if type(expected) is dict and type(got) is dict:
        return got.keys() == expected.keys() and all(same(got[k], expected[k], atol) for k in expected)
    return type(got) is type(expected) and got == expected


def expect(got, expected, what, hint=None, atol=1e-4):
    """Fail with "`what` gave <got>, expected <expected>. Hint: ..." unless got matches expected (see `same`)."""
    if not same(got, expected, atol):
        shape = ""
        if isinstance(got, (np.ndarray, TensorData)) and np.shape(expected) != got.shape:
            shape = f" (shape {got.shape}, expected {np.shape(expected)})"
        raise AssertionError(f"{what} gave {describe(got)}{shape}, expected {describe(expected)}."
                             + (f" Hint: {hint}" if hint else ""))


def run_on_judge(code, seed=None, **inputs):
    """The `result` of `code` run on the judge's side (the expected value), as student.run runs it in the
    student's process: np, nt and the inputs in scope, np.random seeded with `seed` when given."""
    import numtorch as nt

    if seed is not None:
        np.random.seed(seed)
    namespace = {"np": np, "nt": nt, **inputs}
    exec(textwrap.dedent(code), namespace)
    return namespace.get("result")


def not_floats(value, length):
    """What `value` is when it is not a list of `length` floats (for a failure message), else None."""
    if not isinstance(value, list):
        return describe(value)
    if len(value) != length:
        return f"a list of {len(value)} items"
    kinds = sorted({"tensors" if isinstance(v, TensorData) else type(v).__name__
                    for v in value if not isinstance(v, float)})
    return f"a list holding {' and '.join(kinds)}" if kinds else None
