"""Getting usable parts out of replies: code from fenced blocks, JSON validated by a pydantic model."""

from __future__ import annotations

import ast
import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lab.errors import LabError
from lab.llm.client import LLM
from lab.llm.prompting import render
from lab.llm.types import Message
from lab.settings import validation_problems

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
Model = TypeVar("Model", bound=BaseModel)


class ExtractionError(LabError):
    """A reply with no usable part; `message` says what was found, for feeding back to the writer."""


def code_blocks(text: str) -> list[tuple[str, str]]:
    """Fenced blocks as (language, code), in order."""
    return [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]


def _defines(code: str) -> tuple[list[str], str]:
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        return [], f"syntax error on its line {error.lineno}: {error.msg}"
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)], ""


def extract_code(text: str, function: str | None = None) -> str:
    """The Python code of a reply: the last fenced block that parses and defines `function` (any block that parses
    when no function is named). A reply that is bare code counts as one block."""
    blocks = [code for language, code in code_blocks(text) if language in ("", "python", "py", "python3")]
    if not blocks and "def " in text:
        blocks = [text]
    found = []
    chosen = None
    for number, code in enumerate(blocks, 1):
        names, problem = _defines(code)
        found.append(f"block {number}: {problem or ('defines ' + ', '.join(names) if names else 'defines nothing')}")
        if not problem and (function is None or function in names):
            chosen = code
    if chosen is not None:
        return chosen.strip("\n") + "\n"
    what = f"a ```python block defining {function}()" if function else "a ```python block that parses"
    seen = "; ".join(found) if found else "no code blocks at all"
    raise ExtractionError(f"the reply has no usable code: expected {what}; found {seen}")


def extract_json(text: str) -> object:
    """The JSON value of a reply: a ```json block, else the outermost {...} or [...]."""
    candidates = [code for language, code in code_blocks(text) if language in ("json", "")]
    stripped = text.strip()
    candidates.append(stripped)
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = stripped.find(opener), stripped.rfind(closer)
        if 0 <= start < end:
            candidates.append(stripped[start:end + 1])
    errors = []
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as error:
            errors.append(str(error))
    raise ExtractionError(f"the reply holds no valid JSON ({errors[0] if errors else 'empty reply'})")


def reply_shape(model: type[Model]) -> dict[str, Any]:
    """The fields a reply must have, with their types and descriptions: what a model needs to answer, without the
    schema's titles and the model's own docstring (written for the lab's readers, not for the model)."""
    schema = model.model_json_schema()
    fields = {}
    for name, spec in schema.get("properties", {}).items():
        kind = spec.get("type") or " | ".join(str(option.get("type")) for option in spec.get("anyOf", []))
        if kind == "array" and "items" in spec:
            kind = f"array of {spec['items'].get('type', 'values')}"
        fields[name] = f"{kind}: {spec['description']}" if spec.get("description") else kind
    return {"required": schema.get("required", []), "fields": fields}


def ask_json(llm: LLM, messages: list[Message], model: type[Model], attempts: int = 3,
             role: str | None = None) -> Model:
    """Ask for a JSON reply matching `model`; on a bad reply, re-ask with the validation error, `attempts` times."""
    conversation = list(messages)
    schema = json.dumps(reply_shape(model), indent=1)
    problem = ""
    for _ in range(attempts):
        reply = llm.complete(conversation, role=role)
        try:
            return model.model_validate(extract_json(reply.text))
        except ExtractionError as error:
            problem = error.message
        except ValidationError as error:
            problem = validation_problems(error)
        conversation = [*conversation, {"role": "assistant", "content": reply.text},
                        *render("json_repair", error=problem, schema=schema)]
    raise ExtractionError(f"no valid {model.__name__} after {attempts} replies; last problem: {problem}")
