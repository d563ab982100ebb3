"""What `%%numtorch` adds to each `.backward()` of a cell, for a 200-node graph (target: <= 50 ms).

    python benchmarks/bench_magics.py [--quick]

Runs the same training cell in an in-process IPython shell with and without `%%numtorch` (all display
formats active, so every graph is really rendered to SVG) and prints the difference per backward:
one backward; a loop drawing every backward; a loop with --last (about the cost of the hook alone,
which traces the graph and writes its DOT at each backward, one SVG for the cell); --no-graph.
Best of several repeats, interleaved, so machine noise hits both sides alike.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from IPython.testing.globalipapp import get_ipython  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

import numtorch as nt  # noqa: E402
from numtorch.graph import trace  # noqa: E402

TARGET_MS = 50
SETUP = """
import numpy as np, numtorch as nt
rng = np.random.default_rng(0)
model = nt.layers.SequentialLayer([layer for _ in range(33) for layer in (nt.layers.LinearLayer(4, 4), nt.layers.Tanh())])
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


def best_time(shell, cell, repeat):
    best = float("inf")
    for _ in range(repeat):
        with capture_output() as captured:
            t0 = time.perf_counter()
            result = shell.run_cell(cell)
            best = min(best, time.perf_counter() - t0)
        result.raise_error()
    return best, captured


def added_ms(shell, magic, body, backwards, repeat):
    """(ms added per backward, the number of SVGs shown) for `body` run under `magic` rather than plain."""
    plain = best_time(shell, body, repeat)[0]
    drawn, captured = best_time(shell, f"{magic}\n{body}", repeat)
    svgs = sum("image/svg+xml" in o.data for o in captured.outputs)
    return (drawn - plain) / backwards * 1e3, svgs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeat = 3 if parser.parse_args().quick else 7

    shell = get_ipython()
    shell.display_formatter.active_types = shell.display_formatter.format_types
    shell.run_line_magic("load_ext", "numtorch_magics")
    shell.run_cell(SETUP).raise_error()
    nodes = len(trace(shell.user_ns["train_step"]()).nodes)
    print(f"graph: {nodes} nodes (a 33-layer tanh MLP with MSE loss), backward alone: "
          f"{best_time(shell, 'train_step()', repeat)[0] * 1e3:.2f} ms")

    rows = [("one backward, drawn", "%%numtorch", loop(1), 1),
            ("10 backwards, each drawn", "%%numtorch", loop(10), 10),
            ("100 backwards, --last", "%%numtorch --last", loop(100), 100),  # ~ the hook alone
            ("100 backwards, --no-graph", "%%numtorch --no-graph", loop(100), 100)]
    worst = 0.0
    for label, magic, body, backwards in rows:
        ms, svgs = added_ms(shell, magic, body, backwards, repeat)
        worst = max(worst, ms)
        print(f"  {label:28s} +{ms:7.2f} ms per backward   ({svgs} SVG shown)")
    print(f"worst added cost per backward: {worst:.2f} ms (target <= {TARGET_MS} ms): "
          f"{'OK' if worst <= TARGET_MS else 'OVER'}")


if __name__ == "__main__":
    main()
