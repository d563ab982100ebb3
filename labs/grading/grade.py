"""Grade submissions: restore each notebook, run it cell by cell in a fresh kernel, then run the tests there.

Why the tests run in the submission's own kernel, after its cells: a fresh kernel that re-ran the notebook
before the tests would run the same student code before the same tests, so it could be fooled in exactly
the same ways, at twice the time. What the grader does instead (docs/grading.md has the threat model):

- its first cell loads the test runner and records the modules tests rely on, before any student code;
- its last cell puts back anything the notebook replaced in those modules, then runs pytest over a private
  copy of the autograder's tests (never the student's copy), written after the notebook has run into a
  folder with a random name, and streams each test's start and result to a report file there;
- the score comes from that report and from each cell's execute_reply status, never from rendered output;
- a cell or test without progress for the time limit is interrupted, then killed; a dead kernel is
  restarted and the cells that ran before are replayed, so one crash costs one exercise or one test.
"""
import asyncio
import json
import secrets
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic

import nbformat

from labs.grading import runner
from labs.grading.kernel import Kernel, KernelError, Outcome
from labs.grading.lab import LabError, read_notebook
from labs.grading.release import copy_into, data_files
from labs.grading.restore import restore

MAX_STARTS = 4  # one start and three restarts per submission
RUNNER = "__import__('labs.grading.in_kernel').grading.in_kernel"


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


class Grading:
    """The grading of one submission in its own kernel and temporary folder."""

    def __init__(self, lab, tests, test_files, steps, folder, limits):
        self.lab, self.tests, self.test_files, self.steps = lab, tests, test_files, steps
        self.folder, self.limits = Path(folder), limits
        self.kernel = Kernel(folder)
        self.outcomes = [None] * len(steps)
        self.starts = 0
        self.notes = []

    async def ensure_kernel(self):
        """A live kernel: start it, or restart it and replay the cells run so far. False when out of restarts."""
        while not self.kernel.alive:
            if self.starts == MAX_STARTS:
                return False
            self.starts += 1
            await self.kernel.restart()
            outcome, _ = await self.kernel.run("import labs.grading.in_kernel", 60)
            if outcome.status != "ok":
                raise KernelError(f"the grader's first cell failed in the kernel: {outcome.error or outcome.status}")
            await self.replay()
        return True

    async def replay(self):
        """Run again, after a restart, every cell that ran before (their outputs are kept from the first run)."""
        for index, outcome in enumerate(self.outcomes):
            if self.kernel.alive and outcome and outcome.status in ("ok", "error"):
                again, _ = await self.kernel.run(self.steps[index].cell.source, self.limits.cell)
                if again.status in ("timeout", "died"):
                    self.outcomes[index] = Outcome(again.status, "when the grader ran it again after a restart", again.limit)

    async def run_notebook(self):
        """Run every code cell under the per-cell and total limits; record each cell's outcome."""
        deadline = monotonic() + self.limits.total
        for index, step in enumerate(self.steps):
            if step.cell.cell_type != "code":
                continue
            left = deadline - monotonic()
            if left <= 0:
                self.outcomes[index] = Outcome("skipped", f"not run: all cells together ran out of {self.limits.total:g} s")
            elif not await self.ensure_kernel():
                self.outcomes[index] = Outcome("skipped", "not run: the kernel crashed too many times")
            else:
                self.outcomes[index], ran = await self.kernel.run(step.cell.source, min(self.limits.cell, left))
                step.cell.outputs, step.cell.execution_count = ran.outputs, ran.execution_count

    def broken_exercises(self):
        """{exercise: why} for exercises whose answer cell timed out, crashed the kernel or never ran."""
        broken = {}
        for step, outcome in zip(self.steps, self.outcomes):
            if step.role == "answer" and outcome and outcome.status in ("timeout", "died", "skipped"):
                broken.setdefault(step.exercise, f"not run: your answer cell '{step.cell_id}' {self.said(outcome)}")
        return broken

    def said(self, outcome):
        """How a cell (or the test runner) ended, in words."""
        if outcome.status == "error":
            return f"raised {outcome.error}"
        if outcome.status == "timeout":
            why = "(an endless loop?)" if outcome.limit >= self.limits.cell else f"(all cells together get {self.limits.total:g} s)"
            text = f"did not finish within {outcome.limit:.3g} s and was stopped {why}"
        elif outcome.status == "died":
            text = "crashed the Python kernel (os._exit, exit(), a segfault or too much memory?)"
        else:
            return outcome.error
        return f"{text} {outcome.error}".strip()

    def cell_notes(self):
        """One note per cell that did not end well."""
        notes = []
        for step, outcome in zip(self.steps, self.outcomes):
            if outcome and outcome.status != "ok":
                notes.append(f"{cell_name(step)} {self.said(outcome).rstrip('.')}.")
        return notes

    async def run_tests(self):
        """Every test's result; tests of broken exercises are failed without running."""
        broken = self.broken_exercises()
        results = {t["id"]: dict(t, passed=False, message=broken[t["exercise"]])
                   for t in self.tests if t["exercise"] in broken}
        while len(results) < len(self.tests) and await self.ensure_kernel():
            finished = await self.run_tests_once(skip=sorted(results))
            if not finished:
                break
            results.update(finished)
        rest = [t for t in self.tests if t["id"] not in results]
        reason = "not run: the kernel crashed too many times" if self.starts == MAX_STARTS else "not run (see the notes)"
        results.update((t["id"], t) for t in failed(rest, reason))
        return [results[t["id"]] for t in self.tests]

    async def run_tests_once(self, skip):
        """One pass of the runner in the kernel; {id: result} for the tests it finished or that stopped it."""
        root = self.folder / secrets.token_hex(8)
        for relative, content in self.test_files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_bytes(content)
        report = root / "report.jsonl"
        report.touch()
        code = f"{RUNNER}.grade({str(root)!r}, {str(report)!r}, skip={skip!r}, seed={self.lab.config['seed']!r})"
        outcome, _ = await self.kernel.run(code, self.limits.cell, progress=lambda: size_of(report))
        known = {t["id"]: t for t in self.tests if t["id"] not in skip}
        started, finished = [], {}
        for event in read_events(report):
            if event.get("event") == "start":
                started.append(event.get("id"))
            elif event.get("event") == "result" and event.get("id") in known:
                finished[event["id"]] = dict(known[event["id"]], passed=event["passed"] is True,
                                             message=str(event.get("message", "")))
            elif event.get("event") == "restored" and isinstance(event.get("names"), list):
                self.notes.append("Your notebook replaced " + ", ".join(map(str, event["names"]))
                                  + ": the grader put the originals back before running the tests.")
            elif event.get("event") == "error":
                self.notes.append(f"A test file could not be loaded: {event.get('message')}")
        for test_id in started:
            if test_id in known and test_id not in finished:
                why = self.said(outcome) if outcome.status in ("timeout", "died") else "stopped before it finished"
                finished[test_id] = dict(known[test_id], passed=False, message=f"this test {why}")
        if not finished and outcome.status != "ok":
            self.notes.append(f"The tests could not run: {self.said(outcome)}.")
        return finished


