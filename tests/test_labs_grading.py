"""The grader against a real kernel (nbclient): honest, broken and hostile submissions of the example lab.

One session fixture grades every submission below in a single `numtorch-labs grade -j 2` run; each test then
reads its own results.json. Every submission is built from the example lab's source (solved) or released
(blank) notebook, changed in one way. Example lab points: ex1 = 3 (2 public + 1 hidden), ex2 = 3, ex3 = 2.
"""
import copy
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
from machines import like_gradescope, skip_without_namespaces

from labs.cli import main
from labs.grading.lab import cell_role, load_lab
from labs.grading.release import release, student_notebook

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 10  # seconds per cell and per test in the batch (generous for a loaded machine); each endless loop costs this
FULL = {"ex1": 3, "ex2": 3, "ex3": 2}
SOLVED = {
    "ex1": "def relu(x):\n    return np.maximum(x, 0)",
    "ex2": "def mse(pred, target):\n    return np.mean((pred - target) ** 2)",
    "ex3": "def sgd_step(w, grad, lr):\n    return w - lr * grad",
}
WRITTEN = "Against the gradient is downhill.\n\nSee *exercise 3*."  # the written answer, not graded


def cell(notebook, cell_id):
    return next(c for c in notebook.cells if cell_role(c)[0] == cell_id)


def answered(notebook, **answers):
    """A copy of `notebook` with answer cells replaced: answered(nb, ex1="def relu...")."""
    notebook = copy.deepcopy(notebook)
    for exercise, source in answers.items():
        cell(notebook, f"{exercise}-answer").source = textwrap.dedent(source)
    return notebook


def solved(blank, **answers):
    """The release with every exercise solved, except those given, and the written answer written."""
    notebook = answered(blank, **dict(SOLVED, **answers))
    cell(notebook, "why").source = WRITTEN
    return notebook


def then(exercise, code):
    """The solution of `exercise` followed by `code`."""
    return SOLVED[exercise] + "\n" + textwrap.dedent(code)


def shuffled_locked(blank):
    """Solved, then every locked cell edited, moved, duplicated or deleted."""
    notebook = solved(blank)
    setup = cell(notebook, "setup")
    setup.source = "relu = mse = sgd_step = lambda *args: 'cheat'"
    check = cell(notebook, "ex1-check")
    check.source = "print('✅ all tests passed')"
    notebook.cells.remove(cell(notebook, "ex2-check"))
    duplicate = copy.deepcopy(setup)
    duplicate.id = "copy-of-setup"
    notebook.cells = notebook.cells[::-1] + [duplicate]
    notebook.cells.insert(0, nbformat.v4.new_code_cell("import numpy as np"))  # the student's own cell
    return notebook


def written_as_code(blank):
    """Solved, with the written answer turned into a code cell that would break every exercise if it ran."""
    notebook = solved(blank)
    why = cell(notebook, "why")
    notebook.cells[notebook.cells.index(why)] = nbformat.v4.new_code_cell("relu = mse = sgd_step = None",
                                                                        metadata=why.metadata)
    return notebook


def fake_outputs(blank):
    """The blank release whose saved outputs claim every check passed."""
    notebook = copy.deepcopy(blank)
    for c in notebook.cells:
        if cell_role(c)[1] == "check":
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✅ 3 of 3 passed\n")]
    return notebook


