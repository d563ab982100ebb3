"""Layer: the base class of every model part (PyTorch's Module, the book's Layer)."""

import reprlib
import weakref
from collections import deque

import numpy as np

from numtorch.tensor import Tensor, _creation_order

# {id(layer): (weak ref to the layer, its latest calls as (first _seq, last _seq))}: every tensor made during a
# call has a _seq in between. Only numtorch.graph reads it, to draw a layer's nodes in one box (and repeated
# calls of one layer as time steps). A few hundred calls per layer, dropped with the layer: memory stays flat.
LAYER_CALLS = {}
CALLS_KEPT = 512


class Layer:
    """A piece of a model: holds parameters (tracking Tensors) and sub-layers as attributes.

    Subclasses define ``forward(...)``; calling the layer calls forward. Parameters are found by
    walking the attributes, so a subclass need not call ``super().__init__()`` nor register anything
    (the seed's RNN example does neither). Their names are the attribute paths: ``weight``,
    ``0.weight`` (in a SequentialLayer), ``encoder.bias``; a Tensor reachable twice is listed once.

    get_params()        the parameters as a list (the seed's name)
    parameters()        the same, as an iterator (PyTorch's name)
    named_parameters()  (name, tensor) pairs
    zero_grad()         clear every parameter's .grad
    float(), double()   every floating-point tensor of the layer as float32 / float64, in place
    """

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *inputs, **kwargs):
        start = next(_creation_order)
        out = self.forward(*inputs, **kwargs)
        _record_call(self, start, next(_creation_order))
        return out

    def children(self):
        """(name, value) pairs that may hold parameters: attributes, in definition order."""
        return vars(self).items()

    def named_parameters(self, prefix=""):
        """(dotted name, parameter) for every tracking Tensor reachable from this layer, each once."""
        seen = set()
        for name, p in _walk(self, prefix, set()):
            if p.autograd and p._ctx is None and id(p) not in seen:  # a stored intermediate (self.h = h) is none
                seen.add(id(p))
                yield name, p

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def get_params(self):
        return list(self.parameters())

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def float(self):
        """Parameters (and other float tensors the layer holds) as float32, the same Tensor objects; returns self."""
        return self._convert(np.float32)

    def double(self):
        """Parameters (and other float tensors the layer holds) as float64, the same Tensor objects; returns self."""
        return self._convert(np.float64)

    def _convert(self, dtype):
        for _, t in _walk(self, "", set()):
            if t._ctx is None and t.dtype.kind == "f":
                t.data = t.data.astype(dtype, copy=False)
                if t.grad is not None:
                    t.grad = Tensor(t.grad.data.astype(dtype, copy=False))
        return self

    @reprlib.recursive_repr()
    def __repr__(self):
        subs = [f"  ({name}): {value!r}".replace("\n", "\n  ")
                for name, value in self.children() if isinstance(value, Layer)]
        return f"{type(self).__name__}(" + ("\n" + "\n".join(subs) + "\n" if subs else "") + ")"


def _record_call(layer, start, end):
    """Remember that the tensors with a _seq between start and end were made by this call of layer."""
    entry = LAYER_CALLS.get(id(layer))
    if entry is None:
        forget = lambda _, key=id(layer): LAYER_CALLS.pop(key, None)  # noqa: E731
        entry = LAYER_CALLS[id(layer)] = (weakref.ref(layer, forget), deque(maxlen=CALLS_KEPT))
    entry[1].append((start, end))


def _walk(value, name, visited):
    """Yield (name, tensor) for every Tensor found in value: a Tensor, a Layer, or a list/tuple/dict of them.

    visited: ids of the layers already walked, so a layer reachable twice (or a child that refers
    back to its parent) is walked once.
    """
    if isinstance(value, Tensor):
        yield name, value
    elif isinstance(value, Layer):
        if id(value) in visited:
            return
        visited.add(id(value))
        for child, sub in value.children():
            yield from _walk(sub, f"{name}.{child}" if name else str(child), visited)
    elif isinstance(value, (list, tuple)):
        for i, sub in enumerate(value):
            yield from _walk(sub, f"{name}.{i}" if name else str(i), visited)
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _walk(sub, f"{name}.{key}" if name else str(key), visited)


def parameter(data, name=None):
    """A tracking float Tensor owned by a layer."""
    return Tensor(np.asarray(data, dtype=np.float64), autograd=True, name=name)
