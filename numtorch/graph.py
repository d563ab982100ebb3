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
There is one edge per use: ``x * x`` has two edges from ``x`` (ports ``#0`` and ``#1`` of mul: an op's
inputs are named by its forward's parameters when those are words, ``input``/``target``, else by position,
so an edge label never reads like a variable of the notebook).

Groups: every node made during a layer call (``model(x)``) belongs to that call's `Group`, labelled by the
layer's path and class (``0 · LinearLayer``, ``rnn.w_ih · LinearLayer``); groups nest like the calls, and a
layer's parameters sit in its group when the graph calls it once. A layer called several times in one
graph (an RNN cell unrolled over a sequence) gives one group per call, a time step: ``t = 0 · rnn · RNNCell``;
layers unrolled together (an embedding and the cell) share one box per step, ``t = 0``, holding their calls.
`Graph.collapsed()` draws each layer call as one node. The cap (max_nodes) keeps whole time steps and
layer calls, those nearest the roots.
"""

import bisect
import inspect
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from numtorch.layers.base import LAYER_CALLS, Layer
from numtorch.optimizers import Optimizer
from numtorch.tensor import Tensor

SMALL = 16          # arrays of at most this many elements are kept whole, larger ones as statistics
ROW = 4             # numbers on one line when a vector is shown whole
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
        """``min -1  mean 0.2  max 3`` or the values, 4 significant digits, one matrix row per line (a long
        vector on several lines)."""
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
    if len(shape) == 1:  # a vector: at most ROW numbers a line, never one long line (a matrix row: whole)
        row = ROW if depth == 0 else len(texts) or 1
        lines = [", ".join(t.rjust(width) for t in texts[i:i + row]) for i in range(0, len(texts), row)]
        return "[" + (",\n" + " " * (depth + 1)).join(lines) + "]"
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
    group: str = None            # the id of the innermost Group (layer call) it belongs to

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
    group: str = None
    kind = "op"

    @property
    def label(self):
        settings = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.op}({settings})" if settings else self.op


@dataclass
class LayerNode:
    """A whole layer call drawn as one node (`Graph.collapsed()`): its label and its parameters."""

    id: str
    label: str
    params: list                 # (name, shape) of the parameters inside
    faded: bool = False
    group: str = None
    kind = "layer"


@dataclass(frozen=True)
class Group:
    """A box of the drawing: one call of a layer (``0 · LinearLayer``), or one time step when the graph calls
    the layer several times (``t = 1 · rnn · RNNCell``, `step` 1). `parent` is the enclosing group's id."""

    id: str
    label: str
    parent: str = None
    step: int = None