def submissions(source, blank, autograder):
    """{name: notebook or raw bytes}: every case the grader must survive."""
    hidden_test = autograder / "tests" / "hidden" / "test_example.py"
    return {
        "solved": source,
        "blank": blank,
        "endless_loop": solved(blank, ex2=then("ex2", "while True:\n    pass")),
        "unstoppable_loop": solved(blank, ex2=then("ex2", """
            import signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                try:
                    pass
                except BaseException:
                    pass""")),
        "os_exit": solved(blank, ex1=then("ex1", "import os\nos._exit(1)")),
        "segfault": solved(blank, ex3=then("ex3", "import ctypes\nctypes.string_at(0)")),
        "sys_exit": solved(blank, ex1=then("ex1", "import sys\nsys.exit('bye')")),
        "input": solved(blank, ex2="name = input('your name? ')\n" + SOLVED["ex2"]),
        "syntax_error": solved(blank, ex3="def sgd_step(w, grad, lr)\n    return w - lr * grad"),
        "locked_cells_shuffled": shuffled_locked(blank),
        "answer_deleted": without(solved(blank), "ex3-answer"),
        "scratch_cells": with_scratch(solved(blank, ex1="def relu(x):\n    return my_helper(x)")),
        "patched_helpers": solved(blank, ex1="relu = lambda x: x", ex2="""
            def mse(pred, target):
                return 0.0

            import labs, labs.testing, numpy, numpy.testing, builtins
            labs.check = lambda *args: print("✅ all tests passed")
            labs.testing.call = lambda *args, **kwargs: 2.5  # what the hidden test of mse wants
            numpy.allclose = numpy.isclose = lambda *args, **kwargs: True
            numpy.testing.assert_allclose = lambda *args, **kwargs: None
            builtins.round = lambda *args: 0
            def check(*args):
                return True
            """),
        "hidden_traceback": solved(blank, ex1="""
            get_ipython().showtraceback = lambda *args, **kwargs: None
            raise ValueError("nobody will see this")"""),
        "rewrites_tests": solved(blank, ex1="relu = None", ex3=then("ex3", f"""
            import pathlib
            pathlib.Path({str(hidden_test)!r}).write_text("def test_nothing(ns):\\n    pass\\n")
            for path in pathlib.Path('.').rglob('test_*.py'):
                path.write_text('')""")),
        "planted_test_modules": answered(blank, ex1="""
            import sys, types
            for name in ("tests.public.test_example", "tests.hidden.test_example"):
                sys.modules[name] = types.ModuleType(name)
                exec("def test_everything(ns):\\n    pass", sys.modules[name].__dict__)"""),
        "loops_in_test": solved(blank, ex2="def mse(pred, target):\n    while True:\n        pass"),
        "crashes_in_test": solved(blank, ex3="def sgd_step(w, grad, lr):\n    import os\n    os._exit(3)"),
        "huge_output": solved(blank, ex1=then("ex1", "print('spam ' * 4_000_000)\nfor i in range(20000):\n    print(i)")),
        "fake_outputs": fake_outputs(blank),
        "written_as_code": written_as_code(blank),
        "not_json": b"this is my essay, not a notebook",
        "not_a_notebook": b'{"answer": 42}',
        "binary": bytes(range(256)) * 4,
    }


def without(notebook, *ids):
    notebook = copy.deepcopy(notebook)
    notebook.cells = [c for c in notebook.cells if cell_role(c)[0] not in ids]
    return notebook


def with_scratch(notebook):
    """A student's own cell before the answer that uses it."""
    notebook = copy.deepcopy(notebook)
    helper = nbformat.v4.new_code_cell("def my_helper(x):\n    return np.where(x > 0, x, 0.0)")
    notebook.cells.insert(notebook.cells.index(cell(notebook, "ex1-answer")), helper)
    return notebook


@pytest.fixture(scope="session")
def released(tmp_path_factory):
    """The example lab released once: (out folder, lab)."""
    out = tmp_path_factory.mktemp("released")
    lab = load_lab(REPO / "labs" / "_example")
    release(lab, out, gradescope=True)
    return out, lab


@pytest.fixture(scope="session")
def graded(tmp_path_factory, released):
    """Grade every submission in one run; return (results folder, {name: results.json})."""
    out, lab = released
    autograder = tmp_path_factory.mktemp("batch") / "autograder"
    release(lab, autograder.parent)  # a copy of its own: a hostile submission here rewrites its tests
    folder = tmp_path_factory.mktemp("submissions")
    paths = []
    for name, content in submissions(lab.notebook, student_notebook(lab), autograder).items():
        path = folder / f"{name}.ipynb"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, path)
        paths.append(str(path))
    student = tmp_path_factory.mktemp("edited") / "student"  # a student folder whose public tests always pass
    shutil.copytree(out / "student", student)
    (student / "tests" / "public" / "test_example.py").write_text(
        "import pytest\n\n@pytest.mark.exercise('ex1')\n@pytest.mark.points(1)\ndef test_relu_keeps_positive_values(ns):\n    pass\n")
    nbformat.write(student_notebook(lab), student / "edited_public_tests.ipynb")
    paths.append(str(student / "edited_public_tests.ipynb"))
    results = tmp_path_factory.mktemp("results")
    with pytest.raises(SystemExit) as exit:
        main(["grade", str(autograder), *paths, "--out", str(results), "-j", "2", "--timeout", str(TIMEOUT)])
    assert exit.value.code == 0
    return results, {p.parent.name: json.loads(p.read_text()) for p in results.glob("*/results.json")}


