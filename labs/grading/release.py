"""Release a lab: the student's copy (no solutions, no hidden tests) and the autograder's copy.

    OUT/student/      <slug>.ipynb without solutions or instructor cells, locked cells read-only with
                      checksums, outputs cleared; every other file of the lab but tests/hidden
    OUT/autograder/   the lab folder with the student notebook in place of the source: grading restores
                      locked cells and stubs from it and never needs the solutions, so they never reach
                      the grading machine, where submitted code runs
    OUT/autograder.zip  (with --gradescope) the autograder folder, the numtorch and labs packages,
                      setup.sh and run_autograder, ready to upload to Gradescope
"""
import copy
import shutil
import zipfile
from importlib.util import find_spec
from pathlib import Path

import nbformat

from labs.grading.lab import BEGIN_SOLUTION, END_SOLUTION, LOCKED_ROLES, STUDENT_ROLES, cell_role, checksum, load_lab

STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache")
# What the grader and every lab import (numtorch_magics draws with graphviz and ipywidgets); nothing else.
REQUIREMENTS = ["numpy>=1.22", "ipython>=8", "ipywidgets>=8", "graphviz>=0.20", "nbformat>=5.7", "pytest>=7",
                "tomli>=1.1; python_version < '3.11'"]
PACKAGES = ("numtorch", "numtorch_magics", "labs")  # shipped in the zip and copied into every sandbox


def strip_solutions(source, cell_type="code"):
    """Replace each `### BEGIN SOLUTION` ... `### END SOLUTION` block by the stub, keeping its indentation."""
    lines, inside = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + stub for stub in STUB] if cell_type == "code" else [indent + MARKDOWN_STUB]
        elif marker == END_SOLUTION:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


def student_cell(cell):
    """The released form of one source cell, or None for instructor cells."""
    cell_id, role = cell_role(cell)
    if role == "instructor":
        return None
    cell = copy.deepcopy(cell)
    if role in STUDENT_ROLES:
        cell.source = strip_solutions(cell.source, cell.cell_type)
    if role in LOCKED_ROLES:
        cell.metadata.update(editable=False, deletable=False)
        cell.metadata.numtorch["checksum"] = checksum(cell.source)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def student_notebook(lab):
    """The notebook a student receives, starting with the install cell that makes it work in Colab."""
    from labs.fetch import with_install_cell

    notebook = with_install_cell(copy.deepcopy(lab.notebook), lab.slug)
    notebook.cells = [c for c in map(student_cell, notebook.cells) if c is not None]
    return notebook


def entries(folder, left_out):
    """The files and folders in `folder`, but those named in `left_out` and caches."""
    names = [path.name for path in folder.iterdir()]
    left_out = set(left_out) | SKIPPED(folder, names)
    return [folder / name for name in sorted(names) if name not in left_out]


def data_files(lab):
    """The lab's files besides the notebook and its tests (lab.toml, data): the notebook's working folder."""
    return entries(lab.folder, {lab.notebook_path.name, "tests"})


