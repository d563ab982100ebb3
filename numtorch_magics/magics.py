"""The magics: `%%numtorch` draws the autograd graph after every `.backward()` of a cell.

    %load_ext numtorch_magics

    %%numtorch
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()                      # the graph of this backward, with grads, shows below the cell

    %numtorch_auto on                    # the same for every cell
    %numtorch_graph loss                 # draw any tensor now
    %config NumtorchMagics.rankdir = "TB"  # change a default (see `%config NumtorchMagics`)

A ``%%numtorch`` cell runs as the cell it is: the capture starts when the cell does (IPython's
``pre_run_cell`` event), and an input transformer turns the ``%%numtorch`` line into a comment (same line
numbers), so the student's code runs as an ordinary cell and an error's traceback starts at the student's
line, with no frame of the magic above it. A line with bad options is left alone: the cell magic reports it.
Called directly (``run_cell_magic``), the magic runs the body the way ``%%time`` does.

How the drawing works: the extension subscribes once to `numtorch.hooks`. While a `%%numtorch` cell (or,
with `%numtorch_auto on`, any cell) runs, each `.backward()` traces its graph right away (`numtorch.graph`
copies small values), so the picture shows the values and grads *at backward time*, even when an
optimizer step right after changes the parameters in place and clears the grads. Tracing is all the
backward pays for; when the cell ends the graphs are drawn (several at once: `dot` runs in a subprocess)
and shown in order. The pictures are static SVG (or the renderer's HTML fallback): nothing ever waits for
input, with or without ``NUMTORCH_GRADING=1``.
"""

import ast
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from traitlets import Bool, Enum, Int

import numtorch
from numtorch.graph import trace
from numtorch.hooks import register_backward_hook
from numtorch_magics.compat import output_can_be_silenced, parse_argstring
from numtorch_magics.render import MAX_NODES, GraphView, draw, warm_up

DRAW_OPTIONS = ("rankdir", "max_nodes", "show_data", "show_grad", "collapse")
CELL_OPTIONS = ("graph", "last", "max_graphs") + DRAW_OPTIONS
DRAWING = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="numtorch-draw")  # `dot` runs in a subprocess


