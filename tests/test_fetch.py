"""`numtorch-labs fetch`: a lab's student copy where a student works, and the install cell that runs it in Colab."""

import json
import subprocess
import sys

import pytest

import labs.fetch
from labs.cli import main
from labs.fetch import INSTALL_ID, fetch, fetch_missing, known_labs
from labs.grading.lab import LabError, cell_role, load_lab
from labs.grading.release import release_all, student_notebook

LAB = "04_training"
SOURCE = labs.fetch.LABS / LAB


def cells(path):
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads(path.read_text())["cells"]]


def files(folder):
    """The files under `folder`, as relative paths, without caches."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def run_cli(*args, capsys):
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    return done.value.code, out.out + out.err


def test_fetch_writes_the_student_copy(tmp_path, capsys):
    code, out = run_cli("fetch", "4", "--out", str(tmp_path / "mine"), capsys=capsys)
    assert code == 0 and "mine/training.ipynb" in out
    assert files(tmp_path / "mine") == {name for name in files(SOURCE) if not name.startswith("tests/hidden/")}
    released = student_notebook(load_lab(SOURCE))
    assert cells(tmp_path / "mine" / "training.ipynb") == [(c.cell_type, c.source) for c in released.cells]
    assert "### BEGIN SOLUTION" not in (tmp_path / "mine" / "training.ipynb").read_text()


def test_fetch_names_a_lab_by_folder_number_or_slug(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("04_training", "04", "training"):
        notebook, kept = fetch(name)
        assert notebook.resolve() == tmp_path / LAB / "training.ipynb" and not kept


def test_an_unknown_lab_lists_the_known_ones(tmp_path, capsys):
    code, out = run_cli("fetch", "07_transformers", "--out", str(tmp_path), capsys=capsys)
    assert code == 2
    assert "there is no lab '07_transformers'; the labs are: 01_tensors, 02_autograd, 03_operations" in out
    assert list(tmp_path.iterdir()) == []


def test_a_changed_notebook_is_kept_and_the_lab_files_are_refreshed(tmp_path, capsys):
    out_dir = tmp_path / LAB
    fetch(LAB, out_dir)
    notebook = json.loads((out_dir / "training.ipynb").read_text())
    notebook["cells"][-1]["source"] = "my work"
    (out_dir / "training.ipynb").write_text(json.dumps(notebook))
    (out_dir / "tests" / "public" / "test_training.py").unlink()

    code, out = run_cli("fetch", LAB, "--out", str(out_dir), capsys=capsys)
    assert code == 0 and "kept: it has your changes; rename or delete it for a fresh copy" in out
    assert json.loads((out_dir / "training.ipynb").read_text())["cells"][-1]["source"] == "my work"
    assert (out_dir / "tests" / "public" / "test_training.py").is_file()

    (out_dir / "training.ipynb").write_text("not a notebook any more")
    assert fetch(LAB, out_dir)[1] is True
    assert (out_dir / "training.ipynb").read_text() == "not a notebook any more"


def test_an_unchanged_notebook_is_not_reported_as_kept(tmp_path, capsys):
    fetch(LAB, tmp_path)
    code, out = run_cli("fetch", LAB, "--out", str(tmp_path), capsys=capsys)
    assert code == 0 and "kept" not in out


def test_fetch_all(tmp_path, capsys):
    code, _ = run_cli("fetch", "all", "--out", str(tmp_path), capsys=capsys)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == list(known_labs())
    assert not any(p.name == "hidden" for p in tmp_path.rglob("*"))


def test_an_installed_numtorch_fetches_its_packaged_release(tmp_path, monkeypatch):
    """A wheel carries labs/released/<lab> (written by setup.py): fetch copies that, not the sources."""
    packaged = tmp_path / "released"
    release_all(labs.fetch.LABS, packaged)
    (packaged / LAB / "tests" / "public" / "marker.txt").write_text("from the package")
    monkeypatch.setattr(labs.fetch, "RELEASED", packaged)
    assert known_labs()[LAB] == packaged / LAB
    fetch(LAB, tmp_path / "out")
    assert (tmp_path / "out" / "tests" / "public" / "marker.txt").read_text() == "from the package"


def test_the_release_starts_with_the_install_cell():
    lab = load_lab(SOURCE)
    notebook = student_notebook(lab)
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert cell_role(first_code) == (INSTALL_ID, "setup") and first_code.metadata.editable is False
    assert 'pip", "install", "--quiet", "numtorch[notebook]"' in first_code.source
    assert 'fetch_missing("training")' in first_code.source
    assert sum(cell_role(c)[0] == INSTALL_ID for c in student_notebook(load_lab_from(notebook, lab)).cells) == 1


def load_lab_from(notebook, lab):
    """The lab with `notebook` in place of its source (as the autograder folder has it)."""
    return type(lab)(lab.folder, lab.config, notebook)


def test_the_install_cell_fetches_the_lab_files_when_they_are_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NUMTORCH_GRADING", raising=False)
    monkeypatch.chdir(tmp_path)
    source = next(c for c in student_notebook(load_lab(SOURCE)).cells if cell_role(c)[0] == INSTALL_ID).source
    exec(source, {})
    assert (tmp_path / "tests" / "public" / "test_training.py").is_file()
    assert f"fetched lab {LAB}'s public tests and files into {tmp_path}" in capsys.readouterr().out
    exec(source, {})  # the files are there now: nothing to do, nothing said
    assert capsys.readouterr().out == ""


def test_fetch_missing_does_nothing_while_grading(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMTORCH_GRADING", "1")
    monkeypatch.chdir(tmp_path)
    fetch_missing(LAB)
    assert list(tmp_path.iterdir()) == []


def test_fetch_from_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "labs", "fetch", "1", "--out", "lab1"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lab1" / "tensors.ipynb").is_file() and (tmp_path / "lab1" / "tests" / "conftest.py").is_file()


def test_unknown_lab_error_is_a_lab_error():
    with pytest.raises(LabError, match="the labs are: 01_tensors"):
        fetch("nope")
