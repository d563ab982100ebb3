"""Start the student's process in a sandbox: bubblewrap, else an unprivileged user, else none (said so).

    bwrap   Linux namespaces: no network, its own PID, IPC and UTS namespaces (it cannot see or signal the
            judge, the grader or another submission), a read-only view of the Python environment and of a
            code-only copy of our packages, a private home holding the files the student was given
            (read-only), nothing else of the machine (no lab folder, no autograder, no other submission).
            Where it can write (its home, /tmp, /dev/shm) is a tmpfs of a fixed size (HOME_BYTES, ...):
            filling it says "No space left on device" and fills neither the disk nor the memory.
    user    no bwrap (Gradescope's container, Docker): the process runs as a user id of its own, one per
            judge and in no one's use (`student_uids`), so it cannot read the judge's private folders (mode
            0700) nor signal the grader, the judge or a classmate's process; every process of that id is
            killed when the submission is done (`kill_user`), setsid children included, and what it left
            in /tmp, /var/tmp and /dev/shm is deleted (`remove_files_of`).
    none    neither is possible: grading still works and every grade says "not sandboxed".

In every mode the process has its own session, dies with the judge, and has limits on memory, file size and
CPU time set before it runs any code; its processes are capped, and all killed at the end, through a pids
cgroup where the machine lets us make one (RLIMIT_NPROC too, which the kernel does not apply to root).
"""
import compileall
import ctypes
import functools
import grp
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("bwrap", "user", "none")
PIDS_MAX = 256  # processes and threads in one sandbox
FIRST_UID = 64000  # the user sandbox's ids are the first unused ones from here (no account, no process)
PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies
HOME = "/home/student"  # the private folder inside the bwrap sandbox
HOME_BYTES, TMP_BYTES, SHM_BYTES = 256 * 2**20, 256 * 2**20, 64 * 2**20  # what the student can write there
PACKAGES_INSIDE = "/opt/numtorch"  # our packages, read-only, inside the bwrap sandbox
LIMITS = {  # resource: (soft = hard) limit
    resource.RLIMIT_AS: 3 * 2**30,  # bytes of memory
    resource.RLIMIT_NPROC: 256,  # processes of the user (threads count too); not applied to root: see pids_cgroup
    resource.RLIMIT_FSIZE: 64 * 2**20,  # bytes in one file
    resource.RLIMIT_CORE: 0,
}
SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")  # where every user may write
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf")
DESCRIPTIONS = {"bwrap": "bwrap (bubblewrap: the student's code sees only its own folder)",
                "user": "user (no bubblewrap here: the student's code runs as an unprivileged user id of its own)",
                "none": "none (the student's code runs as you)"}
NOT_SANDBOXED = ("not sandboxed: the grader ran this notebook without bubblewrap or an unprivileged user, so its "
                 "code could read and change files of the grading machine")


class SandboxError(Exception):
    """No sandbox of the kind required can run on this machine."""


def environment(packages, home, seed=0):
    """The student's environment: nothing inherited but PATH; our packages importable; grading mode; the seed."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "PYTHONPATH": str(packages),
        "NUMTORCH_GRADING": "1", "NUMTORCH_SEED": str(seed), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(home), "IPYTHONDIR": str(Path(home) / ".ipython"), "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def bwrap_command(packages, work, seed=0):
    """The bwrap command line around the worker."""
    args = ["bwrap", "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "65534", "--gid", "65534", "--clearenv"]
    for path in SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += [arg for path in SYSTEM_FILES if os.path.exists(path) for arg in ("--ro-bind", path, path)]
    # every folder the student may write is a tmpfs of a fixed size (its pages are the machine's memory, and a
    # folder of the disk would take the disk); /dev itself and the lab's given files are read-only
    args += ["--proc", "/proc", "--dev", "/dev", *_tmpfs("/dev/shm", SHM_BYTES), "--remount-ro", "/dev",
             *_tmpfs("/tmp", TMP_BYTES), *_tmpfs("/home", 2**20), *_tmpfs(HOME, HOME_BYTES)]
    for root in python_roots():  # after the tmpfs mounts: a venv may live in /tmp
        args += ["--ro-bind", root, root]
    args += ["--ro-bind", str(packages), PACKAGES_INSIDE]
    for given in sorted(Path(work).iterdir()):  # the lab's files (lab.toml, data) in the home, as in the notebook
        args += ["--ro-bind", str(given), f"{HOME}/{given.name}"]
    args += ["--chdir", HOME]
    for key, value in environment(PACKAGES_INSIDE, HOME, seed).items():
        args += ["--setenv", key, value]
    return args + ["--", *worker_command()]


def _tmpfs(path, size):
    """bwrap's arguments for a tmpfs of `size` bytes at `path`."""
    return ["--size", str(size), "--tmpfs", path]


