"""Worlds from MJCF files: robots the lab has never seen, written here, work as worlds from the model alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lab.errors import LabError
from lab.worlds import get_world
from lab.worlds.checks import check_world
from lab.worlds.mjcf import load_model, mjcf_world

CRAWLER = """<mujoco model="crawler">
  <option timestep="0.005"/>
  <worldbody>
    <geom name="floor" type="plane" size="10 10 0.1"/>
    <body name="torso" pos="0 0 0.3">
      <freejoint name="root"/>
      <geom type="box" size="0.2 0.1 0.05" mass="1"/>
      <site name="nose" pos="0.2 0 0"/>
      <body name="front_leg" pos="0.2 0 0">
        <joint name="front_hip" type="hinge" axis="0 1 0" range="-60 60"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.2" size="0.03" mass="0.2"/>
      </body>
      <body name="back_leg" pos="-0.2 0 0">
        <joint name="back_hip" type="hinge" axis="0 1 0" range="-60 60"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.2" size="0.03" mass="0.2"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="front_hip" gear="5" ctrlrange="-1 1"/>
    <motor name="back" joint="back_hip" gear="5" ctrlrange="-0.5 0.5"/>
  </actuator>
</mujoco>
"""

ARM = """<mujoco model="arm">
  <default><joint damping="0.5" armature="0.05"/></default>
  <worldbody>
    <body name="upper" pos="0 0 0.1">
      <joint name="shoulder" type="hinge" axis="0 0 1"/>
      <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.02"/>
      <body name="lower" pos="0.2 0 0">
        <joint name="elbow" type="hinge" axis="0 0 1" range="-150 150"/>
        <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.02"/>
        <site name="fingertip" pos="0.2 0 0"/>
      </body>
    </body>
    <body name="target" mocap="true" pos="0.2 0.2 0.1">
      <geom type="sphere" size="0.02" contype="0" conaffinity="0"/>
    </body>
  </worldbody>
  <actuator>
    <motor joint="shoulder" ctrlrange="-1 1"/>
    <motor joint="elbow" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
"""


@pytest.fixture
def robots(tmp_path: Path) -> dict[str, Path]:
    files = {"crawler": tmp_path / "crawler.xml", "arm": tmp_path / "arm.xml"}
    files["crawler"].write_text(CRAWLER)
    files["arm"].write_text(ARM)
    return files


def test_a_robot_never_seen_passes_every_world_check_from_its_mjcf_file_alone(robots: dict[str, Path]) -> None:
    for path in robots.values():
        world = get_world(f"mjcf:{path}")
        report = check_world(world)
        assert report.passed, [r for r in report.results if not r.passed]
        assert len(report.results) == 3 * len(world.task_families)


def test_the_state_observation_and_actions_come_from_the_model(robots: dict[str, Path]) -> None:
    crawler = mjcf_world(robots["crawler"])
    assert set(crawler.task_families) == {"move", "turn", "raise", "stand_still", "reach"}
    env = crawler.make_env("move", seed=3)
    observation, _ = env.reset()
    assert observation.shape == (7 - 2 + 2 + 6 + 2,)  # qpos without the root's x, y; then qvel
    np.testing.assert_allclose(env.action_space.low, [-1.0, -0.5])
    state = env.state()
    for field in crawler.state_fields:
        assert np.shape(state[field.name]) == field.shape, field.name
    assert set(state) == {field.name for field in crawler.state_fields}
    assert "front_hip actuator" in crawler.state_field("ctrl").meaning and "back" in crawler.action_meaning
    assert crawler.state_field("up").better == "higher" and crawler.state_field("root_vel").better is None
    assert "front_hip (hinge [-1.05, 1.05])" in crawler.summary and "free-floating" in crawler.summary
    for _ in range(20):
        env.step(np.ones(2))
    state = env.state()
    np.testing.assert_allclose(state["displacement"], state["root_pos"] - env.unwrapped._start)
    np.testing.assert_allclose(state["body_pos"][0], state["root_pos"])
    assert state["time"] == pytest.approx(20 * 0.02)
    env.close()


def test_a_fixed_arm_gets_a_reach_task_for_its_site_and_its_mocap_target(robots: dict[str, Path]) -> None:
    arm = mjcf_world(robots["arm"])
    assert set(arm.task_families) == {"reach"} and arm.kind == "manipulation"
    task = arm.task("reach(point=fingertip, x=0.2, y=0.2, z=0.1)")
    env = arm.make_env(task, seed=0)
    env.reset()
    env.step(np.zeros(2))
    state = {k: v[None] for k, v in env.state().items()}
    np.testing.assert_allclose(state["target_pos"][0], [0.2, 0.2, 0.1])
    distance = np.linalg.norm(state["fingertip_pos"][0] - [0.2, 0.2, 0.1])
    assert task.fitness(state)[0] == pytest.approx(-distance)
    # A fixed base keeps all of qpos; the shoulder turns without limits, so it is seen as its cosine and sine.
    qpos, qvel = env.unwrapped.data.qpos, env.unwrapped.data.qvel
    expected = [qpos[1], np.cos(qpos[0]), np.sin(qpos[0]), *qvel]
    np.testing.assert_allclose(env.unwrapped._get_obs(), expected)
    assert env.observation_space.shape == (5,)


def test_a_bad_mjcf_file_is_one_clear_error(tmp_path: Path, lab) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<mujoco><worldbody><body><geom type='nonsense'/></body></worldbody></mujoco>")
    still = tmp_path / "still.xml"
    still.write_text("<mujoco><worldbody><body><freejoint/><geom size='0.1'/></body></worldbody></mujoco>")
    with pytest.raises(LabError, match="MuJoCo could not load"):
        mjcf_world(broken)
    with pytest.raises(LabError, match="no actuators"):
        mjcf_world(still)
    done = lab("worlds", "show", f"mjcf:{tmp_path / 'missing.xml'}")
    assert done.returncode == 2 and "no MJCF file at" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2


def test_each_load_is_a_model_of_its_own_and_a_changed_file_is_read_again(tmp_path: Path) -> None:
    """Compiled once per process, copied out: one env's edits (the suite's targets move each episode) never reach
    another's model, and a file written again is compiled again."""
    robot = tmp_path / "crawler.xml"
    robot.write_text(CRAWLER)
    first, second = load_model(robot), load_model(robot)
    first.geom_size[1, 0] = 9.0
    first.opt.timestep = 0.5
    assert second.geom_size[1, 0] == pytest.approx(0.2) and second.opt.timestep == pytest.approx(0.005)
    assert load_model(robot).geom_size[1, 0] == pytest.approx(0.2)
    robot.write_text(CRAWLER.replace('<option timestep="0.005"/>', '<option timestep="0.004"/>'))
    assert load_model(robot).opt.timestep == pytest.approx(0.004)


