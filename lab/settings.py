"""Reading settings from YAML files and validating them, with errors that say which file and which field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from lab.errors import LabError

Model = TypeVar("Model", bound=BaseModel)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The mapping a YAML file holds (an empty file is an empty mapping)."""
    try:
        with path.open() as stream:  # a stream carries the file's name into YAML's error marks
            loaded = yaml.safe_load(stream)
    except (FileNotFoundError, IsADirectoryError):
        raise LabError(f"no config file at {path}") from None
    except yaml.YAMLError as error:
        raise LabError(f"{path} is not valid YAML: {error}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise LabError(f"{path} must hold a mapping of settings, not {type(loaded).__name__}")
    return loaded


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` set into `base`, group by group (`train.ppo.n_steps` over a budget keeps its `train.n_envs`)."""
    result = dict(base)
    for key, value in over.items():
        result[key] = merged(result[key], value) if isinstance(value, dict) and isinstance(
            result.get(key), dict) else value
    return result


def validation_problems(error: ValidationError) -> str:
    """A pydantic error as `field.path: message; ...`."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors())


def validated(model: type[Model], values: dict[str, Any], what: str, hint: str | None = None) -> Model:
    """`values` as a `model`, or a LabError naming every invalid field of the `what` settings."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise LabError(f"invalid {what} settings: {validation_problems(error)}", hint=hint) from None


def described(model: type[BaseModel], name: str) -> str:
    """A settings field's description with its default, as a command's help shows it: the model says both once."""
    field = model.model_fields[name]
    default = field.get_default(call_default_factory=True)
    description = field.description or name
    if default in (None, "") or "default" in description:
        return description
    return f"{description} (default: {default})"
