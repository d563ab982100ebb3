"""The widgets' logic, without ipywidgets: a controller takes the clicks as method calls and describes its
state as SVG/HTML strings. Tests drive these directly; ``numtorch_magics.widgets`` only wires controls to them.

StepperController     train any model one optimizer step at a time (step, run, reset, lr, optimizer choice)
LandscapeController   several optimizers side by side on a two-parameter loss surface
BackwardController    backward one node at a time, in the engine's order, each op's own backward
"""

import heapq
import traceback
import warnings

import numpy as np

from numtorch_magics.landscapes import LANDSCAPES, Landscape
from numtorch.layers.base import Layer
from numtorch.optimizers import AdamOptimizer, SGDOptimizer
from numtorch.graph import Summary, _walk, trace
from numtorch.tensor import Tensor, _accumulate, _input_grads, _seed_grad
from numtorch_magics.svg import COLOURS, ContourPlot, escape, heatmap, line_chart, number

OPTIMIZERS = {
    "SGD": lambda params, lr: SGDOptimizer(params, lr),
    "SGD with momentum": lambda params, lr: SGDOptimizer(params, lr, momentum=0.9),
    "Adam": lambda params, lr: AdamOptimizer(params, lr),
}
# A rate each optimizer starts from when the Stepper switches to it: momentum multiplies SGD's steps by about
# 1 / (1 - 0.9) = 10, and Adam's steps are about lr whatever the gradient's size.
DEFAULT_LR = {"SGD": 0.1, "SGD with momentum": 0.01, "Adam": 0.01}


def optimizer_label(optimizer):
    """The OPTIMIZERS label that describes an optimizer (its class name when it is another kind)."""
    if isinstance(optimizer, AdamOptimizer):
        return "Adam"
    if isinstance(optimizer, SGDOptimizer):
        return "SGD with momentum" if optimizer.momentum else "SGD"
    return type(optimizer).__name__


class Failure:
    """An exception caught in a step or a callback, kept to be shown: ``message`` and the ``traceback`` text."""

    def __init__(self, exc):
        self.message = f"{type(exc).__name__}: {exc}"
        self.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def html(self):
        return (f'<div class="numtorch-error" style="color:#a00;border:1px solid #a00;padding:4px;margin:4px 0">'
                f'<b>{escape(self.message)}</b><details><summary>traceback</summary>'
                f'<pre style="font-size:10px">{escape(self.traceback)}</pre></details></div>')


def _note_html(text):
    return f'<div class="numtorch-warning" style="color:#850">{escape(text)}</div>' if text else ""


def _caught(caught):
    """The messages of recorded warnings, joined (None when there were none)."""
    return "; ".join(dict.fromkeys(str(w.message) for w in caught)) or None


