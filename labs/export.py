"""`numtorch-labs export LAB --format nbgrader --out DIR`: a lab as an nbgrader source assignment.

DIR gets the lab's student files (lab.toml, data, tests/public) and `<slug>.ipynb`, the source notebook with
`metadata.nbgrader` on every lab cell: answer cells are solution cells (nbgrader uses the same
`### BEGIN SOLUTION` markers), setup, check and locked cells are read-only, written answers are manually
graded answers worth 0 points (NumTorch never scores them), and at the end one autograder test cell per
test, worth that test's points. Hidden tests sit between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`,
so nbgrader's generate_assignment strips them and autograde puts them back. The tests run as the grader runs
them, after the whole notebook, through the in-process `student` handle (notes/TEST_API.md).

What nbgrader cannot express is said (`UNSUPPORTED`), and the rest exported.
"""
import copy
import shutil
import tempfile
from pathlib import Path

import nbformat

from labs.fetch import with_install_cell
from labs.grading import runner, snippet
from labs.grading.lab import LabError, cell_role
from labs.grading.release import release_student

LOCKED = ("setup", "check", "locked")
UNSUPPORTED = {
    "per-submission inputs": "nbgrader runs every test with the lab's seed, so a hidden test draws the same "
                             "inputs for every student (NumTorch's grader draws them per submission)",
    "the sandbox": "nbgrader runs the tests in the student's kernel, after the student's code, with no boundary "
                   "between them (NumTorch's grader judges from outside a sandbox: docs/grading.md)",
    "instructor cells": "nbgrader releases every cell of the source notebook: the lab's instructor cells are "
                        "left out of the export",
    "total_timeout": "nbgrader has one timeout per cell (c.ExecutePreprocessor.timeout in nbgrader_config.py; "
                     "this lab's cell_timeout is {cell_timeout} s) and none for the whole notebook",
}
_RESULTS = {}  # test file -> its results in this kernel: the first test cell of a file runs the whole file


def export_nbgrader(lab, out):
    """Write `lab` as an nbgrader source assignment into `out`; return what nbgrader cannot express."""
    out = Path(out)
    tests = test_cells(lab)  # first: a lab whose tests do not load is not exported at all
    notebook = with_install_cell(copy.deepcopy(lab.notebook), lab.slug)
    instructor = [cell for cell in notebook.cells if cell_role(cell)[1] == "instructor"]
    notebook.cells = [nbgrader_cell(cell) for cell in notebook.cells if cell not in instructor] + tests
    release_student(lab, out)  # the student's files; the notebook is replaced next
    nbformat.write(notebook, out / lab.notebook_path.name)
    unsupported = dict(UNSUPPORTED, total_timeout=UNSUPPORTED["total_timeout"].format(**lab.config))
    if not instructor:
        del unsupported["instructor cells"]
    return unsupported


def nbgrader_metadata(grade_id, solution=False, grade=False, points=None):
    """`metadata.nbgrader` of a cell: a solution (editable), a graded cell with points, or read-only."""
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": not solution,
            "schema_version": 3}
    return meta if points is None else dict(meta, points=points)


def nbgrader_cell(cell):
    """A copy of a lab cell with its role said the nbgrader way (cells without a role stay plain)."""
    cell = copy.deepcopy(cell)
    cell_id, role = cell_role(cell)
    if role is None:
        return cell
    if role == "answer":
        cell.metadata["nbgrader"] = nbgrader_metadata(cell_id, solution=True)
    elif role == "written":  # answered in words, never scored: a manually graded answer worth 0 points
        cell.metadata["nbgrader"] = nbgrader_metadata(cell_id, solution=True, grade=True, points=0)
    else:
        cell.metadata["nbgrader"] = nbgrader_metadata(cell_id)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def test_cells(lab):
    """A heading and one autograder test cell per test of the lab, public ones first, in the tests' order."""
    tests, errors = runner.collect(lab.folder)
    if errors:
        raise LabError(f"{lab.folder}: the tests cannot be loaded: {'; '.join(errors)}")
    heading = nbformat.v4.new_markdown_cell(
        "## Autograder tests\n\nEach cell below runs one test of the lab after your whole notebook; "
        "hidden tests run only when your notebook is graded.",
        metadata={"nbgrader": nbgrader_metadata("autograder-tests")})
    cells, embedded = [heading], set()
    for number, test in enumerate(sorted(tests, key=lambda t: t["hidden"]), 1):
        path = test["id"].split("::")[0]
        source = None
        if test["hidden"] and path not in embedded:  # the first hidden test of a file carries the file
            source = (lab.folder / path).read_text(encoding="utf-8")
            embedded.add(path)
        cells.append(test_cell(test, number, lab.config["seed"], source))
    return cells


def test_cell(test, number, seed, source):
    """The autograder test cell of one test (worth its points); a hidden test's code between the markers."""
    call = f"nbgrader_test(globals(), {test['id']!r}, seed={seed}" + (f", source={source!r})" if source else ")")
    code = f"from labs.export import nbgrader_test\n{call}"
    what, points = "a hidden test" if test["hidden"] else f"public test {test['name']}", test["points"]
    header = f"# {test['exercise']}: {what} ({points:g} point{'s' * (points != 1)})"
    if test["hidden"]:
        code = f"### BEGIN HIDDEN TESTS\n{code}\n### END HIDDEN TESTS"
    meta = nbgrader_metadata(f"test-{number:02d}-{test['exercise']}", grade=True, points=points)
    return nbformat.v4.new_code_cell(f"{header}\n{code}", metadata={"nbgrader": meta})


def nbgrader_test(namespace, test_id, seed, source=None):
    """Run in an nbgrader test cell: pass quietly when test `test_id` passes, else raise its message.

    The test's file runs once per kernel, against the notebook's `namespace`, with the public tests and
    conftest.py next to the notebook; a hidden test file comes as `source` (its first cell carries it).
    """
    path = test_id.split("::")[0]
    if source is not None or path not in _RESULTS:
        _RESULTS[path] = run_file(namespace, path, seed, source)
    results = [r for r in _RESULTS[path] if r["id"] == test_id or r["id"].startswith(test_id + "[")]
    if not results:
        raise AssertionError(f"{test_id} did not run: run the notebook from the top (the cells above load it)")
    failed = [r["message"] for r in results if not r["passed"]]
    if failed:
        raise AssertionError("\n".join(failed))
    print(f"✅ {test_id.split('::')[1]}")


def run_file(namespace, path, seed, source):
    """The results of the tests in `path` (public: read next to the notebook; hidden: `source`)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / path).parent.mkdir(parents=True)
        if Path("tests", "conftest.py").is_file():
            shutil.copy2(Path("tests", "conftest.py"), root / "tests" / "conftest.py")
        (root / path).write_text(source if source is not None else Path(path).read_text(encoding="utf-8"),
                                 encoding="utf-8")
        _, results, errors = runner.run(root, snippet.in_process(namespace), dirs=(str(Path(path).parent),),
                                        seed=seed)
    if errors:
        raise AssertionError(f"the tests in {path} cannot be loaded: {'; '.join(errors)}")
    return results
