"""A lab folder: `lab.toml`, the instructor's source notebook with cell roles, `tests/public`, `tests/hidden`.

The format is pinned in notes/LAB_FORMAT.md. Everything here is read-only and quick: no kernel, no tests run.
"""
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

ROLES = ("answer", "written", "setup", "check", "locked", "instructor")
LOCKED_ROLES = ("setup", "check", "locked")
STUDENT_ROLES = ("answer", "written")  # cells the student writes: solutions are stubbed, submissions kept
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
DEFAULTS = {"seed": 0, "cell_timeout": 60, "total_timeout": 600}
CHECK_CALL = re.compile(r"""(?:labs\.check\(|%check\s)\s*["']?([\w.-]+)""")


class LabError(Exception):
    """A lab folder or notebook that cannot be used; the message says what to fix."""


@dataclass
class Lab:
    """A lab as the grader sees it: its folder, its settings and its source notebook."""

    folder: Path
    config: dict
    notebook: dict  # an nbformat NotebookNode

    @property
    def slug(self):
        return self.config["slug"]

    @property
    def title(self):
        return self.config["title"]

    @property
    def notebook_path(self):
        return self.folder / f"{self.slug}.ipynb"

    def exercises(self):
        """Exercise ids in the order the notebook reaches them."""
        ids = [checked_exercise(cell) for cell in self.notebook.cells if cell_role(cell)[1] == "check"]
        ids += answer_exercises(self.notebook.cells).values()
        return list(dict.fromkeys(i for i in ids if i))

    def exercise_title(self, exercise):
        return self.config.get("exercises", {}).get(exercise, {}).get("title", exercise)


def load_lab(folder):
    """Read the lab in `folder`; raise LabError with a plain message when it is not a lab."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabError(f"no lab folder at '{folder}'")
    config = read_config(folder)
    path = folder / f"{config['slug']}.ipynb"
    if not path.is_file():
        raise LabError(f"{folder}: no source notebook '{path.name}' (lab.toml says slug = \"{config['slug']}\")")
    return Lab(folder, config, read_notebook(path))


def read_config(folder):
    """`lab.toml` with its defaults filled in."""
    path = Path(folder) / "lab.toml"
    if not path.is_file():
        raise LabError(f"'{folder}' is not a lab folder: it has no lab.toml (see notes/LAB_FORMAT.md)")
    try:
        config = dict(DEFAULTS, **tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as error:
        raise LabError(f"{path}: not valid TOML: {error}") from None
    missing = [key for key in ("title", "slug") if key not in config]
    if missing:
        raise LabError(f"{path}: missing {', '.join(missing)}")
    return config


def read_notebook(path, max_bytes=50_000_000):
    """Read a notebook as nbformat v4; raise LabError saying plainly why a file is not a notebook."""
    import nbformat  # here, not above: labs.check reads lab.toml and should not wait for nbformat's import

    path = Path(path)
    if not path.is_file():
        raise LabError(f"no such file: '{path}'")
    if path.stat().st_size > max_bytes:
        raise LabError(f"'{path.name}' is larger than {max_bytes // 1_000_000} MB; clear its outputs and save again")
    try:
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise LabError(f"'{path.name}' is not a notebook: it is not a text file") from None
    except Exception as error:  # nbformat raises JSON, validation and version errors of many types
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise LabError(f"'{path.name}' is not a Jupyter notebook ({reason}); upload the .ipynb file") from None


def cell_role(cell):
    """(id, role) from `metadata.numtorch`; the id is None when there is none (the student's own cells)."""
    meta = cell.get("metadata", {}).get("numtorch")
    if not isinstance(meta, dict):
        return None, None
    return meta.get("id") or None, meta.get("role")


def checked_exercise(cell):
    """The exercise a check cell checks: `metadata.numtorch.exercise`, else the argument of labs.check()."""
    explicit = cell.metadata.get("numtorch", {}).get("exercise")
    found = CHECK_CALL.search(cell.source)
    return explicit or (found.group(1) if found else None)


def answer_exercises(cells):
    """{answer cell id: exercise}: `metadata.numtorch.exercise`, else the exercise of the next check cell."""
    mapping, pending = {}, []
    for cell in cells:
        cell_id, role = cell_role(cell)
        if role == "answer":
            explicit = cell.metadata["numtorch"].get("exercise")
            if explicit:
                mapping[cell_id] = explicit
            else:
                pending.append(cell_id)
        elif role == "check":
            mapping.update(dict.fromkeys(pending, checked_exercise(cell)))
            pending = []
    mapping.update(dict.fromkeys(pending))
    return mapping


def checksum(source):
    """A short fingerprint of a locked cell's source."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
