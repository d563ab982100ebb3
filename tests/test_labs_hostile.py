"""Hostile submissions of the example lab, graded from a checkout (solutions and hidden tests on disk), -j 2.

One batch grades a solved notebook, a classmate's copy of it and one submission per class of attack in
issue 10 (forgery, leaks, sabotage, crashes). Each test asserts the attacker's fair score, that nothing
secret reached anything the student can read, that the honest submissions are graded exactly as when
graded alone, and that grades.csv has every row. docs/grading.md's threat model points here.
"""
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from machines import like_gradescope, skip_without_namespaces
from test_labs_grading import FULL, cell, expect, solved

from labs.cli import main
from labs.grading import sandbox
from labs.grading.lab import load_lab
from labs.grading.release import student_notebook

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "labs" / "_example"
SECRETS = ("rng.normal(size=(2, 3))", "BEGIN SOLUTION\\n")  # a line of the hidden tests; the solutions' JSON
MARKER = "numtorch-hostile-child"  # in the command line of the saboteur's setsid child

FORGER = """
import builtins, gc, os, sys
import numpy
numpy._core.numeric.isclose = numpy.isclose = numpy.allclose = lambda *args, **kwargs: True
try:
    import _pytest.python
    _pytest.python.pytest_pyfunc_call = lambda *args, **kwargs: True
except ImportError:
    pass
real_import = builtins.__import__
builtins.__import__ = lambda name, *args, **kwargs: real_import(name, *args, **kwargs)
for thing in gc.get_objects():
    if callable(thing) and getattr(thing, "__name__", "").startswith("test_") and hasattr(thing, "__code__"):
        thing.__code__ = (lambda *args, **kwargs: None).__code__
import labs.grading.snippet
labs.grading.snippet.answer = lambda namespace, request: {"ok": True, "result": True}
forged = "".join(json_line for json_line in (
    '{"id": %d, "reply": {"ok": true, "result": true}, "status": "ok", "outputs": []}\\n' % n for n in range(1, 400)))
for fd in range(3, 30):
    try:
        os.write(fd, forged.encode())
    except OSError:
        pass
frame = sys._getframe()
while frame:
    for value in list(frame.f_locals.values()):
        if isinstance(value, str) and value.endswith(".jsonl"):
            open(value, "a").write('{"event": "result", "passed": true}\\n')
    frame = frame.f_back

class Always:
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False

def relu(x):
    return Always()

def mse(pred, target):
    return Always()

def sgd_step(w, grad, lr):
    return Always()
"""

LEAKER = """
import os, sys
secrets = [secret[::-1] for secret in %r]
found = []
for root, folders, files in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/dev", "/usr")) or ".venv" in root or ".pyenv" in root:
        folders[:] = []  # the system and the Python environment (read-only, the same for every student)
        continue
    for name in files:
        try:
            with open(os.path.join(root, name), errors="ignore") as file:
                text = file.read(1_000_000)
        except OSError:
            continue
        if any(secret in text for secret in secrets):
            found.append(os.path.join(root, name))
commands = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        commands.append(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
    except OSError:
        pass
modules = [name for name in sys.modules if "hidden" in name or "test_example" in name]
print("LEAKS", found, modules, [c for c in commands if "judge" in c or "pytest" in c or "labs" in c and "worker" not in c])

def relu(x):
    raise ValueError(f"found {found} {modules} {commands}")
""" % [secret[::-1] for secret in SECRETS]

SABOTEUR = """
import glob, os, signal, subprocess, sys
planted = []
for folder in {os.getcwd(), "/tmp", os.path.expanduser("~"), "/opt/numtorch", sys.prefix, "/autograder/source"}:
    try:
        with open(os.path.join(folder, "numpy.py"), "w") as file:
            file.write("raise SystemExit('sabotaged')\\n")
        planted.append(folder)
    except OSError:
        pass
overwritten = []
for root, folders, files in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/dev", "/usr")) or ".venv" in root or ".pyenv" in root:
        folders[:] = []
        continue
    for name in files:
        if name.endswith((".ipynb", ".json", ".py", ".csv")) and name != "numpy.py":
            try:
                with open(os.path.join(root, name), "a") as file:
                    file.write("sabotaged")
                overwritten.append(os.path.join(root, name))
            except OSError:
                pass
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "%s"], start_new_session=True)
mine = {child.pid, *map(int, os.listdir("/proc/self/task"))}  # its own threads: stopping them stops itself
for pid in range(1, 1 << 15):
    if pid not in mine:
        for signum in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(pid, signum)
            except OSError:
                pass
print("SABOTAGE", sorted(planted), overwritten)
""" % MARKER

