"""Training: a policy learns on a dense reward and beats the sparse one; same seed, same result; runs round-trip."""

import json
from pathlib import Path

import numpy as np
import pytest

from lab.rewards import SandboxedReward
from lab.runs import Run
from lab.sandbox import ProgramError
from lab.training import TrainConfig, evaluate_policy, load_policy, train
from lab.training.trainer import run_task


def tiny(tmp_path: Path, name: str, **settings: object) -> tuple[TrainConfig, Run]:
    values: dict = {"world": "reacher", "task": "reach", "steps": 1024, "eval_episodes": 3, "curve_points": 10,
                    "ppo": {"n_steps": 64}, **settings}
    return TrainConfig.model_validate(values), Run.create("train", name, out=tmp_path / name)


@pytest.mark.slow
def test_ppo_learns_playground_reach_with_the_human_reward_and_beats_sparse(tmp_path: Path) -> None:
    results = {}
    for reward in ("human", "sparse"):
        config, run = tiny(tmp_path, reward, world="playground", task="reach(cube_red)", reward=reward,
                           steps=20_000, eval_episodes=10, n_envs=16, ppo={"batch_size": 64, "n_epochs": 10})
        results[reward] = train(config, run).evaluation.summary()["fitness_mean"]
    # A random policy ends about 0.3 m from the cube; the sparse reward almost never fires on this budget.
    assert results["human"] >= -0.22, results
    assert results["human"] > results["sparse"] + 0.08, results


@pytest.mark.slow
def test_batched_ppo_learns_halfcheetah_to_run_in_seconds(tmp_path: Path) -> None:
    """The lab's PPO on the native batch (64 copies): halfcheetah runs forward at 0.5 m/s or more, judged by the
    deterministic policy over held-out seeds, within 400k steps (about half a minute here); a random policy stays
    near 0 m/s."""
    config, run = tiny(tmp_path, "cheetah", world="halfcheetah", task="forward", steps=400_000, eval_episodes=3,
                       ppo={}, curve_points=40, target_fitness=0.6)
    result = train(config, run)
    assert result.evaluation.summary()["fitness_mean"] >= 0.5, result.curve[-1]
    assert result.steps_per_second > 3000


def test_same_seed_same_result(tmp_path: Path) -> None:
    first = train(*tiny(tmp_path, "a"))
    second = train(*tiny(tmp_path, "b"))
    strip = [{k: v for k, v in p.items() if k != "time"} for p in first.curve]
    assert strip == [{k: v for k, v in p.items() if k != "time"} for p in second.curve]
    assert first.evaluation.episodes == second.evaluation.episodes
    third = train(*tiny(tmp_path, "c", seed=1))
    assert third.evaluation.episodes != first.evaluation.episodes


def test_run_directory_round_trip(tmp_path: Path) -> None:
    result = train(*tiny(tmp_path, "run"))
    run = result.run
    for name in ("config.json", "events.jsonl", "reward.py", "curves.json", "checkpoint.pt", "policy.npz",
                 "eval.json"):
        assert run.file(name).is_file(), name
    assert list(run.file("tb").iterdir()), "TensorBoard logs"
    curve = json.loads(run.file("curves.json").read_text())
    assert len(curve) >= 10
    assert {"approach", "distance", "ctrl"} & set(curve[-1]["step_components"]) == {"distance", "ctrl"}
    with_episodes = [p for p in curve if p["episodes"]]
    assert with_episodes and {"fitness", "success_rate", "episode_length"} <= set(with_episodes[-1])
    events = [e["event"] for e in run.events()]
    assert events[0] == "dry_run" and "trained" in events and events[-1] == "evaluated"

    world, task, program = run_task(run)
    policy = load_policy(run)
    with SandboxedReward(program, task) as reward_fn:
        again = evaluate_policy(policy, world, task, result.evaluation.seeds, reward_fn)
    saved = json.loads(run.file("eval.json").read_text())
    assert [e["fitness"] for e in again.episodes] == pytest.approx([e["fitness"] for e in saved["episodes"]])