def exercise_scores(result):
    scores = dict.fromkeys(FULL, 0)
    for test in result["tests"]:
        scores[test["tags"][0]] += test["score"]
    return scores


def expect(result, **scores):
    """The submission scored full marks except on the exercises given."""
    assert exercise_scores(result) == dict(FULL, **scores), result["output"]
    assert result["score"] == sum(dict(FULL, **scores).values())


def messages(result, exercise):
    return " ".join(t["output"] for t in result["tests"] if t["tags"] == [exercise])


def test_every_submission_gets_results_in_gradescope_format(graded, released):
    results, by_name = graded
    _, lab = released
    assert set(by_name) == set(submissions(lab.notebook, student_notebook(lab), results)) | {"edited_public_tests"}
    for result in by_name.values():
        assert {"score", "execution_time", "output", "tests"} <= set(result)
        for test in result["tests"]:
            assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
            assert test["status"] in ("passed", "failed")
            assert test["visibility"] == ("after_published" if "(hidden)" in test["name"] else "visible")
        assert sum(t["max_score"] for t in result["tests"]) == 8


def test_solved_and_blank(graded):
    _, by_name = graded
    expect(by_name["solved"])
    expect(by_name["blank"], ex1=0, ex2=0, ex3=0)
    assert "NotImplementedError" in messages(by_name["blank"], "ex1")
    assert by_name["solved"]["output"].startswith("Example lab: ReLU, MSE and one SGD step: 8 / 8 points.")


def test_an_endless_loop_costs_only_its_exercise(graded):
    _, by_name = graded
    for name in ("endless_loop", "unstoppable_loop"):
        expect(by_name[name], ex2=0)
        assert f"did not finish within {TIMEOUT} s" in messages(by_name[name], "ex2")


def test_a_crashed_kernel_is_restarted(graded):
    _, by_name = graded
    expect(by_name["os_exit"], ex1=0)
    expect(by_name["segfault"], ex3=0)
    assert "crashed the Python kernel" in messages(by_name["os_exit"], "ex1")


def test_sys_exit_input_and_syntax_errors_are_cell_errors(graded):
    _, by_name = graded
    expect(by_name["sys_exit"])  # the cell raised after defining relu: the tests decide
    assert "raised SystemExit: bye" in by_name["sys_exit"]["output"]
    expect(by_name["input"], ex2=0)
    assert "StdinNotImplementedError" in by_name["input"]["output"]
    expect(by_name["syntax_error"], ex3=0)
    assert "raised SyntaxError" in by_name["syntax_error"]["output"]


def test_locked_cells_are_restored_from_the_lab(graded):
    _, by_name = graded
    result = by_name["locked_cells_shuffled"]
    expect(result)
    for note in ("Locked cell 'setup' was edited", "Locked cell 'setup' appears 2 times",
                 "Locked cell 'ex1-check' was edited", "Locked cell 'ex2-check' was deleted", "were moved"):
        assert note in result["output"]


def test_a_deleted_answer_is_unanswered_and_scratch_cells_run(graded):
    _, by_name = graded
    expect(by_name["answer_deleted"], ex3=0)
    assert "Answer cell 'ex3-answer' is missing" in by_name["answer_deleted"]["output"]
    expect(by_name["scratch_cells"])