@dataclass(frozen=True)
class Edge:
    """Data flowing from `src` to `dst`; `port` names the op's input (``#0``, ``logits``) for value -> op edges."""

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
    groups: list = field(default_factory=list)   # Groups, each after its parent

    @property
    def values(self):
        return [n for n in self.nodes if n.kind not in ("op", "layer")]

    @property
    def ops(self):
        return [n for n in self.nodes if n.kind == "op"]

    def members(self, group_id):
        """The nodes inside a group, at any depth."""
        inside = {group_id}
        for g in self.groups:
            if g.parent in inside:
                inside.add(g.id)
        return [n for n in self.nodes if n.group in inside]

    def collapsed(self):
        """The same graph with each layer call drawn as one node (the roots stay): the calls of the first
        level that has several (inside a model called once, its layers)."""
        level = [g for g in self.groups if g.parent is None]
        while len(level) == 1 and any(g.parent == level[0].id for g in self.groups):
            level = [g for g in self.groups if g.parent == level[0].id]
        roots = {e.dst for e in self.edges if e.port == ""} - {e.src for e in self.edges}
        into, nodes = {}, []
        for g in level:
            members = [n for n in self.members(g.id) if n.id not in roots]
            if members:
                params = [(n.label or n.kind, n.shape) for n in members if n.kind == "parameter"]
                nodes.append(LayerNode(g.id, g.label, params, all(n.faded for n in members), g.parent))
                into.update((n.id, g.id) for n in members)
        nodes = [n for n in self.nodes if n.id not in into] + nodes
        edges = list(dict.fromkeys(Edge(into.get(e.src, e.src), into.get(e.dst, e.dst),
                                        "" if e.dst in into else e.port)
                                   for e in self.edges if into.get(e.src, e.src) != into.get(e.dst, e.dst)))
        parent, collapsed = {g.id: g.parent for g in self.groups}, {g.id for g in level}

        def kept(group):  # neither collapsed nor inside a collapsed group
            while group is not None and group not in collapsed:
                group = parent[group]
            return group is None

        return Graph(nodes, edges, self.hidden, self.has_grad, [g for g in self.groups if kept(g.id)])

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
    max_nodes: keep at most max_nodes nodes, the nearest met walking back from the roots, in whole time
    steps and layer calls (None: all); the rest are counted in ``graph.hidden``.
    """
    if not roots:
        raise TypeError("trace: give the tensors to draw the graph of, e.g. trace(loss)")
    for root in roots:
        if not isinstance(root, Tensor):
            raise TypeError(f"trace: expected Tensors to draw the graph of, got a {type(root).__name__}")
    labels, parameters, layers, paths = _names(names)
    entries, edges = _walk(roots)
    groups, member = _groups(entries, edges, layers, paths)
    kept = _kept(len(entries), len(roots), max_nodes, groups, member)
    live = _live(entries, edges, len(roots))
    has_grad = any(r.grad is not None for r in roots)
    root_ids = {id(r) for r in roots}
    nodes = [_node(f"n{i}", entries[i], labels, parameters, root_ids, has_grad and i not in live, member.get(i))
             for i in kept]
    kept_edges = [Edge(f"n{s}" if s in kept else MORE, f"n{d}", port) for s, d, port in edges if d in kept]
    used = {n.group for n in nodes}
    for g in reversed(groups):  # a group stays when it holds a node or a group that stays
        if g.id in used:
            used.add(g.parent)
    return Graph(nodes, kept_edges, hidden=len(entries) - len(kept), has_grad=has_grad,
                 groups=[g for g in groups if g.id in used])


def _kept(n_entries, n_roots, max_nodes, groups, member):
    """The indices of the entries to draw, in order: the roots, then whole units nearest the roots while
    they fit in max_nodes. A unit is a time step (with everything inside it), a layer call, or a node."""
    if max_nodes is None or n_entries <= max_nodes:
        return dict.fromkeys(range(n_entries))
    parent = {g.id: g.parent for g in groups}
    step = {g.id for g in groups if g.step is not None}
    units = {}
    for i in range(n_entries):
        units.setdefault(_unit(i, member.get(i), parent, step), []).append(i)
    kept = dict.fromkeys(range(n_roots))
    for i in range(n_roots, n_entries):
        more = [j for j in units[_unit(i, member.get(i), parent, step)] if j not in kept]
        if len(kept) + len(more) > max_nodes:
            break
        kept.update(dict.fromkeys(more))
    return dict.fromkeys(sorted(kept))


def _unit(i, group, parent, step):
    """What the cap keeps or drops whole with entry i: its outermost time step, else its layer call."""
    unit = group if group is not None else ("node", i)
    while group is not None:
        if group in step:
            unit = group
        group = parent[group]
    return unit


def _groups(entries, edges, paths, names):
    """(groups, {entry index: group id}): the layer calls (numtorch.layers.base.LAYER_CALLS) that made nodes
    of this graph. An op belongs where its output does, a constant where its op does, a parameter to its
    layer's call when the graph calls that layer once."""
    seqs = {i: obj._seq for i, obj in enumerate(entries) if isinstance(obj, Tensor)}
    made = [seqs[dst] for src, dst, port in edges if not port]  # the outputs of the ops
    for src, dst, port in edges:
        if not port:
            seqs[src] = seqs[dst]  # an op: the _seq of its output
    if not made:
        return [], {}
    calls = _calls(min(made), max(made))  # not from the leaves: parameters are older than every call
    starts = [c[0] for c in calls]
    inner = {i: _innermost(calls, starts, s) for i, s in seqs.items()}
    calls = _used(calls, inner.values())
    calls_of = {}
    for c in calls:
        calls_of.setdefault(id(c[2]), []).append(c)
    layer_at = {path: layer_id for layer_id, path in paths.items()}
    for i, obj in enumerate(entries):  # a parameter joins its layer's one call
        if isinstance(obj, Tensor) and obj._ctx is None and id(obj) in names:
            owner_calls = calls_of.get(layer_at.get(names[id(obj)].rpartition(".")[0]), ())
            if len(owner_calls) == 1:
                inner[i] = owner_calls[0]
    ids = {id(c): f"g{k}" for k, c in enumerate(calls)}
    step_of, shared = _time_steps(calls, calls_of)
    groups, boxes = [], set()
    for c in calls:
        layer, parent, step = c[2], ids.get(id(c[3])), step_of.get(id(c))
        words = [paths.get(id(layer), ""), type(layer).__name__]
        if step is not None and id(c[3]) in shared:  # inside the box of its time step, with the other layers'
            box = f"{parent or 'top'}_t{step}"
            if box not in boxes:
                boxes.add(box)
                groups.append(Group(box, f"t = {step}", parent, step))
            parent, step = box, None
        elif step is not None:  # the only layer called at each step: its call is the step's box
            words.insert(0, f"t = {step}")
        groups.append(Group(ids[id(c)], " · ".join(w for w in words if w), parent, step))
    member = {i: ids[id(c)] for i, c in inner.items() if c is not None}
    for src, dst, port in edges:
        if port and isinstance(entries[src], _Constant) and dst in member:
            member[src] = member[dst]
    return groups, member


