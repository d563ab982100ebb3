#!/usr/bin/env bash
# Set up everything NumTorch's tests and labs need, idempotently:
#   - a virtual environment in .venv with numtorch installed editable plus its [dev] extras;
#   - PyTorch 2.13.0 (CPU) for the cross-checks, only when a local wheel is on pip's find-links
#     (never from a registry: that would pull gigabytes of CUDA packages);
#   - the system packages graphviz (`dot`), chromium and bubblewrap (`bwrap`, the grader's sandbox) through apt,
#     when we are root and apt exists.
# Without apt the tests still run: rendering falls back (tested), the browser test skips with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.numtorch-setup

need_pip=1
if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && [ "$STAMP" -nt scripts/setup.sh ]; then need_pip=0; fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PY" -m venv "$VENV"
    need_pip=1
fi

if [ "$need_pip" = 1 ]; then
    echo "setup: installing numtorch[dev] into $VENV"
    "$VENV/bin/pip" install -q -e ".[dev]" 2> >(grep -v "is ignored: it is neither" >&2)
    if [ -z "${NUMTORCH_NO_TORCH:-}" ] && tmp=$(mktemp -d) \
        && "$VENV/bin/pip" download -q --no-index --no-deps torch==2.13.0 -d "$tmp" >/dev/null 2>&1; then
        echo "setup: installing the local PyTorch 2.13.0 CPU wheel for the cross-checks"
        "$VENV/bin/pip" install -q torch==2.13.0 2> >(grep -v "is ignored: it is neither" >&2) \
            || echo "setup: PyTorch not installed; the PyTorch cross-checks will skip"
    else
        echo "setup: no local PyTorch wheel; the PyTorch cross-checks will skip"
    fi
    touch "$STAMP"
fi

apt_pkgs=()
command -v dot >/dev/null 2>&1 || apt_pkgs+=(graphviz)
command -v bwrap >/dev/null 2>&1 || apt_pkgs+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || [ -n "${NUMTORCH_NO_BROWSER:-}" ] || apt_pkgs+=(chromium)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: apt-get install ${apt_pkgs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq "${apt_pkgs[@]}"; } >/dev/null \
            || echo "setup: apt-get failed; graph rendering uses its fallback and the browser test skips"
    else
        echo "setup: cannot install ${apt_pkgs[*]} (not root or no apt-get);"
        echo "       graph rendering uses its fallback and the browser test skips"
    fi
fi
