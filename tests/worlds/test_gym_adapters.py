"""The Gymnasium adapters: the standard env underneath, a truthful state view, and every task checkable."""

import gymnasium as gym
import numpy as np
import pytest

from lab.worlds import as_batch, get_world, read_state
from lab.worlds.checks import check_determinism, check_gymnasium_api, check_state_and_task
from lab.worlds.gym_adapters import ROBOTS

ADAPTER_TASKS = [(spec.world, family) for spec in ROBOTS for family in get_world(spec.world).task_families]


@pytest.mark.parametrize(("world_name", "family"), ADAPTER_TASKS)
def test_every_adapter_task_passes_the_world_checks(world_name, family):
    world = get_world(world_name)
    task = world.task(family)
    for check in (check_gymnasium_api, check_determinism, check_state_and_task):
        result = check(world, task)
        assert result.passed, f"{world_name}/{family} {result.check}: {result.detail}"


@pytest.mark.parametrize("spec", ROBOTS, ids=lambda s: s.world)
def test_adapter_is_the_standard_env_with_the_same_seed(spec):
    """Same seed and actions: the same observations and built-in rewards as plain gym.make(env_id)."""
    ours = get_world(spec.world).make_env(seed=11)
    theirs = gym.make(spec.env_id)
    ours_obs, _ = ours.reset()
    theirs_obs, _ = theirs.reset(seed=11)
    np.testing.assert_array_equal(ours_obs, theirs_obs)
    rng = np.random.default_rng(0)
    for _ in range(20):
        action = rng.uniform(ours.action_space.low, ours.action_space.high).astype(np.float32)
        a, ra, ta, _, _ = ours.step(action)
        b, rb, tb, _, _ = theirs.step(action)
        np.testing.assert_array_equal(a, b)
        assert ra == rb and ta == tb
        if ta:
            break


@pytest.mark.parametrize("spec", [s for s in ROBOTS if s.kind != "arm"], ids=lambda s: s.world)
def test_state_velocity_is_the_one_gymnasium_rewards(spec):
    """The forward velocity in the state equals the x_velocity Gymnasium's own reward uses."""
    world = get_world(spec.world)
    env = world.make_env("forward", seed=5)
    env.reset()
    velocity_field = "com_vel" if spec.mass_center else "torso_vel"
    rng = np.random.default_rng(1)
    for _ in range(15):
        _, _, terminated, _, info = env.step(rng.uniform(env.action_space.low, env.action_space.high))
        state = read_state(env)
        assert state[velocity_field][0] == pytest.approx(info["x_velocity"], abs=1e-9)
        fitness = world.task("forward").fitness(as_batch(state))
        assert fitness.shape == (1,) and fitness[0] == pytest.approx(info["x_velocity"], abs=1e-9)
        if terminated:
            break


def test_reacher_state_gives_gymnasiums_distance_reward():
    env = get_world("reacher").make_env("reach", seed=2)
    env.reset()
    info = env.step(np.zeros(2, dtype=np.float32))[4]
    state = read_state(env)
    assert -np.linalg.norm(state["fingertip_pos"] - state["target_pos"]) == pytest.approx(info["reward_dist"])


def test_yaw_turned_accumulates_past_a_full_turn():
    """yaw_turned unwraps: a robot spun about z reports the total angle, not the angle modulo 2 pi."""
    env = get_world("swimmer").make_env("turn", seed=0)
    env.reset()
    base = env.unwrapped
    for _ in range(80):
        base.data.qvel[2] = 4.0  # spin the free body's rotation joint at 4 rad/s
        env.step(np.zeros(2, dtype=np.float32))
    assert read_state(env)["yaw_turned"] > 2 * np.pi


def test_mujoco_warnings_are_said_once_and_write_no_log_file(tmp_path) -> None:
    import subprocess
    import sys

    make_three = ("from lab.worlds import get_world\nworld = get_world('halfcheetah')\n"
                  "for seed in range(3):\n    world.make_env(world.default_tasks()[0], seed=seed).reset()\n")
    done = subprocess.run([sys.executable, "-c", make_three], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("settotalmass") <= 1, done.stderr
    assert list(tmp_path.iterdir()) == [], "MuJoCo wrote a log into the working directory"


def test_any_process_that_makes_a_world_routes_mujoco_warnings(tmp_path) -> None:
    import subprocess
    import sys

    deprecated = ("import warnings, mujoco\nfrom lab.worlds import get_world\nget_world('playground')\n"
                  "with warnings.catch_warnings(record=True) as said:\n    warnings.simplefilter('always')\n"
                  "    mujoco.MjModel.from_xml_string('<mujoco><compiler settotalmass=\"2\"/><worldbody><body>"
                  "<freejoint/><geom size=\"0.1\"/></body></worldbody></mujoco>')\n"
                  "assert any('settotalmass' in str(w.message) for w in said), said\n")
    done = subprocess.run([sys.executable, "-c", deprecated], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == [], "MuJoCo wrote a log into the working directory"
