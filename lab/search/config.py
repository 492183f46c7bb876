"""A reward search's settings: what a user sets on the command line, in a YAML file or in Python, defined once
(the CLI's options and their help come from these fields)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lab.llm.config import LLMSettings
from lab.settings import validation_problems
from lab.training.config import TrainConfig
from lab.training.presets import AUTO, preset_for

LARGE_BUDGET = 100_000
"""Steps from which the final comparison trains on several seeds by default (below, one seed: tests, smoke runs)."""


class SearchConfig(BaseModel):
    """One reward search."""

    model_config = ConfigDict(extra="forbid")

    world: str = Field(description="world name")
    task: str = Field("", description="task spec, e.g. `reach` or `forward`; empty: the task is `task_text`, "
                                      "judged by a success/fitness program the designer's model writes")
    task_text: str = Field("", description="the task in words for the designer (default: the task's description)")
    samples: int = Field(4, ge=1, le=64, description="programs proposed per iteration (K)")
    iterations: int = Field(3, ge=1, le=100, description="iterations (I)")
    steps: int = Field(300_000, ge=64, description="training steps of a full run; baselines train as long")
    short_fraction: float = Field(0.3, gt=0, le=1, description="first-stage budget of successive halving, as a "
                                                               "fraction of steps (1 turns halving off)")
    survivors: float = Field(0.5, gt=0, le=1, description="fraction of each iteration's candidates given the full "
                                                          "budget after the first stage")
    keep: int = Field(2, ge=1, le=16, description="best candidates carried forward as parents")
    repairs: int = Field(2, ge=0, le=10, description="times a failing program goes back to its designer")
    eval_seeds: int = Field(10, ge=1, description="held-out seeds of the final evaluation (E)")
    seeds: int | None = Field(None, ge=1, le=10, description="training seeds of the final comparison: the best "
                                                            "and each baseline train on seed, seed+1, ... and are "
                                                            "compared over all of them (default: 3 when steps >= "
                                                            "100000, else 1)")
    select_episodes: int = Field(5, ge=1, description="evaluation episodes that rank candidates")
    init: Literal["none", "human"] = Field("none", description="`human` starts from the task's human reward")
    feedback: str = Field("", description="a person's feedback, given to the designer instead of the reflection")
    target_fitness: float | None = Field(None, description="stop once a candidate's fitness reaches this")
    baselines: bool = Field(True, description="train the sparse and human rewards for comparison")
    promote: bool = Field(False, description="write the best into rewards/WORLD/TASK/promoted/ as a new version "
                                             "when its interval is above the active promoted version's (trained "
                                             "here as a baseline) or, with none, the human reward's")
    seed: int = Field(0, ge=0, description="seeds the designer and every training run")
    executor: Literal["local", "ray"] = Field("local", description="where training jobs run")
    max_parallel: int | None = Field(None, ge=1, description="jobs at once (default: the machine's cores)")
    ray_address: str | None = Field(None, description="a Ray cluster's address (default: a local Ray)")
    train: dict[str, Any] = Field(default_factory=dict, description="training settings (algo, n_envs, ppo, ...)")

    @property
    def training_seeds(self) -> int:
        """How many training seeds the final comparison uses (`seeds`, or its default for the budget)."""
        if self.seeds is not None:
            return self.seeds
        return 3 if self.steps >= LARGE_BUDGET else 1

    @field_validator("train")
    @classmethod
    def _known_training_settings(cls, train: dict[str, Any]) -> dict[str, Any]:
        """Training settings checked before the search starts, not when its first candidate trains."""
        owned = sorted({"world", "task", "task_program", "reward", "steps", "seed", "eval_seed",
                        "eval_episodes"} & set(train))
        if owned:
            raise ValueError(f"{', '.join(owned)} are set by the search itself")
        try:
            TrainConfig.model_validate({**train, "world": "any", "task": "any"})
        except ValidationError as error:
            raise ValueError(validation_problems(error)) from None
        return train
    llm: LLMSettings = Field(default_factory=lambda: LLMSettings(),
                             description="the models: reward_designer writes programs (and task checks)")

    @model_validator(mode="after")
    def _pin_the_preset(self) -> SearchConfig:
        """The world's PPO preset named in `train` (unless it names one) and so in the run's config: a resumed
        search trains its last candidates on the preset of its first, even if the world's preset changed since."""
        if self.train.get("preset", AUTO) == AUTO and self.train.get("algo", "ppo") == "ppo":
            self.train = {**self.train, "preset": preset_for(self.world)}
        return self

