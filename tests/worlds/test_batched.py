"""Batched worlds: the native batch of every Gymnasium adapter world is Gymnasium's env, copy by copy; any world
steps as a batch; episodes end and restart on their own with each copy's seeded reset noise."""

import dataclasses

import numpy as np
import pytest

from lab.worlds import get_world, read_state
from lab.worlds.batched import CopyThreads, SerialBatch
from lab.worlds.core import Task, World
from lab.worlds.gym_adapters import ROBOTS
from lab.worlds.gym_batch import GymBatch

HORIZON = 40
STEPS = 130


def short(task: Task) -> Task:
    """The task with a short horizon, so that a few hundred steps cross several episode ends."""
    return Task(task.world, dataclasses.replace(task.family, horizon=HORIZON), task.params)


@pytest.mark.parametrize("spec", ROBOTS, ids=lambda s: s.world)
def test_native_batch_reproduces_gymnasium_copy_by_copy(spec):
    """Same seeds and actions: every copy's observation, built-in reward, terminated and truncated flags and lab
    state equal those of the world's Gymnasium env (within 1e-6) across auto-resets, stepped on two threads."""
    world = get_world(spec.world)
    task = short(world.task())
    copies = 3
    batch = world.make_batch(task, copies, seed=7, threads=2)
    assert isinstance(batch, GymBatch)
    envs = [world.make_env(task, seed=7 + i) for i in range(copies)]
    rng = np.random.default_rng(0)
    try:
        observations = batch.reset()
        expected = np.stack([env.reset()[0] for env in envs])
        np.testing.assert_allclose(observations, expected, atol=1e-6)
        ends = 0
        for step in range(STEPS):
            actions = rng.uniform(batch.action_low, batch.action_high, (copies, batch.action_size))
            result = batch.step(actions)
            for index, env in enumerate(envs):
                observation, reward, terminated, truncated, _ = env.step(actions[index])
                where = f"{spec.world} step {step} copy {index}"
                np.testing.assert_allclose(result.final_observations[index], observation, atol=1e-6, err_msg=where)
                assert result.env_reward[index] == pytest.approx(reward, abs=1e-6), where
                assert (result.terminated[index], result.truncated[index]) == (terminated, truncated), where
                for name, value in read_state(env).items():
                    np.testing.assert_allclose(result.state[name][index], value, atol=1e-6, err_msg=f"{where} {name}")
                if terminated or truncated:
                    ends += 1
                    observation, _ = env.reset()
                np.testing.assert_allclose(result.observations[index], observation, atol=1e-6, err_msg=where)
        assert ends >= copies * (STEPS // HORIZON), "the episodes ended and restarted"
        assert set(result.state) == {f.name for f in world.state_fields}
    finally:
        batch.close()
        for env in envs:
            env.close()


def test_threads_do_not_change_the_result():
    world = get_world("ant")
    results = []
    for threads in (1, 2):
        with world.make_batch("forward", 5, seed=3, threads=threads) as batch:
            batch.reset()
            rng = np.random.default_rng(1)
            trace = [batch.step(rng.uniform(-1, 1, (5, batch.action_size))).observations for _ in range(30)]
            results.append(np.stack(trace))
    np.testing.assert_array_equal(results[0], results[1])


def test_each_copy_is_stepped_by_exactly_one_thread_and_an_error_comes_back():
    threads = CopyThreads(copies=50, threads=3)
    try:
        for _ in range(200):
            seen: list[int] = []
            threads.run(lambda indices, seen=seen: seen.extend(indices))
            assert sorted(seen) == list(range(50))

        def fails_on_copy_7(indices) -> None:
            for index in indices:
                if index == 7:
                    raise ValueError("copy 7")

        with pytest.raises(ValueError, match="copy 7"):
            threads.run(fails_on_copy_7)
    finally:
        threads.close()


def test_the_playground_batch_is_the_playground_env_copy_by_copy_across_episode_ends():
    """The native playground batch (threads, batched observation and state) against one env per copy stepped in
    turn, same seeds and actions: observations, final observations and every state field identical, through two
    resets."""
    world = get_world("playground")
    task = short(world.task("place(cube_red, zone_blue)"))
    copies = 64  # two threads from 64 copies (envs/playground/batch.py COPIES_PER_THREAD)
    with world.make_batch(task, copies, seed=5, threads=2) as native, SerialBatch(world, task, copies, 5) as serial:
        assert not isinstance(native, SerialBatch) and native._threads.threads == 2
        np.testing.assert_array_equal(native.reset(), serial.reset())
        rng = np.random.default_rng(2)
        for _ in range(2 * HORIZON + 3):
            actions = rng.uniform(-1.2, 1.2, (copies, native.action_size))
            ours, theirs = native.step(actions), serial.step(actions)
            np.testing.assert_array_equal(ours.observations, theirs.observations)
            np.testing.assert_array_equal(ours.final_observations, theirs.final_observations)
            assert (ours.truncated == theirs.truncated).all() and not ours.terminated.any()
            assert set(ours.state) == set(theirs.state) == {f.name for f in world.state_fields}
            for name, value in theirs.state.items():
                assert ours.state[name].dtype == value.dtype, name
                np.testing.assert_array_equal(ours.state[name], value, err_msg=name)


def test_any_world_steps_as_a_batch_and_restarts_its_episodes():
    world = get_world("playground")
    task = short(world.task("reach(cube_red)"))
    with World.make_batch(world, task, 2, seed=0) as batch:  # what a world without a native batch gets
        assert isinstance(batch, SerialBatch)
        first = batch.reset()
        assert first.shape == (2, batch.observation_size)
        rng = np.random.default_rng(0)
        steps = [batch.step(rng.uniform(batch.action_low, batch.action_high, (2, batch.action_size)))
                 for _ in range(HORIZON)]
        assert not any(step.truncated.any() for step in steps[:-1])
        result = steps[-1]
        assert result.truncated.all()
        assert set(result.state) == {f.name for f in world.state_fields}
        assert all(array.shape[0] == 2 for array in result.state.values())
        assert not np.allclose(result.observations, result.final_observations), "a new episode began"


@pytest.mark.slow
@pytest.mark.xdist_group("warp")  # one worker compiles the kernels into ~/.cache/warp; the other test reuses them
def test_the_warp_backend_steps_like_the_native_one_on_the_cpu():
    """MuJoCo Warp (its kernels on the CPU here; compiled once, cached under ~/.cache/warp) follows the native
    backend step by step while nothing touches the ground, restarts episodes exactly as Gymnasium does (resets are
    computed on the host), and trains through `lab train --backend warp`."""
    pytest.importorskip("mujoco_warp")
    world = get_world("halfcheetah")
    task = short(world.task("forward"))
    copies, steps = 3, HORIZON + 5
    warp = world.make_batch(task, copies, seed=2, backend="warp", device="cpu")
    native = world.make_batch(task, copies, seed=2)
    try:
        np.testing.assert_allclose(warp.reset(), native.reset(), atol=1e-6)
        rng = np.random.default_rng(0)
        for step in range(steps):
            actions = rng.uniform(-1, 1, (copies, warp.action_size))
            ours, theirs = warp.step(actions), native.step(actions)
            if step < 3:
                np.testing.assert_allclose(ours.final_observations, theirs.final_observations, atol=1e-3)
                np.testing.assert_allclose(ours.env_reward, theirs.env_reward, atol=1e-4)
                for name in ("torso_pos", "torso_vel", "joint_pos", "up"):
                    np.testing.assert_allclose(ours.state[name], theirs.state[name], atol=1e-3, err_msg=name)
            assert (ours.truncated == theirs.truncated).all()
            if theirs.truncated.all():
                np.testing.assert_allclose(ours.observations, theirs.observations, atol=1e-6)
        assert step >= HORIZON
    finally:
        warp.close()
        native.close()


@pytest.mark.slow
@pytest.mark.xdist_group("warp")
def test_lab_train_runs_on_the_warp_backend(tmp_path):
    pytest.importorskip("mujoco_warp")
    from lab.training import TrainConfig, train

    config = TrainConfig(world="halfcheetah", task="forward", steps=2048, n_envs=8, eval_episodes=1,
                         curve_points=10, backend="warp")
    result = train(config, tmp_path / "run")
    assert result.steps >= 2048 and result.curve
    assert result.run.read_json("config.json")["resolved"]["backend"] == "warp"