def positive_int(text):
    """argparse type: an int >= 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def drawing_arguments(magic):
    """The options of `draw` that `%%numtorch` and `%numtorch_graph` share (unset: the configured default)."""
    for option in reversed([
        argument("--max-nodes", type=positive_int, metavar="N",
                 help="Collapse the graph beyond N nodes (default: NumtorchMagics.max_nodes)."),
        argument("--rankdir", choices=["auto", "LR", "TB"],
                 help="Layout direction: LR (left to right), TB (top to bottom) or auto (TB for deep graphs)."),
        argument("--collapse", action="store_true", default=None,
                 help="Draw each layer call as one node with its parameters."),
        argument("--no-data", dest="show_data", action="store_false", default=None,
                 help="Do not show the values in the nodes."),
        argument("--no-grad", dest="show_grad", action="store_false", default=None,
                 help="Do not show the gradients in the nodes."),
    ]):
        magic = option(magic)
    return magic


@magics_class
class NumtorchMagics(Magics):
    """Draw NumTorch's autograd graph in a notebook. Each option's default is a trait, settable with
    ``%config NumtorchMagics.<option> = value`` or in an IPython profile (``c.NumtorchMagics.auto = True``)."""

    graph = Bool(True, help="Draw graphs in %%numtorch cells (--no-graph turns it off for one cell).").tag(config=True)
    last = Bool(False, help="Draw only the final backward of a cell (--last).").tag(config=True)
    max_graphs = Int(10, min=1, help="Draw at most this many backward calls per cell (a training loop would otherwise "
                              "flood the notebook); the rest are counted (--max-graphs).").tag(config=True)
    rankdir = Enum(["auto", "LR", "TB"], "auto", help="Layout direction of the graph (--rankdir).").tag(config=True)
    collapse = Bool(False, help="Draw each layer call as one node (--collapse).").tag(config=True)
    max_nodes = Int(MAX_NODES, min=1, allow_none=True,
                    help="Collapse graphs beyond this many nodes; None: no limit (--max-nodes).").tag(config=True)
    show_data = Bool(True, help="Show the values in the nodes (--no-data).").tag(config=True)
    show_grad = Bool(True, help="Show the gradients in the nodes (--no-grad).").tag(config=True)
    auto = Bool(False, help="Draw the graph of every backward in every cell, as %numtorch_auto on.").tag(config=True)

    def __init__(self, shell):
        super().__init__(shell=shell)
        self._capture = None
        self._hook = register_backward_hook(self._on_backward)
        shell.events.register("pre_run_cell", self._pre_run_cell)
        shell.events.register("post_run_cell", self._post_run_cell)
        shell.input_transformers_cleanup.append(self._as_plain_cell)
        warm_up()  # compile the WebAssembly Graphviz while the student types

    def close(self):
        """Undo __init__ and the registration: the hook, the event handlers, the magics and the config entry."""
        self._hook.remove()
        self.shell.events.unregister("pre_run_cell", self._pre_run_cell)
        self.shell.events.unregister("post_run_cell", self._post_run_cell)
        if self._as_plain_cell in self.shell.input_transformers_cleanup:
            self.shell.input_transformers_cleanup.remove(self._as_plain_cell)
        manager = self.shell.magics_manager
        for kind, names in self.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
        manager.registry.pop(type(self).__name__, None)
        if self in self.shell.configurables:
            self.shell.configurables.remove(self)

    # ---- the hook and the events ------------------------------------------------------------
    def _on_backward(self, root):
        if self._capture is not None:
            self._capture.add(root)

    def _pre_run_cell(self, info):
        options = self._cell_options(info.raw_cell.lstrip().splitlines())
        if options is not None:
            self._capture = self._cell_capture(options)
        elif self.auto and self._capture is None:
            self._capture = self._new_capture(self._options())

    def _as_plain_cell(self, lines):
        """IPython input transformer: a ``%%numtorch <options>`` cell becomes its own code under a comment
        line (the capture started in _pre_run_cell), so it runs and fails as an ordinary cell."""
        options = self._cell_options(lines)
        return lines if options is None else [f"# %%numtorch {options}".rstrip() + "\n"] + lines[1:]

    def _cell_options(self, lines):
        """The options of a cell's ``%%numtorch`` first line; None when it has none or they are bad."""
        first = lines[0].strip() if lines else ""
        if first.split(maxsplit=1)[:1] != ["%%numtorch"]:
            return None
        options = first[len("%%numtorch"):].strip()
        try:
            parse_argstring(self.numtorch, options)
        except UsageError:
            return None
        return options

    def _post_run_cell(self, result):
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.show()

    # ---- the magics ---------------------------------------------------------------------------
    @magic_arguments()
    @argument("--no-graph", dest="graph", action="store_false", default=None,
              help="Run the cell without drawing (also silences %%numtorch_auto for this cell).")
    @argument("--last", action="store_true", default=None, help="Draw only the final backward of the cell.")
    @argument("--max-graphs", type=positive_int, metavar="N",
              help="Draw at most N backward calls (default: NumtorchMagics.max_graphs).")
    @drawing_arguments
    @output_can_be_silenced
    @cell_magic
    def numtorch(self, line, cell):
        """Run the cell with `nt` and `np` available and draw the graph of each `.backward()` below it.

        The cell's last expression is its output, as without the magic; an exception fails the cell with a
        traceback through the cell's own lines. Defaults come from `%config NumtorchMagics`.
        """
        __tracebackhide__ = True
        capture = self._cell_capture(line)
        try:
            body, last = self._compile(line, cell)
        except SyntaxError as error:
            raise error.with_traceback(None)  # point at the cell's line, not at the compiler's insides
        outer, self._capture = self._capture, capture
        try:
            exec(body, self.shell.user_ns)
            return eval(last, self.shell.user_ns) if last is not None else None
        finally:
            self._capture = outer
            if capture is not None:
                capture.show()

    def _cell_capture(self, line):
        """Parse a %%numtorch line, make `nt` and `np` available, and return the cell's Capture (None with
        --no-graph)."""
        options = self._options(parse_argstring(self.numtorch, line))
        self.shell.push({k: v for k, v in (("nt", numtorch), ("np", np)) if k not in self.shell.user_ns},
                        interactive=False)
        return self._new_capture(options) if options["graph"] else None

    @magic_arguments()
    @argument("state", nargs="?", choices=["on", "off"], help="on: draw after every backward of every cell.")
    @line_magic
    def numtorch_auto(self, line):
        """Draw the graph of every `.backward()` in every cell (`on`) or only in %%numtorch cells (`off`)."""
        state = parse_argstring(self.numtorch_auto, line).state
        if state is not None:
            self.auto = state == "on"
        print(f"numtorch_auto is {'on' if self.auto else 'off'}")

    @magic_arguments()
    @drawing_arguments
    @no_var_expand
    @line_magic
    def numtorch_graph(self, line):
        """Draw the graph of a tensor (or a tuple of tensors) now: `%numtorch_graph loss`."""
        args, words = parse_argstring(self.numtorch_graph, line, partial=True)
        if not words or words[0].startswith("--"):
            raise UsageError(f"%numtorch_graph: give a tensor to draw after the options, e.g. %numtorch_graph "
                             f"--rankdir TB loss{'' if not words else '; unknown option ' + words[0]}")
        expression = " ".join(words)
        value = self.shell.ev(expression)
        roots = value if isinstance(value, (tuple, list)) else (value,)
        for root in roots:
            if not isinstance(root, numtorch.Tensor):
                raise UsageError(f"%numtorch_graph: {expression} is of type {type(root).__name__}, not a Tensor; "
                                 f"give a tensor or a tuple of tensors, e.g. %numtorch_graph loss")
        options = self._options(args)
        return draw(*roots, names=self.shell.user_ns, **{k: options[k] for k in DRAW_OPTIONS})

    @line_magic
    def check(self, line):
        """Run the public tests of a lab exercise against this notebook: `%check ex1` (same as labs.check)."""
        exercise = line.strip()
        if not exercise or " " in exercise:
            raise UsageError("%check: name one exercise, e.g. %check ex1")
        import labs  # the lab tools are optional for the magics: imported only when asked for

        labs.check(exercise, namespace=self.shell.user_ns)

    # ---- helpers ----------------------------------------------------------------------------------
    def _options(self, args=None):
        """Each option from the command line when given there, else the configured default."""
        given = vars(args) if args is not None else {}
        return {name: getattr(self, name) if given.get(name) is None else given[name] for name in CELL_OPTIONS}

    def _new_capture(self, options):
        return Capture(self.shell.user_ns, options["last"], options["max_graphs"],
                       {k: options[k] for k in DRAW_OPTIONS})

    def _compile(self, line, cell):
        """The cell's body as code objects the way %%time does it: (all but the last expression, the last
        expression or None). Lines are numbered as in the cell (the magic's line is line 1), so tracebacks
        show the cell's own lines."""
        shell = self.shell
        source = shell.transform_cell(cell)
        header = f"%%numtorch {line}".rstrip()
        running = shell.displayhook.exec_result  # the cell being run, when there is one
        number = shell.execution_count if running is None else running.execution_count
        filename = shell.compile.cache(f"{header}\n{source}", number, raw_code=f"{header}\n{cell}")
        tree = shell.transform_ast(shell.compile.ast_parse("\n" + source, filename=filename))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = shell.compile(ast.Expression(tree.body.pop().value), filename, "eval")
        return shell.compile(tree, filename, "exec"), last


