"""Record the DeepMind Control suite's own rewards, as the reference the lab's DMC worlds are tested against.

dm-control 1.0.50 does not load on the lab's mujoco (4.0.0), so it is not a dependency: this script runs in an
environment of its own and writes tests/worlds/data/dmc_reference.npz, which tests/worlds/test_dmc.py reads:

    python3 -m venv /tmp/dmc && /tmp/dmc/bin/pip install mujoco==3.17.0 dm-control==1.0.50
    /tmp/dmc/bin/python tests/worlds/dmc_reference.py tests/worlds/data/dmc_reference.npz

For every task the lab has, it keeps physics states and dm-control's reward in them: states along random-action
episodes (as `env.step` leaves them), and probes set by hand (near the model's initial pose, where the tight
bounds of sparse rewards are met, and anywhere in the joints' ranges, at slow and fast velocities), with the
reward the task computes after MuJoCo's forward pass. Targets a task moves in its model each episode are kept too.
"""

import sys

import numpy as np
from dm_control import suite
from dm_control.mujoco.wrapper.mjbindings import enums

TASKS = [("cartpole", "balance"), ("cartpole", "balance_sparse"), ("cartpole", "swingup"),
         ("cartpole", "swingup_sparse"), ("pendulum", "swingup"), ("acrobot", "swingup"),
         ("acrobot", "swingup_sparse"), ("cheetah", "run"), ("walker", "stand"), ("walker", "walk"),
         ("walker", "run"), ("hopper", "stand"), ("hopper", "hop"), ("humanoid", "stand"), ("humanoid", "walk"),
         ("humanoid", "run"), ("finger", "spin"), ("finger", "turn_easy"), ("finger", "turn_hard"),
         ("point_mass", "easy"), ("ball_in_cup", "catch"), ("reacher", "easy"), ("reacher", "hard"),
         ("fish", "upright")]
EPISODES, STEPS, PROBES = 2, 40, 80


def moved_target(physics) -> np.ndarray:
    """Where the model's `target` is this episode (a site in some domains, a geom in others; finger and reacher
    move it), else zeros."""
    for kind, positions in (("site", physics.model.site_pos), ("geom", physics.model.geom_pos)):
        try:
            return np.array(positions[physics.model.name2id("target", kind)])
        except Exception:
            continue
    return np.zeros(3)


def probe(physics, rng: np.random.Generator, near: bool) -> None:
    """Set a state by hand: the initial pose plus a little, or any joint anywhere in its range."""
    model, data = physics.model, physics.data
    data.qpos[:] = model.qpos0
    for joint in range(model.njnt):
        kind, address = model.jnt_type[joint], model.jnt_qposadr[joint]
        if kind == enums.mjtJoint.mjJNT_FREE:
            data.qpos[address:address + 3] += rng.normal(0, 0.05 if near else 0.3, 3)
            quaternion = np.array([1.0, 0, 0, 0]) + rng.normal(0, 0.05 if near else 1.0, 4)
            data.qpos[address + 3:address + 7] = quaternion / np.linalg.norm(quaternion)
        elif kind == enums.mjtJoint.mjJNT_BALL:
            quaternion = rng.normal(0, 1.0, 4)
            data.qpos[address:address + 4] = quaternion / np.linalg.norm(quaternion)
        elif near:
            data.qpos[address] += rng.normal(0, 0.05)
        elif model.jnt_limited[joint]:
            data.qpos[address] = rng.uniform(*model.jnt_range[joint])
        elif kind == enums.mjtJoint.mjJNT_HINGE:
            data.qpos[address] = rng.uniform(-np.pi, np.pi)
        else:
            data.qpos[address] += rng.normal(0, 0.5)
    data.qvel[:] = rng.normal(0, rng.choice([0.3, 3.0, 12.0]), model.nv)
    low, high = model.actuator_ctrlrange.T
    data.ctrl[:] = rng.uniform(low, high)


def record(domain: str, task: str, seed: int) -> dict[str, np.ndarray]:
    env = suite.load(domain, task, task_kwargs={"random": seed})
    physics, spec = env.physics, env.action_spec()
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"qpos": [], "qvel": [], "ctrl": [], "target": [], "reward": []}

    def keep(reward: float) -> None:
        rows["qpos"].append(physics.data.qpos.copy())
        rows["qvel"].append(physics.data.qvel.copy())
        rows["ctrl"].append(physics.data.ctrl.copy())
        rows["target"].append(moved_target(physics))
        rows["reward"].append(float(reward))

    for _ in range(EPISODES):
        env.reset()
        for _ in range(STEPS):
            keep(env.step(rng.uniform(spec.minimum, spec.maximum)).reward)
    for index in range(PROBES):
        probe(physics, rng, near=index % 2 == 0)
        if domain == "ball_in_cup" and index % 4 == 1:
            physics.forward()
            gap = physics.named.data.site_xpos["target"] - physics.named.data.xpos["ball"]
            physics.named.data.qpos["ball_x"] += gap[0] + rng.normal(0, 0.02)
            physics.named.data.qpos["ball_z"] += gap[2] + rng.normal(0, 0.02)
        physics.forward()
        keep(env.task.get_reward(physics))
    return {key: np.array(value) for key, value in rows.items()}


def main(out: str) -> None:
    arrays = {}
    for number, (domain, task) in enumerate(TASKS):
        for key, value in record(domain, task, seed=number).items():
            arrays[f"{domain}/{task}/{key}"] = value
        rewards = arrays[f"{domain}/{task}/reward"]
        print(f"{domain} {task}: {len(rewards)} states, reward mean {rewards.mean():.3f}, "
              f"{(rewards > 0).mean():.0%} positive")
    np.savez_compressed(out, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
