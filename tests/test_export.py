"""`numtorch-labs export LAB --format nbgrader`: nbgrader 0.9 itself (an optional test dependency) generates the
assignment and autogrades the reference solution (full marks) and the released notebook (0), for labs 1 and 4."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labs.cli import main
from labs.export import UNSUPPORTED, export_nbgrader
from labs.grading.lab import load_lab

REPO = Path(__file__).resolve().parents[1]
LABS = ["01_tensors", "04_training"]


def nbgrader_cells(path):
    return [(c["cell_type"], c["metadata"].get("nbgrader"), "".join(c["source"]))
            for c in json.loads(Path(path).read_text())["cells"]]


def test_the_export_marks_every_lab_cell_and_carries_every_test(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["export", str(REPO / "labs" / "01_tensors"), "--format", "nbgrader", "--out", str(tmp_path)])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "nbgrader cannot express per-submission inputs" in out and "cell_timeout is 60 s" in out
    assert not (tmp_path / "tests" / "hidden").exists() and (tmp_path / "tests" / "public").is_dir()
    cells = nbgrader_cells(tmp_path / "tensors.ipynb")
    lab = load_lab(REPO / "labs" / "01_tensors")
    roles = {c.metadata["numtorch"]["id"]: c.metadata["numtorch"]["role"] for c in lab.notebook.cells}
    for cell_type, meta, source in cells:
        role = roles.get(meta and meta["grade_id"])
        if role == "answer":
            assert meta["solution"] and not meta["grade"] and "### BEGIN SOLUTION" in source
        elif role in ("setup", "check", "locked"):
            assert meta["locked"] and not meta["solution"] and not meta["grade"]
    tests = [(meta, source) for _, meta, source in cells if meta and meta["grade"] and not meta["solution"]]
    hidden = [source for _, source in tests if "### BEGIN HIDDEN TESTS" in source]
    assert sum(meta["points"] for meta, _ in tests) == 12 and len(hidden) == 4
    assert all(source.rstrip().endswith("### END HIDDEN TESTS") for source in hidden)
    hidden_file = (REPO / "labs" / "01_tensors" / "tests" / "hidden" / "test_tensors_hidden.py").read_text()
    assert repr(hidden_file) in hidden[0]  # the first hidden cell carries the file, inside the hidden region


def test_a_lab_with_instructor_cells_says_they_are_left_out(tmp_path):
    lab = load_lab(REPO / "labs" / "01_tensors")
    lab.notebook.cells[2].metadata["numtorch"]["role"] = "instructor"
    unsupported = export_nbgrader(lab, tmp_path)
    assert unsupported["instructor cells"] == UNSUPPORTED["instructor cells"]
    ids = [meta and meta["grade_id"] for _, meta, _ in nbgrader_cells(tmp_path / "tensors.ipynb")]
    assert lab.notebook.cells[2].metadata["numtorch"]["id"] not in ids


def nbgrader(course, *args):
    """Run nbgrader's command line in `course` (its alembic migrations need this environment's bin on PATH)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("NUMTORCH_GRADING", None)
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                          cwd=course, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done.stdout + done.stderr


@pytest.mark.slow
def test_nbgrader_gives_the_reference_full_marks_and_the_release_zero(tmp_path):
    pytest.importorskip("nbgrader", reason="nbgrader is an optional test dependency (pip install -e '.[dev]')")
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    for name in LABS:
        lab = load_lab(REPO / "labs" / name)
        export_nbgrader(lab, course / "source" / name)
        nbgrader(course, "generate_assignment", name, "--force")
        released = course / "release" / name / lab.notebook_path.name
        text = released.read_text()
        assert "### BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "source=" not in text
        for student, notebook in (("reference", course / "source" / name / released.name), ("blank", released)):
            (course / "submitted" / student / name).mkdir(parents=True)
            (course / "submitted" / student / name / released.name).write_text(notebook.read_text())
        nbgrader(course, "autograde", name, "--force", f"--ExecutePreprocessor.timeout={lab.config['cell_timeout'] * 2}")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for name in LABS:
            reference, blank = (gradebook.find_submission(name, student) for student in ("reference", "blank"))
            assert reference.max_score > 0
            assert reference.score == reference.max_score, f"{name}: the reference scores {reference.score}"
            assert blank.score == 0, f"{name}: the released notebook scores {blank.score}"
