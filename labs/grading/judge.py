"""The judge: the trusted process that runs a submission in its sandbox and decides what it scores.

`python -m labs.grading.judge` reads jobs, one JSON line each on stdin (the restored cells of one submission,
its limits and sandbox; see grade.job), and answers each with one JSON line on stdout: every test's result,
the notes, and each cell's outputs. grade.grade_all keeps one judge per parallel job. The student's process
is its child in a sandbox: it cannot see or signal the judge, and all it sends back is size-capped JSON
that the judge reads as plain data.

A cell or a test's request that runs out of time is interrupted, then killed; a dead process is restarted
and the cells that ran before are replayed, within the time of whatever needed the replay (the notebook's
total time, or the test's), so one crash costs one exercise or one test and the whole run stays bounded.
"""
import json
import os
import sys
from dataclasses import dataclass
from time import monotonic

from labs.grading import runner, sandbox
from labs.grading.student_process import Outcome, StartError, StudentProcess
from labs.testing import StudentError

MAX_STARTS = 4  # one start and three restarts per submission


@dataclass
class Cell:
    """One restored cell, as the judge needs it."""

    kind: str  # code, markdown or raw
    source: str
    role: str  # answer, written, setup, check, locked, or scratch for the student's own cells
    cell_id: str = None
    exercise: str = None


class Grading:
    """The grading of one submission: its sandboxed process, its cells' outcomes, its tests' results."""

    def __init__(self, job, process):
        self.cells = [Cell(*cell) for cell in job["cells"]]
        self.tests, self.tests_root, self.seed = job["tests"], job["tests_root"], job["seed"]
        self.cell_limit, self.total_limit = job["limits"]
        self.submission, self.process = job["submission"], process
        self.outcomes = [None] * len(self.cells)
        self.outputs = [None] * len(self.cells)  # (outputs, execution count) of each cell that ran
        self.starts = 0
        self.notes = []
        self.problems = []  # the grader's own: tests that are broken
        self.test_deadline = 0.0

    def ensure_process(self, deadline):
        """A live process: start it, or restart it and replay the cells run so far. False when it cannot."""
        while not self.process.alive:
            if self.starts == MAX_STARTS or monotonic() >= deadline:
                return False
            self.starts += 1
            self.process.start()
            self.replay(deadline)
        return True

    def replay(self, deadline):
        """Run again, after a restart, every cell that ran before (their outputs are kept from the first run)."""
        for index, outcome in enumerate(self.outcomes):
            if self.process.alive and outcome and outcome.status in ("ok", "error"):
                left = deadline - monotonic()
                again = self.process.run_cell(self.cells[index].source, min(self.cell_limit, left))[0]
                if again.status in ("timeout", "died"):
                    limit = self.cell_limit if left > self.cell_limit else self.total_limit
                    self.outcomes[index] = Outcome(again.status, "when the grader ran it again after a restart", limit)

    def run_notebook(self):
        """Run every code cell under the per-cell and total limits; record each cell's outcome."""
        deadline = monotonic() + self.total_limit
        for index, cell in enumerate(self.cells):
            if cell.kind != "code":
                continue
            left = deadline - monotonic()
            if left <= 0:
                self.outcomes[index] = Outcome("skipped", f"not run: all cells together ran out of {self.total_limit:g} s")
            elif not self.ensure_process(deadline):
                self.outcomes[index] = Outcome("skipped", "not run: the Python kernel crashed too many times")
            else:
                outcome, outputs, count = self.process.run_cell(cell.source, min(self.cell_limit, left))
                if outcome.status == "timeout" and left < self.cell_limit:
                    outcome.limit = self.total_limit
                self.outcomes[index], self.outputs[index] = outcome, (outputs, count)

    def broken_exercises(self):
        """{exercise: why} for exercises whose answer cell timed out, crashed the process or never ran."""
        broken = {}
        for cell, outcome in zip(self.cells, self.outcomes):
            if cell.role == "answer" and outcome and outcome.status in ("timeout", "died", "skipped"):
                broken.setdefault(cell.exercise, f"not run: your answer cell '{cell.cell_id}' {self.said(outcome)}")
        return broken

    def said(self, outcome):
        """How a cell (or a test's request) ended, in words."""
        if outcome.status == "error":
            return f"raised {outcome.error}"
        if outcome.status == "timeout":
            why = "(an endless loop?)" if outcome.limit >= self.cell_limit else f"(all cells together get {self.total_limit:g} s)"
            text = f"did not finish within {outcome.limit:.3g} s and was stopped {why}"
        elif outcome.status == "died":
            text = "crashed the Python kernel (os._exit, exit(), a segfault or too much memory?)"
        else:
            return outcome.error
        return f"{text} {outcome.error}".strip()

    def cell_notes(self):
        """One note per cell that did not end well."""
        return [f"{cell_name(cell)} {self.said(outcome).rstrip('.')}."
                for cell, outcome in zip(self.cells, self.outcomes) if outcome and outcome.status != "ok"]

    def send(self, request):
        """The `student` handle's channel: one request to the sandboxed process, within the test's time."""
        if not self.ensure_process(self.test_deadline):
            raise StudentError("not run: the Python kernel crashed too many times" if self.starts == MAX_STARTS else
                               f"this test did not finish within {self.cell_limit:g} s (restarting your notebook took its time)")
        outcome, reply = self.process.request(request, max(self.test_deadline - monotonic(), 0.1))
        if outcome.status == "timeout":
            outcome.limit = self.cell_limit
        if outcome.status != "ok":
            raise StudentError(f"this test {self.said(outcome)}")
        return reply.get("reply")

    def start_test(self, test_id):
        self.test_deadline = monotonic() + self.cell_limit

    def run_tests(self):
        """Every test's result; tests of broken exercises are failed without running."""
        broken = self.broken_exercises()
        results = {t["id"]: dict(t, passed=False, message=broken[t["exercise"]])
                   for t in self.tests if t["exercise"] in broken}
        _, ran, errors = runner.run(self.tests_root, self.send, skip=sorted(results), seed=self.seed,
                                    submission=self.submission, before_test=self.start_test)
        known = {t["id"]: t for t in self.tests}
        results.update((r["id"], dict(known[r["id"]], passed=r["passed"], message=r["message"]))
                       for r in ran if r["id"] in known)
        self.problems += [f"a test file could not be loaded: {error}" for error in errors]
        self.problems += [f"the test {r['id']} is broken: {r['broken']}" for r in ran if r.get("broken")]
        rest = [t for t in self.tests if t["id"] not in results]
        unloaded = "not run: the grader could not load this test (not your fault)"
        results.update((t["id"], dict(t, passed=False, message=unloaded)) for t in rest)
        return [results[t["id"]] for t in self.tests]