def test_patched_helpers_and_hidden_tracebacks_do_not_fool_the_grader(graded):
    _, by_name = graded
    result = by_name["patched_helpers"]
    expect(result, ex1=1, ex2=1)  # relu = identity keeps positives only; mse = 0 is right for equal arrays only
    assert "negative values become 0" in messages(result, "ex1")
    hidden = by_name["hidden_traceback"]
    expect(hidden, ex1=0)
    assert "raised ValueError: nobody will see this" in hidden["output"]


def test_tests_come_from_the_autograder_read_before_grading(graded):
    _, by_name = graded
    expect(by_name["edited_public_tests"], ex1=0, ex2=0, ex3=0)
    expect(by_name["rewrites_tests"], ex1=0)  # its rewrite of the autograder's tests changed nothing
    expect(by_name["solved"])


def test_planted_test_modules_are_not_used(graded):
    _, by_name = graded
    expect(by_name["planted_test_modules"], ex1=0, ex2=0, ex3=0)
    assert "NotImplementedError" in messages(by_name["planted_test_modules"], "ex2")


def test_a_test_that_loops_or_crashes_fails_alone(graded):
    _, by_name = graded
    expect(by_name["loops_in_test"], ex2=0)
    assert f"this test did not finish within {TIMEOUT} s" in messages(by_name["loops_in_test"], "ex2")
    expect(by_name["crashes_in_test"], ex3=0)
    assert "this test crashed the Python kernel" in messages(by_name["crashes_in_test"], "ex3")


def test_huge_output_is_capped(graded):
    results, by_name = graded
    expect(by_name["huge_output"])
    assert (results / "huge_output" / "graded.ipynb").stat().st_size < 300_000


def test_saved_outputs_are_ignored(graded):
    _, by_name = graded
    expect(by_name["fake_outputs"], ex1=0, ex2=0, ex3=0)


def test_written_answers_are_kept_for_the_instructor_never_run_nor_scored(graded):
    results, by_name = graded
    expect(by_name["solved"])
    expect(by_name["written_as_code"])  # had it run, no exercise would score
    expect(by_name["scratch_cells"])
    feedback = (results / "scratch_cells" / "feedback.md").read_text()
    assert feedback.endswith("## Written answers (not auto-graded: your instructor reads them)\n\n**why**\n\n"
                             "```text\nAgainst the gradient is downhill.\n\nSee *exercise 3*.\n```\n")
    assert "\nrelu = mse = sgd_step = None\n" in (results / "written_as_code" / "feedback.md").read_text()
    assert "\nYOUR ANSWER HERE\n" in (results / "blank" / "feedback.md").read_text()
    (why,) = [c for c in nbformat.read(results / "scratch_cells" / "graded.ipynb", 4).cells if cell_role(c)[0] == "why"]
    assert why.cell_type == "markdown" and why.source == WRITTEN


def test_files_that_are_not_notebooks(graded):
    _, by_name = graded
    for name, reason in [("not_json", "not a Jupyter notebook"), ("not_a_notebook", "not a Jupyter notebook"),
                         ("binary", "not a text file")]:
        result = by_name[name]
        assert result["score"] == 0 and reason in result["output"], result["output"]
        assert all(t["output"].startswith("not graded") for t in result["tests"])


def test_feedback_and_grades_csv(graded):
    results, by_name = graded
    feedback = (results / "endless_loop" / "feedback.md").read_text()
    assert "**Score: 5 / 8**" in feedback and "## Mean squared error — 0 / 3" in feedback
    assert "test_mse_value (hidden)" in feedback
    assert "np.isclose(got, 2.5)" not in feedback and "def test_" not in feedback  # no test source
    with open(results / "grades.csv", newline="") as table:
        rows = {row["submission"]: row for row in csv.DictReader(table)}
    assert set(rows) == set(by_name)
    assert (rows["endless_loop"]["ex1"], rows["endless_loop"]["ex2"], rows["endless_loop"]["total"]) == ("3", "0", "5")


