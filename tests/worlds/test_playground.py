"""The playground: its checks, scripted solutions through the robot API, and primitives that explain failures."""

import numpy as np
import pytest

from lab.worlds import as_batch, get_world, read_state
from lab.worlds.checks import check_determinism, check_gymnasium_api, check_state_and_task, run_program
from lab.worlds.robot import Blocked, NothingToGrasp, OutOfReach, StepBudgetExceeded, UnknownObject

WORLD = get_world("playground")
SOLVED = ["reach", "lift", "place", "stack", "open_drawer", "press_button", "put_in_drawer"]
SEEDS = [0, 1, 2, 3]


@pytest.mark.parametrize("family", list(WORLD.task_families))
def test_every_playground_task_passes_the_world_checks(family):
    task = WORLD.task(family)
    for check in (check_gymnasium_api, check_determinism, check_state_and_task):
        result = check(WORLD, task)
        assert result.passed, f"{family} {result.check}: {result.detail}"


@pytest.mark.parametrize("family", SOLVED)
def test_scripted_solutions_solve_the_task_on_several_seeds(family):
    task = WORLD.task(family)
    solution = WORLD.reference_solutions()[family]
    for seed in SEEDS:
        succeeded, error = run_program(WORLD, task, seed, solution)
        assert succeeded, f"{task.id} seed {seed}: {error}"


@pytest.mark.parametrize("family", [*SOLVED, "push", "tower", "sort"])
def test_doing_nothing_fails_every_task(family):
    task = WORLD.task(family)
    succeeded, error = run_program(WORLD, task, 0, lambda robot, **_: robot.wait(20))
    assert not succeeded and error == ""


@pytest.mark.parametrize("spec", ["place(cube_green, zone_red)", "stack(cube_blue, cube_green)",
                                  "lift(ball, height=0.05)", "put_in_drawer(cube_blue)", "push(cube_green, zone_red)"])
def test_solutions_work_for_other_parameters(spec):
    task = WORLD.task(spec)
    solution = WORLD.reference_solutions()[task.family.name]
    wins = sum(run_program(WORLD, task, seed, solution)[0] for seed in SEEDS)
    assert wins >= 3, f"{task.id}: solved {wins}/{len(SEEDS)}"


def test_layouts_are_random_but_seeded():
    def layout(seed):
        env = WORLD.make_env("place", seed=seed)
        env.reset()
        state = read_state(env)
        return np.concatenate([state[k] for k in ("cube_red_pos", "ball_pos", "zone_blue_pos", "gripper_pos")])

    assert np.array_equal(layout(4), layout(4))
    assert not np.allclose(layout(4), layout(5))


def _robot(seed=0, **kwargs):
    env = WORLD.make_env("reach", seed=seed)
    env.reset()
    return env, WORLD.robot(env, **kwargs)


def test_move_out_of_reach_says_where_the_gripper_can_go():
    _, robot = _robot()
    with pytest.raises(OutOfReach, match=r"out of reach: the gripper point can go to x in \[-0.4, 0.4\]"):
        robot.move_to((0.0, 0.0, 0.9))
    with pytest.raises(OutOfReach, match="three numbers"):
        robot.move_to("up")


def test_closing_on_nothing_names_the_nearest_object():
    _, robot = _robot()
    with pytest.raises(NothingToGrasp, match=r"nothing to grasp: .*the nearest object, \w+, is [\d.]+ cm"):
        robot.close()
    assert robot.held() is None


def test_blocked_move_names_what_is_in_the_way():
    _, robot = _robot()
    cube = robot.position("cube_red")
    robot.move_to((cube[0], cube[1], 0.1))
    with pytest.raises(NothingToGrasp):
        robot.close()  # the closed fingers now come down on the cube's top
    with pytest.raises(Blocked, match=r"blocked: .* short of .*touching .*cube_red"):
        robot.move_to((cube[0], cube[1], 0.015))


def test_grasped_object_moves_with_the_gripper_and_is_reported_held():
    env, robot = _robot(seed=2)
    WORLD.reference_solutions()["lift"](robot, obj="cube_green", height=0.1)
    assert robot.held() == "cube_green"
    state = read_state(env)
    assert state["cube_green_grasped"] and state["cube_green_pos"][2] > 0.1
    robot.open()
    robot.wait(30)
    assert robot.held() is None and read_state(env)["cube_green_pos"][2] < 0.03


def test_unknown_names_and_step_budgets_are_clear():
    _, robot = _robot(max_steps=15)
    with pytest.raises(UnknownObject, match="cube_red"):
        robot.position("cube_purple")
    with pytest.raises(StepBudgetExceeded, match="15 simulation steps"):
        robot.move_to((0.3, 0.3, 0.3))


def test_rl_actions_move_the_gripper_and_fingers():
    env = WORLD.make_env("reach", seed=0)
    env.reset()
    start = read_state(env)
    for _ in range(10):
        _, reward, _, _, _ = env.step(np.array([1.0, 0.0, 0.0, -1.0], dtype=np.float32))
    end = read_state(env)
    assert end["gripper_pos"][0] - start["gripper_pos"][0] == pytest.approx(0.12, abs=0.01)
    assert end["finger_gap"] < 0.01 < start["finger_gap"]
    assert reward == 0.0
    assert WORLD.task("reach").fitness(as_batch(end)).shape == (1,)


def test_zones_are_simulated_and_drawn_where_the_state_says():
    env = WORLD.make_env("sort", seed=6)
    env.reset()
    env.step(np.zeros(4, dtype=np.float32))
    state = read_state(env)
    for zone in ("zone_red", "zone_green", "zone_blue"):
        np.testing.assert_allclose(env.unwrapped.data.body(zone).xpos[:2], state[f"{zone}_pos"][:2])
