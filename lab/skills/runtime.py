"""Running code skills: check them, resolve the library skills they call, run seeded episodes in a sandbox process.

A code skill is `def NAME(robot, **params)` over the world's robot API and other skills, called by name. It is
checked by the same rules as reward programs; the skills it calls come from the library (their active versions),
and a cycle of calls is refused. Episodes run in a locked-down process with a time limit per episode and the
robot's step budget; a failure comes back in plain words: the primitive's own message, or the exception with the
skill's line.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lab.errors import LabError
from lab.policy import POLICY, POLICY_EXPORT, NumpyPolicy, Policy, export_policy, load_policy
from lab.rewards.task_program import program_task
from lab.runs import CONFIG, Run
from lab.sandbox import ProgramError, check_program
from lab.sandbox.codec import encode
from lab.sandbox.process import MAX_REPLY_BYTES, WorkerProcess
from lab.skills.model import Comparison, Skill, Verification, check_name, skill_rules
from lab.skills.store import SkillLibrary
from lab.worlds import get_world
from lab.worlds.core import Task, World
from lab.worlds.registry import world_dirs
from lab.worlds.robot import PROGRAM_STEPS
from lab.worlds.written_tasks import task_spec


@dataclass(frozen=True)
class SkillSignature:
    """What a skill program declares: its parameters (name -> default, None when required) and the names it calls."""

    params: dict[str, Any]
    called: frozenset[str]
    docstring: str


def analyse(name: str, source: str) -> SkillSignature:
    """Check a skill program against the rules and read its signature."""
    tree = check_program(source, skill_rules(name))
    entry = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    args = entry.args.args[1:]
    defaults: list[Any] = [None] * (len(args) - len(entry.args.defaults))
    for node in entry.args.defaults:
        try:
            defaults.append(ast.literal_eval(node))
        except ValueError:
            raise ProgramError(f"skill {name}: parameter defaults must be literals (numbers, strings, tuples)",
                               hint=f"line {node.lineno}") from None
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    local = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return SkillSignature(dict(zip([a.arg for a in args], defaults, strict=True)), frozenset(called - local),
                          ast.get_docstring(entry) or "")


def policy_entry(skill: Skill, library: SkillLibrary) -> dict[str, str]:
    """What the sandbox needs to run a policy skill: its exported policy and the task it was trained for."""
    if not skill.artefact:
        raise LabError(f"policy skill {skill.ref} has no policy file in the library")
    return {"name": skill.name, "kind": "policy", "policy": str((library.folder / skill.artefact).resolve()),
            "task": skill.task}


def active_skills(library: SkillLibrary | None) -> dict[str, Skill]:
    """Every skill's active version, by name."""
    return {s.name: s for s in library.skills()} if library is not None else {}


def resolve_calls(name: str, source: str, library: SkillLibrary | None,
                  known: dict[str, Skill] | None = None) -> list[dict[str, str]]:
    """The skill and every library skill it calls, directly or not (code as source, policies as their files);
    refuses cycles. `known` is the library's active skills when the caller already read them."""
    entries: dict[str, dict[str, str]] = {name: {"name": name, "source": source}}
    known = known if known is not None else active_skills(library)

    def visit(current: str, text: str, path: tuple[str, ...]) -> None:
        for called in sorted(analyse(current, text).called & (set(known) | {name})):
            if called in path:
                cycle = " -> ".join((*path, called))
                raise LabError(f"skills call each other in a cycle: {cycle}",
                               hint="a skill may call other skills, never itself through them")
            if called in entries:
                continue
            assert library is not None
            skill = known[called]
            if skill.kind == "policy":
                entries[called] = policy_entry(skill, library)
                continue
            entries[called] = {"name": called, "source": skill.source}
            visit(called, skill.source, (*path, called))

    visit(name, source, (name,))
    return list(entries.values())


FRAME_BYTES = 640 * 480 * 3
"""One rendered frame (the renderer's default size, RGB)."""


