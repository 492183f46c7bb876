"""The DeepMind Control suite worlds: the suite's rewards (checked against dm-control's own, recorded by
tests/worlds/dmc_reference.py), its episode starts, and its tasks on the native batch."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import pytest

from lab.rewards.program import SandboxedReward, baseline_path, resolve_reward
from lab.worlds import get_world
from lab.worlds.core import State, World
from lab.worlds.dmc import DOMAINS, EPISODE

REFERENCE = Path(__file__).parent / "data" / "dmc_reference.npz"
EPISODES, STEPS = 2, 40
"""The recorded random-action episodes come first in each task's states (tests/worlds/dmc_reference.py)."""
TASKS = [(d.name, t.name) for d in DOMAINS for t in d.tasks]
SPARSE_IN_THE_SUITE = {("cartpole", "balance_sparse"), ("cartpole", "swingup_sparse"), ("pendulum", "swingup"),
                       ("acrobot", "swingup_sparse"), ("finger", "spin"), ("finger", "turn_easy"),
                       ("finger", "turn_hard"), ("ball_in_cup", "catch"), ("reacher", "easy"), ("reacher", "hard")}


def set_recorded(model: mujoco.MjModel, data: mujoco.MjData, recorded: Any, key: str, index: int) -> None:
    """Put dm-control's recorded state `index` (and its target, where the task moves it) into a lab env's copy."""
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "target")
    geom = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "target")
    if site >= 0:
        model.site_pos[site] = recorded[key + "target"][index]
    elif geom >= 0:
        model.geom_pos[geom] = recorded[key + "target"][index]
    data.qpos[:] = recorded[key + "qpos"][index]
    data.qvel[:] = recorded[key + "qvel"][index]
    data.ctrl[:] = recorded[key + "ctrl"][index]
    mujoco.mj_forward(model, data)


@cache
def reference_states(domain: str, task: str) -> tuple[World, State, np.ndarray]:
    """dm-control's recorded states of a task set into the lab's world (with the target where the task had moved
    it), the lab's state view of each, and dm-control's reward in each."""
    recorded = np.load(REFERENCE)
    key = f"{domain}/{task}/"
    world = get_world(f"dmc-{domain}")
    env = world.make_env(task, seed=0)
    env.reset()
    model, data = env.unwrapped.model, env.unwrapped.data  # type: ignore[attr-defined]
    states = []
    for index in range(len(recorded[key + "reward"])):
        set_recorded(model, data, recorded, key, index)
        states.append(env.unwrapped.state())  # type: ignore[attr-defined]
    env.close()
    batch = {name: np.stack([s[name] for s in states]) for name in states[0]}
    return world, batch, recorded[key + "reward"]


def test_the_suite_has_at_least_20_tasks_over_8_bodies_each_with_both_baselines() -> None:
    assert len(TASKS) >= 20
    assert len({domain for domain, _ in TASKS}) >= 8
    for domain, task in TASKS:
        for kind in ("human", "sparse"):
            assert baseline_path(f"dmc-{domain}", task, kind) is not None, (domain, task, kind)


@pytest.mark.parametrize(("domain", "task"), TASKS)
def test_fitness_and_the_human_reward_are_the_suites_own_reward(domain: str, task: str) -> None:
    world, states, expected = reference_states(domain, task)
    bound = world.task(task)
    np.testing.assert_allclose(bound.fitness(states) / EPISODE, expected, atol=1e-6)
    with SandboxedReward(resolve_reward("human", bound), bound) as human:
        reward, _ = human(states, states["ctrl"])
    np.testing.assert_allclose(reward, expected, atol=1e-6)
    with SandboxedReward(resolve_reward("sparse", bound), bound) as sparse:
        indicator, _ = sparse(states, states["ctrl"])
    assert set(np.unique(indicator)) <= {0.0, 1.0}
    if (domain, task) in SPARSE_IN_THE_SUITE:
        np.testing.assert_array_equal(indicator, expected)
    else:
        assert np.all(expected[indicator == 1.0] > 0.0), "the sparse reward pays where the suite's does not"


