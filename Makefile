# The two commands a newcomer needs (see README.md):
#   make lab    set up, install the NumTorch kernel, fetch the labs' student copies into ./work, start JupyterLab
#   make test   set up and run the whole test suite
VENV := .venv
PY := $(VENV)/bin/python
WORK ?= work
PORT ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup test lab bench clean

setup:
	@bash scripts/setup.sh

test: setup
	$(PY) -m pytest

lab: setup
	$(PY) -m numtorch_magics install-kernel --sys-prefix
	$(PY) -m labs fetch all --out $(WORK)
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=$(WORK) $(ROOT_FLAG)

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(WORK) .pytest_cache build *.egg-info
