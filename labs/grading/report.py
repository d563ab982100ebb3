"""Write what grading found: results.json (Gradescope's schema) and feedback.md for the student, graded.ipynb
and grades.csv for the instructor.

Every text a student controls (test messages quote their values and errors, notes quote their cells, written
answers are theirs) is made safe where it lands: in markdown it is shown verbatim in a fenced block (no
headings, links or HTML of theirs), in the CSV it is one line that cannot start a formula, and in every file
a lone surrogate (valid JSON, but no UTF-8 file can hold it) becomes U+FFFD. Every file is written to a
temporary name and renamed over the old one, so a crash leaves the old file or the new one, never half of
one, and a link planted in the results folder is replaced, never followed.

Hidden tests appear in results.json with visibility "after_published", and in feedback.md by name and
pass/fail only unless `hidden_feedback="full"`; no test's source is ever written.
"""
import contextlib
import copy
import csv
import io
import json
import os
import re
import secrets
import unicodedata
from pathlib import Path

import nbformat

from labs.grading.lab import LabError, answer_exercises, cell_role
from labs.grading.names import no_surrogates

PASS, FAIL = "✅", "❌"
NOT_YOU = "the grader had a problem, not you"
HELD_BACK = "details are held back until your instructor publishes them"
ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
FORMULA_START = ("=", "+", "-", "@")


# --- student text, made safe ----------------------------------------------------------------------------------

def plain(text):
    """`text` as lines: no lone surrogates, no terminal colours, no control characters but newline and tab."""
    text = ANSI_CODE.sub("", no_surrogates(str(text))).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c if c in "\n\t" or unicodedata.category(c) != "Cc" else "\ufffd" for c in text)


def fenced(text, indent=""):
    """Markdown lines that show `text` verbatim: a fenced block longer than any run of backticks inside it."""
    text = plain(text)
    fence = "`" * max([3] + [len(run) + 1 for run in re.findall("`+", text)])
    return [indent + line for line in [fence + "text", *text.split("\n"), fence]]


def cell_text(text):
    """`text` for one spreadsheet cell: one line that never starts a formula (=, +, -, @ get a leading ')."""
    text = " ".join(plain(text).split())
    return "'" + text if text.startswith(FORMULA_START) else text


# --- writing files --------------------------------------------------------------------------------------------

def write_file(path, text):
    """Write `text` to `path` all at once (into a temporary file beside it, then renamed over it); a lone
    surrogate (valid in JSON, from a student's answer or output) is written as U+FFFD."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", newline="") as out:
            out.write(no_surrogates(text))
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def results_folder(out, name):
    """OUT/name as a real folder directly inside OUT (a link or file in its place is removed, never followed)."""
    out = Path(out)
    folder = out / name
    if name in ("", ".", "..") or Path(name).name != name:
        raise ValueError(f"'{name}' is not a folder name inside {out}")
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- what each file says --------------------------------------------------------------------------------------

def test_title(test):
    return f"{test['exercise']} · {test['name']}" + (" (hidden)" if test["hidden"] else "")


def results_json(lab, grade, about=None):
    """The Gradescope results for one submission; `about` (file, student id and name) goes in extra_data."""
    return {
        "score": grade.score,
        "execution_time": round(grade.seconds, 1),
        "output": summary(lab, grade),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "output_format": "text",  # Gradescope shows the student's text as text: no markdown, no HTML
        "test_output_format": "text",
        "tests": [
            {
                "name": test_title(test),
                "score": test["points"] if test["passed"] else 0,
                "max_score": test["points"],
                "status": "passed" if test["passed"] else "failed",
                "output": test["message"],
                "tags": [test["exercise"]],
                "visibility": "after_published" if test["hidden"] else "visible",
            }
            for test in grade.tests
        ],
        "extra_data": {"lab": lab.slug, "title": lab.title, "exercises": grade.exercise_scores(lab.exercises()),
                       "titles": {exercise: lab.exercise_title(exercise) for exercise in lab.exercises()},
                       "problem": grade.problem, "submission": about or {}},
    }


def all_notes(grade):
    """The notes about the run, with the grader's own problem last."""
    problem = f"{NOT_YOU.capitalize()} (your instructor will regrade): {grade.problem}"
    return grade.notes + [problem] * bool(grade.problem)


def summary(lab, grade):
    """The text above the tests: the score and every note about the run."""
    return "\n".join([f"{lab.title}: {grade.score:g} / {grade.max_score:g} points.", *all_notes(grade)])


def head_lines(lab, grade, heading):
    """The title, the score and the notes about the run (quoted verbatim: they quote the student's cells)."""
    lines = [f"{heading} {lab.title} — feedback for `{grade.name}`", "", f"**Score: {grade.score:g} / {grade.max_score:g}**", ""]
    notes = all_notes(grade)
    return lines + (["Notes about the run:", "", *fenced("\n".join(f"- {note}" for note in notes)), ""] if notes else [])


def exercise_lines(lab, grade, exercise, heading, hidden_feedback):
    """An exercise's score, then each test: ✅ or ❌, and a failed test's message (a hidden one's if "full")."""
    tests = [test for test in grade.tests if test["exercise"] == exercise]
    earned = sum(test["points"] for test in tests if test["passed"])
    lines = [f"{heading} {lab.exercise_title(exercise)} — {earned:g} / {sum(test['points'] for test in tests):g}", ""]
    for test in tests:
        held = not test["passed"] and test["hidden"] and hidden_feedback != "full"
        hidden = " (hidden)" * test["hidden"] + f": {HELD_BACK}" * held
        lines.append(f"- {PASS if test['passed'] else FAIL} {test['name']}{hidden}")
        if not (test["passed"] or held):
            lines += fenced(test["message"], indent="  ")
    return lines + [""]


