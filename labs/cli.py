"""numtorch-labs: validate, release and grade lab notebooks (also `python -m labs`).

    numtorch-labs validate labs/01_tensors
    numtorch-labs release labs/01_tensors --out build/01_tensors [--gradescope]
    numtorch-labs release-all --out work
    numtorch-labs grade build/01_tensors/autograder submissions/*.ipynb --out results [-j 2]
    numtorch-labs fetch 04_training [--out DIR]          a lab's student copy (also: fetch all --out work)
    numtorch-labs export labs/04_training --format nbgrader --out course/source/04_training
"""
import argparse
import sys
from pathlib import Path

from labs.grading.lab import LabError, load_lab

LABS = Path(__file__).resolve().parent


def validate_command(args):
    from labs.grading.validate import validate

    return 0 if all([validate(load_lab(folder)) for folder in args.lab]) else 1


def release_command(args):
    from labs.grading.release import release

    lab = load_lab(args.lab)
    out = release(lab, args.out, gradescope=args.gradescope)
    print(f"released {lab.title}:\n  {out / 'student'}    for students\n  {out / 'autograder'} for grading")
    if args.gradescope:
        print(f"  {out / 'autograder.zip'} for Gradescope (configure it as a Python autograder)")
    return 0


def release_all_command(args):
    from labs.grading.release import release_all

    released = release_all(args.labs, args.out)
    print(f"released {len(released)} lab(s) for students into {args.out}:" * bool(released))
    for path, kept in released:
        print(f"  {path}" + ("  (kept: your work is there; delete it for a fresh copy)" if kept else ""))
    if not released:
        print(f"no labs found in {args.labs} (folders named like 01_tensors)")
    return 0


def fetch_command(args):
    from labs.fetch import fetch, known_labs

    names = list(known_labs()) if args.lab == "all" else [args.lab]
    for name in names:
        out = Path(args.out or ".") / name if args.lab == "all" else args.out
        notebook, kept = fetch(name, out)
        print(f"{notebook}: " + ("kept: it has your changes; rename or delete it for a fresh copy" if kept else
                                 f"the notebook, with its public tests and data in {notebook.parent}"))
    return 0


def export_command(args):
    from labs.export import export_nbgrader

    lab = load_lab(args.lab)
    unsupported = export_nbgrader(lab, args.out)
    print(f"exported {lab.title} as an nbgrader source assignment: {Path(args.out) / lab.notebook_path.name}")
    for feature, what in unsupported.items():
        print(f"  nbgrader cannot express {feature}: {what}")
    return 0


def grade_command(args):
    from labs.grading.grade import Limits, grade_all
    from labs.grading.report import write_grade, write_grades_csv

    lab = load_lab(args.autograder)
    paths = submissions(args.submissions)
    names = unique_names(paths)
    limits = Limits(args.timeout or lab.config["cell_timeout"], args.total_timeout or lab.config["total_timeout"])
    out = Path(args.out)

    def done(grade):
        write_grade(lab, grade, out / grade.name)
        notes = len(grade.notes)
        flag = f"  GRADER PROBLEM: {grade.problem}" if grade.problem else f"  ({notes} note{'s' * (notes > 1)})" * bool(notes)
        print(f"  {grade.name:<30} {grade.score:>6g} / {grade.max_score:g}  {grade.seconds:5.1f} s{flag}", flush=True)

    print(f"grading {len(paths)} submission(s) of {lab.title}, {args.jobs} at a time")
    grades = grade_all(lab, paths, names, limits, jobs=args.jobs, on_done=done, sandbox_mode=args.sandbox)
    write_grades_csv(lab, grades, out / "grades.csv")
    print(f"wrote {out}/<submission>/results.json and feedback.md, and {out / 'grades.csv'}")
    return 1 if any(grade.problem for grade in grades) else 0


def submissions(paths):
    """The notebook files to grade: files as given, folders expanded to the .ipynb files inside."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.exists():
            files.append(path)
        else:
            raise LabError(f"no such submission: '{path}'")
    if not files:
        raise LabError("no notebooks to grade in " + ", ".join(paths))
    return files


def unique_names(paths):
    """A results folder name per submission: the file's stem, made unique with its folder or a number."""
    names = []
    for path in paths:
        name = path.stem
        if name in names:
            name = f"{path.parent.name}-{path.stem}"
        base, number = name, 2
        while name in names:
            name, number = f"{base}-{number}", number + 1
        names.append(name)
    return names


