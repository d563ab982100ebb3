"""Tensor, the backward engine and no_grad.

A `Tensor` wraps an ndarray (`.data`) and, when it tracks gradients (`.autograd`, also spelt
`.requires_grad`), remembers the `Operation` that made it (`._ctx`). `backward()` walks those records
from the output back to the leaves once, in reverse topological order.
"""

import math
import warnings
from collections import namedtuple
from functools import partial
from heapq import heappop, heappush
from itertools import count

import numpy as np

from numtorch import hooks
from numtorch.errors import GradError, NumTorchIndexError, NumTorchTypeError, ShapeError


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

    # _changed is set by the first in-place change only (see _mark_changed): nothing to store for the others
    __slots__ = ("data", "grad", "autograd", "name", "_ctx", "_seq", "_changed", "__weakref__")
    __hash__ = object.__hash__  # == is elementwise (as in PyTorch); dicts and sets of tensors go by identity

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

    def _describe(self):
        """How errors name this tensor: its name and shape."""
        return f"{self.name!r} (shape {self.shape})" if self.name else f"a tensor of shape {self.shape}"

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

    # ---- NumPy and Python see the numbers --------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) (and plotting libraries) see the data."""
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        """NumPy meets a Tensor: `array -= tensor` updates the array with the tensor's numbers; `array + tensor`,
        `array < tensor` and np.exp(tensor) are the Tensor operations (so they track gradients)."""
        if out is not None:  # array -= tensor, np.add(a, t, out=a): plain numbers into a plain array
            if any(type(o) is Tensor for o in out):
                return NotImplemented
            return getattr(ufunc, method)(*(_plain(x) for x in inputs), out=out, **kwargs)
        twin = _NUMPY_TWINS.get(ufunc)
        if twin is None or method != "__call__" or kwargs:
            return NotImplemented
        return twin(*inputs)

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

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    # comparisons are elementwise and give boolean tensors without gradient, as in PyTorch (t == None is False)
    def __eq__(self, other):
        return NotImplemented if other is None else _compare(np.equal, self, other)

    def __ne__(self, other):
        return NotImplemented if other is None else _compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    # ---- in-place changes (PyTorch's rules) ----------------------------------------------------
    def __iadd__(self, other):
        return self._in_place("+=", np.add, Add, other)

    def __isub__(self, other):
        return self._in_place("-=", np.subtract, Sub, other)

    def __imul__(self, other):
        return self._in_place("*=", np.multiply, Mul, other)

    def __itruediv__(self, other):
        return self._in_place("/=", np.true_divide, Div, other)

    def __setitem__(self, key, value):
        """x[key] = value changes x in place (see `_change` for when that is allowed)."""
        self._change("x[...] = value", lambda data: data.__setitem__(_plain_key(key), _plain(value)), value)

    def zero_(self):
        """Set every element to 0, in place (``w.grad.zero_()``)."""
        return self._change("zero_()", lambda data: data.fill(0))

    def copy_(self, source):
        """Copy source's numbers into this tensor, in place (broadcasting source to this shape)."""
        return self._change("copy_()", lambda data: np.copyto(data, _plain(source), casting="same_kind"), source)

    def _in_place(self, symbol, ufunc, op, other):
        """x += y and friends: in place when no graph is recorded. When one is (x or y tracks, outside no_grad),
        x = x + y, a new tensor in the graph that the name x is rebound to (loss += ... works as in PyTorch;
        other names keep the old tensor); on a tracking leaf, PyTorch's refusal (see _change)."""
        tracking_leaf = self.autograd and self._ctx is None
        if _GradMode.enabled and not tracking_leaf and (self.autograd or type(other) is Tensor and other.autograd):
            return op.apply(self, other)
        return self._change(f"x {symbol} y", lambda data: ufunc(data, _plain(other), out=data), other)

    def _change(self, what, change, value=None):
        """Run change(self.data) in place, as PyTorch allows: under `no_grad()`, or when neither this tensor
        nor the value tracks gradients. Notes the change, so a backward through an operation that saved the
        old values raises instead of computing a wrong gradient (PyTorch's version counter)."""
        if _GradMode.enabled and (self.autograd or (type(value) is Tensor and value.autograd)):
            raise GradError(_refusal(self, what, value))
        try:
            change(self.data)
        except (TypeError, ValueError) as e:  # NumPy's casting and broadcasting complaints
            kind = NumTorchTypeError if isinstance(e, TypeError) else ShapeError
            raise kind(f"{what}: {e} (the tensor: {self.dtype}, shape {self.shape}); an in-place change keeps "
                       f"the tensor's shape and dtype: write x = x + y for a new tensor") from e
        self._mark_changed()
        return self

    def _mark_changed(self):
        """Note an in-place change to .data (the engine compares it with when each operation ran)."""
        global _latest_change
        self._changed = _latest_change = next(_creation_order)

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

    def __abs__(self):
        return Abs.apply(self)

    def abs(self):
        return Abs.apply(self)

    def sqrt(self):
        """x ** 0.5"""
        return Pow.apply(self, 0.5)

    def clamp(self, min=None, max=None):
        """Each element limited to [min, max] (either may be None)."""
        return Clamp.apply(self, min=min, max=max)

    clip = clamp

    def __getitem__(self, key):
        return GetItem.apply(self, key=key)

    def mm(self, other):
        """Matrix product (the book's name); the same as `self @ other`."""
        return MatMul.apply(self, other)

    dot = mm
    matmul = mm

    def sum(self, dim=None, keepdim=False):
        """Sum over every element, or along dim (an int, or a tuple/list of ints)."""
        return Sum.apply(self, dim=_dims(dim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        """Mean over every element, or along dim (an int, or a tuple/list of ints)."""
        return Mean.apply(self, dim=_dims(dim), keepdim=keepdim)

    def var(self, dim=None, keepdim=False, correction=1):
        """Variance: sum((x - mean)^2) / (n - correction); PyTorch's default correction=1 is the unbiased one."""
        dim = _dims(dim)
        mean = self.mean(dim, keepdim=True)
        n = self.data.size // max(mean.data.size, 1)
        diff = self - mean
        return (diff * diff).sum(dim, keepdim) / (n - correction)

    def std(self, dim=None, keepdim=False, correction=1):
        """Standard deviation: var(...) ** 0.5."""
        return self.var(dim, keepdim, correction) ** 0.5

    def max(self, dim=None, keepdim=False):
        """The largest element; with dim, (values, indices) along dim, as PyTorch."""
        values = Max.apply(self, dim=dim, keepdim=keepdim)
        return values if dim is None else ValuesIndices(values, self.argmax(dim, keepdim))

    def min(self, dim=None, keepdim=False):
        """The smallest element; with dim, (values, indices) along dim, as PyTorch."""
        largest = (-self).max(dim, keepdim)
        return -largest if dim is None else ValuesIndices(-largest.values, largest.indices)

    def argmax(self, dim=None, keepdim=False):
        """Index of the largest value along dim; of all elements (flattened) without dim, as PyTorch. No gradient."""
        return Tensor._make(np.asarray(self.data.argmax(axis=dim, keepdims=keepdim)), None, False)

    def argmin(self, dim=None, keepdim=False):
        """Index of the smallest value (see argmax)."""
        return Tensor._make(np.asarray(self.data.argmin(axis=dim, keepdims=keepdim)), None, False)

    def expand(self, *sizes, dim=None, copies=None):
        """The book's expand: insert a new axis at `dim` and repeat the data `copies` times along it:
        x.expand(dim=0, copies=3), or x.expand(0, 3). A call that also reads as PyTorch's expand(*sizes)
        (repeat to that shape) is an error showing both spellings."""
        if sizes:
            dim, copies = _book_expand_args(self.shape, sizes, dim, copies)
        return Expand.apply(self, dim=dim, copies=copies)

    def transpose(self, *dims):
        """x.transpose() reverses the axes (the book); x.transpose(0, 1) swaps two (PyTorch);
        x.transpose(2, 0, 1) permutes them all (NumPy)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return Transpose.apply(self, axes=dims or None)

    def permute(self, *dims):
        """The axes in the order given: x.permute(2, 0, 1) (every axis once; negative ones count from the end)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        order = tuple(_dim_index(d, self.ndim, "permute") for d in dims)
        if sorted(order) != list(range(self.ndim)):
            raise ShapeError(f"permute: {dims} does not name each of the {self.ndim} dims of a tensor of shape "
                             f"{self.shape} once")
        if order == (0, 1):  # the identity (to Transpose, two dims mean a swap)
            return Reshape.apply(self, shape=self.shape)
        return Transpose.apply(self, axes=dims)

    @property
    def T(self):
        return Transpose.apply(self, axes=None)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=shape)

    view = reshape

    def unsqueeze(self, dim):
        """A new axis of size 1 at dim (from -(ndim + 1) to ndim)."""
        shape = list(self.shape)
        shape.insert(_dim_index(dim, self.ndim + 1, "unsqueeze"), 1)
        return Reshape.apply(self, shape=tuple(shape))

    def squeeze(self, dim=None):
        """Without the axes of size 1 (or only axis dim, if its size is 1)."""
        if dim is None:
            return Reshape.apply(self, shape=tuple(n for n in self.shape if n != 1))
        d = _dim_index(dim, max(self.ndim, 1), "squeeze")
        if self.ndim == 0 or self.shape[d] != 1:
            return Reshape.apply(self, shape=self.shape)
        return Reshape.apply(self, shape=self.shape[:d] + self.shape[d + 1:])

    def flatten(self, start_dim=0, end_dim=-1):
        """The axes from start_dim to end_dim merged into one (all of them by default)."""
        if self.ndim == 0:
            return Reshape.apply(self, shape=(1,))
        start = _dim_index(start_dim, self.ndim, "flatten")
        end = _dim_index(end_dim, self.ndim, "flatten")
        return Reshape.apply(self, shape=self.shape[:start] + (-1,) + self.shape[end + 1:])

    def clone(self):
        """A copy with its own data, in the graph (the gradient flows back to this tensor)."""
        return Clone.apply(self)

    def float(self):
        """This tensor as float32 (in the graph; the same tensor if it is float32 already)."""
        return self if self.dtype == np.float32 else Cast.apply(self, dtype=np.float32)

    def double(self):
        """This tensor as float64 (in the graph; the same tensor if it is float64 already)."""
        return self if self.dtype == np.float64 else Cast.apply(self, dtype=np.float64)

    def masked_fill(self, mask, value):
        """value where mask is True, this tensor elsewhere (causal attention: scores.masked_fill(future, -inf))."""
        return Where.apply(mask, value, self)

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

    def cross_entropy(self, target, weight=None, reduction="mean"):
        """Cross-entropy of these logits against class indices or class probabilities (see CrossEntropy)."""
        return CrossEntropy.apply(self, target, weight=weight, reduction=reduction)

    # ---- the backward engine ----------------------------------------------------------------
    def backward(self, grad=None):
        """Compute the gradient of this tensor with respect to every tensor of its graph.

        Walks the graph once, newest tensor first (every tensor is created after its inputs, so this is
        reverse topological order): a leaf accumulates its gradient; an operation hands each of its inputs
        its share. Each node's gradient is complete (all uses summed) before it flows further back, and
        branches that do not lead to this tensor are never visited. Every tracking tensor of the graph gets
        its `.grad` for this call; leaves (tensors the user made) *accumulate* across calls, like PyTorch:
        call `zero_grad()` or let `optimizer.step()` clear them.

        grad: the upstream gradient (Tensor, array or number) of this tensor's shape. Without it, a
        tensor with one element is seeded with 1, a larger one with ones (the book's convention,
        the same as calling `.sum().backward()`).
        """
        grads = {self: _seed_grad(self, grad)}
        held = {id(grads[self])}  # arrays some tensor (or the caller) already holds: a leaf's grad must be its own
        newest_first = [(-self._seq, id(self), self)]  # (id breaks ties between copies, which share a _seq)
        while newest_first:
            node = heappop(newest_first)[2]
            g = grads.pop(node)
            if node._ctx is None:  # a leaf: accumulate
                _accumulate(node, g, held)
                continue
            node.grad = Tensor._make(g, None, False)
            held.add(id(g))
            for parent, pg in _input_grads(node, g):  # an operation: hand each input its gradient
                if parent in grads:
                    grads[parent] = grads[parent] + pg
                else:
                    grads[parent] = pg
                    heappush(newest_first, (-parent._seq, id(parent), parent))
        hooks._run_backward_hooks(self)


_latest_change = 0  # the _seq-clock time of the last in-place change to any tensor (0: none yet)
ValuesIndices = namedtuple("ValuesIndices", "values indices")  # what max(dim) and min(dim) return, as PyTorch


def _seed_grad(root, grad):
    """The gradient backward starts from (ones by default), after checking root can run backward at all."""
    if not root.autograd:
        raise GradError(
            f"backward: this tensor (shape {root.data.shape}) does not track gradients. Create the tensors "
            f"it is computed from with autograd=True (or requires_grad=True), outside `no_grad()`.")
    if root.data.size == 1 and not math.isfinite(root.data.item()):
        warnings.warn(f"backward: the output is {root.data.item()}; training has diverged (a learning rate "
                      f"too large?) and every gradient from here on is meaningless", RuntimeWarning, 3)
    if grad is None:
        return np.ones(root.data.shape, root.data.dtype)
    g = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.data.dtype)
    if g.shape != root.data.shape:
        raise GradError(
            f"backward: grad has shape {g.shape} but the tensor has shape {root.data.shape}; "
            f"pass a gradient of the tensor's shape (or none, to seed ones)")
    return g


