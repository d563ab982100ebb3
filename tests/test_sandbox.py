"""The student's process on its own: one sandbox (the best this machine has), driven as the judge drives it."""
import numpy as np
import pytest

from labs.grading import sandbox
from labs.grading.student_process import OUTPUT_LIMIT, StudentProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def process(tmp_path_factory):
    packages = sandbox.copy_packages(tmp_path_factory.mktemp("packages") / "python")
    mode = sandbox.choose("auto", packages)
    student = StudentProcess(mode, packages, tmp_path_factory.mktemp("work"), cpu_seconds=300, seed=7)
    student.start()
    yield student
    student.stop()


def test_cells_run_seeded_with_outputs_and_errors(process):
    outcome, outputs, count = process.run_cell("import numpy as np\nprint('hi')\nnp.random.randint(10**9)", 30)
    assert outcome.status == "ok" and outputs[0] == {"output_type": "stream", "name": "stdout", "text": "hi\n"}
    np.random.seed(7)
    assert outputs[1]["data"]["text/plain"] == str(np.random.randint(10**9)) and outputs[1]["execution_count"] == count
    outcome, _, _ = process.run_cell("input('name?')", 30)
    assert outcome.status == "error" and outcome.error.startswith("StdinNotImplementedError")


def test_every_kind_of_output_is_capped(process):
    _, outputs, _ = process.run_cell("""
        from IPython.display import HTML, display
        handle = display(HTML('start'), display_id=True)
        for i in range(300):
            handle.update(HTML('y' * 10_000))
            print('x' * 10_000)""".replace("\n        ", "\n"), 30)
    assert sum(len(str(output)) for output in outputs) < OUTPUT_LIMIT + 1000
    assert "dropped the rest of this cell's output" in outputs[-1]["text"]


def test_time_limits_interrupt_then_kill_and_huge_replies_are_dropped(process):
    outcome, _, _ = process.run_cell("while True:\n    pass", 1)
    assert outcome.status == "timeout" and process.alive  # interrupted: still there, namespace kept
    assert process.run_cell("handle", 5)[0].status == "ok"
    outcome, _, _ = process.run_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", 1)
    assert outcome.status == "timeout" and not process.alive  # killed
    process.start()
    outcome, _, _ = process.run_cell("import sys\nsys.stdout = sys.__stdout__\nprint('z' * 10_000_000)", 10)
    assert outcome.status == "ok"  # printed to /dev/null: the channel is not stdout
    outcome, _, _ = process.run_cell(
        "import gc\nw = next(o for o in gc.get_objects() if type(o).__name__ == 'Worker')\n"
        "w.replies.write('z' * 10_000_000)", 3)
    assert outcome.status == "timeout"  # its reply was glued to a 10 MB line, which the judge dropped unread
