"""The stepper and the landscape explorer, clicked headlessly: controllers directly, widgets through their controls."""

import base64
import html
import re
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

import numtorch as nt
from numtorch_magics import landscapes
from numtorch.layers import Linear, MSELoss, Sequential, Tanh
from numtorch.testing import numerical_grad
from numtorch_magics import svg
from numtorch_magics.controllers import DEFAULT_LR, LandscapeController, StepperController

widgets = pytest.importorskip("numtorch_magics.widgets")


def mlp_problem(lr=0.05, optimizer="SGD"):
    """The benchmark's small MLP 64-128-10 (tanh, MSE) on a batch of 32."""
    rng = np.random.default_rng(1)
    model = Sequential([Linear(64, 128), Tanh(), Linear(128, 10)])
    if not isinstance(optimizer, str):
        optimizer = optimizer(model.get_params(), lr)
    return model, MSELoss(), optimizer, rng.standard_normal((32, 64)), rng.standard_normal((32, 10))


def snapshot(params):
    return [(p.data.copy(), p.data.dtype) for p in params]


def assert_bit_identical(params, saved):
    for p, (data, dtype) in zip(params, saved):
        assert p.data.dtype == dtype and p.data.shape == data.shape and p.data.tobytes() == data.tobytes()


def parse(markup):
    """Parse as XML (every SVG and the static snapshots are well-formed)."""
    return ET.fromstring(markup)


# ---- the stepper's controller -------------------------------------------------------------------------

def test_step_runs_one_training_step_and_keeps_the_grads():
    model, criterion, _, x, y = mlp_problem()
    c = StepperController(model, criterion, "SGD", x, y, lr=0.05)
    before = snapshot(c.params)
    assert c.step() is True
    assert c.steps == 1 and len(c.losses) == 1 and c.error is None
    for p, (data, _) in zip(c.params, before):
        assert p.grad is not None  # the last backward stays visible
        np.testing.assert_allclose(p.data, data - 0.05 * p.grad.data)
    assert c.names == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_loss_is_the_criterion_of_the_model_before_the_update():
    model, criterion, _, x, y = mlp_problem()
    c = StepperController(model, criterion, "SGD", x, y)
    expected = float(((model(nt.Tensor(x)).data - y) ** 2).mean())
    c.step()
    assert c.loss == pytest.approx(expected, rel=1e-12)


def test_run_makes_n_steps_and_the_loss_falls():
    c = StepperController(*mlp_problem()[:2], "SGD", *mlp_problem()[3:], lr=0.05)
    assert c.run(20) == 20
    assert c.steps == 20 and c.losses[-1] < c.losses[0]


@pytest.mark.parametrize("label", ["SGD", "SGD with momentum", "Adam"])
def test_reset_restores_bit_identical_parameters_and_replays_exactly(label):
    model, criterion, _, x, y = mlp_problem()
    c = StepperController(model, criterion, label, x, y, lr=0.01)
    initial = snapshot(c.params)
    c.run(3)
    first = list(c.losses)
    c.set_lr(0.02)
    c.reset()
    assert_bit_identical(c.params, initial)
    assert c.steps == 0 and c.losses == [] and c.traced is None and c.error is None
    assert all(p.grad is None for p in c.params)
    assert c.optimizer.lr == 0.02 and type(c.optimizer).__name__ in ("SGDOptimizer", "AdamOptimizer")
    c.set_lr(0.01)
    c.run(3)
    assert c.losses == first  # the optimizer's state was reset too (momentum, Adam's moments)


def test_reset_keeps_the_optimizer_and_restores_integer_data_exactly():
    w = nt.Tensor(np.array([[3, -2]]), autograd=True)  # stored as float64
    model = lambda x: x.mm(w.T)  # noqa: E731 (any callable is a model)
    optimizer = nt.optimizers.SGDOptimizer([w], lr=0.1, momentum=0.9)
    c = StepperController(model, MSELoss(), optimizer, np.ones((4, 2)), np.zeros((4, 1)))
    saved = snapshot([w])
    c.run(2)
    assert optimizer.velocity
    c.reset()
    assert c.optimizer is optimizer and optimizer.velocity == {}
    assert_bit_identical([w], saved)
    assert c.names == ["param0"]
    with pytest.raises(TypeError, match=r"needs a model with \.parameters\(\)"):
        StepperController(model, MSELoss(), "Adam", np.ones((4, 2)), np.zeros((4, 1)))


