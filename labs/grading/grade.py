"""Grade submissions: read and restore each notebook here, then run and test it in a judge and a sandbox.

The pipeline of one submission (docs/grading.md has the threat model):

    read (lab.read_notebook) -> restore (restore.restore) -> run in the sandbox and test (judge.py, in a judge
    process) -> Grade (report.py writes it)

The judge is trusted: a process of the grader's own (`python -m labs.grading.judge`) that the student's
sandboxed process can neither see nor signal. `-j N` keeps N judges, each grading one submission at a time;
a judge that fails or runs past its hard time limit is replaced, and its submission gets a Grade that
says the grader had a problem. The score comes from the judge's tests and from each cell's outcome, never
from anything the student's process claims about them.
"""
import hashlib
import json
import os
import queue
import select
import shutil
import subprocess
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic

from labs.grading import runner, sandbox
from labs.grading.judge import MAX_STARTS
from labs.grading.lab import LabError, read_notebook
from labs.grading.release import copy_into, data_files
from labs.grading.restore import restore
from labs.grading.student_process import GRACE, START_TIMEOUT

REPO = Path(__file__).resolve().parents[2]  # holds the labs and numtorch packages


@dataclass
class Limits:
    """Time limits in seconds: per cell (and per test), and for all of the notebook's cells together."""

    cell: float
    total: float


@dataclass
class Grade:
    """The outcome of grading one submission."""

    name: str
    tests: list  # every test of the lab: runner.describe() fields plus passed and message
    notes: list = field(default_factory=list)  # what the student should know about the run
    seconds: float = 0.0
    notebook: object = None  # the graded notebook with outputs, for the instructor
    problem: str = ""  # a problem of the grading machine rather than of the submission
    written: list = field(default_factory=list)  # (cell id, text) of each written answer: read, never scored

    @property
    def score(self):
        return sum(test["points"] for test in self.tests if test["passed"])

    @property
    def max_score(self):
        return sum(test["points"] for test in self.tests)

    def exercise_scores(self, exercises):
        """{exercise: points earned} for every exercise of the lab."""
        scores = dict.fromkeys(exercises, 0)
        for test in self.tests:
            scores[test["exercise"]] = scores.get(test["exercise"], 0) + (test["points"] if test["passed"] else 0)
        return scores

def failed(tests, message):
    """`tests` marked failed with the same message."""
    return [dict(test, passed=False, message=message) for test in tests]