class Capture:
    """The graphs of one cell. Each backward is traced when it happens (a snapshot: values and grads as they
    are then, names from the namespace as it is then); the pictures are drawn and shown after the cell.
    With `last`, only the final backward is kept; beyond `max_graphs` backward calls are only counted."""

    def __init__(self, names, last, max_graphs, draw_options):
        self.names = names
        self.last = last
        self.max_graphs = max_graphs
        self.draw_options = draw_options
        self.graphs = []
        self.skipped = 0

    def add(self, root):
        if self.last:
            self.graphs.clear()
        elif len(self.graphs) >= self.max_graphs:
            self.skipped += 1
            return
        self.graphs.append(trace(root, names=self.names, max_nodes=self.draw_options["max_nodes"]))

    def show(self):
        for view in DRAWING.map(self.picture, self.graphs):  # several graphs drawn side by side, shown in order
            display(view)
        if self.skipped:
            print(f"numtorch: {self.skipped} more backward calls were not drawn (at most {self.max_graphs} per cell; "
                  f"%%numtorch --last draws only the final one, --max-graphs N changes the limit)")

    def picture(self, graph):
        """The GraphView of a traced graph, rendered (the view keeps its SVG)."""
        view = GraphView.of(graph, **self.draw_options)
        view.svg  # render now, in the worker thread
        return view

