"""A curriculum session's settings, as `curricula/*.yaml` says them, defined once (the CLI's options, their help and
their defaults come from these fields)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lab.llm.config import LLMSettings


class CurriculumConfig(BaseModel):
    """A curriculum session, as `curricula/*.yaml` says it."""

    model_config = ConfigDict(extra="forbid")

    world: str = Field("playground", description="world name")
    budget: int = Field(20, ge=1, description="tasks to attempt")
    library: Path = Field(Path("skills"), description="the skill library folder")
    retrieve: int = Field(5, ge=0, description="library skills retrieved for each task (top-k by meaning)")
    verify_seeds: int = Field(10, ge=1, description="seeded episodes that verify a skill")
    threshold: float = Field(0.8, gt=0, le=1, description="success rate a skill needs to be stored")
    tasks_per_family: int = Field(3, ge=1, description="parameter bindings per task family in the task pool")
    beam: int = Field(6, ge=1, description="offline writer: prefixes kept per length")
    max_length: int = Field(5, ge=1, description="offline writer: most steps in a program")
    episode_budget: int = Field(1500, ge=10, description="offline writer: episodes per task")
    seed: int = Field(0, ge=0, description="seeds the curriculum")
    rounds: int = Field(4, ge=1, description="LLM writer: rounds of feedback per task")
    tasks: list[str] = Field(default_factory=list, description="the tasks to draw from (task specs, e.g. "
                             "`jump(height=0.1)`); empty: every family of the world with a few parameter bindings")
    policy: dict[str, Any] = Field(default_factory=dict, description="reward search settings (samples, "
                                   "iterations, steps, train, ...) for tasks learned as policies")
    policy_after_failures: int = Field(0, ge=0, description="in worlds with a robot API: after this many failed "
                                       "writes of a task, learn it as a policy by reward search (0: never); in "
                                       "worlds without one, every task is learned so")
    match_similarity: float = Field(0.85, gt=0, le=1, description="LLM curriculum: a proposal this close in "
                                    "meaning to one of the world's tasks is that task; others get a success check")
    llm: LLMSettings = Field(default_factory=lambda: LLMSettings(),
                             description="models per role: curriculum proposes tasks, skill_writer writes skills, "
                                         "critic critiques them; offline roles use the offline defaults")