class Judge:
    """One judge process (python -m labs.grading.judge), started when first needed, replaced when it fails.
    uid: the user id its students' processes run as in the user sandbox (each judge its own)."""

    def __init__(self, uid=None):
        self.process, self.uid = None, uid

    def grade(self, job, hard_limit):
        """The judge's reply to `job`, or {"problem": why} when the judge failed or ran out of time."""
        if self.process is None:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
                       PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
            self.process = subprocess.Popen([sys.executable, "-m", "labs.grading.judge"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, text=True, env=env)
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            if not select.select([self.process.stdout], [], [], hard_limit)[0]:
                raise TimeoutError(f"grading took more than {hard_limit:.0f} s")
            return json.loads(self.process.stdout.readline())
        except (OSError, ValueError) as error:
            self.stop()
            return {"problem": f"grader error: the judge failed ({error})"}

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def job(lab, tests, steps, path, limits, setup):
    """What a judge needs to grade one restored submission (plain JSON)."""
    cells = [[s.cell.cell_type, s.cell.source, s.role, s.cell_id, s.exercise] for s in steps]
    return dict(setup, cells=cells, tests=tests, seed=lab.config["seed"], limits=[limits.cell, limits.total],
                submission=hashlib.sha256(Path(path).read_bytes()).hexdigest())


def grade_submission(lab, tests, path, name, limits, setup, judges):
    """Read, restore and have a judge grade one notebook file; never raises."""
    import nbformat

    start = monotonic()
    try:
        submission = read_notebook(path)
    except LabError as error:
        return Grade(name, failed(tests, "not graded: the file is not a readable notebook"), [str(error)])
    steps, notes = restore(lab, submission)
    work = tempfile.mkdtemp(dir=setup["works"])
    copy_into(data_files(lab), Path(work))
    hard_limit = limits.total * 2 + len(tests) * (limits.cell + GRACE) + MAX_STARTS * START_TIMEOUT
    judge = judges.get()
    try:
        reply = judge.grade(dict(job(lab, tests, steps, path, limits, setup), work=work, uid=judge.uid), hard_limit)
    finally:
        judges.put(judge)
        shutil.rmtree(work, ignore_errors=True)
    problem = reply.get("problem", "")
    results = reply.get("tests") or failed(tests, "not graded: the grader failed")
    for step, ran in zip(steps, reply.get("outputs") or []):
        if ran:
            step.cell.outputs = [nbformat.from_dict(output) for output in ran[0]]
            step.cell.execution_count = ran[1]
    notebook = nbformat.v4.new_notebook(cells=[step.cell for step in steps], metadata=lab.notebook.metadata)
    written = [(step.cell_id, step.cell.source) for step in steps if step.role == "written"]
    return Grade(name, results, notes + reply.get("notes", []), monotonic() - start, notebook, problem, written)


def copy_tests(lab, dest):
    """The lab's tests/ copied into `dest` before any submission runs: the judges read only this copy."""
    shutil.copytree(lab.folder / "tests", Path(dest) / "tests", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return str(dest)


def grade_all(lab, paths, names, limits, jobs=1, on_done=None, sandbox_mode="auto", on_sandbox=None):
    """Grade `paths` (`names` name their results), `jobs` at a time; return their Grades in order.

    `on_done(grade)` is called for each submission as soon as it is graded (in this thread). `sandbox_mode`:
    auto (the best that runs here), require (refuse to grade without one), bwrap, user or none;
    `on_sandbox(mode)` is called with the one chosen, before any submission runs.
    """
    tests, errors = runner.collect(lab.folder)
    if errors:
        raise LabError("the lab's tests cannot be loaded:\n  " + "\n  ".join(errors))
    judges = queue.Queue()
    with tempfile.TemporaryDirectory(prefix="numtorch-grade-") as batch, \
            tempfile.TemporaryDirectory(prefix="numtorch-work-") as works:
        os.chmod(works, 0o711)  # an unprivileged student can reach its own folder, not list the others
        packages = sandbox.copy_packages(Path(works) / "packages")
        try:
            mode = sandbox.choose(sandbox_mode, packages)
        except sandbox.SandboxError as error:
            raise LabError(str(error)) from None
        if mode == "none":
            print(f"WARNING: {sandbox.NOT_SANDBOXED}.", file=sys.stderr)
        if on_sandbox:
            on_sandbox(mode)
        if mode == "user" and sandbox.open_to_others(lab.folder):
            raise LabError(f"the student's code would run as an unprivileged user, who can read {lab.folder} "
                           f"(its hidden tests): make it private first (chmod -R go-rwx), as run_autograder does on "
                           f"Gradescope")
        setup = {"tests_root": copy_tests(lab, Path(batch) / "tests-copy"), "mode": mode, "packages": str(packages),
                 "works": works}
        for uid in sandbox.student_uids(jobs) if mode == "user" else [None] * jobs:
            judges.put(Judge(uid))
        grades = [None] * len(paths)
        try:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(grade_submission, lab, tests, path, name, limits, setup, judges): index
                           for index, (path, name) in enumerate(zip(paths, names))}
                for future in as_completed(futures):
                    index = futures[future]
                    try:
                        grades[index] = future.result()
                    except Exception as error:  # a bug of the grader, met by this submission only
                        traceback.print_exc()
                        grades[index] = Grade(names[index], failed(tests, "not graded: the grader failed"),
                                              problem=f"grader error: {error!r}")
                    if on_done:
                        on_done(grades[index])
        finally:
            while not judges.empty():
                judges.get().stop()
        return grades
