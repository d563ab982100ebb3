"""Run a lab's pytest tests, giving them the fixtures `student` and `rng` (notes/TEST_API.md).

The same code serves three places: `labs.check` in the student's notebook (public tests of one exercise,
`student` backed by the notebook's own namespace), the judge at grading (every test, `student` backed by
the sandboxed worker that ran the submission), and the grader when it lists a lab's tests (`collect`).

Test files are plain pytest functions marked ``@pytest.mark.exercise("<id>")`` and
``@pytest.mark.points(<n>)``. Feedback is the assertion message: assertions are not rewritten
(``--assert=plain``), so a failing test shows exactly the message its author wrote, and never its source.
"""
import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from labs.testing import Student

TEST_DIRS = ("tests/public", "tests/hidden")


def inputs_rng(lab_seed, test_id, submission=None):
    """The generator of a test's inputs: from the lab's seed and the test's id, and for a hidden test also
    from the submission's hash, so a hidden input that leaks is worthless on the next submission."""
    parts = [int(lab_seed) % 2**63, digest(test_id)]
    if is_hidden(test_id):
        parts.append(digest(submission or ""))
    return np.random.default_rng(parts)


def digest(text):
    """A stable number from a text (Python's hash() changes between runs)."""
    return int(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16], 16)


def is_hidden(test_id):
    return test_id.startswith("tests/hidden/")


class _Plugin:
    """A pytest plugin that provides the `student` and `rng` fixtures, selects tests and records their outcomes."""

    def __init__(self, send, exercise=None, skip=(), seed=0, submission=None, before_test=None, on_result=None):
        self.send, self.exercise, self.skip = send, exercise, set(skip)
        self.seed, self.submission, self.before_test, self.on_result = seed, submission, before_test, on_result
        self.tests = []
        self.results = []
        self.errors = []

    @pytest.fixture
    def rng(self, request):
        """The test's random generator (see inputs_rng): draw every input from it."""
        return inputs_rng(self.seed, request.node.nodeid, self.submission)

    @pytest.fixture
    def student(self, rng):
        """The handle on the student's code (labs.testing.Student)."""
        return Student(self.send, rng)

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "exercise(id): the exercise this test grades")
        config.addinivalue_line("markers", "points(n): the points this test is worth")

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext.strip().splitlines()[-1]}")

    def pytest_collection_modifyitems(self, session, config, items):
        chosen = [item for item in items if self._wanted(item)]
        config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
        items[:] = chosen
        self.tests = [describe(item) for item in chosen]

    def _wanted(self, item):
        return item.nodeid not in self.skip and self.exercise in (None, marker_arg(item, "exercise"))

    def pytest_runtest_setup(self, item):
        if self.before_test:
            self.before_test(item.nodeid)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            result = dict(describe(item), passed=call.excinfo is None)
            result["message"] = "" if call.excinfo is None else failure_message(call.excinfo, item)
            self.results.append(result)
            if self.on_result:
                self.on_result(result)


def marker_arg(item, name, default=None):
    """The first argument of a test's `@pytest.mark.<name>(...)`, or `default`."""
    marker = item.get_closest_marker(name)
    return marker.args[0] if marker and marker.args else default


def describe(item):
    """The facts about one test that the grader and the feedback need."""
    return {
        "id": item.nodeid,
        "name": item.name,
        "exercise": marker_arg(item, "exercise"),
        "points": marker_arg(item, "points", 0),
        "hidden": is_hidden(item.nodeid),
    }


def failure_message(excinfo, item):
    """What the student reads: the assertion message, or the error their code raised and where."""
    error = excinfo.value
    if isinstance(error, AssertionError):
        return str(error) or "the test failed (it gives no message)"
    where = ""
    for entry in reversed(excinfo.traceback):
        if entry.path != item.path:
            where = f" (in {entry.name})"
            break
    return f"{type(error).__name__}: {error}{where}".strip()


def _forget_test_modules(root):
    """Drop the test modules of `root` from sys.modules (pytest would reuse them): each run imports the files."""
    for path in Path(root, "tests").rglob("*.py"):
        sys.modules.pop(".".join(path.relative_to(root).with_suffix("").parts), None)


def _pytest_args(root, dirs, collect_only=False):
    existing = [d for d in dirs if os.path.isdir(os.path.join(root, d))]
    args = [os.path.join(root, d) for d in existing] + [
        f"--rootdir={root}", f"--confcutdir={root}", "-c", os.devnull,
        "--import-mode=importlib", "--assert=plain", "--capture=sys",
        "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise",
    ]
    return args + (["--collect-only"] if collect_only else [])


def run(root, send, dirs=TEST_DIRS, exercise=None, skip=(), seed=0, submission=None, before_test=None,
        on_result=None, collect_only=False):
    """Run (or only list) the tests under `root`/`dirs`; return (tests, results, errors).

    `send` carries the requests of the `student` fixture to the student's code (labs.testing.Student);
    `seed` is the lab's and `submission` the submission's hash (for hidden tests' `rng`). `tests` lists every
    selected test, `results` one entry per test that ran (passed, message) and `errors` the test files that
    could not be loaded. Only tests of `exercise` run when it is given, and none whose id is in `skip`;
    `before_test(test_id)` is called as each test starts, `on_result(result)` as it ends.
    """
    plugin = _Plugin(send, exercise=exercise, skip=skip, seed=seed, submission=submission, before_test=before_test,
                     on_result=on_result)
    _forget_test_modules(root)
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        pytest.main(_pytest_args(str(root), dirs, collect_only), plugins=[plugin])
    finally:
        _forget_test_modules(root)
        if saved is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved
    return plugin.tests, plugin.results, plugin.errors


def collect(root, dirs=TEST_DIRS):
    """The tests of the lab at `root`, without running them: (tests, errors)."""
    tests, _, errors = run(root, None, dirs=dirs, collect_only=True)
    return tests, errors
