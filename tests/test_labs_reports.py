"""What the instructor reads, and a batch no file name or student text can break: results folders, escaping
in feedback.md / grades.csv / JSON, grades.csv kept and updated, the roster, graded.ipynb, --hidden-feedback
and `numtorch-labs summary`. The batch tests grade the example lab through the real CLI (marked slow)."""
import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import nbformat
import pytest

from labs.cli import main
from labs.grading.grade import Grade
from labs.grading.lab import LabError, cell_role, load_lab
from labs.grading.names import slug, unique_slugs
from labs.grading.release import student_notebook
from labs.grading.report import (HELD_BACK, NOT_YOU, GradesTable, cell_text, feedback_markdown, graded_notebook,
                                 results_folder, write_file, write_grade)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "labs" / "_example"
HOSTILE = "# Score: 100 / 8\n<img src=x onerror=alert(1)>\n````\n[click](http://evil.example) \x1b[31mred\x1b[0m \ud800"
RAW_NAME = os.fsdecode(b"a_\xff.ipynb")  # not UTF-8: how Linux hands such a name to Python


@pytest.fixture(scope="module")
def lab():
    return load_lab(EXAMPLE)


def run_cli(*argv):
    with pytest.raises(SystemExit) as exit:
        main([str(arg) for arg in argv])
    return exit.value.code


def a_grade(name="alice", message=HOSTILE, ex1_passed=False, written=HOSTILE, notebook=None):
    """A Grade of the example lab: ex1 = 2 public + 1 hidden point (the public test as given), ex2 = 3, ex3 = 2."""
    tests = [dict(id="p::a", name="test_a", exercise="ex1", points=2, hidden=False, passed=ex1_passed, message=message),
             dict(id="h::b", name="test_b", exercise="ex1", points=1, hidden=True, passed=False, message="hidden " + message),
             dict(id="p::c", name="test_c", exercise="ex2", points=3, hidden=False, passed=True, message=""),
             dict(id="h::d", name="test_d", exercise="ex3", points=2, hidden=True, passed=True, message="")]
    return Grade(name, tests, [f'Your cell "{HOSTILE}" raised ValueError.'], 1.0, notebook, written=[("why", written)])


def rendered(markdown):
    """The HTML a markdown viewer makes of `markdown`, raw HTML allowed (as Jupyter and GitHub would try)."""
    mistune = pytest.importorskip("mistune")
    return mistune.create_markdown(escape=False)(markdown)


def headings(html):
    return [line for line in html.splitlines() if line.startswith("<h")]


# --- names ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [RAW_NAME, "x\ny.ipynb", "...ipynb", "..ipynb", "grades.csv.ipynb", "summary.md.ipynb",
                                  "=HYPERLINK(1).ipynb", "José Núñez (v2).ipynb", "x" * 300 + ".ipynb", " .ipynb"])
def test_a_slug_is_a_safe_folder_name(name):
    made = slug(Path(name).stem)
    assert made and len(made) <= 60 and all(c.isalnum() or c in "_-" for c in made), made
    assert made == made.strip("-_") and "." not in made


def test_slugs_are_unique_whatever_the_names():
    paths = [Path("a/a b.ipynb"), Path("b/a-b.ipynb"), Path("A-B.ipynb"), Path("c/a b.ipynb"), Path("...ipynb")]
    names = unique_slugs(paths, taken=["submission"])
    assert names == ["a-b", "b-a-b", "A-B-2", "c-a-b", "submission-2"]


@pytest.mark.parametrize("text, cell", [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"),
                                        ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'=1"),
                                        ("a\nb\r\nc", "a b c"), ("ok \ud800", "ok \ufffd")])
def test_a_csv_cell_is_one_line_and_never_a_formula(text, cell):
    assert cell_text(text) == cell


