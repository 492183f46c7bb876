"""Tasks written in a tasks.yaml next to a robot's model: they join its world, run sandboxed, and a bad file is
one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lab.errors import LabError
from lab.worlds.checks import check_world
from lab.worlds.mjcf import mjcf_world
from tests.worlds.test_mjcf import ARM, CRAWLER

HOP_FAR = '''
hop_far:
  description: hop forward as far as it can
  horizon: 60
  success_when: final
  fitness_over: final
  program: |
    import numpy as np

    def compute_success(state):
        return state["displacement"][:, 0] >= 2.0

    def compute_fitness(state):
        return state["displacement"][:, 0]
'''

FIXED_NO_SITE = """<mujoco model="pendulum">
  <worldbody>
    <body name="pole" pos="0 0 1">
      <joint name="hinge" type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.04"/>
    </body>
  </worldbody>
  <actuator><motor joint="hinge" ctrlrange="-1 1"/></actuator>
</mujoco>
"""


def robot(tmp_path: Path, xml: str, tasks: str | None) -> Path:
    path = tmp_path / "robot.xml"
    path.write_text(xml)
    if tasks is not None:
        (tmp_path / "tasks.yaml").write_text(tasks)
    return path


def test_written_tasks_join_the_templates_and_are_judged_in_sandboxes(tmp_path: Path) -> None:
    world = mjcf_world(robot(tmp_path, CRAWLER, HOP_FAR))
    assert {"move", "turn", "hop_far"} <= set(world.task_families)
    task = world.task("hop_far")
    assert (task.horizon, task.family.success_when, task.family.fitness_over) == (60, "final", "final")
    assert task.family.program is not None and "the task program's fitness, at the episode's end" in \
        task.family.fitness_meaning
    env = world.make_env(task, seed=0)
    env.reset()
    env.step(np.zeros(env.action_space.shape))
    state = {k: v[None] for k, v in env.unwrapped.state().items()}  # type: ignore[attr-defined]
    np.testing.assert_allclose(task.fitness(state), state["displacement"][:, 0])
    assert not task.success(state)[0]
    report = check_world(world, [task])
    assert report.passed, [r for r in report.results if not r.passed]


def test_a_fixed_robot_without_a_site_gets_its_tasks_from_the_file(tmp_path: Path) -> None:
    with pytest.raises(LabError, match=r"tasks\.yaml next to it"):
        mjcf_world(robot(tmp_path, FIXED_NO_SITE, None))
    upright = ('up:\n  description: swing the pole up\n  program: |\n    def compute_success(state):\n'
               '        return state["body_up"][:, 0, 2] < -0.9\n    def compute_fitness(state):\n'
               '        return -state["body_up"][:, 0, 2]\n')
    world = mjcf_world(robot(tmp_path, FIXED_NO_SITE, upright))
    assert list(world.task_families) == ["up"]


@pytest.mark.parametrize(("text", "message"), [
    ("hop: [unclosed", "could not be read"),
    ("- just a list", "must map task names to tasks"),
    ("Hop-Far:\n  description: x\n  program: y", "is not a task name"),
    ("move:\n  description: x\n  program: y", "has the name of one of the robot's templates"),
    ("hop:\n  description: x\n  program: y\n  reward: 3", "hop': reward: Extra inputs are not permitted"),
    ("hop:\n  description: x\n  program: y\n  horizon: -1", "horizon: Input should be greater than 0"),
    ("hop:\n  description: x\n  program: |\n    import os\n    def compute_success(state):\n"
     "        return os.system('id')\n    def compute_fitness(state):\n        return 0", "its program is refused"),
    ("hop:\n  description: x\n  program: |\n    def compute_success(state):\n        return 1\n",
     "its program is refused"),
])
def test_a_bad_task_file_is_one_clear_error_naming_the_file_and_task(tmp_path: Path, text: str,
                                                                     message: str) -> None:
    path = robot(tmp_path, CRAWLER, text)
    with pytest.raises(LabError, match=message) as raised:
        mjcf_world(path)
    assert str(tmp_path / "tasks.yaml") in str(raised.value)


def test_lab_refuses_a_bad_task_file_in_one_line_and_lab_worlds_add_carries_a_good_one(tmp_path: Path,
                                                                                       lab) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    without_program = robot(bad, ARM, "hop:\n  description: x")
    done = lab("worlds", "show", f"mjcf:{without_program}")
    assert done.returncode == 2 and "program: Field required" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2
    good = tmp_path / "good"
    good.mkdir()
    source = robot(good, CRAWLER, HOP_FAR)
    envs = tmp_path / "envs"
    envs.mkdir()
    assert lab("worlds", "add", "hopper_bot", "--mjcf", str(source), "--envs", str(envs)).returncode == 0
    assert (envs / "hopper_bot" / "model" / "tasks.yaml").read_text() == HOP_FAR
