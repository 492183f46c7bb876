"""Policy skills: a trained policy exported as plain arrays acts as SB3 does, is stored verified, and code skills
call it through the robot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lab.errors import LabError
from lab.policy import NumpyPolicy
from lab.runs import Run
from lab.sandbox import ProgramError
from lab.skills import SkillLibrary
from lab.skills.runtime import SkillRunner, add_code_skill, add_policy_skill, verify_skill
from lab.training import TrainConfig, load_policy, train
from lab.worlds import get_world

PLAYGROUND = get_world("playground")


def trained(folder: Path, **settings: object) -> Path:
    values: dict = {"world": "playground", "task": "reach(cube_red)", "reward": "human", "steps": 512,
                    "eval_episodes": 2, "curve_points": 10, "n_envs": 4, "ppo": {"n_steps": 64}, **settings}
    run = Run.create("train", "policy", out=folder)
    train(TrainConfig.model_validate(values), run)
    return run.path


@pytest.fixture(scope="module")
def reach_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained(tmp_path_factory.mktemp("reach") / "run")


@pytest.fixture
def library(tmp_path: Path, embedder) -> SkillLibrary:
    with SkillLibrary(tmp_path / "lib", embedder, create=True) as opened:
        yield opened


def test_the_exported_policy_acts_as_sb3_predicts(reach_run: Path) -> None:
    sb3 = load_policy(Run.open(reach_run), device="cpu")
    exported = NumpyPolicy.load(reach_run / "policy.npz")
    observations = np.random.default_rng(0).normal(size=(64, 71)) * 2
    assert np.abs(sb3.act(observations) - exported.act(observations)).max() < 1e-5


@pytest.mark.slow
def test_a_sac_policy_exports_with_its_squashing(tmp_path: Path) -> None:
    run = trained(tmp_path / "sac", algo="sac", steps=300, n_envs=1,
                  sac={"learning_starts": 100, "batch_size": 32, "net_arch": [32, 32]})
    sb3 = load_policy(Run.open(run), device="cpu")
    observations = np.random.default_rng(1).normal(size=(64, 71))
    assert np.abs(sb3.act(observations) - NumpyPolicy.load(run / "policy.npz").act(observations)).max() < 1e-5


def test_a_policy_skill_is_stored_with_its_policy_and_reward_and_runs_until_success(
        reach_run: Path, library: SkillLibrary) -> None:
    outcome = add_policy_skill(library, reach_run, "reach_red", seeds=[0, 1], threshold=0.0)
    skill = outcome.skill
    assert skill is not None and skill.kind == "policy" and skill.task == "reach(obj=cube_red)"
    assert (library.folder / skill.artefact).is_file() and "def compute_reward" in skill.reward_program
    assert skill.verification is not None and skill.verification.seeds == [0, 1]
    assert [s.name for s in library.skills(kind="policy")] == ["reach_red"]
    assert library.search("move the gripper to the red cube", k=1, kind="policy")[0].skill.name == "reach_red"
    failed = "reach_red ran 60 steps and its task reach(obj=cube_red) did not succeed"
    assert all(result.success or failed in result.error for result in outcome.results)
    again, _ = verify_skill(PLAYGROUND, PLAYGROUND.task(skill.task), skill, library, seeds=[0, 1], threshold=0.0)
    assert again.successes == outcome.verification.successes


def test_a_policy_that_fails_verification_is_not_stored(reach_run: Path, library: SkillLibrary) -> None:
    outcome = add_policy_skill(library, reach_run, "reach_red", seeds=[0], threshold=1.01)
    assert outcome.skill is None and len(library) == 0


CALLS_POLICY = '''
def approach_then_open(robot):
    """Move toward the red cube with the learned reach policy, then open the fingers."""
    start = robot.position("gripper")
    reach_red(robot, max_steps=25, until_success=False)
    moved = robot.position("gripper") - start
    if float(moved @ moved) < 1e-8:
        raise RuntimeError("the policy did not move the gripper")
    robot.open()
'''


def test_a_code_skill_calls_a_policy_skill_through_the_robot(reach_run: Path, library: SkillLibrary) -> None:
    add_policy_skill(library, reach_run, "reach_red", seeds=[0], threshold=0.0)
    with SkillRunner(PLAYGROUND, PLAYGROUND.task("reach(cube_red)"), "approach_then_open", CALLS_POLICY,
                     library) as runner:
        result = runner.run(3)
    assert result.error == "" and result.steps >= 25
    outcome = add_code_skill(library, PLAYGROUND, PLAYGROUND.task("reach(cube_red)"), "approach_then_open",
                             CALLS_POLICY, seeds=[0], threshold=0.0)
    assert outcome.skill is not None and outcome.skill.calls == ["reach_red"]


def test_the_policy_counts_against_the_callers_step_budget(reach_run: Path, library: SkillLibrary) -> None:
    add_policy_skill(library, reach_run, "reach_red", seeds=[0], threshold=0.0)
    source = "def greedy(robot):\n    reach_red(robot, max_steps=500, until_success=False)\n"
    with SkillRunner(PLAYGROUND, PLAYGROUND.task("reach(cube_red)"), "greedy", source, library,
                     max_steps=40) as runner:
        result = runner.run(0)
    assert "budget of 40 simulation steps" in result.error


def test_a_skill_cannot_reach_past_the_robot_api_to_the_simulator() -> None:
    source = "def sneak(robot):\n    robot._robot.env.data.qpos[:] = 0\n"
    with pytest.raises(ProgramError, match="_robot"):
        SkillRunner(PLAYGROUND, PLAYGROUND.task("reach(cube_red)"), "sneak", source)


def test_a_locomotion_policy_is_verified_without_a_robot_api(tmp_path: Path, library: SkillLibrary) -> None:
    run = trained(tmp_path / "cheetah", world="halfcheetah", task="forward", reward="human", steps=256)
    outcome = add_policy_skill(library, run, "run_forward", seeds=[0, 1], threshold=0.0)
    assert outcome.skill is not None and outcome.skill.world == "halfcheetah"
    assert [r.steps for r in outcome.results] == [1000, 1000] and all(r.error == "" for r in outcome.results)


def test_a_run_without_a_policy_is_refused_with_a_hint(tmp_path: Path, library: SkillLibrary) -> None:
    run = Run.create("train", "empty", out=tmp_path / "empty")
    run.write_json("config.json", {"world": "playground", "task": "reach(cube_red)", "algo": "ppo"})
    with pytest.raises(LabError, match="no trained policy"):
        add_policy_skill(library, run.path, "nothing")
