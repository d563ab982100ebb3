"""trace(*roots) -> Graph: the autograd graph behind some tensors, as plain data.

    loss.backward()
    from numtorch.graph import trace
    graph = trace(loss, names=model)              # or names=globals(), names=dict(w=w), ...
    print(graph)                                  # one line per operation
    graph.values, graph.ops, graph.edges          # what the graph view draws

A `Graph` is a snapshot: plain dataclasses holding copies of small arrays and statistics of large ones,
no reference to the tensors, so it can be drawn later and compared in tests. Nodes are numbered in the
order a breadth-first walk from the roots meets them (ids ``n0``, ``n1``, ...): the same graph always
gives the same ids.

Value nodes have a kind:

    output        a root passed to trace() that an operation made
    intermediate  any other tensor an operation made
    parameter     a leaf tensor that tracks gradients and is what the optimizer updates: a parameter of a
                  layer (or optimizer) named in `names`; when `names` holds no layer and no optimizer, every
                  leaf that tracks gradients
    input         a leaf tensor that does not track gradients (data, targets), and a leaf that tracks
                  gradients but is not a parameter of the layers named (an RNN's initial hidden state).
                  The core does not record where a non-tracking tensor came from, so the result of an
                  op under no_grad(), of .detach() or of .argmax() is an input of the graph too.
    constant      a raw Python number or ndarray an operation was given (the 2 in ``2 * x``): one node
                  per use, as these have no identity worth showing

Op nodes carry the operation's name, its settings (``dim``, ``copies``, ...) and its one-line maths.
There is one edge per use: ``x * x`` has two edges from ``x`` (ports ``x`` and ``y`` of mul).
"""

import inspect
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from numtorch.layers.base import Layer
from numtorch.optimizers import Optimizer
from numtorch.tensor import Tensor

SMALL = 16          # arrays of at most this many elements are kept whole, larger ones as statistics
MORE = "more"       # the source id of edges that come from nodes left out by max_nodes
KINDS = ("parameter", "input", "constant", "intermediate", "output")


@dataclass(frozen=True)
class Summary:
    """An array as the graph view shows it: all values when small, min / mean / max when large."""

    shape: tuple
    dtype: str
    values: np.ndarray = None   # a copy, when size <= SMALL
    min: float = None
    mean: float = None
    max: float = None

    @classmethod
    def of(cls, array):
        array = np.asarray(array)
        if array.size <= SMALL:
            return cls(array.shape, str(array.dtype), values=array.copy())
        numbers = array.astype(np.float64, copy=False)
        return cls(array.shape, str(array.dtype), min=float(numbers.min()), mean=float(numbers.mean()),
                   max=float(numbers.max()))

    def __str__(self):
        """``min -1  mean 0.2  max 3`` or the values, 4 significant digits, one matrix row per line."""
        if self.values is None:
            return f"min {_number(self.min)}  mean {_number(self.mean)}  max {_number(self.max)}"
        texts = [_number(v) for v in self.values.ravel().tolist()]
        return _nested(texts, self.values.shape, max(map(len, texts), default=0), 0)


def _number(value):
    return format(value, ".4g") if isinstance(value, float) else str(value)


def _nested(texts, shape, width, depth):
    """Texts laid out in shape like NumPy prints arrays, right-aligned to width (faster than array2string)."""
    if not shape:
        return texts[0]
    if len(shape) == 1:
        return "[" + ", ".join(t.rjust(width) for t in texts) + "]"
    step = len(texts) // shape[0] if shape[0] else 0
    rows = [_nested(texts[i * step:(i + 1) * step], shape[1:], width, depth + 1) for i in range(shape[0])]
    return "[" + (",\n" + " " * (depth + 1)).join(rows) + "]"


@dataclass
class ValueNode:
    """A tensor (or a raw constant) of the graph; `grad` is None until a backward gave it one."""

    id: str
    kind: str
    label: str
    data: Summary
    grad: Summary = None
    requires_grad: bool = False
    faded: bool = False          # a backward ran on the graph and no gradient can reach this node

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype


@dataclass
class OpNode:
    """One operation: its name, settings as short text, and its maths (the op's one-line docstring)."""

    id: str
    op: str
    args: dict = field(default_factory=dict)
    doc: str = ""
    faded: bool = False
    kind = "op"

    @property
    def label(self):
        settings = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.op}({settings})" if settings else self.op