def _input_grads(node, grad):
    """[(input, its gradient)] from the backward of the operation that made node, for each input that tracks;
    each gradient summed back to its input's shape (broadcasting undone) and in its input's float dtype."""
    ctx = node._ctx
    if _latest_change > node._seq:  # something changed in place since this op ran
        _check_unchanged(node)
    grads = type(ctx).backward(ctx, grad)
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(ctx.parents):
        raise GradError(f"{ctx.op_name}.backward returned {len(grads)} gradients "
                        f"for {len(ctx.parents)} inputs; return one per input (None for none)")
    pairs = []
    for parent, g in zip(ctx.parents, grads):
        if g is not None and type(parent) is Tensor and parent.autograd:
            data = parent.data
            if type(g) is not np.ndarray or g.shape != data.shape or g.dtype != data.dtype:  # (speed only: most fit)
                g = _as_grad_of(parent, g, ctx)
            pairs.append((parent, g))
    return pairs


def _as_grad_of(tensor, g, ctx):
    """g as tensor's gradient: an ndarray summed back to tensor's shape (broadcasting undone) and in its float
    dtype (float32 stays float32, whatever constants it met)."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if g.shape != tensor.data.shape:
        g = _unbroadcast(g, tensor.data.shape, ctx.op_name)
    if g.dtype != tensor.data.dtype and tensor.data.dtype.kind == "f":
        g = g.astype(tensor.data.dtype)
    return g


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


def _check_unchanged(node):
    """Raise if a tensor whose values node's operation saved for backward was changed in place after it ran."""
    ctx = node._ctx
    saved = [a for s in getattr(ctx, "saved_tensors", ()) for a in (s if type(s) is tuple else (s,))]
    for t in (node, *ctx.parents):
        if type(t) is Tensor and getattr(t, "_changed", 0) > node._seq and any(a is t.data for a in saved):
            raise GradError(
                f"backward: {t._describe()} was changed in place (an optimizer step, +=, x[...] = ..., zero_() or "
                f"copy_()) after `{ctx.op_name}` saved it for the backward pass, so its gradient would use the new "
                f"values (PyTorch: 'a variable needed for gradient computation has been modified by an inplace "
                f"operation'). A graph left over from an earlier step, such as an RNN hidden state carried "
                f"across batches, must be cut: hidden = hidden.detach(). Otherwise change the tensor after "
                f"backward(), or compute from a clone().")


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


