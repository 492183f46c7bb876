"""Reward programs: `compute_reward(state, action) -> (reward, components)`, batched numpy, untrusted.

A program is loaded from a file or from text, checked against the rules, dry-run on a batch of real states, and
called in its sandbox. The task's parameters are visible to it as the global dict `params` (e.g. `params["obj"]`),
so one human-written program serves every parameter of its task family.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lab.errors import LabError
from lab.rewards.promotion import active_promoted, library_folder, reward_library_roots
from lab.sandbox import ProgramError, ProgramRules, Sandbox, SandboxLimits
from lab.sandbox.process import SHAPE_HINT
from lab.worlds.core import State, Task, World, read_state, stack_states

REWARD_RULES = ProgramRules("compute_reward", ("state", "action"), kind="reward program")
BASELINES = ("human", "sparse")


@dataclass(frozen=True)
class RewardProgram:
    """The source of one reward program and where it came from."""

    source: str
    name: str
    origin: str = "inline"

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:12]

    @classmethod
    def from_file(cls, path: Path, name: str | None = None) -> RewardProgram:
        if not path.is_file():
            raise LabError(f"no reward program at {path}",
                           hint="give a .py file that defines compute_reward(state, action), or human / sparse")
        try:
            source = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise LabError(f"cannot read the reward program {path}: {error}") from None
        return cls(source=source, name=name or path.stem, origin=str(path))


def baseline_path(world: str, family: str, kind: str) -> Path | None:
    """The baseline `kind` (human or sparse) of a task family: `rewards/WORLD/FAMILY/KIND.py`, and for a world read
    from an MJCF file its template's, `rewards/mjcf/FAMILY/KIND.py` (shared by every such world)."""
    for root in reward_library_roots():
        candidate = root / library_folder(world) / family / f"{kind}.py"
        if candidate.is_file():
            return candidate
    return None


def resolve_reward(spec: str, task: Task) -> RewardProgram:
    """The reward program named by `spec`: `human`, `sparse` (the task family's baselines), `promoted` (its active
    promoted version, lab/rewards/promotion.py) or a file path."""
    if spec == "promoted":
        active = active_promoted(task.world, task.family.name)
        if active is None:
            raise LabError(f"no promoted reward of {task.world}/{task.family.name} is active",
                           hint="`lab rewards history WORLD TASK` shows its promotions; --reward human for the "
                                "baseline, or promote one with `lab reward WORLD TASK --promote`")
        return RewardProgram.from_file(active[1], name=f"promoted-v{active[0]}")
    if spec in BASELINES:
        path = baseline_path(task.world, task.family.name, spec)
        if path is None:
            known = [k for k in BASELINES if baseline_path(task.world, task.family.name, k)]
            raise LabError(
                f"there is no {spec} reward for {task.world}/{task.family.name}",
                hint=f"baselines here: {', '.join(known) or 'none'}; add rewards/{task.world}/{task.family.name}/"
                     f"{spec}.py or pass --reward FILE",
            )
        return RewardProgram.from_file(path, name=spec)
    return RewardProgram.from_file(Path(spec))


class SandboxedReward:
    """A reward program running in its sandbox, called on batched states; its outputs are checked every call."""

    def __init__(self, program: RewardProgram, task: Task, limits: SandboxLimits | None = None) -> None:
        self.program = program
        self.task = task
        self._n = 0
        self._sandbox = Sandbox(program.source, REWARD_RULES, returns="value_and_components",
                                params=dict(task.param_map), limits=limits)

    def __call__(self, state: State, action: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        self.submit(state, action)
        return self.collect()

    def submit(self, state: State, action: np.ndarray) -> None:
        """Start computing the rewards of a batch; `collect()` returns them. The caller may work in between."""
        self._n = len(action)
        self._sandbox.submit(state=state, action=action)

    def collect(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The rewards and components of the submitted batch, checked: one finite value per env each."""
        reward, components = self._sandbox.collect()
        problems: list[str] = []
        reward = _one_per_env("the reward", reward, self._n, problems)
        components = {name: _one_per_env(f"component {name!r}", value, self._n, problems)
                      for name, value in components.items()}
        if problems:
            misshapen = any("shape" in problem for problem in problems)
            hint = (SHAPE_HINT if misshapen else
                    "guard divisions and logs (e.g. np.maximum(x, 1e-6)) so that every value is a finite number")
            raise ProgramError(f"the reward program returned bad values on call {self._sandbox.calls}: "
                               + "; ".join(problems), hint=hint)
        return reward, components

    def close(self) -> None:
        self._sandbox.close()

    def __enter__(self) -> SandboxedReward:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _one_per_env(label: str, value: np.ndarray, n: int, problems: list[str]) -> np.ndarray:
    """`value` as one finite float per env (a scalar is broadcast); what is wrong with it goes into `problems`."""
    if value.shape == ():
        value = np.full(n, float(value))
    if value.shape != (n,):
        problems.append(f"{label} has shape {value.shape}; it must have one value per env, shape ({n},)")
    elif not np.isfinite(value).all():
        problems.append(f"{label} is {value[~np.isfinite(value)][0]} (not finite)")
    return value


@dataclass(frozen=True)
class DryRun:
    """What a dry run saw: the components a program returns and their ranges on real states."""

    components: tuple[str, ...]
    reward_range: tuple[float, float]
    component_ranges: Mapping[str, tuple[float, float]]


def sample_states(world: World, task: Task, seed: int = 0, steps: int = 32) -> tuple[dict[str, np.ndarray],
                                                                                   np.ndarray]:
    """A batch of real states (one per step of a random rollout) and the actions that led to them."""
    env = world.make_env(task, seed=seed)
    try:
        env.reset()
        env.action_space.seed(seed)
        states, actions = [], []
        for _ in range(steps):
            action = env.action_space.sample()
            _, _, terminated, truncated, _ = env.step(action)
            states.append(read_state(env))
            actions.append(np.asarray(action, dtype=np.float64))
            if terminated or truncated:
                env.reset()
        return stack_states(states), np.stack(actions)
    finally:
        env.close()


def dry_run(program: RewardProgram, world: World, task: Task, seed: int = 0,
            limits: SandboxLimits | None = None) -> DryRun:
    """Check `program` and call it on real states (a batch, and a batch of one); raise a ProgramError if it fails."""
    state, action = sample_states(world, task, seed)
    with SandboxedReward(program, task, limits) as reward_fn:
        reward, components = reward_fn(state, action)
        reward_fn({k: v[:1] for k, v in state.items()}, action[:1])
    return DryRun(
        components=tuple(components),
        reward_range=(float(reward.min()), float(reward.max())),
        component_ranges={k: (float(v.min()), float(v.max())) for k, v in components.items()},
    )