def size_of(path):
    """The size of a file, or -1 when it is gone."""
    try:
        return path.stat().st_size
    except OSError:
        return -1


def read_events(report):
    """The JSON lines of a runner report, skipping any line that is not one."""
    events = []
    try:
        text = report.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return events
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("id", ""), str):
            events.append(event)
    return events


def cell_name(step):
    """How the feedback names a cell."""
    if step.role == "scratch":
        first = next((line for line in step.cell.source.splitlines() if line.strip()), "")
        return f'Your cell "{first[:40]}"'
    return f"{step.role.capitalize()} cell '{step.cell_id}'"


def read_test_files(lab):
    """{path relative to the lab: bytes} for everything under tests/, read once before any submission runs."""
    tests = lab.folder / "tests"
    return {str(path.relative_to(lab.folder)): path.read_bytes()
            for path in sorted(tests.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


async def grade_submission(lab, tests, test_files, path, name, limits):
    """Grade one notebook file; never raises, so one submission cannot stop the grading of the others."""
    try:
        return await grade_notebook(lab, tests, test_files, path, name, limits)
    except Exception as error:  # a bug of the grader, met by this submission only
        traceback.print_exc()
        return Grade(name, failed(tests, "not graded: the grader failed"), problem=f"grader error: {error!r}")


async def grade_notebook(lab, tests, test_files, path, name, limits):
    """Read, restore, run and test one notebook file."""
    start = monotonic()
    try:
        submission = read_notebook(path)
    except LabError as error:
        return Grade(name, failed(tests, "not graded: the file is not a readable notebook"), [str(error)])
    steps, notes = restore(lab, submission)
    with tempfile.TemporaryDirectory(prefix="numtorch-grade-") as folder:
        copy_into(data_files(lab), Path(folder) / "work")
        grading = Grading(lab, tests, test_files, steps, folder, limits)
        problem = ""
        try:
            await grading.run_notebook()
            results = await grading.run_tests()
        except KernelError as error:
            problem, results = str(error), failed(tests, f"not graded: {error}")
        finally:
            await grading.kernel.stop()
    notebook = nbformat.v4.new_notebook(cells=[step.cell for step in steps], metadata=lab.notebook.metadata)
    notes += grading.cell_notes() + grading.notes
    written = [(step.cell_id, step.cell.source) for step in steps if step.role == "written"]
    return Grade(name, results, notes, monotonic() - start, notebook, problem, written)


def grade_all(lab, paths, names, limits, jobs=1, on_done=None):
    """Grade `paths` (`names` name their results), `jobs` at a time; return their Grades in order."""
    tests, errors = runner.collect(lab.folder)
    if errors:
        raise LabError("the lab's tests cannot be loaded:\n  " + "\n  ".join(errors))
    test_files = read_test_files(lab)

    async def grade_one(path, name, slots):
        async with slots:
            grade = await grade_submission(lab, tests, test_files, path, name, limits)
        if on_done:
            on_done(grade)
        return grade

    async def grade_every():
        slots = asyncio.Semaphore(jobs)
        return await asyncio.gather(*(grade_one(p, n, slots) for p, n in zip(paths, names)))

    return asyncio.run(grade_every())
