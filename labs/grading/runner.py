"""Run a lab's pytest tests against a notebook namespace.

The same code serves three places: `labs.check` in the student's notebook (public tests, one exercise),
the grader's kernel after the submission has run (all tests, results streamed to a report file), and the
grader itself when it lists a lab's tests (`collect`). It imports only the standard library and pytest,
so it is cheap to load in a kernel.

Test files are plain pytest functions taking the fixture ``ns`` (a copy of the notebook's namespace),
marked ``@pytest.mark.exercise("<id>")`` and ``@pytest.mark.points(<n>)``. Feedback is the assertion
message: assertions are not rewritten (``--assert=plain``), so a failing test shows exactly the message its
author wrote, and never the test's source.
"""
import importlib
import json
import os
import random
import sys
from pathlib import Path

import pytest

TEST_DIRS = ("tests/public", "tests/hidden")

# Modules whose functions tests rely on. `protect()` records them before the submission runs and
# `restore_protected()` puts back anything the submission replaced (np.allclose = lambda *a: True, ...).
PROTECTED = ("builtins", "math", "random", "numpy", "numpy.testing", "pytest", "numtorch.testing", "labs.testing")
# Names IPython and ipykernel themselves rebind in builtins around every cell.
KERNEL_BUILTINS = {"exit", "quit", "get_ipython", "display", "input", "_", "__", "___"}

DEFINE_HINT = "run the cell that defines it (and every cell above it) without errors, and check its name."

_saved_modules = {}
_MISSING = object()


def not_defined(name, hint=DEFINE_HINT):
    """The failure of a test that needs a name the notebook does not define."""
    return AssertionError(f"your notebook defines no `{name}`. Hint: {hint}")


class Namespace(dict):
    """The notebook's namespace as tests see it: a missing name fails the test with a hint, not a KeyError."""

    def __missing__(self, name):
        raise not_defined(name)


class _Plugin:
    """A pytest plugin that provides the `ns` fixture, selects tests and records their outcomes."""

    def __init__(self, namespace, exercise=None, skip=(), report=None, seed=0):
        self.namespace = namespace
        self.exercise = exercise
        self.skip = set(skip)
        self.report = report
        self.seed = seed
        self.tests = []
        self.results = []
        self.errors = []

    @pytest.fixture
    def ns(self):
        """A copy of the notebook's namespace: a test may read it, not change it for the next test."""
        return Namespace(self.namespace)

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "exercise(id): the exercise this test grades")
        config.addinivalue_line("markers", "points(n): the points this test is worth")

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext.strip().splitlines()[-1]}")
            self._write({"event": "error", "message": self.errors[-1]})

    def pytest_collection_modifyitems(self, session, config, items):
        chosen = [item for item in items if self._wanted(item)]
        config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
        items[:] = chosen
        self.tests = [describe(item) for item in chosen]

    def _wanted(self, item):
        return item.nodeid not in self.skip and self.exercise in (None, marker_arg(item, "exercise"))

    def pytest_runtest_setup(self, item):
        _seed(self.seed)
        self._write({"event": "start", "id": item.nodeid})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            result = dict(describe(item), passed=call.excinfo is None)
            result["message"] = "" if call.excinfo is None else failure_message(call.excinfo, item)
            self.results.append(result)
            self._write(dict(result, event="result"))

    def _write(self, event):
        if self.report:
            with open(self.report, "a", encoding="utf-8") as report:
                report.write(json.dumps(event) + "\n")


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
        "hidden": item.nodeid.startswith("tests/hidden/"),
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


def _seed(seed):
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)


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


def run(root, namespace, dirs=TEST_DIRS, exercise=None, skip=(), report=None, seed=0, collect_only=False):
    """Run (or only list) the tests under `root`/`dirs` against `namespace`; return (tests, results, errors).

    `tests` lists every selected test, `results` one entry per test that ran (passed, message) and `errors`
    the test files that could not be loaded. Only tests of `exercise` run when it is given, and none whose
    id is in `skip`. With `report`, every start and result is also appended to that file as a JSON line.
    """
    plugin = _Plugin(namespace, exercise=exercise, skip=skip, report=report, seed=seed)
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
    tests, _, errors = run(root, {}, dirs=dirs, collect_only=True)
    return tests, errors


def protect(seed=0):
    """Grader's first cell: seed the random generators and record the modules the tests rely on."""
    for name in PROTECTED:
        try:
            module = importlib.import_module(name)
        except Exception:  # not installed, or broken: nothing to protect
            continue
        _saved_modules[name] = (module, dict(vars(module)))
    _seed(seed)


def restore_protected():
    """Put back every protected module and function the notebook replaced; return their names."""
    changed = []
    for name, (module, saved) in _saved_modules.items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
            changed.append(name)
        current = vars(module)
        for key, value in saved.items():
            ignored = name == "builtins" and key in KERNEL_BUILTINS
            if not ignored and current.get(key, _MISSING) is not value:
                current[key] = value
                changed.append(f"{name}.{key}")
    return changed


def grade(root, report, skip=(), seed=0):
    """Grader's last cell: restore protected modules, run every test against the notebook's namespace."""
    from IPython import get_ipython

    changed = restore_protected()
    if changed:
        with open(report, "a", encoding="utf-8") as out:
            out.write(json.dumps({"event": "restored", "names": changed}) + "\n")
    run(root, get_ipython().user_ns, skip=skip, report=report, seed=seed)
