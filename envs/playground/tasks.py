"""The playground's task families: a tech tree from reaching an object to sorting every cube.

Every check reads a batched state (leading axis = envs) and returns one value per env.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lab.worlds.core import Param, ParamValue, State, TaskFamily

from .constants import (
    BUTTON_PRESSED,
    CUBE_HALF,
    CUBES,
    DRAWER_INSIDE_HALF,
    DRAWER_RIM_Z,
    OBJECTS,
    REST_Z,
    ZONE_RADIUS,
    ZONES,
)

Params = Mapping[str, ParamValue]

REACH_TOLERANCE = 0.025
ON_TABLE = 0.006
"""How far (m) above its resting height an object may be and still count as on the table."""
IN_ZONE = ZONE_RADIUS - 0.01
RELEASED = 0.045
"""How far (m) the grip point must be from an object for the object to count as let go."""
STACKED_XY = 0.018
STACKED_Z = 0.006

OBJECT = Param("obj", "the object", choices=OBJECTS, default="cube_red")
CUBE_OBJECT = Param("obj", "the cube", choices=CUBES, default="cube_red")
ZONE = Param("zone", "the target zone", choices=ZONES, default="zone_blue")


def _xy_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a[:, :2] - b[:, :2], axis=-1)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1)


def _on_table(state: State, obj: str) -> np.ndarray:
    return state[f"{obj}_pos"][:, 2] <= REST_Z[obj] + ON_TABLE


def _released(state: State, obj: str) -> np.ndarray:
    return (_distance(state["gripper_pos"], state[f"{obj}_pos"]) >= RELEASED) & ~state[f"{obj}_grasped"].astype(bool)


def _reach_success(state: State, p: Params) -> np.ndarray:
    return _distance(state["gripper_pos"], state[f"{p['obj']}_pos"]) <= REACH_TOLERANCE


def _reach_fitness(state: State, p: Params) -> np.ndarray:
    return -_distance(state["gripper_pos"], state[f"{p['obj']}_pos"])


def _lift_height(state: State, p: Params) -> np.ndarray:
    return state[f"{p['obj']}_pos"][:, 2] - REST_Z[str(p["obj"])]


def _lift_success(state: State, p: Params) -> np.ndarray:
    return (_lift_height(state, p) >= float(p["height"])) & state[f"{p['obj']}_grasped"].astype(bool)


def _lift_fitness(state: State, p: Params) -> np.ndarray:
    return np.minimum(_lift_height(state, p), float(p["height"]))


def _zone_distance(state: State, p: Params) -> np.ndarray:
    return _xy_distance(state[f"{p['obj']}_pos"], state[f"{p['zone']}_pos"])


def _push_success(state: State, p: Params) -> np.ndarray:
    return (_zone_distance(state, p) <= IN_ZONE) & _on_table(state, str(p["obj"]))


def _place_success(state: State, p: Params) -> np.ndarray:
    return _push_success(state, p) & _released(state, str(p["obj"]))


def _zone_fitness(state: State, p: Params) -> np.ndarray:
    return -_zone_distance(state, p)


def _stack_error(state: State, top: str, bottom: str) -> tuple[np.ndarray, np.ndarray]:
    xy = _xy_distance(state[f"{top}_pos"], state[f"{bottom}_pos"])
    dz = np.abs(state[f"{top}_pos"][:, 2] - state[f"{bottom}_pos"][:, 2] - 2 * CUBE_HALF)
    return xy, dz


def _stack_success(state: State, p: Params) -> np.ndarray:
    xy, dz = _stack_error(state, str(p["a"]), str(p["b"]))
    return (xy <= STACKED_XY) & (dz <= STACKED_Z) & _on_table(state, str(p["b"])) & _released(state, str(p["a"]))


def _stack_fitness(state: State, p: Params) -> np.ndarray:
    xy, dz = _stack_error(state, str(p["a"]), str(p["b"]))
    return -(xy + dz)


def _different_cubes(p: Params) -> str | None:
    return None if p["a"] != p["b"] else f"a cube cannot be stacked on itself ({p['a']})"


def _tower_levels(state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per env, with the cubes sorted by height: the xy offset and the height error of each level on the one
    below ((n, 2) each), and how far the lowest cube is from resting on the table ((n,))."""
    positions = np.stack([state[f"{c}_pos"] for c in CUBES], axis=1)
    order = np.argsort(positions[:, :, 2], axis=1)
    ordered = np.take_along_axis(positions, order[:, :, None], axis=1)
    xy = np.linalg.norm(ordered[:, 1:, :2] - ordered[:, :-1, :2], axis=-1)
    dz = np.abs(ordered[:, 1:, 2] - ordered[:, :-1, 2] - 2 * CUBE_HALF)
    return xy, dz, np.abs(ordered[:, 0, 2] - CUBE_HALF)