KILLER = """
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "%s"], start_new_session=True)
mine = {os.getpid(), child.pid, *map(int, os.listdir("/proc/self/task"))}
signalled, deadline = set(), time.time() + 12
while time.time() < deadline:  # whatever starts meanwhile too: a classmate's process, the judge's next one
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        if pid not in mine:
            for signum in (signal.SIGSTOP, signal.SIGKILL):
                try:
                    os.kill(pid, signum)
                    signalled.add(pid)
                except OSError:
                    pass
    time.sleep(0.02)
print("KILLED", len(signalled))
""" % MARKER

CRASHER = {  # scratch cells, each after the solved answers: none of them may cost a point
    "memory": "hog = bytearray(16 * 2**30)",
    "file_size": "open('big.bin', 'wb').write(b'x' * 2**30)",
    "disk": """
        import os
        full = {}
        for folder in (os.getcwd(), "/tmp", "/dev/shm", "/dev"):
            try:
                for k in range(20):  # 640 MB at most, more than the sandbox's tmpfs hold
                    with open(os.path.join(folder, f"fill{k}"), "wb") as file:
                        file.write(b"x" * 2**25)
            except OSError as error:
                full[folder] = error.strerror
            finally:  # (the test's own tidiness: an attacker would leave them)
                for k in range(20):
                    try:
                        os.remove(os.path.join(folder, f"fill{k}"))
                    except OSError:
                        pass
        raise RuntimeError(f"DISK {full}")""",
    "display_updates": """
        from IPython.display import HTML, display
        handle = display(HTML('start'), display_id=True)
        for i in range(3000):
            handle.update(HTML('y' * 100_000))""",
    "forks": """
        import os, time
        for i in range(2000):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)""",
    "huge_reply": """
        import gc, sys
        worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker")
        worker.send({"id": 10**6, "padding": "z" * 20_000_000})
        worker.replies.write("z" * 30_000_000)""",
}


def with_cells(notebook, *sources):
    """`notebook` with scratch cells appended after the ex3 answer."""
    import textwrap

    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    at = notebook.cells.index(cell(notebook, "ex3-answer")) + 1
    notebook.cells[at:at] = [nbformat.v4.new_code_cell(textwrap.dedent(source)) for source in sources]
    return notebook


def submissions(blank):
    return {
        "solved": solved(blank),
        "classmate": solved(blank),
        "forger": solved(blank, ex1=FORGER, ex2="", ex3=""),
        "leaker": solved(blank, ex1=LEAKER),
        "saboteur": with_cells(solved(blank), SABOTEUR),
        "crasher": with_cells(solved(blank), *CRASHER.values()),
    }


def grade(paths, out, *options):
    with pytest.raises(SystemExit) as exit:
        main(["grade", str(EXAMPLE), *map(str, paths), "--out", str(out), "--timeout", "20", *options])
    return exit.value.code


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    """({name: results folder}, grades.csv rows, {name: file hash before}, the solved result graded alone)."""
    lab = load_lab(EXAMPLE)
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for name, notebook in submissions(student_notebook(lab)).items():
        paths[name] = folder / f"{name}.ipynb"
        nbformat.write(notebook, paths[name])
    before = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items()}
    checkout = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in EXAMPLE.rglob("*.*") if path.is_file()}
    results = folder / "results"
    assert grade(paths.values(), results, "-j", "2", "--sandbox", "require") == 0
    (folder / "alone").mkdir()
    shutil.copy(paths["solved"], folder / "alone" / "solved.ipynb")
    assert grade([folder / "alone" / "solved.ipynb"], folder / "alone-results") == 0
    with open(results / "grades.csv", newline="") as table:
        rows = {row["submission"]: row for row in csv.DictReader(table)}
    assert checkout == {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in checkout}
    return results, rows, before, paths, folder / "alone-results" / "solved"


