"""Every lab in labs/ (the folders named NN_slug) follows the pinned format (notes/LAB_FORMAT.md) and issue 7's
rules, and passes `numtorch-labs validate`: its solutions score full marks and its student release scores 0.

The rules checked here: at least three auto-graded exercises with points, each with public AND hidden tests;
a hint in every failure message (read from the test files, then seen on the unsolved release); one graph-view
or stepper moment; a source notebook committed without outputs; a release without solution text.
"""
import ast
import re
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import labs.testing
from labs.grading import runner
from labs.grading.grade import Limits, grade_all
from labs.grading.lab import BEGIN_SOLUTION, END_SOLUTION, cell_role, load_lab
from labs.grading.release import student_notebook
from labs.grading.validate import validate

LABS = sorted(path for path in (Path(__file__).parents[1] / "labs").glob("[0-9]*") if path.is_dir())
MIN_EXERCISES = 3
SOLUTION_SECONDS = 60  # issue 7: a lab's reference solution runs in at most a minute
# A cell that shows the autograd graph (render.draw, the magics) or steps an optimizer by hand (the stepper
# widget, or the explorer: the same controls on a two-parameter loss landscape).
MOMENT = re.compile(r"\bdraw\(|^\s*%%numtorch\b|%numtorch_graph\b|%numtorch_auto\s+on\b|\b[Ss]tepper\(|%stepper\b"
                    r"|\bExplorer\(|\bline_chart\(|\bheatmap\(", re.M)
HINT = re.compile(r"hint", re.I)


@pytest.fixture(scope="module", params=LABS, ids=[path.name for path in LABS])
def lab(request):
    return load_lab(request.param)


@pytest.fixture(scope="module")
def tests(lab):
    """The lab's tests as the grader lists them (id, exercise, points, hidden)."""
    found, errors = runner.collect(lab.folder)
    assert not errors, f"{lab.folder.name}: test files that do not load: {errors}"
    return found


def test_there_are_labs():
    assert LABS, "no lab folders (labs/NN_slug) found"


def test_folder_name_matches_slug(lab):
    assert lab.folder.name.split("_", 1)[1] == lab.slug, (
        f"{lab.folder.name}: lab.toml says slug = {lab.slug!r}; the folder should be NN_{lab.slug}")
    assert isinstance(lab.config["seed"], int), f"{lab.folder.name}: lab.toml needs an integer seed"


def test_exercises_have_points_and_public_and_hidden_tests(lab, tests):
    by_exercise = {}
    for test in tests:
        by_exercise.setdefault(test["exercise"], []).append(test)
    assert len(by_exercise) >= MIN_EXERCISES, (
        f"{lab.folder.name}: {len(by_exercise)} auto-graded exercises ({sorted(by_exercise)}); at least {MIN_EXERCISES}")
    for exercise, its_tests in by_exercise.items():
        pointless = [t["id"] for t in its_tests if not isinstance(t["points"], (int, float)) or t["points"] <= 0]
        assert not pointless, f"{lab.folder.name}: tests without points: {pointless}"
        kinds = {t["hidden"] for t in its_tests}
        assert kinds == {False, True}, (
            f"{lab.folder.name}: exercise {exercise!r} has only {'hidden' if True in kinds else 'public'} tests; "
            f"every exercise needs public tests (for labs.check) and hidden ones (more cases, at grading)")


def _module_texts(tree):
    """Module-level names bound to strings (or containers of strings): name -> their text."""
    texts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            text = " ".join(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str))
            for target in node.targets:
                if isinstance(target, ast.Name) and text:
                    texts[target.id] = text
    return texts


def _message_text(node, texts):
    """The literal text of a failure message, with module-level string constants it names filled in."""
    parts = []
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            parts.append(child.value)
        elif isinstance(child, ast.Name) and child.id in texts:
            parts.append(texts[child.id])
    return " ".join(parts)


def _failure_messages(tree):
    """(line, message node or None) for every assert, raise AssertionError(...) and pytest.fail(...)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            yield node.lineno, node.msg
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in ("AssertionError", "pytest.fail"):
                yield node.lineno, (node.args[0] if node.args else None)


def _unhinted(path):
    """'file:line' of every failure message in a Python file that has no hint."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    texts = _module_texts(tree)
    return [f"{path.name}:{line}" for line, message in _failure_messages(tree)
            if message is None or not HINT.search(_message_text(message, texts))]


