"""The lab tool without a kernel: release, restore, structure checks, the CLI, labs.check in plain Python, reports."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import labs
from labs.self_check import LABEL, CheckReport
from labs.cli import main, unique_names
from labs.grading.grade import Grade
from labs.grading.lab import cell_role, checksum, load_lab
from labs.grading.release import release, release_all, strip_solutions, student_notebook
from labs.grading.report import feedback_markdown, results_json, write_grades_csv
from labs.grading.restore import restore
from labs.grading.validate import written_problems

EXAMPLE = Path(__file__).resolve().parents[1] / "labs" / "_example"


@pytest.fixture(scope="module")
def lab():
    return load_lab(EXAMPLE)


@pytest.fixture
def lab_copy(tmp_path):
    """A copy of the example lab to break."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "01_example"))


def run_cli(*argv):
    """Run numtorch-labs in-process; return its exit code."""
    with pytest.raises(SystemExit) as exit:
        main([str(arg) for arg in argv])
    return exit.value.code


def by_id(notebook, cell_id):
    return next(c for c in notebook.cells if cell_role(c)[0] == cell_id)


# --- release -------------------------------------------------------------------------------------------------

def test_strip_solutions_keeps_indentation_and_the_rest():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n\nz = 2"
    assert strip_solutions(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nz = 2")
    assert strip_solutions("### BEGIN SOLUTION\nIt is 42.\n### END SOLUTION", "markdown") == "YOUR ANSWER HERE"


def test_student_notebook(lab):
    notebook = student_notebook(lab)
    text = json.dumps(notebook)
    assert "np.maximum" not in text and "BEGIN SOLUTION" not in text
    assert "instructor-sanity" not in text
    setup = by_id(notebook, "setup")
    assert setup.metadata.editable is False and setup.metadata.deletable is False
    assert setup.metadata.numtorch["checksum"] == checksum(setup.source)
    assert "editable" not in by_id(notebook, "ex1-answer").metadata
    written = by_id(notebook, "why")
    assert written.source == "YOUR ANSWER HERE" and written.cell_type == "markdown" and "editable" not in written.metadata
    assert all(c.outputs == [] for c in notebook.cells if c.cell_type == "code")
    nbformat.validate(notebook)


def test_release_writes_student_and_autograder_copies(lab, tmp_path):
    release(lab, tmp_path, gradescope=True)
    student = sorted(str(p.relative_to(tmp_path / "student")) for p in (tmp_path / "student").rglob("*") if p.is_file())
    assert student == ["example.ipynb", "lab.toml", "tests/public/test_example.py"]
    assert (tmp_path / "autograder" / "tests" / "hidden" / "test_example.py").is_file()
    autograder = load_lab(tmp_path / "autograder")  # a lab in the same format, without the solutions
    assert "np.maximum" not in autograder.notebook_path.read_text()
    assert student_notebook(autograder) == student_notebook(lab)
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "autograder/tests/hidden/test_example.py",
                "python/labs/grading/grade.py", "python/labs/testing.py", "python/numtorch/__init__.py"} <= names
        assert not any(name.startswith("python/labs/_example") or "__pycache__" in name for name in names)
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111


def test_a_student_gets_every_file_but_the_source_and_the_hidden_tests(lab_copy, tmp_path):
    for name in ("data/points.csv", "tests/conftest.py", "tests/hidden/answers.npy", "tests/public/__pycache__/x.pyc"):
        (lab_copy / name).parent.mkdir(parents=True, exist_ok=True)
        (lab_copy / name).write_text("x")
    release(load_lab(lab_copy), tmp_path)
    student = sorted(str(p.relative_to(tmp_path / "student")) for p in (tmp_path / "student").rglob("*") if p.is_file())
    assert student == ["data/points.csv", "example.ipynb", "lab.toml", "tests/conftest.py", "tests/public/test_example.py"]


def test_release_all_keeps_a_students_work(lab_copy, tmp_path, capsys):
    out = tmp_path / "work"
    assert run_cli("release-all", "--labs", lab_copy.parent, "--out", out) == 0
    notebook = out / "01_example" / "example.ipynb"
    assert notebook.is_file() and (out / "01_example" / "tests" / "public" / "test_example.py").is_file()
    assert not (out / "01_example" / "tests" / "hidden").exists()
    notebook.write_text(notebook.read_text().replace("# YOUR CODE HERE", "# my work"))
    assert run_cli("release-all", "--labs", lab_copy.parent, "--out", out) == 0
    assert "# my work" in notebook.read_text()
    assert "kept: your work is there" in capsys.readouterr().out
    assert [kept for _, kept in release_all(lab_copy.parent, out)] == [True]


# --- restore -------------------------------------------------------------------------------------------------

