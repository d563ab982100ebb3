"""Wrong answers and valid alternatives of a lab, graded through the real grader in one batch (issue 11).

A row names an exercise and rewrites one piece of the source notebook's answer cell (`old` -> `new`), as a
student in a hurry would, and says whether the answer must keep its points (a valid alternative) or lose some
(a wrong answer). The whole table is graded by `grade_all`, like a class, and each row must change its own
exercise's score and no other: one bug costs one exercise. The tests/test_lab_<NN>_answers.py files hold the
tables.

A long table can be graded in fewer submissions (`independent`, groups of exercises whose tests never use
each other's answers): all valid alternatives together in one, and the wrong answers of a group side by side
(the k-th of each of its exercises). Such a submission must lose points in exactly the exercises of its wrong
answers; an exercise downstream of another is never in its group, so every upstream bug is still graded next
to clean downstream exercises, which must keep their points.
"""
import copy
import re
from dataclasses import dataclass

import nbformat

from labs.grading import runner
from labs.grading.grade import Limits, grade_all
from labs.grading.lab import answer_exercises, cell_role

KEEPS, LOSES = True, False
EXERCISE_POINTS = re.compile(r"^#+ Exercise \d+\b.*\((\d+(?:\.\d+)?) points?\)", re.M)
TOTAL_POINTS = re.compile(r"\b(\w+) exercises, (\d+(?:\.\d+)?) points\b")
NUMBERS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


@dataclass(frozen=True)
class Answer:
    """One student answer: in answer cell `cell` of `exercise`, `old` rewritten as `new`."""

    exercise: str
    label: str
    cell: str
    old: str
    new: str
    keeps: bool
    says: str = ""  # a wrong answer: what one failure message of its exercise must say (the real cause)


def answered(lab, *rows):
    """The lab's source notebook with the rows' rewrites in their answer cells."""
    notebook = copy.deepcopy(lab.notebook)
    for row in rows:
        (cell,) = [cell for cell in notebook.cells if cell_role(cell)[0] == row.cell]
        assert cell.source.count(row.old) == 1, f"{row.label}: {row.old!r} is not in answer cell {row.cell!r} once"
        cell.source = cell.source.replace(row.old, row.new)
    return notebook


def submissions(rows, independent=()):
    """The rows as submissions (tuples of rows): one each, or packed along the `independent` groups."""
    if not independent:
        return [(row,) for row in rows]
    packed = [tuple(row for row in rows if row.keeps)]
    for group in independent:
        wrong = [[row for row in rows if not row.keeps and row.exercise == exercise] for exercise in group]
        packed += [tuple(column[k] for column in wrong if k < len(column)) for k in range(max(map(len, wrong)))]
    return packed + [(row,) for row in rows if not any(row in together for together in packed)]


def graded_with(rows, independent, row):
    """The rows graded in the same submission as `row`."""
    (together,) = [together for together in submissions(rows, independent) if row in together]
    return together


def grade_table(lab, rows, folder, independent=()):
    """{label: Grade} for every row, graded in one batch, two at a time (packed along `independent`)."""
    labels = [row.label for row in rows]
    assert len(set(labels)) == len(labels), "two rows with the same label"
    packed, paths = submissions(rows, independent), []
    for number, together in enumerate(packed):
        paths.append(folder / f"answer_{number:02d}.ipynb")
        nbformat.write(answered(lab, *together), paths[-1])
    limits = Limits(lab.config["cell_timeout"], lab.config["total_timeout"])
    grades = grade_all(lab, paths, [path.stem for path in paths], limits, jobs=2)
    return {row.label: grade for together, grade in zip(packed, grades) for row in together}


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


def check_hidden_share(lab):
    """Hidden tests carry at least half of the lab's points: the public ones are the formative part."""
    tests, _ = runner.collect(lab.folder)
    hidden, total = sum(t["points"] for t in tests if t["hidden"]), sum(t["points"] for t in tests)
    assert hidden >= total / 2, f"{lab.folder.name}: hidden tests carry {hidden:g} of {total:g} points; at least half"


def check_row(lab, row, grade, together=()):
    """A valid alternative keeps every point; a wrong answer loses points in its own exercise only (and in those
    of the wrong answers graded `together` with it), and every message it gets names a hint."""
    assert not grade.problem, f"{row.label}: the grader had a problem: {grade.problem}"
    marks, scores = full_marks(lab), grade.exercise_scores(lab.exercises())
    lost = sorted(exercise for exercise, points in marks.items() if scores.get(exercise, 0) < points - 1e-9)
    failures = "\n".join(f"  {t['id']}: {t['message']}" for t in grade.tests if not t["passed"])
    expected = sorted({r.exercise for r in (row, *together) if not r.keeps})
    others = "; ".join(r.label for r in together if r != row)
    assert lost == expected, (f"{row.label}{f' (graded with: {others})' if others else ''}: lost points in {lost}, "
                              f"expected {expected or 'none'}; notes: {grade.notes}\n{failures}")
    unhinted = [t["id"] for t in grade.tests if not t["passed"] and "Hint:" not in t["message"]]
    assert not unhinted, f"{row.label}: failures without a hint: {unhinted}\n{failures}"
    said = " ".join(t["message"] for t in grade.tests if not t["passed"] and t["exercise"] == row.exercise)
    assert row.says in said, f"{row.label}: no failure of {row.exercise} says {row.says!r}\n{failures}"


def check_stated_points(lab):
    """The points each exercise's heading states (and the intro's count and total, when it states them) are the
    points of its tests."""
    text = "\n".join(cell.source for cell in lab.notebook.cells if cell.cell_type == "markdown")
    marks = full_marks(lab)
    stated = [float(points) for points in EXERCISE_POINTS.findall(text)]
    assert stated == [marks[exercise] for exercise in lab.exercises()], (
        f"{lab.folder.name}: the headings state {stated} points, the tests give "
        f"{[marks[exercise] for exercise in lab.exercises()]} (in the order {lab.exercises()})")
    for count, total in TOTAL_POINTS.findall(text):
        assert (NUMBERS.get(count.lower()), float(total)) == (len(marks), sum(marks.values())), (
            f"{lab.folder.name}: the text says '{count} exercises, {total} points'; the tests have {len(marks)} "
            f"exercises and {sum(marks.values()):g} points")



def answer(lab, cell, label, keeps, *edits, says=""):
    """The Answer "<cell>: <label>" making the (old, new) `edits` in answer cell `cell` (several edits become one
    rewrite of the whole cell); its exercise is the cell's."""
    exercise = answer_exercises(lab.notebook.cells)[cell]
    (source,) = [c.source for c in lab.notebook.cells if cell_role(c)[0] == cell]
    if len(edits) == 1:
        return Answer(exercise, f"{cell}: {label}", cell, *edits[0], keeps, says)
    new = source
    for old, text in edits:
        assert new.count(old) == 1, f"{label}: {old!r} is not in answer cell {cell!r} once"
        new = new.replace(old, text)
    return Answer(exercise, f"{cell}: {label}", cell, source, new, keeps, says)
