"""The NumTorch kernel: an IPython kernel that loads `numtorch_magics` at start, so `%%numtorch` works without
`%load_ext`. It is the ordinary ipykernel of this Python, with one extra argument in its kernel.json.

    python -m numtorch_magics install-kernel --sys-prefix     # into this virtual environment

A classroom hub makes it the default kernel with ``c.MultiKernelManager.default_kernel_name = "numtorch"``
in its jupyter_server_config.py.
"""

import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

from numtorch_magics.compat import write_kernel_spec

KERNEL_NAME = "numtorch"
DISPLAY_NAME = "NumTorch (Python 3)"
# extra_extensions adds to any extensions a profile lists (`extensions` would replace them).
PRELOAD = "--IPKernelApp.extra_extensions=numtorch_magics"


def install_kernel(name=KERNEL_NAME, user=False, prefix=None):
    """Install the kernelspec for this Python (sys.executable) and return the folder it went to.

    user: into the user's Jupyter folder; prefix: into `prefix`/share/jupyter/kernels (sys.prefix for a
    virtual environment); neither: system-wide (needs the rights to write there).
    """
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_kernel_spec(Path(tmp) / name, overrides={"display_name": DISPLAY_NAME},
                                 extra_arguments=[PRELOAD], python_arguments=["-Xfrozen_modules=off"])
        return KernelSpecManager().install_kernel_spec(spec, kernel_name=name, user=user, prefix=prefix)


def main(argv=None):
    """`python -m numtorch_magics install-kernel [--user | --sys-prefix | --prefix P] [--name N]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m numtorch_magics",
                                     description="Install the NumTorch Jupyter kernel (it preloads %%numtorch).")
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install-kernel", help=f'install the "{DISPLAY_NAME}" kernelspec')
    where = install.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for the current user (the default)")
    where.add_argument("--sys-prefix", action="store_true", help=f"into this Python's environment ({sys.prefix})")
    where.add_argument("--prefix", metavar="P", help="into P/share/jupyter/kernels")
    install.add_argument("--name", default=KERNEL_NAME, help=f"the kernel's name (default: {KERNEL_NAME})")
    args = parser.parse_args(argv)
    prefix = sys.prefix if args.sys_prefix else args.prefix
    path = install_kernel(args.name, user=prefix is None, prefix=prefix)
    print(f'Installed the "{DISPLAY_NAME}" kernel ({args.name}) in {path}')
