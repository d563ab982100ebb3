"""Interactive widgets: step an optimizer by hand and watch the loss, the graph and the parameters move;
compare optimizers on a two-parameter loss landscape.

    from numtorch_magics.widgets import BackwardStepper, Stepper, Explorer
    Stepper(model, nt.layers.MSELoss(), optimizer, x, y)     # the last line of a cell shows it
    Explorer("Rosenbrock")                                   # SGD, SGD with momentum and Adam side by side
    BackwardStepper(loss)                                    # loss.backward(), one node per click

This module only wires ipywidgets controls to the controllers of `numtorch_magics.controllers`, where the
logic lives. An exception in any callback is shown in the widget. Under NUMTORCH_GRADING=1 a widget shows
its current state as static HTML and waits for nothing.
"""

import math
import os

import ipywidgets as w

from numtorch_magics.landscapes import LANDSCAPES
from numtorch_magics.compat import widget_mimebundle
from numtorch_magics.controllers import (OPTIMIZERS, BackwardController, Failure, LandscapeController,
                                        StepperController, optimizer_label)


def grading():
    """True under NUMTORCH_GRADING=1: render statically, never wait for a click."""
    return os.environ.get("NUMTORCH_GRADING") == "1"


def lr_slider(lr, on_change, description="lr"):
    """A log-scale learning-rate slider at lr, with room for rates 10^5 times smaller and 100 times larger,
    calling on_change(rate) when moved. The range starts from lr itself, so lr is a point of the slider's
    grid: the browser snaps the value to that grid when it draws the slider, and would otherwise change the
    rate just by showing it. To show another rate, make a new slider (`swap`): changing the range and the
    value of a slider on the page lets the browser clamp the old value into the new range and send it back
    as the student's choice (it did: SGD 0.0956 for the bowl's suggested 0.17)."""
    power = math.log10(lr) if lr > 0 else -2.0
    slider = w.FloatLogSlider(value=lr, base=10, min=power - 5, max=power + 2, step=0.05, description=description,
                              readout_format=".2g")
    slider.observe(lambda change: on_change(change["new"]), "value")
    return slider


def swap(box, old, new):
    """Put widget `new` where `old` is among box's children; `old` is closed and calls nothing any more."""
    box.children = tuple(new if child is old else child for child in box.children)
    old.unobserve_all()
    old.close()
    return new


class _Controls:
    """What both widgets share: Step, Run n, Play/Pause and Reset wired to a controller (with step(),
    run(n), reset(), stopped, record_error(exc)), errors shown, a static snapshot under grading."""

    def __init__(self, controller, interval):
        self.controller = controller
        self.step_button = _button("Step", "step-forward", "one optimizer step")
        self.run_button = _button("Run", "forward", "run the number of steps in the box")
        self.run_steps = w.BoundedIntText(value=10, min=1, max=100_000, layout=w.Layout(width="80px"))
        self.play = w.Play(value=0, min=0, max=10 ** 9, interval=interval, show_repeat=False,
                           tooltip="play: one step per tick")
        self.reset_button = _button("Reset", "undo", "back to the initial parameters")
        self.status = w.HTML()
        self.step_button.on_click(self._callback(lambda _: controller.step()))
        self.run_button.on_click(self._callback(lambda _: controller.run(self.run_steps.value)))
        self.reset_button.on_click(self._callback(lambda _: self._reset()))
        self.play.observe(self._callback(self._tick), "value")
        self.buttons = w.HBox([self.step_button, self.run_button, self.run_steps, self.play, self.reset_button])

    def _callback(self, action):
        """action(...), then redraw; an exception is recorded by the controller and shown in the status."""
        def callback(*args):
            try:
                action(*args)
                self.refresh()
            except Exception as exc:  # shown in the widget, never only in a log
                self.controller.record_error(exc)
                self.status.value = self.controller.status_html()
        return callback

    def _tick(self, change):
        if change["new"] <= change["old"]:  # Reset rewinds the Play to 0: not a step
            return
        self.controller.step()
        if self.controller.stopped:
            self.play.playing = False

    def _reset(self):
        self.play.playing = False
        self.play.value = 0
        self.controller.reset()

    def refresh(self):
        raise NotImplementedError

    def _repr_mimebundle_(self, include=None, exclude=None):
        if grading():
            return {"text/html": self.controller.html(), "text/plain": repr(self)}
        return widget_mimebundle(self.widget, include, exclude)


