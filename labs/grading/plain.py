"""Plain data: the only values that cross from the student's process to the judge, and how they travel.

Plain data is None, bool, int, float, str, lists, tuples and dicts of those (keys str or int), NumPy arrays
of bool, integer or float dtype, NumPy scalars (they become Python numbers) and NumTorch tensors (they
arrive as `TensorData`). `encode` turns such a value into a JSON-ready tree where every container is a
tagged dict and every array is base64 `.npy` bytes; `decode` turns the tree back, with `np.load(...,
allow_pickle=False)`, checking types, depth and size as it goes. Nothing here ever runs code the tree
names: a value that is none of the above is refused with its type's name.
"""
import base64
import io
import json
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 32  # containers inside containers
MAX_BYTES = 64_000_000  # array and string bytes in one value
ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats


class NotPlainData(TypeError):
    """A value that cannot cross: `kind` names its type, `path` where it sits (`result['w'][0]`)."""

    def __init__(self, kind, path=""):
        super().__init__(f"{kind}{f' (at {path})' if path else ''}")
        self.kind, self.path = kind, path


@dataclass(frozen=True, eq=False)
class TensorData:
    """A NumTorch tensor as plain data: its values, its gradient and whether it tracks gradients."""

    data: np.ndarray
    grad: np.ndarray = None
    requires_grad: bool = False
    name: str = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def __repr__(self):
        return f"TensorData(shape={self.shape}, dtype={self.dtype}, requires_grad={self.requires_grad})"


class _Budget:
    """Counts bytes while a value is encoded or decoded; too many is a NotPlainData."""

    def __init__(self):
        self.used = 0

    def spend(self, size, path):
        self.used += size
        if self.used > MAX_BYTES:
            raise NotPlainData(f"more than {MAX_BYTES // 1_000_000} MB of data", path)


def encode(value):
    """`value` as a JSON-ready tree; NotPlainData when some part of it is not plain data."""
    return _encode(value, "result", 0, _Budget())


def _encode(value, path, depth, budget):
    if depth > MAX_DEPTH:
        raise NotPlainData(f"data nested more than {MAX_DEPTH} deep", path)
    kind = type(value)
    if value is None or kind in (bool, int, float):
        return value
    if kind is str:
        budget.spend(len(value), path)
        return value
    if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
        return value.item()
    if kind in (list, tuple):
        items = [_encode(item, f"{path}[{i}]", depth + 1, budget) for i, item in enumerate(value)]
        return {"list" if kind is list else "tuple": items}
    if kind is dict:
        return {"dict": [[_key(key, path), _encode(item, f"{path}[{key!r}]", depth + 1, budget)]
                         for key, item in value.items()]}
    if kind is np.ndarray:
        return {"array": _array_text(value, path, budget)}
    if kind is TensorData or _is_tensor(value):
        grad = getattr(value.grad, "data", value.grad)
        return {"tensor": {"data": _array_text(np.asarray(value.data), path, budget),
                           "grad": None if grad is None else _array_text(np.asarray(grad), f"{path}.grad", budget),
                           "requires_grad": bool(value.requires_grad),
                           "name": value.name if type(value.name) is str else None}}
    raise NotPlainData(kind.__name__, path)


def _is_tensor(value):
    """value is a NumTorch tensor (numtorch is imported only if the value could be one)."""
    import numtorch

    return isinstance(value, numtorch.Tensor)


def _key(key, path):
    if type(key) not in (str, int):
        raise NotPlainData(f"dict key of type {type(key).__name__}", path)
    return key


def _array_text(array, path, budget):
    if type(array) is not np.ndarray or array.dtype.kind not in ARRAY_KINDS:
        raise NotPlainData(f"array of dtype {getattr(array, 'dtype', type(array).__name__)}", path)
    budget.spend(array.nbytes, path)
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode(tree, tensor=None):
    """The value a tree stands for; NotPlainData when the tree is not one `encode` could have made.

    Tensors become TensorData, or `tensor(TensorData)` when given (the student's side makes nt.Tensors).
    """
    return _decode(tree, "result", 0, _Budget(), tensor)


def _decode(tree, path, depth, budget, tensor):
    if depth > MAX_DEPTH:
        raise NotPlainData(f"data nested more than {MAX_DEPTH} deep", path)
    kind = type(tree)
    if tree is None or kind in (bool, int, float):
        return tree
    if kind is str:
        budget.spend(len(tree), path)
        return tree
    if kind is not dict or len(tree) != 1:
        raise NotPlainData(f"unknown data ({kind.__name__})", path)
    (tag, body), = tree.items()
    if tag in ("list", "tuple") and type(body) is list:
        items = [_decode(item, f"{path}[{i}]", depth + 1, budget, tensor) for i, item in enumerate(body)]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and type(body) is list and all(type(pair) is list and len(pair) == 2 for pair in body):
        return {_key(key, path): _decode(item, f"{path}[{key!r}]", depth + 1, budget, tensor) for key, item in body}
    if tag == "array":
        return _array(body, path, budget)
    if tag == "tensor" and type(body) is dict and set(body) == {"data", "grad", "requires_grad", "name"}:
        grad = None if body["grad"] is None else _array(body["grad"], f"{path}.grad", budget)
        name = body["name"] if type(body["name"]) is str else None
        data = TensorData(_array(body["data"], path, budget), grad, body["requires_grad"] is True, name)
        return tensor(data) if tensor else data
    raise NotPlainData(f"unknown data ({tag!r})", path)


def _array(text, path, budget):
    if type(text) is not str:
        raise NotPlainData("unknown data (array)", path)
    budget.spend(len(text) * 3 // 4, path)
    try:
        array = np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)
    except Exception:  # base64, header and size errors of many kinds: all mean the same to us
        raise NotPlainData("an unreadable array", path) from None
    if type(array) is not np.ndarray or array.dtype.kind not in ARRAY_KINDS:
        raise NotPlainData(f"array of dtype {getattr(array, 'dtype', '?')}", path)
    return array


def dumps(tree):
    """One line of JSON (lone surrogates escaped, so any string survives)."""
    return json.dumps(tree, ensure_ascii=True, separators=(",", ":"))


def round_trip(value, tensor=None):
    """decode(encode(value)) through JSON text: exactly what a value goes through between processes."""
    return decode(json.loads(dumps(encode(value))), tensor)
