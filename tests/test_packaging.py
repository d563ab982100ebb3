"""What students install: the wheel and the sdist, built as a maintainer builds them (`python -m build`, in
isolation), carry the library, the magics, labs.check and the labs' student releases, and no solution block
and no hidden test of any lab."""

import ast
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from labs.grading.lab import BEGIN_SOLUTION, END_SOLUTION, load_lab

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
LABS = sorted(p for p in (REPO / "labs").glob("[0-9]*") if (p / "lab.toml").is_file())
ALL_LAB_SOURCES = LABS + [REPO / "labs" / "_example"]


def build(out, *flags):
    done = subprocess.run([sys.executable, "-m", "build", *flags, "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """{name: {path inside: text}} for the sdist, the wheel built from it, and a wheel built from the tree."""
    out = tmp_path_factory.mktemp("dist")
    build(out / "default")            # the sdist, then the wheel from the unpacked sdist
    # `pip wheel .` builds straight from the source tree, in its build/ folder, which outlives a build: a
    # hidden test an older build left there must not reach the wheel
    stale = REPO / "build" / "lib" / "labs" / "01_tensors" / "tests" / "hidden" / "test_left_by_an_old_build.py"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("def test_left_behind(): pass\n")
    build(out / "tree", "--wheel")
    (sdist,), (wheel,), (tree_wheel,) = (sorted((out / d).glob(g)) for d, g in
                                         (("default", "*.tar.gz"), ("default", "*.whl"), ("tree", "*.whl")))
    return {"sdist": read_tar(sdist), "wheel from sdist": read_zip(wheel), "wheel from tree": read_zip(tree_wheel)}


def read_zip(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


def read_tar(path):
    with tarfile.open(path) as archive:
        return {member.name.split("/", 1)[1]: archive.extractfile(member).read().decode("utf-8", "replace")
                for member in archive.getmembers() if member.isfile()}


def texts(files):
    """Every file's text, with notebooks turned into their cells' sources (as a student would read them)."""
    for name, text in files.items():
        if name.endswith(".ipynb"):
            text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
        yield name, text


def solution_blocks(lab_folder):
    """The text of every solution block of a lab's source notebook (each at least one line)."""
    blocks = re.findall(rf"{BEGIN_SOLUTION}\n(.*?)\n[ \t]*{END_SOLUTION}",
                        "\n".join(cell.source for cell in load_lab(lab_folder).notebook.cells), re.S)
    return [block.strip() for block in blocks if block.strip()]


def hidden_tests(lab_folder):
    """(file text, [source of each test function]) of every hidden test file of a lab."""
    for path in sorted((lab_folder / "tests" / "hidden").glob("*.py")):
        text = path.read_text()
        tests = [ast.get_source_segment(text, node) for node in ast.parse(text).body
                 if isinstance(node, ast.FunctionDef) and node.name.startswith("test")]
        yield text, tests


@pytest.mark.parametrize("kind", ["sdist", "wheel from sdist", "wheel from tree"])
def test_no_solution_and_no_hidden_test_is_shipped(archives, kind):
    files = dict(texts(archives[kind]))
    assert not [name for name in files if "hidden" in Path(name).parts], "a tests/hidden folder is shipped"
    for name, text in files.items():
        markers = [line for line in text.splitlines() if line.strip() in (BEGIN_SOLUTION, END_SOLUTION)]
        assert not markers, f"{kind}: {name} has a solution block"
    everything = "\n".join(files.values())
    # The library itself is the answer to some exercises (lab 3 writes Mul.backward; grading makes the
    # library's own unavailable): look for solutions in what ships of the labs.
    lab_files = "\n".join(text for name, text in files.items() if name.startswith("labs/"))
    for lab in ALL_LAB_SOURCES:
        for block in solution_blocks(lab):
            assert block not in lab_files, f"{kind}: a solution of {lab.name} is shipped:\n{block}"
        for text, tests in hidden_tests(lab):
            assert text not in everything and not [t for t in tests if t in everything], \
                f"{kind}: a hidden test of {lab.name} is shipped"


@pytest.mark.parametrize("kind", ["wheel from sdist", "wheel from tree"])
def test_the_wheel_carries_the_student_releases(archives, kind):
    files = archives[kind]
    for name in ("numtorch/tensor.py", "numtorch_magics/magics.py", "numtorch_magics/compat.py",
                 "labs/self_check.py", "labs/fetch.py", "labs/cli.py"):
        assert name in files
    for lab in LABS:
        slug = load_lab(lab).slug
        notebook = json.loads(files[f"labs/released/{lab.name}/{slug}.ipynb"])
        sources = ["".join(cell["source"]) for cell in notebook["cells"]]
        assert any(f'fetch_missing("{slug}")' in source for source in sources)
        assert sum("raise NotImplementedError()" in source for source in sources) >= 1
        for public in (lab / "tests" / "public").glob("*.py"):
            assert files[f"labs/released/{lab.name}/tests/public/{public.name}"] == public.read_text()
    assert not [name for name in files if name.startswith("labs/") and name.endswith(".ipynb")
                and not name.startswith("labs/released/")], "a lab's source notebook is shipped"


def test_the_notebook_extra_installs_on_colab(archives):
    metadata = Parser().parsestr(next(t for n, t in archives["wheel from sdist"].items() if n.endswith("METADATA")))
    notebook = [r for r in metadata.get_all("Requires-Dist") if 'extra == "notebook"' in r]
    assert any(r.startswith("ipython>=7.34") for r in notebook) and any(r.startswith("ipywidgets>=7.7") for r in notebook)
    assert not [r for r in notebook if r.startswith(("jupyterlab", "notebook"))], "the notebook extra installs a frontend"