def _plain(value):
    """The array behind a Tensor, or the value itself."""
    return value.data if isinstance(value, Tensor) else value


def _compare(ufunc, a, b):
    """A comparison (np.less, np.equal, ...) of two tensors, arrays or numbers: a boolean tensor, no gradient."""
    return Tensor._make(np.asarray(ufunc(_plain(a), _plain(b))), None, False)


def _refusal(tensor, what, value):
    """Why an in-place change is refused while gradients are recorded, and what to write instead."""
    if tensor.autograd and tensor._ctx is None:
        return (f"{what}: {tensor._describe()} is a leaf tensor that requires grad; changing it in place "
                f"would hide the change from backward (PyTorch refuses too: 'a leaf Variable that requires grad "
                f"is being used in an in-place operation'). Update parameters inside `with nt.no_grad():`, "
                f"as an optimizer does, or write w = w - ... for a new tensor.")
    if tensor.autograd:
        return (f"{what}: {tensor._describe()} was computed by `{tensor._ctx.op_name}` in the graph; NumTorch "
                f"cannot change it in place and keep its gradient right. Build a new tensor instead "
                f"(x.masked_fill(mask, value), nt.where(mask, value, x), nt.cat), or change x.detach().")
    return (f"{what}: the value ({value._describe()}) tracks gradients, but only its numbers would be copied "
            f"into {tensor._describe()}, so no gradient could flow back to it; build the tensor with nt.stack, "
            f"nt.cat or nt.where instead, or copy value.detach() on purpose.")