def cell_name(cell):
    """How the feedback names a cell."""
    if cell.role == "scratch":
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        return f'Your cell "{first[:40]}"'
    return f"{cell.role.capitalize()} cell '{cell.cell_id}'"


def judge(job):
    """Run and test one submission: {"tests": results, "notes": [...], "outputs": [...], "problem": str}."""
    cell_limit, total_limit = job["limits"]
    cpu = total_limit + len(job["tests"]) * cell_limit + 60
    process = StudentProcess(job["mode"], job["packages"], job["work"], cpu, job["seed"], job.get("uid"))
    grading = Grading(job, process)
    try:
        grading.run_notebook()
        results = grading.run_tests()
    except StartError as error:
        grading.problems.append(str(error))
        results = [dict(t, passed=False, message=f"not graded: {error}") for t in job["tests"]]
    finally:
        process.stop()
    problem = "; ".join(grading.problems)
    notes = grading.cell_notes() + grading.notes + [f"{sandbox.NOT_SANDBOXED}."] * (job["mode"] == "none")
    return {"tests": results, "notes": notes, "outputs": grading.outputs, "problem": problem}


def main():
    """Answer jobs from stdin until it closes; what anything else prints goes to stderr, never into a reply."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in sys.stdin:
        job = json.loads(line)
        try:
            reply = judge(job)
        except Exception as error:  # a bug of the grader, met by this submission only
            import traceback

            traceback.print_exc()
            reply = {"problem": f"grader error: {error!r}"}
        replies.write(json.dumps(reply, ensure_ascii=True) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
