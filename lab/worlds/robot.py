"""Errors of robot primitives: each says in plain words why a primitive could not do what it was asked.

Skill programs call a world's robot API; when a call fails, the error's message is the feedback the program's
writer reads (as Voyager's primitives report "no block to mine" or "cannot reach").
"""

from __future__ import annotations


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