def test_each_templates_fitness_expression_is_its_fitness(robots: dict[str, Path]) -> None:
    """The offline designer offers a family's fitness as a program term: it must be the fitness, exactly."""
    for path in robots.values():
        world = mjcf_world(path)
        for task in world.default_tasks():
            env = world.make_env(task, seed=1)
            env.reset()
            states = []
            for _ in range(15):
                env.step(env.action_space.sample())
                states.append(env.state())
            env.close()
            state = {name: np.stack([s[name] for s in states]) for name in states[0]}
            params = dict(task.param_map)
            value = eval(task.family.fitness_expression, {"np": np, "params": params, "state": state})
            np.testing.assert_allclose(value, task.fitness(state), err_msg=task.id)


@pytest.mark.parametrize(("robot", "task"), [("arm", "reach"), ("crawler", "turn")])
def test_the_native_batch_equals_the_env_copy_by_copy_across_resets(robots: dict[str, Path], robot: str,
                                                                    task: str) -> None:
    from lab.worlds.mjcf import MjcfBatch

    world = mjcf_world(robots[robot])
    bound = world.task(task)
    envs = [world.make_env(bound, seed=5 + i) for i in range(3)]
    with world.make_batch(bound, 3, seed=5, threads=2) as batch:
        assert isinstance(batch, MjcfBatch)
        observations = batch.reset()
        np.testing.assert_allclose(observations, [env.reset()[0] for env in envs])
        rng = np.random.default_rng(0)
        steps = bound.horizon + 30
        for _ in range(steps):
            actions = rng.uniform(-1.5, 1.5, (3, batch.action_size))
            step = batch.step(actions)
            for index, env in enumerate(envs):
                observation, _, _, truncated, _ = env.step(actions[index])
                np.testing.assert_allclose(step.final_observations[index], observation, atol=1e-9)
                for name, value in env.state().items():
                    np.testing.assert_allclose(step.state[name][index], value, atol=1e-9, err_msg=name)
                assert step.truncated[index] == truncated
                if truncated:
                    observation, _ = env.reset()
                np.testing.assert_allclose(step.observations[index], observation, atol=1e-9)
    for env in envs:
        env.close()


def test_lab_worlds_add_writes_a_world_folder_that_works_at_once_and_refusals_leave_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    robot = tmp_path / "robot"
    robot.mkdir()
    body = CRAWLER[CRAWLER.index('<body name="torso"'):CRAWLER.index("  </worldbody>")]
    (robot / "legs.xml").write_text(f"<mujoco>\n  <worldbody>\n    {body}  </worldbody>\n</mujoco>\n")
    (robot / "crawler.xml").write_text(CRAWLER.replace(body, "").replace(
        "<actuator>", '<include file="legs.xml"/>\n  <actuator>'))
    user = tmp_path / "user"
    user.mkdir()

    def lab(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True, cwd=user,
                              timeout=300)

    added = lab("worlds", "add", "my_crawler", "--mjcf", str(robot / "crawler.xml"), "--forward-axis", "-x")
    assert added.returncode == 0, added.stderr
    assert "tasks move, turn, raise, stand_still, reach" in added.stdout
    assert (user / "envs" / "my_crawler" / "model" / "legs.xml").is_file()  # an included file comes along
    checked = lab("worlds", "check", "my_crawler")
    assert checked.returncode == 0 and "all 15 checks passed" in checked.stdout, checked.stdout[-1500:]
    for args, says in ((("my_crawler",), "already a world called"), (("ant",), "already a world called"),
                       (("Crawler",), "not a valid name"), (("other", "--forward-axis", "z"), "forward axis must be")):
        refused = lab("worlds", "add", *args, "--mjcf", str(robot / "crawler.xml"))
        assert refused.returncode == 2 and says in refused.stderr, refused.stderr
    assert sorted(p.name for p in (user / "envs").iterdir()) == ["my_crawler"]
