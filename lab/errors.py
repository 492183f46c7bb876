"""Errors a user can act on: each carries the offending value, the rule, and a hint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class LabError(Exception):
    """An error caused by input the user gave; the CLI prints it as one line plus a hint and exits 2."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UnknownNameError(LabError, KeyError):
    """A world, task, parameter or object name that does not exist; the message lists what does."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str | None = None) -> None:
        known_list = sorted(known)
        close = _close_matches(name, known_list)
        message = f"unknown {kind}: {name!r}; known: {', '.join(known_list) or '(none)'}"
        if close:
            message += f". Did you mean {close!r}?"
        super().__init__(message, hint)
        self.kind = kind
        self.name = name
        self.known = known_list

    def __str__(self) -> str:
        return LabError.__str__(self)


def _close_matches(name: str, known: list[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return matches[0] if matches else None


# The errors of a world's robot primitives. They live here, at the foundation, because the process a skill program
# runs in raises them again by name and must not import the worlds (mujoco, Gymnasium) to do so.
class RobotError(Exception):
    """A primitive failed; the message says why and, where it can, what would work."""


class OutOfReach(RobotError):
    """The target is outside the robot's workspace."""


class NothingToGrasp(RobotError):
    """The gripper closed and holds nothing."""


class Blocked(RobotError):
    """The robot was stopped short of its target by something in the way."""


class UnknownObject(RobotError):
    """A name that is not an object, zone or part of the world."""


class StepBudgetExceeded(RobotError):
    """The program used more simulation steps than it was allowed."""


CATCHABLE = (RobotError, OutOfReach, NothingToGrasp, Blocked, UnknownObject)
"""The primitives' errors a skill program may name in `except` (the step budget's is not among them)."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, which rule, and the detail."""

    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.detail}"


class ProgramError(LabError):
    """A program that broke the rules, failed its dry run or failed while running; `violations` says where."""

    def __init__(self, message: str, violations: tuple[Violation, ...] = (), hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.violations = violations

    def feedback(self) -> str:
        """The error as its writer should read it: what was wrong, where, and what to do."""
        lines = [self.message, *(f"  {v}" for v in self.violations)]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.feedback()
