"""What a skill is: a named, versioned, verified program (code) or trained policy, with where it came from."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lab.errors import LabError
from lab.sandbox import ProgramRules

Kind = Literal["code", "policy"]
Status = Literal["approved", "pending", "candidate", "removed"]
"""approved: may be active (the newest approved one is, unless another is pinned); pending: waits for a person's
approval (a library that requires it); candidate: stored but not made active, because it verified worse than the
active version on the same seeds and task; removed: kept as history only."""
WAITING: tuple[Status, ...] = ("pending", "candidate")
"""The statuses of versions that wait for a person: `lab skills approve NAME@V` makes one active."""
NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise LabError(f"skill name {name!r} is not a valid name",
                       hint="use lower_snake_case, starting with a letter, at most 64 characters (e.g. pick_cube)")
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`NAME` or `NAME@VERSION` (VERSION a number, optionally written vN)."""
    name, _, version = ref.partition("@")
    if not version:
        return check_name(name), None
    try:
        return check_name(name), int(version.removeprefix("v"))
    except ValueError:
        raise LabError(f"cannot read the version in {ref!r}", hint="write NAME@3 or NAME@v3") from None


def skill_rules(name: str) -> ProgramRules:
    """The rules a code skill's program obeys: `def NAME(robot, ...)`, and the robot's `open` is allowed."""
    return ProgramRules(name, ("robot",), kind=f"skill program {name}", extra_params=True,
                        allowed_attributes=frozenset({"open"}))


@dataclass
class Verification:
    """How a skill was verified: on which world version, which seeds, and how often its task's check passed."""

    world_version: str
    task: str
    seeds: list[int]
    successes: int
    threshold: float
    tasks: list[str] | None = None
    """The tasks its seeds were played on, in turn (seed i on tasks[i % len(tasks)]): `[task]`, or the bindings of
    the task's family a curriculum verifies over. None in a verification that did not record them (stored before
    they were), which is never taken for another one made on the same seeds."""

    def same_trial(self, other: Verification) -> bool:
        """Whether `other` was played on the same world version, seeds and tasks, so their counts compare."""
        return (self.tasks is not None and (self.world_version, self.task, self.seeds, self.tasks)
                == (other.world_version, other.task, other.seeds, other.tasks))

    @property
    def success_rate(self) -> float:
        return self.successes / max(len(self.seeds), 1)

    @property
    def passed(self) -> bool:
        return bool(self.seeds) and self.success_rate >= self.threshold


def seed_span(seeds: list[int]) -> str:
    """Seeds in few words: `0-9`, or `1, 3, 5-7`."""
    runs: list[list[int]] = []
    for seed in seeds:
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


@dataclass
class Comparison:
    """A new version against the version that was active when it was added, both verified on the same seeds and
    task(s): the new one is made active only when it succeeded at least as often, so a worse rewrite never
    replaces a better skill (it is stored as a candidate instead)."""

    active: str
    """The active version then (NAME@V)."""
    active_successes: int
    successes: int
    """The new version's successes on the same seeds."""
    seeds: list[int]
    task: str
    reused: bool = False
    """The active version's stored verification was of the same trial, so it was not played again."""
    error: str = ""
    """Why the active version could not run on the new one's task (it counts as no success)."""

    @property
    def at_least_as_good(self) -> bool:
        return self.successes >= self.active_successes

    def reason(self, new: str) -> str:
        """One line: `pick@3 verified 3/10 on seeds 0-9 (task ...), active pick@2 verified 9/10 on the same seeds`."""
        count = len(self.seeds)
        active = f"active {self.active} verified {self.active_successes}/{count} on the same seeds"
        if self.error:
            active += f" (it could not run: {self.error})"
        return (f"{new} verified {self.successes}/{count} on seeds {seed_span(self.seeds)} (task {self.task}), "
                f"{active}")


@dataclass
class Skill:
    """One version of a skill."""

    name: str
    description: str
    kind: Kind
    world: str
    task: str = ""
    """The task spec the skill was made for and is verified on."""
    params: dict[str, Any] = field(default_factory=dict)
    """Parameter name -> its default (None when required)."""
    calls: list[str] = field(default_factory=list)
    """Names of the library skills it calls."""
    source: str = ""
    """A code skill's program; for a policy skill, how to run it."""
    artefact: str = ""
    """A policy skill's policy file, relative to the library folder."""
    reward_program: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    """Run, task, writer (human, llm, search), model."""
    verification: Verification | None = None
    compared: Comparison | None = None
    """How it compared with the version active when it was added (None when its name had no active version)."""
    version: int = 0
    status: Status = "approved"
    created: float = 0.0

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.kind not in ("code", "policy"):
            raise LabError(f"skill kind must be code or policy, not {self.kind!r}")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def waiting(self) -> bool:
        """Whether it waits for a person (pending approval, or a candidate kept from being active)."""
        return self.status in WAITING

    def why_waiting(self) -> str:
        """Why a waiting version is not active, in one line (empty for one that is not waiting)."""
        if self.status == "candidate":
            why = self.compared.reason(self.ref) if self.compared else "it verified worse than the active version"
            return f"kept as a candidate: {why}"
        if self.status == "pending":
            return "waiting for approval" + (f": {self.compared.reason(self.ref)}" if self.compared else "")
        return ""

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.passed

    def search_text(self, task_words: str = "", other_words: str = "") -> str:
        """What the embedding of a skill is computed from: its name and description, what its task asks in the
        words a user would use (`task_words`), the skills it calls, its task in other words (`other_words`, its
        family's `in_other_words`), its world and parameters."""
        params = ", ".join(self.params)
        does = f" It does: {task_words}." if task_words else ""
        calls = f" It calls {', '.join(self.calls)}." if self.calls else ""
        otherwise = f" In other words: {other_words}" if other_words else ""
        return f"{self.name.replace('_', ' ')}: {self.description}{does}{calls}{otherwise} (world {self.world}; " \
               f"task {self.task}; parameters {params or 'none'})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Skill:
        values = dict(data)
        verification = values.pop("verification", None)
        compared = values.pop("compared", None)
        skill = cls(**values)
        skill.verification = Verification(**verification) if verification else None
        skill.compared = Comparison(**compared) if compared else None
        return skill