def _dims(dim):
    """A reduction's dim: None, an int, or a tuple (a list becomes a tuple)."""
    return tuple(dim) if isinstance(dim, list) else dim


def _dim_index(dim, ndim, op_name):
    """dim counted from 0, for a tensor with ndim positions (a negative dim counts from the end)."""
    if not -ndim <= dim < ndim:
        raise NumTorchIndexError(f"{op_name}: dim {dim} is out of range; use dims from {-ndim} to {ndim - 1}")
    return dim % ndim


def _book_expand_args(shape, sizes, dim, copies):
    """(dim, copies) of the book's expand called positionally; refuses calls that read as PyTorch's expand(*sizes)."""
    if len(sizes) == 1 and dim is None and copies is not None and not isinstance(sizes[0], (tuple, list)):
        return sizes[0], copies
    if len(sizes) != 2 or dim is not None or copies is not None or _pytorch_expand_fits(shape, sizes):
        call = "expand(" + ", ".join(map(repr, sizes)) + ")"
        book = f"x.expand(dim={sizes[0]}, copies={sizes[1]})" if len(sizes) == 2 else "x.expand(dim=0, copies=3)"
        target = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        raise ShapeError(
            f"{call} on a tensor of shape {shape}: NumTorch's expand is the book's expand(dim, copies), a new "
            f"axis at dim repeated copies times; PyTorch's expand(*sizes) repeats to a shape instead. Write "
            f"{book} for the book's meaning, or x + np.zeros({tuple(target)}) to broadcast to that shape as "
            f"PyTorch's expand does.")
    return sizes


