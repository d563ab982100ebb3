"""NumTorch on Google Colab's notebook stack: IPython 7.34.0, ipywidgets 7.7.1, ipykernel 6.17.1, notebook
6.5.7 (and jupyter-client 6.1.12), in their own virtual environment (scripts/colab_env.py, cached by pins),
with the wheel students install. Colab's Python is 3.13; this environment uses the dev environment's Python
(3.11 here), so a problem only Python 3.13 has would not show.

The module holds a lock on the cached environment: it reinstalls NumTorch there, and a test uninstalls it to
run a lab notebook's install cell as a Colab student would.
"""

import fcntl
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from labs.grading.lab import load_lab
from labs.grading.release import student_notebook

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
COLAB_ENV = importlib.util.spec_from_file_location("colab_env", REPO / "scripts" / "colab_env.py")
colab_env = importlib.util.module_from_spec(COLAB_ENV)  # a script (stdlib only), not a package
COLAB_ENV.loader.exec_module(colab_env)

TOKEN = "numtorch-colab-test"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
GRAPH_CELL = """\
%%numtorch
w = nt.tensor([[0.5], [-0.3]], requires_grad=True, name="w")
x = nt.tensor([[1.0, 2.0]])
loss = ((x @ w).tanh() - 1.0) ** 2
loss.backward()"""
STEPPER_CELL = """\
np.random.seed(0)
x = np.random.randn(16, 4)
y = x.sum(axis=1, keepdims=True)
model = nt.layers.Sequential([nt.layers.Linear(4, 8), nt.layers.Tanh(), nt.layers.Linear(8, 1)])
stepper = Stepper(model, nt.layers.MSELoss(), "SGD", x, y, lr=0.05)
stepper"""


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """(the Colab environment's folder, the folder of the NumTorch wheel installed in it)."""
    wheels = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(REPO)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = wheels.glob("numtorch-*.whl")
    env = colab_env.env_path()
    env.parent.mkdir(parents=True, exist_ok=True)
    with open(env.parent / f"{env.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one test session at a time installs into it
        colab_env.build(env)
        colab_env.install(env, wheel)
        yield env, wheel


def run(env, *args, cwd, extra_env=None, check=True):
    """Run the Colab environment's python with `args`, away from the repository (no source tree on sys.path)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMTORCH_GRADING", "VIRTUAL_ENV")}
    environ.update(JUPYTER_CONFIG_DIR=str(cwd / ".jupyter"), JUPYTER_RUNTIME_DIR=str(cwd / ".runtime"),
                   IPYTHONDIR=str(cwd / ".ipython"), PATH=f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}",
                   **(extra_env or {}))  # `!pip` in a cell is this environment's pip, as in Colab
    done = subprocess.run([str(env / "bin" / "python"), *args], cwd=cwd, env=environ, capture_output=True, text=True)
    assert not check or done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done


def execute(env, notebook, folder, kernel, extra_env=None):
    """Execute `notebook` in `folder` with the environment's nbclient and `kernel`; return the executed notebook."""
    path = folder / "run.ipynb"
    nbformat.write(notebook, path)
    script = ("import sys, nbformat; from nbclient import NotebookClient\n"
              "nb = nbformat.read(sys.argv[1], 4)\n"
              f"NotebookClient(nb, timeout=300, kernel_name={kernel!r}, allow_errors=True).execute()\n"
              "nbformat.write(nb, sys.argv[1])")
    run(env, "-c", script, str(path), cwd=folder, extra_env=extra_env)
    return nbformat.read(path, 4)


def outputs(cell):
    """Everything a cell showed, as one string per output (text, HTML, SVG, widget views, errors)."""
    shown = []
    for output in cell.outputs:
        if output.output_type == "stream":
            shown.append(output.text)
        elif output.output_type == "error":
            shown.append(f"{output.ename}: {output.evalue}")
        else:
            shown += [json.dumps(v) if isinstance(v, dict) else v for v in output.get("data", {}).values()]
    return shown


def code_notebook(*cells):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def test_the_environment_runs_colabs_versions_and_the_installed_wheel(colab, tmp_path):
    env, _ = colab
    script = ("import IPython, ipywidgets, ipykernel, notebook, jupyter_client, numtorch\n"
              "print(IPython.__version__, ipywidgets.__version__, ipykernel.__version__, notebook.__version__,"
              " jupyter_client.__version__, numtorch.__file__)")
    *versions, numtorch_file = run(env, "-c", script, cwd=tmp_path).stdout.split()
    assert versions == ["7.34.0", "7.7.1", "6.17.1", "6.5.7", "6.1.12"]
    assert Path(numtorch_file).is_relative_to(env) and not Path(numtorch_file).is_relative_to(REPO)


# Tests of the graph view's own files that check something IPython 7.34 / ipywidgets 7.7 do differently, and why.
DIFFERENT_ON_COLAB = {
    # IPython 7 heads a traceback "<ipython-input-6-...>" where IPython 8 writes "Cell In[6], line 4"
    "test_an_error_fails_the_cell_with_its_own_lines_and_keeps_the_graphs_so_far": "traceback header",
    "test_the_traceback_starts_at_the_students_line": "traceback header",
    # with IPython 7.34 / ipykernel 6.17 the graph of a failing %%numtorch cell shows below the traceback
    "test_an_error_in_a_numtorch_cell_fails_the_execution": "output order",
    # a widget without a kernel (a headless test) syncs nothing under ipywidgets 7, so no message to count
    "test_switching_problems_sends_each_slider_its_new_range_and_rate_at_once": "headless sync",
}


def test_the_magics_and_widgets_tests_pass_there(colab, tmp_path):
    env, _ = colab
    tests = [str(REPO / "tests" / name) for name in ("test_magics.py", "test_widgets.py", "test_kernel.py")]
    skip = " and ".join(f"not {name}" for name in DIFFERENT_ON_COLAB)
    done = run(env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-k", skip, *tests,
               cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout[-6000:]


def test_the_numtorch_kernel_in_a_fresh_prefix_draws_and_steps(colab, tmp_path):
    env, _ = colab
    shutil.rmtree(env / "share" / "jupyter" / "kernels" / "numtorch", ignore_errors=True)
    run(env, "-m", "numtorch_magics", "install-kernel", "--sys-prefix", cwd=tmp_path)
    spec = json.loads((env / "share" / "jupyter" / "kernels" / "numtorch" / "kernel.json").read_text())
    assert spec["argv"][0] == str(env / "bin" / "python")
    assert spec["argv"][spec["argv"].index("-m") + 1] == "ipykernel_launcher"  # the environment's own ipykernel
    # VS Code asks a kernel whose kernelspec says language "python" for its ipywidgets version (with the code
    # below) and assumes ipywidgets 8 for any other kernel, which breaks ipywidgets 7 (vscode-jupyter,
    # src/kernels/kernel.ts, determineVersionOfIPyWidgets): the NumTorch kernel must say python and answer 7.7.1.
    assert spec["language"] == "python"
    vscode_probe = ("try:\n    import ipywidgets as _VSCODE_ipywidgets\n"
                    "    print('version:' + _VSCODE_ipywidgets.__version__)\n    del _VSCODE_ipywidgets\n"
                    "except:\n    pass")

    notebook = code_notebook("import numpy as np\nimport numtorch as nt\nfrom numtorch_magics.widgets import Stepper",
                             GRAPH_CELL, STEPPER_CELL,
                             "for _ in range(3):\n    stepper.step_button.click()\n"
                             "print(stepper.controller.steps, [round(l, 6) for l in stepper.controller.losses])",
                             vscode_probe)
    ran = execute(env, notebook, tmp_path, kernel="numtorch")
    graph, shown, clicked, probe = (outputs(cell) for cell in ran.cells[1:])
    assert probe == ["version:7.7.1\n"]
    assert not [o for cell in ran.cells for o in cell.outputs if o.output_type == "error"]
    assert any(o.lstrip().startswith("<svg") or "<svg" in o for o in graph) and any("tanh" in o for o in graph)
    assert any("application/vnd.jupyter.widget-view+json" in json.dumps(o.get("data", {}))
               for o in ran.cells[2].outputs), shown
    steps, losses = clicked[0].split(" ", 1)
    losses = json.loads(losses)
    assert steps == "3" and len(losses) == 3 and losses[0] > losses[1] > losses[2]


def test_a_lab_notebook_installs_numtorch_and_fetches_its_files_in_colab(colab, tmp_path):
    """The released notebook's first cells, run where NumTorch is missing (pip finds the wheel locally)."""
    env, wheel = colab
    run(env, "-m", "pip", "uninstall", "--yes", "--quiet", "numtorch", cwd=tmp_path)
    try:
        cells = [c for c in student_notebook(load_lab(REPO / "labs" / "01_tensors")).cells if c.cell_type == "code"]
        notebook = code_notebook(cells[0].source, cells[1].source, 'labs.check("make")')
        pip_here = {"PIP_FIND_LINKS": str(wheel.parent), "PIP_NO_INDEX": "1"}
        ran = execute(env, notebook, tmp_path, kernel="python3", extra_env=pip_here)
        install, setup, check = ("".join(outputs(cell)) for cell in ran.cells)
        assert "NumTorch is not installed here: installing numtorch[notebook]" in install
        assert f"fetched lab 01_tensors's public tests and files into {tmp_path}" in install
        assert "Error" not in install + setup
        assert (tmp_path / "tests" / "public").is_dir() and "make: public tests" in check and "❌" in check
    finally:
        colab_env.install(env, wheel)


def test_the_readmes_two_colab_lines_give_the_graph_view(colab, tmp_path):
    """The README's "Use in Google Colab" lines, verbatim (installing from nothing is the test above's job)."""
    env, wheel = colab
    section = (REPO / "README.md").read_text().split("## Use in Google Colab", 1)[1]
    lines = re.search(r"```\n(.*?)```", section, re.S).group(1).strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("!pip install")
    ran = execute(env, code_notebook(*lines, "import numtorch as nt", GRAPH_CELL), tmp_path, kernel="python3",
                  extra_env={"PIP_FIND_LINKS": str(wheel.parent), "PIP_NO_INDEX": "1"})
    assert not [o for cell in ran.cells for o in cell.outputs if o.output_type == "error"]
    assert any("<svg" in o for o in outputs(ran.cells[3]))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_classic_notebook_renders_the_graph_and_clicks_the_stepper(colab, tmp_path):
    """Colab's widget manager is closest to classic Notebook 6.5's: the graph view and a Stepper in a browser."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no `chromium` on PATH: install it (apt install chromium; scripts/setup.sh does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    env, _ = colab
    nbformat.write(code_notebook("%load_ext numtorch_magics\nimport numpy as np\nimport numtorch as nt\n"
                                 "from numtorch_magics.widgets import Stepper", GRAPH_CELL, STEPPER_CELL),
                   tmp_path / "colab.ipynb")
    port, log = free_port(), tmp_path / "server.log"
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMTORCH_GRADING")}
    environ.update(JUPYTER_CONFIG_DIR=str(tmp_path / ".jupyter"), JUPYTER_RUNTIME_DIR=str(tmp_path / ".runtime"),
                   IPYTHONDIR=str(tmp_path / ".ipython"))
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(env / "bin" / "jupyter"), "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             "--port-retries=0", f"--NotebookApp.token={TOKEN}", f"--notebook-dir={tmp_path}",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            cwd=tmp_path, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/api/status?token={TOKEN}", server, log)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(90_000)
            console = []
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
            try:
                widget = open_and_run(page, f"{base}/notebooks/colab.ipynb?token={TOKEN}")
                # the widget's parts are HTML widgets that render (and re-render) on their own: wait for each
                page.wait_for_selector('.numtorch-stepper-widget .numtorch-status[data-step="0"]')
                widget.locator("button.numtorch-step").click()
                page.wait_for_selector('.numtorch-stepper-widget .numtorch-status[data-step="1"]')
                widget.locator("button.numtorch-step").click()
                page.wait_for_selector('.numtorch-stepper-widget .numtorch-status[data-step="2"]')
                widget.locator(".numtorch-graph svg").first.wait_for()
            except Exception:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "colab-notebook6-failure.png"), full_page=True)
                (ARTIFACTS / "colab-notebook6-console.txt").write_text("\n".join(console))
                raise
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def open_and_run(page, url):
    """Open the notebook, wait until the widget manager has loaded what the kernel holds, run all the cells,
    check the graph, and return the Stepper's locator.

    The wait is what a student does anyway (the page shows before they click Run All), and it matters: on
    start, classic Notebook's widget manager (widgetsnbextension 3, ipywidgets 7) asks the kernel for its
    widgets, first on the "jupyter.widget.control" comm and, when the kernel has not imported ipywidgets
    yet, by a comm_info request. Cells run before that request is answered put it behind them in the
    kernel's queue: the answer then lists the Stepper's own widgets, which the manager opens a second
    time, and the Stepper shows nothing or stops updating (one run in two here under load)."""
    replies = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda frame: replies.extend(
        re.findall(r'"msg_type": ?"comm_info_reply"|"method": ?"update_states"', str(frame)))))
    page.goto(url)
    page.wait_for_function("window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
                           " && Jupyter.notebook.kernel.is_connected()"
                           " && Jupyter.notebook.kernel.comm_manager.targets['jupyter.widget'] !== undefined")
    deadline = time.monotonic() + 60
    while not replies:  # Playwright delivers the frames while the page waits
        assert time.monotonic() < deadline, "the widget manager never heard back from the kernel about its widgets"
        page.wait_for_timeout(100)
    page.evaluate("Jupyter.notebook.execute_all_cells()")
    page.locator(".output_area svg").first.wait_for()
    assert "tanh" in page.locator(".output_area").nth(0).inner_html() or "tanh" in page.content()
    widget = page.locator(".numtorch-stepper-widget")
    widget.wait_for()
    return widget


def wait_for(url, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the notebook server exited:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)  # the server is not listening yet
    pytest.fail(f"the notebook server did not answer within {timeout} s:\n{log.read_text()[-3000:]}")
