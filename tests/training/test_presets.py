"""PPO presets: each world gets the settings measured best for it, and whatever a user sets wins over them."""

import numpy as np
import pytest

from lab.rewards import SandboxedReward
from lab.rewards.program import resolve_reward
from lab.rewards.wrapper import RewardedBatch
from lab.training import TrainConfig
from lab.training.presets import PRESETS, preset_for
from lab.worlds import get_world


def settings(**values: object) -> TrainConfig:
    return TrainConfig.model_validate({"world": "halfcheetah", "task": "forward", **values})


def test_each_world_gets_its_preset_and_the_rest_the_plain_defaults() -> None:
    runner, hopper, cartpole, arm = (settings(world=w) for w in ("ant", "hopper", "dmc-cartpole", "reacher"))
    assert (runner.preset, runner.envs, runner.ppo.batch_size, runner.ppo.n_epochs) == ("runners", 64, 256, 10)
    assert (hopper.preset, hopper.envs, hopper.ppo.n_steps, hopper.ppo.batch_size) == ("small-batches", 16, 128, 64)
    assert cartpole.preset == "small-batches" and preset_for("dmc-humanoid") == "small-batches"
    assert (arm.preset, arm.envs, arm.ppo.batch_size, arm.ppo.n_epochs) == ("plain", 64, 1024, 5)
    assert set(PRESETS) | {"auto"} == set(TrainConfig.model_fields["preset"].annotation.__args__)  # type: ignore


def test_what_a_user_sets_wins_and_the_rest_of_the_preset_stays() -> None:
    config = settings(world="hopper", n_envs=32, ppo={"n_epochs": 3})
    assert (config.envs, config.ppo.n_epochs, config.ppo.n_steps, config.ppo.batch_size) == (32, 3, 128, 64)
    plain = settings(world="hopper", preset="plain")
    assert (plain.envs, plain.ppo.n_steps, plain.ppo.batch_size, plain.ppo.n_epochs) == (64, 64, 1024, 5)
    assert settings(world="hopper", algo="sb3-ppo").preset == "plain"  # the presets were measured on the lab's PPO


def test_a_resolved_config_reads_back_the_same() -> None:
    """A config travels as JSON to executors and into run directories: reading it back changes nothing."""
    config = settings(world="walker2d", ppo={"n_steps": 32})
    assert TrainConfig.model_validate(config.model_dump()) == config
    assert TrainConfig.model_validate_json(config.model_dump_json()).preset == "runners"


def test_a_search_names_its_preset_so_a_resume_trains_on_the_same_one() -> None:
    from lab.search.config import SearchConfig

    search = SearchConfig(world="hopper", task="forward", train={"n_envs": 8})
    assert search.train == {"n_envs": 8, "preset": "small-batches"}
    assert SearchConfig.model_validate(search.model_dump()) == search
    assert SearchConfig(world="hopper", task="forward", train={"preset": "plain"}).train == {"preset": "plain"}


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="preset"):
        settings(preset="fastest")
    with pytest.raises(ValueError, match="preset runners is for the lab's PPO"):
        settings(algo="sac", preset="runners")


def test_a_step_begun_and_ended_gives_what_a_whole_step_gives() -> None:
    """The trainer ends a step (takes its rewards) after computing the next actions; the numbers are the same."""
    world = get_world("reacher")
    task = world.task("reach")
    program = resolve_reward("human", task)
    actions = np.random.default_rng(0).uniform(-1, 1, (60, 4, 2))  # past the 50-step horizon: an auto-reset
    whole, split = [], []
    for record, begin in ((whole, False), (split, True)):
        with SandboxedReward(program, task) as reward_fn:
            batch = RewardedBatch(world.make_batch(task, 4, seed=3), task, reward_fn)
            batch.reset()
            for action in actions:
                if begin:
                    observations, terminated, truncated, final = batch.begin_step(action)
                    record.append((observations.copy(), batch.end_step(), terminated, truncated, final))
                else:
                    observations, rewards, terminated, truncated, final = batch.step(action)
                    record.append((observations.copy(), rewards, terminated, truncated, final))
            if begin:
                batch.begin_step(actions[0])
                with pytest.raises(RuntimeError, match="end_step"):
                    batch.begin_step(actions[0])
            batch.close()
    for first, second in zip(whole, split, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


class CountingSteps:
    """A batch of 3 copies whose observations are the step count: enough for PPO's bookkeeping."""

    num_envs = 3

    def __init__(self) -> None:
        self.steps = 0

    def reset(self) -> np.ndarray:
        return np.zeros((3, 2))

    def begin_step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        self.steps += 1
        observations = np.full((3, 2), float(self.steps))
        return observations, np.zeros(3, bool), np.zeros(3, bool), observations

    def end_step(self) -> np.ndarray:
        return np.ones(3)


def test_a_run_stopped_mid_rollout_keeps_the_statistics_of_the_observations_it_acted_on() -> None:
    """PPO computes the next actions before it takes a step's rewards (and hears it should stop): the observations
    it normalised for actions never taken must not stay in the running statistics a saved policy carries."""
    from lab.training.config import PPOSettings
    from lab.training.ppo import BatchedPPO

    learner = BatchedPPO(2, -np.ones(1), np.ones(1), PPOSettings(n_steps=8, batch_size=8), seed=0)
    learner.learn(CountingSteps(), 1000, on_step=lambda steps: steps < 15)
    assert learner.num_timesteps == 15
    assert learner.obs_rms.count == pytest.approx(15 + 1e-4)  # 5 batched steps of 3 copies, each acted on
    assert learner.obs_rms.mean[0] == pytest.approx(np.mean([0, 1, 2, 3, 4]), rel=1e-4)
