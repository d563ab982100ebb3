"""Wrong-answer tables (issue 11): variants of a lab's reference solutions, graded by the real grader.

A variant edits the source notebook's answer cells the way a hurried student would (`Variant.edits`: cell id,
the text of the solution it replaces, the text it writes instead). A wrong answer must lose points in exactly
its own exercise; a valid alternative must keep full marks everywhere. Every variant of a lab is graded in
one batch, so a table costs one grading run:

    VARIANTS = [wrong("sgd", "ignores lr", ("sgd", "return self.lr * grad", "return grad")), ...]
    graded = grade_variants(LAB, VARIANTS, tmp_path)       # {variant name: Grade}
    check_variant(LAB, graded, variant)                    # the assertion of one table row
"""
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labs.grading.grade import Limits, grade_all
from labs.grading.lab import cell_role, load_lab


@dataclass(frozen=True)
class Variant:
    """One row of a table: `exercise` loses points (a wrong answer), or None (a valid alternative)."""

    exercise: str
    name: str
    edits: tuple
    valid: bool
    says: str = ""  # a wrong answer: text one of its failure messages must contain (the real cause)

    @property
    def id(self):
        return f"{self.exercise}: {'valid' if self.valid else 'wrong'}: {self.name}"


def wrong(exercise, name, *edits, says=""):
    return Variant(exercise, name, edits, valid=False, says=says)


def valid(exercise, name, *edits):
    return Variant(exercise, name, edits, valid=True)


def variant_notebook(lab, variant):
    """The source notebook with the variant's edits made in its answer cells."""
    notebook = nbformat.from_dict(lab.notebook)
    cells = {cell_role(cell)[0]: cell for cell in notebook.cells}
    for cell_id, old, new in variant.edits:
        source = cells[cell_id].source
        assert source.count(old) == 1, f"{variant.id}: {old!r} is not once in cell '{cell_id}'"
        cells[cell_id].source = source.replace(old, new)
    return notebook


def grade_variants(folder, variants, out):
    """{variant id: Grade} for every variant, graded in one batch (two at a time) into the folder `out`."""
    lab = load_lab(folder)
    paths = []
    for number, variant in enumerate(variants):
        paths.append(Path(out) / f"variant_{number:02d}.ipynb")
        nbformat.write(variant_notebook(lab, variant), paths[-1])
    limits = Limits(lab.config["cell_timeout"], lab.config["total_timeout"])
    grades = grade_all(lab, paths, [p.stem for p in paths], limits, jobs=2)
    return {variant.id: grade for variant, grade in zip(variants, grades)}


def check_variant(folder, graded, variant):
    """A wrong answer loses points in its exercise only; a valid alternative loses none."""
    lab = load_lab(folder)
    grade = graded[variant.id]
    exercises = lab.exercises()
    full = {exercise: sum(t["points"] for t in grade.tests if t["exercise"] == exercise) for exercise in exercises}
    scores = grade.exercise_scores(exercises)
    failures = "\n".join(f"  {t['id']}: {t['message']}" for t in grade.tests if not t["passed"])
    lost = sorted(exercise for exercise in exercises if scores[exercise] < full[exercise])
    expected = [] if variant.valid else [variant.exercise]
    assert not grade.problem, f"{variant.id}: grader problem: {grade.problem}"
    assert lost == expected, f"{variant.id}: lost points in {lost}, expected {expected}; failed tests:\n{failures}"
    unhinted = [t["id"] for t in grade.tests if not t["passed"] and "Hint:" not in t["message"]]
    assert not unhinted, f"{variant.id}: failure messages without a hint:\n{failures}"
    messages = " ".join(t["message"] for t in grade.tests if not t["passed"])
    assert variant.says in messages, f"{variant.id}: no failure message says {variant.says!r}:\n{failures}"


def check_table(variants, exercises):
    """At least two wrong answers and one valid alternative for every exercise."""
    kinds = Counter((variant.exercise, variant.valid) for variant in variants)
    missing = [exercise for exercise in exercises if kinds[exercise, False] < 2 or kinds[exercise, True] < 1]
    assert not missing, f"exercises without two wrong answers and one valid alternative: {missing}"