class StepperController:
    """Train ``model`` by hand: each ``step()`` zeroes the gradients, computes
    ``loss = criterion(model(data), target)``, runs ``loss.backward()`` and ``optimizer.step(zero=False)``.

    The gradients stay on the tensors until the next step, so the parameter table shows the last backward;
    the graph is traced right after the backward, before the update, so it shows the values and gradients
    of the step whose loss is shown. A step that raises is recorded in ``error`` (shown by ``status_html()``), never hidden;
    the next step tries again. Warnings (a diverging loss) are recorded in ``warning``.

    Actions:   step(), run(n), reset(), set_lr(lr), set_optimizer(label)
    State:     steps, losses, optimizer, params, names, error, warning
    Views:     status_html(), curve_svg(), graph_svg(), params_html(), html() (all of it, static)
    """

    def __init__(self, model, criterion, optimizer, data, target, lr=None):
        self.model, self.criterion = model, criterion
        self.data, self.target = _as_tensor(data), _as_tensor(target)
        if isinstance(optimizer, str):
            if not hasattr(model, "parameters"):
                raise TypeError(f"an optimizer given by name ({optimizer!r}) needs a model with .parameters() "
                                f"(a Layer); otherwise pass an optimizer, e.g. SGDOptimizer([w, b], lr=0.1)")
            optimizer = _new_optimizer(optimizer, list(model.parameters()), 0.1 if lr is None else lr)
        elif lr is not None:
            optimizer.lr = lr
        self.optimizer = optimizer
        self.params = list(optimizer.params)
        named = {id(p): name for name, p in model.named_parameters()} if hasattr(model, "named_parameters") else {}
        self.names = [named.get(id(p)) or p.name or f"param{i}" for i, p in enumerate(self.params)]
        self.initial = [p.data.copy() for p in self.params]
        self.losses, self.traced, self.error, self.warning = [], None, None, None
        self._graph = (None, "")

    @property
    def steps(self):
        return len(self.losses)

    @property
    def loss(self):
        """The loss computed by the last step (None before the first)."""
        return self.losses[-1] if self.losses else None

    # ---- actions --------------------------------------------------------------------------------
    def step(self):
        """One training step; returns True when it ran (False: the error is in ``self.error``)."""
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._zero_grads()
                loss = self.criterion(self.model(self.data), self.target)
                _check_loss(loss)
                loss.backward()
                traced = trace(loss, names=self._names())  # before the update changes the parameters
                self.optimizer.step(zero=False)
        except Exception as exc:  # shown in the widget: a student's model may raise anything
            self.error = Failure(exc)
            return False
        self.traced, self.error, self.warning = traced, None, _caught(caught)
        self.losses.append(float(loss.data.reshape(())))
        return True

    def run(self, n):
        """Up to n steps; stops early at an error or a non-finite loss. Returns the number of steps made."""
        for done in range(n):
            if not self.step():
                return done
            if self.stopped:
                return done + 1
        return n

    @property
    def stopped(self):
        """True after a failed step or a non-finite loss: more steps will not help (Play stops)."""
        return self.error is not None or self.loss is not None and not np.isfinite(self.loss)

    def reset(self):
        """Back to the start: the initial parameters (bit for bit), no gradients, an empty curve, a fresh
        optimizer state. The learning rate and the optimizer choice stay."""
        for p, initial in zip(self.params, self.initial):
            p.data = initial.copy()
        self._zero_grads()
        self.optimizer.reset()
        self.losses, self.traced, self.error, self.warning = [], None, None, None

    def set_lr(self, lr):
        self.optimizer.lr = float(lr)

    def set_optimizer(self, label):
        """Switch to a fresh optimizer of the given OPTIMIZERS label over the same parameters, at its
        DEFAULT_LR (a rate tuned for one optimizer is rarely right for another)."""
        self.optimizer = _new_optimizer(label, self.params, DEFAULT_LR[_check_label(label)])

    def record_error(self, exc):
        """Keep an exception raised outside a step (by a callback) to show it."""
        self.error = Failure(exc)

    def _names(self):
        """What the graph's labels come from: the model's layers and parameter names, the data."""
        names = dict(zip(self.names, self.params), input=self.data, target=self.target)
        return {"": self.model, **names} if isinstance(self.model, Layer) else names

    def _zero_grads(self):
        for p in self.params:
            p.grad = None
        if hasattr(self.model, "zero_grad"):
            self.model.zero_grad()

    # ---- views ----------------------------------------------------------------------------------
    def status_html(self):
        loss = "—" if self.loss is None else number(self.loss)
        return (f'<div class="numtorch-status" data-step="{self.steps}" data-loss="{escape(loss)}" '
                f'style="font-family:sans-serif;font-size:13px">step <b class="numtorch-step-count">{self.steps}'
                f'</b> · loss <b class="numtorch-loss">{escape(loss)}</b> · '
                f'{escape(optimizer_label(self.optimizer))}, lr {number(self.optimizer.lr)}</div>'
                + _note_html(self.warning) + (self.error.html() if self.error else ""))

    def curve_svg(self, width=360, height=220):
        return line_chart([("loss", self.losses, COLOURS[0])], title="loss", width=width, height=height)

    def graph_svg(self):
        """The graph of the last step's backward, before its update (drawn once per step, then cached)."""
        if self.traced is None:
            return '<div class="numtorch-graph-empty" style="color:#666">the graph of the last backward ' \
                   'appears after the first step</div>'
        traced, svg = self._graph
        if traced is not self.traced:
            svg = _graph_svg(self.traced)
            self._graph = (self.traced, svg)
        return svg

    def params_html(self):
        rows = "".join(f'<tr><td><code>{escape(name)}</code></td><td>{escape(p.shape)}</td>'
                       f'<td>{_values_html(p.data)}</td><td>{_values_html(None if p.grad is None else p.grad.data)}'
                       f'</td></tr>' for name, p in zip(self.names, self.params))
        return ('<table class="numtorch-params" style="font-family:sans-serif;font-size:12px">'
                '<tr><th>parameter</th><th>shape</th><th>value</th><th>grad (last backward)</th></tr>'
                f'{rows}</table>')

    def html(self):
        """Everything at once, as static HTML (what a widget shows under NUMTORCH_GRADING=1)."""
        return (f'<div class="numtorch-stepper">{self.status_html()}<div style="display:flex;flex-wrap:wrap;gap:8px">'
                f'<div>{self.curve_svg()}</div>{self.params_html()}</div>'
                f'<div class="numtorch-graph">{self.graph_svg()}</div></div>')


