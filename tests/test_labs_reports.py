"""What the instructor reads, and a batch no file name or student text can break: results folders, escaping
in feedback.md / grades.csv / JSON, grades.csv kept and updated, the roster, graded.ipynb, --hidden-feedback
and `numtorch-labs summary`. The batch tests grade the example lab through the real CLI (marked slow)."""
import contextlib
import copy
import csv
import json
import os
import shutil
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
from labs.grading.lab import cell_role, load_lab
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
    assert result["output_format"] == result["test_output_format"] == "text"  # Gradescope: no markdown, no HTML
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


def test_links_out_of_a_submissions_folder_are_skipped(tmp_path, capsys):
    from labs.cli import submissions

    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.ipynb").write_text("{}")
    (tmp_path / "subs" / "b.ipynb").symlink_to(tmp_path / "subs" / "a.ipynb")
    (tmp_path / "subs" / "c.ipynb").symlink_to(EXAMPLE / "example.ipynb")
    assert [p.name for p in submissions([str(tmp_path / "subs")], tmp_path / "out")] == ["a.ipynb", "b.ipynb"]
    assert f"skipped '{tmp_path / 'subs' / 'c.ipynb'}': a link to '{EXAMPLE / 'example.ipynb'}'" in capsys.readouterr().out


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


# --- a batch through the real CLI -----------------------------------------------------------------------------

def edited(notebook, **sources):
    """A copy of `notebook` with the cells given by id (ex1_answer for ex1-answer) replaced."""
    notebook = copy.deepcopy(notebook)
    for c in notebook.cells:
        source = sources.get((cell_role(c)[0] or "").replace("-", "_"))
        c.source = c.source if source is None else source
    return notebook


def hostile(lab):
    """ex1 raises with a message made to look like markdown and HTML; the written answer too, with a lone surrogate."""
    return edited(lab.notebook, ex1_answer=f"def relu(x):\n    raise ValueError({HOSTILE!r})", why=HOSTILE)


def write_notebook(notebook, path):
    """Write as JSON with ASCII escapes: a lone surrogate is then valid JSON, as a student's file may hold it."""
    Path(path).write_text(json.dumps(notebook), encoding="ascii")


