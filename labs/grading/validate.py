"""`numtorch-labs validate LAB`: the lab is well formed, its solutions score full marks and its release 0."""
import copy
import tempfile
from pathlib import Path

import nbformat

from labs.fetch import with_install_cell
from labs.grading import runner
from labs.grading.grade import Limits, grade_all
from labs.grading.lab import (BEGIN_SOLUTION, END_SOLUTION, ROLES, STUDENT_ROLES, answer_exercises, cell_role,
                              checked_exercise)
from labs.grading.release import student_notebook

OK, BAD = "✅", "❌"


def cell_problems(lab):
    """Problems with cell ids, roles and solution markers."""
    problems, ids = [], []
    for number, cell in enumerate(lab.notebook.cells):
        cell_id, role = cell_role(cell)
        name = f"cell {number}" + (f" ('{cell_id}')" if cell_id else "")
        if "numtorch" in cell.metadata:
            ids.append(cell_id)
            if not cell_id:
                problems.append(f"{name}: metadata.numtorch has no id")
            if role not in ROLES:
                problems.append(f"{name}: role {role!r} is not one of {', '.join(ROLES)}")
            problems += written_problems(name, cell, role)
        lines = [line.strip() for line in cell.source.splitlines()]
        begins, ends = lines.count(BEGIN_SOLUTION), lines.count(END_SOLUTION)
        if (begins or ends) and role not in STUDENT_ROLES:
            problems.append(f"{name}: solution markers outside an answer or written cell would leak the solution")
        if begins != ends:
            problems.append(f"{name}: {begins} '{BEGIN_SOLUTION}' but {ends} '{END_SOLUTION}'")
    problems += [f"cell id '{i}' is used more than once" for i in sorted({i for i in ids if i and ids.count(i) > 1})]
    return problems


def written_problems(name, cell, role):
    """Problems with a written answer (markdown, never graded) or an answer cell that should be one."""
    if role == "written" and cell.cell_type != "markdown":
        return [f"{name}: a written answer is a markdown cell (code in it would never run)"]
    if role == "written" and "exercise" in cell.metadata.numtorch:
        return [f"{name}: a written answer is not graded, so it belongs to no exercise: remove \"exercise\""]
    if role == "answer" and cell.cell_type != "code":
        return [f"{name}: an answer cell is code that tests grade; give a markdown answer the role \"written\""]
    return []


def exercise_problems(lab, tests):
    """Problems linking answer cells, check cells, tests and lab.toml's exercises."""
    exercises = lab.exercises()
    problems = [f"answer cell '{cell_id}' has no check cell after it: add one or set metadata.numtorch.exercise"
                for cell_id, exercise in answer_exercises(lab.notebook.cells).items() if exercise is None]
    problems += [f"check cell '{cell_role(cell)[0]}' does not say which exercise it checks: labs.check(\"<id>\")"
                 for cell in lab.notebook.cells if cell_role(cell)[1] == "check" and not checked_exercise(cell)]
    tested = {test["exercise"] for test in tests}
    problems += [f"exercise '{exercise}' has no tests" for exercise in exercises if exercise not in tested]
    for test in tests:
        if test["exercise"] not in exercises:
            problems.append(f"{test['id']}: exercise {test['exercise']!r} is not in the notebook "
                            "(mark it @pytest.mark.exercise(\"<id>\") with an id of a check cell)")
        if not isinstance(test["points"], (int, float)) or test["points"] <= 0:
            problems.append(f"{test['id']}: worth {test['points']!r} points; mark it @pytest.mark.points(<n>)")
    problems += [f"lab.toml: [exercises.{exercise}] is not in the notebook"
                 for exercise in lab.config.get("exercises", {}) if exercise not in exercises]
    return problems


def config_problems(lab):
    """Problems with lab.toml's numbers."""
    config = lab.config
    problems = [] if isinstance(config["seed"], int) else [f"lab.toml: seed must be an integer, not {config['seed']!r}"]
    return problems + [f"lab.toml: {key} must be a positive number of seconds, not {config[key]!r}"
                       for key in ("cell_timeout", "total_timeout")
                       if not isinstance(config[key], (int, float)) or config[key] <= 0]


def structure(lab, say):
    """Check everything that needs no kernel, saying what is wrong; True when nothing is."""
    tests, errors = runner.collect(lab.folder)
    problems = errors + config_problems(lab) + cell_problems(lab) + exercise_problems(lab, tests)
    if not tests and not errors:
        problems.append("no tests found in tests/public or tests/hidden (files named test_*.py)")
    if problems:
        say(f"  {BAD} structure:\n" + "\n".join(f"      - {problem}" for problem in problems))
        return False
    hidden = sum(test["hidden"] for test in tests)
    points = sum(test["points"] for test in tests)
    say(f"  {OK} structure: {len(lab.exercises())} exercises, {len(tests)} tests "
        f"({len(tests) - hidden} public, {hidden} hidden), {points:g} points")
    return True


def judge(label, grade, should_pass, say):
    """Say whether one grading run came out as it should (every test passing, or none); details when not."""
    wrong = [test for test in grade.tests if test["passed"] != should_pass]
    ok = not wrong and not grade.problem and not (should_pass and grade.notes)
    say(f"  {OK if ok else BAD} {label}: {grade.score:g}/{grade.max_score:g} points ({grade.seconds:.1f} s)")
    if not ok:
        details = (grade.notes if should_pass else []) + [f"grader problem: {grade.problem}"] * bool(grade.problem)
        details += [f"{'passes' if t['passed'] else 'fails'}: {t['id']}" + (f": {t['message']}" * bool(t["message"]))
                    for t in wrong]
        say("\n".join(f"      - {line}" for line in details))
    return ok


def validate(lab, say=print):
    """Validate `lab`, saying each finding; True when it is ready to release."""
    say(f"{lab.folder}: {lab.title}")
    if not structure(lab, say):
        return False
    with tempfile.TemporaryDirectory(prefix="numtorch-validate-") as folder:
        release, solutions = Path(folder) / lab.notebook_path.name, Path(folder) / "solutions.ipynb"
        nbformat.write(student_notebook(lab), release)
        nbformat.write(with_install_cell(copy.deepcopy(lab.notebook), lab.slug), solutions)  # as released
        limits = Limits(lab.config["cell_timeout"], lab.config["total_timeout"])
        solved, unsolved = grade_all(lab, [solutions, release], ["solutions", "release"], limits, jobs=2)
    return judge("the solutions", solved, True, say) & judge("the student release", unsolved, False, say)