def test_total_timeout_stops_the_rest_of_the_notebook(released, tmp_path, capsys):
    out, lab = released
    path = tmp_path / "slow.ipynb"
    nbformat.write(solved(student_notebook(lab), ex1=then("ex1", "import time\ntime.sleep(30)")), path)
    code = main_code("grade", out / "autograder", path, "--out", tmp_path / "r", "--timeout", "20", "--total-timeout", "6")
    result = json.loads((tmp_path / "r" / "slow" / "results.json").read_text())
    assert code == 0 and result["score"] == 0, result["output"]
    assert "(all cells together get 6 s)" in messages(result, "ex1")
    assert "not run: all cells together ran out of 6 s" in messages(result, "ex2")


def test_replays_after_a_crash_count_against_the_total_timeout(released, tmp_path):
    out, lab = released
    path = tmp_path / "replayed.ipynb"
    notebook = solved(student_notebook(lab), ex1=then("ex1", "import time\ntime.sleep(3)"),
                      ex2=then("ex2", "import os\nos._exit(1)"))
    nbformat.write(notebook, path)
    code = main_code("grade", out / "autograder", path, "--out", tmp_path / "r", "--total-timeout", "6")
    result = json.loads((tmp_path / "r" / "replayed" / "results.json").read_text())
    assert code == 0 and "not run: all cells together ran out of 6 s" in messages(result, "ex3"), result["output"]


def main_code(*argv):
    with pytest.raises(SystemExit) as exit:
        main([str(arg) for arg in argv])
    return exit.value.code


def test_validate_the_example_lab(capsys):
    assert main_code("validate", REPO / "labs" / "_example") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == ["  ✅ structure: 3 exercises, 7 tests (4 public, 3 hidden), 8 points"] + lines[2:]
    assert lines[2].startswith("  ✅ the solutions: 8/8 points") and lines[3].startswith("  ✅ the student release: 0/8")


def test_validate_says_a_broken_test_is_the_graders_problem(tmp_path, capsys):
    """A test whose snippet does not compile fails in the sandboxed run as the grader's problem, never the student's."""
    lab = Path(shutil.copytree(REPO / "labs" / "_example", tmp_path / "example"))
    with open(lab / "tests" / "public" / "test_example.py", "a") as tests:
        tests.write(textwrap.dedent('''

            @pytest.mark.exercise("ex1")
            @pytest.mark.points(1)
            def test_broken_snippet(student):
                student.run("result = relu(1.0)\\n" + """
                    extra = 1
                """)
        '''))
    assert main_code("validate", lab) == 1
    out = capsys.readouterr().out
    mistake = "its snippet does not compile (IndentationError: unexpected indent (<test snippet>, line 3))"
    problem = f"grader problem: the test tests/public/test_example.py::test_broken_snippet is broken: {mistake}"
    assert out.count(problem) == 2, out  # the solutions and the release
    assert ("fails: tests/public/test_example.py::test_broken_snippet: the grader had a problem with this test, "
            f"not you (your instructor will fix it and regrade): {mistake}") in out
    assert "raised" not in out and "Hint" not in out


def test_check_in_a_real_kernel(released, tmp_path):
    """labs.check in the student's own kernel: rich ✅/❌ rows under the public-tests label."""
    from nbclient import NotebookClient

    out, lab = released
    folder = tmp_path / "student"
    shutil.copytree(out / "student", folder)
    notebook = solved(student_notebook(lab), ex2="def mse(pred, target):\n    return 0.0")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.pop("NUMTORCH_GRADING", None)
    NotebookClient(notebook, timeout=60, allow_errors=False).execute(cwd=str(folder), env=env)
    html = {c.metadata.numtorch["id"]: "".join(o.get("data", {}).get("text/html", "") for o in c.outputs)
            for c in notebook.cells if cell_role(c)[1] == "check"}
    assert "public tests — hidden tests run at grading" in html["ex1-check"]
    assert html["ex1-check"].count("✅") == 2 and "2 of 2 passed" in html["ex1-check"]
    assert html["ex2-check"].count("✅") == 1  # mse = 0 passes the one public test: hidden tests will not
    text = "".join(o["data"]["text/plain"] for o in cell(notebook, "ex3-check").outputs)
    assert text.startswith("ex3: public tests — hidden tests run at grading\n✅ test_sgd_step")