@pytest.mark.parametrize(("domain", "task"), TASKS)
def test_each_step_is_the_suites_step(domain: str, task: str) -> None:
    """From each state dm-control's random-action episodes passed through, the lab's step with the same action
    lands where dm-control's did (its control timestep, integrator, and the task's edits to the model)."""
    recorded = np.load(REFERENCE)
    key = f"{domain}/{task}/"
    env = get_world(f"dmc-{domain}").make_env(task, seed=0)
    env.reset()
    inner: Any = env.unwrapped
    for episode in range(EPISODES):
        for step in range(1, STEPS):
            index = episode * STEPS + step
            set_recorded(inner.model, inner.data, recorded, key, index - 1)
            inner.step(recorded[key + "ctrl"][index])
            np.testing.assert_allclose(inner.data.qpos, recorded[key + "qpos"][index], atol=1e-8)
            np.testing.assert_allclose(inner.data.qvel, recorded[key + "qvel"][index], atol=1e-8)
    env.close()


def test_episodes_start_as_the_suites_do_seeded_and_varied() -> None:
    def start(world: str, task: str, seed: int) -> tuple[dict[str, np.ndarray], mujoco.MjData, mujoco.MjModel]:
        env = get_world(world).make_env(task, seed=seed)
        env.reset()
        return env.unwrapped.state(), env.unwrapped.data, env.unwrapped.model  # type: ignore[attr-defined]

    hanging, _, _ = start("dmc-cartpole", "swingup", 0)
    balanced, _, _ = start("dmc-cartpole", "balance", 0)
    assert hanging["body_up"][1, 2] < -0.99 < 0.99 < balanced["body_up"][1, 2]
    for seed in range(3):
        _, data, _ = start("dmc-humanoid", "stand", seed)
        assert data.ncon == 0, "the humanoid starts interpenetrating"
    _, data, _ = start("dmc-cheetah", "run", 0)
    assert data.time == 0.0 and data.ncon > 0, "the cheetah starts settled on the ground, its clock at zero"
    first, _, model = start("dmc-finger", "turn_easy", 0)
    again, _, _ = start("dmc-finger", "turn_easy", 0)
    other, _, _ = start("dmc-finger", "turn_easy", 1)
    np.testing.assert_array_equal(first["target_pos"], again["target_pos"])
    np.testing.assert_array_equal(first["joint_pos"], again["joint_pos"])
    assert not np.allclose(first["target_pos"], other["target_pos"])
    assert model.site_size[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "target"), 0] == 0.07
    _, _, model = start("dmc-finger", "spin", 0)
    hinge = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "hinge")
    assert model.dof_damping[model.jnt_dofadr[hinge]] == pytest.approx(0.03)


def test_a_batch_moves_each_copys_target_in_its_own_model_and_equals_the_env() -> None:
    world = get_world("dmc-reacher")
    bound = world.task("easy")
    envs = [world.make_env(bound, seed=3 + i) for i in range(3)]
    with world.make_batch(bound, 3, seed=3, threads=2) as batch:
        np.testing.assert_allclose(batch.reset(), [env.reset()[0] for env in envs])
        rng = np.random.default_rng(0)
        for _ in range(20):
            actions = rng.uniform(-1, 1, (3, batch.action_size))
            step = batch.step(actions)
            for index, env in enumerate(envs):
                env.step(actions[index])
                for name, value in env.unwrapped.state().items():  # type: ignore[attr-defined]
                    np.testing.assert_allclose(step.state[name][index], value, atol=1e-9, err_msg=name)
        targets = step.state["target_pos"]
        assert len({tuple(np.round(t, 6)) for t in targets}) == 3, "every copy draws its own target"
    for env in envs:
        env.close()