@dataclass(frozen=True)
class Edge:
    """Data flowing from `src` to `dst`; `port` names the op's input (``x``, ``y``) for value -> op edges."""

    src: str
    dst: str
    port: str = ""


@dataclass
class Graph:
    """The nodes and edges of an autograd graph, roots first. `hidden` nodes were left out by max_nodes;
    their uses by the nodes shown are edges from `MORE`."""

    nodes: list
    edges: list
    hidden: int = 0
    has_grad: bool = False       # a backward has run on (one of) the roots

    @property
    def values(self):
        return [n for n in self.nodes if n.kind != "op"]

    @property
    def ops(self):
        return [n for n in self.nodes if n.kind == "op"]

    def node(self, node_id):
        return next(n for n in self.nodes if n.id == node_id)

    def by_label(self, label):
        """The value node called `label` (a variable or parameter name)."""
        return next(n for n in self.values if n.label == label)

    def __len__(self):
        return len(self.nodes)

    def __str__(self):
        """One line per operation, inputs before outputs: ``h (2, 3) = mm(x, 0.weight)``."""
        shapes = {n.id: n.shape for n in self.values}
        names = {n.id: n.label or (str(n.data) if n.kind == "constant" else n.id) for n in self.values}
        names[MORE] = "..."
        inputs, outputs = {}, {}
        for e in self.edges:
            if e.port:
                inputs.setdefault(e.dst, []).append(names[e.src])
            else:
                outputs[e.src] = e.dst
        after = "after backward" if self.has_grad else "no backward yet"
        lines = [f"autograd graph: {len(self.values)} values, {len(self.ops)} ops, {after}"]
        for op in reversed(self.ops):
            out = outputs[op.id]
            lines.append(f"  {names[out]} {shapes[out]} = {op.op}({', '.join(inputs.get(op.id, []))})")
        if self.hidden:
            lines.append(f"  ... {self.hidden} more nodes not shown")
        return "\n".join(lines)


