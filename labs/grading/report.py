"""Write what grading found: results.json (Gradescope's schema), feedback.md for the student, grades.csv.

The feedback ends with the student's written answers (never scored), for the instructor to read.

Hidden tests appear in results.json with visibility "after_published" and in the feedback by name and
message only; no test's source is ever written.
"""
import csv
import json
from pathlib import Path

import nbformat

PASS, FAIL = "✅", "❌"


def test_title(test):
    return f"{test['exercise']} · {test['name']}" + (" (hidden)" if test["hidden"] else "")


def results_json(lab, grade):
    """The Gradescope results for one submission."""
    return {
        "score": grade.score,
        "execution_time": round(grade.seconds, 1),
        "output": summary(lab, grade),
        "visibility": "visible",
        "stdout_visibility": "hidden",
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
        "extra_data": {"lab": lab.slug, "exercises": grade.exercise_scores(lab.exercises())},
    }


def all_notes(grade):
    """The notes about the run, with the grader's own problem last."""
    problem = f"The grader had a problem (not your fault; your instructor will regrade): {grade.problem}"
    return grade.notes + [problem] * bool(grade.problem)


def summary(lab, grade):
    """The text above the tests: the score and every note about the run."""
    return "\n".join([f"{lab.title}: {grade.score:g} / {grade.max_score:g} points.", *all_notes(grade)])


def feedback_markdown(lab, grade):
    """A page for the student: score, notes, and every test with its message, exercise by exercise."""
    lines = [f"# {lab.title} — feedback for {grade.name}", "", f"**Score: {grade.score:g} / {grade.max_score:g}**", ""]
    notes = all_notes(grade)
    lines += [f"- {note}" for note in notes] + [""] * bool(notes)
    scores = grade.exercise_scores(lab.exercises())
    for exercise in scores:
        tests = [test for test in grade.tests if test["exercise"] == exercise]
        worth = sum(test["points"] for test in tests)
        lines += [f"## {lab.exercise_title(exercise)} — {scores[exercise]:g} / {worth:g}", ""]
        for test in tests:
            mark = PASS if test["passed"] else FAIL
            message = "" if test["passed"] else ": " + test["message"].replace("\n", "\n  ")
            lines.append(f"- {mark} {test['name']}{' (hidden)' if test['hidden'] else ''}{message}")
        lines.append("")
    return "\n".join(lines + written_answers(grade))


def written_answers(grade):
    """The student's written answers, quoted, under a heading that says they are read, not auto-graded."""
    lines = ["## Written answers (not auto-graded: your instructor reads them)", ""] * bool(grade.written)
    for cell_id, text in grade.written:
        lines += [f"**{cell_id}**", ""] + [f"> {line}".rstrip() for line in text.splitlines()] + [""]
    return lines


def write_grade(lab, grade, folder):
    """RESULTS/<name>/: results.json, feedback.md and, when the notebook ran, graded.ipynb."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results_json(lab, grade), indent=2, ensure_ascii=False), "utf-8")
    (folder / "feedback.md").write_text(feedback_markdown(lab, grade), "utf-8")
    if grade.notebook is not None:
        for number, cell in enumerate(grade.notebook.cells):
            cell["id"] = f"graded-{number}"
        nbformat.write(grade.notebook, folder / "graded.ipynb")


def write_grades_csv(lab, grades, path):
    """One row per submission, one column per exercise, then the total and the notes."""
    exercises = lab.exercises()
    with open(path, "w", newline="", encoding="utf-8") as out:
        table = csv.writer(out)
        table.writerow(["submission", *exercises, "total", "notes"])
        for grade in grades:
            scores = grade.exercise_scores(exercises)
            notes = " | ".join(all_notes(grade))
            table.writerow([grade.name, *(f"{scores[e]:g}" for e in exercises), f"{grade.score:g}", notes])