@pytest.fixture(scope="session")
def gradescope():
    """Lab 1's autograder.zip unzipped as Gradescope does, and the environment of a clean venv that the zip's own
    setup.sh built from its requirements.txt alone (not the dev venv): (autograder root, env, lab). In a folder
    other users can pass through (pytest's own is closed), as / is on Gradescope."""
    lab = load_lab(REPO / "labs" / "01_tensors")
    out = Path(tempfile.mkdtemp(prefix="numtorch-gradescope-"))
    out.chmod(0o755)
    try:
        yield _unzip_and_set_up(lab, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _unzip_and_set_up(lab, out):
    release(lab, out / "release", gradescope=True)
    root = out / "autograder"
    with zipfile.ZipFile(out / "release" / "autograder.zip") as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(out / "venv")], check=True)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(AUTOGRADER_ROOT=str(root), PATH=f"{out / 'venv' / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin")
    built = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    return root, env, lab


def overwriting(notebook, root):
    """`notebook` with a last cell that tries to overwrite results.json and run_autograder and list the source."""
    hostile = copy.deepcopy(notebook)
    hostile.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(f"""
        import pathlib
        for path in [{str(root / "results" / "results.json")!r}, {str(root / "source" / "run_autograder")!r}]:
            try:
                pathlib.Path(path).write_text('{{"score": 1000}}')
                print("WROTE", path)
            except OSError as error:
                print("REFUSED", type(error).__name__)
        try:
            print("SOURCE", list(pathlib.Path({str(root / "source")!r}).glob("**/*.py"))[:3])
        except OSError as error:
            print("SOURCE REFUSED", type(error).__name__)""")))
    return hostile


def test_the_gradescope_autograder_zip(gradescope):
    """run_autograder as Gradescope runs it, in the clean venv: no notebook, the solutions, and a submission that
    tries to rewrite results.json and read the autograder's source."""
    root, env, lab = gradescope
    run = lambda: subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,  # noqa: E731
                                 text=True, timeout=600)
    (root / "submission").mkdir()
    run()
    assert "No .ipynb file" in json.loads((root / "results" / "results.json").read_text())["output"]
    nbformat.write(lab.notebook, root / "submission" / "my_lab.ipynb")
    done = run()
    result = json.loads((root / "results" / "results.json").read_text())
    assert result["score"] == 12 and "not sandboxed" not in result["output"], done.stdout + done.stderr
    nbformat.write(overwriting(lab.notebook, root), root / "submission" / "my_lab.ipynb")
    done = run()
    result = json.loads((root / "results" / "results.json").read_text())
    assert result["score"] == 12, done.stdout + done.stderr
    assert "1000" not in (root / "source" / "run_autograder").read_text()


def test_the_gradescope_autograder_zip_without_bubblewrap(gradescope):
    """Gradescope's container has no bubblewrap and its Python is open to every user: run_autograder's
    `--sandbox require` then runs the student's code as an unprivileged user id. Here, as root in a private
    mount namespace made to look like that (tests/machines.py): bwrap is /bin/false and pyenv's Python is
    open to others. The solutions get full marks; a cell trying to overwrite the results and read the
    autograder source is refused."""
    root, env, lab = gradescope
    python = Path(env["PATH"].split(os.pathsep)[0]) / "python"
    where = "import os, sys; print(sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)))"
    roots = subprocess.run([str(python), "-c", where], capture_output=True, text=True, check=True).stdout.split()
    command = like_gradescope(["bash", root / "source" / "run_autograder"], roots, hide_bubblewrap=True)
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    nbformat.write(overwriting(lab.notebook, root), root / "submission" / "my_lab.ipynb")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    skip_without_namespaces(done)
    assert "sandbox: user" in done.stdout, done.stdout + done.stderr
    result = json.loads((root / "results" / "results.json").read_text())
    assert result["score"] == 12 and "not sandboxed" not in result["output"], done.stdout + done.stderr
    assert "1000" not in (root / "source" / "run_autograder").read_text()


def test_console_script():
    script = shutil.which("numtorch-labs", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "labs"]
    done = subprocess.run([*command, "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "release-all" in done.stdout