def _as_tensor(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def _new_optimizer(label, params, lr):
    return OPTIMIZERS[_check_label(label)](params, lr)


def _check_label(label):
    if label not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {label!r}; choose one of {', '.join(map(repr, OPTIMIZERS))}")
    return label


def _check_loss(loss):
    if not isinstance(loss, Tensor) or loss.data.size != 1:
        what = f"a tensor of shape {loss.shape}" if isinstance(loss, Tensor) else type(loss).__name__
        raise ValueError(f"the criterion returned {what}; a loss must be a single number "
                         f"(average it with .mean())")


def _values_html(array):
    """A few numbers as text, more as a heatmap with their range."""
    if array is None:
        return '<span style="color:#999">none</span>'
    if array.size <= 6:  # one line per matrix row, never wrapped inside a number
        text = np.array2string(np.asarray(array), precision=4, separator=", ", max_line_width=10 ** 6)
        return f'<code style="white-space:pre">{escape(text)}</code>'
    return (f'{heatmap(array)}<div style="color:#666;font-size:10px">{number(np.nanmin(array))} … '
            f'{number(np.nanmax(array))}</div>')


def _graph_svg(graph):
    """A traced graph as the notebooks show it: fitted to the width, full size a click away (or the
    renderer's readable fallback)."""
    from numtorch_magics.render import GraphView  # the graph renderer; imported when first needed

    return GraphView.of(graph)._repr_mimebundle_()["text/html"]


class Run:
    """One optimizer walking on a landscape: its two parameters, the path so far and the losses on it."""

    def __init__(self, label, landscape, lr, colour):
        self.label, self.landscape, self.colour = label, landscape, colour
        self.x, self.y = (Tensor(float(v), autograd=True, name=n) for v, n in zip(landscape.start, landscape.labels))
        self.optimizer = _new_optimizer(label, [self.x, self.y], lr)
        self.path, self.losses, self.error = [tuple(map(float, landscape.start))], [], None

    def step(self):
        """One step from the current point, unless the run diverged or failed; True when it moved.
        losses[k] is the loss at path[k]; a diverged run ends with its non-finite loss and stays there."""
        if self.error or self.diverged:
            return False
        try:
            with np.errstate(all="ignore"):  # overflow is reported as divergence on the panel
                loss = self.landscape(self.x, self.y)
                self.losses.append(float(loss.data))
                if self.diverged:
                    return False
                loss.backward()
                self.optimizer.step()
        except Exception as exc:  # shown on the panel
            self.error = Failure(exc)
            return False
        self.path.append((self.x.item(), self.y.item()))
        return True

    @property
    def steps(self):
        return len(self.path) - 1

    @property
    def diverged(self):
        return not (np.isfinite(self.path[-1]).all() and np.isfinite(self.losses[-1:]).all())


class LandscapeController:
    """Several optimizers side by side on a two-parameter problem, each from the same start.

    landscape: a numtorch_magics.landscapes.Landscape or the name of one ("quadratic bowl", "Rosenbrock",
    "1-neuron fit"); optimizers: OPTIMIZERS labels; lr: {label: rate} overriding the problem's rates.
    Actions: step(), run(n), reset(), set_lr(label, lr), set_landscape(landscape).
    Views: status_html(), panel_html(run), curves_svg(), html().
    """

    def __init__(self, landscape="quadratic bowl", optimizers=tuple(OPTIMIZERS), lr=None):
        self.labels, self.lr_overrides, self.error = list(optimizers), dict(lr or {}), None
        for label in self.labels:
            _check_label(label)
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"each optimizer once, please: got {self.labels}")
        self.set_landscape(landscape)

    def set_landscape(self, landscape):
        """Switch problem: draw its contours once, start every optimizer afresh at its rates."""
        self.landscape = landscape if isinstance(landscape, Landscape) else _landscape(landscape)
        xs, ys, z = self.landscape.surface()
        self.plot = ContourPlot(xs, ys, z, labels=self.landscape.labels, minimum=self.landscape.minimum)
        self.lr = {label: self.lr_overrides.get(label, self.landscape.lr.get(label, 0.01)) for label in self.labels}
        self.reset()

    def reset(self):
        """Every optimizer back at the start, with a fresh state and its current rate."""
        self.runs = [Run(label, self.landscape, self.lr[label], COLOURS[i % len(COLOURS)])
                     for i, label in enumerate(self.labels)]
        self.error = None

    def step(self):
        """One step of every optimizer (a run that diverged or failed stays where it stopped)."""
        return self.run(1)

    def run(self, n):
        """n steps of every optimizer; returns how many steps the furthest run made."""
        before = self.steps
        for _ in range(n):
            for run in self.runs:
                run.step()
        return self.steps - before

    @property
    def stopped(self):
        """True when no run can move any more (each diverged or failed)."""
        return self.error is not None or all(run.error or run.diverged for run in self.runs)

    def record_error(self, exc):
        """Keep an exception raised outside a step (by a callback) to show it."""
        self.error = Failure(exc)

    def set_lr(self, label, lr):
        """Change one optimizer's rate now (and for the next reset)."""
        self.lr[label] = float(lr)
        for run in self.runs:
            if run.label == label:
                run.optimizer.lr = float(lr)

    @property
    def steps(self):
        return max(run.steps for run in self.runs)

    def panel_html(self, run):
        """A panel: the contour plot with the run's path, its step and loss, and what went wrong, if anything."""
        xs, ys = np.array(run.path).T
        svg = self.plot.svg([(xs, ys, run.colour)], title=f"{run.label}, lr {number(run.optimizer.lr)}")
        loss = number(run.losses[-1]) if run.losses else "—"
        note = "diverged: lower the learning rate and press Reset" if run.diverged else None
        return (f'<div class="numtorch-panel" data-label="{escape(run.label)}" data-step="{run.steps}">{svg}'
                f'<div style="font-family:sans-serif;font-size:12px">step {run.steps} · loss {loss}</div>'
                f'{_note_html(note)}{run.error.html() if run.error else ""}</div>')

    def status_html(self):
        return (f'<div class="numtorch-status" data-step="{self.steps}" style="font-family:sans-serif;font-size:13px">'
                f'{escape(self.landscape.name)} · step <b class="numtorch-step-count">{self.steps}</b></div>'
                + (self.error.html() if self.error else ""))

    def curves_svg(self):
        return line_chart([(run.label, run.losses, run.colour) for run in self.runs],
                          title=f"loss on the {self.landscape.name}", width=420, height=220)

    def html(self):
        """Everything at once, as static HTML (what the explorer shows under NUMTORCH_GRADING=1)."""
        panels = "".join(self.panel_html(run) for run in self.runs)
        return (f'<div class="numtorch-explorer">{self.status_html()}'
                f'<div style="display:flex;flex-wrap:wrap;gap:8px">{panels}</div>{self.curves_svg()}</div>')


