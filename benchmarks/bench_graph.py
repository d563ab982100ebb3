"""The graph view's speed: trace + DOT + SVG by system dot, as `draw(...).svg` does after a backward.

    python benchmarks/bench_graph.py [--quick]

Targets (issue 3): a 200-node graph in <= 100 ms; a 2 000-node graph in <= 2 s thanks to the cap.
Each figure is the best of several repeats (the first, cold call is shown too), and is split into
NumTorch's part (trace + DOT) and dot's part, whose ratio says where the time goes.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numtorch as nt  # noqa: E402
from numtorch.graph import trace  # noqa: E402
from numtorch_magics.render import MAX_NODES, GraphView, draw, render, to_dot  # noqa: E402


def deep_mlp(layers):
    """A tanh MLP of `layers` linear layers, batch 4, width 3, with its cross-entropy loss after backward:
    6 nodes per layer + 4."""
    np.random.seed(0)
    model = nt.layers.SequentialLayer()
    for _ in range(layers):
        model.add(nt.layers.LinearLayer(3, 3)).add(nt.layers.Tanh())
    loss = model(nt.Tensor(np.random.randn(4, 3))).cross_entropy(np.array([0, 1, 2, 1]))
    loss.backward()
    return loss, model


def unrolled_rnn(steps):
    """An RNN cell unrolled over `steps` steps, the losses summed, after backward (about 16 nodes a step)."""
    np.random.seed(0)
    cell = nt.layers.RNNCell(4, 8, 4)
    hidden, loss = cell.init_hidden(), 0
    for t in range(steps):
        out, hidden = cell(nt.Tensor(np.random.randn(1, 4)), hidden)
        loss = loss + out.cross_entropy(np.array([t % 4]))
    loss.backward()
    return loss, cell


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name, root, names, max_nodes, repeat, target):
    """Print cold and best times of draw(...).svg, with the trace + DOT part and the dot part apart."""
    total_nodes = len(trace(root))
    cold = timed(lambda: draw(root, names=names, max_nodes=max_nodes).svg)
    best = min(timed(lambda: draw(root, names=names, max_nodes=max_nodes).svg) for _ in range(repeat))
    graph = trace(root, names=names, max_nodes=max_nodes)
    ours = min(timed(lambda: to_dot(trace(root, names=names, max_nodes=max_nodes), max_nodes=max_nodes))
               for _ in range(repeat))
    source = to_dot(graph, max_nodes=max_nodes)
    dot = min(timed(lambda: render(source)) for _ in range(repeat))
    assert GraphView(graph, source).renderer == "dot", "system dot is needed for this benchmark"
    verdict = "ok" if best <= target else "OVER TARGET"
    print(f"{name:<38} {total_nodes:>5} nodes, {len(graph):>4} drawn: best {1000 * best:7.1f} ms "
          f"(cold {1000 * cold:6.1f}; trace+DOT {1000 * ours:5.1f} + dot {1000 * dot:6.1f}, "
          f"dot/ours {dot / ours:5.1f}x)  target {1000 * target:.0f} ms: {verdict}")
    return best <= target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeat = 3 if parser.parse_args(argv).quick else 7
    mlp200, mlp_model = deep_mlp(33)
    rnn200, rnn_cell = unrolled_rnn(13)
    mlp2000, mlp2000_model = deep_mlp(333)
    rnn2000, rnn2000_cell = unrolled_rnn(125)
    print(f"draw(...).svg with system dot; default cap max_nodes={MAX_NODES}; best of {repeat}")
    results = [
        measure("200-node MLP, all drawn", mlp200, mlp_model, None, repeat, 0.100),
        measure("200-node unrolled RNN, all drawn", rnn200, rnn_cell, None, repeat, 0.100),
        measure("2000-node MLP, default cap", mlp2000, mlp2000_model, MAX_NODES, repeat, 2.0),
        measure("2000-node unrolled RNN, default cap", rnn2000, rnn2000_cell, MAX_NODES, repeat, 2.0),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
