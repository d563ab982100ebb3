"""numtorch-labs: validate, release and grade lab notebooks (also `python -m labs`).

    numtorch-labs validate labs/01_tensors
    numtorch-labs release labs/01_tensors --out build/01_tensors [--gradescope]
    numtorch-labs release-all --out work
    numtorch-labs grade build/01_tensors/autograder submissions/*.ipynb --out results [-j 2] [--roster roster.csv]
    numtorch-labs summary results
    numtorch-labs fetch 04_training [--out DIR]          a lab's student copy (also: fetch all --out work)
    numtorch-labs export labs/04_training --format nbgrader --out course/source/04_training
"""
import argparse
import os
import sys
import traceback
from pathlib import Path

from labs.grading.lab import LabError, load_lab
from labs.grading.names import readable

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
    from labs.grading.names import read_roster
    from labs.grading.sandbox import DESCRIPTIONS
    from labs.grading.report import GradesTable

    lab = load_lab(args.autograder)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = GradesTable(lab, out / "grades.csv")
    batch = Batch(lab, out, table, read_roster(args.roster) if args.roster else None, args.hidden_feedback)
    paths = batch.add(submissions(args.submissions, out))
    limits = Limits(args.timeout or lab.config["cell_timeout"], args.total_timeout or lab.config["total_timeout"])
    print(f"grading {len(paths)} submission(s) of {lab.title}, {args.jobs} at a time")
    for note in batch.notes:
        print(f"  note: {note}")
    grades = grade_all(lab, paths, batch.names, limits, jobs=args.jobs, on_done=batch.done, sandbox_mode=args.sandbox,
                       on_sandbox=lambda mode: print(f"  sandbox: {DESCRIPTIONS[mode]}"))
    print(f"wrote {out}/<submission>/results.json, feedback.md and graded.ipynb, and {table.path}")
    return 1 if any(grade.problem for grade in grades) else 0


class Batch:
    """The submissions of one `grade` run: their results folders, students and notes, and what to do with a grade."""

    def __init__(self, lab, out, table, roster, hidden_feedback):
        self.lab, self.out, self.table, self.roster, self.hidden_feedback = lab, out, table, roster, hidden_feedback
        self.names, self.about, self.notes = [], {}, []

    def add(self, paths):
        """Name every path (a file graded before keeps its results folder); return the files to read."""
        from labs.grading.names import student_of, unique_slugs
        from labs.grading.report import cell_text

        earlier = {row.get("file"): name for name, row in self.table.rows.items()}
        files = [cell_text(readable(os.path.abspath(path))) for path in paths]
        taken = [name for name, row in self.table.rows.items() if row.get("file")]  # rows from before `file` are updated
        fresh = iter(unique_slugs([p for p, f in zip(paths, files) if f not in earlier], taken))
        self.names = [earlier.get(file) or next(fresh) for file in files]
        targets = []
        for path, file, name in zip(paths, files, self.names):
            target, notes = resolved(path)
            student = student_of(path, self.roster)
            self.about[name] = {"file": file, "student_id": student.id, "student_name": student.name,
                                "notes": notes + student.notes}
            self.notes += notes + student.notes
            targets.append(target)
        unmatched = set(self.roster or ()) - {readable(p.name) for p in paths} - {readable(p.stem) for p in paths}
        self.notes += [f"the roster lists '{file}' (id {self.roster[file].id}): no such submission" for file in sorted(unmatched)]
        return targets

    def done(self, grade):
        """Write one submission's results and its row of grades.csv; whatever fails here fails for it alone."""
        from labs.grading.report import results_folder, write_grade, write_report_failure

        about = self.about[grade.name]
        folder = lambda: results_folder(self.out, grade.name)  # noqa: E731 (made again after a failure)
        if not attempt(grade, "writing the report", lambda: write_grade(self.lab, grade, folder(), about, self.hidden_feedback)):
            attempt(grade, "writing the report", lambda: write_report_failure(folder(), grade.problem, about))
        attempt(grade, "writing grades.csv", lambda: self.table.put(self.table.row(grade, about)))
        notes = len(grade.notes)
        flag = f"  GRADER PROBLEM: {grade.problem}" if grade.problem else f"  ({notes} note{'s' * (notes > 1)})" * bool(notes)
        print(f"  {grade.name:<30} {grade.score:>6g} / {grade.max_score:g}  {grade.seconds:5.1f} s{flag}", flush=True)


