"""The widgets and the graph view in a real browser: JupyterLab and Notebook 7 on loopback, the system's
headless Chromium driven by Playwright.

A notebook builds a Stepper and an Explorer; the test runs it, clicks Step, and checks what the page shows.
Another runs lab 2's graph cells and a BackwardStepper, in JupyterLab and in Notebook 7, and measures that
the graph fits the output area.
Screenshots go to test-artifacts/ (look at them when this fails). Nothing downloads a browser: the test
uses the `chromium` on PATH (scripts/setup.sh installs it through apt) and skips, saying so, without it.
"""

import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = pathlib.Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
TOKEN = "numtorch-browser-test"

NOTEBOOK_CELLS = [
    """\
import numpy as np
import numtorch as nt
from numtorch_magics.widgets import Explorer, Stepper

np.random.seed(0)
x = np.random.randn(16, 4)
y = x.sum(axis=1, keepdims=True)
model = nt.layers.Sequential([nt.layers.Linear(4, 8), nt.layers.Tanh(), nt.layers.Linear(8, 1)])
stepper = Stepper(model, nt.layers.MSELoss(), "SGD", x, y, lr=0.05)
stepper""",
    'Explorer("Rosenbrock")',
]

LAB02 = pathlib.Path(__file__).resolve().parents[1] / "labs" / "02_autograd" / "autograd.ipynb"
BACKWARD_CELL = """\
from numtorch_magics.widgets import BackwardStepper
x = nt.Tensor(3.0, autograd=True)
y = nt.Tensor(-2.0, autograd=True)
L2 = (x * y + x) * (x * y + x)
BackwardStepper(L2, names={"x": x, "y": y, "L2": L2})"""


def graph_cells():
    """Lab 2's own setup and graph cells (the graph of section 2, drawn after backward), then a stepper."""
    lab = nbformat.read(LAB02, as_version=4)
    by_id = {c.metadata.get("numtorch", {}).get("id"): c.source for c in lab.cells}
    return [by_id["setup"].replace("import labs\n", ""), by_id["graph-build"], by_id["graph-backward"], BACKWARD_CELL]


