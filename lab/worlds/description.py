"""The text a reward or skill writer is given about a world and a task.

It holds the state fields (name, batched shape, unit, meaning), the action, the task's goal, the source that
computes the state (as Eureka gives the environment's code) and, for skill writers, the robot API. It never holds
a task's success or fitness code: those judge the writer's work and stay hidden from it.
"""

from __future__ import annotations

from typing import Literal

from lab.worlds.core import Task, World

Role = Literal["reward", "skill", "curriculum"]


def state_table(world: World) -> str:
    lines = []
    for field in world.state_fields:
        shape = "(n, " + ", ".join(str(d) for d in field.shape) + ")" if field.shape else "(n,)"
        unit = f" [{field.unit}]" if field.unit else ""
        lines.append(f"- state[{field.name!r}]: shape {shape}{unit}: {field.meaning}")
    return "\n".join(lines)


def describe(world: World, task: Task | None = None, role: Role = "reward", words: str = "") -> str:
    """The world as a writer of `role` programs sees it, with `task` as the goal when given (in the user's `words`
    when they gave some, once)."""
    parts = [f"# World: {world.name} ({world.version})", world.summary[0].upper() + world.summary[1:] + "."]
    if role != "skill":
        parts += ["", "## State",
                  "`state` maps names to numpy arrays read off the simulation after each step. Arrays are batched: "
                  "the first axis has one entry per env (n envs).",
                  state_table(world)]
    if role == "reward":
        parts += ["", "## Action", f"`action` has shape (n, action_dim): {world.action_meaning}"]
    if task is not None:
        parts += ["", "## Task", f"{(words or task.description).rstrip('.')}."]
        if role != "skill":
            parts.append(f"An episode lasts at most {task.horizon} steps.")
        if task.params and role == "reward":
            meanings = {p.name: p.meaning for p in task.family.params}
            parts.append("Its parameters are in the global dict `params`:")
            parts += [f"- params[{name!r}] = {value!r}: {meanings.get(name, name)}" for name, value in task.params]
    if role == "reward":
        parts += ["", "## Reward program",
                  "Write `compute_reward(state, action) -> (reward, components)`: `reward` has shape (n,), "
                  "`components` maps a name to an array of shape (n,) for every term you add up, so each can be "
                  "watched during training. Import only numpy and math; no files, no printing, no classes, no "
                  "`global`; keep it vectorised over the batch."]
    if role == "skill":
        doc = world.robot_api_doc()
        parts += ["", "## Robot API", doc.rstrip() if doc else "This world has no robot API: its skills are policies."]
    if role == "reward":
        parts += ["", "## How the state is computed", "```python", world.state_source().rstrip(), "```"]
    return "\n".join(parts) + "\n"