def _landscape(name):
    if name not in LANDSCAPES:
        raise ValueError(f"unknown landscape {name!r}; choose one of {', '.join(map(repr, LANDSCAPES))} "
                         f"or pass a numtorch_magics.landscapes.Landscape")
    return LANDSCAPES[name]


class BackwardController:
    """``loss.backward()`` one node at a time, as the engine does it, to watch the gradient flow back.

    The engine pops the newest tensor that has received a gradient (every consumer of a tensor is newer
    than it, so its gradient is complete), hands it to the op that made it, and that op's own backward turns
    it into one gradient per input, which arrive at the inputs (summed when a tensor is used twice). A leaf
    adds what arrived to its ``.grad``. Each ``step()`` does this for one tensor; when ``done``, every
    tensor's ``.grad`` is what ``loss.backward()`` would have given: each step is the engine's own step
    (``numtorch.tensor._input_grads``, ``_accumulate``), only the loop is here. ``reset()`` puts the grads
    back as they were.

    State: ``current`` (the tensor just processed), ``arrived`` {tensor: gradient waiting}, ``steps``,
    ``done``, ``rule`` (what the last step did, in words). Views: ``svg()``, ``status_html()``, ``html()``.
    """

    def __init__(self, root, names=None, grad=None):
        if not isinstance(root, Tensor) or not root.autograd:
            raise TypeError("BackwardStepper: give a tensor that tracks gradients, e.g. BackwardStepper(loss)")
        self.root, self.names, self.seed = root, names, _seed_grad(root, grad)
        entries = _walk((root,))[0]  # in the order of trace's node ids
        self.ids = {id(obj): f"n{i}" for i, obj in enumerate(entries)}
        self.before = [(t, t.grad) for t in entries if isinstance(t, Tensor)]
        self.labels = {n.id: n.label for n in trace(root, names=names).values}
        self.reset()

    def reset(self):
        """Back to before the first step: every .grad as it was, only the seed waiting at the root."""
        for t, grad in self.before:
            t.grad = grad
        self.arrived = {self.root: self.seed}
        self.heap = [(-self.root._seq, id(self.root), self.root)]
        self.held = {id(self.seed)}
        self.current, self.steps, self.rule = None, 0, "the seed gradient waits at the output: press Step"

    @property
    def done(self):
        return not self.heap

    def step(self):
        """Process the next tensor in the engine's order; returns False when there was none left."""
        if self.done:
            return False
        node = heapq.heappop(self.heap)[2]
        g = self.arrived.pop(node)
        self.current, self.steps = node, self.steps + 1
        ctx = node._ctx
        if ctx is None:
            _accumulate(node, g, self.held)
            self.rule = f"leaf {self.labels[self.ids[id(node)]] or '(unnamed)'}: .grad += the gradient that arrived"
            return True
        node.grad = Tensor._make(g, None, False)
        self.held.add(id(g))
        for parent, pg in _input_grads(node, g):  # the engine's own step: the op's backward, shapes, checks
            if parent in self.arrived:
                self.arrived[parent] = self.arrived[parent] + pg
            else:
                self.arrived[parent] = pg
                heapq.heappush(self.heap, (-parent._seq, id(parent), parent))
        self.rule = f"{ctx.op_name}: {_local_rule(ctx)}"
        return True

    def run(self):
        """Every step left."""
        while self.step():
            pass

    def graph(self):
        """The traced graph now: grads of the processed tensors, and the gradients waiting shown as grads."""
        graph = trace(self.root, names=self.names)
        for tensor, g in self.arrived.items():
            graph.node(self.ids[id(tensor)]).grad = Summary.of(g)
        return graph

    def marks(self):
        """{node id: "current" | "op" | "arrived"}: what the picture highlights."""
        marks = {self.ids[id(t)]: "arrived" for t in self.arrived}
        if self.current is not None:
            marks[self.ids[id(self.current)]] = "current"
            if self.current._ctx is not None:
                marks[self.ids[id(self.current._ctx)]] = "op"
        return marks

    def svg(self):
        """The picture of this step (its HTML fallback when nothing can draw)."""
        from numtorch_magics.render import GraphView, fit_html  # the renderer: imported when first needed

        view = GraphView.of(self.graph(), max_nodes=None, marks=self.marks())
        return fit_html(view.svg) if view.svg else view.fallback_html()

    def status_html(self):
        state = "done: every gradient has arrived" if self.done else f"{len(self.arrived)} gradient(s) waiting"
        return (f'<div class="numtorch-status" data-step="{self.steps}" data-done="{str(self.done).lower()}" '
                f'style="font-family:sans-serif;font-size:13px">backward step <b class="numtorch-step-count">'
                f'{self.steps}</b> · {escape(state)}<div class="numtorch-rule" style="font-family:monospace">'
                f'{escape(self.rule)}</div></div>')

    def html(self):
        return f'<div class="numtorch-backward">{self.status_html()}{self.svg()}</div>'


def _local_rule(ctx):
    """The op's local derivatives, from its one-line docstring (``dz/dx = y, dz/dy = x``)."""
    doc = (type(ctx).__doc__ or "").strip().splitlines()
    maths = doc[0] if doc else ""
    return maths.split(";", 1)[1].strip() if ";" in maths else maths or "its backward"
