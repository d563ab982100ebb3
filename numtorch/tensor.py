"""Tensor, the backward engine and no_grad.

A `Tensor` wraps an ndarray (`.data`) and, when it tracks gradients (`.autograd`, also spelt
`.requires_grad`), remembers the `Operation` that made it (`._ctx`). `backward()` walks those records
from the output back to the leaves once, in reverse topological order.
"""

import math
import warnings
from heapq import heappop, heappush
from itertools import count

import numpy as np

from numtorch import hooks
from numtorch.errors import GradError, NumTorchTypeError, ShapeError


_creation_order = count()  # Tensor._seq: an operation's output is always newer than its inputs


class _GradMode:
    enabled = True


class no_grad:
    """Record no graph inside: ``with nt.no_grad(): ...``, or ``@nt.no_grad()`` (or ``@nt.no_grad``) on a function."""

    def __new__(cls, fn=None):
        if fn is not None:  # used bare as a decorator, as PyTorch allows
            return cls()(fn)
        return super().__new__(cls)

    def __enter__(self):
        self._prev = _GradMode.enabled
        _GradMode.enabled = False

    def __exit__(self, *exc):
        _GradMode.enabled = self._prev

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
        return wrapper


def is_grad_enabled():
    """False inside `no_grad()`."""
    return _GradMode.enabled


def _as_array(data, autograd):
    """The ndarray a new tensor owns: a copy; integer/bool data that asks for autograd becomes float64."""
    if isinstance(data, Tensor):
        data = data.data
    array = np.array(data)
    if array.dtype == object:
        raise NumTorchTypeError(f"Tensor: cannot make a tensor from {type(data).__name__} {data!r:.60}")
    if autograd and array.dtype.kind not in "fc":
        array = array.astype(np.float64)
    return array


