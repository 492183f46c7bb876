"""Prompt templates render with exactly their declared inputs."""

import pytest

from lab.errors import LabError
from lab.llm import render
from lab.llm.prompting import load_template, prompt_names


def test_every_template_loads_and_declares_what_it_uses() -> None:
    names = prompt_names()
    assert {"llm_check", "json_repair", "code_repair"} <= set(names)
    for name in names:
        template = load_template(name)
        assert template.sections and template.description


def test_render_fills_inputs_and_keeps_other_braces() -> None:
    messages = render("json_repair", error="attempts: Field required", schema='{"type": "object"}')
    assert messages[0]["role"] == "user"
    assert "attempts: Field required" in messages[0]["content"] and '{"type": "object"}' in messages[0]["content"]


def test_missing_extra_and_unknown_are_errors() -> None:
    with pytest.raises(LabError, match="missing: schema"):
        render("json_repair", error="x")
    with pytest.raises(LabError, match="not declared: colour"):
        render("llm_check", world="playground", colour="red")
    with pytest.raises(LabError, match="unknown prompt template: 'llm_chek'"):
        render("llm_chek", world="playground")


def test_a_json_repair_shows_the_fields_to_answer_not_the_models_docstring() -> None:
    import json

    from lab.curriculum.llm_curriculum import Verdict
    from lab.llm.extract import reply_shape

    shape = reply_shape(Verdict)
    assert shape["required"] == ["success"]
    assert shape["fields"]["success"] == "boolean: whether the episode did the task"
    assert "critic model's reply" not in json.dumps(shape) and "title" not in json.dumps(shape)
