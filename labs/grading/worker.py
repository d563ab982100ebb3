"""The student's process at grading: runs the notebook's cells and the tests' requests, nothing else.

Started by the judge inside the sandbox (`python -m labs.grading.worker`), it reads one JSON request per
line on stdin and writes one JSON reply per line on stdout:

    {"id": 1, "op": "cell", "source": "..."}  -> {"id": 1, "status": "ok" | "error", "error": "...",
                                                   "outputs": [nbformat outputs], "execution_count": 3}
    {"id": 2, "op": "run", ...}, {"op": "defines", ...} -> {"id": 2, "reply": <labs.grading.snippet reply>}
    {"op": "interrupt"}                        -> KeyboardInterrupt in whatever runs now (no reply)

Cells run in IPython's InteractiveShell, not a Jupyter kernel: the same cell transforms and magics, display
output captured through the shell's display publisher and display hook, and no ZeroMQ ports or connection
files for another process to find. Everything here runs beside the student's code and may be subverted by
it: the judge trusts none of it (it enforces time, size and output limits itself and decodes plain data).
"""
import builtins
import json
import os
import queue
import signal
import sys
import threading

from labs.grading import snippet

OUTPUT_LIMIT = 100_000  # characters of output kept per cell (the judge caps again on its side)
NO_INPUT = "raw_input was called, but this frontend does not support input requests."


class Outputs:
    """The outputs of the cell running now, as nbformat dicts, at most OUTPUT_LIMIT characters."""

    def __init__(self):
        self.items, self.size, self.full = [], 0, False

    def add(self, output):
        if self.full:
            return
        size = len(json.dumps(output, default=str))
        if self.size + size > OUTPUT_LIMIT:
            self.items.append(stream("stderr", f"\n[the grader dropped the rest of this cell's output: more "
                                               f"than {OUTPUT_LIMIT} characters]\n"))
            self.full = True
            return
        self.size += size
        last = self.items[-1] if self.items else None
        if output["output_type"] == "stream" and last and last["output_type"] == "stream" and last["name"] == output["name"]:
            last["text"] += output["text"]
        else:
            self.items.append(output)


def stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


class Stream:
    """sys.stdout / sys.stderr: text goes to the current cell's outputs."""

    def __init__(self, name, worker):
        self.name, self.worker = name, worker
        self.encoding, self.errors = "utf-8", "replace"

    def write(self, text):
        if text:
            self.worker.outputs.add(stream(self.name, str(text)))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def no_input(*args, **kwargs):
    from IPython.core.error import StdinNotImplementedError

    raise StdinNotImplementedError(NO_INPUT)


class Worker:
    """The shell that runs the notebook, and the loop that answers the judge."""

    def __init__(self, replies):
        self.replies = replies
        self.outputs = Outputs()
        self.requests = queue.Queue()
        self.shell = make_shell(self)

    def read_requests(self, lines):
        """The reader thread: queue each request; an interrupt raises KeyboardInterrupt in the main thread."""
        for line in lines:
            try:
                request = json.loads(line)
            except ValueError:
                continue
            if request.get("op") == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                self.requests.put(request)
        os._exit(0)  # the judge closed the channel

    def loop(self):
        while True:
            try:
                request = self.requests.get()
                self.answer(request)
            except KeyboardInterrupt:  # an interrupt that came between two requests
                continue

    def answer(self, request):
        self.outputs = Outputs()
        builtins.input = no_input
        if request["op"] == "cell":
            reply = self.run_cell(request["source"])
        else:
            try:
                reply = {"reply": snippet.answer(self.shell.user_ns, request)}
            except KeyboardInterrupt:
                reply = {"reply": {"ok": False, "kind": "interrupted"}}
        self.send(dict(reply, id=request["id"]))

    def run_cell(self, source):
        result = self.shell.run_cell(source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        return {"status": "error" if error else "ok", "error": describe(error) if error else "",
                "outputs": self.outputs.items, "execution_count": result.execution_count}

    def send(self, message):
        self.replies.write(json.dumps(message, ensure_ascii=True, default=str) + "\n")
        self.replies.flush()


def describe(error):
    """`Type: message`, as the feedback shows a cell's error."""
    try:
        return f"{type(error).__name__}: {error}".rstrip(": ")
    except Exception:
        return type(error).__name__


def make_shell(worker):
    """An InteractiveShell whose display output and expression results land in the worker's outputs."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            worker.outputs.add({"output_type": "display_data", "data": data, "metadata": metadata or {}})

        def clear_output(self, wait=False):
            pass

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            worker.outputs.add({"output_type": "execute_result", "data": format_dict, "metadata": md_dict or {},
                                "execution_count": self.prompt_count})

    shell = InteractiveShell.instance(display_pub_class=Publisher, displayhook_class=Hook, colors="NoColor",
                                      history_length=0)
    shell.history_manager.enabled = False
    shell.display_formatter.active_types = shell.display_formatter.format_types
    return shell


def main():
    """Take stdin and stdout for the judge's channel; the student's code gets /dev/null and the captures."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    snippet.seeded(int(os.environ.get("NUMTORCH_SEED", "0")))  # lab.toml's seed, before the first cell
    worker = Worker(replies)
    sys.path.append(os.getcwd())  # the notebook imports its own modules from its folder, as in Jupyter, last
    sys.stdout, sys.stderr = Stream("stdout", worker), Stream("stderr", worker)
    threading.Thread(target=worker.read_requests, args=(requests,), daemon=True).start()
    worker.send({"id": 0, "ready": True})
    worker.loop()


if __name__ == "__main__":
    main()