def test_plain_sb3_loads_the_policy_and_reproduces_the_evaluation(tmp_path: Path) -> None:
    """A user with stable-baselines3 alone (PPO.load + VecNormalize.load, as rl-zoo3 does) gets the lab's policy:
    the same actions and, episode by episode, the fitness the lab's evaluation recorded."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from lab.worlds import as_batch, read_state

    result = train(*tiny(tmp_path, "plain", algo="sb3-ppo"))
    run = result.run
    world, task, _ = run_task(run)
    model = PPO.load(run.file("policy.zip"), device="cpu")
    normalizer = VecNormalize.load(str(run.file("vecnormalize.pkl")),
                                   DummyVecEnv([lambda: world.make_env(task, seed=0)]))
    normalizer.training, normalizer.norm_reward = False, False
    recorded = json.loads(run.file("eval.json").read_text())["episodes"]
    lab_policy = load_policy(run, device="cpu")
    for seed, episode in zip(result.evaluation.seeds, recorded, strict=True):
        env = world.make_env(task, seed=seed)
        observation, _ = env.reset(seed=seed)
        fitness, done = [], False
        while not done:
            action, _ = model.predict(normalizer.normalize_obs(observation[None]), deterministic=True)
            assert np.allclose(action[0], lab_policy.act(observation[None])[0])
            observation, _, terminated, truncated, _ = env.step(action[0])
            fitness.append(task.fitness(as_batch(read_state(env)))[0])
            done = terminated or truncated
        env.close()
        assert float(task.episode_fitness(np.array(fitness))) == pytest.approx(episode["fitness"])


def test_early_stop_at_target_fitness(tmp_path: Path) -> None:
    result = train(*tiny(tmp_path, "early", steps=8000, target_fitness=-100.0))
    assert result.stopped_early
    assert result.steps < 8000


def test_sac_trains_and_evaluates(tmp_path: Path) -> None:
    config, run = tiny(tmp_path, "sac", algo="sac", steps=300,
                       sac={"learning_starts": 100, "batch_size": 32, "net_arch": [32, 32]})
    result = train(config, run)
    assert result.steps == 300 and len(result.evaluation.episodes) == 3
    assert load_policy(run).model.__class__.__name__ == "SAC"


RAISES_LATER = """
import numpy as np
calls = [0]

def compute_reward(state, action):
    calls[0] += 1
    if calls[0] > 40:
        raise RuntimeError("step budget of the evil program")
    return -np.sum(action ** 2, axis=-1), {}
"""

NAN_LATER = """
import numpy as np
calls = [0]

def compute_reward(state, action):
    calls[0] += 1
    scale = np.nan if calls[0] > 40 else 1.0
    return -scale * np.sum(action ** 2, axis=-1), {}
"""


@pytest.mark.parametrize("source,expected", [(RAISES_LATER, r"raised on call 41: RuntimeError.*line 8"),
                                             (NAN_LATER, r"bad values on call 41: the reward is nan")])
def test_a_program_failing_mid_training_stops_the_run_cleanly(tmp_path: Path, source: str, expected: str) -> None:
    program = tmp_path / "evil.py"
    program.write_text(source)
    config, run = tiny(tmp_path, "evil", reward=str(program))
    with pytest.raises(ProgramError, match=expected):
        train(config, run)
    failed = [e for e in run.events() if e["event"] == "failed"]
    assert failed and "call 41" in failed[0]["error"]
    assert not run.file("policy.zip").exists()
    assert train(*tiny(tmp_path, "after")).evaluation.episodes, "the process goes on training after a bad program"


def test_a_program_with_the_wrong_signature_is_rejected_before_training(tmp_path: Path) -> None:
    program = tmp_path / "bad.py"
    program.write_text("def compute_reward(state):\n    return 0.0, {}\n")
    config, run = tiny(tmp_path, "bad", reward=str(program))
    with pytest.raises(ProgramError, match="breaks 1 rule"):
        train(config, run)
    assert [e["event"] for e in run.events()] == ["rejected"]


def test_policy_actions_are_finite(tmp_path: Path) -> None:
    result = train(*tiny(tmp_path, "finite", steps=512))
    policy = load_policy(result.run)
    actions = policy.act(np.zeros((4, 10)))
    assert actions.shape == (4, 2) and np.isfinite(actions).all()


def test_a_run_from_before_vecnormalize_still_loads_its_normalisation(tmp_path: Path) -> None:
    result = train(*tiny(tmp_path, "old", algo="sb3-ppo"))
    run = result.run
    now = load_policy(run, device="cpu")
    assert now.obs_mean is not None and now.obs_var is not None
    run.file("vecnormalize.pkl").unlink()
    np.savez(run.file("normalization.npz"), mean=now.obs_mean, var=now.obs_var, clip_obs=now.clip_obs,
             epsilon=now.epsilon)
    old = load_policy(run, device="cpu")
    observations = np.random.default_rng(0).normal(size=(5, len(now.obs_mean)))
    assert np.allclose(old.act(observations), now.act(observations))
