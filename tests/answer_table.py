"""Wrong-answer tables (issue 11): variants of a lab's reference solutions, graded by the real grader.

A variant edits the source notebook's answer cells the way a hurried student would (`Variant.edits`: cell id,
the text of the solution it replaces, the text it writes instead). A wrong answer must lose points in its own
exercise and nowhere else; a valid alternative must keep full marks everywhere. A lab's table is graded in one
batch of few submissions: all valid alternatives in one, and wrong answers of *independent* exercises (whose
tests never use each other's answers) side by side, so that a submission must lose points in exactly the
exercises of its wrong answers. An exercise downstream of another is never packed with it, so every upstream
bug is graded next to clean downstream exercises, which must keep their points:

    VARIANTS = [wrong("sgd", "ignores lr", ("sgd", "return self.lr * grad", "return grad")), ...]
    graded = grade_variants(LAB, VARIANTS, tmp_path, independent=[{"sgd", "adam"}])
    check_variant(LAB, graded, variant)                    # the assertion of one table row
"""
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labs.grading import runner
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


def variant_notebook(lab, edits):
    """The source notebook with `edits` ((cell id, old, new), ...) made in its answer cells."""
    notebook = nbformat.from_dict(lab.notebook)
    cells = {cell_role(cell)[0]: cell for cell in notebook.cells}
    for cell_id, old, new in edits:
        source = cells[cell_id].source
        assert source.count(old) == 1, f"{old!r} is not once in cell '{cell_id}'"
        cells[cell_id].source = source.replace(old, new)
    return notebook


def submissions(variants, independent):
    """The variants packed into submissions: all valid alternatives together, and wrong answers side by side
    (the k-th of each exercise of a group) only for exercises of one group of `independent` exercises, whose
    tests do not use each other's answers. A list of lists of variants."""
    packed = [[variant for variant in variants if variant.valid]]
    for group in independent:
        rows = [[v for v in variants if not v.valid and v.exercise == exercise] for exercise in group]
        packed += [[row[k] for row in rows if k < len(row)] for k in range(max(map(len, rows)))]
    unpacked = [v for v in variants if not any(v in submission for submission in packed)]
    return packed + [[variant] for variant in unpacked]


def grade_variants(folder, variants, out, independent=()):
    """{variant id: (Grade, the variants graded with it)}, every submission graded in one batch (two at a time)."""
    lab = load_lab(folder)
    packed, paths = submissions(variants, independent), []
    for number, together in enumerate(packed):
        paths.append(Path(out) / f"submission_{number:02d}.ipynb")
        nbformat.write(variant_notebook(lab, [edit for variant in together for edit in variant.edits]), paths[-1])
    limits = Limits(lab.config["cell_timeout"], lab.config["total_timeout"])
    grades = grade_all(lab, paths, [p.stem for p in paths], limits, jobs=2)
    return {variant.id: (grade, together) for together, grade in zip(packed, grades) for variant in together}


def check_variant(folder, graded, variant):
    """A wrong answer loses points in its exercise, and the submission that carries it loses points in no
    exercise but those of its wrong answers; a valid alternative loses none. Failures say why, with a hint."""
    exercises = load_lab(folder).exercises()
    grade, together = graded[variant.id]
    full = {exercise: sum(t["points"] for t in grade.tests if t["exercise"] == exercise) for exercise in exercises}
    scores = grade.exercise_scores(exercises)
    failed = [t for t in grade.tests if not t["passed"]]
    report = "\n".join(f"  {t['id']}: {t['message']}" for t in failed)
    lost = sorted(exercise for exercise in exercises if scores[exercise] < full[exercise])
    expected = sorted(v.exercise for v in together if not v.valid)
    graded_with = "; ".join(v.id for v in together if v != variant) or "nothing else"
    assert not grade.problem, f"{variant.id}: grader problem: {grade.problem}"
    assert lost == expected, (f"{variant.id} (graded with {graded_with}): lost points in {lost}, expected "
                              f"{expected}; failed tests:\n{report}")
    unhinted = [t["id"] for t in failed if "Hint:" not in t["message"]]
    assert not unhinted, f"{variant.id}: failure messages without a hint:\n{report}"
    messages = " ".join(t["message"] for t in failed if t["exercise"] == variant.exercise)
    assert variant.says in messages, f"{variant.id}: no failure message of its exercise says {variant.says!r}:\n{report}"
def check_table(variants, exercises):
    """At least two wrong answers and one valid alternative for every exercise."""
    kinds = Counter((variant.exercise, variant.valid) for variant in variants)
    missing = [exercise for exercise in exercises if kinds[exercise, False] < 2 or kinds[exercise, True] < 1]
    assert not missing, f"exercises without two wrong answers and one valid alternative: {missing}"


def check_hidden_share(folder):
    """Hidden tests carry at least half of the lab's points (public tests are the formative part)."""
    tests, errors = runner.collect(Path(folder))
    assert not errors, errors
    hidden = sum(t["points"] for t in tests if t["hidden"])
    total = sum(t["points"] for t in tests)
    assert hidden >= total / 2, f"{Path(folder).name}: hidden tests carry {hidden:g} of {total:g} points"


def cell_sources(folder):
    """{cell id: source} of the lab's source notebook (for tests that recompute what its text states)."""
    return {cell_role(cell)[0]: cell.source for cell in load_lab(folder).notebook.cells}
