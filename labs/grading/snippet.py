"""The student's side of the test API: run one request of a test in the notebook's namespace.

A request is a dict of plain data from the judge; the reply is one too (see `labs.testing.Student`):

    {"op": "run", "code": ..., "inputs": <encoded>, "seed": 7, "unavailable": [...], "replace": {...}}
        -> {"ok": True, "result": <encoded>}
         | {"ok": False, "kind": "error" | "not_written" | "not_defined" | "not_plain" | "test_error",
            "type": ..., "message": ...}
    {"op": "defines", "name": "relu"} -> {"ok": True, "result": true}

"test_error" is the test author's mistake, found before any student code runs: the snippet or a `replace=`
source does not compile, or an `unavailable=` name is no library function (see `prepared`).

This module runs where the student's code runs (the sandboxed worker at grading, the notebook itself under
labs.check), so nothing it says is trusted: the judge decides what a reply is worth (a "test_error" counts only
when `broken(request)` finds the same mistake in the judge).
"""
import builtins
import contextlib
import importlib
import json
import random
import traceback

import numpy as np

import numtorch as nt
from labs.grading import plain

SNIPPET = "<test snippet>"  # the file name of a snippet's code in tracebacks
REFERENCE = "<reference code>"  # the file name of replace= sources
MESSAGE_LIMIT = 500  # characters of a student's error message sent back
OFF_LIMITS = "{} is off-limits in this exercise: write it yourself"


class BrokenRequest(Exception):
    """A request the test author got wrong: it says what is wrong, never a word about the student."""


def answer(namespace, request):
    """The reply to one request, run against `namespace` (the notebook's globals)."""
    try:
        if request["op"] == "defines":
            return {"ok": True, "result": plain.encode(request["name"] in namespace)}
        code, sources, functions = prepared(request)
    except BrokenRequest as error:
        return failure("test_error", "BrokenRequest", str(error))
    try:
        inputs = plain.decode(request["inputs"], tensor=to_tensor)
        seeded(request["seed"])
        with off_limits(functions), replaced(namespace, sources):
            scope = dict(namespace, np=np, nt=nt, **inputs)
            exec(code, scope)
        return {"ok": True, "result": plain.encode(scope.get("result"))}
    except plain.NotPlainData as error:
        return failure("not_plain", error.kind, error.path)
    except NotImplementedError as error:
        if str(error).endswith(OFF_LIMITS.format("")):
            return failure("error", "NotImplementedError", short(error))
        return failure("not_written", "NotImplementedError", innermost(error).name)
    except NameError as error:
        if innermost(error).filename in (SNIPPET, REFERENCE) and error.name not in namespace:  # the test's code
            return failure("not_defined", "NameError", error.name)
        return failure("error", "NameError", short(error))
    except (Exception, SystemExit) as error:  # sys.exit() in a function is that function's error
        return failure("error", type(error).__name__, short(error))


def prepared(request):
    """(snippet code, replace= codes, unavailable= functions with their names) of a "run" request, made before
    any student code runs; BrokenRequest when the test's own code does not compile or names no library function."""
    code = compiled(request["code"], SNIPPET, "its snippet")
    sources = [compiled(source, REFERENCE, f"its replace= source for `{name}`")
               for name, source in request["replace"].items()]
    return code, sources, [(library_function(name), name) for name in request["unavailable"]]


def broken(request):
    """What the test author got wrong in a "run" request (checked where it is called: the judge), or None."""
    try:
        prepared(request)
    except BrokenRequest as error:
        return str(error)
    return None


def compiled(source, filename, what):
    """The code object of the test's `source`, or BrokenRequest saying why it does not compile."""
    try:
        return compile(source, filename, "exec")
    except (SyntaxError, ValueError, TypeError) as error:  # ValueError: a null byte; TypeError: not a string
        raise BrokenRequest(f"{what} does not compile ({type(error).__name__}: {short(error)})") from None


def library_function(dotted):
    """function_named(dotted), or BrokenRequest naming what is missing."""
    try:
        return function_named(dotted)
    except (ImportError, LookupError, AttributeError, TypeError) as error:
        raise BrokenRequest(f"unavailable= names {dotted!r}, which is not a Python function of the library "
                            f"({type(error).__name__}: {short(error)})") from None


def in_process(namespace):
    """A `send` for labs.testing.Student answering in this process, through the same JSON text as the wire."""
    def send(request):
        return json.loads(plain.dumps(answer(namespace, json.loads(plain.dumps(request)))))

    return send


def failure(kind, error_type, message):
    return {"ok": False, "kind": kind, "type": error_type, "message": message}


def short(error):
    """An error's message, cut to MESSAGE_LIMIT characters (a broken __str__ says so)."""
    try:
        text = str(error)
    except Exception:
        text = "(its message cannot be shown)"
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " …"


def innermost(error):
    """The frame summary of the line that raised `error`."""
    return traceback.extract_tb(error.__traceback__)[-1]


def to_tensor(data):
    """An input TensorData as the nt.Tensor it stands for."""
    tensor = nt.tensor(data.data, requires_grad=data.requires_grad)
    tensor.name = data.name
    if data.grad is not None:
        tensor.grad = nt.tensor(data.grad)
    return tensor


def seeded(seed):
    """np.random and random seeded with `seed`."""
    np.random.seed(seed)
    random.seed(seed)


@contextlib.contextmanager
def off_limits(functions):
    """Each (function, its dotted name) raises NotImplementedError while the snippet runs (its __code__ swapped)."""
    saved = [fn.__code__ for fn, _ in functions]
    try:
        for fn, name in functions:
            fn.__code__ = stub_code(fn.__code__, OFF_LIMITS.format(name))
        yield
    finally:
        for (fn, _), code in zip(functions, saved):
            fn.__code__ = code


def function_named(dotted):
    """The Python function at a dotted path: "numtorch.operations.MatMul.backward"."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
            break
        except ImportError:
            continue
    else:
        raise LookupError(f"unavailable: no module in {dotted!r}")
    for part in parts[cut:]:
        target = vars(target)[part] if isinstance(target, type) and part in vars(target) else getattr(target, part)
    target = getattr(target, "__func__", target)  # staticmethod, classmethod
    if not hasattr(target, "__code__"):
        raise LookupError(f"unavailable: {dotted} is not a Python function")
    return target


def stub_code(code, message):
    """The code of a function raising NotImplementedError(message), with `code`'s free variables."""
    free = code.co_freevars
    source = (f"def outer():\n    {' = '.join(free + ('None',)) if free else 'pass'}\n"
              f"    def stub(*args, **kwargs):\n        {'; '.join(free)}{'; ' if free else ''}"
              f"raise NotImplementedError({message!r})\n    return stub")
    scope = {}
    exec(source, {"__builtins__": builtins}, scope)
    return scope["outer"]().__code__


@contextlib.contextmanager
def replaced(namespace, sources):
    """Names of `namespace` replaced by running the compiled reference code `sources` in it, then put back."""
    before = dict(namespace)
    try:
        for source in sources:
            exec(source, namespace)
        yield
    finally:
        if sources:
            for name in set(namespace) - set(before):
                del namespace[name]
            namespace.update(before)