def test_set_optimizer_builds_a_new_one_over_the_same_parameters():
    model, criterion, optimizer, x, y = mlp_problem(0.03, nt.optimizers.SGDOptimizer)
    c = StepperController(model, criterion, optimizer, x, y)
    c.set_optimizer("Adam")  # at Adam's own rate, not SGD's
    assert isinstance(c.optimizer, nt.optimizers.AdamOptimizer) and c.optimizer.lr == DEFAULT_LR["Adam"]
    assert all(a is b for a, b in zip(c.optimizer.params, model.get_params()))
    c.set_optimizer("SGD with momentum")
    assert c.optimizer.momentum == 0.9
    with pytest.raises(ValueError, match="unknown optimizer 'RMSprop'"):
        c.set_optimizer("RMSprop")


def test_a_failing_step_is_shown_and_the_next_one_works():
    model, criterion, _, x, y = mlp_problem()
    c = StepperController(model, criterion, "SGD", x, np.zeros((32, 3)))  # target of the wrong shape
    before = snapshot(c.params)
    assert c.step() is False and c.run(5) == 0
    assert c.steps == 0 and c.stopped
    assert "(32, 10)" in c.error.message and "(32, 3)" in c.error.message
    status = c.status_html()
    assert "numtorch-error" in status and "(32, 3)" in status and "Traceback" in status
    assert_bit_identical(c.params, before)
    c.target = nt.Tensor(y)
    assert c.step() and c.error is None and "numtorch-error" not in c.status_html()


def test_a_loss_that_is_not_a_number_is_explained():
    model, _, _, x, y = mlp_problem()
    c = StepperController(model, lambda pred, target: (pred - target) ** 2, "SGD", x, y)
    assert not c.step()
    assert "shape (32, 10)" in c.error.message and ".mean()" in c.error.message


def test_divergence_stops_a_run_and_shows_the_warning():
    c = StepperController(*mlp_problem()[:2], "SGD", *mlp_problem()[3:], lr=1e4)
    done = c.run(200)
    assert done < 200 and not np.isfinite(c.loss) and c.stopped
    assert c.warning and "numtorch-warning" in c.status_html()


def test_views_are_well_formed():
    c = StepperController(*mlp_problem())
    assert "press Step" in c.curve_svg() and "after the first step" in c.graph_svg()
    parse(c.html())
    c.run(3)
    curve = parse(c.curve_svg())
    assert curve.tag.endswith("svg") and len(curve.findall(".//{http://www.w3.org/2000/svg}polyline")) == 1
    graph = c.graph_svg()
    assert graph is c.graph_svg()  # drawn once per step
    if "<svg" in graph:
        assert parse(graph).find("{http://www.w3.org/2000/svg}svg") is not None and "mse" in graph
        assert "max-width:100%" in graph and "0 · LinearLayer" in graph  # fitted; layers are boxes
    page = parse(c.html())
    status = page.find(".//div[@class='numtorch-status']")
    assert status.get("data-step") == "3" and status.get("data-loss") == svg.number(c.loss)
    table = page.find(".//table[@class='numtorch-params']")
    assert len(table.findall("tr")) == 1 + 4 and len(table.findall(".//{http://www.w3.org/2000/svg}svg")) == 8


# ---- SVG helpers ----------------------------------------------------------------------------------------

