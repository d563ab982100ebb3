"""Wrong answers and valid alternatives of a lab, graded through the real grader in one batch (issue 11).

A row names an exercise and rewrites one piece of the source notebook's answer cell (`old` -> `new`), as a
student in a hurry would, and says whether the answer must keep its points (a valid alternative) or lose some
(a wrong answer). The whole table is graded by `grade_all`, like a class, and each row must change its own
exercise's score and no other: one bug costs one exercise. The tests/test_lab_<NN>_answers.py files hold the
tables.
"""
import copy
from dataclasses import dataclass

import nbformat

from labs.grading import runner
from labs.grading.grade import Limits, grade_all
from labs.grading.lab import cell_role

KEEPS, LOSES = True, False


@dataclass(frozen=True)
class Answer:
    """One student answer: in answer cell `cell` of `exercise`, `old` rewritten as `new`."""

    exercise: str
    label: str
    cell: str
    old: str
    new: str
    keeps: bool


def answered(lab, row):
    """The lab's source notebook with the row's rewrite in its answer cell."""
    notebook = copy.deepcopy(lab.notebook)
    (cell,) = [cell for cell in notebook.cells if cell_role(cell)[0] == row.cell]
    assert cell.source.count(row.old) == 1, f"{row.label}: {row.old!r} is not in answer cell {row.cell!r} once"
    cell.source = cell.source.replace(row.old, row.new)
    return notebook


def grade_table(lab, rows, folder):
    """{label: Grade} for every row, graded in one batch, two at a time."""
    labels = [row.label for row in rows]
    assert len(set(labels)) == len(labels), "two rows with the same label"
    paths = []
    for number, row in enumerate(rows):
        paths.append(folder / f"answer_{number:02d}.ipynb")
        nbformat.write(answered(lab, row), paths[-1])
    limits = Limits(lab.config["cell_timeout"], lab.config["total_timeout"])
    return dict(zip(labels, grade_all(lab, paths, labels, limits, jobs=2)))


def full_marks(lab):
    """{exercise: its points} from the lab's tests."""
    tests, errors = runner.collect(lab.folder)
    assert not errors, errors
    marks = {}
    for test in tests:
        marks[test["exercise"]] = marks.get(test["exercise"], 0) + test["points"]
    return marks


def check_coverage(lab, rows):
    """Every exercise has at least two wrong answers and one valid alternative in the table."""
    for exercise in full_marks(lab):
        kinds = [row.keeps for row in rows if row.exercise == exercise]
        assert kinds.count(LOSES) >= 2 and kinds.count(KEEPS) >= 1, (
            f"{lab.folder.name}: exercise {exercise!r} has {kinds.count(LOSES)} wrong answers and "
            f"{kinds.count(KEEPS)} valid alternatives in the table; it needs at least 2 and 1")


def check_row(lab, row, grade):
    """A valid alternative keeps every point; a wrong answer loses points in its own exercise only, and every
    message it gets names a hint."""
    assert not grade.problem, f"{row.label}: the grader had a problem: {grade.problem}"
    marks, scores = full_marks(lab), grade.exercise_scores(lab.exercises())
    lost = sorted(exercise for exercise, points in marks.items() if scores.get(exercise, 0) < points - 1e-9)
    failures = "\n".join(f"  {t['id']}: {t['message']}" for t in grade.tests if not t["passed"])
    expected = [] if row.keeps else [row.exercise]
    assert lost == expected, (f"{row.label}: lost points in {lost}, expected {expected or 'none'}; notes: "
                              f"{grade.notes}\n{failures}")
    unhinted = [t["id"] for t in grade.tests if not t["passed"] and "Hint:" not in t["message"]]
    assert not unhinted, f"{row.label}: failures without a hint: {unhinted}\n{failures}"