# --- escaping -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hidden_feedback", ["summary", "full"])
def test_student_text_in_feedback_is_shown_verbatim_never_as_markdown(lab, hidden_feedback):
    feedback = feedback_markdown(lab, a_grade(), hidden_feedback)
    html = rendered(feedback)
    assert headings(html) == [f"<h1>{lab.title} — feedback for <code>alice</code></h1>", "<h2>ReLU — 0 / 3</h2>",
                              "<h2>Mean squared error — 3 / 3</h2>", "<h2>One SGD step — 2 / 2</h2>",
                              "<h2>Written answers (not auto-graded: your instructor reads them)</h2>"]
    assert "<img" not in html and "<a " not in html and "\x1b" not in html and "\ud800" not in feedback
    # quoted in the notes, test_a's message and the written answer; test_b's hidden message only when "full"
    assert html.count("# Score: 100 / 8\n&lt;img src=x onerror=alert(1)&gt;\n````\n[click]") == 3 + (hidden_feedback == "full")
    assert "\ufffd" in feedback and "<strong>Score: 5 / 8</strong>" in html


def test_hidden_messages_wait_for_full(lab):
    summary, full = (feedback_markdown(lab, a_grade(message="off by 2"), mode) for mode in ("summary", "full"))
    assert f"- ❌ test_b (hidden): {HELD_BACK}" in summary and "hidden off by 2" not in summary
    assert "- ❌ test_b (hidden)\n  ```text\n  hidden off by 2\n  ```" in full
    assert "- ❌ test_a\n  ```text\n  off by 2\n  ```" in summary  # public messages always show


def test_files_hold_no_lone_surrogate_and_links_are_never_followed(lab, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "alice").symlink_to(outside)  # planted: writing through it would land outside --out
    notebook = copy.deepcopy(lab.notebook)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="out \ud800\n")]
    write_grade(lab, a_grade(notebook=notebook), results_folder(out, "alice"))
    assert list(outside.iterdir()) == [] and not (out / "alice").is_symlink()
    result = json.loads((out / "alice" / "results.json").read_text(encoding="utf-8"))
    assert "\ufffd" in result["tests"][0]["output"] and "\ufffd" in result["output"]
    graded = nbformat.read(out / "alice" / "graded.ipynb", as_version=4)
    nbformat.validate(graded)
    assert "out \ufffd" in json.dumps(graded, ensure_ascii=False)
    with pytest.raises(ValueError):
        results_folder(out, "..")


def test_write_file_is_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "grades.csv"
    write_file(path, "old\n")
    monkeypatch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_file(path, "new\n")
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["grades.csv"]


# --- graded.ipynb ---------------------------------------------------------------------------------------------

def test_graded_notebook_shows_each_exercise_next_to_its_answer(lab):
    notebook = graded_notebook(lab, a_grade(message="relu([-1]) gave [-1]", notebook=copy.deepcopy(lab.notebook)))
    roles = [cell_role(c)[0] or c.metadata.get("numtorch_feedback", {}).get("exercise", "?") for c in notebook.cells]
    for exercise in ("ex1", "ex2", "ex3"):
        assert roles[roles.index(f"{exercise}-answer") + 1] == exercise
    ex1 = notebook.cells[roles.index("ex1-answer") + 1].source
    assert ex1.startswith("#### ReLU — 0 / 3") and "relu([-1]) gave [-1]" in ex1 and "hidden relu([-1])" in ex1
    assert "**Score: 5 / 8**" in notebook.cells[0].source
    assert len({c.id for c in notebook.cells}) == len(notebook.cells)
    nbformat.validate(notebook)


# --- grades.csv -----------------------------------------------------------------------------------------------

