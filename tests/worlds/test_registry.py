"""Finding worlds: the built-in ones, a user's folder world, and clear errors for what is not there."""

import textwrap

import gymnasium as gym
import numpy as np
import pytest

from lab.errors import LabError, UnknownNameError
from lab.worlds import get_world, read_state, world_names
from lab.worlds.checks import check_world
from lab.worlds.registry import register_gymnasium_ids

ADAPTERS = ["ant", "halfcheetah", "hopper", "walker2d", "humanoid", "swimmer", "reacher", "pusher"]


def test_every_shipped_world_is_listed():
    names = world_names()
    for name in [*ADAPTERS, "playground"]:
        assert name in names


def test_unknown_world_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as error:
        get_world("hoper")
    message = str(error.value)
    assert "hopper" in message and "playground" in message and "Did you mean 'hopper'" in message


def test_worlds_are_gymnasium_ids():
    env = gym.make("lab/playground-v1", task="lift(cube_blue)", seed=3)
    observation, _ = env.reset()
    assert env.observation_space.contains(observation)
    assert read_state(env)["cube_blue_pos"].shape == (3,)
    env.close()


TINY_WORLD = '''
"""A point mass on a plane: the smallest folder world."""
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np

from lab.worlds import StateField, TaskFamily, World

XML = """<mujoco><worldbody><body name="puck"><joint name="x" type="slide" axis="1 0 0"/>
<joint name="y" type="slide" axis="0 1 0"/><geom type="sphere" size="0.05" mass="1"/></body></worldbody>
<actuator><motor joint="x" ctrlrange="-1 1"/><motor joint="y" ctrlrange="-1 1"/></actuator></mujoco>"""


class PuckEnv(gym.Env):
    def __init__(self, seed):
        self.model = mujoco.MjModel.from_xml_string(XML)
        self.data = mujoco.MjData(self.model)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float64)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._seed = seed

    def reset(self, *, seed=None, options=None):
        super().reset(seed=self._seed if seed is None else seed)
        self._seed = None
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = self.np_random.uniform(-1, 1, 2)
        mujoco.mj_forward(self.model, self.data)
        return self._obs(), {}

    def step(self, action):
        self.data.ctrl[:] = action
        mujoco.mj_step(self.model, self.data, nstep=5)
        return self._obs(), 0.0, False, False, {}

    def _obs(self):
        return np.concatenate([self.data.qpos, self.data.qvel])

    def state(self):
        return {"puck_pos": self.data.qpos.copy()}


class PuckWorld(World):
    def make_env(self, task=None, *, seed=None, render_mode=None):
        return gym.wrappers.TimeLimit(PuckEnv(seed), max_episode_steps=self.task(task).horizon)

    def state_source(self):
        return "state = {'puck_pos': data.qpos.copy()}"


def _centre(state, params):
    return -np.linalg.norm(state["puck_pos"], axis=-1)


def make_world():
    return PuckWorld(
        name="puck", summary="a puck on a plane",
        state_fields=(StateField("puck_pos", (2,), "m", "puck position"),),
        task_families={"centre": TaskFamily("centre", "bring the puck to the origin",
                                            lambda s, p: _centre(s, p) > -0.05, _centre, "minus distance", 20)},
        source_files=(Path(__file__),),
    )
'''


def test_a_user_world_folder_is_found_and_checked(tmp_path, monkeypatch):
    (tmp_path / "puck").mkdir()
    (tmp_path / "puck" / "world.py").write_text(textwrap.dedent(TINY_WORLD))
    monkeypatch.setenv("LAB_ENVS_PATH", str(tmp_path))
    get_world.cache_clear()
    try:
        assert "puck" in world_names()
        world = get_world("puck")
        report = check_world(world)
        assert report.passed, [r for r in report.results if not r.passed]
        register_gymnasium_ids()
        env = gym.make("lab/puck-v1", seed=1)
        first, _ = env.reset()
        assert np.array_equal(first, gym.make("lab/puck-v1", seed=1).reset()[0])
    finally:
        get_world.cache_clear()


def test_a_broken_world_module_gives_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "world.py").write_text("import numpy\nraise RuntimeError('scene file missing')\n")
    (tmp_path / "nameless").mkdir()
    (tmp_path / "nameless" / "world.py").write_text("X = 1\n")
    monkeypatch.setenv("LAB_ENVS_PATH", str(tmp_path))
    get_world.cache_clear()
    try:
        with pytest.raises(LabError, match="failed to import: RuntimeError: scene file missing"):
            get_world("broken")
        with pytest.raises(LabError, match="defines no make_world"):
            get_world("nameless")
    finally:
        get_world.cache_clear()


def test_a_composite_task_parses_back_and_judges_every_part_at_the_end() -> None:
    from lab.worlds.core import as_batch

    world = get_world("playground")
    task = world.task("open_drawer & place(cube_red, zone_blue)")
    assert world.task(task.id).id == task.id and task.horizon == 120 + 150
    assert ", then " in task.description
    env = world.make_env(task, seed=0)
    env.reset()
    state = as_batch(read_state(env))
    parts = [world.task("open_drawer"), world.task("place(cube_red, zone_blue)")]
    assert not task.success(state)[0]
    assert np.isclose(task.fitness(state)[0], sum(p.fitness(state)[0] for p in parts))
    env.close()
    with pytest.raises(LabError, match="cannot be judged as part of a composite task"):
        world.task("reach(ball) & press_button")
