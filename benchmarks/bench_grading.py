"""Grading speed: one submission with `numtorch-labs grade` (kernel start included), and a class with -j 2.

    python benchmarks/bench_grading.py [--quick] [--lab labs/01_tensors] [--class-size 30]

Targets (issue 6): grading one submission, kernel start included, <= 10 s; thirty submissions with -j 2:
report the wall time. Each figure is the wall time of the whole command as an instructor runs it (a new
Python process: imports, the lab's test collection, kernels, results files). The class is half solved,
half blank notebooks of the lab. --quick grades 6 instead of 30.
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from labs.grading.lab import load_lab  # noqa: E402
from labs.grading.release import release, student_notebook  # noqa: E402

TARGET_ONE = 10.0


def grade(autograder, paths, out, jobs):
    """Wall seconds of `python -m labs grade` on `paths`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "labs", "grade", str(autograder), *map(str, paths), "--out", str(out),
                    "-j", str(jobs)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lab", default=str(REPO / "labs" / "_example"), help="lab folder (default: the example lab)")
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a class of 6")
    args = parser.parse_args()
    size = 6 if args.quick else args.class_size
    lab = load_lab(args.lab)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        release(lab, folder / "release")
        autograder = folder / "release" / "autograder"
        paths = []
        for number in range(size):
            paths.append(folder / "class" / f"student{number:02d}.ipynb")
            paths[-1].parent.mkdir(exist_ok=True)
            nbformat.write(lab.notebook if number % 2 == 0 else student_notebook(lab), paths[-1])
        one = grade(autograder, paths[:1], folder / "one", jobs=1)
        many = grade(autograder, paths, folder / "class-results", jobs=2)
    verdict = "OK" if one <= TARGET_ONE else "OVER TARGET"
    print(f"lab: {lab.folder.name} ({lab.title})")
    print(f"one submission, kernel start included: {one:.1f} s (target <= {TARGET_ONE:g} s) {verdict}")
    print(f"{size} submissions with -j 2: {many:.1f} s wall ({many / size:.2f} s per submission)")
    return 0 if one <= TARGET_ONE else 1


if __name__ == "__main__":
    sys.exit(main())