def positive(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def parser():
    """The command line: one sub-command per task, each with its own --help."""
    top = argparse.ArgumentParser(prog="numtorch-labs", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser("validate", help="check that a lab is ready to release",
                                   description="Check a lab folder: its structure (lab.toml, cell roles, test markers), "
                                   "that its solutions score full marks and that its student release scores 0.")
    validate.add_argument("lab", nargs="+", help="lab folder(s), e.g. labs/01_tensors")
    validate.set_defaults(run=validate_command)

    release = commands.add_parser("release", help="write the student and autograder copies of a lab",
                                  description="Write OUT/student (the notebook without solutions, public tests) "
                                  "and OUT/autograder (everything grading needs).")
    release.add_argument("lab", help="lab folder, e.g. labs/01_tensors")
    release.add_argument("--out", required=True, help="output folder")
    release.add_argument("--gradescope", action="store_true", help="also write OUT/autograder.zip for Gradescope")
    release.set_defaults(run=release_command)

    release_all = commands.add_parser("release-all", help="release every lab for students (make lab)",
                                      description="Write the student copy of every lab folder LABS/[0-9]* into "
                                      "OUT/<lab folder>/. Notebooks already there (a student's work) are kept.")
    release_all.add_argument("--out", required=True, help="output folder, e.g. work")
    release_all.add_argument("--labs", default=LABS, type=Path, help="folder holding the labs (default: %(default)s)")
    release_all.set_defaults(run=release_all_command)

    fetch = commands.add_parser("fetch", help="get a lab's student copy: notebook, public tests, data",
                                description="Write a lab's student notebook, public tests and data into OUT "
                                "(default ./LAB). Files already there are refreshed, but a notebook you changed is "
                                "kept. LAB is a folder name (04_training), a number (4) or `all` (each into OUT/LAB).")
    fetch.add_argument("lab", metavar="LAB", help="the lab, e.g. 04_training, or all")
    fetch.add_argument("--out", type=Path, help="output folder (default: ./LAB, or . for all)")
    fetch.set_defaults(run=fetch_command)

    export = commands.add_parser("export", help="write a lab in another grader's format (nbgrader)",
                                 description="Write the lab as an nbgrader source assignment into OUT (e.g. "
                                 "course/source/<assignment>): solution, read-only and autograder test cells with "
                                 "points, hidden tests included. Says what nbgrader cannot express.")
    export.add_argument("lab", help="the lab's source folder, e.g. labs/04_training")
    export.add_argument("--format", required=True, choices=["nbgrader"], help="the grader's format")
    export.add_argument("--out", required=True, type=Path, help="output folder")
    export.set_defaults(run=export_command)

    grade = commands.add_parser("grade", help="grade submissions, each in a sandbox",
                                description="Grade notebooks: OUT/<name>/results.json (Gradescope format), "
                                "OUT/<name>/feedback.md (for the student), OUT/<name>/graded.ipynb (the run, "
                                "for you) and OUT/grades.csv (one row per submission).")
    grade.add_argument("autograder", help="an autograder folder from `release` (or the lab folder itself)")
    grade.add_argument("submissions", nargs="+", help="notebook files, or folders of them")
    grade.add_argument("--out", required=True, help="results folder")
    grade.add_argument("--timeout", type=positive, help="seconds per cell and per test (default: lab.toml's cell_timeout)")
    grade.add_argument("--total-timeout", type=positive,
                       help="seconds for all of a notebook's cells (default: lab.toml's total_timeout)")
    grade.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once (default: 1)")
    grade.add_argument("--sandbox", choices=["auto", "require", "bwrap", "user", "none"], default="auto",
                       help="where the student's code runs: auto (bubblewrap, else the user 'nobody', else no "
                       "sandbox, said in every grade), require (refuse without one), or one of them")
    grade.set_defaults(run=grade_command)
    return top


def main(argv=None):
    """Run the command line; exit 0 on success, 1 when a check fails, 2 on a usage error."""
    args = parser().parse_args(argv)
    try:
        sys.exit(args.run(args))
    except LabError as error:
        print(f"numtorch-labs {args.command}: {error}", file=sys.stderr)
        sys.exit(2)
