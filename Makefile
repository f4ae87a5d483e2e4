PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export UMAPX_DATA ?= $(abspath ../shared/data)

.PHONY: install demo test test-all format bench bench-lifecycle bench-scaling bench-aligned bench-parametric bench-scanpy experiments clean

# numba's cache of a kernel is checked against the file that defines it only, not against the functions
# it inlines from other files (layout/curve.py, metrics.py, ...): after any edit a venv's kernels are rebuilt
SOURCES := $(shell find src/umapx -name '*.py')
KERNELS := $(VENV)/.kernels

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' torch==2.13.0
	touch $(STAMP)

%/.kernels: %/.installed $(SOURCES)
	find src/umapx -name '*.nb[ic]' -delete
	$*/bin/python -m umapx.warmup
	touch $@

install: $(KERNELS)

demo: $(KERNELS)
	$(BIN)/python examples/demo.py

test: $(KERNELS)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/python -m pytest -q

test-all: $(KERNELS)
	$(BIN)/python -m pytest -q -m ""

format: $(STAMP)
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) demo_out

BENCH_VENV := benchmarks/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_FLAGS ?=

BENCH_KERNELS := $(BENCH_VENV)/.kernels

$(BENCH_STAMP): pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e ".[plot]" -r benchmarks/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_KERNELS)
	$(if $(findstring --torchdr,$(BENCH_FLAGS)),$(BENCH_VENV)/bin/pip install --quiet -r benchmarks/requirements-torch.txt)
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_FLAGS)

bench-lifecycle: $(BENCH_KERNELS)
	$(BENCH_VENV)/bin/python benchmarks/lifecycle.py $(LIFECYCLE_FLAGS)

bench-scaling: $(BENCH_KERNELS)
	$(BENCH_VENV)/bin/python benchmarks/scaling.py $(SCALING_FLAGS)

bench-aligned: $(BENCH_KERNELS)
	$(BENCH_VENV)/bin/python benchmarks/aligned.py $(ALIGNED_FLAGS)

bench-parametric: $(BENCH_KERNELS)
	$(BENCH_VENV)/bin/pip install --quiet -r benchmarks/requirements-parametric.txt
	$(BENCH_VENV)/bin/python benchmarks/parametric.py $(PARAMETRIC_FLAGS)

bench-scanpy: $(BENCH_KERNELS)
	$(BENCH_VENV)/bin/pip install --quiet -r benchmarks/requirements-scanpy.txt
	$(BENCH_VENV)/bin/python benchmarks/scanpy_run.py

experiments: $(KERNELS)
	$(BIN)/python experiments/true_loss.py $(EXPERIMENT_FLAGS)
