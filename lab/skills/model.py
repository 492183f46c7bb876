"""What a skill is: a named, versioned, verified program (code) or trained policy, with where it came from."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lab.errors import LabError
from lab.sandbox import ProgramRules

Kind = Literal["code", "policy"]
Status = Literal["approved", "pending", "removed"]
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

    @property
    def success_rate(self) -> float:
        return self.successes / max(len(self.seeds), 1)

    @property
    def passed(self) -> bool:
        return bool(self.seeds) and self.success_rate >= self.threshold


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
        skill = cls(**values)
        skill.verification = Verification(**verification) if verification else None
        return skill
