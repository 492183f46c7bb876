"""Command-line options made from settings models: each scalar field a command exposes becomes an option whose
type, help and default come from the field, so no setting is written twice (once in its model, once in the CLI).

A command declares its own arguments and options as usual plus a parameter `given: dict[str, Any]`; decorated with
`settings_options(Model)`, it gets one `--field-name` option per scalar field of the model (nested settings such as
`train.ppo` stay reachable through `--set`), and receives the values the user gave in `given` (None for an option
left out, so the model's default, a YAML file or a stored run decides).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import typer
from pydantic import BaseModel

from lab.settings import described

Command = TypeVar("Command", bound=Callable[..., Any])
SCALARS = (int, float, str, bool, Path)


def option_type(annotation: Any) -> type | None:
    """The type an option of this field reads (Literal choices read as text, validated by the model), or None
    for a field that is not one scalar (a mapping, a list, nested settings)."""
    if annotation in SCALARS:
        return typing.cast(type, annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return str
    if origin in (Union, types.UnionType):
        options = [option_type(arg) for arg in get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else None
    return None


def scalar_fields(model: type[BaseModel], leave_out: Sequence[str] = ()) -> list[str]:
    """The model's fields a command line can set one by one, in the model's order."""
    return [name for name, field in model.model_fields.items()
            if name not in leave_out and option_type(field.annotation) is not None]


def settings_options(model: type[BaseModel], leave_out: Sequence[str] = (),
                     short: Mapping[str, str] | None = None,
                     help_extra: Mapping[str, str] | None = None) -> Callable[[Command], Command]:
    """Add an option per scalar field of `model` (but `leave_out`) to a command that takes `given`."""
    names = scalar_fields(model, leave_out)

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "given"]
        added = []
        for name in names:
            kind = option_type(model.model_fields[name].annotation)
            flags = [f"--{name.replace('_', '-')}", *([short[name]] if short and name in short else [])]
            if kind is bool:
                flags = [f"--{name.replace('_', '-')}/--no-{name.replace('_', '-')}"]
            text = described(model, name) + ((help_extra or {}).get(name, ""))
            choices = get_args(model.model_fields[name].annotation) if get_origin(
                model.model_fields[name].annotation) is Literal else ()
            if choices:
                text += f"; one of: {', '.join(map(str, choices))}"
            optional: Any = kind | None  # type: ignore[operator]
            annotation: Any = Annotated[optional, typer.Option(*flags, help=text)]
            added.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                           annotation=annotation))

        @functools.wraps(command)
        def with_settings(**values: Any) -> Any:
            given = {name: values.pop(name) for name in names}
            return command(**values, given=given)

        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        with_settings.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        with_settings.__annotations__ = {p.name: p.annotation for p in parameters}
        return typing.cast(Command, with_settings)

    return decorate