@functools.lru_cache(maxsize=None)
def python_roots():
    """The folders the Python environment lives in, outside the system folders bwrap already shows."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)))}
    roots = {root for root in roots if not root.startswith(tuple(path + "/" for path in SYSTEM))}
    return sorted(root for root in roots if not any(root.startswith(other + "/") for other in roots))


def worker_command():
    """Python running the worker, with the working folder off sys.path (a planted labs/ or numpy.py stays unused)."""
    start = "import runpy, sys; del sys.path[0]; runpy.run_module('labs.grading.worker', run_name='__main__')"
    return [sys.executable, "-s", "-c", start]


def limit(cpu_seconds, cgroup=None, uid=None):
    """Runs in the new process before it executes anything: into its cgroup, the resource limits, death with
    the judge, and last (it needs root for the rest) the unprivileged user id `uid` (its group id the same)."""
    if cgroup:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))
    for which, value in {**LIMITS, resource.RLIMIT_CPU: int(cpu_seconds)}.items():
        resource.setrlimit(which, (value, value))
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def start(mode, packages, work, cpu_seconds, seed, uid=None):
    """The student's process (a Popen with pipes on stdin and stdout, and .cgroup) in a sandbox of `mode`;
    in the user sandbox it runs as `uid` (one of `student_uids`), which then owns `work`."""
    cgroup = pids_cgroup()
    uid = uid if mode == "user" else None
    if uid is not None:
        os.chown(work, uid, uid)
    options = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                   preexec_fn=functools.partial(limit, cpu_seconds, cgroup, uid))
    if mode == "bwrap":
        process = subprocess.Popen(bwrap_command(packages, work, seed), **options)
    else:
        process = subprocess.Popen(worker_command(), cwd=work, env=environment(packages, work, seed), **options)
    process.cgroup = cgroup
    return process


def student_uids(count):
    """`count` user ids for the user sandbox (each its own group id too): from FIRST_UID, none with an account,
    a group or a running process. One per judge, so that a submission cannot signal another's process nor
    touch its folder."""
    taken = {entry.pw_uid for entry in pwd.getpwall()} | {entry.gr_gid for entry in grp.getgrall()}
    taken |= set(_uids_of_processes().values())
    uids = []
    for uid in range(FIRST_UID, 65534):
        if uid not in taken:
            uids.append(uid)
            if len(uids) == count:
                return uids
    raise SandboxError("no unused user ids left for the user sandbox")


def _uids_of_processes():
    """{pid: real uid} of every living process this machine shows (a zombie is dead: it only holds its pid)."""
    uids = {}
    for pid in filter(str.isdigit, os.listdir("/proc") if os.path.isdir("/proc") else ()):
        try:
            with open(f"/proc/{pid}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if fields["State"].split()[0] != "Z":
                uids[int(pid)] = int(fields["Uid"].split()[0])
        except (OSError, KeyError, ValueError):
            pass  # it has just ended
    return uids


def kill_user(uid):
    """SIGKILL every process of user id `uid` until none is left: what a user-sandboxed submission started,
    setsid children and double forks included (without a pids cgroup nothing else finds them)."""
    for _ in range(250):
        pids = [pid for pid, owner in _uids_of_processes().items() if owner == uid]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


def remove_files_of(uid, folders=SHARED_FOLDERS):
    """Delete what user id `uid` left where every user may write (a user sandbox can write outside its home):
    its files, folders and links in `folders` and in the world-writable folders inside them. Its processes
    are gone first (`kill_user`), so nothing writes meanwhile; links are removed, never followed."""
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if info.st_uid == uid and entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                elif info.st_uid == uid:
                    os.unlink(entry.path)
                elif entry.is_dir(follow_symlinks=False) and info.st_mode & 0o002:
                    remove_files_of(uid, [entry.path])
            except OSError:
                pass  # gone already


def pids_cgroup():
    """A new cgroup capping the sandbox's processes at PIDS_MAX, where the machine lets us make one, else None.

    RLIMIT_NPROC counts processes per user, and the kernel does not apply it to root: a grader running as
    root (a container, Gradescope) needs the cgroup to stop a fork bomb.
    """
    for root in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        try:
            folder = Path(tempfile.mkdtemp(prefix="numtorch-sandbox-", dir=root))
        except OSError:
            continue
        try:
            if not (folder / "cgroup.procs").exists():  # a plain folder, not a cgroup
                raise OSError("not a cgroup")
            (folder / "pids.max").write_text(str(PIDS_MAX))
            return folder
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
    return None


def remove_cgroup(cgroup):
    """Kill every process left in a sandbox's cgroup (setsid children too), then remove it."""
    for _ in range(250):
        try:
            pids = (cgroup / "cgroup.procs").read_text().split()
            for pid in pids:
                os.kill(int(pid), signal.SIGKILL)
            cgroup.rmdir()
            return
        except OSError:
            time.sleep(0.02)


