"""The judge's end of the student's process: start it in its sandbox, send it work, read bounded replies.

Everything read from the process is untrusted: replies are size-capped JSON lines matched by request id,
read under a deadline the judge keeps. When a request runs out of time the process is interrupted
(KeyboardInterrupt), and GRACE seconds later, if it has not answered, killed with everything it started.
A dead process (os._exit, a segfault, a kill) is noticed as the end of its output.
"""
import json
import os
import select
import signal
from dataclasses import dataclass
from time import monotonic

from labs.grading import sandbox

GRACE = 2.0  # seconds from interrupting a request that ran out of time to killing the process
START_TIMEOUT = 60.0  # seconds for the process to start and say it is ready
MESSAGE_LIMIT = 4_000_000  # bytes in one reply; a longer one is dropped unread
OUTPUT_LIMIT = 100_000  # characters of output kept per cell


class StartError(Exception):
    """The student's process did not start: a problem of the grading machine, not of the submission."""


@dataclass
class Outcome:
    """How one request ended: ok, error (it raised), timeout (interrupted or killed) or died."""

    status: str
    error: str = ""
    limit: float = None  # the time limit a timed-out request ran into


class StudentProcess:
    """One student's process in its sandbox, working in the private folder `work`."""

    def __init__(self, mode, packages, work, cpu_seconds, seed=0, uid=None):
        """uid: in the user sandbox, the user id the process runs as (default: the first unused one)."""
        self.mode, self.packages, self.work, self.cpu_seconds, self.seed = mode, packages, work, cpu_seconds, seed
        self.uid = (sandbox.student_uids(1)[0] if uid is None else uid) if mode == "user" else None
        self.process = None
        self.buffer = b""
        self.next_id = 0

    @property
    def alive(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        self.stop()
        self.process = sandbox.start(self.mode, self.packages, self.work, self.cpu_seconds, self.seed, self.uid)
        self.buffer = b""
        ready = self._read(monotonic() + START_TIMEOUT)
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            self.stop()
            raise StartError(f"the student's Python process did not start ({self.mode} sandbox)")

    def stop(self):
        """Kill the process and everything it started (its session, its cgroup, with bwrap its PID namespace,
        in the user sandbox every process of its user id, and the files it left where everyone may write)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()
        if self.process.cgroup:
            sandbox.remove_cgroup(self.process.cgroup)
        if self.uid is not None:
            sandbox.kill_user(self.uid)
            sandbox.remove_files_of(self.uid)
        self.process = None

    def run_cell(self, source, timeout):
        """Run a notebook cell; return (Outcome, outputs, execution_count)."""
        outcome, reply = self.request({"op": "cell", "source": source}, timeout)
        if outcome.status != "ok":
            return outcome, [], None
        outputs = capped(reply.get("outputs"))
        count = reply.get("execution_count") if type(reply.get("execution_count")) is int else None
        if reply.get("status") == "error":
            return Outcome("error", str(reply.get("error", ""))[:1000]), outputs, count
        return Outcome("ok"), outputs, count

    def request(self, message, timeout):
        """Send one request; return (Outcome, the reply dict). Interrupts, then kills, when out of time."""
        if not self.alive:
            return Outcome("died"), {}
        self.next_id += 1
        try:
            self._send(dict(message, id=self.next_id))
        except OSError:
            return Outcome("died"), {}
        deadline = monotonic() + timeout
        reply = self._reply(deadline)
        if reply is TIMEOUT:
            self._send_quietly({"op": "interrupt"})
            reply = self._reply(monotonic() + GRACE)
            if reply is TIMEOUT or reply is DIED:
                self.stop()
            return Outcome("timeout", limit=timeout), {}
        if reply is DIED:
            self.stop()
            return Outcome("died"), {}
        return Outcome("ok"), reply

    def _reply(self, deadline):
        """The reply to the last request, TIMEOUT or DIED (replies to older requests are skipped)."""
        while True:
            message = self._read(deadline)
            if message in (TIMEOUT, DIED) or (isinstance(message, dict) and message.get("id") == self.next_id):
                return message

    def _send(self, message):
        self.process.stdin.write((json.dumps(message, ensure_ascii=True) + "\n").encode("ascii"))
        self.process.stdin.flush()

    def _send_quietly(self, message):
        try:
            self._send(message)
        except OSError:
            pass

    def _read(self, deadline):
        """The next JSON line (a dict, or None when it is not one, too long or not JSON), TIMEOUT or DIED."""
        fd, dropping = self.process.stdout.fileno(), False
        while b"\n" not in self.buffer:
            if len(self.buffer) > MESSAGE_LIMIT:
                self.buffer, dropping = b"", True
            wait = deadline - monotonic()
            if wait <= 0:
                return TIMEOUT
            if not select.select([fd], [], [], wait)[0]:
                return TIMEOUT
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return DIED
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        if dropping:
            return None
        try:
            message = json.loads(line)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None


TIMEOUT, DIED = "timeout", "died"


def capped(outputs):
    """The outputs of a cell as the judge keeps them: rebuilt as nbformat outputs, at most OUTPUT_LIMIT characters."""
    kept, used = [], 0
    for output in outputs if isinstance(outputs, list) else []:
        node = output_node(output) if isinstance(output, dict) else None
        if node is None:
            continue
        used += len(json.dumps(node))
        if used > OUTPUT_LIMIT:
            kept.append(output_node(DROPPED))
            break
        kept.append(node)
    return kept


DROPPED = {"output_type": "stream", "name": "stderr",
           "text": f"\n[the grader dropped the rest of this cell's output: more than {OUTPUT_LIMIT} characters]\n"}


def output_node(output):
    """One output rebuilt from its plain fields (stream, display_data or execute_result), or None."""
    kind = output.get("output_type")
    if kind == "stream":
        return {"output_type": "stream", "name": "stderr" if output.get("name") == "stderr" else "stdout",
                "text": str(output.get("text", ""))}
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    node = {"output_type": kind, "metadata": output.get("metadata") if isinstance(output.get("metadata"), dict) else {},
            "data": {str(key): value if isinstance(value, (str, dict, list)) else str(value) for key, value in data.items()}}
    if kind == "execute_result":
        count = output.get("execution_count")
        node["execution_count"] = count if type(count) is int else None
    return node