def test_grades_table_updates_rows_and_keeps_the_others(lab, tmp_path):
    about = {"student_id": "=cmd|' /C calc'!A0", "student_name": "Alice", "notes": ["a link"], "file": "alice.ipynb"}
    table = GradesTable(lab, tmp_path / "grades.csv")
    table.put(table.row(a_grade("alice"), about))
    table.put(table.row(a_grade("bob"), dict(about, student_id="b2")))
    table = GradesTable(lab, tmp_path / "grades.csv")  # a later run
    table.put(table.row(a_grade("alice", ex1_passed=True), about))
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(row["submission"], row["total"], row["max"]) for row in rows] == [("alice", "7", "8"), ("bob", "5", "8")]
    assert rows[0]["student_id"] == "'=cmd|' /C calc'!A0" and "\n" not in rows[0]["notes"]
    assert rows[0]["notes"].endswith(" | a link")


def test_a_foreign_grades_csv_is_left_alone(lab, tmp_path, capsys):
    (tmp_path / "grades.csv").write_text("name,mark\nalice,3\n")
    assert run_cli("grade", EXAMPLE, EXAMPLE / "example.ipynb", "--out", tmp_path) == 2
    assert "is not a grades table" in capsys.readouterr().err
    assert (tmp_path / "grades.csv").read_text() == "name,mark\nalice,3\n"


@pytest.mark.parametrize("roster, message", [
    ("name,id\nAlice,1\n", "needs the columns file, id (and optionally name); its header is: name, id"),
    ("file,id\nalice.ipynb,1\nalice.ipynb,2\n", "line 3: 'alice.ipynb' is listed twice"),
    ("file,id\nalice.ipynb,\n", "line 2: every row needs a file and an id"),
    (b"file,id\n\xff,1\n", "is not a UTF-8 CSV file"),
    (None, "cannot read the roster"),
])
def test_a_bad_roster_is_a_usage_error(tmp_path, capsys, roster, message):
    path = tmp_path / "roster.csv"
    if roster is not None:
        path.write_bytes(roster if isinstance(roster, bytes) else roster.encode())
    assert run_cli("grade", EXAMPLE, EXAMPLE / "example.ipynb", "--out", tmp_path / "out", "--roster", path) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.parametrize("command", [["grade"], ["summary"]])
def test_help_explains_every_option(command, capsys):
    assert run_cli(*command, "--help") == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in {"grade": ["--roster CSV", "--hidden-feedback {summary,full}", "file, id and name", "--out"],
                   "summary": ["summary.md", "most often"]}[command[0]]:
        assert option in text


# --- summary --------------------------------------------------------------------------------------------------

def test_summary_says_what_to_reteach(lab, tmp_path, capsys):
    """Four submissions (7, 5, 5, 5 points: test_a failed by three, the hidden test_b by all), one the grader
    had a problem with (not counted) and one unreadable results.json."""
    for name, passed in [("a", True), ("b", False), ("c", False), ("d", False), ("e", True)]:
        grade = a_grade(name, ex1_passed=passed)
        grade.problem = "the kernel would not start" * (name == "e")
        write_grade(lab, grade, results_folder(tmp_path, name))
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "results.json").write_text("{not json")
    assert run_cli("summary", tmp_path) == 0
    printed = capsys.readouterr().out
    summary = (tmp_path / "summary.md").read_text()
    assert printed.startswith(summary)
    assert f"# Summary: {lab.title}" in summary and "4 submission(s) counted (1 not: the grader had a problem" in summary
    assert "| ReLU (ex1) | 0.5 / 3 | 0% | ex1 · test_b (hidden) (4 of 4) |" in summary
    assert "| Mean squared error (ex2) | 3 / 3 | 100% | none |" in summary
    assert "Total: mean 5.5 / 8, median 5, 0% at full marks." in summary
    assert "f: results.json could not be read" in summary
    svg = ElementTree.parse(tmp_path / "summary.svg").getroot()
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect")]
    assert len(bars) == 9 and sum(float(bar.get("height")) > 0 for bar in bars) == 2  # scores 5 and 7


def test_summary_of_an_empty_folder(tmp_path, capsys):
    assert run_cli("summary", tmp_path) == 2
    assert "run `numtorch-labs grade` first" in capsys.readouterr().err
