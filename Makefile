# Quick start: `make run` (the main job on the embedded defaults) and `make test` (the test suite).
# Each sets up .venv from the committed lock (requirements.lock: every package pinned with its hashes) on first
# use, and makes it anew, from scratch, whenever the lock, pyproject.toml or setup.py change: the environment is
# exactly the lock, whatever day it is installed. `make lock` refreshes the lock on purpose.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The extras the lock covers: all of them. The GPU stack (mujoco-warp, warp-lang) is locked too: its kernels run on
# the CPU as well, and the tests check the warp backend there.
LOCK_EXTRAS := --extra test --extra ray --extra gpu
LOCK_TOOL := .venv-lock
PIP_TOOLS := pip-tools==7.6.2

export MUJOCO_GL ?= egl

.PHONY: run test lint typecheck bench lock clean

$(STAMP): $(LOCK) pyproject.toml setup.py
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $(STAMP)

ifndef SESSION
SESSION := runs/$(shell date +%Y%m%d-%H%M%S)-curriculum-playground
endif
GOAL ?= open the drawer, then put the red cube in the blue zone

run: $(STAMP)
	$(BIN)/lab curriculum playground --out $(SESSION)
	$(BIN)/lab report $(SESSION)
	$(BIN)/lab solve playground "$(GOAL)" --library skills/sessions/playground --video $(SESSION)/solve.mp4

# The suite runs on one worker per core (pytest-xdist): on these 2 cores pytest took 7 min 27 s on two workers against
# 12 min 33 s on one (the same checkout, one run each), the CPUs busy 189% of the time instead of waiting on sandboxes
# and subprocesses. The warp tests share a worker (its kernel cache).
TEST_WORKERS ?= auto

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check lab tests bench envs rewards setup.py

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_worlds.py
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_llm.py
	$(BIN)/python bench/bench_skills.py
	$(BIN)/python bench/bench_retrieval.py
	$(BIN)/python bench/bench_reward_search.py
	$(BIN)/python bench/bench_curriculum.py
	$(BIN)/python bench/bench_sandbox.py

# Re-resolve the lock from pyproject.toml (torch held to the CPU build by constraints.txt). Pins already in the
# lock are kept unless pyproject.toml needs otherwise; `make lock UPGRADE=1` moves every package to its newest.
lock:
	test -x $(LOCK_TOOL)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_TOOL) && \
		$(LOCK_TOOL)/bin/pip install --quiet $(PIP_TOOLS))
	$(LOCK_TOOL)/bin/pip-compile --quiet $(LOCK_EXTRAS) $(if $(UPGRADE),--upgrade) --generate-hashes \
		--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -c constraints.txt \
		-o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) $(LOCK_TOOL) build .pytest_cache .mypy_cache .ruff_cache
