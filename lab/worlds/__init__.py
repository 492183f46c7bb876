"""Worlds: the World protocol, the registry of worlds, and the checks every world must pass."""

from lab.worlds.core import (
    HasState,
    Param,
    State,
    StateField,
    Task,
    TaskFamily,
    World,
    as_batch,
    parse_task_spec,
    read_state,
    stack_states,
)
from lab.worlds.registry import get_world, register_gymnasium_ids, world_dirs, world_names

register_gymnasium_ids()

__all__ = [
    "HasState",
    "Param",
    "State",
    "StateField",
    "Task",
    "TaskFamily",
    "World",
    "as_batch",
    "get_world",
    "parse_task_spec",
    "read_state",
    "register_gymnasium_ids",
    "stack_states",
    "world_dirs",
    "world_names",
]
