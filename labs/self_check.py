"""`labs.check("ex1")`: a student's self-check, with the public tests of one exercise, in the notebook."""
import html
import os
import sys
from pathlib import Path

LABEL = "public tests — hidden tests run at grading"
PASS, FAIL = "✅", "❌"


def check(exercise, namespace=None):
    """Run the public tests of `exercise` against this notebook and show a ✅/❌ row per test.

    `namespace` is the notebook's namespace: by default the globals of the caller (a notebook cell), and
    the `%check ex1` magic passes the shell's user namespace. The tests are the files in tests/public next
    to the notebook; hidden tests run only when the lab is graded. While grading (NUMTORCH_GRADING=1) this
    does nothing: the grader runs every test itself, after the whole notebook.
    """
    if os.environ.get("NUMTORCH_GRADING") == "1":
        print(f"labs.check({exercise!r}): skipped while grading; the grader runs all the tests at the end.")
        return
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    show(CheckReport(exercise, *public_results(exercise, namespace, Path.cwd())))


def public_results(exercise, namespace, folder):
    """(results, problems) of the public tests of `exercise` in `folder`/tests/public."""
    if not (folder / "tests" / "public").is_dir():
        return [], [f"there is no tests/public folder in {folder}: open this notebook from its lab folder"]
    from labs.grading import runner, snippet

    tests, results, errors = runner.run(folder, snippet.in_process(namespace), dirs=("tests/public",),
                                        exercise=exercise, seed=lab_seed(folder))
    if not tests and not errors:
        errors = [f"there are no public tests for exercise '{exercise}' (is the name right?)"]
    return results, errors


def lab_seed(folder):
    """The seed of the lab in `folder` (lab.toml), or 0."""
    from labs.grading.lab import LabError, read_config

    try:
        return read_config(folder)["seed"]
    except LabError:
        return 0


class CheckReport:
    """What labs.check shows: one row per test, as text and as HTML."""

    def __init__(self, exercise, results, problems):
        self.exercise, self.results, self.problems = exercise, results, problems

    def rows(self):
        """(mark, test name, message) for every test and every problem."""
        rows = [(PASS if r["passed"] else FAIL, r["name"], r["message"]) for r in self.results]
        return rows + [(FAIL, "problem", problem) for problem in self.problems]

    def verdict(self):
        passed = sum(r["passed"] for r in self.results)
        return f"{passed} of {len(self.results)} passed"

    def __str__(self):
        lines = [f"{self.exercise}: {LABEL}"]
        lines += [f"{mark} {name}" + (f": {message}" if message else "") for mark, name, message in self.rows()]
        return "\n".join(lines + [self.verdict()])

    __repr__ = __str__

    def _repr_html_(self):
        cell = '<td style="text-align:left; white-space:pre-wrap; vertical-align:top; padding:0 .6em 0 0">{}</td>'
        rows = "".join("<tr>" + "".join(cell.format(html.escape(str(v))) for v in row) + "</tr>" for row in self.rows())
        return (f"<div><b>{html.escape(self.exercise)}</b>: {LABEL}<table>{rows}</table>"
                f"<i>{self.verdict()}</i></div>")


def show(report):
    """Display in IPython (HTML with a text fallback), print elsewhere."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    if shell:
        from IPython.display import display

        display(report)
    else:
        print(report)