def _tower_success(state: State, p: Params) -> np.ndarray:
    xy, dz, bottom = _tower_levels(state)
    grasped = np.stack([state[f"{c}_grasped"].astype(bool) for c in CUBES], axis=1).any(axis=1)
    return (xy <= STACKED_XY).all(axis=1) & (dz <= STACKED_Z).all(axis=1) & (bottom <= ON_TABLE) & ~grasped


def _tower_fitness(state: State, p: Params) -> np.ndarray:
    xy, dz, bottom = _tower_levels(state)
    return -(xy.sum(axis=1) + dz.sum(axis=1) + bottom)


def _drawer_success(state: State, p: Params) -> np.ndarray:
    return state["drawer_opening"] >= float(p["amount"])


def _drawer_fitness(state: State, p: Params) -> np.ndarray:
    return np.asarray(state["drawer_opening"], dtype=np.float64)


def _button_success(state: State, p: Params) -> np.ndarray:
    return state["button_depth"] >= BUTTON_PRESSED


def _button_fitness(state: State, p: Params) -> np.ndarray:
    return np.asarray(state["button_depth"], dtype=np.float64)


def _inside_offset(state: State, obj: str) -> np.ndarray:
    return np.abs(state[f"{obj}_pos"][:, :2] - state["drawer_inside_pos"][:, :2])


def _in_drawer_success(state: State, p: Params) -> np.ndarray:
    obj = str(p["obj"])
    inside = (_inside_offset(state, obj) <= DRAWER_INSIDE_HALF - CUBE_HALF + 0.005).all(axis=1)
    below_rim = state[f"{obj}_pos"][:, 2] <= DRAWER_RIM_Z
    return inside & below_rim & _released(state, obj)


def _in_drawer_fitness(state: State, p: Params) -> np.ndarray:
    return -_distance(state[f"{p['obj']}_pos"], state["drawer_inside_pos"] + [0.0, -0.04, 2 * CUBE_HALF])


def _sort_distances(state: State) -> np.ndarray:
    return np.stack([_xy_distance(state[f"{c}_pos"], state[f"zone_{c.split('_')[1]}_pos"]) for c in CUBES], axis=1)


def _sort_success(state: State, p: Params) -> np.ndarray:
    on_table = np.stack([_on_table(state, c) & _released(state, c) for c in CUBES], axis=1)
    return ((_sort_distances(state) <= IN_ZONE) & on_table).all(axis=1)


def _sort_fitness(state: State, p: Params) -> np.ndarray:
    return -_sort_distances(state).sum(axis=1)


