"""The offline reward designer: terms chosen by meaning, programs that pass the checks, mutations the statistics
ask for, and the reflection text an LLM reads."""

from __future__ import annotations

import numpy as np
import pytest

from lab.rewards.program import REWARD_RULES, RewardProgram, dry_run, resolve_reward
from lab.sandbox import check_program
from lab.search.reflection import TrainingStats, reflection_text
from lab.search.terms import Genome, OfflineRewardDesigner, Term
from lab.worlds import get_world


@pytest.fixture(scope="module")
def designers(embedder) -> dict[str, OfflineRewardDesigner]:  # type: ignore[no-untyped-def]
    made = {}
    for world, task in (("reacher", "reach"), ("halfcheetah", "forward"), ("playground", "reach(cube_red)"),
                        ("hopper", "jump")):
        w = get_world(world)
        made[world] = OfflineRewardDesigner(w, w.task(task), embedder, seed=0)
    return made


@pytest.mark.parametrize(("world", "expected"), [
    ("reacher", "near_fingertip_target"), ("halfcheetah", "torso_speed_pos_x"),
    ("playground", "near_gripper_cube_red"), ("hopper", "torso_height")])
def test_the_task_words_pick_the_term_that_measures_the_task(designers, world: str, expected: str) -> None:
    best = max(designers[world].catalogue, key=lambda p: p.similarity)
    assert best.term.name == expected


@pytest.mark.parametrize("world", ["reacher", "halfcheetah", "playground"])
def test_fresh_genomes_render_to_programs_that_pass_the_checks_and_dry_run(designers, world: str) -> None:
    designer = designers[world]
    for index in range(4):
        genome = designer.fresh_genome(designer.rng(0, index))
        source = genome.render(designer.task)
        check_program(source, REWARD_RULES)
        checked = dry_run(RewardProgram(source, "fresh"), designer.world, designer.task)
        assert set(checked.components) == {t.name for t in genome.terms}


def test_the_designer_is_deterministic_per_seed(designers) -> None:
    designer = designers["reacher"]
    first = designer.fresh_genome(designer.rng(3, 1)).render(designer.task)
    assert designer.fresh_genome(designer.rng(3, 1)).render(designer.task) == first


def curve(components: dict[str, list[float]], fitness: list[float], rewards: list[float] | None = None) -> list:
    rewards = rewards or [0.0] * len(fitness)
    return [{"step": i, "step_components": {k: v[i] for k, v in components.items()}, "step_fitness": fitness[i],
             "episodes": 4, "fitness": fitness[i], "success_rate": 0.0, "episode_length": 50.0,
             "episode_reward": rewards[i]} for i in range(len(fitness))]


def test_a_flat_shaped_distance_is_rescaled_and_a_dominating_term_damped(designers) -> None:
    designer = designers["reacher"]
    near = Term("distance", ("fingertip_pos", "target_pos"), shaping="exp", scale=0.01, weight=1.0)
    cost = Term("action_cost", weight=1.0)
    stats = TrainingStats.from_curve(curve({near.name: [1e-4] * 10, "action_cost": list(np.linspace(-5, -4, 10))},
                                           list(np.linspace(-0.2, -0.1, 10))))
    assert stats.components[near.name].flat and stats.dominant == "action_cost"
    child, notes = designer.mutate(Genome([near, cost]), stats, np.random.default_rng(0))
    scaled = next(t for t in child.terms if t.kind == "distance")
    assert scaled.scale == pytest.approx(0.03)
    assert any("dominated" in n for n in notes) and any("flat" in n for n in notes)


def test_reflection_lists_every_component_the_task_numbers_and_the_tips() -> None:
    stats = TrainingStats.from_curve(curve({"near": list(np.linspace(0, 1, 20))}, list(np.linspace(-1, 0, 20))))
    text = reflection_text(stats, {"episodes": 5, "fitness_mean": -0.1, "success_rate": 0.5, "component/near": 3.0})
    assert text.count("Max:") == 4 and "near: [" in text and "task_score: [" in text
    assert "at 10 points over training" in text and "deterministic policy (its mean action)" in text
    assert "Final evaluation (deterministic policy, 5 episodes)" in text and "near 3" in text
    assert "improved" in text and "rewrite" not in text, "the score improved: no advice to start over"
    assert len(stats.fitness) == 10
    stuck = TrainingStats.from_curve(curve({"near": list(np.linspace(0, 1, 20))}, [-1.0] * 20))
    assert "rewrite it around the quantity the task is scored on" in reflection_text(stuck)
    assert "stayed nearly constant" not in reflection_text(stuck) and "dominates" not in reflection_text(stats)


def test_reward_climbing_while_fitness_falls_is_flagged_as_hacking() -> None:
    hacked = TrainingStats.from_curve(curve({"bonus": [1.0] * 12}, list(np.linspace(0, -1, 12)),
                                            list(np.linspace(0, 100, 12))))
    honest = TrainingStats.from_curve(curve({"bonus": [1.0] * 12}, list(np.linspace(-1, 0, 12)),
                                            list(np.linspace(0, 100, 12))))
    assert hacked.reward_hacking and "REWARD HACKING" in reflection_text(hacked)
    assert not honest.reward_hacking and honest.reward_fitness_correlation == pytest.approx(1.0)


def test_the_human_reward_can_be_the_base_of_a_genome(designers) -> None:
    designer = designers["reacher"]
    base = resolve_reward("human", designer.task).source
    source = Genome([Term("action_cost", weight=0.1)], base=base).render(designer.task)
    checked = dry_run(RewardProgram(source, "based"), designer.world, designer.task)
    assert set(checked.components) == {"base", "action_cost"} and "def base_reward" in source


def test_a_forward_task_never_prefers_a_backward_velocity(designers) -> None:
    catalogue = designers["halfcheetah"].catalogue
    similarity = {p.term.name: p.similarity for p in catalogue}
    assert similarity["torso_speed_pos_x"] > similarity["torso_speed_neg_x"] + 0.3


def test_on_a_robot_from_its_mjcf_file_the_first_candidate_is_the_task_fitness_and_no_term_pairs_its_own_points(
        embedder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.worlds.test_mjcf import ARM, CRAWLER

    for name, text, task in (("arm", ARM, "reach"), ("crawler", CRAWLER, "move")):
        path = tmp_path / f"{name}.xml"
        path.write_text(text)
        world = get_world(f"mjcf:{path}")
        designer = OfflineRewardDesigner(world, world.task(task), embedder, seed=0)
        best = max(designer.catalogue, key=lambda p: p.similarity)
        assert best.term.kind == "fitness"
        robot_points = {f.name for f in world.state_fields if f.on_robot}
        assert not [p.term.name for p in designer.catalogue
                    if p.term.kind == "distance" and set(p.term.fields) <= robot_points]
        first = designer.fresh_genome(designer.rng(0, 0), first=True)
        assert first.terms[0].name == "task_fitness"
        source = first.render(designer.task)
        check_program(source, REWARD_RULES)
        dry_run(RewardProgram(source, "first"), world, designer.task)