@functools.lru_cache(maxsize=None)
def works(mode, packages):
    """Whether a sandbox of `mode` starts here: a worker-less probe that imports numpy inside it."""
    probe = [sys.executable, "-s", "-c", "import numpy, labs.grading.plain"]
    try:
        if mode == "bwrap":
            command = bwrap_command(packages, packages)
            command = command[: command.index("--") + 1] + probe
            done = subprocess.run(command, capture_output=True, timeout=60, preexec_fn=functools.partial(limit, 60))
        elif mode == "user":
            if os.geteuid() != 0:
                return False
            done = subprocess.run(probe, capture_output=True, timeout=60, env=environment(packages, "/tmp"), cwd="/",
                                  preexec_fn=functools.partial(limit, 60, None, student_uids(1)[0]))
        else:
            return True
    except (OSError, KeyError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def choose(wanted, packages):
    """The sandbox to use: `wanted` is auto (the best that works), require (bwrap or user, else refuse) or a mode."""
    if wanted in MODES:
        if not works(wanted, str(packages)):
            raise SandboxError(f"the {wanted} sandbox cannot run on this machine")
        return wanted
    for mode in ("bwrap", "user"):
        if (mode != "bwrap" or shutil.which("bwrap")) and works(mode, str(packages)):
            return mode
    if wanted == "require":
        raise SandboxError("--sandbox require: neither bubblewrap (bwrap) nor an unprivileged user can run the "
                           "student's code here; install bubblewrap, or run the grader as root so it can use one")
    return "none"


def open_to_others(path):
    """Whether another user (a user sandbox's) could read `path`: it and every folder above it let others in."""
    path = Path(path).resolve()
    return bool(path.stat().st_mode & 0o004) and all(parent.stat().st_mode & 0o001 for parent in path.parents)


def copy_packages(dest):
    """A code-only copy of numtorch, numtorch_magics and labs (no lab folders) for the student's process."""
    from labs.grading.release import package_files

    for path, relative in package_files():
        (Path(dest) / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(dest) / relative)
    compileall.compile_dir(dest, quiet=1, workers=1)  # the sandbox cannot write bytecode: it would compile every time
    for path in [Path(dest), *Path(dest).rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Path(dest)