def result(results, name):
    return json.loads((results / name / "results.json").read_text())


def everything_written(results, name):
    return "".join(path.read_text() for path in (results / name).iterdir())


def graded_the_same(results_json):
    """results.json but for what differs between two gradings of one notebook: the time taken and where its file was."""
    same = {k: v for k, v in results_json.items() if k != "execution_time"}
    same["extra_data"] = {k: v for k, v in same["extra_data"].items() if k != "submission"}
    return same


def test_honest_submissions_are_unaffected_and_grades_csv_is_complete(hostile):
    results, rows, before, paths, alone = hostile
    assert set(rows) == {"solved", "classmate", "forger", "leaker", "saboteur", "crasher"}
    for name in ("solved", "classmate"):
        expect(result(results, name))
        assert hashlib.sha256(paths[name].read_bytes()).hexdigest() == before[name]  # nobody overwrote it
    assert graded_the_same(result(results, "solved")) == graded_the_same(json.loads((alone / "results.json").read_text()))
    assert (results / "solved" / "feedback.md").read_text() == (alone / "feedback.md").read_text()


def test_forgery_scores_nothing(hostile):
    """Patched numpy/pytest internals, an __import__ hook, __code__ swaps through gc, forged replies and report
    lines, an always-equal object: all of it happens in the student's own process, which decides nothing."""
    results, rows, *_ = hostile
    forger = result(results, "forger")
    assert forger["score"] == 0 and rows["forger"]["total"] == "0", forger["output"]


def test_nothing_secret_is_readable_from_the_sandbox(hostile):
    """No hidden test, solution, judge or grader command line is visible: on disk, in /proc, in sys.modules."""
    results, *_ = hostile
    leaker = result(results, "leaker")
    expect(leaker, ex1=0)
    graded = everything_written(results, "leaker")
    assert "LEAKS [] [] []" in graded, graded[:2000]
    for name in ("leaker", "forger", "saboteur", "crasher"):
        text = everything_written(results, name)
        assert not any(secret in text for secret in SECRETS) and "def test_" not in text


def test_sabotage_reaches_nothing_outside_its_own_sandbox(hostile):
    """Planted numpy.py files, overwritten notebooks and tests, a setsid child, SIGSTOP/SIGKILL to every pid:
    the saboteur only hurts its own folder, and its child does not outlive its grading."""
    results, rows, *_ = hostile
    expect(result(results, "saboteur"))
    assert "SABOTAGE ['/home/student', '/tmp'] []" in everything_written(results, "saboteur")
    time.sleep(1)
    assert not survivors()