FAMILIES: dict[str, TaskFamily] = {
    family.name: family
    for family in (
        TaskFamily("reach", "move the gripper to the {obj}", _reach_success, _reach_fitness,
                   "minus the distance (m) from the grip point to the object at the end", horizon=60,
                   params=(OBJECT,), fitness_over="final",
                   in_other_words=("approach a block or sphere and hover the end effector right beside it, getting "
                                   "within touching distance without closing the fingers, grasping, or moving the "
                                   "object")),
        TaskFamily("lift", "pick up the {obj} and hold it {height} m above the table", _lift_success, _lift_fitness,
                   "how high (m) the object is above its resting height at the end, capped at the goal",
                   horizon=100, params=(OBJECT, Param("height", "how high to lift (m)", default=0.08, low=0.01,
                                                      high=0.25)),
                   fitness_over="final", prerequisites=("reach",),
                   in_other_words=("grasp an item and raise it off the surface, keeping it suspended at a requested "
                                   "elevation instead of carrying it somewhere and setting it down")),
        TaskFamily("push", "push the {obj} into the {zone} along the table", _push_success, _zone_fitness,
                   "minus the distance (m) in the table plane from the object to the zone centre at the end",
                   horizon=150, params=(OBJECT, ZONE), fitness_over="final", prerequisites=("reach",),
                   in_other_words=("slide or nudge an object across the tabletop into a marked target area using "
                                   "contact only, without ever grasping or lifting it")),
        TaskFamily("place", "pick up the {obj} and put it down in the {zone}", _place_success, _zone_fitness,
                   "minus the distance (m) in the table plane from the object to the zone centre at the end",
                   horizon=150, params=(OBJECT, ZONE), fitness_over="final", prerequisites=("lift",),
                   in_other_words=("pick and place: grab an item, carry it through the air, then release it and leave "
                                   "it resting inside a marked target region on the table")),
        TaskFamily("stack", "put the {a} on top of the {b}", _stack_success, _stack_fitness,
                   "minus the misalignment (m) of the top cube from resting on the bottom one at the end",
                   horizon=200, params=(Param("a", "the cube to put on top", choices=CUBES, default="cube_red"),
                                        Param("b", "the cube underneath", choices=CUBES, default="cube_blue")),
                   fitness_over="final", prerequisites=("place",), check=_different_cubes,
                   in_other_words=("grasp one block and set it down balanced on top of another specific block, forming "
                                   "a two-level pile instead of dropping it in an area")),
        TaskFamily("tower", "stack all three cubes into one tower", _tower_success, _tower_fitness,
                   "minus the summed misalignment (m) of the three cubes from a tower at the end",
                   horizon=400, fitness_over="final", prerequisites=("stack",),
                   in_other_words=("build a three-high column by piling every block onto one another in sequence, a "
                                   "multi-step stacking job that uses all the cubes")),
        TaskFamily("open_drawer", "open the drawer at least {amount} m by pulling its handle", _drawer_success,
                   _drawer_fitness, "how far (m) the drawer is open at the end", horizon=120,
                   params=(Param("amount", "how far to open the drawer (m)", default=0.12, low=0.02, high=0.16),),
                   fitness_over="final", prerequisites=("reach",),
                   in_other_words=("grab the handle and slide the drawer outward until it is pulled open by at least a "
                                   "minimum distance, moving a hinged or sliding fixture rather than a loose object")),
        TaskFamily("press_button", "press the button down", _button_success, _button_fitness,
                   "deepest press (m) of the button during the episode", horizon=60,
                   success_when="any", fitness_over="max", prerequisites=("reach",),
                   in_other_words=("poke or push down on the fixed switch with the gripper to activate or trigger it, "
                                   "without picking up or moving any loose item")),
        TaskFamily("put_in_drawer", "put the {obj} inside the drawer", _in_drawer_success, _in_drawer_fitness,
                   "minus the distance (m) from the cube to the middle of the open part of the drawer at the end",
                   horizon=300, params=(CUBE_OBJECT,), fitness_over="final",
                   prerequisites=("open_drawer", "place"),
                   in_other_words=("pick up a block and drop it into the already opened drawer compartment, storing it "
                                   "inside the cabinet rather than leaving it on the table")),
        TaskFamily("sort", "put each cube in the zone of its own colour", _sort_success, _sort_fitness,
                   "minus the summed distance (m) in the table plane from each cube to its zone at the end",
                   horizon=450, fitness_over="final", prerequisites=("place",),
                   in_other_words=("organize the blocks by moving each one onto the marked region that matches its "
                                   "colour, a multi-object pick-and-place task that groups items by colour")),
    )
}
