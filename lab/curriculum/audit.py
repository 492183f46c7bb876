"""What a curriculum session changed in the skill library, one line per version, with the command that undoes it.

A session's versions are the ones whose provenance names its run directory. For each name the session made
active, undoing means pinning the version that was active before the session (or removing the new name); a
candidate (it verified worse than the active version, so the active one stayed) can still be made active by a
person; a pending version waits for approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.skills.model import Skill
from lab.skills.store import SkillLibrary


@dataclass(frozen=True)
class LibraryChange:
    """One version a session added: what became of it, the evidence, and the command that acts on it."""

    ref: str
    change: str
    """made active, kept as a candidate, waiting for approval, added (since replaced), added (a pin holds)."""
    evidence: str
    """How it compared with the version active before it, when there was one."""
    command: str
    """The `lab skills` command that undoes it (or, for a waiting version, makes it active); empty when none is
    needed."""
    action: str
    """What `command` does, in a few words."""

    @property
    def line(self) -> str:
        """What became of it and the command, in one line (the evidence goes on a line of its own)."""
        return f"{self.ref} {self.change}" + (f"; {self.action}: `{self.command}`" if self.command else "")


def session_audit(library: SkillLibrary, run: Path) -> list[LibraryChange]:
    """Every version the session in the run directory `run` added to `library`, by name and version, with what
    became of it and how to undo it."""
    added = sorted((s for s in library.made_in(run) if s.status != "removed"), key=lambda s: (s.name, s.version))
    by_name: dict[str, list[Skill]] = {}
    for skill in added:
        by_name.setdefault(skill.name, []).append(skill)
    changes: list[LibraryChange] = []
    for name, versions in by_name.items():
        active = library.active_version(name)
        before = versions[0].compared.active if versions[0].compared is not None else ""
        everything = {s.version for s in library.versions(name)} == {s.version for s in versions}
        undo_new = f"lab skills rm {name}" if everything else ""
        changes += [_change(skill, active, before, undo_new) for skill in versions]
    return changes


def _change(skill: Skill, active: tuple[int, bool] | None, before: str, undo_new: str) -> LibraryChange:
    """What became of one added version, given its name's active version now, the one active before the session
    (empty for a name the session made) and how to undo a name the session made (removing all its versions)."""
    evidence = skill.compared.reason(skill.ref) if skill.compared is not None else ""
    if skill.status == "candidate":
        return LibraryChange(skill.ref, "kept as a candidate", evidence, f"lab skills approve {skill.ref}",
                             "make it active anyway")
    if skill.status == "pending":
        return LibraryChange(skill.ref, "waiting for approval", evidence, f"lab skills approve {skill.ref}",
                             "approve it")
    if active is not None and active[0] == skill.version:
        if before:
            return LibraryChange(skill.ref, f"made active, replacing {before}", evidence,
                                 f"lab skills pin {before}", "undo (pins it: pin a newer one later to move on)")
        return LibraryChange(skill.ref, "added and made active (a new skill)", evidence,
                             undo_new or f"lab skills rm {skill.ref}", "undo")
    now = f"{skill.name}@{active[0]}" if active is not None else "none"
    pinned = active is not None and active[1]
    change = f"added, but {now} is pinned and stays active" if pinned else f"added, since replaced by {now}"
    return LibraryChange(skill.ref, change, evidence, f"lab skills rm {skill.ref}" if pinned else "",
                         "drop it" if pinned else "")
