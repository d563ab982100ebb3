"""numtorch.graph.trace: the autograd graph as plain data (kinds, names, one edge per use, grads, cap)."""

import subprocess
import sys

import numpy as np
import pytest

import numtorch as nt
from numtorch.graph import MORE, SMALL, trace


def mlp(seed=0):
    """A two-layer model, a batch and the loss of one forward (no backward yet)."""
    np.random.seed(seed)
    model = nt.layers.SequentialLayer([nt.layers.LinearLayer(2, 3), nt.layers.ReLU(), nt.layers.LinearLayer(3, 2)])
    x = nt.Tensor(np.random.randn(4, 2))
    target = np.array([0, 1, 1, 0])
    loss = model(x).cross_entropy(target)
    return model, x, loss


def edges_from(graph, node_id):
    return [e for e in graph.edges if e.src == node_id]


def test_one_edge_per_use():
    x = nt.Tensor([1.0, 2.0], autograd=True, name="x")
    y = x * x + x
    g = trace(y)
    x_node = g.by_label("x")
    assert len(edges_from(g, x_node.id)) == 3
    mul = next(op for op in g.ops if op.op == "mul")
    assert sorted(e.port for e in g.edges if e.dst == mul.id) == ["#0", "#1"]
    assert len(g.values) == 3 and len(g.ops) == 2  # x, x * x, y; mul, add


def test_raw_numbers_are_constant_nodes_one_per_use():
    x = nt.Tensor([1.0, 2.0], autograd=True)
    g = trace(2 * x + 2)
    constants = [n for n in g.values if n.kind == "constant"]
    assert len(constants) == 2
    assert all(str(c.data) == "2" for c in constants)


def test_kinds_of_a_model_graph():
    model, x, loss = mlp()
    g = trace(loss, names=model)
    kinds = {n.label or n.kind: n.kind for n in g.values}
    assert kinds["0.weight"] == kinds["2.bias"] == "parameter"
    assert g.values[0].kind == "output"
    assert [n.kind for n in g.values].count("input") == 1  # x: data without autograd
    assert [n.kind for n in g.values].count("constant") == 1  # the integer targets
    assert [n.kind for n in g.values].count("intermediate") == 3


def test_tracking_leaf_is_a_parameter_unless_layers_say_otherwise():
    cell = nt.layers.RNNCell(2, 3, 2)
    hidden = cell.init_hidden()  # tracks gradients (the book's convention) but is no parameter
    out, _ = cell(nt.Tensor(np.ones((1, 2))), hidden)
    without = trace(out, names={"hidden": hidden})
    assert without.by_label("hidden").kind == "parameter"
    with_layer = trace(out, names={"hidden": hidden, "cell": cell})
    assert with_layer.by_label("hidden").kind == "input"
    assert with_layer.by_label("cell.w_hh.weight").kind == "parameter"


def test_optimizer_marks_its_params():
    w, h0 = nt.Tensor([1.0], autograd=True), nt.Tensor([2.0], autograd=True)
    opt = nt.optimizers.SGDOptimizer([w], lr=0.1)
    g = trace(w * h0, names={"w": w, "h0": h0, "opt": opt})
    assert g.by_label("w").kind == "parameter" and g.by_label("h0").kind == "input"


def test_names_from_a_layer_pairs_and_a_namespace():
    model, x, loss = mlp()
    labels = {n.label for n in trace(loss, names=model).values}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= labels
    assert {"0.weight", "2.bias"} <= {n.label for n in trace(loss, names=model.named_parameters()).values}
    namespace = {"model": model, "x": x, "loss": loss, "_": loss, "np": np, "n": 3}
    g = trace(loss, names=namespace)
    assert g.values[0].label == "loss"
    assert {"x", "model.0.weight", "model.2.bias"} <= {n.label for n in g.values}
    namespace["w"] = model[0].weight  # a variable's name wins over the layer path
    assert trace(loss, names=namespace).by_label("w").kind == "parameter"


def test_own_tensor_name_is_the_fallback_label():
    a = nt.Tensor([1.0], autograd=True, name="a")
    assert trace(a * 2).by_label("a").kind == "parameter"


def test_bad_arguments_say_what_to_pass():
    with pytest.raises(TypeError, match="names="):
        trace(nt.Tensor([1.0]), names=42)
    with pytest.raises(TypeError, match="Tensors"):
        trace(np.ones(2))
    with pytest.raises(TypeError, match="give the tensors"):
        trace()


