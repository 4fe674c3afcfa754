# mnistlab — `make report` reproduces every study; `make test` runs the test suite.
PYTHON_BIN ?= $(shell command -v python3.11 || command -v python3)
VENV       ?= .venv
PY         := $(VENV)/bin/python
PROFILE    ?= full
JOBS       ?= 2
SCHEDULER  ?=

# CI and this workplace keep verified MNIST beside the checkout; elsewhere the loader finds
# it in $MNIST_DIR or the Keras cache, or downloads it.
ifneq ($(wildcard ../shared/data/mnist/mnist.npz),)
export MNIST_DIR ?= $(abspath ../shared/data/mnist)
endif

.PHONY: env report test lab labs grade bench bench-floor bench-queue validate clean
env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,labs]"
	touch $@

report: env  ## run every study (PROFILE=full|quick, JOBS=N, SCHEDULER=tcp://host:8786) and write reports/
	$(PY) -m mnistlab report --profile $(PROFILE) --jobs $(JOBS) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

test: env
	$(PY) -m pytest

validate: env
	$(PY) -m mnistlab validate

lab: env  ## JupyterLab on notebooks/ (instructor versions), or on labs/<LAB>.ipynb with LAB=depth
ifeq ($(LAB),)
	$(VENV)/bin/jupytext --sync notebooks/*.py
	$(VENV)/bin/jupyter lab notebooks/
else
	$(PY) -m mnistlab labs $(LAB)
	$(VENV)/bin/jupyter lab labs/$(LAB).ipynb
endif

labs: env  ## student versions of the notebooks with exercises, by nbgrader, in labs/
	$(PY) -m mnistlab labs

grade: env  ## autograde: make grade LAB=depth SUBMISSION="hand-ins/*.ipynb" [JOBS=N TIMEOUT=s ISOLATION=bwrap|user|none STUDENT=id]
	@test -n "$(LAB)" -a -n "$(SUBMISSION)" || \
	  { echo "usage: make grade LAB=<experiment> SUBMISSION=<notebook.ipynb ...> [JOBS=N] [TIMEOUT=seconds] [ISOLATION=auto|bwrap|user|none] [STUDENT=<id>]"; exit 2; }
	$(PY) -m mnistlab grade $(LAB) $(SUBMISSION) --jobs $(JOBS) \
	  $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(ISOLATION),--isolation $(ISOLATION)) \
	  $(if $(STUDENT),--student $(STUDENT))

bench: env  ## speed of the studies' own fit() against the mnistlab trainer
	$(PY) -m mnistlab.pipeline.bench --out reports/bench.md

# The matmul rate on the threads each `make report` worker trains on (cores / JOBS): a rate per
# CPU-second falls with more threads, so it is set against the runs' CPU time like for like.
bench-floor: env  ## only bench's last table: each study's cached full-profile runs against the FLOP floor
	MNISTLAB_THREADS=$$(( $$(nproc) > $(JOBS) ? $$(nproc) / $(JOBS) : 1 )) \
	  $(PY) -m mnistlab.pipeline.bench --floor-only

bench-queue: env  ## the cold training queue on Dask against a plain process pool (PROFILE, JOBS)
	$(PY) -m mnistlab.pipeline.queue_bench --profile $(PROFILE) --executor dask --jobs $(JOBS)
	$(PY) -m mnistlab.pipeline.queue_bench --profile $(PROFILE) --executor pool --jobs $(JOBS)

clean:
	rm -rf build labs