class _Constant:
    """A raw number or array given to an op: a node of its own for each use."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def trace(*roots, names=None, max_nodes=None):
    """The graph that computed `roots` (Tensors), as a `Graph` of plain data.

    names: where labels come from, any of: a dict {name: tensor} or a namespace such as ``globals()``
    (Tensors are named by their variable, Layers give ``model.0.weight``, Optimizers mark their params
    as parameters; names starting with ``_`` are skipped), a Layer (``0.weight``), or (name, tensor)
    pairs such as ``model.named_parameters()``. A tensor's own ``.name`` is the last resort.
    max_nodes: keep only the first max_nodes nodes met walking back from the roots (None: all); the
    rest are counted in ``graph.hidden``.
    """
    if not roots:
        raise TypeError("trace: give the tensors to draw the graph of, e.g. trace(loss)")
    for root in roots:
        if not isinstance(root, Tensor):
            raise TypeError(f"trace: expected Tensors to draw the graph of, got a {type(root).__name__}")
    labels, parameters = _names(names)
    entries, edges = _walk(roots)
    keep = len(entries) if max_nodes is None else max(int(max_nodes), len(roots))
    live = _live(entries, edges, len(roots))
    has_grad = any(r.grad is not None for r in roots)
    root_ids = {id(r) for r in roots}
    nodes = [_node(f"n{i}", obj, labels, parameters, root_ids, has_grad and i not in live)
             for i, obj in enumerate(entries[:keep])]
    kept_edges = [Edge(f"n{s}" if s < keep else MORE, f"n{d}", port) for s, d, port in edges if d < keep]
    return Graph(nodes, kept_edges, hidden=max(len(entries) - keep, 0), has_grad=has_grad)


def _walk(roots):
    """Breadth-first from the roots: (entries, edges) with entries the tensors, operations and constants
    in the order met, and edges (src index, dst index, port), one per use."""
    entries, index, edges = [], {}, []
    queue = deque()
    for root in roots:
        if id(root) not in index:
            index[id(root)] = len(entries)
            entries.append(root)
            queue.append(root)
    while queue:
        tensor = queue.popleft()
        ctx = tensor._ctx
        if ctx is None or not tensor.autograd:  # the engine stops here too
            continue
        op = len(entries)
        entries.append(ctx)
        edges.append((op, index[id(tensor)], ""))
        for parent, port in zip(ctx.parents, _ports(type(ctx), len(ctx.parents))):
            if isinstance(parent, Tensor):
                if id(parent) not in index:
                    index[id(parent)] = len(entries)
                    entries.append(parent)
                    queue.append(parent)
                src = index[id(parent)]
            else:
                src = len(entries)
                entries.append(_Constant(parent))
            edges.append((src, op, port))
    return entries, edges


def _live(entries, edges, n_roots):
    """Indices of the entries a gradient can reach: ops and tracking tensors on a path to a root that has
    a grad (a backward ran on it)."""
    inputs = {}
    for src, dst, _ in edges:
        inputs.setdefault(dst, []).append(src)
    stack = [i for i in range(n_roots) if entries[i].grad is not None]
    live = set(stack)
    while stack:
        for src in inputs.get(stack.pop(), ()):
            obj = entries[src]
            if src not in live and not isinstance(obj, _Constant) and (not isinstance(obj, Tensor) or obj.autograd):
                live.add(src)
                stack.append(src)
    return live


def _node(node_id, obj, labels, parameters, root_ids, faded):
    if isinstance(obj, _Constant):
        return ValueNode(node_id, "constant", "", Summary.of(obj.value), faded=faded)
    if isinstance(obj, Tensor):
        grad = None if obj.grad is None else Summary.of(obj.grad.data)
        label = labels.get(id(obj)) or obj.name or ""
        return ValueNode(node_id, _kind(obj, parameters, root_ids), label, Summary.of(obj.data), grad,
                         obj.autograd, faded)
    cls = type(obj)
    doc = (cls.__doc__ or "").strip().splitlines()
    args = {k: _short(v) for k, v in obj.args.items() if v is not None and v is not False}
    return OpNode(node_id, obj.op_name, args, doc[0] if doc else "", faded)


def _kind(tensor, parameters, root_ids):
    if tensor._ctx is not None and tensor.autograd:
        return "output" if id(tensor) in root_ids else "intermediate"
    if tensor.autograd and (parameters is None or id(tensor) in parameters):
        return "parameter"
    return "input"


_port_names = {}


def _ports(op_class, n):
    """The names of an op's positional inputs, from its forward's signature (``x``, ``y``); numbers if unknown."""
    names = _port_names.get(op_class)
    if names is None:
        params = list(inspect.signature(op_class.forward).parameters.values())[1:]
        names = _port_names[op_class] = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    return names[:n] if len(names) >= n else [str(i) for i in range(n)]


def _short(value):
    """An op setting as short text: ``0``, ``(1, 2)``, ``:, 0``, ``array(3, 4)``."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, slice):
        parts = ["" if p is None else str(p) for p in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    if isinstance(value, np.ndarray):
        return str(Summary.of(value)) if value.size <= SMALL else f"array{value.shape}"
    text = repr(value)
    return text if len(text) <= 30 else text[:29] + "…"


def _names(names):
    """({id(tensor): label}, ids of the parameters or None) from the `names` argument of trace()."""
    if names is None:
        return {}, None
    labels, paths, parameters = {}, {}, set()

    def add_parameter(path, p):
        parameters.add(id(p))
        if path:
            paths.setdefault(id(p), path)

    if isinstance(names, Layer):
        names = {"": names}
    elif not isinstance(names, dict):
        for path, p in _pairs(names):
            add_parameter(path, p)
        names = {}
    for key, value in names.items():
        if not isinstance(key, str) or key.startswith("_"):
            continue
        if isinstance(value, Tensor):
            labels.setdefault(id(value), key)
        elif isinstance(value, Layer):
            for path, p in value.named_parameters(prefix=key):
                add_parameter(path, p)
        elif isinstance(value, Optimizer):
            for p in value.params:
                add_parameter(None, p)
    for key, path in paths.items():
        labels.setdefault(key, path)  # a variable's name wins over a layer path
    return labels, parameters or None


def _pairs(names):
    """(name, tensor) pairs such as ``model.named_parameters()``: all parameters."""
    try:
        pairs = [(str(name), tensor) for name, tensor in names]
    except (TypeError, ValueError):
        pairs = None
    if pairs is None or not all(isinstance(t, Tensor) for _, t in pairs):
        raise TypeError(f"trace: names= must be a dict (such as globals()), a Layer or (name, Tensor) pairs "
                        f"as model.named_parameters() gives, got a {type(names).__name__}")
    return pairs
