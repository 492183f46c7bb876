# Quick start: `make run` (the main job on the embedded defaults) and `make test` (the test suite).
# Each sets up .venv on first use, and again only when pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export MUJOCO_GL ?= egl
export HF_HUB_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: run test lint typecheck bench clean

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

ifndef SESSION
SESSION := runs/$(shell date +%Y%m%d-%H%M%S)-curriculum-playground
endif
GOAL ?= open the drawer, then put the red cube in the blue zone

run: $(STAMP)
	$(BIN)/lab curriculum curricula/playground.yaml --out $(SESSION)
	$(BIN)/lab report $(SESSION)
	$(BIN)/lab solve playground "$(GOAL)" --library skills/sessions/playground --video $(SESSION)/solve.mp4

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check lab tests bench envs rewards

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_worlds.py
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_llm.py
	$(BIN)/python bench/bench_skills.py
	$(BIN)/python bench/bench_reward_search.py
	$(BIN)/python bench/bench_curriculum.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