def _time_steps(calls, calls_of):
    """({id(call): its step}, ids of the parent calls whose steps share one box): a layer called several times
    inside one call of its parent (or at the top) is unrolled, its k-th call being time step k. When several
    layers are unrolled side by side the same number of times (an embedding, then the cell), the k-th calls
    of all of them are drawn in one box, ``t = k``."""
    step_of, counts = {}, {}
    for c in calls:
        layer, parent = c[2], c[3]
        if len(calls_of[id(layer)]) > 1 and (parent is None or len(calls_of[id(parent[2])]) == 1):
            per_layer = counts.setdefault(id(parent), {})
            step = per_layer.get(id(layer), 0)
            step_of[id(c)], per_layer[id(layer)] = step, step + 1
    shared = {parent for parent, per_layer in counts.items()
              if len(per_layer) > 1 and len(set(per_layer.values())) == 1}
    return step_of, shared


def _calls(lo, hi):
    """The layer calls that made tensors with _seq in [lo, hi] as [start, end, layer, parent call], by start."""
    calls = []
    for ref, spans in list(LAYER_CALLS.values()):
        layer = ref()
        for start, end in reversed(spans):  # newest first: ends decrease
            if end < lo or layer is None:
                break
            if start <= hi:
                calls.append([start, end, layer, None])
    calls.sort(key=lambda c: c[0])
    stack = []
    for c in calls:  # calls nest like a program's stack: the parent is the call still open around it
        while stack and stack[-1][1] < c[0]:
            stack.pop()
        c[3] = stack[-1] if stack else None
        stack.append(c)
    return calls


def _innermost(calls, starts, seq):
    """The innermost call that made the tensor with this _seq (None when made outside any layer call)."""
    k = bisect.bisect_left(starts, seq) - 1
    c = calls[k] if k >= 0 else None
    while c is not None and c[1] < seq:
        c = c[3]
    return c


def _used(calls, inner):
    """The calls that made a node of the graph, or hold a call that did."""
    used = set()
    for c in inner:
        while c is not None and id(c) not in used:
            used.add(id(c))
            c = c[3]
    return [c for c in calls if id(c) in used]


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


def _node(node_id, obj, labels, parameters, root_ids, faded, group):
    if isinstance(obj, _Constant):
        return ValueNode(node_id, "constant", "", Summary.of(obj.value), faded=faded, group=group)
    if isinstance(obj, Tensor):
        grad = None if obj.grad is None else Summary.of(obj.grad.data)
        label = labels.get(id(obj)) or obj.name or ""
        return ValueNode(node_id, _kind(obj, parameters, root_ids), label, Summary.of(obj.data), grad,
                         obj.autograd, faded, group)
    cls = type(obj)
    doc = (cls.__doc__ or "").strip().splitlines()
    args = {k: _short(v) for k, v in obj.args.items() if v is not None and v is not False}
    return OpNode(node_id, obj.op_name, args, doc[0] if doc else "", faded, group)


def _kind(tensor, parameters, root_ids):
    if tensor._ctx is not None and tensor.autograd:
        return "output" if id(tensor) in root_ids else "intermediate"
    if tensor.autograd and (parameters is None or id(tensor) in parameters):
        return "parameter"
    return "input"


_port_names = {}


def _ports(op_class, n):
    """The names of an op's n inputs: its forward's parameter names when they are words (``input``,
    ``target``), else positions ``#0``, ``#1``: a one-letter name (``x``) reads like a notebook variable."""
    names = _port_names.get(op_class)
    if names is None:
        params = list(inspect.signature(op_class.forward).parameters.values())[1:]
        names = _port_names[op_class] = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    if len(names) >= n and all(len(name) > 1 for name in names[:n]):
        return names[:n]
    return [f"#{i}" for i in range(n)]


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
    """({id(tensor): label}, ids of the parameters or None, {id(layer): path}, {id(parameter): path}) from
    trace()'s `names`."""
    if names is None:
        return {}, None, {}, {}
    labels, paths, parameters, layers = {}, {}, set(), {}

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
            _layer_paths(value, key, layers)
            for path, p in value.named_parameters(prefix=key):
                add_parameter(path, p)
        elif isinstance(value, Optimizer):
            for p in value.params:
                add_parameter(None, p)
    for key, path in paths.items():
        labels.setdefault(key, path)  # a variable's name wins over a layer path
    return labels, parameters or None, layers, paths


def _layer_paths(value, path, found):
    """Fill found with {id(layer): dotted path} for the layers in value (a Layer, list, tuple or dict)."""
    if isinstance(value, Layer):
        if id(value) in found:
            return
        found[id(value)] = path
        items = value.children()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    elif isinstance(value, dict):
        items = value.items()
    else:
        return
    for name, sub in items:
        _layer_paths(sub, f"{path}.{name}" if path else str(name), found)


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
