"""Untrusted programs (LLM- or search-written): static rules, then a locked-down process with limits."""

from lab.errors import ProgramError, Violation
from lab.sandbox.process import Sandbox, SandboxLimits
from lab.sandbox.rules import ProgramRules, check_program

__all__ = ["ProgramError", "ProgramRules", "Sandbox", "SandboxLimits", "Violation", "check_program"]
