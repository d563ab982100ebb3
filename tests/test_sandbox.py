"""The student's process on its own: one sandbox (the best this machine has), driven as the judge drives it."""
import os
import pwd
import signal
import subprocess
import tempfile
import time
from pathlib import Path

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


def test_the_user_sandbox_needs_a_private_autograder_folder(tmp_path):
    (tmp_path / "lab").mkdir()
    tmp_path.chmod(0o755)
    (tmp_path / "lab").chmod(0o755)
    assert sandbox.open_to_others(tmp_path / "lab") == all(p.stat().st_mode & 0o001 for p in tmp_path.parents)
    (tmp_path / "lab").chmod(0o700)
    assert not sandbox.open_to_others(tmp_path / "lab")


def test_student_uids_are_unused_and_distinct():
    uids = sandbox.student_uids(3)
    assert len(set(uids)) == 3 and all(uid >= sandbox.FIRST_UID for uid in uids)
    accounts = {entry.pw_uid for entry in pwd.getpwall()}
    assert not accounts & set(uids) and not set(sandbox._uids_of_processes().values()) & set(uids)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can run a process as another user id")
def test_kill_user_ends_every_process_of_the_id_setsid_children_included():
    """The user sandbox's last word where no pids cgroup can be made: its setsid children escape the session."""
    (uid,) = sandbox.student_uids(1)
    script = "setsid sleep 300 & setsid sh -c 'sleep 300 & sleep 300' & sleep 300"
    parent = subprocess.Popen(["/bin/sh", "-c", script], preexec_fn=lambda: sandbox.limit(60, None, uid),
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while sum(owner == uid for owner in sandbox._uids_of_processes().values()) < 5:
            assert time.monotonic() < deadline, "the processes did not start"
            time.sleep(0.05)
        os.killpg(parent.pid, signal.SIGKILL)  # what stop() does first: the setsid ones survive it
        parent.wait()
        time.sleep(0.2)
        assert any(owner == uid for owner in sandbox._uids_of_processes().values())
        sandbox.kill_user(uid)
        assert not [pid for pid, owner in sandbox._uids_of_processes().items() if owner == uid]
    finally:
        sandbox.kill_user(uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can run a process as another user id")
def test_remove_files_of_deletes_what_a_user_sandbox_left_where_everyone_may_write(tmp_path):
    """Files, a folder and links the student's id wrote in /tmp and /dev/shm go; a link's target and
    everybody else's files stay."""
    (uid,) = sandbox.student_uids(1)
    theirs = tmp_path / "not-theirs.txt"
    theirs.write_text("keep")
    mine = Path(tempfile.mkdtemp(prefix="numtorch-keep-"))  # root's, in /tmp: stays
    script = (f"echo x > /tmp/numtorch-left-{uid}; mkdir /tmp/numtorch-dir-{uid}; echo y > /tmp/numtorch-dir-{uid}/f; "
              f"ln -s {theirs} /tmp/numtorch-link-{uid}; echo z > /dev/shm/numtorch-left-{uid}")
    subprocess.run(["/bin/sh", "-c", script], preexec_fn=lambda: sandbox.limit(60, None, uid), check=True)
    left = [Path(f"/tmp/numtorch-{kind}-{uid}") for kind in ("left", "dir", "link")]
    left.append(Path(f"/dev/shm/numtorch-left-{uid}"))
    assert all(path.exists() or path.is_symlink() for path in left)
    sandbox.remove_files_of(uid)
    assert not [path for path in left if path.exists() or path.is_symlink()]
    assert theirs.read_text() == "keep" and mine.is_dir()
    mine.rmdir()