def test_op_settings_and_maths():
    x = nt.Tensor(np.ones((2, 3)), autograd=True)
    g = trace(x.sum(dim=0).expand(0, 4)[1:, 0])
    labels = [op.label for op in g.ops]
    assert labels == ["getitem(key=(1:, 0))", "expand(dim=0, copies=4)", "sum(dim=0)"]
    assert g.ops[2].doc.startswith("z = sum(x, dim)")


def test_grads_only_after_backward_and_dead_branches_faded():
    model, x, loss = mlp()
    a = nt.Tensor([1.0, 2.0], autograd=True, name="a")
    dead = a * 3
    alive = (a * a).sum()
    before = trace(alive, dead, loss)
    assert not before.has_grad and all(n.grad is None for n in before.values)
    assert not any(n.faded for n in before.nodes)
    alive.backward()
    after = trace(alive, dead, loss)
    assert after.has_grad
    assert after.values[0].grad.values.item() == 1.0
    np.testing.assert_array_equal(after.by_label("a").grad.values, [2.0, 4.0])
    faded = {n.id for n in after.nodes if n.faded}
    dead_part = {after.values[1].id} | {e.src for e in after.edges if e.dst == after.values[1].id}
    assert dead_part <= faded  # the unused output and its op
    assert after.by_label("a").id not in faded
    assert all(n.faded for n in after.values if n.kind in ("constant", "input"))
    assert all(n.faded and n.grad is None for n in after.values if n.label == "0.weight")  # loss: no backward


def test_small_arrays_whole_large_ones_as_statistics_snapshot():
    big = nt.Tensor(np.arange(SMALL + 1.0), autograd=True)
    small = nt.Tensor(np.arange(3.0), autograd=True)
    g = trace(big.sum() + small.sum(), names={"big": big, "small": small})
    s, b = g.by_label("small").data, g.by_label("big").data
    assert b.values is None and (b.min, b.mean, b.max) == (0.0, SMALL / 2, SMALL)
    assert str(b) == "min 0  mean 8  max 16"
    small.data[0] = 99  # the graph is a snapshot
    np.testing.assert_array_equal(s.values, [0.0, 1.0, 2.0])


def test_same_graph_same_ids_and_text():
    first, second = trace(mlp()[2]), trace(mlp()[2])
    assert [(n.id, n.kind) for n in first.nodes] == [(n.id, n.kind) for n in second.nodes]
    assert first.edges == second.edges
    assert str(first) == str(second)
    assert str(first).splitlines()[-1].endswith("= cross_entropy(n2, [0, 1, 1, 0])")


def chain(n_ops):
    """A graph of 2 * n_ops + 1 nodes: tanh applied n_ops times."""
    x = nt.Tensor([0.5], autograd=True)
    for _ in range(n_ops):
        x = x.tanh()
    return x


def test_cap_keeps_the_nodes_nearest_the_roots():
    root = chain(1000)
    g = trace(root, max_nodes=50)
    assert len(g) == 50 and g.hidden == 2001 - 50
    assert g.nodes[0].kind == "output"
    assert [e.dst for e in g.edges if e.src == MORE] == [g.nodes[-1].id]
    assert "1951 more nodes" in str(g)
    assert len(trace(root)) == 2001