class Tensor:
    """An n-dimensional array that can track gradients.

    Tensor(data, {"autograd": True})             the original (seed) form
    Tensor(data, autograd=True, name="w")         keyword form
    numtorch.tensor(data, requires_grad=True)     PyTorch form

    `.data` is an ndarray (copied from `data`); `.grad` is a Tensor or None; `.autograd` and
    `.requires_grad` are the same flag. Integer data that asks for autograd is stored as float64.
    """

    __slots__ = ("data", "grad", "autograd", "name", "_ctx", "_seq", "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to the Tensor's reflected operator

    def __init_subclass__(cls, **kwargs):
        raise NumTorchTypeError(
            f"class {cls.__name__}(Tensor): Tensor cannot be subclassed (operations and the backward engine "
            f"recognise Tensor itself, so a subclass would silently get no gradients); keep extra information "
            f"in a Layer's attributes or in the tensor's name")

    def __init__(self, data, autograd=False, name=None, requires_grad=None):
        if isinstance(autograd, dict):  # the seed's Tensor(data, {"autograd": True})
            options = dict(autograd)
            autograd = options.pop("autograd", False)
            name = options.pop("name", name)
            if options:
                raise NumTorchTypeError(f"Tensor: unknown options {sorted(options)}; known: 'autograd', 'name'")
        if requires_grad is not None:
            autograd = requires_grad
        autograd = bool(autograd)
        self.data = _as_array(data, autograd)
        self.autograd = autograd
        self.grad = None
        self.name = name
        self._ctx = None
        self._seq = next(_creation_order)

    @staticmethod
    def _make(data, ctx, autograd):
        """Fast internal constructor for results of operations (no copy, no checks)."""
        t = object.__new__(Tensor)
        t.data = data
        t.autograd = autograd
        t.grad = None
        t.name = None
        t._ctx = ctx
        t._seq = next(_creation_order)
        return t

    # ---- attributes -------------------------------------------------------------------------
    @property
    def requires_grad(self):
        """The same flag as `.autograd`."""
        return self.autograd

    @requires_grad.setter
    def requires_grad(self, value):
        self.autograd = bool(value)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors the user made (no operation created them)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The operation that made this tensor (None for a leaf)."""
        return self._ctx

    def __len__(self):
        return len(self.data)

    def numpy(self):
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self):
        """The same data, outside the graph."""
        return Tensor._make(self.data, None, False)

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", autograd=True" if self.autograd else ""
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    def __str__(self):
        return str(self.data)

    def __format__(self, spec):
        """f"{loss:.4f}" formats the number of a one-element tensor, or each element of a larger one."""
        if not spec:
            return str(self)
        if self.data.size == 1:
            return format(self.data.item(), spec)
        return np.array2string(self.data, formatter={"all": lambda v: format(v, spec)})

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) (and plotting libraries) see the data."""
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    def __bool__(self):
        if self.data.size != 1:
            raise ShapeError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             f"use .sum(), .data.any() or .data.all()")
        return bool(self.data)

    def item(self):
        """The one number in a one-element tensor."""
        if self.data.size != 1:
            raise ShapeError(f"item: a tensor of shape {self.shape} holds {self.data.size} numbers, not one; "
                             f"reduce it first (.sum(), .mean()) or index one element")
        return self.data.item()

    # comparisons give boolean tensors without gradient (== stays identity, so tensors can key dicts)
    def __lt__(self, other):
        return Tensor._make(np.less(self.data, _plain(other)), None, False)

    def __le__(self, other):
        return Tensor._make(np.less_equal(self.data, _plain(other)), None, False)

    def __gt__(self, other):
        return Tensor._make(np.greater(self.data, _plain(other)), None, False)

    def __ge__(self, other):
        return Tensor._make(np.greater_equal(self.data, _plain(other)), None, False)

    def __float__(self):
        return float(self.data)

    # ---- operations (each one class in numtorch/operations) --------------------------------
    def __add__(self, other):
        return Add.apply(self, other)

    def __radd__(self, other):
        return Add.apply(other, self)

    def __sub__(self, other):
        return Sub.apply(self, other)

    def __rsub__(self, other):
        return Sub.apply(other, self)

    def __mul__(self, other):
        return Mul.apply(self, other)

    def __rmul__(self, other):
        return Mul.apply(other, self)

    def __truediv__(self, other):
        return Div.apply(self, other)

    def __rtruediv__(self, other):
        return Div.apply(other, self)

    def __pow__(self, other):
        return Pow.apply(self, other)

    def __rpow__(self, other):
        return Pow.apply(other, self)

    def __matmul__(self, other):
        return MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return MatMul.apply(other, self)

    def __neg__(self):
        return Neg.apply(self)

    def __getitem__(self, key):
        return GetItem.apply(self, key=key)

    def mm(self, other):
        """Matrix product (the book's name); the same as `self @ other`."""
        return MatMul.apply(self, other)

    dot = mm
    matmul = mm

    def sum(self, dim=None, keepdim=False):
        return Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return Mean.apply(self, dim=dim, keepdim=keepdim)

    def expand(self, dim, copies):
        """Insert a new axis at `dim` and repeat the data `copies` times along it (the book's expand)."""
        return Expand.apply(self, dim=dim, copies=copies)

    def transpose(self, *dims):
        """x.transpose() reverses the axes (the book); x.transpose(0, 1) swaps two (PyTorch);
        x.transpose(2, 0, 1) permutes them all (NumPy)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return Transpose.apply(self, axes=dims or None)

    @property
    def T(self):
        return Transpose.apply(self, axes=None)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=shape)

    view = reshape

    def index_select(self, indices):
        """Rows of this tensor picked by integer `indices` (any shape): the embedding lookup."""
        return IndexSelect.apply(self, indices)

    index = index_select

    def sigmoid(self):
        return Sigmoid.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def relu(self):
        return ReLU.apply(self)

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def softmax(self, dim=-1):
        return Softmax.apply(self, dim=dim)

    def log_softmax(self, dim=-1):
        return LogSoftmax.apply(self, dim=dim)

    def cross_entropy(self, target_indices):
        """Mean cross-entropy of these logits (batch, classes) against integer class indices."""
        return CrossEntropy.apply(self, target_indices)

    def argmax(self, dim=-1):
        """Index of the largest value along `dim` (no gradient)."""
        return Tensor._make(np.asarray(self.data.argmax(axis=dim)), None, False)

    # ---- the backward engine ----------------------------------------------------------------
    def backward(self, grad=None):
        """Compute the gradient of this tensor with respect to every tensor of its graph.

        Walks the graph once in reverse topological order (newest tensor first: every tensor is created
        after its inputs), so each node's gradient is complete (all uses summed) before it flows
        further back; branches that do not lead to this tensor are not visited. Every tracking tensor
        of the graph gets its `.grad` for this call; leaves (tensors the user made) *accumulate* across
        calls, like PyTorch: call `zero_grad()` or let `optimizer.step()` clear them.

        grad: the upstream gradient (Tensor, array or number) of this tensor's shape. Without it, a
        tensor with one element is seeded with 1, a larger one with ones (the book's convention,
        the same as calling `.sum().backward()`).
        """
        if not self.autograd:
            raise GradError(
                f"backward: this tensor (shape {self.data.shape}) does not track gradients. Create the tensors "
                f"it is computed from with autograd=True (or requires_grad=True), outside `no_grad()`.")
        if self.data.size == 1 and not math.isfinite(self.data.item()):
            warnings.warn(f"backward: the output is {self.data.item()}; training has diverged (a learning rate "
                          f"too large?) and every gradient from here on is meaningless", RuntimeWarning, 2)
        seed = _seed_grad(self, grad)
        grads = {self: seed}
        held = {id(seed)}  # arrays some tensor (or the caller) already holds: a leaf's grad must be its own
        heap = [(-self._seq, id(self), self)]  # newest first: every consumer of a tensor is newer than it
        while heap:  # (id breaks ties between copies, which share a _seq)
            node = heappop(heap)[2]
            g = grads.pop(node)
            ctx = node._ctx
            if ctx is None:
                _accumulate(node, g, held)
                continue
            node.grad = Tensor._make(g, None, False)
            held.add(id(g))
            parents = ctx.parents
            input_grads = type(ctx).backward(ctx, g)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if len(input_grads) != len(parents):
                raise GradError(f"{ctx.op_name}.backward returned {len(input_grads)} gradients "
                                f"for {len(parents)} inputs; return one per input (None for none)")
            for parent, pg in zip(parents, input_grads):
                if pg is None or type(parent) is not Tensor or not parent.autograd:
                    continue
                if type(pg) is not np.ndarray:
                    pg = np.asarray(pg)
                if pg.shape != parent.data.shape:
                    pg = _unbroadcast(pg, parent.data.shape, ctx.op_name)
                if pg.dtype != parent.data.dtype and parent.data.dtype.kind == "f":
                    pg = pg.astype(parent.data.dtype)  # float32 stays float32, whatever constants it met
                if parent in grads:
                    grads[parent] = grads[parent] + pg
                else:
                    grads[parent] = pg
                    heappush(heap, (-parent._seq, id(parent), parent))
        hooks._run_backward_hooks(self)


def _accumulate(leaf, g, held):
    """Add g to a leaf's .grad (accumulating across backward calls); the leaf's array is its own, so an
    in-place change to it (clipping, say) touches nothing else. held: ids of arrays already held elsewhere."""
    if leaf.grad is None:
        if id(g) in held or g.base is not None or not g.flags.writeable:
            g = g.copy()
        held.add(id(g))
        leaf.grad = Tensor._make(g, None, False)
    else:
        leaf.grad = Tensor._make(leaf.grad.data + g, None, False)


def _plain(value):
    """The array behind a Tensor, or the value itself."""
    return value.data if isinstance(value, Tensor) else value


def _seed_grad(root, grad):
    if grad is None:
        return np.ones(root.data.shape, root.data.dtype)
    g = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.data.dtype)
    if g.shape != root.data.shape:
        raise GradError(
            f"backward: grad has shape {g.shape} but the tensor has shape {root.data.shape}; "
            f"pass a gradient of the tensor's shape (or none, to seed ones)")
    return g


def _unbroadcast(g, shape, op_name):
    """Sum a gradient in a broadcast shape back to the input's shape; raise if it cannot be."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=0) if extra == 1 else g.sum(axis=tuple(range(extra)))
    if g.shape != shape and g.ndim == len(shape):
        axes = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        raise ShapeError(
            f"{op_name}.backward: returned a gradient of shape {g.shape} for an input of shape {shape}; "
            f"a backward must return one gradient per input, in the input's (or the broadcast) shape")
    return g


def tensor(data, requires_grad=False, name=None):
    """PyTorch-style factory: ``nt.tensor([1., 2.], requires_grad=True)``."""
    return Tensor(data, autograd=requires_grad, name=name)


from numtorch.operations import (  # noqa: E402  (the operations need Tensor defined first)
    Add, Sub, Neg, Mul, Div, Pow, MatMul, Sum, Mean, Expand, Transpose, Reshape, GetItem,
    IndexSelect, Sigmoid, Tanh, ReLU, Exp, Log, Softmax, LogSoftmax, CrossEntropy,
)