def video_bytes(max_steps: int, every: int = 2) -> int:
    """The most an episode's frames can take: one every `every` steps, the first, and the settling steps'."""
    return (max_steps // every + 16) * FRAME_BYTES


@dataclass
class EpisodeResult:
    seed: int
    success: bool
    fitness: float
    steps: int
    error: str = ""
    frames: list[np.ndarray] = field(default_factory=list, repr=False)
    final_state: dict[str, Any] = field(default_factory=dict, repr=False)
    """The state at the episode's end (rounded), when asked for (a critic reads it)."""


def episode_result(seed: int, meta: dict[str, Any]) -> EpisodeResult:
    """An episode's result as the sandbox reported it, checked field by field (nothing it sends is trusted)."""
    try:
        state = meta.get("state", {})
        return EpisodeResult(seed, bool(meta["success"]), float(meta["fitness"]), int(meta["steps"]),
                             str(meta.get("error", ""))[:4000], final_state=dict(state) if state else {})
    except (KeyError, TypeError, ValueError) as error:
        raise ProgramError(f"the skill's sandbox sent an episode result that is not one ({type(error).__name__}: "
                           f"{str(error)[:200]})") from None


class SkillRunner:
    """A skill loaded in a sandbox process with a world env; `run(seed)` plays one seeded episode.

    A code skill is given as `name` + `source`; a policy skill as `policy` (its library entry), when the runner
    plays the policy itself (through the robot API where the world has one).
    """

    def __init__(self, world: World, task: Task, name: str, source: str = "", library: SkillLibrary | None = None,
                 params: dict[str, Any] | None = None, *, policy: Skill | None = None, max_steps: int = PROGRAM_STEPS,
                 render: bool = False, episode_seconds: float = 120.0, load_seconds: float = 60.0,
                 memory_mb: int = 1024) -> None:
        if policy is not None:
            if library is None:
                raise LabError("a policy skill runs from its library")
            declared = dict(policy.params)
            entries = [policy_entry(policy, library)]
        else:
            if world.robot_api_doc() is None:
                raise LabError(f"world {world.name!r} has no robot API, so it has no code skills",
                               hint="its skills are policies: train one with `lab train`, then `lab skills add RUN`")
            declared = analyse(name, source).params
            entries = resolve_calls(name, source, library)
        bound = {**{k: task.param_map[k] for k in declared if k in task.param_map}, **(params or {})}
        unknown = sorted(set(bound) - set(declared))
        if unknown:
            raise LabError(f"skill {name} has no parameter(s) {', '.join(unknown)}",
                           hint=f"its parameters: {', '.join(declared) or 'none'}")
        missing = [k for k, v in declared.items() if v is None and k not in bound]
        if missing:
            raise LabError(f"skill {name} needs parameter(s) {', '.join(missing)}",
                           hint='give them with --params \'{"obj": "cube_red"}\' or run it on a task that has them')
        self.params = bound
        self.episode_seconds = episode_seconds
        setup = {"world": world.name, "task": task.id, "task_program": task_spec(task), "entry": name,
                 "params": bound, "max_steps": max_steps,
                 "render": render, "memory_mb": memory_mb, "skills": entries,
                 "envs_path": [str(d.resolve()) for d in world_dirs()],
                 "mujoco_gl": os.environ.get("MUJOCO_GL", "egl") if render else ""}
        self._start = (f"skill {name}", "lab.skills.episode_worker", setup, load_seconds, memory_mb)
        self._program_process = world.robot_api_doc() is not None
        self._max_reply_bytes = MAX_REPLY_BYTES + (video_bytes(max_steps) if render else 0)
        self._worker = self._started()

    def _started(self) -> WorkerProcess:
        return WorkerProcess(*self._start, max_reply_bytes=self._max_reply_bytes,
                             program_process=self._program_process)

    @classmethod
    def for_skill(cls, world: World, task: Task, skill: Skill, library: SkillLibrary,
                  params: dict[str, Any] | None = None, **options: Any) -> SkillRunner:
        """A runner for a stored skill of either kind."""
        if skill.kind == "policy":
            return cls(world, task, skill.name, library=library, params=params, policy=skill, **options)
        return cls(world, task, skill.name, skill.source, library, params, **options)

    def run(self, seed: int) -> EpisodeResult:
        if not self._worker.alive:  # the last episode's program process died: both workers start again
            self._worker.close()
            self._worker = self._started()
        arrays, meta = self._worker.exchange(encode({}, {"seed": seed}), self.episode_seconds, f"episode {seed}")
        if meta.get("restart"):
            self._worker.close()
        if meta.get("status") != "ok":
            raise ProgramError(str(meta.get("error")))
        result = episode_result(seed, meta)
        result.frames = list(arrays["frames"]) if "frames" in arrays else []
        return result

    @property
    def alive(self) -> bool:
        return self._worker.alive

    def close(self) -> None:
        self._worker.close()

    def __enter__(self) -> SkillRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ProgramPlayer:
    """One sandbox process for a world and task that plays many programs, each sent with its episode: for searches
    that try hundreds of candidate skills, where a process per program would cost more than the episodes.

    Each program is checked and its library calls resolved here, then compiled inside the locked-down process; a
    program that fails to load, raises, or runs past its time is that episode's outcome (the process is started
    again when it had to be stopped).
    """

    def __init__(self, world: World, task: Task, library: SkillLibrary | None = None, *, max_steps: int = PROGRAM_STEPS,
                 episode_seconds: float = 60.0, load_seconds: float = 60.0, memory_mb: int = 1024) -> None:
        if world.robot_api_doc() is None:
            raise LabError(f"world {world.name!r} has no robot API, so it has no code skills")
        self.world, self.task, self.library = world, task, library
        self._known = active_skills(library)
        """The library as it is when the player starts: a search plays hundreds of programs against it."""
        self.episode_seconds, self.load_seconds, self.memory_mb = episode_seconds, load_seconds, memory_mb
        self._setup: dict[str, Any] = {
            "world": world.name, "task": task.id, "task_program": task_spec(task), "entry": None, "params": {},
            "max_steps": max_steps,
            "render": False, "memory_mb": memory_mb, "skills": [],
            "envs_path": [str(d.resolve()) for d in world_dirs()], "mujoco_gl": ""}
        self._worker: WorkerProcess | None = None
        self.episodes = 0

    def play(self, name: str, source: str, seed: int, params: dict[str, Any] | None = None, *,
             with_state: bool = False, task: Task | None = None) -> EpisodeResult:
        """One seeded episode of the program `name` (its parameters bound from the task, then `params`), with
        the final state when `with_state`; `task`, another of the world's own tasks, judges it instead of the
        player's task (and binds its parameters)."""
        judge = task or self.task
        try:
            declared = analyse(name, source).params
            entries = [e for e in resolve_calls(name, source, self.library, self._known) if "source" in e]
        except ProgramError as error:
            return EpisodeResult(seed, False, float("nan"), 0, error.feedback())
        except LabError as error:
            return EpisodeResult(seed, False, float("nan"), 0, error.message)
        bound = {**{k: judge.param_map[k] for k in declared if k in judge.param_map}, **(params or {})}
        missing = [k for k, v in declared.items() if v is None and k not in bound]
        if missing:
            return EpisodeResult(seed, False, float("nan"), 0, f"needs parameter(s) {', '.join(missing)}")
        if self._worker is None or not self._worker.alive:
            self._worker = WorkerProcess(f"skill search on {self.task.id}", "lab.skills.episode_worker",
                                         self._setup, self.load_seconds, self.memory_mb, program_process=True)
        self.episodes += 1
        request = {"seed": seed, "program": {"entry": name, "skills": entries, "params": bound}, "state": with_state,
                   **({"task": judge.id} if judge is not self.task else {})}
        try:
            _, meta = self._worker.exchange(encode({}, request), self.episode_seconds, f"episode {seed}")
        except ProgramError as error:
            return EpisodeResult(seed, False, float("nan"), 0, error.message)
        if meta.get("restart"):
            self._worker.close()
        if meta.get("status") != "ok":
            return EpisodeResult(seed, False, float("nan"), 0, str(meta.get("error")))
        try:
            return episode_result(seed, meta)
        except ProgramError as error:
            self._worker.close()
            return EpisodeResult(seed, False, float("nan"), 0, error.message)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def __enter__(self) -> ProgramPlayer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def verify(world: World, task: Task, name: str, source: str, library: SkillLibrary | None = None,
           seeds: list[int] | None = None, threshold: float = 0.8, params: dict[str, Any] | None = None,
           policy: Skill | None = None) -> tuple[Verification, list[EpisodeResult]]:
    """Run the skill (code, or `policy`) on each seed and judge it by its task's success check."""
    seeds = seeds if seeds is not None else list(range(10))
    results: list[EpisodeResult] = []
    with SkillRunner(world, task, name, source, library, params, policy=policy) as runner:
        for seed in seeds:
            try:
                results.append(runner.run(seed))
            except ProgramError as error:
                results.append(EpisodeResult(seed, False, float("nan"), 0, error.message))
                if not runner.alive:
                    break
    verification = Verification(world.version, task.id, seeds, sum(r.success for r in results), threshold,
                                tasks=[task.id])
    return verification, results


def skill_task(world: World, skill: Skill) -> Task:
    """The task a skill was made for: one of the world's, or a task given in words with the task program stored in
    the skill's provenance (checked again here)."""
    program = skill.provenance.get("task_program")
    if program:
        return program_task(world, str(skill.provenance.get("task_text", skill.task)), str(program),
                            int(skill.provenance.get("task_horizon", 0)) or None, name=skill.task).task
    return world.task(skill.task or None)


def verify_skill(world: World, task: Task, skill: Skill, library: SkillLibrary, seeds: list[int] | None = None,
                 threshold: float = 0.8) -> tuple[Verification, list[EpisodeResult]]:
    """Verify a stored skill of either kind."""
    policy = skill if skill.kind == "policy" else None
    return verify(world, task, skill.name, skill.source, library, seeds, threshold, policy=policy)


def verify_on(world: World, tasks: list[Task], skill: Skill, library: SkillLibrary, seeds: list[int],
              threshold: float = 0.8) -> tuple[Verification, list[EpisodeResult]]:
    """Verify a stored skill of either kind with its seeds played on `tasks` in turn (seed i on
    tasks[i % len(tasks)], as a curriculum verifies over a family's bindings), one `verify` per task."""
    played: dict[int, EpisodeResult] = {}
    for offset, task in enumerate(tasks):
        indices = list(range(offset, len(seeds), len(tasks)))
        if indices:
            _, results = verify_skill(world, task, skill, library, [seeds[i] for i in indices], threshold)
            played.update(zip(indices, results, strict=False))
    results = [played[i] for i in sorted(played)]
    verification = Verification(world.version, tasks[0].id, seeds, sum(r.success for r in results), threshold,
                                tasks=[t.id for t in tasks])
    return verification, results


def compare_with_active(library: SkillLibrary, world: World, tasks: list[Task], name: str,
                        verification: Verification) -> Comparison | None:
    """The active version of `name` against a new version's `verification`: the active one verified on the same
    seeds and tasks (`tasks`, in turn over the seeds; its stored verification when that was the same trial on the
    same world version). None when the name has no active version in this world (nothing to compare with); an
    active version that cannot run on the task counts as no success, with the reason."""
    if library.active_version(name) is None:
        return None
    active = library.get(name)
    if active.world != world.name:
        return None
    task = tasks[0].id if len(tasks) == 1 else f"{tasks[0].id} and {len(tasks) - 1} other binding(s)"
    comparison = Comparison(active.ref, 0, verification.successes, list(verification.seeds), task)
    if active.verification is not None and active.verification.same_trial(verification):
        comparison.active_successes, comparison.reused = active.verification.successes, True
        return comparison
    try:
        checked, _ = verify_on(world, tasks, active, library, list(verification.seeds), verification.threshold)
    except LabError as error:
        comparison.error = error.message
        return comparison
    comparison.active_successes = checked.successes
    return comparison


def add_gated(library: SkillLibrary, world: World, tasks: list[Task], skill: Skill,
              artefact: Path | None = None) -> Skill:
    """Store a verified skill as the next version of its name, active only when it verified at least as well as
    the active version on the same seeds and tasks; otherwise it is stored as a candidate (approve or pin it to
    make it active). A pinned version stays active either way; a library that requires approval keeps it pending
    (with the comparison, for the person who approves). `skill.compared` records the comparison."""
    assert skill.verification is not None, "only a verified skill goes through the gate"
    skill.compared = compare_with_active(library, world, tasks, skill.name, skill.verification)
    activate = skill.compared is None or skill.compared.at_least_as_good
    return library.add(skill, artefact=artefact, activate=activate)


@dataclass
class AddOutcome:
    """What `add_code_skill` did: the stored skill, or why it was not stored, with every episode's result; when
    the new version verified worse than the active one, the active version it kept and why."""

    verification: Verification
    results: list[EpisodeResult]
    skill: Skill | None = None
    kept_active: Skill | None = None
    """The active version that stays active because the new one (a candidate) verified worse."""
    reason: str = ""
    """One line: how the new version compared with the active one, and what became of it."""

    @property
    def stored(self) -> bool:
        return self.skill is not None

    def stored_as(self, skill: Skill, library: SkillLibrary) -> None:
        """Record the stored version, the active version it was kept behind (a candidate), and why."""
        self.skill = skill
        if skill.compared is None:
            return
        why = skill.compared.reason(skill.ref)
        if skill.status == "candidate":
            self.kept_active = library.get(skill.name)
            self.reason = f"{why}: {skill.ref} is kept as a candidate and {self.kept_active.ref} stays active"
        elif skill.status == "pending":
            self.reason = f"{why}: {skill.ref} waits for approval"
        else:
            active = library.active_version(skill.name)
            pinned = active is not None and active[0] != skill.version
            self.reason = f"{why}: " + (f"{skill.name}@{active[0]} is pinned and stays active" if pinned and active
                                        else f"{skill.ref} is active")


def add_code_skill(library: SkillLibrary, world: World, task: Task, name: str, source: str, *,
                   description: str = "", seeds: list[int] | None = None, threshold: float = 0.8,
                   provenance: dict[str, Any] | None = None) -> AddOutcome:
    """Verify a code skill on its task and store it only when it passes, as the next version of its name: active
    only when it verified at least as well as the active version on the same seeds (`add_gated`)."""
    check_name(name)
    signature = analyse(name, source)
    description = description or signature.docstring.split("\n\n")[0].strip()
    if not description:
        raise LabError(f"skill {name} has no description",
                       hint="give it a docstring, or pass --description 'what it does'")
    verification, results = verify(world, task, name, source, library, seeds, threshold)
    outcome = AddOutcome(verification, results)
    if verification.passed:
        known = {s.name for s in library.skills()}
        skill = Skill(name=name, description=description, kind="code", world=world.name, task=task.id,
                      params=signature.params, calls=sorted(signature.called & known), source=source,
                      provenance=provenance or {"writer": "human"}, verification=verification)
        outcome.stored_as(add_gated(library, world, [task], skill), library)
    return outcome


def policy_call(name: str, task: Task, algo: str) -> str:
    """How code skills call a policy skill (a policy skill's `source`)."""
    return (f"{name}(robot, max_steps={task.horizon}, until_success=True) -> bool\n"
            f"    Run the {algo.upper()} policy trained for {task.id} ({task.description})\n"
            "    for at most max_steps steps, stopping as soon as that task's success check holds; returns whether\n"
            "    it holds. With until_success, raises when it never held.\n")


def add_policy_skill(library: SkillLibrary, run_dir: Path, name: str, *, description: str = "",
                     seeds: list[int] | None = None, threshold: float = 0.8,
                     provenance: dict[str, Any] | None = None) -> AddOutcome:
    """Verify the policy trained in a run (`lab train`, reward search) on its task and store it as a policy skill
    (with the reward program that trained it) only when it passes; active only when it verified at least as well
    as the active version on the same seeds (`add_gated`)."""
    check_name(name)
    run = Run.open(run_dir, made_by="train")
    config = run.read_json(CONFIG)
    exported = run.file(POLICY_EXPORT)
    if not exported.is_file():
        if not run.file(POLICY).is_file():
            raise LabError(f"{run_dir} has no trained policy", hint="train one with `lab train`; a failed or "
                                                                     "stopped run has none (see its events.jsonl)")
        trained = load_policy(run, device="cpu")
        assert isinstance(trained, Policy), "the lab's PPO always writes its export"
        export_policy(trained.model, trained.obs_mean, trained.obs_var, trained.clip_obs,
                      trained.epsilon).save(exported)
    NumpyPolicy.load(exported)
    world = get_world(str(config["world"]))
    task = world.task(str(config["task"]))
    reward = run.file("reward.py")
    skill = Skill(name=name, description=description or f"{task.description} (a trained {config['algo']} policy)",
                  kind="policy", world=world.name, task=task.id,
                  params={"max_steps": task.horizon, "until_success": True},
                  source=policy_call(name, task, str(config["algo"])), artefact=str(exported.resolve()),
                  reward_program=reward.read_text() if reward.is_file() else "",
                  provenance=provenance or {"writer": "training", "run": str(run_dir), "algo": config["algo"],
                                            "steps": config.get("steps"), "reward": config.get("reward")})
    verification, results = verify(world, task, name, "", library, seeds, threshold, policy=skill)
    outcome = AddOutcome(verification, results)
    if verification.passed:
        skill.verification = verification
        skill.artefact = ""
        outcome.stored_as(add_gated(library, world, [task], skill, artefact=exported), library)
    return outcome
