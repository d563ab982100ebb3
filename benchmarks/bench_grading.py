"""Grading speed: one submission (judge and sandbox start included), a class with -j 2, the sandbox's cost.

    python benchmarks/bench_grading.py [--quick] [--lab labs/01_tensors] [--class-size 30]

Targets (issue 10), on two cores:
- one submission of lab 1 graded, judge process and sandbox start included: <= 4 s;
- thirty submissions with -j 2: <= 60 s wall;
- the sandbox's overhead per submission (bubblewrap against no sandbox, -j 1): <= 0.5 s.
Each figure is grade_all's wall time in this process, after the imports an instructor's `numtorch-labs
grade` pays once (reported too, as the whole command's time for one submission). The class is half
solved, half blank notebooks of the lab. The machine's load average is printed: other work on the same
cores stretches every wall time. --quick grades 6 instead of 30.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from labs.grading.grade import Limits, grade_all  # noqa: E402
from labs.grading.lab import load_lab  # noqa: E402
from labs.grading.release import release, student_notebook  # noqa: E402

TARGET_ONE, TARGET_CLASS, TARGET_OVERHEAD = 4.0, 60.0, 0.5


def timed(lab, paths, jobs, mode):
    """Wall seconds of grade_all on `paths`; every grade must have come back without a grader problem."""
    limits = Limits(lab.config["cell_timeout"], lab.config["total_timeout"])
    start = time.perf_counter()
    grades = grade_all(lab, paths, [p.stem for p in paths], limits, jobs=jobs, sandbox_mode=mode)
    seconds = time.perf_counter() - start
    assert not any(g.problem for g in grades), [g.problem for g in grades if g.problem]
    return seconds


def command(autograder, path, out):
    """Wall seconds of `python -m labs grade` on one notebook (a new Python process, imports included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "labs", "grade", str(autograder), str(path), "--out", str(out)], cwd=REPO,
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def verdict(value, target):
    return f"(target <= {target:g}) {'OK' if value <= target else 'OVER TARGET'}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lab", default=str(REPO / "labs" / "01_tensors"), help="lab folder (default: lab 1)")
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a class of 6")
    args = parser.parse_args()
    size = 6 if args.quick else args.class_size
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        lab = load_lab(release(load_lab(args.lab), folder / "release") / "autograder")
        paths = []
        for number in range(size):
            paths.append(folder / "class" / f"student{number:02d}.ipynb")
            paths[-1].parent.mkdir(exist_ok=True)
            nbformat.write(load_lab(args.lab).notebook if number % 2 == 0 else student_notebook(lab), paths[-1])
        timed(lab, paths[:1], 1, "auto")  # warm the file cache, as a second run would be
        one = min(timed(lab, paths[:1], 1, "auto") for _ in range(3))
        many = timed(lab, paths, 2, "auto")
        sample = paths[:6]
        with_sandbox = timed(lab, sample, 1, "bwrap") / len(sample)
        without = timed(lab, sample, 1, "none") / len(sample)
        whole = command(lab.folder, paths[0], folder / "cli")
    print(f"lab: {lab.title}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"one submission, judge and sandbox start included: {one:.2f} s {verdict(one, TARGET_ONE)}")
    print(f"{size} submissions with -j 2: {many:.1f} s wall ({many / size:.2f} s per submission) "
          f"{verdict(many * 30 / size, TARGET_CLASS) if size == 30 else ''}")
    print(f"per submission with bubblewrap {with_sandbox:.2f} s, without a sandbox {without:.2f} s: overhead "
          f"{with_sandbox - without:.2f} s {verdict(with_sandbox - without, TARGET_OVERHEAD)}")
    print(f"the whole command for one submission (a new Python, imports included): {whole:.1f} s")
    ok = one <= TARGET_ONE and with_sandbox - without <= TARGET_OVERHEAD and (size != 30 or many <= TARGET_CLASS)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