def copy_into(paths, dest):
    """Copy files and folders into `dest`, leaving caches behind."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in paths:
        if path.is_dir():
            shutil.copytree(path, dest / path.name, ignore=SKIPPED, dirs_exist_ok=True)
        else:
            shutil.copy2(path, dest / path.name)


def release_student(lab, dest, keep_notebook=False):
    """Write the student's copy of `lab` into `dest`; return the notebook's path.

    A student gets every file of the lab folder but the source notebook and tests/hidden. With
    `keep_notebook`, an existing notebook in `dest` (a student's work) is left untouched.
    """
    dest = Path(dest)
    copy_into(data_files(lab), dest)
    tests = lab.folder / "tests"
    if tests.is_dir():
        copy_into(entries(tests, {"hidden"}), dest / "tests")
    path = dest / lab.notebook_path.name
    if not (keep_notebook and path.exists()):
        nbformat.write(student_notebook(lab), path)
    return path


def release(lab, out, gradescope=False):
    """Release `lab` into OUT/student and OUT/autograder (and OUT/autograder.zip with `gradescope`)."""
    out = Path(out)
    for old in (out / "student", out / "autograder"):
        shutil.rmtree(old, ignore_errors=True)
    release_student(lab, out / "student")
    shutil.copytree(lab.folder, out / "autograder", ignore=SKIPPED)
    nbformat.write(student_notebook(lab), out / "autograder" / lab.notebook_path.name)
    if gradescope:
        gradescope_zip(out / "autograder", out / "autograder.zip")
    return out


def release_all(labs_root, out):
    """Release the student copy of every lab `labs_root/[0-9]*` into OUT/<lab folder name>/.

    A notebook already there is kept: running `make lab` again never overwrites a student's work.
    Returns [(notebook path, kept?)].
    """
    released = []
    for folder in sorted(Path(labs_root).glob("[0-9]*")):
        if folder.is_dir():
            lab = load_lab(folder)
            kept = (Path(out) / folder.name / lab.notebook_path.name).exists()
            released.append((release_student(lab, Path(out) / folder.name, keep_notebook=True), kept))
    return released


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install --quiet -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, as root; it must leave $ROOT/results/results.json.
# AUTOGRADER_ROOT lets you try it on your machine: unzip into ROOT/source, put a notebook in ROOT/submission.
# The student's code runs in a sandbox (bubblewrap, else an unused user id): source/ and results/ are root's
# alone (mode 700), the grading happens in a private folder, and this script writes results.json last.
set -uo pipefail
ROOT=${AUTOGRADER_ROOT:-/autograder}
export PYTHONPATH="$ROOT/source/python${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$ROOT/results"
chmod 700 "$ROOT/source" "$ROOT/results"
private=$(mktemp -d)
sub=$(ls "$ROOT"/submission/*.ipynb 2>/dev/null | head -n 1)
if [ -z "$sub" ]; then
    echo '{"score": 0, "output": "No .ipynb file in your submission: upload the lab notebook (.ipynb).", "tests": []}' \\
        > "$private/results.json"
else
    cp "$sub" "$private/submission.ipynb"
    python3 -m labs grade "$ROOT/source/autograder" "$private/submission.ipynb" --out "$private/graded" --sandbox require
    cp "$private"/graded/*/results.json "$private/results.json" 2>/dev/null \\
        || echo '{"score": 0, "output": "The grader had a problem, not you: your instructor will regrade.", "tests": []}' \\
        > "$private/results.json"
fi
cp "$private/results.json" "$ROOT/results/results.json"
"""


def gradescope_zip(autograder, zip_path):
    """Zip the autograder folder with the packages the grader runs and Gradescope's two scripts."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_script(archive, "setup.sh", SETUP_SH)
        _add_script(archive, "run_autograder", RUN_AUTOGRADER)
        archive.writestr("requirements.txt", "\n".join(REQUIREMENTS) + "\n")
        for path in sorted(Path(autograder).rglob("*")):
            if path.is_file():
                archive.write(path, Path("autograder") / path.relative_to(autograder))
        for path, relative in package_files():
            archive.write(path, Path("python") / relative)
    return zip_path


def package_files():
    """(path, path relative to the packages' folder) of the code of numtorch, numtorch_magics and labs: every
    module, without caches and, of `labs`, only the tool (never a lab folder: no solutions, no hidden tests)."""
    files = []
    for name in PACKAGES:
        package = Path(find_spec(name).origin).parent
        for path in sorted(package.rglob("*.py")):
            parts = path.relative_to(package).parts
            if "__pycache__" not in parts and (name != "labs" or len(parts) == 1 or parts[0] == "grading"):
                files.append((path, Path(name, *parts)))
    return files


def _add_script(archive, name, text):
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o100755 << 16
    archive.writestr(info, text)
