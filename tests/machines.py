"""This machine made to look like Gradescope's container for one command, to test the grader's fallbacks here.

Gradescope's image has its Python in /usr, readable by every user, and no bubblewrap. This project's machines
(and CI) have pyenv's Python under /root, which other users cannot enter, and bubblewrap. `like_gradescope`
wraps a command to run as root in a private mount namespace (`unshare`) in which each folder closing a Python
to others is an empty tmpfs holding only that Python, bound back in, and, if asked, `bwrap` is /bin/false.
Nothing outside that one command's namespace changes.
"""
import os
import shlex
import shutil
from pathlib import Path

import pytest


def closed_folder(path):
    """The outermost folder above `path` that other users cannot pass through, or None."""
    for parent in reversed(Path(path).parents):
        if not parent.stat().st_mode & 0o001:
            return parent
    return None


def like_gradescope(command, folders, hide_bubblewrap=False):
    """`command` wrapped to run where `folders` (the Python's, and whatever else the command needs from a
    closed folder) are open to every user, and bubblewrap is missing if asked; skips the test where that
    cannot be done here (not root, no unshare)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("only root with unshare can open the Python to other users here")
    closed = [(root, closed_folder(root)) for root in folders if closed_folder(root)]
    lines = ["set -e"]
    for k, (root, _) in enumerate(closed):
        lines += [f"stage{k}=$(mktemp -d)", f'mount --bind {shlex.quote(str(root))} "$stage{k}"']
    for folder in dict.fromkeys(folder for _, folder in closed):
        lines.append(f"mount -t tmpfs -o mode=755 numtorch-open {shlex.quote(str(folder))}")
    for k, (root, _) in enumerate(closed):
        lines += [f"mkdir -p {shlex.quote(str(root))}", f'mount --bind "$stage{k}" {shlex.quote(str(root))}']
    if hide_bubblewrap and shutil.which("bwrap"):
        lines.append(f"mount --bind /bin/false {shlex.quote(shutil.which('bwrap'))}")
    lines.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines), "like-gradescope",
            *map(str, command)]


def skip_without_namespaces(done):
    """Skip when the wrapped command failed because no private mount namespace could be made here."""
    if done.returncode != 0 and ("unshare:" in done.stderr or "mount:" in done.stderr):
        pytest.skip(f"no private mount namespace here: {done.stderr[-500:]}")
