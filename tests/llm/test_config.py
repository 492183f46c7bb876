"""LLM settings: a model per role, offline by default, and the lab llm check command."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.llm import ROLES, LLMSettings, build_llms


def test_offline_by_default() -> None:
    assert all(llm is None for llm in build_llms(LLMSettings()).values())


def test_a_model_per_role_sharing_one_ledger(tmp_path: Path) -> None:
    settings = LLMSettings(model="openai/gpt-4o", roles={"critic": "offline", "summaries": "openai/gpt-4o-mini"},
                           cache_path=tmp_path / "cache.sqlite", budget_usd=2.0)
    llms = build_llms(settings, run_dir=tmp_path)
    assert llms["critic"] is None
    assert llms["summaries"] is not None and llms["summaries"].model == "openai/gpt-4o-mini"
    assert llms["curriculum"] is not None and llms["curriculum"].role == "curriculum"
    assert llms["curriculum"].ledger is llms["summaries"].ledger and llms["curriculum"].ledger.budget_usd == 2.0
    assert set(llms) == set(ROLES)


def test_unknown_roles_and_fields_are_refused() -> None:
    with pytest.raises(LabError, match="unknown LLM role"):
        build_llms(LLMSettings(roles={"planner": "openai/gpt-4o"}))
    with pytest.raises(ValueError):
        LLMSettings.model_validate({"modle": "openai/gpt-4o"})


def test_lab_llm_check_prints_latency_tokens_and_cost(model_server, tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200", "OPENAI_API_KEY": "sk-lab-check-secret-000000"}
    cassette = tmp_path / "check.jsonl"
    result = subprocess.run([sys.executable, "-m", "lab.cli", "llm", "check", "--model", "openai/gpt-4o-mini",
                             "--api-base", model_server.url, "--record", str(cassette)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ms" in result.stdout and "$0.0000" in result.stdout and "sample 0" in result.stdout
    assert "sk-lab-check-secret" not in result.stdout + result.stderr + cassette.read_text()
    replayed = subprocess.run([sys.executable, "-m", "lab.cli", "llm", "check", "--model", f"replay:{cassette}"],
                              capture_output=True, text=True, env=env, timeout=120)
    assert replayed.returncode == 0, replayed.stderr
    assert "sample 0" in replayed.stdout and len(model_server.requests) == 1


def test_lab_llm_check_explains_a_dead_server() -> None:
    result = subprocess.run([sys.executable, "-m", "lab.cli", "llm", "check", "--model", "openai/gpt-4o-mini",
                             "--api-base", "http://127.0.0.1:9/v1", "--timeout", "2"],
                            capture_output=True, text=True, env={**os.environ, "OPENAI_API_KEY": "sk-x"}, timeout=120)
    assert result.returncode == 2
    assert "error:" in result.stderr and "failed 2 times" in result.stderr


def test_command_settings_come_from_the_yaml_then_the_flags(tmp_path: Path) -> None:
    from lab.cli_llm import llm_settings

    config = tmp_path / "session.yaml"
    config.write_text("world: playground\nllm:\n  model: openai/gpt-4o\n  roles:\n    critic: offline\n"
                      "  temperature: 0.2\n")
    settings = llm_settings(llm="ollama/qwen2.5-coder", api_base="http://127.0.0.1:11434", budget_usd=1.5,
                            config_file=config)
    assert settings.model == "ollama/qwen2.5-coder" and settings.roles == {"critic": "offline"}
    assert settings.temperature == 0.2 and settings.budget_usd == 1.5
    config.write_text("llm: [1, 2]\n")
    with pytest.raises(LabError, match="must be a mapping"):
        llm_settings(config_file=config)
    with pytest.raises(LabError, match="budget_usd"):
        llm_settings(budget_usd=-1.0)
