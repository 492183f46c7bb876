"""Checks every world must pass before compute is spent on it.

For each task: Gymnasium's `check_env`; the same seed gives the same rollout twice; the state has exactly the
declared fields and shapes, all finite; success and fitness give one finite value per env on a batched rollout;
and where the world ships reference solutions, each one meets its task's success check.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from gymnasium.utils.env_checker import check_env

from lab.worlds.core import Task, World, read_state, stack_states
from lab.worlds.robot import play_program


@dataclass
class CheckResult:
    """One check on one task: passed or not, and what was seen."""

    task: str
    check: str
    passed: bool
    detail: str = ""


@dataclass
class WorldReport:
    world: str
    version: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def _rollout(world: World, task: Task, seed: int, steps: int) -> tuple[list[np.ndarray], list[dict[str, np.ndarray]]]:
    env = world.make_env(task, seed=seed)
    try:
        env.reset()
        env.action_space.seed(seed)
        observations, states = [], [read_state(env)]
        for _ in range(steps):
            observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
            observations.append(np.asarray(observation, dtype=np.float64).copy())
            states.append(read_state(env))
            if terminated or truncated:
                break
        return observations, states
    finally:
        env.close()


def check_gymnasium_api(world: World, task: Task) -> CheckResult:
    env = world.make_env(task, seed=0)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env, skip_render_check=True)
        notes = sorted({str(w.message).split("\n")[0] for w in caught if "wrapped" not in str(w.message)})
        return CheckResult(task.id, "check_env", True, "; ".join(notes)[:300])
    except Exception as error:
        return CheckResult(task.id, "check_env", False, f"{type(error).__name__}: {error}")
    finally:
        env.close()


def check_determinism(world: World, task: Task, steps: int = 50) -> CheckResult:
    first, first_states = _rollout(world, task, seed=123, steps=steps)
    second, second_states = _rollout(world, task, seed=123, steps=steps)
    if len(first) != len(second):
        return CheckResult(task.id, "same seed, same rollout", False,
                           f"episode lengths differ: {len(first)} vs {len(second)}")
    for step, (a, b) in enumerate(zip(first, second, strict=True)):
        if not np.array_equal(a, b):
            return CheckResult(task.id, "same seed, same rollout", False, f"observations differ at step {step}")
    for step, (state_a, state_b) in enumerate(zip(first_states, second_states, strict=True)):
        for name in state_a:
            if not np.array_equal(state_a[name], state_b[name]):
                return CheckResult(task.id, "same seed, same rollout", False,
                                   f"state field {name!r} differs at step {step}")
    other, _ = _rollout(world, task, seed=124, steps=2)
    if other and first and np.array_equal(other[0], first[0]):
        return CheckResult(task.id, "same seed, same rollout", False, "seeds 123 and 124 gave the same rollout")
    return CheckResult(task.id, "same seed, same rollout", True, f"{len(first)} steps identical")


def check_state_and_task(world: World, task: Task, steps: int = 30) -> CheckResult:
    _, states = _rollout(world, task, seed=7, steps=steps)
    declared = {f.name: f.shape for f in world.state_fields}
    for step, state in enumerate(states):
        if set(state) != set(declared):
            missing, extra = sorted(set(declared) - set(state)), sorted(set(state) - set(declared))
            return CheckResult(task.id, "state and task functions", False,
                               f"state fields differ from the declared ones: missing {missing}, undeclared {extra}")
        for name, value in state.items():
            if np.shape(value) != declared[name]:
                return CheckResult(task.id, "state and task functions", False,
                                   f"field {name!r} has shape {np.shape(value)}, declared {declared[name]}")
            if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
                return CheckResult(task.id, "state and task functions", False,
                                   f"field {name!r} is not finite at step {step}")
    batch = stack_states(states)
    n = len(states)
    success, fitness = task.success(batch), task.fitness(batch)
    if success.shape != (n,) or fitness.shape != (n,):
        return CheckResult(task.id, "state and task functions", False,
                           f"success/fitness shapes {success.shape}/{fitness.shape} for a batch of {n}, want ({n},)")
    if not np.all(np.isfinite(fitness)):
        return CheckResult(task.id, "state and task functions", False, "fitness is not finite on a random rollout")
    episode_fitness = float(task.episode_fitness(fitness))
    return CheckResult(task.id, "state and task functions", True,
                       f"{n} states; random-action success {success.mean():.2f}, episode fitness {episode_fitness:.3f}")


def check_reference_solution(world: World, task: Task, seeds: tuple[int, ...] = (0, 1)) -> CheckResult | None:
    """Run the world's scripted solution for the task's family; None when the world has none for it."""
    solution = world.reference_solutions().get(task.family.name)
    if solution is None:
        return None
    wins, notes = 0, []
    for seed in seeds:
        succeeded, note = run_program(world, task, seed, solution)
        wins += int(succeeded)
        if note:
            notes.append(f"seed {seed}: {note}")
    passed = wins > 0
    detail = f"solved {wins}/{len(seeds)} seeds" + (f" ({'; '.join(notes)})" if notes else "")
    return CheckResult(task.id, "reference solution", passed, detail[:300])


def run_program(world: World, task: Task, seed: int, program: Callable[..., object],
                max_steps: int = 3000) -> tuple[bool, str]:
    """Run `program(robot, **params)` on a fresh seeded episode; return episode success and any error text."""
    env = world.make_env(task, seed=seed)
    try:
        env.reset()
        outcome = play_program(world, task, env, program, task.param_map, max_steps=max_steps)
        return outcome.success, outcome.error
    finally:
        env.close()


def check_world(world: World, tasks: list[Task] | None = None,
                on_result: Callable[[CheckResult], None] | None = None) -> WorldReport:
    """Run every check on every task (default: each family with default parameters)."""
    report = WorldReport(world.name, world.version)
    for task in tasks or world.default_tasks():
        for run in (check_gymnasium_api, check_determinism, check_state_and_task, check_reference_solution):
            try:
                result = run(world, task)
            except Exception as error:
                result = CheckResult(task.id, run.__name__.removeprefix("check_").replace("_", " "), False,
                                     f"{type(error).__name__}: {error}")
            if result is None:
                continue
            report.results.append(result)
            if on_result is not None:
                on_result(result)
    return report