# No news or update checks (no network, no pop-up over the notebook).
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"fetchNews": "false", "checkForUpdates": False}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Jupyter server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)  # polling a port that is not open yet: nothing to wait on
    pytest.fail(f"the Jupyter server did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, log path): JupyterLab serving a folder with the notebook, on a free loopback port."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "widgets.ipynb")
    graphs = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in graph_cells()])
    graphs.metadata["kernelspec"] = notebook.metadata["kernelspec"]
    for name in ("graph-lab.ipynb", "graph-notebook7.ipynb"):  # one each: a notebook open twice shares a kernel
        nbformat.write(graphs, root / name)
    for name, settings in LAB_SETTINGS.items():
        path = root / "settings" / name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(settings))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(root / "config"), JUPYTER_RUNTIME_DIR=str(root / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(root / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"),
               IPYTHONDIR=str(root / "ipython"))
    env.pop("NUMTORCH_GRADING", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = root / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             "--port-retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
             "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
             "--LabApp.extension_manager=readonly",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_server(f"{base}/api/status?token={TOKEN}", process, log)
        yield base, log
    finally:
        stop_server(base, process)


def stop_server(base, process):
    """Ask the server to shut down (it stops its kernels); kill its process group if it does not."""
    if process.poll() is not None:
        return
    try:
        request = urllib.request.Request(f"{base}/api/shutdown?token={TOKEN}", method="POST")
        urllib.request.urlopen(request, timeout=5).close()
        process.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (the system's)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no `chromium` on PATH: install it (apt install chromium; scripts/setup.sh does) "
                    "to run the browser test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def notebook_page(browser, lab, path, ready, width=1400, name="browser"):
    """A page with the notebook at `path` (under the server's base URL) run once; `ready` is the selector
    that shows it ran. On failure: a screenshot and the server's log."""
    base, log = lab
    page = browser.new_page(viewport={"width": width, "height": 1800})
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{base}/{path}?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        notebook = path.rsplit("/", 1)[-1]  # JupyterLab may restore other notebooks of its workspace too
        page.wait_for_function(f"window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               f" && window.jupyterapp.shell.currentWidget.context.path == '{notebook}'"
                               f" && window.jupyterapp.shell.currentWidget.sessionContext"
                               f" && window.jupyterapp.shell.currentWidget.sessionContext.session")
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_selector(ready)
        yield page
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"), full_page=True)
        print(log.read_text()[-4000:])
        raise
    finally:
        page.close()


@pytest.fixture(scope="module")
def page(browser, lab):
    """The widgets notebook, open in JupyterLab, run once."""
    with notebook_page(browser, lab, "lab/tree/widgets.ipynb", ".numtorch-stepper-widget .numtorch-status") as page:
        yield page


def status(page, widget):
    return page.locator(f".{widget} .numtorch-status")


def test_clicking_step_in_the_browser_moves_the_stepper(page):
    widget = page.locator(".numtorch-stepper-widget")
    assert status(page, "numtorch-stepper-widget").get_attribute("data-step") == "0"
    losses = []
    for step in (1, 2, 3):
        widget.locator("button.numtorch-step").click()
        page.wait_for_selector(f'.numtorch-stepper-widget .numtorch-status[data-step="{step}"]')
        losses.append(float(status(page, "numtorch-stepper-widget").get_attribute("data-loss")))
    assert losses[0] > losses[1] > losses[2], losses
    assert widget.locator(".numtorch-step-count").inner_text() == "3"
    assert "SGD, lr 0.05" in status(page, "numtorch-stepper-widget").inner_text()  # drawing the slider kept it
    graph = widget.locator(".numtorch-graph svg").first  # (the second: the full-size copy)
    graph.locator("g.node").first.wait_for()
    assert graph.locator("g.node").count() > 5 and "mse" in graph.inner_html()
    assert widget.locator(".numtorch-params svg").count() >= 4  # the matrices' heatmaps
    assert widget.locator(".numtorch-curve polyline").count() == 1
    widget.screenshot(path=str(ARTIFACTS / "stepper.png"))
    box, area = graph.bounding_box(), widget.bounding_box()
    assert box["x"] + box["width"] <= area["x"] + area["width"] + 0.5, (box, area)  # the graph fits the widget
    assert box["width"] >= 0.9 * area["width"], (box, area)  # and takes its width (it is a big graph)


def test_reset_in_the_browser_empties_the_curve(page):
    widget = page.locator(".numtorch-stepper-widget")
    widget.locator("button.numtorch-reset").click()
    page.wait_for_selector('.numtorch-stepper-widget .numtorch-status[data-step="0"]')
    assert widget.locator(".numtorch-curve polyline").count() == 0 and "press Step" in widget.inner_text()


def test_the_explorer_draws_each_optimizer_path(page):
    widget = page.locator(".numtorch-explorer-widget")
    widget.wait_for()
    widget.locator("button.numtorch-run").click()  # 10 steps
    page.wait_for_selector('.numtorch-explorer-widget .numtorch-status[data-step="10"]')
    panels = widget.locator(".numtorch-panel")
    page.wait_for_function("document.querySelectorAll('.numtorch-explorer-widget .numtorch-panel[data-step=\"10\"]')"
                           ".length == 3")  # each panel is its own widget: they arrive one by one
    assert panels.count() == 3
    assert [panels.nth(i).get_attribute("data-step") for i in range(3)] == ["10"] * 3
    assert all(panels.nth(i).locator("svg polyline").count() == 1 for i in range(3))
    assert "SGD with momentum, lr 0.0003" in panels.nth(1).inner_html()
    widget.screenshot(path=str(ARTIFACTS / "explorer.png"))
    widget.locator("select").first.select_option("quadratic bowl")  # each problem's own rates, in the browser
    page.wait_for_selector('.numtorch-explorer-widget .numtorch-status[data-step="0"]')
    page.wait_for_timeout(1000)  # time for a slider to send back a clamped rate, as it did
    widget.locator("button.numtorch-step").click()
    page.wait_for_function("document.querySelectorAll('.numtorch-explorer-widget .numtorch-panel[data-step=\"1\"]')"
                           ".length == 3")
    titles = [panels.nth(i).locator("svg text").first.text_content() for i in range(3)]
    assert titles == ["SGD, lr 0.17", "SGD with momentum, lr 0.03", "Adam, lr 0.2"], titles


# ---- the graph view: lab 2's graph fits the output area; the BackwardStepper steps ----------------------

FIT = """(graph) => {
    const output = graph.closest('.jp-OutputArea-output');
    const svg = graph.querySelector('svg');
    const box = svg.getBoundingClientRect(), area = output.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;   // CSS px per point of the drawing
    return {area: area.width, overflow: output.scrollWidth - output.clientWidth, left: box.left - area.left,
            right: area.right - box.right, width: box.width, font: 10 * scale,
            texts: Array.from(svg.querySelectorAll('text')).map(t => t.textContent)};
}"""


@pytest.mark.parametrize("ui, path", [("JupyterLab", "lab/tree/graph-lab.ipynb"),
                                      ("Notebook 7", "notebooks/graph-notebook7.ipynb")])
def test_lab_2s_graph_fits_the_output_area_and_the_backward_stepper_steps(browser, lab, ui, path):
    name = ui.lower().replace(" ", "")
    with notebook_page(browser, lab, path, ".numtorch-backward-widget .numtorch-status", width=1280,
                       name=name) as page:
        graphs = page.locator(".jp-OutputArea-output .numtorch-graph")
        graphs.nth(1).wait_for()
        fit = graphs.nth(1).evaluate(FIT)  # the graph after L.backward()
        assert fit["overflow"] <= 0 and fit["left"] >= -0.5 and fit["right"] >= -0.5, fit
        assert fit["font"] >= 8, fit  # readable: 10 pt text drawn at least 8 px tall
        assert {"L", "grad 1", "dead", "x", "grad 6"} <= set(fit["texts"]), fit["texts"]
        graphs.nth(1).screenshot(path=str(ARTIFACTS / f"lab02-graph-{name}.png"))
        graphs.nth(1).locator("summary").click()  # full size, one click away
        full = graphs.nth(1).locator("details svg")
        assert full.bounding_box()["width"] >= fit["width"] - 1

        stepper = page.locator(".numtorch-backward-widget")
        assert stepper.locator(".numtorch-status").get_attribute("data-step") == "0"
        for step in (1, 2):
            stepper.locator("button.numtorch-step").click()
            page.wait_for_selector(f'.numtorch-backward-widget .numtorch-status[data-step="{step}"]')
        assert "mul:" in stepper.locator(".numtorch-rule").inner_text() or "add:" in stepper.locator(
            ".numtorch-rule").inner_text()
        assert "grad going back now" in stepper.inner_html()
        stepper.screenshot(path=str(ARTIFACTS / f"backward-stepper-{name}.png"))
        stepper.locator("button.numtorch-run").click()
        page.wait_for_selector('.numtorch-backward-widget .numtorch-status[data-done="true"]')
        assert "grad 6" in stepper.locator("svg").first.inner_html().replace("&#45;", "-") or \
            "grad 6" in stepper.inner_text()