def test_numtorch_graph_imports_no_notebook_packages():
    code = ("import sys, numtorch.graph; bad = {'graphviz', 'IPython', 'ipywidgets'} & set(sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- groups: layer calls and time steps ---------------------------------------------------------------

def unrolled(steps=3):
    """An embedding and an RNN cell unrolled over `steps` characters, the losses summed."""
    np.random.seed(0)
    embed, rnn = nt.layers.EmbeddingLayer(5, 4), nt.layers.RNNCell(4, 3, 5)
    hidden, loss = rnn.init_hidden(), 0
    for t in range(steps):
        out, hidden = rnn(embed(np.array([t % 5])), hidden)
        loss = loss + out.cross_entropy(np.array([t % 5]))
    return {"embed": embed, "rnn": rnn, "loss": loss}


def group_of(graph, node):
    return next(g for g in graph.groups if g.id == node.group)


def test_layer_calls_are_groups_holding_their_ops_and_parameters():
    model, x, loss = mlp()
    g = trace(loss, names=model)
    assert [(grp.label, grp.parent) for grp in g.groups] == [
        ("SequentialLayer", None), ("0 · LinearLayer", "g0"), ("1 · ReLU", "g0"), ("2 · LinearLayer", "g0")]
    assert group_of(g, g.by_label("0.weight")).label == "0 · LinearLayer"
    linear_ops = [op for op in g.ops if op.op == "linear"]
    assert sorted(group_of(g, op).label for op in linear_ops) == ["0 · LinearLayer", "2 · LinearLayer"]
    relu = next(op for op in g.ops if op.op == "relu")
    assert group_of(g, relu).label == "1 · ReLU"
    assert g.values[0].group is None  # the loss: outside the model
    assert {len(g.members(grp.id)) for grp in g.groups[1:]} == {4, 2}  # op, output, weight, bias / op, output
    assert len(g.members("g0")) == 10


def test_a_layer_called_again_makes_time_steps_with_shared_parameters_outside():
    names = unrolled(3)
    g = trace(names["loss"], names=names)
    steps = [grp for grp in g.groups if grp.step is not None]
    assert [grp.label for grp in steps] == ["t = 0", "t = 1", "t = 2"]  # the embedding and the cell: one box a step
    calls = [grp for grp in g.groups if grp.parent == steps[1].id]
    assert [grp.label for grp in calls] == ["embed · EmbeddingLayer", "rnn · RNNCell"]
    inner = [grp.label for grp in g.groups if grp.parent == calls[1].id]
    assert inner == ["rnn.w_ih · LinearLayer", "rnn.w_hh · LinearLayer", "rnn.activation · Sigmoid",
                     "rnn.w_ho · LinearLayer"]
    assert all(grp.step is None for grp in g.groups if grp not in steps)
    assert g.by_label("rnn.w_hh.weight").group is None  # used by every step
    assert all(group_of(g, op).label.startswith(("t = ", "rnn.")) for op in g.ops if op.op == "linear")


def test_layers_unrolled_a_different_number_of_times_keep_a_box_per_call():
    """An encoder over 3 steps, then a decoder over 2: their k-th calls are not one time step."""
    np.random.seed(0)
    encoder, decoder = nt.layers.RNNCell(2, 3, 2), nt.layers.RNNCell(2, 3, 2)
    hidden, loss = encoder.init_hidden(), 0
    for _ in range(3):
        _, hidden = encoder(nt.Tensor(np.ones((1, 2))), hidden)
    for _ in range(2):
        out, hidden = decoder(nt.Tensor(np.ones((1, 2))), hidden)
        loss = loss + out.sum()
    g = trace(loss, names={"encoder": encoder, "decoder": decoder})
    assert [grp.label for grp in g.groups if grp.step is not None] == [
        "t = 0 · encoder · RNNCell", "t = 1 · encoder · RNNCell", "t = 2 · encoder · RNNCell",
        "t = 0 · decoder · RNNCell", "t = 1 · decoder · RNNCell"]


def test_the_cap_keeps_whole_time_steps():
    names = unrolled(6)
    full = trace(names["loss"], names=names)
    g = trace(names["loss"], names=names, max_nodes=60)
    assert len(g) <= 60 and g.hidden == len(full) - len(g)
    for grp in g.groups:
        if grp.step is not None:
            assert len(g.members(grp.id)) == len(full.members(grp.id)), grp.label
    assert any(grp.step == 5 for grp in g.groups)  # the steps nearest the loss


def test_collapsed_graph_draws_each_layer_as_one_node():
    model, x, loss = mlp()
    g = trace(loss, names=model).collapsed()
    layers = [n for n in g.nodes if n.kind == "layer"]
    assert [n.label for n in layers] == ["0 · LinearLayer", "1 · ReLU", "2 · LinearLayer"]
    assert layers[0].params == [("0.weight", (2, 3)), ("0.bias", (3,))]
    assert [grp.label for grp in g.groups] == ["SequentialLayer"]
    ids = {n.label: n.id for n in layers}
    pairs = {(e.src, e.dst) for e in g.edges}
    assert (ids["0 · LinearLayer"], ids["1 · ReLU"]) in pairs and (ids["1 · ReLU"], ids["2 · LinearLayer"]) in pairs
    assert len(g.edges) == len(pairs)  # one arrow between two layers
    assert g.values[0].kind == "output"  # the roots stay


def test_operand_labels_are_positions_or_the_ops_own_words():
    x = nt.Tensor([1.0, 2.0], autograd=True, name="x")
    y = nt.Tensor([3.0, 4.0], autograd=True, name="y")
    g = trace(y + x)
    assert {g.node(e.src).label: e.port for e in g.edges if e.port} == {"y": "#0", "x": "#1"}
    logits = nt.Tensor(np.ones((2, 3)), autograd=True)
    g = trace(logits.cross_entropy(np.array([0, 1])))
    assert sorted(e.port for e in g.edges if e.port) == ["logits", "target"]
