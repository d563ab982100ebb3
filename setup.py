"""Build hooks (the metadata is in pyproject.toml): what students install carries each lab's *student release*
in labs/released/<lab>/ (the notebook without solutions, the public tests, the data), never a lab's source
notebook or its tests/hidden, which stay in the repository.

The sdist gets the releases too (and no lab source), so a wheel built from it is the same as one built here.
"""
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent


def release_labs(dest):
    """Write the student release of every lab source labs/[0-9]*/ into dest/<lab> (none in an sdist)."""
    if any(HERE.glob("labs/[0-9]*/lab.toml")):
        sys.path.insert(0, str(HERE))  # this tree's own release tool
        from labs.grading.release import release_all

        release_all(HERE / "labs", dest)


class BuildWithReleases(build_py):
    def run(self):
        if self.editable_mode:  # an editable install reads the labs' sources in place
            return super().run()
        # build/lib outlives a build and the wheel takes all of it: a lab file left there by an older build
        # (a renamed lab, an older layout that shipped sources) must not reach this wheel
        shutil.rmtree(Path(self.build_lib) / "labs", ignore_errors=True)
        super().run()
        release_labs(Path(self.build_lib) / "labs" / "released")


class SdistWithReleases(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        release_labs(Path(base_dir) / "labs" / "released")


setup(cmdclass={"build_py": BuildWithReleases, "sdist": SdistWithReleases})
