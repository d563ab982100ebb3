"""`numtorch-labs fetch LAB --out DIR`: a lab's student copy (notebook, public tests, data) where a student works.

An installed NumTorch carries the labs' student releases (labs/released/<lab>/, written when the wheel is
built); in a clone of the repository the copy is released from the lab's source on the spot. Either way the
student gets no solution and no hidden test, and a notebook they changed is never overwritten.
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

from labs.grading.lab import LabError, cell_role, read_config

LABS = Path(__file__).resolve().parent
RELEASED = LABS / "released"
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def known_labs():
    """{lab folder name: folder}: the student releases this NumTorch carries, else the labs' sources."""
    root = RELEASED if RELEASED.is_dir() else LABS
    return {path.name: path for path in sorted(root.glob("[0-9]*")) if (path / "lab.toml").is_file()}


def find_lab(name):
    """The folder of lab `name`, given as its folder name (04_training), number (04, 4) or slug (training)."""
    labs = known_labs()
    for folder, path in labs.items():
        number = folder.partition("_")[0]
        if name in (folder, number, read_config(path)["slug"]) or name.isdigit() and int(name) == int(number):
            return path
    raise LabError(f"there is no lab '{name}'; the labs are: {', '.join(labs)}")


def fetch(name, out=None):
    """Write lab `name`'s student copy into `out` (default ./<lab folder>); return (notebook path, kept?).

    The lab's files (public tests, lab.toml, data) are refreshed; a notebook already at `out` is kept.
    """
    folder = find_lab(name)
    out = Path(out or folder.name)
    with tempfile.TemporaryDirectory() as tmp:
        release = folder if folder.parent == RELEASED else release_from_source(folder, Path(tmp))
        notebook = next(release.glob("*.ipynb"))
        for path in release.iterdir():
            if path.is_dir():
                shutil.copytree(path, out / path.name, ignore=SKIPPED, dirs_exist_ok=True)
            elif path != notebook:
                out.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out / path.name)
        target = out / notebook.name
        if target.exists():
            return target, changed(target, notebook)
        shutil.copy2(notebook, target)
        return target, False


def release_from_source(folder, tmp):
    """The student release of the lab source in `folder`, written into `tmp`."""
    from labs.grading.lab import load_lab
    from labs.grading.release import release_student

    release_student(load_lab(folder), tmp)
    return tmp


def changed(path, original):
    """Whether the notebook at `path` differs from `original` in any cell's type or source (the student's work)."""
    def cells(file):
        try:
            return [(c.get("cell_type"), "".join(c.get("source", ""))) for c in json.loads(file.read_text())["cells"]]
        except (ValueError, KeyError, TypeError, AttributeError):  # not a notebook any more: someone's work
            return None

    mine = cells(path)
    return mine is None or mine != cells(original)


def fetch_missing(name):
    """The first cell of a released lab notebook: fetch the lab's files into the current folder when its
    tests are not there (Colab, a notebook opened on its own); never while grading."""
    if os.environ.get("NUMTORCH_GRADING") == "1" or Path("tests").is_dir():
        return
    fetch(name, ".")
    print(f"fetched lab {find_lab(name).name}'s public tests and files into {Path.cwd()}: labs.check() can run them")


INSTALL_ID = "install"
INSTALL = """\
# In Colab, or a Python without NumTorch: install it (about a minute) and fetch this lab's tests and data.
import importlib, importlib.util, subprocess, sys
if importlib.util.find_spec("numtorch") is None:
    print("NumTorch is not installed here: installing numtorch[notebook] ...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "numtorch[notebook]"], check=True)
    importlib.invalidate_caches()
from labs.fetch import fetch_missing
fetch_missing("{lab}")"""


def with_install_cell(notebook, lab):
    """`notebook` with the install cell (a setup cell fetching lab `lab`) before its first code cell, unless it
    has one."""
    import nbformat

    if any(cell_role(cell)[0] == INSTALL_ID for cell in notebook.cells):
        return notebook
    meta = {"numtorch": {"id": INSTALL_ID, "role": "setup"}}
    cell = nbformat.v4.new_code_cell(INSTALL.format(lab=lab), metadata=meta, id=INSTALL_ID)
    if notebook.nbformat_minor < 5:  # cell ids came with nbformat 4.5
        del cell["id"]
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells))
    notebook.cells.insert(first_code, cell)
    return notebook
