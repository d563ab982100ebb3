"""Draw the autograd graph: draw(*roots) -> GraphView, shown as SVG in any notebook, never raising.

    from numtorch_magics.render import draw
    loss.backward()
    draw(loss, names=model)          # the last line of a cell shows the picture
    draw(loss, names=globals()).save("graph.svg")

Values are records ``{ name | shape | data | grad }`` coloured by kind (legend in the picture), operations
are ellipses, and there is one arrow per use of a value (``x * x`` has two). Grads read "—" until a
backward reaches the graph; after one, nodes no gradient can reach (dead branches, constants, data) are
faded. Graphs larger than `max_nodes` keep the nodes nearest the roots and say how many more there are.

The picture comes from the first renderer that works: Graphviz's ``dot`` program through the `graphviz`
package, then `pygraphviz` if it is installed (it carries its own Graphviz library); if neither works the
view shows the graph as text and its DOT source, with a one-line hint on installing Graphviz.
"""

import html
import threading

from numtorch.graph import KINDS, MORE, trace

MAX_NODES = 80   # draw's default cap: the nodes nearest the roots; an unrolled RNN's last few steps
STRAIGHT = 120   # bigger drawings get straight arrows (dot routes curves slowly)
COLOURS = {"parameter": "#ffd8a8", "input": "#a5d8ff", "constant": "#e9ecef", "intermediate": "#ffffff",
           "output": "#b2f2bb", "op": "#e5dbff"}
FADED, FADED_TEXT = "#adb5bd", "#868e96"
INSTALL_HINT = ("To see the picture, install Graphviz: apt install graphviz, brew install graphviz, "
                "conda install graphviz, or pip install pygraphviz.")
FORMATS = ("svg", "png", "pdf")


def draw(*roots, names=None, rankdir="LR", max_nodes=MAX_NODES, show_data=True, show_grad=True):
    """The autograd graph that computed `roots`, as a `GraphView` (shows itself in a notebook).

    names: labels for the tensors: a Layer (``0.weight``), (name, tensor) pairs such as
    ``model.named_parameters()``, or a dict such as ``globals()`` or IPython's ``user_ns`` whose Tensors
    are named by their variable and whose Layers name their parameters (``model.0.weight``).
    rankdir: "LR" (left to right) or "TB" (top to bottom).
    max_nodes: draw at most this many nodes, those nearest the roots (None: all).
    show_data, show_grad: include the values / the gradients in the records.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw: max_nodes must be a positive int or None (no limit), got {max_nodes!r}")
    return GraphView.of(trace(*roots, names=names, max_nodes=max_nodes), rankdir, show_data, show_grad, max_nodes)


class GraphView:
    """A drawn autograd graph. In a notebook it displays as SVG (or a readable fallback);
    `.graph` is the traced `Graph`, `.source` the DOT, `.svg` the picture (None when no renderer works),
    `.renderer` which one drew it ("dot", "pygraphviz" or "none"), `.save(path)` writes svg/png/pdf/dot."""

    def __init__(self, graph, source):
        self.graph = graph
        self.source = source
        self._svg = self._renderer = None
        self._failures = []

    @classmethod
    def of(cls, graph, rankdir="LR", show_data=True, show_grad=True, max_nodes=MAX_NODES):
        """The view of an already traced graph (draw's options)."""
        return cls(graph, to_dot(graph, rankdir, show_data, show_grad, max_nodes))

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
        if self.svg is not None:
            return {"image/svg+xml": self.svg, "text/plain": text}
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


# ---- renderers: each turns DOT into bytes of a format, or raises ------------------------------------------

def _with_dot(source, fmt):
    """Graphviz's dot program, found on PATH by the graphviz package."""
    import graphviz
    return graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)


_LIBRARY_LOCK = threading.Lock()


def _with_pygraphviz(source, fmt):
    """pygraphviz: Graphviz as a library, no dot program needed (one drawing at a time: the library is not
    thread-safe, and the magics draw in worker threads)."""
    import pygraphviz
    with _LIBRARY_LOCK:
        return pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")


RENDERERS = [("dot", _with_dot), ("pygraphviz", _with_pygraphviz)]


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

def to_dot(graph, rankdir="LR", show_data=True, show_grad=True, max_nodes=None):
    """The DOT source of a traced Graph: deterministic (node ids n0, n1, ... in walk order)."""
    lines = [
        "digraph autograd {",
        # nslimit: bounded network-simplex passes keep dot fast on big graphs (400 nodes: 1 s, not 50 s);
        # past STRAIGHT nodes, straight arrows halve dot's time (routing curves is the other half)
        f'  graph [rankdir={rankdir}, bgcolor="white", nodesep=0.2, ranksep=0.3, nslimit=1, nslimit1=1'
        f'{", splines=line" if len(graph) > STRAIGHT else ""}];',
        '  node [fontname="Helvetica", fontsize=10, penwidth=0.8, height=0.3];',
        '  edge [color="#495057", arrowsize=0.6, fontname="Helvetica", fontsize=8, labelfontcolor="#868e96", labeldistance=1.2];',
    ]
    stacked = rankdir in ("LR", "RL")  # record fields run across the rank direction: stack them as a card
    lines += [_value_line(n, show_data, show_grad, stacked) if n.kind != "op" else _op_line(n) for n in graph.nodes]
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
    lines.append(_legend(graph))
    lines.append("}")
    return "\n".join(lines) + "\n"


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
    shape = "scalar" if node.shape == () else str(node.shape)
    return shape if node.dtype == "float64" else f"{shape} {node.dtype}"


def _legend(graph):
    """A one-row table of the colours of the kinds in this graph."""
    kinds = [k for k in KINDS + ("op",) if any(n.kind == k for n in graph.nodes)]
    cells = "".join(f'<td bgcolor="{COLOURS[k]}">{k}</td>' for k in kinds)
    if any(n.faded for n in graph.nodes):
        cells += f'<td><font color="{FADED}">faded: no gradient</font></td>'
    return (f'  legend [shape=plaintext, fontsize=8, label=<<table border="0" cellborder="1" cellspacing="0" '
            f'cellpadding="2"><tr>{cells}</tr></table>>];')


def _quote(text):
    """Text inside a DOT "string"."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _record_field(text):
    """Text of one record field: record syntax characters escaped, lines left-aligned."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\l") + ("\\l" if "\n" in text else "")