def _button(description, icon, tooltip):
    button = w.Button(description=description, icon=icon, tooltip=tooltip, layout=w.Layout(width="auto"))
    button.add_class(f"numtorch-{description.lower()}")
    return button


class Stepper(_Controls):
    """Train ``model`` one optimizer step at a time: ``loss = criterion(model(data), target)``.

    optimizer: a NumTorch optimizer over the model's parameters, or a label ("SGD", "SGD with momentum",
    "Adam"); lr: its learning rate (kept from the optimizer when None). Controls: Step, Run n, Play/Pause,
    Reset (initial parameters, empty curve, fresh optimizer state), a log-scale learning-rate slider, the
    optimizer choice, whether to draw the graph. Shows the step count and loss, the loss curve, the graph
    of the last backward with its gradients and the parameters with their gradients.
    ``stepper.controller`` is the `StepperController` behind it; ``stepper.widget`` the ipywidgets box.
    """

    def __init__(self, model, criterion, optimizer, data, target, lr=None, interval=300, show_graph=True):
        super().__init__(StepperController(model, criterion, optimizer, data, target, lr=lr), interval)
        label = optimizer_label(self.controller.optimizer)
        self.optimizer_choice = w.Dropdown(options=list(dict.fromkeys([*OPTIMIZERS, label])), value=label,
                                           description="optimizer", layout=w.Layout(width="260px"))
        self.lr_slider = self._lr_slider()
        self.show_graph = w.Checkbox(value=show_graph, description="draw the graph", indent=False)
        self.curve, self.params = w.HTML(), w.HTML()
        self.graph = w.HTML(layout=w.Layout(align_self="stretch"))  # the whole width: the picture fits it
        self.curve.add_class("numtorch-curve")
        self.graph.add_class("numtorch-graph")
        self.optimizer_choice.observe(self._callback(lambda c: self._switch(c["new"])), "value")
        self.show_graph.observe(self._callback(lambda c: None), "value")
        self.options = w.HBox([self.optimizer_choice, self.lr_slider, self.show_graph])
        self.widget = w.VBox([self.buttons, self.options, self.status, w.HBox([self.curve, self.params]), self.graph])
        self.widget.add_class("numtorch-stepper-widget")
        self.refresh()

    def _lr_slider(self):
        return lr_slider(self.controller.optimizer.lr, self._callback(self.controller.set_lr))

    def _switch(self, label):
        """Another optimizer, at its own default rate, on a new slider."""
        self.controller.set_optimizer(label)
        self.lr_slider = swap(self.options, self.lr_slider, self._lr_slider())

    def refresh(self):
        """Redraw from the controller (the graph only when shown, and only once per step)."""
        controller = self.controller
        self.status.value = controller.status_html()
        self.curve.value = controller.curve_svg()
        self.params.value = controller.params_html()
        self.graph.value = controller.graph_svg() if self.show_graph.value else ""

    def __repr__(self):
        return f"Stepper(step {self.controller.steps}, loss {self.controller.loss})"


def stepper(model, criterion, optimizer, data, target, **options):
    """Open a `Stepper` on a model (what a ``%stepper`` magic calls): ``stepper(model, MSELoss(), "SGD", x, y)``."""
    return Stepper(model, criterion, optimizer, data, target, **options)


