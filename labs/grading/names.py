"""Names for submissions: a safe results folder per file, the file name as people read it, the roster.

A submission's file name is chosen by a student, so it is never used as a path: each one gets a slug
(letters, digits, `_` and `-`, no dot, at most 60 characters), unique in the batch and against the rows
already in grades.csv, so `...ipynb`, `grades.csv.ipynb`, `a_\\xff.ipynb` or a name with a newline all land
in a folder of their own inside --out.
"""
import csv
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from labs.grading.lab import LabError

MAX_SLUG = 60


def no_surrogates(text):
    """`text` with each lone surrogate (valid JSON, but no UTF-8 file can hold it) replaced by U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def readable(text):
    """`text` (a file name) for people: bytes that are not UTF-8 as �, control characters as escapes like \\n."""
    try:
        text = os.fsencode(str(text)).decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte of a file name
        text = no_surrogates(str(text))
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in text)


def slug(stem):
    """A folder name made of `stem`'s letters and digits: `My lab (v2)` -> `My-lab-v2`, never empty."""
    text = unicodedata.normalize("NFC", readable(stem))
    kept = "".join(c if c.isalnum() or c in "_-" else "-" for c in text)
    return "-".join(part for part in kept.split("-") if part)[:MAX_SLUG].strip("-_") or "submission"


def unique_slugs(paths, taken=()):
    """A slug per path, unique in the batch and unlike `taken` (ignoring case): stem, folder-stem, then -2, -3..."""
    used = {name.lower() for name in taken}
    names = []
    for path in paths:
        name = slug(path.stem)
        if name.lower() in used:
            name = slug(f"{path.parent.name}-{path.stem}")
        base, number = name[:MAX_SLUG - 4], 2
        while name.lower() in used:
            name, number = f"{base}-{number}", number + 1
        used.add(name.lower())
        names.append(name)
    return names


@dataclass
class Student:
    """Who a submission belongs to: an id (the roster's, else the file's stem) and a name (roster only)."""

    id: str
    name: str = ""
    notes: list = field(default_factory=list)  # what the instructor should know about this match


def read_roster(path):
    """{file name or stem: Student} from a CSV with the columns file, id, name; LabError saying what to fix."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as table:
            reader = csv.DictReader(table)
            rows = [{(key or "").strip().lower(): value for key, value in row.items()} for row in reader]
        header = [column.strip().lower() for column in reader.fieldnames or []]
    except OSError as error:
        raise LabError(f"cannot read the roster '{readable(path)}': {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise LabError(f"the roster '{readable(path)}' is not a UTF-8 CSV file ({error})") from None
    if "file" not in header or "id" not in header:
        raise LabError(f"the roster '{readable(path)}' needs the columns file, id (and optionally name); "
                       f"its header is: {', '.join(header) or '(empty)'}")
    roster = {}
    for number, row in enumerate(rows, start=2):
        file, student_id = (row.get("file") or "").strip(), (row.get("id") or "").strip()
        if not file or not student_id:
            raise LabError(f"the roster '{readable(path)}', line {number}: every row needs a file and an id")
        if file in roster:
            raise LabError(f"the roster '{readable(path)}', line {number}: '{file}' is listed twice")
        roster[file] = Student(student_id, (row.get("name") or "").strip())
    return roster


def student_of(path, roster):
    """The Student of a submission file: from the roster by file name or stem, else the file's stem."""
    if roster is None:
        return Student(readable(path.stem))
    found = roster.get(readable(path.name)) or roster.get(readable(path.stem))
    if found:
        return Student(found.id, found.name)
    return Student(readable(path.stem), notes=[f"'{readable(path.name)}' is not in the roster: its id is the file's stem"])
