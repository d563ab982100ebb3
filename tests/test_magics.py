"""The magics in an in-process IPython shell (the singleton, every display format active)."""

import pathlib
import re

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.testing.globalipapp import get_ipython
from IPython.utils.capture import capture_output

import numtorch
import numtorch.errors as nt_errors
from numtorch_magics import magics
from numtorch_magics.render import render

# Each graph shows as SVG, or, without Graphviz (dot or pygraphviz), as the renderer's HTML fallback.
PICTURE = "image/svg+xml" if render("digraph { a -> b }")[0] is not None else "text/html"

TWO_BACKWARDS = """\
w = nt.Tensor([1.0, 2.0], autograd=True)
opt = nt.optimizers.SGDOptimizer([w], lr=0.5)
loss = (w * w).sum()
loss.backward()
opt.step()
loss = (w * 3).sum()
loss.backward()
loss.data * 10
"""


@pytest.fixture(scope="module")
def shell():
    ip = get_ipython()
    ip.display_formatter.active_types = ip.display_formatter.format_types
    ip.run_line_magic("load_ext", "numtorch_magics")
    yield ip
    ip.run_line_magic("unload_ext", "numtorch_magics")


@pytest.fixture
def views(monkeypatch):
    """The objects the magics display, in order."""
    shown = []
    monkeypatch.setattr(magics, "display", shown.append)
    return shown


def run(shell, cell):
    """(ExecutionResult, captured output) of one cell, run as a notebook runs it."""
    with capture_output() as captured:
        result = shell.run_cell(cell, store_history=True)
    return result, captured


def pictures(captured):
    return [o.data[PICTURE] for o in captured.outputs if PICTURE in o.data]


def test_one_picture_per_backward_and_the_last_expression_is_the_output(shell):
    result, captured = run(shell, "%%numtorch\n" + TWO_BACKWARDS)
    assert result.success
    assert len(pictures(captured)) == 2
    assert pictures(captured)[0].lstrip().startswith(("<?xml", "<svg") if PICTURE == "image/svg+xml" else "<div")
    assert result.result == pytest.approx(0.0)  # w became [0, 0] after the step: 10 * sum(3 * w)
    assert shell.user_ns["_"] is result.result


def test_last_draws_only_the_final_backward(shell, views):
    result, _ = run(shell, "%%numtorch --last\n" + TWO_BACKWARDS)
    assert result.success and len(views) == 1
    assert views[0].graph.by_label("w").grad.values.tolist() == [3.0, 3.0]


def test_the_picture_holds_the_values_at_backward_time(shell, views):
    """The optimizer step right after the first backward changes w in place and clears its grad."""
    run(shell, "%%numtorch\n" + TWO_BACKWARDS)
    first, second = (view.graph.by_label("w") for view in views)
    assert first.data.values.tolist() == [1.0, 2.0] and first.grad.values.tolist() == [2.0, 4.0]
    assert second.data.values.tolist() == [0.0, 0.0] and second.grad.values.tolist() == [3.0, 3.0]


def test_names_come_from_variables_and_layers(shell, views):
    run(shell, "%%numtorch\nmodel = nt.layers.SequentialLayer([nt.layers.LinearLayer(2, 1)])\n"
               "x = nt.Tensor([[1.0, 2.0]])\nprediction = model(x)\nprediction.sum().backward()")
    labels = {node.label for node in views[0].graph.values}
    assert {"prediction", "x", "model.0.weight"} <= labels


def test_nt_and_np_are_available(shell):
    shell.user_ns.pop("nt", None)
    shell.user_ns.pop("np", None)
    result, _ = run(shell, "%%numtorch --no-graph\nnp.ones(2) + nt.Tensor([1.0]).data")
    assert result.success and result.result.tolist() == [2.0, 2.0]
    assert shell.user_ns["nt"] is numtorch and shell.user_ns["np"] is np


def test_an_error_fails_the_cell_with_its_own_lines_and_keeps_the_graphs_so_far(shell):
    result, captured = run(shell, "%%numtorch\nw = nt.Tensor([1.0], autograd=True)\n(w * 2).backward()\n"
                                  "no_such_name + 1\nafter = 1")
    assert isinstance(result.error_in_exec, NameError)
    assert len(pictures(captured)) == 1
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", captured.stdout)
    cell = result.execution_count
    assert f"Cell In[{cell}], line 4" in traceback  # line 1 is %%numtorch, as in the notebook
    assert "----> 4 no_such_name + 1" in traceback
    assert "after" not in shell.user_ns


def test_a_syntax_error_points_at_the_cell_line(shell):
    result, _ = run(shell, "%%numtorch\nx = 1\ny = (2 +\n")
    assert isinstance(result.error_before_exec, SyntaxError) and result.error_before_exec.lineno == 3
    with pytest.raises(SyntaxError) as error:
        shell.run_cell_magic("numtorch", "", "x = 1\ny = (2 +\n")  # called directly: the same line
    assert error.value.lineno == 3


def test_the_traceback_starts_at_the_students_line(shell):
    result, captured = run(shell, "%%numtorch --last\nw = nt.Tensor([[1.0, 2.0]], autograd=True)\n"
                                  "w.mm(nt.Tensor([[1.0, 2.0]]))\n")
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", captured.stdout + captured.stderr)
    assert isinstance(result.error_in_exec, nt_errors.ShapeError)
    assert "run_cell_magic" not in traceback and "numtorch_magics" not in traceback
    assert re.search(r"line (\d+)", traceback).group(1) == "3" and "w.mm(" in traceback  # the student's line first


