"""Put a submission's cells back in the lab's shape before it runs.

Locked cells (setup, check, locked) always come from the lab, whatever the student did to them: edited,
deleted, duplicated or moved. Answer cells come from the student, matched by `metadata.numtorch.id`; a
deleted answer becomes the released stub (unanswered). Written answers come from the student the same
way, always as markdown, so they never run. The student's own cells (no id) stay, each after
the lab cell it followed in the submission. A source cell without an id is the student's too: it was
released as it is, so the submission's copy (edited, moved or deleted) is what runs. Every repair is
noted, so the feedback can say what happened.
"""
import copy
from dataclasses import dataclass

import nbformat

from labs.grading.lab import STUDENT_ROLES, answer_exercises, cell_role
from labs.grading.release import student_notebook


@dataclass
class Step:
    """One cell of the graded notebook and where it came from."""

    cell: nbformat.NotebookNode
    role: str  # answer, written, setup, check, locked, or scratch for the student's own cells
    cell_id: str = None
    exercise: str = None


def lab_cells(lab):
    """The released cells the grader restores: those with an id (a cell without one is the student's)."""
    return [cell for cell in student_notebook(lab).cells if cell_role(cell)[0] is not None]


def group_cells(cells, known_ids):
    """{lab cell id: the submission's copies of that cell and the student's cells after it}; None = before any."""
    groups, anchor = {}, None
    for cell in cells:
        cell_id = cell_role(cell)[0]
        if cell_id in known_ids:
            anchor = cell_id
        groups.setdefault(anchor, []).append(cell)
    return groups


def restore(lab, submission):
    """The cells to run for `submission`, in the lab's order, and notes on every repair made."""
    released = lab_cells(lab)
    ids = [cell_role(cell)[0] for cell in released]
    groups = group_cells(submission.cells, set(ids))
    exercises = answer_exercises(lab.notebook.cells)
    steps = [Step(fresh(cell), "scratch") for cell in groups.get(None, [])]
    notes = []
    for lab_cell, cell_id in zip(released, ids):
        role = cell_role(lab_cell)[1]
        mine = groups.get(cell_id, [])
        copies = [cell for cell in mine if cell_role(cell)[0] == cell_id]
        kept = copies if role in STUDENT_ROLES and copies else [lab_cell]
        notes += repairs(cell_id, role, lab_cell, copies)
        steps += [Step(fresh(cell, role), role, cell_id, exercises.get(cell_id)) for cell in kept]
        steps += [Step(fresh(cell), "scratch") for cell in mine if cell_role(cell)[0] != cell_id]
    seen = list(dict.fromkeys(cell_role(cell)[0] for cell in submission.cells if cell_role(cell)[0] in ids))
    if seen != [i for i in ids if i in seen]:
        notes.append("Some of the lab's cells were moved: they ran in the lab's order.")
    return steps, notes


# How the notes name a cell the student writes, and what became of it when missing or repeated.
STUDENT_CELLS = {
    "answer": ("Answer cell", "graded as unanswered", "all copies ran, in your order"),
    "written": ("Written answer", "your instructor sees it unanswered", "your instructor sees every copy"),
}


def repairs(cell_id, role, lab_cell, copies):
    """What happened to one lab cell in the submission, in the student's words (locked markdown: nothing)."""
    if role in STUDENT_ROLES:
        name, missing, repeated = STUDENT_CELLS[role]
        if not copies:
            return [f"{name} '{cell_id}' is missing from your notebook: {missing}."]
        if len(copies) > 1:
            return [f"{name} '{cell_id}' appears {len(copies)} times: {repeated}."]
        return []
    if lab_cell.cell_type != "code":
        return []
    if not copies:
        return [f"Locked cell '{cell_id}' was deleted: the grader put it back."]
    notes = []
    if any(cell.source != lab_cell.source for cell in copies):
        notes.append(f"Locked cell '{cell_id}' was edited: the grader ran the original.")
    if len(copies) > 1:
        notes.append(f"Locked cell '{cell_id}' appears {len(copies)} times: it ran once.")
    return notes


def fresh(cell, role=None):
    """A copy of `cell` without the outputs it was saved with; a written answer is markdown, whatever it was."""
    if role == "written" and cell.cell_type != "markdown":
        return nbformat.v4.new_markdown_cell(cell.source, metadata=copy.deepcopy(cell.metadata))
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell
