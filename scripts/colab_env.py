"""A virtual environment pinned to Google Colab's notebook stack, built once and cached.

    python scripts/colab_env.py [WHEEL]     prints the environment's python; installs WHEEL[notebook] into it

Colab runs IPython 7.34.0, ipywidgets 7.7.1, ipykernel 6.17.1, notebook 6.5.7 (and jupyter-client 6.1.12),
and upgrading IPython or ipywidgets there breaks its frontend: NumTorch must work with exactly these. Colab's Python is 3.13; this
environment uses the Python running the script (the tests: the dev environment's). It lives in
$NUMTORCH_CACHE (default ~/.cache/numtorch)/colab-<hash of the pins and the Python version>, so only the first
run downloads anything (from the package registry); a WHEEL is installed with the pins held, so pip can
never upgrade them. Uses only the standard library: it runs before anything else is installed.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

PINS = ["ipython==7.34.0", "ipywidgets==7.7.1", "ipykernel==6.17.1", "notebook==6.5.7",
        "jupyter-client==6.1.12"]  # Colab's too: its frontend talks to this one
TEST_TOOLS = ["pytest", "hypothesis"]  # to run the magics' and widgets' tests there


def env_path():
    """The cache folder for these pins and this Python."""
    key = hashlib.sha256(" ".join(PINS + TEST_TOOLS + [sys.version]).encode()).hexdigest()[:12]
    root = Path(os.environ.get("NUMTORCH_CACHE") or Path.home() / ".cache" / "numtorch")
    return root / f"colab-{key}"


def pip(env, *args):
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", *args], check=True)


def build(env):
    """Create the environment with the pins (again, from scratch, if an earlier build did not finish)."""
    done = env / ".complete"
    if done.exists():
        return
    shutil.rmtree(env, ignore_errors=True)
    venv.create(env, with_pip=True)
    pip(env, *PINS, *TEST_TOOLS)
    done.touch()


def install(env, wheel):
    """Install `wheel` with its notebook extra; the pins stay as they are."""
    pip(env, "--force-reinstall", "--no-deps", str(wheel))
    pip(env, f"numtorch[notebook] @ {Path(wheel).resolve().as_uri()}", *PINS)


def main(argv):
    env = env_path()
    build(env)
    if argv:
        install(env, argv[0])
    print(env / "bin" / "python")


if __name__ == "__main__":
    main(sys.argv[1:])
