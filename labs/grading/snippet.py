"""The student's side of the test API: run one request of a test in the notebook's namespace.

A request is a dict of plain data from the judge; the reply is one too (see `labs.testing.Student`):

    {"op": "run", "code": ..., "inputs": <encoded>, "seed": 7, "unavailable": [...], "replace": {...}}
        -> {"ok": True, "result": <encoded>}
         | {"ok": False, "kind": "error" | "not_written" | "not_defined" | "not_plain", "type": ..., "message": ...}
    {"op": "defines", "name": "relu"} -> {"ok": True, "result": true}

This module runs where the student's code runs (the sandboxed worker at grading, the notebook itself under
labs.check), so nothing it says is trusted: the judge decides what a reply is worth.
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
MESSAGE_LIMIT = 500  # characters of a student's error message sent back
OFF_LIMITS = "{} is off-limits in this exercise: write it yourself"


def answer(namespace, request):
    """The reply to one request, run against `namespace` (the notebook's globals)."""
    try:
        if request["op"] == "defines":
            return {"ok": True, "result": plain.encode(request["name"] in namespace)}
        inputs = plain.decode(request["inputs"], tensor=to_tensor)
        seeded(request["seed"])
        with off_limits(request["unavailable"]), replaced(namespace, request["replace"]):
            scope = dict(namespace, np=np, nt=nt, **inputs)
            exec(compile(request["code"], SNIPPET, "exec"), scope)
        return {"ok": True, "result": plain.encode(scope.get("result"))}
    except plain.NotPlainData as error:
        return failure("not_plain", error.kind, error.path)
    except NotImplementedError as error:
        if str(error).endswith(OFF_LIMITS.format("")):
            return failure("error", "NotImplementedError", short(error))
        return failure("not_written", "NotImplementedError", innermost(error).name)
    except NameError as error:
        if innermost(error).filename == SNIPPET and error.name not in namespace:
            return failure("not_defined", "NameError", error.name)
        return failure("error", "NameError", short(error))
    except (Exception, SystemExit) as error:  # sys.exit() in a function is that function's error
        return failure("error", type(error).__name__, short(error))


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
def off_limits(names):
    """Each named library function raises NotImplementedError while the snippet runs (its __code__ swapped)."""
    functions = [(function_named(name), name) for name in names]
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
    """Names of `namespace` replaced by the reference code in `sources` ({name: source}), then put back."""
    before = dict(namespace)
    try:
        for source in sources.values():
            exec(compile(source, "<reference code>", "exec"), namespace)
        yield
    finally:
        if sources:
            for name in set(namespace) - set(before):
                del namespace[name]
            namespace.update(before)
