"""What `%%numtorch` adds to each `.backward()` of a cell, for a 200-node graph (target: <= 30 ms, issue 13).

    python benchmarks/bench_magics.py [--quick]

Prints the two parts of the cost, then the whole of it: the hook that traces the graph at each backward
(values and grads as they are then), the drawing of each picture after the cell (DOT, then Graphviz ->
SVG, in-process by WebAssembly once its module has compiled), and the difference per backward between the same training cell run with and without `%%numtorch`
in an in-process IPython shell (all display formats active, so every graph is really rendered to SVG):
one backward (the default max_nodes collapses the graph; then all of it drawn); a loop drawing every
backward; a loop with --last (about the hook alone: one picture for 100 backwards); --no-graph. Best of several repeats, the two cells interleaved, so machine noise hits
both alike.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from IPython.testing.globalipapp import get_ipython  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from numtorch.graph import trace  # noqa: E402
from numtorch_magics.magics import Capture  # noqa: E402
from numtorch_magics.render import MAX_NODES, warm_up  # noqa: E402

TARGET_MS = 30
SETUP = """
import numpy as np, numtorch as nt
rng = np.random.default_rng(0)
layers = [layer for _ in range(33) for layer in (nt.layers.LinearLayer(4, 4), nt.layers.Tanh())]
model = nt.layers.SequentialLayer(layers)
x, y = nt.Tensor(rng.standard_normal((3, 4))), nt.Tensor(rng.standard_normal((3, 4)))
criterion = nt.layers.MSELoss()
optimizer = nt.optimizers.SGDOptimizer(model.parameters(), lr=0.01)
def train_step():
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss
"""


def loop(steps):
    return f"for _ in range({steps}):\n    loss = train_step()\nloss\n"


def timed(shell, cell):
    """(CPU seconds, captured output) of one run of `cell`. CPU time of this process (drawing included:
    it runs in-process, in threads): what wall time is on an idle machine; on a shared one wall time
    grows with the load."""
    with capture_output() as captured:
        t0 = time.process_time()
        result = shell.run_cell(cell)
        seconds = time.process_time() - t0
    result.raise_error()
    return seconds, captured


def added_ms(shell, magic, body, backwards, repeat):
    """(ms added per backward, the number of SVGs shown) for `body` run under `magic` rather than plain."""
    plain = drawn = float("inf")
    for _ in range(repeat):
        plain = min(plain, timed(shell, body)[0])
        seconds, captured = timed(shell, f"{magic}\n{body}")
        drawn = min(drawn, seconds)
    svgs = sum("image/svg+xml" in o.data for o in captured.outputs)
    return (drawn - plain) / backwards * 1e3, svgs


def best_call_ms(fn, repeat):
    """The best CPU time of fn(), in ms."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeat = 3 if parser.parse_args().quick else 7

    shell = get_ipython()
    shell.display_formatter.active_types = shell.display_formatter.format_types
    shell.run_line_magic("load_ext", "numtorch_magics")
    warm_up(wait=True)  # the extension starts compiling the WebAssembly module at load: a student types meanwhile
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (a shared machine inflates every figure)")
    shell.run_cell(SETUP).raise_error()
    loss = shell.user_ns["train_step"]()
    capture = Capture(shell.user_ns, last=False, max_graphs=1,
                      draw_options=dict(rankdir="auto", max_nodes=MAX_NODES, show_data=True, show_grad=True))
    graph = trace(loss, names=shell.user_ns, max_nodes=MAX_NODES)
    print(f"graph: {len(trace(loss).nodes)} nodes (a 33-layer tanh MLP with MSE loss; drawn: {len(graph.nodes)}, "
          f"max_nodes={MAX_NODES}); training step alone: {best_call_ms(shell.user_ns['train_step'], repeat):.2f} ms")
    print(f"  at each backward, the hook (trace, names from the namespace): "
          f"{best_call_ms(lambda: trace(loss, names=shell.user_ns, max_nodes=MAX_NODES), repeat):6.2f} ms")
    print(f"  after the cell, each picture drawn (DOT + Graphviz -> SVG):     "
          f"{best_call_ms(lambda: capture.picture(graph), repeat):6.2f} ms")
    whole = Capture(shell.user_ns, last=False, max_graphs=1,
                    draw_options=dict(rankdir="auto", max_nodes=None, show_data=True, show_grad=True))
    print(f"  the same, all {len(trace(loss).nodes)} nodes drawn (max_nodes=None):              "
          f"{best_call_ms(lambda: whole.picture(trace(loss, names=shell.user_ns)), repeat):6.2f} ms")

    print("added CPU time per backward, a cell with %%numtorch against the same cell without:")
    rows = [("one backward, drawn", "%%numtorch", loop(1), 1),
            ("one backward, all nodes", "%%numtorch --max-nodes 1000", loop(1), 1),
            ("10 backwards, each drawn", "%%numtorch", loop(10), 10),
            ("100 backwards, --last", "%%numtorch --last", loop(100), 100),
            ("100 backwards, --no-graph", "%%numtorch --no-graph", loop(100), 100)]
    worst = 0.0
    for label, magic, body, backwards in rows:
        ms, svgs = added_ms(shell, magic, body, backwards, repeat)
        worst = max(worst, ms)
        print(f"  {label:28s} +{ms:7.2f} ms   ({svgs} SVG shown)")
    print(f"worst added cost per backward: {worst:.2f} ms (target <= {TARGET_MS} ms): "
          f"{'OK' if worst <= TARGET_MS else 'OVER'}")


if __name__ == "__main__":
    main()