def test_restore_puts_locked_cells_back_and_keeps_the_students_cells(lab):
    submission = student_notebook(lab)
    by_id(submission, "ex1-answer").source = "def relu(x):\n    return helper(x)"
    by_id(submission, "setup").source = "relu = None"
    submission.cells.remove(by_id(submission, "ex2-check"))
    scratch = nbformat.v4.new_code_cell("def helper(x):\n    return x")
    submission.cells.insert(submission.cells.index(by_id(submission, "ex1-answer")), scratch)
    submission.cells.append(submission.cells.pop(0))  # the intro moved to the end
    steps, notes = restore(lab, submission)
    roles = [(step.role, step.cell_id) for step in steps]
    assert roles.index(("setup", "setup")) < roles.index(("scratch", None)) < roles.index(("answer", "ex1-answer"))
    assert ("check", "ex2-check") in roles
    assert next(s for s in steps if s.cell_id == "setup").cell.source == "import numpy as np\nimport labs"
    assert next(s for s in steps if s.cell_id == "ex1-answer").exercise == "ex1"
    assert notes == ["Locked cell 'setup' was edited: the grader ran the original.",
                     "Locked cell 'ex2-check' was deleted: the grader put it back.",
                     "Some of the lab's cells were moved: they ran in the lab's order."]


def test_restore_runs_every_copy_of_an_answer_and_stubs_a_deleted_one(lab):
    submission = student_notebook(lab)
    answer = by_id(submission, "ex1-answer")
    submission.cells.insert(submission.cells.index(answer) + 1, nbformat.from_dict(dict(answer, source="relu = 1")))
    submission.cells.remove(by_id(submission, "ex3-answer"))
    steps, notes = restore(lab, submission)
    assert [s.cell.source for s in steps if s.cell_id == "ex1-answer"][1] == "relu = 1"
    assert "NotImplementedError" in next(s for s in steps if s.cell_id == "ex3-answer").cell.source
    assert notes == ["Answer cell 'ex1-answer' appears 2 times: all copies ran, in your order.",
                     "Answer cell 'ex3-answer' is missing from your notebook: graded as unanswered."]


def test_restore_keeps_written_answers_as_markdown(lab):
    submission = student_notebook(lab)
    written = by_id(submission, "why")
    code = nbformat.v4.new_code_cell("relu = None  # I am the answer", metadata=written.metadata)
    submission.cells[submission.cells.index(written)] = code  # turned into code: kept, never run
    steps, notes = restore(lab, submission)
    (step,) = [s for s in steps if s.cell_id == "why"]
    assert (step.role, step.cell.cell_type, step.cell.source) == ("written", "markdown", "relu = None  # I am the answer")
    assert step.exercise is None and notes == []
    submission.cells.remove(code)
    steps, notes = restore(lab, submission)
    assert next(s for s in steps if s.cell_id == "why").cell.source == "YOUR ANSWER HERE"
    assert notes == ["Written answer 'why' is missing from your notebook: your instructor sees it unanswered."]


def test_source_cells_without_metadata_are_the_students(lab_copy):
    """A plain source cell is released as it is, and at grading the student's copy runs once, in its place."""
    def add_plain_cells(notebook):
        at = notebook.cells.index(by_id(notebook, "ex1-check")) + 1
        notebook.cells[at:at] = [nbformat.v4.new_markdown_cell("Try relu:"), nbformat.v4.new_code_cell("trial = relu(-1)")]
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell("Welcome."))

    edit_notebook(lab_copy, add_plain_cells)
    lab = load_lab(lab_copy)
    submission = student_notebook(lab)
    plain = next(c for c in submission.cells if c.source == "trial = relu(-1)")
    assert "numtorch" not in plain.metadata and "editable" not in plain.metadata  # released unlocked
    after = submission.cells.index(plain) + 1
    submission.cells[after:after] = [nbformat.v4.new_code_cell("print(trial)"), nbformat.v4.new_code_cell("trial += 1")]
    submission.cells.insert(1, nbformat.v4.new_code_cell("import math"))
    steps, notes = restore(lab, submission)
    assert [step.cell.source for step in steps] == [cell.source for cell in submission.cells]
    assert [step.role for step in steps if step.cell_id is None] == ["scratch"] * 6
    assert notes == []
    plain.source = "trial = relu(-2)"  # the student's to edit; a deleted one is gone
    submission.cells.remove(next(c for c in submission.cells if c.source == "Try relu:"))
    steps, notes = restore(lab, submission)
    assert [step.cell.source for step in steps] == [cell.source for cell in submission.cells] and notes == []


# --- validate: the structure checks ---------------------------------------------------------------------------

def edit_notebook(folder, change):
    path = folder / "example.ipynb"
    notebook = nbformat.read(path, as_version=4)
    change(notebook)
    nbformat.write(notebook, path)


