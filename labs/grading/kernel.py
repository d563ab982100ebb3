"""A Jupyter kernel for grading one submission, driven through nbclient.

Each cell runs on its own under a time limit watched from outside the kernel: when a cell makes no
progress for `timeout` seconds the kernel is interrupted (KeyboardInterrupt), and GRACE seconds later,
if it still has not answered, killed. A dead kernel (os._exit, a segfault, a kill) is noticed by nbclient
and reported as "died"; the caller restarts and replays what it needs. The kernel runs with the Python
that runs the grader, from a private kernelspec, so no installed kernelspec is needed or trusted.
"""
import asyncio
import atexit
import json
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from time import monotonic

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

GRACE = 2.0  # seconds from interrupting a cell that ran out of time to killing the kernel
OUTPUT_LIMIT = 100_000  # characters of output kept per cell; the rest is dropped
KERNEL_NAME = "numtorch-grader"
REPO = Path(__file__).resolve().parents[2]  # holds the labs and numtorch packages


class KernelError(Exception):
    """The grader could not start a kernel: a problem with the grading machine, not the submission."""


@dataclass
class Outcome:
    """How one cell ended: ok, error (it raised), timeout (interrupted or killed) or died (kernel crashed)."""

    status: str
    error: str = ""
    limit: float = None  # the time limit a timed-out cell ran into


@lru_cache(maxsize=None)
def kernel_specs():
    """A kernelspec manager that knows one kernel: this Python running ipykernel."""
    root = tempfile.mkdtemp(prefix="numtorch-kernelspec-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    folder = Path(root) / KERNEL_NAME
    folder.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "NumTorch grader", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(folder.parent)], ensure_native_kernel=False)


def kernel_env(ipython_dir):
    """The environment of a grading kernel: NUMTORCH_GRADING=1, our packages importable, one BLAS thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(
        NUMTORCH_GRADING="1", IPYTHONDIR=str(ipython_dir), MPLCONFIGDIR=str(ipython_dir), MPLBACKEND="Agg",
        PYTHONDONTWRITEBYTECODE="1",
        OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1", JUPYTER_PLATFORM_DIRS="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    return env


class _Client(NotebookClient):
    """nbclient's client keeping at most OUTPUT_LIMIT characters of output per cell."""

    def __init__(self, notebook, **options):
        super().__init__(notebook, **options)
        self.output_sizes = {}  # cell index: characters of output received

    def output(self, outs, msg, display_id, cell_index):
        used = self.output_sizes.get(cell_index, 0)
        self.output_sizes[cell_index] = used + len(json.dumps(msg["content"]))
        if used > OUTPUT_LIMIT:
            return None
        if self.output_sizes[cell_index] <= OUTPUT_LIMIT:
            return super().output(outs, msg, display_id, cell_index)
        note = f"\n[the grader dropped the rest of this cell's output: more than {OUTPUT_LIMIT} characters]\n"
        if msg["msg_type"] == "stream":
            note = msg["content"]["text"][: OUTPUT_LIMIT - used] + note
        outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        return None


class Kernel:
    """One grading kernel in `folder` (its working directory is `folder/work`)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.km = self.client = None
        self.reply = None
        self.alive = False

    async def start(self):
        (self.folder / "ipython").mkdir(exist_ok=True)
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs(),
                                     connection_file=str(self.folder / "connection.json"))
        self.client = _Client(nbformat.v4.new_notebook(), km=self.km, timeout=None, allow_errors=True,
                              iopub_timeout=2, on_cell_executed=self._record_reply)
        with open(self.folder / "kernel.log", "ab") as log:
            try:
                await self.km.start_kernel(cwd=str(self.folder / "work"), env=kernel_env(self.folder / "ipython"),
                                           extra_arguments=["--HistoryManager.hist_file=:memory:"],
                                           stdout=log, stderr=log)
                await self.client.async_start_new_kernel_client()
                self.alive = True
            except Exception as error:
                await self.stop()
                raise KernelError(f"could not start a Python kernel ({error}); see {log.name}") from None

    async def stop(self):
        """Stop the kernel and everything it started."""
        if self.client is not None and self.client.kc is not None:
            self.client.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            await self._signal(signal.SIGKILL)
            await ensure_async(self.km.shutdown_kernel(now=True))
        self.km = self.client = None
        self.alive = False

    async def restart(self):
        await self.stop()
        await self.start()

    async def run(self, source, timeout, progress=None):
        """Run `source` as a cell; return (Outcome, the executed cell with its outputs).

        `progress`, when given, is called often; while its value changes the cell is making progress,
        and the time limit counts from the last change.
        """
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        self.reply = None
        task = asyncio.ensure_future(self.client.async_execute_cell(cell, len(self.client.nb.cells) - 1))
        timed_out = await self._watch(task, timeout, progress)
        try:
            await task
        except DeadKernelError:
            self.alive = False
            return (Outcome("timeout", limit=timeout) if timed_out else Outcome("died")), cell
        if timed_out:
            return Outcome("timeout", limit=timeout), cell
        content = self.reply["content"] if self.reply else {}
        if content.get("status") == "error":
            return Outcome("error", f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".strip(": ")), cell
        return Outcome("ok"), cell

    async def _watch(self, task, timeout, progress):
        """Wait for `task`: interrupt the kernel after `timeout` s without progress, kill it GRACE s later."""
        last_change, mark, timed_out = monotonic(), None, False
        while not task.done():
            await asyncio.wait([task], timeout=0.1)
            token = progress() if progress else None
            if token != mark:
                last_change, mark = monotonic(), token
            idle = monotonic() - last_change
            if idle > timeout and not timed_out:
                timed_out = True
                await self._signal(signal.SIGINT)
            elif idle > timeout + GRACE and timed_out:
                await self._signal(signal.SIGKILL)  # nbclient notices the death within a second
                break
        return timed_out

    async def _signal(self, signum):
        """Send a signal to the kernel's process group (SIGINT: KeyboardInterrupt in the cell)."""
        try:
            await ensure_async(self.km.signal_kernel(signum))
        except (OSError, RuntimeError):
            pass  # already gone

    def _record_reply(self, cell, cell_index, execute_reply):
        self.reply = execute_reply
