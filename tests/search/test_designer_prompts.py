"""What the reward designer is told: the training its programs get and how the result is scored (never the scoring
code), the task once, its parameters with their meaning, only this robot's state code; and feedback that says what
happened (a shape error is not a division error), with tips that follow the statistics."""

from __future__ import annotations

import pytest

from lab.errors import ProgramError
from lab.llm.client import LLM
from lab.llm.ledger import Ledger
from lab.rewards.program import RewardProgram, SandboxedReward, sample_states
from lab.search.config import SearchConfig
from lab.search.designer import LLMRewardDesigner, how_judged
from lab.worlds import get_world


def first_prompt(world_name: str, task_spec: str, **settings: object) -> str:
    world = get_world(world_name)
    task = world.task(task_spec)
    config = SearchConfig(world=world_name, task=task_spec, **settings)  # type: ignore[arg-type]
    designer = LLMRewardDesigner(LLM("replay:unused", backend=None, ledger=Ledger()),  # type: ignore[arg-type]
                                 world, task, "", how_judged(config, task))
    return "\n".join(message["content"] for message in designer.start)


def test_the_designer_is_told_the_budget_the_algorithm_and_how_the_result_is_scored() -> None:
    prompt = first_prompt("halfcheetah", "forward", steps=50_000, short_fraction=0.3, select_episodes=5,
                          eval_seeds=10)
    world = get_world("halfcheetah")
    family = world.task("forward").family
    assert "PPO (an MLP policy" in prompt and "64 copies of the world" in prompt
    assert "50,000 env steps" in prompt and "15,000 steps" in prompt
    assert family.fitness_meaning in prompt and prompt.count("averaged over the episode") == 1
    assert "deterministic policy" in prompt and "5 evaluation episodes" in prompt and "10 held-out" in prompt
    assert "params['speed'] = 1.0: average speed (m/s) over the episode that counts as success" in prompt
    assert prompt.count(world.task("forward").description) == 1, "the task sentence is said once"
    assert "def _forward_fitness" not in prompt and "fitness(" not in prompt.split("## How the state")[1]
    assert "temperature parameter" not in prompt and "type of each input variable" not in prompt


@pytest.mark.parametrize(("world_name", "task_spec", "absent"), [
    ("halfcheetah", "forward", ["spec.kind == 'arm'", "spec.healthy", "contact_forces", "self._points"]),
    ("reacher", "reach", ["torso_pos", "spec.mass_center", "is_healthy"]),
])
def test_the_state_code_shown_is_only_this_robots(world_name: str, task_spec: str, absent: list[str]) -> None:
    source = get_world(world_name).state_source()
    assert "def state(self)" in source and "joint_pos" in source
    for text in absent:
        assert text not in source, text


def run_reward(source: str) -> ProgramError:
    world = get_world("reacher")
    task = world.task("reach")
    state, action = sample_states(world, task, 0, steps=8)
    with SandboxedReward(RewardProgram(source, "probe"), task) as reward_fn, pytest.raises(ProgramError) as failed:
        reward_fn(state, action)
    return failed.value


def test_a_shape_error_is_told_as_one_and_names_a_single_number_component() -> None:
    error = run_reward("import numpy as np\n\ndef compute_reward(state, action):\n"
                       "    near = -np.linalg.norm(state['fingertip_pos'] - state['target_pos'], axis=-1)\n"
                       "    return near[:, None] + 1.0, {'near': near, 'bonus': 1.0}\n")
    assert "shape is not the reward's" in error.message and "'bonus' () (one number for all envs)" in error.message
    assert error.hint is not None and "one value per env" in error.hint and "guard divisions" not in error.hint


def test_a_value_that_is_not_finite_gets_the_guard_hint() -> None:
    error = run_reward("import numpy as np\n\ndef compute_reward(state, action):\n"
                       "    far = np.linalg.norm(state['fingertip_pos'] - state['fingertip_pos'], axis=-1)\n"
                       "    return 1.0 / far, {'inverse': 1.0 / far}\n")
    assert "not finite" in error.message and error.hint is not None and "guard divisions" in error.hint
