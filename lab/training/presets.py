"""PPO presets per world: the lab's PPO settings that learned each world best in measured scans.

One set of PPO settings does not suit every robot (rl-zoo3 keeps hyperparameters per environment for the same
reason). Measured here (`lab train WORLD TASK --reward human --steps 300000`, deterministic fitness over 10 held-out
episodes, seeds 0-2, dmc cheetah run and walker walk seed 0 only; the README's table; bench/bench_training.py's
`presets` part measures it again):

- `plain`, the field defaults: 64 copies x 64 steps, minibatches of 1024, 5 epochs (20 gradient steps per 4096
  samples). The fastest per step; halfcheetah's dense reward learns with it at 1M steps, the falling robots and the
  balancing tasks do not.
- `runners`: 64 copies x 64 steps, minibatches of 256, 10 epochs (160 gradient steps per 4096 samples). halfcheetah,
  walker2d and ant at 300k steps: every seed above every `plain` seed, for 1.2-1.5x the wall time.
- `small-batches`: 16 copies x 128 steps, minibatches of 64, 10 epochs (320 gradient steps per 2048 samples, the
  update ratio of CleanRL's continuous-action PPO, whose DeepMind Control figures are published). The only one that
  learns cartpole balance; the best on hopper, dmc cheetah run and walker walk per step; 2-5x `plain`'s wall time
  per step.

A preset fills only what a config leaves unset: `--set ppo.batch_size=...` or `--n-envs` win over it, and
`preset: plain` gives the field defaults on any world. Only the lab's PPO (`algo: ppo`) takes presets.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lab.settings import merged

PRESETS: dict[str, dict[str, Any]] = {
    "plain": {},
    "runners": {"ppo": {"batch_size": 256, "n_epochs": 10}},
    "small-batches": {"n_envs": 16, "ppo": {"n_steps": 128, "batch_size": 64, "n_epochs": 10}},
}
WORLD_PRESETS: dict[str, str] = {"halfcheetah": "runners", "walker2d": "runners", "ant": "runners",
                                 "hopper": "small-batches"}
"""Each world's preset where a scan measured one better than `plain` (the rest keep `plain`)."""
FAMILY_PRESETS: dict[str, str] = {"dmc-": "small-batches"}
"""Presets by world-name prefix: the DeepMind Control suite's worlds."""
AUTO = "auto"


def preset_for(world: str) -> str:
    """The preset `auto` means for `world` (by name, without loading it)."""
    if world in WORLD_PRESETS:
        return WORLD_PRESETS[world]
    return next((preset for prefix, preset in FAMILY_PRESETS.items() if world.startswith(prefix)), "plain")


def with_preset(values: dict[str, Any]) -> dict[str, Any]:
    """Raw training settings with their preset filled in under them (group by group: a preset's `ppo.n_epochs`
    stays when the settings give only `ppo.n_steps`) and `preset` resolved from `auto` to a name."""
    name = values.get("preset", AUTO)
    lab_ppo = values.get("algo", "ppo") == "ppo"
    if name == AUTO:
        name = preset_for(str(values.get("world", ""))) if lab_ppo else "plain"
    elif name in PRESETS and name != "plain" and not lab_ppo:
        raise ValueError(f"preset {name} is for the lab's PPO (algo ppo), not {values.get('algo')}: "
                         "drop it or set preset=plain")
    preset = PRESETS.get(name, {})
    given = {key: value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else value
             for key, value in values.items() if value is not None or key not in preset}
    return merged(preset, {**given, "preset": name})