def test_validate_names_every_structure_problem(lab_copy, capsys):
    def break_cells(notebook):
        by_id(notebook, "ex2-check").metadata.numtorch["id"] = "ex1-check"  # a duplicate id
        by_id(notebook, "setup").source += "\n### BEGIN SOLUTION\n### END SOLUTION"
        notebook.cells.remove(by_id(notebook, "ex3-check"))  # ex3's answer has no check cell after it
        notebook.cells[0].metadata.numtorch["role"] = "lockd"
        for cell_id, make in (("why", nbformat.v4.new_code_cell), ("ex2-answer", nbformat.v4.new_markdown_cell)):
            cell = by_id(notebook, cell_id)  # a written answer as code, an answer as markdown
            notebook.cells[notebook.cells.index(cell)] = make(cell.source, metadata=cell.metadata)

    edit_notebook(lab_copy, break_cells)
    test_file = lab_copy / "tests" / "hidden" / "test_example.py"
    test_file.write_text(test_file.read_text().replace('@pytest.mark.points(2)\n', ''))
    assert run_cli("validate", lab_copy) == 1
    out = capsys.readouterr().out
    for problem in ["cell id 'ex1-check' is used more than once",
                    "cell 1 ('setup'): solution markers outside an answer or written cell",
                    "answer cell 'ex3-answer' has no check cell after it",
                    "role 'lockd' is not one of answer, written, setup, check, locked, instructor",
                    "('why'): a written answer is a markdown cell (code in it would never run)",
                    "('ex2-answer'): an answer cell is code that tests grade; give a markdown answer the role \"written\"",
                    "test_mse_value: worth 0 points; mark it @pytest.mark.points(<n>)",
                    "lab.toml: [exercises.ex3] is not in the notebook"]:
        assert problem in out, out


def test_a_written_answer_belongs_to_no_exercise():
    cell = nbformat.v4.new_markdown_cell("", metadata={"numtorch": {"id": "why", "role": "written", "exercise": "ex3"}})
    assert written_problems("cell 12 ('why')", cell, "written") == [
        "cell 12 ('why'): a written answer is not graded, so it belongs to no exercise: remove \"exercise\""]


def test_validate_reports_tests_that_do_not_load(lab_copy, capsys):
    (lab_copy / "tests" / "public" / "test_broken.py").write_text("def test_x(ns):\n    return (\n")
    assert run_cli("validate", lab_copy) == 1
    assert "tests/public/test_broken.py" in capsys.readouterr().out


@pytest.mark.parametrize("breakage, message", [
    (lambda folder: (folder / "lab.toml").unlink(), "has no lab.toml"),
    (lambda folder: (folder / "lab.toml").write_text("title = 'x"), "not valid TOML"),
    (lambda folder: (folder / "lab.toml").write_text("title = 'x'"), "missing slug"),
    (lambda folder: (folder / "example.ipynb").unlink(), "no source notebook 'example.ipynb'"),
    (lambda folder: (folder / "example.ipynb").write_text("{"), "'example.ipynb' is not a Jupyter notebook"),
    (lambda folder: shutil.rmtree(folder), "no lab folder at"),
])
def test_unusable_labs_are_usage_errors(lab_copy, capsys, breakage, message):
    breakage(lab_copy)
    for command in (["validate", lab_copy], ["release", lab_copy, "--out", lab_copy.parent / "out"],
                    ["grade", lab_copy, EXAMPLE / "example.ipynb", "--out", lab_copy.parent / "results"]):
        assert run_cli(*command) == 2
        assert message in capsys.readouterr().err


# --- the command line -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["validate"], ["release"], ["release-all"], ["grade"]])
def test_every_command_has_help(command, capsys):
    assert run_cli(*command, "--help") == 0
    assert "usage: numtorch-labs" in capsys.readouterr().out


def test_grade_usage_errors(lab_copy, tmp_path, capsys):
    assert run_cli("grade", lab_copy, tmp_path / "missing.ipynb", "--out", tmp_path / "r") == 2
    assert "no such submission" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert run_cli("grade", lab_copy, tmp_path / "empty", "--out", tmp_path / "r") == 2
    assert "no notebooks to grade" in capsys.readouterr().err
    assert run_cli("grade", lab_copy, EXAMPLE / "example.ipynb", "--out", tmp_path / "r", "--timeout", "0") == 2
    assert "must be a positive number" in capsys.readouterr().err


def test_python_dash_m_labs():
    done = subprocess.run([sys.executable, "-m", "labs", "grade", "--help"], capture_output=True, text=True,
                          cwd=EXAMPLE.parents[1])
    assert done.returncode == 0 and "--total-timeout" in done.stdout