def test_heatmap_embeds_a_png_of_the_matrix():
    m = np.array([[-1.0, 0.0, 2.0], [0.5, np.nan, -2.0]])
    root = parse(svg.heatmap(m))
    image = root.find("{http://www.w3.org/2000/svg}image")
    png = base64.b64decode(image.get("{http://www.w3.org/1999/xlink}href").split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (3, 2)
    idat = png[png.index(b"IDAT") + 4:png.index(b"IEND") - 8]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(2, 1 + 3 * 3)
    pixels = rows[:, 1:].reshape(2, 3, 3)
    assert tuple(pixels[0, 1]) == (247, 247, 247)  # zero is white
    assert tuple(pixels[0, 2]) == (178, 24, 43) and tuple(pixels[1, 2]) == (33, 102, 172)  # +max red, -max blue
    parse(svg.heatmap(np.zeros(40)))  # a vector: one row


def test_contour_segments_lie_on_the_level_curve():
    xs = ys = np.linspace(-2, 2, 41)
    gx, gy = np.meshgrid(xs, ys)
    pieces = svg.contour_segments(xs, ys, gx ** 2 + gy ** 2, 1.0)
    radius = np.hypot(pieces[..., 0], pieces[..., 1])
    assert len(pieces) > 40 and np.abs(radius - 1).max() < 0.01
    saddle = svg.contour_segments(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([[1.0, 0.0], [0.0, 1.0]]), 0.5)
    assert saddle.shape == (2, 2, 2)


def test_line_chart_handles_log_scale_and_divergence():
    chart = svg.line_chart([("a", [100.0, 1.0, 0.01], "red"), ("b", [1.0, np.inf, np.nan], "blue")])
    root = parse(chart)
    assert "(diverged)" in chart and len(root.findall(".//{http://www.w3.org/2000/svg}polyline")) == 2
    assert "0.01" in chart and "100" in chart
    parse(svg.line_chart([("a", [np.nan], "red")]))


# ---- landscapes and their explorer ----------------------------------------------------------------------

@pytest.mark.parametrize("problem", landscapes.LANDSCAPES.values(), ids=lambda p: p.name)
def test_landscapes_have_true_gradients_and_minima(problem):
    x, y = (nt.tensor(v, requires_grad=True) for v in problem.start)
    problem(x, y).backward()
    gx, gy = numerical_grad(problem.fn, *problem.start)
    np.testing.assert_allclose([x.grad.data, y.grad.data], [gx, gy], rtol=1e-6, atol=1e-9)
    assert float(problem(*(nt.tensor(float(v)) for v in problem.minimum)).data) == pytest.approx(0, abs=1e-12)
    xs, ys, z = problem.surface(n=21)
    assert z.shape == (21, 21) and z.min() >= 0


def test_explorer_controller_steps_each_optimizer_on_its_own_path():
    c = LandscapeController("quadratic bowl")
    assert [run.label for run in c.runs] == ["SGD", "SGD with momentum", "Adam"]
    assert c.run(30) == 30 and c.steps == 30
    for run in c.runs:
        assert len(run.path) == 31 and run.path[0] == (-2.6, 1.4) and len(run.losses) == 30
        assert run.losses[-1] < run.losses[0] / 10
    paths = [tuple(run.path[-1]) for run in c.runs]
    assert len(set(paths)) == 3
    page = parse(c.html())
    panels = page.findall(".//div[@class='numtorch-panel']")
    assert [p.get("data-step") for p in panels] == ["30"] * 3
    assert len(page.findall(".//{http://www.w3.org/2000/svg}polyline")) == 3 + 3  # paths + loss curves
    c.reset()
    assert all(run.path == [(-2.6, 1.4)] and run.losses == [] for run in c.runs)


def test_explorer_rates_problems_and_divergence():
    c = LandscapeController("Rosenbrock", optimizers=["SGD", "Adam"], lr={"SGD": 0.01})
    assert c.lr == {"SGD": 0.01, "Adam": 0.1}
    c.run(50)
    sgd, adam = c.runs
    assert sgd.diverged and not adam.diverged and len(sgd.path) < 50
    assert "diverged" in c.panel_html(sgd) and not c.stopped
    c.set_lr("SGD", 0.001)
    c.reset()
    c.run(5)
    assert not c.runs[0].diverged and c.runs[0].optimizer.lr == 0.001
    c.set_landscape("1-neuron fit")
    assert c.landscape is landscapes.NEURON_FIT and c.steps == 0 and c.lr["SGD"] == 0.01  # the override stays
    with pytest.raises(ValueError, match="unknown landscape"):
        c.set_landscape("saddle")
    with pytest.raises(ValueError, match="each optimizer once"):
        LandscapeController(optimizers=["SGD", "SGD"])


# ---- the widgets, clicked ------------------------------------------------------------------------------

@pytest.fixture
def stepper():
    return widgets.Stepper(*mlp_problem(lr=0.05, optimizer=nt.optimizers.SGDOptimizer))


def test_clicking_step_run_and_reset(stepper):
    c = stepper.controller
    initial = snapshot(c.params)
    stepper.step_button.click()
    assert c.steps == 1 and 'data-step="1"' in stepper.status.value and "<polyline" in stepper.curve.value
    assert stepper.graph.value == c.graph_svg() and "grad (last backward)" in stepper.params.value
    stepper.run_steps.value = 4
    stepper.run_button.click()
    assert c.steps == 5
    lr, optimizer = c.optimizer.lr, c.optimizer
    stepper.reset_button.click()
    assert c.steps == 0 and 'data-step="0"' in stepper.status.value and "press Step" in stepper.curve.value
    assert_bit_identical(c.params, initial)
    assert c.optimizer is optimizer and c.optimizer.lr == lr and stepper.play.value == 0


def test_the_slider_and_the_choice_change_the_optimizer(stepper):
    c = stepper.controller
    stepper.lr_slider.value = 0.003
    assert c.optimizer.lr == 0.003 and "lr 0.003" in stepper.status.value
    params = snapshot(c.params)
    stepper.step_button.click()
    np.testing.assert_allclose(c.params[0].data, params[0][0] - 0.003 * c.params[0].grad.data)
    stepper.lr_slider.value = 10.0
    stepper.optimizer_choice.value = "Adam"  # not at SGD's 10: at Adam's own rate, on the slider too
    assert isinstance(c.optimizer, nt.optimizers.AdamOptimizer) and c.optimizer.lr == DEFAULT_LR["Adam"]
    assert stepper.lr_slider.value == DEFAULT_LR["Adam"] and "Adam, lr 0.01" in stepper.status.value


def test_play_steps_once_per_tick_and_stops_when_stuck(stepper):
    c = stepper.controller
    stepper.play.playing = True
    stepper.play.value = 1
    stepper.play.value = 2
    assert c.steps == 2
    c.target = nt.Tensor(np.zeros((32, 3)))
    stepper.play.value = 3
    assert c.steps == 2 and stepper.play.playing is False and "numtorch-error" in stepper.status.value


def test_an_exception_in_a_callback_is_shown(stepper, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the curve broke")
    monkeypatch.setattr(stepper.controller, "curve_svg", broken)
    stepper.step_button.click()  # does not raise
    assert "RuntimeError: the curve broke" in stepper.status.value


def test_hiding_the_graph_skips_drawing_it(stepper, monkeypatch):
    stepper.show_graph.value = False
    monkeypatch.setattr(stepper.controller, "graph_svg", lambda: pytest.fail("graph drawn while hidden"))
    stepper.step_button.click()
    assert stepper.graph.value == "" and stepper.controller.steps == 1


def test_explorer_widget(monkeypatch):
    explorer = widgets.Explorer("Rosenbrock", optimizers=["SGD", "Adam"])
    explorer.step_button.click()
    explorer.run_steps.value = 9
    explorer.run_button.click()
    assert explorer.controller.steps == 10 and 'data-step="10"' in explorer.panels["Adam"].value
    explorer.lr_sliders["Adam"].value = 0.05
    assert explorer.controller.runs[1].optimizer.lr == 0.05
    explorer.problem.value = "quadratic bowl"
    assert explorer.controller.steps == 0 and explorer.lr_sliders["SGD"].value == landscapes.QUADRATIC_BOWL.lr["SGD"]
    assert "quadratic bowl" in explorer.status.value
    monkeypatch.setattr(explorer.controller, "curves_svg", lambda: 1 / 0)
    explorer.step_button.click()
    assert "ZeroDivisionError" in explorer.status.value


def test_grading_mode_renders_a_static_snapshot(stepper, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    stepper.run_button.click()
    formatter = InteractiveShell.instance().display_formatter
    live, _ = formatter.format(stepper)
    assert "application/vnd.jupyter.widget-view+json" in live
    monkeypatch.setenv("NUMTORCH_GRADING", "1")
    for widget, css in ((stepper, "numtorch-stepper"), (widgets.Explorer(), "numtorch-explorer")):
        static, _ = formatter.format(widget)
        assert "application/vnd.jupyter.widget-view+json" not in static
        assert re.search(f'class="{css}"', static["text/html"])
        parse(static["text/html"])
    assert 'data-step="10"' in formatter.format(stepper)[0]["text/html"]


# ---- the backward stepper -------------------------------------------------------------------------------

def lab02_graph():
    """Lab 2's graph: x used twice (reuse), u feeding a dead branch."""
    x, y = nt.Tensor(3.0, autograd=True), nt.Tensor(-2.0, autograd=True)
    u = x * y
    v = u + x
    dead = u * 100  # noqa: F841  (computed, never reaches the loss)
    return v * v, {"x": x, "y": y, "u": u, "v": v}


def detached_graph():
    """A branch cut by detach() and a broadcast (a (3,) bias added to (2, 3) rows)."""
    w, b = nt.Tensor(np.arange(6.0).reshape(2, 3) / 5, autograd=True), nt.Tensor([0.1, -0.2, 0.3], autograd=True)
    h = (w * 2 + b).tanh()
    return (h * h.detach() + b).sum(), {"w": w, "b": b}


def mlp_graph():
    np.random.seed(3)
    model = Sequential([Linear(3, 4), Tanh(), Linear(4, 2)])
    return model(nt.Tensor(np.random.randn(5, 3))).cross_entropy(np.array([0, 1, 1, 0, 1])), {"model": model}


def rnn_graph():
    """An RNN cell unrolled over 3 steps: the same weights used at every step."""
    np.random.seed(4)
    cell = nt.layers.RNNCell(2, 3, 2)
    hidden, loss = cell.init_hidden(), 0
    for t in range(3):
        out, hidden = cell(nt.Tensor(np.random.randn(1, 2)), hidden)
        loss = loss + out.cross_entropy(np.array([t % 2]))
    return loss, {"cell": cell}


def grads_of(loss):
    """{id: grad} of every tensor of loss's graph (leaves and intermediates)."""
    from numtorch.graph import _walk
    return [None if t.grad is None else t.grad.data.copy() for t in _walk((loss,))[0] if isinstance(t, nt.Tensor)]


@pytest.mark.parametrize("build", [lab02_graph, detached_graph, mlp_graph, rnn_graph])
def test_stepping_through_backward_gives_the_engines_grads(build):
    loss, names = build()
    stepper = widgets.BackwardStepper(loss, names=names)
    assert not stepper.done and all(g is None for g in grads_of(loss))
    steps = 0
    while stepper.step():
        steps += 1
    assert stepper.done and stepper.step() is False
    stepped = grads_of(loss)
    stepper.reset()
    assert all(g is None for g in grads_of(loss)) and stepper.controller.steps == 0
    loss.backward()
    for mine, engine in zip(stepped, grads_of(loss)):
        assert (mine is None) == (engine is None)
        if engine is not None:
            np.testing.assert_array_equal(mine, engine)
    assert steps == sum(g is not None for g in stepped)  # one step per tensor the gradient reaches


def test_each_step_highlights_the_node_its_op_and_the_waiting_grads():
    loss, names = lab02_graph()
    stepper = widgets.BackwardStepper(loss, names=names)
    first = stepper.svg
    assert "mul" in first and "grad —" in first and "grad arrived, waiting" in first  # only the seed
    stepper.step()  # L = v * v: v gets 2 v = -6 from both uses
    c = stepper.controller
    assert c.rule == "mul: dz/dx = y, dz/dy = x"
    marks = c.marks()
    assert sorted(marks.values()) == ["arrived", "current", "op"]
    assert c.labels[next(k for k, m in marks.items() if m == "arrived")] == "v"
    assert "grad -6" in html.unescape(stepper.svg) and "grad going back now" in stepper.svg
    stepper.run()
    assert 'data-done="true"' in stepper.view.value and "leaf x" in c.rule
    parse(stepper.view.value.replace("&nbsp;", " "))


def test_a_backward_stepper_click_is_fast_on_the_lab_04_mlp():
    model, criterion, _, x, y = mlp_problem()
    stepper = widgets.BackwardStepper(criterion(model(nt.Tensor(x)), nt.Tensor(y)), names={"model": model})
    stepper.step_button.click()
    import time
    start = time.perf_counter()
    stepper.step_button.click()
    assert time.perf_counter() - start < 1.0  # the benchmark holds it to 100 ms; a loaded CI gets slack
    assert stepper.controller.steps == 2


# ---- the fixes of issue 13: the stepper's graph, its charts, the rates on switching ----------------------

def test_the_stepper_draws_the_graph_of_the_step_whose_loss_it_shows():
    model, criterion, _, x, y = mlp_problem()
    c = StepperController(model, criterion, "SGD", x, y, lr=0.05)
    before = model[0].weight.data.copy()
    c.step()
    graph = c.traced
    assert graph.values[0].data.values.item() == c.loss  # the loss shown is the loss drawn
    weight = graph.by_label("0.weight").data
    assert (weight.min, weight.max) == (before.min(), before.max())  # before the update, not after
    assert model[0].weight.data.max() != before.max()


def test_charts_fit_their_tick_labels_and_say_log_scale():
    chart = svg.line_chart([("loss", [1.748e7, 3.0, 1.142e-18], "red")])
    root = parse(chart)
    texts = {t.text: t for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert "log scale" in texts and "1.142e-18" in texts and "1.748e+07" in texts
    for label in ("1.142e-18", "1.748e+07"):  # right-aligned at x: the text starts at x - its width
        assert float(texts[label].get("x")) - svg.CHAR_PX * len(label) >= 0
    assert "log scale" not in svg.line_chart([("loss", [3.0, 2.0, 1.0], "red")])
    wide = parse(svg.line_chart([("loss", np.linspace(1, 2, 20000), "red")], width=360))
    last_step = next(t for t in wide.iter("{http://www.w3.org/2000/svg}text") if t.text == "2e+04")
    assert last_step.get("text-anchor") == "end" and float(last_step.get("x")) <= 360


def test_parameter_values_do_not_wrap():
    c = StepperController(*mlp_problem())
    assert 'white-space:pre' in c.params_html().replace(" ", "") or "<svg" in c.params_html()
    from numtorch_magics.controllers import _values_html
    assert _values_html(np.array([[1.23456, -2.5], [3.0, 4.0]])).startswith('<code style="white-space:pre">')


def test_switching_problems_shows_each_rate_on_a_new_slider():
    """A slider on the page whose range and value change lets the browser clamp the old value into the new
    range and send it back (the browser test saw SGD 0.0956 for 0.17): each rate gets a new slider."""
    explorer = widgets.Explorer("quadratic bowl")
    old = dict(explorer.lr_sliders)
    explorer.problem.value = "Rosenbrock"
    for label, slider in explorer.lr_sliders.items():
        suggested = landscapes.ROSENBROCK.lr[label]
        assert slider is not old[label] and old[label].comm is None  # the old one closed
        assert slider in explorer.columns[label].children and old[label] not in explorer.columns[label].children
        assert explorer.controller.lr[label] == suggested and slider.value == suggested
        assert next(r for r in explorer.controller.runs if r.label == label).optimizer.lr == suggested
    explorer.lr_sliders["Adam"].value = 0.05  # the new slider is wired
    assert explorer.controller.runs[2].optimizer.lr == 0.05
    old[label].value = 1.0  # the old one no longer is
    assert explorer.controller.lr["Adam"] == 0.05
