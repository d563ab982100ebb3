"""`make lab`, the README's main command, does what it says: its recipe, run line by line as make would,
installs the NumTorch kernel, releases the labs and serves them in JupyterLab at the printed URL."""

import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def recipe(**variables):
    """The shell lines `make lab` runs (make -n), with the given make variables."""
    args = [f"{k}={v}" for k, v in variables.items()]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}  # under make test
    out = subprocess.run(["make", "--no-print-directory", "-n", "lab", *args], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line.strip()]


def unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
def test_make_lab_releases_the_labs_and_serves_them(tmp_path):
    if not (REPO / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv: `make lab` sets it up; run the tests through `make test`")
    work, port = tmp_path / "work", unused_port()
    setup, install_kernel, release, serve = recipe(WORK=work, PORT=port)
    assert setup == "bash scripts/setup.sh"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"))
    env.pop("NUMTORCH_GRADING", None)
    for line in (install_kernel, release):
        subprocess.run(shlex.split(line), cwd=REPO, env=env, check=True, capture_output=True)
    labs = sorted(p.name for p in work.iterdir())
    assert labs == sorted(path.name for path in (REPO / "labs").glob("[0-9]*") if path.is_dir())
    assert len(labs) == 12

    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(shlex.split(serve), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline and server.poll() is None:
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=\w+", log.read_text())
            url = found and found.group(0)
            time.sleep(0.2)  # the server writes its URL once it listens
        assert url, f"no URL printed by `{serve}`:\n{log.read_text()[-3000:]}"
        token = url.split("token=")[1]
        base = f"http://127.0.0.1:{port}/api"
        listed = sorted(item["name"] for item in get_json(f"{base}/contents?token={token}")["content"])
        assert listed == labs
        assert "numtorch" in get_json(f"{base}/kernelspecs?token={token}")["kernelspecs"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