def test_every_failure_message_in_the_tests_has_a_hint(lab):
    missing = [place for path in sorted(lab.folder.glob("tests/*/test_*.py")) for place in _unhinted(path)]
    assert not missing, (
        f"{lab.folder.name}: failure messages without a hint (write 'Hint: ...' in each message): {missing}")


def test_the_helpers_lab_tests_share_fail_with_hints():
    assert not _unhinted(Path(labs.testing.__file__)), "labs/testing.py: write 'Hint: ...' in each failure message"


def test_has_a_graph_view_or_stepper_moment(lab):
    shown = [cell_role(cell)[0] for cell in lab.notebook.cells
             if cell.cell_type == "code" and cell_role(cell)[1] in ("setup", "locked", "answer")
             and MOMENT.search(cell.source)]
    assert shown, (f"{lab.folder.name}: no cell uses the graph view (draw(...), %%numtorch), the stepper "
                   f"(Stepper(...), Explorer(...)) or a plot (line_chart, heatmap); every lab has one such moment")


def test_has_instructor_notes(lab):
    notes = " ".join(cell.source for cell in lab.notebook.cells if cell_role(cell)[1] == "instructor")
    missing = [part for part in ("*Objectives:*", "*Expected time:*", "*Mistakes the tests catch:*") if part not in notes]
    assert not missing, f"{lab.folder.name}: the instructor cell (role instructor, removed at release) lacks {missing}"


def test_source_notebook_is_committed_without_outputs(lab):
    dirty = [cell_role(cell)[0] or f"cell {n}" for n, cell in enumerate(lab.notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{lab.notebook_path.name}: clear the outputs of {dirty} before committing"


def _solution_blocks(source):
    """The non-blank lines of each BEGIN/END SOLUTION block, stripped."""
    blocks, block = [], None
    for line in source.splitlines():
        if line.strip() == BEGIN_SOLUTION:
            block = []
        elif line.strip() == END_SOLUTION:
            blocks.append(block)
            block = None
        elif block is not None and line.strip():
            block.append(line.strip())
    return blocks


def _contains(lines, block):
    return any(lines[i:i + len(block)] == block for i in range(len(lines) - len(block) + 1))


def test_release_has_no_solution_text(lab):
    release = student_notebook(lab)
    text = "\n".join(cell.source for cell in release.cells)
    assert BEGIN_SOLUTION not in text and END_SOLUTION not in text, f"{lab.folder.name}: solution markers in the release"
    assert not any(cell_role(cell)[1] == "instructor" for cell in release.cells), "instructor cells in the release"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    leaked = [block for cell in lab.notebook.cells for block in _solution_blocks(cell.source)
              if block and _contains(lines, block)]
    assert not leaked, f"{lab.folder.name}: solution code is also in cells the students receive: {leaked}"


@pytest.mark.slow
def test_validate(lab):
    """`numtorch-labs validate`: solutions at full marks, the release at 0, and the solutions within a minute."""
    said = []
    start = time.monotonic()
    ok = validate(lab, say=said.append)
    seconds = time.monotonic() - start
    assert ok, "\n".join(said)
    assert seconds <= SOLUTION_SECONDS, f"{lab.folder.name}: validate took {seconds:.0f} s; keep each run under a minute"


@pytest.mark.slow
def test_unsolved_release_fails_every_test_with_a_hint(lab):
    """What a student sees at the first check cell: each failure explains itself and says what to do."""
    with tempfile.TemporaryDirectory(prefix="numtorch-labs-test-") as folder:
        path = Path(folder) / lab.notebook_path.name
        nbformat.write(student_notebook(lab), path)
        (grade,) = grade_all(lab, [path], ["release"], Limits(lab.config["cell_timeout"], lab.config["total_timeout"]))
    assert not grade.problem, grade.problem
    silent = [f"{t['id']}: {t['message']}" for t in grade.tests if t["passed"] or not HINT.search(t["message"])]
    assert not silent, f"{lab.folder.name}: on the unsolved release these tests pass or fail without a hint: {silent}"