def feedback_markdown(lab, grade, hidden_feedback="summary"):
    """A page for the student: score, notes, and every test with its message, exercise by exercise."""
    lines = head_lines(lab, grade, "#")
    for exercise in grade.exercise_scores(lab.exercises()):
        lines += exercise_lines(lab, grade, exercise, "##", hidden_feedback)
    return "\n".join(lines + written_answers(grade))


def written_answers(grade):
    """The student's written answers, verbatim, under a heading that says they are read, not auto-graded."""
    lines = ["## Written answers (not auto-graded: your instructor reads them)", ""] * bool(grade.written)
    for cell_id, text in grade.written:
        lines += [f"**{plain(cell_id)}**", "", *fenced(text), ""]
    return lines


def feedback_cell(lines, exercise=None):
    """A markdown cell of the grader's, marked so that no tool takes it for a cell of the lab."""
    return nbformat.v4.new_markdown_cell("\n".join(lines), metadata={"numtorch_feedback": {"exercise": exercise}})


def graded_notebook(lab, grade):
    """The notebook as it ran, with the score on top and each exercise's tests right after its last answer cell."""
    exercise_of = answer_exercises(grade.notebook.cells)
    last_answer = {}
    for index, cell in enumerate(grade.notebook.cells):
        cell_id, role = cell_role(cell)
        if role == "answer" and exercise_of.get(cell_id):
            last_answer[exercise_of[cell_id]] = index
    after = {index: exercise for exercise, index in last_answer.items()}
    tests_of = lambda exercise: feedback_cell(exercise_lines(lab, grade, exercise, "####", "full"), exercise)
    cells = [feedback_cell(head_lines(lab, grade, "###"))]
    for index, cell in enumerate(copy.deepcopy(grade.notebook.cells)):
        cells += [cell, tests_of(after[index])] if index in after else [cell]
    cells += [tests_of(e) for e in grade.exercise_scores(lab.exercises()) if e not in last_answer]
    for number, cell in enumerate(cells):
        cell["id"] = f"graded-{number}"
    return nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(grade.notebook.metadata))


def write_grade(lab, grade, folder, about=None, hidden_feedback="summary"):
    """folder/: feedback.md, graded.ipynb when the notebook ran, then results.json (last: it says all is there)."""
    folder = Path(folder)
    write_file(folder / "feedback.md", feedback_markdown(lab, grade, hidden_feedback))
    if grade.notebook is None:
        (folder / "graded.ipynb").unlink(missing_ok=True)  # from an earlier run: it is not this grade's
    else:
        write_file(folder / "graded.ipynb", nbformat.writes(graded_notebook(lab, grade)))
    write_file(folder / "results.json", json.dumps(results_json(lab, grade, about), indent=2, ensure_ascii=False))


def write_report_failure(folder, problem, about=None):
    """results.json for a submission whose report could not be written: score 0, the problem, not the student's fault."""
    reason = f"Not graded: {NOT_YOU}; your instructor will regrade ({problem})."
    result = {"score": 0, "output": reason, "visibility": "visible", "tests": [],
              "extra_data": {"problem": reason, "submission": about or {}}}
    write_file(Path(folder) / "results.json", json.dumps(result, indent=2, ensure_ascii=False))


# --- grades.csv -----------------------------------------------------------------------------------------------

class GradesTable:
    """grades.csv: one row per submission, kept across runs (a new grade replaces its row), rewritten whole,
    atomically, after every submission. Columns: submission (its results folder), student_id, student_name,
    one per exercise, total, max (the lab's maximum points), notes, file (the submission file graded)."""

    def __init__(self, lab, path):
        self.path = Path(path)
        self.exercises = lab.exercises()
        self.columns = ["submission", "student_id", "student_name", *self.exercises, "total", "max", "notes", "file"]
        self.rows = {}
        if self.path.exists():
            self.read()

    def read(self):
        """The rows of an earlier run; LabError when the file is not a grades table this tool wrote."""
        try:
            with open(self.path, newline="", encoding="utf-8") as table:
                reader = csv.DictReader(table)
                rows = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise LabError(f"cannot read the grades table '{self.path}' of an earlier run: {error}") from None
        if "submission" not in (reader.fieldnames or []):
            raise LabError(f"'{self.path}' is not a grades table (no 'submission' column): move it, or choose another --out")
        self.columns += [column for column in reader.fieldnames if column not in self.columns]
        self.rows = {row["submission"]: row for row in rows}

    def row(self, grade, about):
        """The row of one grade; `about` has the file, student_id, student_name and notes for the instructor.
        Every text a student or their file name controls is made a safe cell."""
        scores = grade.exercise_scores(self.exercises)
        return {"submission": grade.name, "student_id": cell_text(about["student_id"]),
                "student_name": cell_text(about["student_name"]),
                **{exercise: f"{scores[exercise]:g}" for exercise in self.exercises},
                "total": f"{grade.score:g}", "max": f"{grade.max_score:g}",
                "notes": cell_text(" | ".join([*all_notes(grade), *about["notes"]])), "file": cell_text(about["file"])}

    def put(self, row):
        """Add or replace the row of `row["submission"]`, then rewrite the file."""
        self.rows[row["submission"]] = row
        text = io.StringIO()
        table = csv.DictWriter(text, self.columns, restval="")
        table.writeheader()
        table.writerows(self.rows.values())
        write_file(self.path, text.getvalue())