def test_unique_names():
    paths = [Path("a/lab.ipynb"), Path("b/lab.ipynb"), Path("b/x/lab.ipynb"), Path("c/alice.ipynb")]
    assert unique_names(paths) == ["lab", "b-lab", "x-lab", "alice"]
    assert unique_names([Path("a/lab.ipynb"), Path("a/lab.ipynb"), Path("a/lab.ipynb")]) == ["lab", "a-lab", "a-lab-2"]


# --- labs.check in plain Python -------------------------------------------------------------------------------

@pytest.fixture
def student_folder(lab, tmp_path, monkeypatch):
    release(lab, tmp_path)
    monkeypatch.chdir(tmp_path / "student")
    monkeypatch.delenv("NUMTORCH_GRADING", raising=False)
    return tmp_path / "student"


def test_check_prints_a_row_per_public_test(student_folder, capsys):
    import numpy as np

    relu = lambda x: x  # noqa: E731 (a wrong answer: negatives pass through)
    labs.check("ex1", namespace={"np": np, "relu": relu})
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"ex1: {LABEL}"
    assert "✅ test_relu_keeps_positive_values" in out
    assert "❌ test_relu_zeroes_negative_values: relu([-" in out and "expected [0.0, 0.0, 0.0, 0.0]. Hint: negative" in out
    assert out.strip().endswith("1 of 2 passed")


def test_check_uses_the_callers_globals(student_folder, capsys):
    namespace = {"labs": labs}
    exec("def mse(pred, target):\n    return 0.0\nlabs.check('ex2')", namespace)
    assert "✅ test_mse_of_equal_arrays_is_zero" in capsys.readouterr().out


def test_check_explains_problems(student_folder, tmp_path, monkeypatch, capsys):
    labs.check("ex9", namespace={})
    assert "no public tests for exercise 'ex9'" in capsys.readouterr().out
    labs.check("ex1", namespace={})
    assert "your notebook defines no `relu`" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    labs.check("ex1", namespace={})
    assert "there is no tests/public folder" in capsys.readouterr().out
    monkeypatch.setenv("NUMTORCH_GRADING", "1")
    labs.check("ex1", namespace={})
    assert "skipped while grading" in capsys.readouterr().out


def test_check_report_html_escapes_messages():
    report = CheckReport("ex1", [{"name": "test_a", "passed": False, "message": "got <b>"}], [])
    html = report._repr_html_()
    assert "got &lt;b&gt;" in html and "❌" in html and LABEL in html


# --- reports --------------------------------------------------------------------------------------------------

def a_grade():
    tests = [dict(id="tests/public/t.py::test_a", name="test_a", exercise="ex1", points=2, hidden=False),
             dict(id="tests/hidden/t.py::test_b", name="test_b", exercise="ex2", points=1, hidden=True)]
    tests[0].update(passed=True, message="")
    tests[1].update(passed=False, message="mse is off; hint: average")
    return Grade("alice", tests, ["Answer cell 'ex2-answer' raised ValueError: x."], 1.25,
                 written=[("why", "Downhill.\n\nIt is *steepest*.")])


def test_results_json_is_gradescope_shaped(lab):
    result = results_json(lab, a_grade())
    assert result["score"] == 2 and result["execution_time"] == 1.2
    assert result["output"].splitlines() == [f"{lab.title}: 2 / 3 points.", "Answer cell 'ex2-answer' raised ValueError: x."]
    public, hidden = result["tests"]
    assert public == {"name": "ex1 · test_a", "score": 2, "max_score": 2, "status": "passed", "output": "",
                      "tags": ["ex1"], "visibility": "visible"}
    assert hidden["visibility"] == "after_published" and hidden["status"] == "failed" and hidden["score"] == 0
    assert result["extra_data"]["exercises"] == {"ex1": 2, "ex2": 0, "ex3": 0}


def test_feedback_and_csv(lab, tmp_path):
    feedback = feedback_markdown(lab, a_grade())
    assert "**Score: 2 / 3**" in feedback and "- ❌ test_b (hidden): mse is off; hint: average" in feedback
    assert "## One SGD step — 0 / 0" in feedback
    assert feedback.endswith("## Written answers (not auto-graded: your instructor reads them)\n\n"
                             "**why**\n\n> Downhill.\n>\n> It is *steepest*.\n")
    write_grades_csv(lab, [a_grade()], tmp_path / "grades.csv")
    assert (tmp_path / "grades.csv").read_text().splitlines() == [
        "submission,ex1,ex2,ex3,total,notes", "alice,2,0,0,2,Answer cell 'ex2-answer' raised ValueError: x."]


def test_the_example_lab_is_not_released_by_make_lab(tmp_path):
    released = release_all(EXAMPLE.parent, tmp_path)
    assert all(not path.parent.name.startswith("_") for path, _ in released)
    assert os.path.isdir(EXAMPLE)