class Explorer(_Controls):
    """Several optimizers side by side on a two-parameter loss landscape, each panel a contour plot with
    the optimizer's path, and their loss curves on one chart.

    landscape: "quadratic bowl", "Rosenbrock", "1-neuron fit" or a numtorch_magics.landscapes.Landscape;
    optimizers: labels of OPTIMIZERS; lr: {label: rate} overriding the problem's suggested rates.
    Controls: Step, Run n, Play/Pause, Reset, the problem, one learning-rate slider per optimizer.
    """

    def __init__(self, landscape="quadratic bowl", optimizers=tuple(OPTIMIZERS), lr=None, interval=200):
        super().__init__(LandscapeController(landscape, optimizers, lr), interval)
        self.problems = {**LANDSCAPES, self.controller.landscape.name: self.controller.landscape}
        self.problem = w.Dropdown(options=list(self.problems), value=self.controller.landscape.name,
                                  description="problem")
        self.problem.observe(self._callback(lambda c: self._switch(c["new"])), "value")
        self.lr_sliders = {label: self._lr_slider(label) for label in self.controller.labels}
        self.panels = {label: w.HTML() for label in self.controller.labels}
        self.curves = w.HTML()
        self.columns = {label: w.VBox([self.panels[label], self.lr_sliders[label]]) for label in self.controller.labels}
        self.widget = w.VBox([w.HBox([self.problem, self.buttons]), self.status, w.HBox(list(self.columns.values())),
                              self.curves])
        self.widget.add_class("numtorch-explorer-widget")
        self.refresh()

    def _lr_slider(self, label):
        rate = self.controller.lr[label]
        return lr_slider(rate, self._callback(lambda lr: self.controller.set_lr(label, lr)), description=label[:12])

    def _switch(self, name):
        """Another problem: its contours, its suggested rates on new sliders, every run from the start."""
        self.play.playing = False
        self.controller.set_landscape(self.problems[name])
        for label, slider in self.lr_sliders.items():
            self.lr_sliders[label] = swap(self.columns[label], slider, self._lr_slider(label))

    def refresh(self):
        controller = self.controller
        self.status.value = controller.status_html()
        for run in controller.runs:
            self.panels[run.label].value = controller.panel_html(run)
        self.curves.value = controller.curves_svg()

    def __repr__(self):
        return f"Explorer({self.controller.landscape.name!r}, step {self.controller.steps})"


class BackwardStepper:
    """``loss.backward()`` one step per click: the graph before backward, then each Step hands the gradient
    to the next tensor in the engine's order, highlights it and the op applying its local rule (``mul:
    dz/dx = y, dz/dy = x``) and the gradients that have arrived. When done, every ``.grad`` is what
    ``loss.backward()`` gives. It reads the same graph and calls each op's own backward (see
    `numtorch_magics.controllers.BackwardController`).

    names: labels for the tensors (default: the notebook's variables). ``.step()``, ``.run()``, ``.reset()``,
    ``.done`` and ``.svg`` (the current picture) work without a browser; ``.widget`` is the ipywidgets box.
    """

    def __init__(self, loss, names=None):
        self.controller = BackwardController(loss, names=_notebook_names() if names is None else names)
        self.step_button = _button("Step", "step-forward", "hand the gradient to the next tensor")
        self.run_button = _button("Run", "forward", "every step left: the whole backward")
        self.reset_button = _button("Reset", "undo", "back to before backward")
        self.view = w.HTML()
        self.view.add_class("numtorch-backward")
        for button, action in ((self.step_button, self.step), (self.run_button, self.run),
                               (self.reset_button, self.reset)):
            button.on_click(lambda _, action=action: action())
        self.widget = w.VBox([w.HBox([self.step_button, self.run_button, self.reset_button]), self.view])
        self.widget.add_class("numtorch-backward-widget")
        self.error = None
        self.refresh()

    @property
    def done(self):
        return self.controller.done

    @property
    def svg(self):
        """The picture now (HTML holding the SVG, fitted to the page)."""
        return self.controller.svg()

    def step(self):
        return self._act(self.controller.step)

    def run(self):
        return self._act(self.controller.run)

    def reset(self):
        return self._act(self.controller.reset)

    def _act(self, action):
        """Do it and redraw; an exception is shown in the widget (and kept in .error), never lost."""
        try:
            result = action()
            self.error = None
        except Exception as exc:  # shown in the widget: a student's own op may raise anything
            self.error, result = Failure(exc), None
        self.refresh()
        return result

    def refresh(self):
        self.view.value = self.controller.html() + (self.error.html() if self.error else "")

    def _repr_mimebundle_(self, include=None, exclude=None):
        if grading():
            return {"text/html": self.view.value, "text/plain": repr(self)}
        return widget_mimebundle(self.widget, include, exclude)

    def __repr__(self):
        return f"BackwardStepper(step {self.controller.steps}, {'done' if self.done else 'running'})"


def _notebook_names():
    """The notebook's variables (IPython's namespace), or None outside IPython."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else None
