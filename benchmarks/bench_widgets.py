"""Widget speed: one Step click on the stepper, including the redraw of the curve, the parameters and the graph;
one Step click of the BackwardStepper.

    python benchmarks/bench_widgets.py [--quick]

Targets: one Step click on the small MLP 64-128-10 (batch 32, tanh, MSE) <= 100 ms (issue 5); one
BackwardStepper click on lab 4's MLP (2-4-1, tanh, MSE on the XOR data) <= 100 ms (issue 13).
The click is timed as the kernel would spend it (wall clock, perf_counter), which includes Graphviz laying
out the graph; CPU time of this process (process_time, the drawing is in-process) is printed beside it:
on a shared, loaded machine wall time grows with the load, CPU time does not.
Medians over many clicks, with the slowest one.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numtorch as nt  # noqa: E402
from numtorch_magics.render import warm_up  # noqa: E402
from numtorch_magics.widgets import BackwardStepper, Explorer, Stepper  # noqa: E402

TARGET_MS = 100.0


def small_mlp_stepper():
    rng = np.random.default_rng(1)
    np.random.seed(0)
    layers = nt.layers
    model = layers.Sequential([layers.Linear(64, 128), layers.Tanh(), layers.Linear(128, 10)])
    optimizer = nt.optimizers.SGDOptimizer(model.get_params(), lr=0.01)
    return Stepper(model, layers.MSELoss(), optimizer, rng.standard_normal((32, 64)), rng.standard_normal((32, 10)))


def lab04_backward_stepper():
    np.random.seed(0)
    layers = nt.layers
    model = layers.Sequential([layers.Linear(2, 4), layers.Tanh(), layers.Linear(4, 1)])
    xor = nt.Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    loss = layers.MSELoss()(model(xor), nt.Tensor([[0.0], [1.0], [1.0], [0.0]]))
    return BackwardStepper(loss, names={"model": model, "xor": xor, "loss": loss})


def time_clicks(click, number):
    """(median wall ms, slowest wall ms, median CPU ms) over `number` calls, after one warm-up call."""
    click()
    wall, cpu = [], []
    for _ in range(number):
        t0, c0 = time.perf_counter(), time.process_time()
        click()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), max(wall), statistics.median(cpu)


def report(title, times, target=None):
    median, slowest, cpu = times
    verdict = "" if target is None else f"  (target <= {target:.0f} ms: {'MET' if median <= target else 'MISSED'})"
    print(f"  {title:52s} {median:7.1f} ms median, {slowest:7.1f} ms slowest, {cpu:6.1f} ms CPU{verdict}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer clicks (a smoke run, noisier figures)")
    number = 10 if parser.parse_args(argv).quick else 40

    warm_up(wait=True)  # as after %load_ext: the WebAssembly Graphviz compiled
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("Stepper on MLP 64-128-10, batch 32, tanh, MSE, SGD")
    stepper = small_mlp_stepper()
    c = stepper.controller
    report("Step click, redraw of status, curve, table, graph", time_clicks(stepper.step_button.click, number),
           TARGET_MS)
    stepper.show_graph.value = False
    report("Step click with the graph hidden", time_clicks(stepper.step_button.click, number))
    stepper.show_graph.value = True
    stepper.run_steps.value = 100
    report("Run click, 100 steps, one redraw", time_clicks(stepper.run_button.click, max(3, number // 10)))

    print("  parts of one click:")
    report("    the training step", time_clicks(c.step, number))
    report("    status + loss curve", time_clicks(lambda: (c.status_html(), c.curve_svg()), number))
    report("    parameter table (4 heatmap pairs)", time_clicks(c.params_html, number))
    report("    graph (trace, DOT, Graphviz -> SVG)", time_clicks(lambda: (c.step(), c.graph_svg()), number))
    sizes = {name: len(getattr(stepper, name).value) for name in ("status", "curve", "params", "graph")}
    print(f"  sent per click (characters): {sizes}")

    print("\nBackwardStepper on lab 4's MLP 2-4-1 (tanh, MSE, the 4 XOR points)")
    backward = lab04_backward_stepper()

    def click():  # a step; at the end, back to the start
        if backward.done:
            backward.reset()
        backward.step_button.click()
    report("Step click: one tensor's backward, highlight, redraw", time_clicks(click, number), TARGET_MS)

    print("\nLandscape explorer, Rosenbrock, 3 optimizers")
    explorer = Explorer("Rosenbrock")
    report("Step click, redraw of 3 contour panels and the curves", time_clicks(explorer.step_button.click, number))
    explorer.run_steps.value = 100
    report("Run click, 100 steps, one redraw", time_clicks(explorer.run_button.click, max(3, number // 10)))


if __name__ == "__main__":
    main()