def survivors():
    """The processes left of the hostile children (MARKER in their command line)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            found += [pid] * (MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:
            pass
    return found


def test_crashes_and_floods_cost_nothing(hostile):
    """Memory, process, file-size and disk bombs, a flood of update_display_data and an oversized reply line."""
    results, *_ = hostile
    crasher = result(results, "crasher")
    expect(crasher)
    for error in ("MemoryError", "File too large"):
        assert error in crasher["output"], crasher["output"]
    full = "No space left on device"  # every folder it can write is a tmpfs of a fixed size: not the disk, not RAM
    assert (f"DISK {{'/home/student': '{full}', '/tmp': '{full}', '/dev/shm': '{full}', "
            f"'/dev': 'Read-only file system'}}") in crasher["output"], crasher["output"]
    limited = os.geteuid() != 0 or Path("/sys/fs/cgroup/pids").is_dir()  # RLIMIT_NPROC, or a pids cgroup
    assert "Resource temporarily unavailable" in crasher["output"] or not limited
    assert (results / "crasher" / "graded.ipynb").stat().st_size < 1_000_000


def test_require_refuses_without_a_sandbox(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sandbox, "works", lambda mode, packages: mode == "none")
    assert grade([EXAMPLE / "example.ipynb"], tmp_path / "r", "--sandbox", "require") == 2
    assert "--sandbox require: neither bubblewrap" in capsys.readouterr().err
    assert grade([EXAMPLE / "example.ipynb"], tmp_path / "r") == 0
    said = json.loads((tmp_path / "r" / "example" / "results.json").read_text())
    assert said["score"] == sum(FULL.values()) and "not sandboxed" in said["output"]
    assert "not sandboxed" in capsys.readouterr().err
    with open(tmp_path / "r" / "grades.csv", newline="") as table:
        assert "not sandboxed" in next(csv.DictReader(table))["notes"]


def test_the_unprivileged_user_fallback(tmp_path, capsys):
    """Without bubblewrap (Gradescope's container): the student's process runs as an unused user id, one per
    judge, which cannot read the autograder copy (mode 700, as run_autograder makes it) nor anything else that
    is not world-readable, nor signal a classmate's process graded beside it (-j 2); its setsid child dies
    with it.

    Where such a user cannot run this Python only because it lives in a folder closed to others (pyenv in /root,
    as here and in CI), the test runs itself again as root in a private mount namespace in which that folder
    is open and holds nothing but the Python (tests/machines.py), as on Gradescope's image, whose Python is
    in /usr. Everything else is the real fallback."""
    if not sandbox.works("user", str(sandbox.copy_packages(tmp_path / "packages"))):
        if os.geteuid() == 0 and not os.environ.get(REOPENED):
            return _rerun_with_python_open_to_others("test_the_unprivileged_user_fallback", tmp_path)
        pytest.skip("an unprivileged user cannot run this Python here (not root, or Python lives in root's home)")
    shown = Path(tempfile.mkdtemp(prefix="numtorch-shown-"))  # a folder others can enter, unlike tmp_path's
    try:
        shown.chmod(0o755)
        lab = shown / "lab"
        shutil.copytree(EXAMPLE, lab)
        leaker = LEAKER.replace('os.walk("/")', f"os.walk({str(shown)!r})")  # all of / takes a minute there
        blank = student_notebook(load_lab(lab))
        for name, notebook in (("solved", solved(blank)), ("leaker", solved(blank, ex1=leaker))):
            nbformat.write(notebook, tmp_path / f"{name}.ipynb")
        nbformat.write(with_cells(solved(blank), "import time\ntime.sleep(4)"), tmp_path / "slow.ipynb")
        nbformat.write(with_cells(solved(blank), KILLER), tmp_path / "killer.ipynb")
        command = ["grade", str(lab), *(str(tmp_path / f"{name}.ipynb") for name in ("solved", "leaker", "slow", "killer")),
                   "--out", str(tmp_path / "r"), "--sandbox", "user", "-j", "2"]
        with pytest.raises(SystemExit) as refused:  # the lab is readable by others: nothing runs
            main(command)
        assert refused.value.code == 2 and "make it private first" in capsys.readouterr().err
        assert not (tmp_path / "r" / "leaker").exists()
        lab.chmod(0o700)
        with pytest.raises(SystemExit):
            main(command)
    finally:
        shutil.rmtree(shown)
    expect(result(tmp_path / "r", "solved"))
    expect(result(tmp_path / "r", "leaker"), ex1=0)
    expect(result(tmp_path / "r", "slow"))  # graded beside the killer, which signals every process it may
    killer = result(tmp_path / "r", "killer")
    expect(killer)
    assert "KILLED 0" in everything_written(tmp_path / "r", "killer")  # no process it was allowed to signal
    assert not survivors()  # its setsid child: killed with every process of its user id, no cgroup needed
    graded = everything_written(tmp_path / "r", "leaker")
    assert "LEAKS [] []" in graded, graded[:2000]  # no file holding a secret, no test module in its process
    assert not any(secret in graded for secret in SECRETS)


REOPENED = "NUMTORCH_TEST_PYTHON_REOPENED"


def _rerun_with_python_open_to_others(test, tmp_path):
    """Run `test` of this module again where this Python is open to other users (tests/machines.py)."""
    command = like_gradescope([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               f"--basetemp={tmp_path / 'inside'}", f"{__file__}::{test}"],
                              [*sandbox.python_roots(), REPO])  # the checkout too, should it be in /root
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ, REOPENED: "1"},
                          timeout=600)
    skip_without_namespaces(done)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-5000:] + done.stderr[-3000:]
