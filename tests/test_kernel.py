"""The magics in a real kernel through nbclient, and the NumTorch kernelspec: two kernel starts in all."""

import re
import sys

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from numtorch_magics.kernel import DISPLAY_NAME, main
from numtorch_magics.render import render

pytestmark = pytest.mark.slow
# Each graph shows as SVG, or, without Graphviz (dot or pygraphviz), as the renderer's HTML fallback.
PICTURE = "image/svg+xml" if render("digraph { a -> b }")[0] is not None else "text/html"

TWO_BACKWARDS = """\
w = nt.Tensor([1.0, 2.0], autograd=True)
loss = (w * w).sum()
loss.backward()
loss = (w * 3).sum()
loss.backward()
loss.item()"""
FAILING = "%%numtorch\nw = nt.Tensor([1.0], autograd=True)\n(w * 2).backward()\nundefined_in_cell + 1"


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def execute(nb, **client_options):
    """Run the notebook (as the grader does: NUMTORCH_GRADING=1) and return the error that stopped it, if any."""
    client = NotebookClient(nb, timeout=60, **client_options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NUMTORCH_GRADING", "1")  # the kernel inherits it: nothing may wait
        try:
            client.execute()
        except CellExecutionError as error:
            return error
    return None


def pictures(cell):
    return sum(PICTURE in o.get("data", {}) for o in cell.outputs)


@pytest.fixture(scope="module")
def loaded():
    """A notebook with %load_ext and %%numtorch cells, ending with a failing %%numtorch cell."""
    nb = notebook("%load_ext numtorch_magics", "%%numtorch\n" + TWO_BACKWARDS, "%%numtorch --last\n" + TWO_BACKWARDS,
                  FAILING, "print('never runs')")
    return nb, execute(nb, kernel_name="python3")


def test_each_backward_shows_a_picture(loaded):
    nb, _ = loaded
    both, last = nb.cells[1], nb.cells[2]
    assert pictures(both) == 2 and pictures(last) == 1
    assert [o.data["text/plain"] for o in both.outputs if o.output_type == "execute_result"] == ["9.0"]


def test_an_error_in_a_numtorch_cell_fails_the_execution(loaded):
    nb, error = loaded
    assert isinstance(error, CellExecutionError) and error.ename == "NameError"
    failing = nb.cells[3]
    assert pictures(failing) == 1  # the graph drawn before the error is still shown (after the traceback)
    error_output = next(o for o in failing.outputs if o.output_type == "error")
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error_output.traceback))
    assert "----> 4 undefined_in_cell + 1" in traceback
    assert "run_cell_magic" not in traceback  # it starts at the student's line
    assert nb.cells[4].outputs == []


def test_the_numtorch_kernel_preloads_the_extension(tmp_path, capsys):
    main(["install-kernel", "--prefix", str(tmp_path), "--name", "numtorch-test"])
    assert "numtorch-test" in capsys.readouterr().out
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "share" / "jupyter" / "kernels")])
    spec = specs.get_kernel_spec("numtorch-test")
    assert spec.display_name == DISPLAY_NAME and spec.argv[0] == sys.executable

    nb = notebook("%%numtorch\n" + TWO_BACKWARDS, "'numtorch_magics' in get_ipython().extension_manager.loaded")
    error = execute(nb, km=KernelManager(kernel_name="numtorch-test", kernel_spec_manager=specs))
    assert error is None
    assert pictures(nb.cells[0]) == 2
    assert nb.cells[1].outputs[0].data["text/plain"] == "True"