def tree(root, skip):
    """{path: (size, mtime)} of everything under `root` but `skip`."""
    return {p: (p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*") if skip not in (p, *p.parents)}


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as file:
        return {row["submission"]: row for row in csv.DictReader(file)}


def by_file(out):
    """{submission file name: results.json} of a results folder."""
    results = {}
    for path in out.glob("*/results.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        results[Path(result["extra_data"]["submission"]["file"]).name] = dict(result, folder=path.parent.name)
    return results


SUBMITTED = ["alice.ipynb", "blank.ipynb", "a_\ufffd.ipynb", "x\\ny.ipynb", "...ipynb", "grades.csv.ipynb", "a b.ipynb",
             "a-b.ipynb", "=1+2.ipynb", "hostile.ipynb", "link.ipynb", "dangling.ipynb"]


@pytest.fixture(scope="module")
def batch(lab, tmp_path_factory):
    """One `grade -j 2` run over hostile file names and texts: (root, out, exit code, what changed outside out)."""
    root = tmp_path_factory.mktemp("batch")
    subs, out = root / "subs", root / "out"
    subs.mkdir()
    solved, blank = lab.notebook, student_notebook(lab)
    for name, notebook in [("alice", solved), ("blank", blank), (RAW_NAME[:-6], solved), ("x\ny", blank),
                           ("..", solved), ("grades.csv", blank), ("a b", solved), ("a-b", blank), ("=1+2", solved),
                           ("hostile", hostile(lab))]:
        write_notebook(notebook, subs / f"{name}.ipynb")
    (subs / "link.ipynb").symlink_to(subs / "alice.ipynb")
    (subs / "dangling.ipynb").symlink_to(subs / "nowhere.ipynb")
    write_notebook(solved, root / "secret.ipynb")
    (subs / "outside.ipynb").symlink_to(root / "secret.ipynb")  # never graded: it leads out of subs
    before = tree(root, out)
    code = run_cli("grade", EXAMPLE, subs, "--out", out, "-j", "2", "--timeout", "20")
    changed = {p for p in set(before) | set(tree(root, out)) if before.get(p) != tree(root, out).get(p)}
    return root, out, code, changed


@pytest.mark.slow
def test_results_folders_are_safe_unique_and_inside_out(batch):
    root, out, code, changed = batch
    assert code == 0 and changed == set()  # nothing written outside --out
    results = by_file(out)
    assert sorted(results) == sorted(SUBMITTED)
    folders = [result["folder"] for result in results.values()]
    assert len(set(map(str.lower, folders))) == len(folders) and all(slug(f) == f for f in folders)
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["grades.csv"]
    scores = {name: result["score"] for name, result in results.items()}
    assert scores == dict.fromkeys(SUBMITTED, 8) | dict.fromkeys(
        ["blank.ipynb", "x\\ny.ipynb", "grades.csv.ipynb", "a-b.ipynb", "dangling.ipynb"], 0) | {"hostile.ipynb": 5}


@pytest.mark.slow
def test_links_are_followed_and_reported(batch):
    _, out, _, _ = batch
    assert "outside.ipynb" not in by_file(out) and "secret.ipynb" not in by_file(out)
    rows = {Path(row["file"]).name: row for row in rows_of(out / "grades.csv").values()}
    assert f"'{out.parent / 'subs' / 'link.ipynb'}' is a link to '{out.parent / 'subs' / 'alice.ipynb'}'" in rows["link.ipynb"]["notes"]
    assert "is a broken link" in rows["dangling.ipynb"]["notes"] and rows["dangling.ipynb"]["total"] == "0"


@pytest.mark.slow
def test_grades_csv_has_a_safe_row_per_submission_with_the_maximum(batch):
    _, out, _, _ = batch
    rows = rows_of(out / "grades.csv")
    assert len(rows) == len(SUBMITTED) and {row["max"] for row in rows.values()} == {"8"}
    assert {row["student_id"] for row in rows.values()} >= {"alice", "'=1+2", "a_\ufffd", "x\\ny", ".."}
    for row in rows.values():
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values()), row
        assert sum(float(row[e]) for e in ("ex1", "ex2", "ex3")) == float(row["total"])


@pytest.mark.slow
def test_a_hostile_submission_is_reported_verbatim_never_as_markup(batch, lab):
    _, out, _, _ = batch
    folder = out / by_file(out)["hostile.ipynb"]["folder"]
    feedback = (folder / "feedback.md").read_text(encoding="utf-8")
    html = rendered(feedback)
    assert "Score: 100" in feedback and "\ufffd" in feedback  # the text arrived, quoted
    assert all("Score: 100" not in heading for heading in headings(html)) and "<img" not in html
    assert [h for h in headings(html) if h.startswith("<h1")] == [f"<h1>{lab.title} — feedback for <code>hostile</code></h1>"]
    graded = nbformat.read(folder / "graded.ipynb", as_version=4)
    nbformat.validate(graded)
    ids = [cell_role(c)[0] for c in graded.cells]
    after = graded.cells[ids.index("ex1-answer") + 1]
    assert after.metadata.numtorch_feedback["exercise"] == "ex1" and after.source.startswith("#### ReLU — 0 / 3")
    assert "Score: 100" in after.source and "<img" not in rendered(after.source)
    assert graded.cells[ids.index("ex2-answer") + 1].source.startswith("#### Mean squared error — 3 / 3")


@pytest.mark.slow
def test_hidden_messages_are_held_back_by_default(batch):
    _, out, _, _ = batch
    result = by_file(out)["blank.ipynb"]
    lines = (out / result["folder"] / "feedback.md").read_text(encoding="utf-8").splitlines()
    hidden = [t for t in result["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(t["status"] == "failed" and t["output"] for t in hidden)  # results.json keeps them
    for test in hidden:
        line = f"- ❌ {test['name'].split(' · ')[1].replace(' (hidden)', '')} (hidden): {HELD_BACK}"
        assert lines[lines.index(line) + 1] == ""


@pytest.fixture(scope="module")
def regraded(batch, lab):
    """The batch's results copied, then two of its files graded again into them with a roster and full feedback."""
    root, out, _, _ = batch
    again = root / "again"
    shutil.copytree(out, again, symlinks=True)
    write_notebook(hostile(lab), root / "subs" / "blank.ipynb")  # blank resubmitted: now it answers ex2 and ex3
    (root / "roster.csv").write_text("file,id,name\nalice.ipynb,s001,Alice Liddell\nblank,s002,=Bob\ncarol.ipynb,s003,\n")
    args = ("grade", EXAMPLE, root / "subs" / "alice.ipynb", root / "subs" / "blank.ipynb", "--out", again,
            "--roster", root / "roster.csv", "--hidden-feedback", "full", "--timeout", "20")
    return again, run_cli(*args), rows_of(out / "grades.csv")


@pytest.mark.slow
def test_grading_again_updates_rows_and_keeps_the_others(regraded, capsys):
    again, code, before = regraded
    rows = rows_of(again / "grades.csv")
    assert code == 0 and set(rows) == set(before)
    alice, blank = (next(n for n, r in rows.items() if Path(r["file"]).name == f) for f in ("alice.ipynb", "blank.ipynb"))
    assert (rows[alice]["student_id"], rows[alice]["student_name"], rows[alice]["total"]) == ("s001", "Alice Liddell", "8")
    assert (rows[blank]["student_id"], rows[blank]["student_name"], rows[blank]["total"]) == ("s002", "'=Bob", "5")
    assert before[blank]["total"] == "0" and all(rows[n] == before[n] for n in rows if n not in (alice, blank))
    assert json.loads((again / blank / "results.json").read_text())["score"] == 5  # the same folder, updated


@pytest.mark.slow
def test_hidden_feedback_full_shows_the_message(regraded):
    again, _, _ = regraded
    result = by_file(again)["blank.ipynb"]
    lines = (again / result["folder"] / "feedback.md").read_text(encoding="utf-8").splitlines()
    failed = [t for t in result["tests"] if t["visibility"] == "after_published" and t["status"] == "failed"]
    for test in failed:
        index = lines.index(f"- ❌ {test['name'].split(' · ')[1]}")
        assert lines[index + 1].startswith("  ```") and lines[index + 2] == "  " + test["output"].splitlines()[0]
    assert failed


@pytest.mark.slow
def test_a_report_that_fails_is_that_submissions_problem_only(lab, tmp_path, monkeypatch, capsys):
    from labs.grading import report

    def broken(lab, grade):
        raise RuntimeError("the report broke")

    write_notebook(lab.notebook, tmp_path / "alice.ipynb")
    write_notebook(lab.notebook, tmp_path / "bob.ipynb")
    original = report.graded_notebook
    monkeypatch.setattr(report, "graded_notebook", lambda lab, grade: (broken if grade.name == "alice" else original)(lab, grade))
    assert run_cli("grade", EXAMPLE, tmp_path / "alice.ipynb", tmp_path / "bob.ipynb", "--out", tmp_path / "out") == 1
    alice = json.loads((tmp_path / "out" / "alice" / "results.json").read_text())
    assert alice["score"] == 0 and NOT_YOU in alice["output"] and "the report broke" in alice["output"]
    assert json.loads((tmp_path / "out" / "bob" / "results.json").read_text())["score"] == 8
    rows = rows_of(tmp_path / "out" / "grades.csv")
    assert "the report broke" in rows["alice"]["notes"] and rows["bob"]["total"] == "8"
    assert "GRADER PROBLEM" in capsys.readouterr().out


@pytest.mark.slow
def test_a_killed_batch_keeps_every_grade_written(lab, tmp_path):
    """SIGKILL while the third submission runs: grades.csv is whole and holds the first two."""
    psutil = pytest.importorskip("psutil")
    write_notebook(lab.notebook, tmp_path / "a.ipynb")
    write_notebook(student_notebook(lab), tmp_path / "b.ipynb")
    slow = edited(lab.notebook, ex1_answer="import time\ntime.sleep(60)")
    write_notebook(slow, tmp_path / "c.ipynb")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "labs", "grade", str(EXAMPLE), *(str(tmp_path / f"{n}.ipynb") for n in "abc"),
               "--out", str(out), "--timeout", "90"]
    grader = subprocess.Popen(command, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(rows_of(out / "grades.csv") if (out / "grades.csv").exists() else {}) < 2:
        assert grader.poll() is None and time.monotonic() < deadline, "the grader ended, or took too long"
        time.sleep(0.2)
    children = psutil.Process(grader.pid).children(recursive=True)
    os.killpg(grader.pid, signal.SIGKILL)
    grader.wait()
    for child in children:  # the kernel runs in a session of its own
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    rows = rows_of(out / "grades.csv")
    assert {n: rows[n]["total"] for n in rows} == {"a": "8", "b": "0"}
    assert (out / "a" / "results.json").exists() and (out / "b" / "results.json").exists()