def test_reload_does_not_double_the_hook_or_the_handlers(shell):
    def counts():
        return (len(numtorch.hooks.backward_hooks()), len(shell.events.callbacks["pre_run_cell"]),
                len(shell.events.callbacks["post_run_cell"]),
                sum(isinstance(c, magics.NumtorchMagics) for c in shell.configurables))

    before = counts()
    shell.run_line_magic("reload_ext", "numtorch_magics")
    shell.run_line_magic("reload_ext", "numtorch_magics")
    assert counts() == before
    _, captured = run(shell, "%%numtorch\n(nt.Tensor([1.0], autograd=True) * 2).backward()")
    assert len(pictures(captured)) == 1
    shell.run_line_magic("unload_ext", "numtorch_magics")
    assert len(numtorch.hooks.backward_hooks()) == before[0] - 1
    assert shell.find_cell_magic("numtorch") is None
    shell.run_line_magic("load_ext", "numtorch_magics")
    assert counts() == before


@pytest.mark.parametrize("line", ["--bogus", "--rankdir XY", "--max-nodes 0", "--max-nodes many", "--last extra"])
def test_a_bad_option_is_a_usage_error(shell, line):
    with pytest.raises(UsageError):
        shell.run_cell_magic("numtorch", line, "1")


def test_the_help_documents_every_option(shell):
    doc = shell.find_cell_magic("numtorch").__doc__
    for option in ("--no-graph", "--last", "--max-nodes", "--rankdir", "--no-data", "--no-grad", "--max-graphs",
                   "--collapse"):
        assert option in doc


def test_options_reach_the_picture(shell, views):
    run(shell, "%%numtorch --rankdir TB --no-data --no-grad --max-nodes 3\n"
               "w = nt.Tensor([1.0], autograd=True)\n(((w * 2) + 1) * 3).sum().backward()")
    source = views[0].source
    assert "rankdir=TB" in source and "| data" not in source and "| grad" not in source
    assert views[0].graph.hidden > 0
    run(shell, "%%numtorch --collapse\nmodel = nt.layers.Sequential([nt.layers.Linear(2, 2), nt.layers.Tanh()])\n"
               "model(nt.Tensor(np.ones((1, 2)))).sum().backward()")
    assert [n.label for n in views[1].graph.nodes if n.kind == "layer"] == ["model.0 · LinearLayer",
                                                                           "model.1 · Tanh"]


def test_no_graph_and_the_cap_on_graphs_per_cell(shell):
    loop = "w = nt.Tensor([1.0], autograd=True)\nfor _ in range(5):\n    (w * 2).backward()\n"
    _, captured = run(shell, "%%numtorch --no-graph\n" + loop)
    assert pictures(captured) == []
    _, captured = run(shell, "%%numtorch --max-graphs 2\n" + loop)
    assert len(pictures(captured)) == 2 and "3 more backward calls were not drawn" in captured.stdout


def test_config_sets_the_defaults(shell, views):
    shell.run_line_magic("config", "NumtorchMagics.rankdir = 'TB'")
    try:
        run(shell, "%%numtorch\n(nt.Tensor([1.0], autograd=True) * 2).backward()")
        run(shell, "%%numtorch --rankdir LR\n(nt.Tensor([1.0], autograd=True) * 2).backward()")
    finally:
        shell.run_line_magic("config", "NumtorchMagics.rankdir = 'auto'")
    assert "rankdir=TB" in views[0].source and "rankdir=LR" in views[1].source


def test_auto_draws_every_cell_once(shell):
    backward = "(nt.Tensor([1.0], autograd=True) * 2).backward()"
    assert len(pictures(run(shell, backward)[1])) == 0
    run(shell, "%numtorch_auto on")
    try:
        assert len(pictures(run(shell, backward)[1])) == 1
        assert len(pictures(run(shell, "%%numtorch\n" + backward)[1])) == 1
        assert len(pictures(run(shell, "%%numtorch --no-graph\n" + backward)[1])) == 0
    finally:
        run(shell, "%numtorch_auto off")
    assert len(pictures(run(shell, backward)[1])) == 0


def test_numtorch_graph_draws_a_tensor_now(shell):
    shell.run_cell("w = nt.Tensor([1.0, 2.0], autograd=True)\nloss = (w * w).sum()")
    view = shell.run_line_magic("numtorch_graph", "--rankdir TB loss")
    assert view.graph.by_label("loss").kind == "output" and view.graph.by_label("w").grad is None
    assert "rankdir=TB" in view.source
    assert shell.run_line_magic("numtorch_graph", "(loss, w * 2)").graph.by_label("w")
    with pytest.raises(UsageError):
        shell.run_line_magic("numtorch_graph", "")
    with pytest.raises(UsageError):
        shell.run_line_magic("numtorch_graph", "--bogus loss")
    with pytest.raises(UsageError, match="not a Tensor"):
        shell.run_line_magic("numtorch_graph", "loss.item()")


def test_check_runs_the_exercise_public_tests_in_the_notebook_namespace(shell, monkeypatch):
    import labs

    calls = []
    monkeypatch.setattr(labs, "check", lambda exercise, namespace=None: calls.append((exercise, namespace)))
    shell.run_line_magic("check", "ex1")
    assert calls == [("ex1", shell.user_ns)]
    with pytest.raises(UsageError, match="name one exercise"):
        shell.run_line_magic("check", "")


def test_the_readme_cell_draws_its_backward_with_names(shell, views):
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    cell = re.search(r"```\n(%%numtorch\n.*?)```", readme, re.S).group(1)
    result, _ = run(shell, cell)
    assert result.success and len(views) == 1
    labels = {node.label for node in views[0].graph.values}
    assert {"w", "x", "loss"} <= labels
    assert views[0].graph.by_label("w").grad is not None
