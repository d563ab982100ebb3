"""NumTorch labs: the lab notebooks and the tool that validates, releases, checks and grades them.

In a lab notebook, ``labs.check("ex1")`` runs the public tests of exercise ex1 and shows a ✅/❌ row per
test (hidden tests run at grading). Lab tests take their helpers from ``labs.testing``. Instructors:
``numtorch-labs --help`` and docs/grading.md.
"""
from labs.self_check import check

__all__ = ["check"]
