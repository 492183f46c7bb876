"""The skill library: verified skills that persist, are found by meaning, and compose."""

from lab.embedding import DEFAULT_MODEL, Embedder, SentenceEmbedder
from lab.skills.model import Skill, Verification, parse_ref
from lab.skills.store import SearchHit, SkillLibrary

__all__ = ["DEFAULT_MODEL", "Embedder", "SearchHit", "SentenceEmbedder", "Skill", "SkillLibrary", "Verification",
           "parse_ref"]
