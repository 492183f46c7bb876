"""Baseline reward programs: human.py reproduces Gymnasium's built-in reward; every baseline passes its dry run."""

import numpy as np
import pytest

from lab.rewards import SandboxedReward, dry_run, make_rewarded_env, resolve_reward
from lab.worlds import get_world
from lab.worlds.gym_adapters import ROBOTS

GYM_WORLDS = [spec.world for spec in ROBOTS]


@pytest.mark.parametrize("world_name", GYM_WORLDS)
def test_human_reward_equals_gymnasium_builtin_reward(world_name: str) -> None:
    world = get_world(world_name)
    task = next(t for t in world.default_tasks() if t.family.builtin_reward)
    with SandboxedReward(resolve_reward("human", task), task) as reward_fn:
        venv = make_rewarded_env(world, task, reward_fn, [5, 6])
        venv.reset()
        venv.action_space.seed(5)
        worst = 0.0
        for _ in range(250):
            actions = np.stack([venv.action_space.sample() for _ in range(2)])
            infos = venv.step(actions)[3]
            builtin = np.array([info["env_reward"] for info in infos])
            total = np.array([sum(info["reward_components"].values()) for info in infos])
            worst = max(worst, float(np.abs(total - builtin).max()))
        venv.venv.close()
    assert worst <= 1e-6


@pytest.mark.parametrize("world_name,family", [
    *[(w, "forward") for w in GYM_WORLDS if w not in ("reacher", "pusher")],
    ("reacher", "reach"), ("pusher", "push"),
    ("playground", "reach"), ("playground", "lift"), ("playground", "push"), ("playground", "place"),
])
@pytest.mark.parametrize("kind", ["human", "sparse"])
def test_every_baseline_passes_its_dry_run(world_name: str, family: str, kind: str) -> None:
    world = get_world(world_name)
    task = world.task(family)
    checked = dry_run(resolve_reward(kind, task), world, task)
    assert checked.components
