"""Prompt templates: files in `lab/llm/prompts/` with declared inputs, rendered by one function.

A template starts with YAML front matter (`description`, `inputs`), then `<<system>>`, `<<user>>` and
`<<assistant>>` sections; `{{name}}` marks an input. Every placeholder must be declared and every declared input
given, so a prompt never goes out with a hole or an unused value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lab.errors import LabError, UnknownNameError
from lab.llm.types import Message

PROMPTS = Path(__file__).parent / "prompts"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SECTION = re.compile(r"^<<(system|user|assistant)>>\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    inputs: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]


def prompt_names() -> list[str]:
    return sorted(p.stem for p in PROMPTS.glob("*.md"))


@cache
def load_template(name: str) -> Template:
    path = PROMPTS / f"{name}.md"
    if not path.is_file():
        raise UnknownNameError("prompt template", name, prompt_names())
    text = path.read_text()
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    if not match:
        raise LabError(f"prompt template {path} has no front matter (--- description / inputs ---)")
    front = yaml.safe_load(match.group(1)) or {}
    body = match.group(2)
    parts = _SECTION.split(body)
    if parts[0].strip():
        raise LabError(f"prompt template {path} has text before its first <<role>> section")
    sections = tuple((parts[i], parts[i + 1].strip("\n")) for i in range(1, len(parts), 2))
    inputs = tuple(front.get("inputs") or ())
    used = {m.group(1) for _, content in sections for m in _PLACEHOLDER.finditer(content)}
    undeclared = sorted(used - set(inputs))
    if undeclared:
        raise LabError(f"prompt template {path} uses undeclared input(s): {', '.join(undeclared)}")
    return Template(name, str(front.get("description", "")), inputs, sections)


def render(name: str, **inputs: Any) -> list[Message]:
    """The messages of template `name` with its inputs filled in."""
    template = load_template(name)
    missing = [i for i in template.inputs if i not in inputs]
    extra = sorted(set(inputs) - set(template.inputs))
    if missing or extra:
        raise LabError(f"prompt {name!r} takes inputs {', '.join(template.inputs) or 'none'}"
                       + (f"; missing: {', '.join(missing)}" if missing else "")
                       + (f"; not declared: {', '.join(extra)}" if extra else ""))
    return [{"role": role, "content": _PLACEHOLDER.sub(lambda m: str(inputs[m.group(1)]), content)}
            for role, content in template.sections]