def attempt(grade, what, action):
    """Run `action()`; True, or False when it raised: then `grade` says the grader had a problem (not the student)."""
    try:
        action()
        return True
    except Exception as error:  # a bug of the grader or a full disk, met by this submission only
        traceback.print_exc()
        grade.problem = grade.problem or f"{what} failed: {error!r}"
        return False


def resolved(path):
    """(the file to read, notes for the instructor): a link is followed, and the notes say where it led."""
    if not path.is_symlink():
        return path, []
    target = Path(os.path.realpath(path))
    if not target.exists():
        return path, [f"'{readable(path)}' is a broken link: graded as an unreadable file"]
    return target, [f"'{readable(path)}' is a link to '{readable(target)}': graded that file"]


def inside(path, folder):
    """Whether `path`, links followed, lies in `folder`."""
    folder = os.path.realpath(folder)
    return os.path.commonpath([os.path.realpath(path), folder]) == folder


def summary_command(args):
    from labs.grading.summary import write_summary

    print(write_summary(args.results), end="")
    print(f"(also in {Path(args.results) / 'summary.md'}, with the histogram {Path(args.results) / 'summary.svg'})")
    return 0


def submissions(paths, out):
    """The notebook files to grade: files as given, folders expanded to the .ipynb files inside, except those
    in `out` and links leading out of the folder (say, to the autograder's tests), which are skipped and named."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not inside(p, out))
            for link in [p for p in found if p.is_symlink() and not inside(p, path)]:
                print(f"skipped '{readable(link)}': a link to '{readable(os.path.realpath(link))}', outside {readable(path)}")
                found.remove(link)
            files += found
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            raise LabError(f"no such submission: '{path}'")
    if not files:
        raise LabError("no notebooks to grade in " + ", ".join(paths))
    return list({os.path.abspath(path): path for path in files}.values())


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
                                description="Grade notebooks into OUT: OUT/<submission>/results.json (Gradescope "
                                "format), feedback.md (for the student), graded.ipynb (the run with each exercise's "
                                "score and failed tests next to its answer, for you), and OUT/grades.csv (one row per "
                                "submission, rewritten after each one; grading again into the same OUT updates rows). "
                                "<submission> is a safe folder name made from the file name. See docs/reports.md.")
    grade.add_argument("autograder", help="an autograder folder from `release` (or the lab folder itself)")
    grade.add_argument("submissions", nargs="+", help="notebook files, or folders searched for *.ipynb")
    grade.add_argument("--out", required=True, help="results folder (nothing is written outside it)")
    grade.add_argument("--timeout", type=positive, help="seconds per cell and per test (default: lab.toml's cell_timeout)")
    grade.add_argument("--total-timeout", type=positive,
                       help="seconds for all of a notebook's cells (default: lab.toml's total_timeout)")
    grade.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once (default: 1)")
    grade.add_argument("--roster", metavar="CSV",
                       help="a CSV with the columns file, id and name (name optional) giving each submission file "
                       "(its name, with or without .ipynb) the student's id and name in grades.csv; "
                       "without it, the id is the file name without .ipynb")
    grade.add_argument("--hidden-feedback", choices=("summary", "full"), default="summary",
                       help="what feedback.md says of a failed hidden test: its name and ✅/❌ only (summary, the "
                       "default: the message waits until you publish it), or its message too (full). results.json "
                       "always has the message, visible on Gradescope after publishing")
    grade.add_argument("--sandbox", choices=["auto", "require", "bwrap", "user", "none"], default="auto",
                       help="where the student's code runs: auto (bubblewrap, else an unprivileged user id, else no "
                       "sandbox, said in every grade), require (refuse without one), or one of them")
    grade.set_defaults(run=grade_command)

    summary = commands.add_parser("summary", help="what a class's results say: per exercise mean, full marks, failing test",
                                  description="Read RESULTS/<submission>/results.json (from `grade`) and print, per "
                                  "exercise, the mean score, the share at full marks and the test failed most often; "
                                  "also write RESULTS/summary.md with a histogram of the totals (RESULTS/summary.svg).")
    summary.add_argument("results", help="the results folder given to `grade --out`")
    summary.set_defaults(run=summary_command)
    return top


def main(argv=None):
    """Run the command line; exit 0 on success, 1 when a check fails, 2 on a usage error."""
    args = parser().parse_args(argv)
    try:
        sys.exit(args.run(args))
    except LabError as error:
        print(f"numtorch-labs {args.command}: {error}", file=sys.stderr)
        sys.exit(2)