def _pytorch_expand_fits(shape, sizes):
    """Would x.expand(*sizes) be a valid PyTorch call for a tensor of this shape?"""
    if len(sizes) < len(shape) or not all(isinstance(s, (int, np.integer)) for s in sizes):
        return False
    new, old = sizes[:len(sizes) - len(shape)], sizes[len(sizes) - len(shape):]
    return all(s >= 0 for s in new) and all(s in (-1, n) or n == 1 for s, n in zip(old, shape))


def cat(tensors, dim=0):
    """The tensors joined along an existing axis dim (PyTorch's torch.cat)."""
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """The tensors (all of one shape) stacked along a new axis dim (PyTorch's torch.stack)."""
    return Cat.apply(*(_as_tensor(t).unsqueeze(dim) for t in tensors), dim=dim)


def where(condition, x, y):
    """x where condition is True, y elsewhere (broadcasting all three); the gradient flows to the one picked."""
    return Where.apply(condition, x, y)


def _as_tensor(value):
    return value if isinstance(value, Tensor) else Tensor(value)


def tensor(data, requires_grad=False, name=None):
    """PyTorch-style factory: ``nt.tensor([1., 2.], requires_grad=True)``."""
    return Tensor(data, autograd=requires_grad, name=name)


from numtorch.operations import (  # noqa: E402  (the operations need Tensor defined first)
    Add, Sub, Neg, Mul, Div, Pow, MatMul, Sum, Mean, Max, Expand, Transpose, Reshape, GetItem, IndexSelect, Cat,
    Where, Clone, Cast, Abs, Clamp, Sigmoid, Tanh, ReLU, Exp, Log, Softmax, LogSoftmax, CrossEntropy,
)
from numtorch.operations.shape import _plain_key  # noqa: E402

_NUMPY_TWINS = {  # array <op> tensor and np.<ufunc>(tensor): the Tensor operation of the same meaning
    np.add: Add.apply, np.subtract: Sub.apply, np.multiply: Mul.apply, np.true_divide: Div.apply,
    np.power: Pow.apply, np.matmul: MatMul.apply, np.negative: Neg.apply, np.absolute: Abs.apply,
    np.exp: Exp.apply, np.log: Log.apply, np.tanh: Tanh.apply,
    **{u: partial(_compare, u) for u in (np.equal, np.not_equal, np.less, np.less_equal, np.greater,
                                         np.greater_equal)},
}
