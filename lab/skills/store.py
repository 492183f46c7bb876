"""The skill library: SQLite (WAL) as the one source of truth for skills, versions and embeddings.

Adding a skill under an existing name makes a new version; nothing is overwritten. Each name has one active
version (the newest approved one, unless pinned); a new version that verified worse than the active one is stored
as a candidate, not made active, until a person approves or pins it. Policy artefacts are files beside the
database, written through a temporary name and renamed, before the row that names them is committed. The vector
index is derived from the stored embeddings and rebuilt when the embedding model or its dimension changes.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lab.embedding import DEFAULT_MODEL, Embedder, SentenceEmbedder
from lab.errors import LabError
from lab.runs import write_atomic
from lab.sandbox import ProgramError, check_program
from lab.skills.index import VectorIndex
from lab.skills.model import Kind, Skill, Status, check_name, skill_rules
from lab.worlds import get_world
from lab.worlds.reading import shared_words, spoken

SCHEMA_VERSION = 2
"""2: a version may be a candidate, and a skill's stored body may hold its comparison with the active version and
the tasks its verification was played on (a lab that reads schema 1 would fail on them, so it is told the library
is newer). A schema-1 library is read as it is and marked 2 when opened."""
INDEX_VERSION = "3"
"""What a skill's embedding is computed from (`Skill.search_text`, its task words and its family's other words); a
library indexed otherwise is embedded again on open."""
LEXICAL_WEIGHT = 0.15
"""How much the share of a request's words that a skill's text uses adds to its cosine score when ranking."""
DATABASE = "library.db"
ARTEFACTS = "artefacts"
EMBEDDING_MODEL_VARIABLE = "LAB_EMBEDDING_MODEL"
"""Names the embedding model a library opened without one uses: the packaged default, or a model folder on disk;
changing it rebuilds the library's embeddings and index on open."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skills (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, world TEXT NOT NULL, task TEXT NOT NULL,
    kind TEXT NOT NULL, description TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, verified INTEGER NOT NULL,
    created REAL NOT NULL, UNIQUE (name, version));
CREATE TABLE IF NOT EXISTS active (name TEXT PRIMARY KEY, version INTEGER NOT NULL, pinned INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS embeddings (skill_id INTEGER PRIMARY KEY REFERENCES skills(id), vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS skills_world ON skills (world, kind);
"""


@dataclass
class SearchHit:
    skill: Skill
    score: float


@dataclass(frozen=True)
class LibraryCheck:
    """What `SkillLibrary.check` found: SQLite's damage report, skill versions without an embedding (left or
    repaired), and artefacts that are missing."""

    damage: list[str]
    unembedded: list[str]
    repaired: list[str]
    missing_artefacts: list[str]

    @property
    def ok(self) -> bool:
        return not (self.damage or self.unembedded or self.missing_artefacts)


class SkillLibrary:
    """A skill library in a folder: `library.db` and `artefacts/`."""

    def __init__(self, folder: Path, embedder: Embedder | None = None, *, create: bool = True,
                 require_approval: bool | None = None) -> None:
        self.folder = folder
        self.embedder: Embedder = embedder or SentenceEmbedder(os.environ.get(EMBEDDING_MODEL_VARIABLE, DEFAULT_MODEL))
        path = folder / DATABASE
        if folder.exists() and not folder.is_dir():
            raise LabError(f"the skill library {folder} is a file; a library is a folder (library.db, artefacts/)",
                           hint="pass --library a folder, new or made by the lab")
        if not path.exists() and not create:
            raise LabError(f"no skill library at {folder}", hint="pass --library PATH of an existing library")
        folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            self._open(require_approval)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise LabError(f"the skill library {path} cannot be read: {error}",
                           hint="restore it from a `lab skills export`, or pass --library another folder") from None
        self._index: tuple[VectorIndex, list[int], np.ndarray, np.ndarray, np.ndarray] | None = None

    def _open(self, require_approval: bool | None = None) -> None:
        """Set the database up or upgrade it, once SQLite's quick check says it is whole (checked inside the
        first write transaction, so a process creating the library at the same moment is waited for)."""
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=60000")
        with self._write():
            verdict = self._db.execute("PRAGMA quick_check").fetchone()
            if verdict is None or verdict[0] != "ok":
                raise sqlite3.DatabaseError(f"SQLite's quick check found damage: {verdict[0] if verdict else '?'}")
            self._check_schema()
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            if require_approval is not None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('require_approval', ?)",
                                 ("1" if require_approval else "0",))

    # ----- plumbing
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so concurrent writers queue instead of failing."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _check_schema(self) -> None:
        exists = self._db.execute("SELECT name FROM sqlite_master WHERE name = 'meta'").fetchone()
        if not exists:
            return
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise LabError(f"the skill library at {self.folder} was written by a newer lab (schema {version}; this "
                           f"lab reads up to {SCHEMA_VERSION})", hint="upgrade the lab, or open another --library")
        if version < 1:
            raise LabError(f"{self.folder / DATABASE} is not a skill library this lab can read (no schema version)",
                           hint="export it with the lab that wrote it, then `lab skills import`")

    def meta(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    @property
    def require_approval(self) -> bool:
        return self.meta("require_approval", "0") == "1"

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SkillLibrary:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ----- reading
    def _row_skill(self, row: tuple[Any, ...]) -> Skill:
        skill = Skill.from_dict(json.loads(row[0]))
        skill.version, skill.status, skill.created = int(row[1]), row[2], float(row[3])
        return skill

    def get(self, name: str, version: int | None = None) -> Skill:
        """A version of a skill; by default its active one."""
        check_name(name)
        if version is None:
            active = self._db.execute("SELECT version FROM active WHERE name = ?", (name,)).fetchone()
            if active is None:
                waiting = self._db.execute(
                    "SELECT MAX(version), GROUP_CONCAT(DISTINCT status) FROM skills WHERE name = ? AND status IN "
                    "('pending', 'candidate')", (name,)).fetchone()
                if waiting[0] is not None:
                    kinds = " or ".join(sorted(str(waiting[1]).split(","), reverse=True))
                    raise LabError(f"skill {name!r} has only {kinds} versions (latest {name}@{waiting[0]})",
                                   hint=f"approve it with `lab skills approve {name}@{waiting[0]}`")
                raise LabError(f"no skill named {name!r} in {self.folder}",
                               hint="`lab skills list` shows the library; `lab skills search` finds by meaning")
            version = int(active[0])
        row = self._db.execute("SELECT body, version, status, created FROM skills WHERE name = ? AND version = ?",
                               (name, version)).fetchone()
        if row is None:
            raise LabError(f"skill {name!r} has no version {version}", hint=f"`lab skills show {name}` lists them")
        return self._row_skill(row)

    def versions(self, name: str) -> list[Skill]:
        rows = self._db.execute("SELECT body, version, status, created FROM skills WHERE name = ? ORDER BY version",
                                (check_name(name),)).fetchall()
        return [self._row_skill(r) for r in rows]

    def made_in(self, run: Path) -> list[Skill]:
        """Every version whose provenance names the run directory `run` (what a curriculum session added), oldest
        first, whatever its status."""
        rows = self._db.execute("SELECT body, version, status, created, json_extract(body, '$.provenance.run') "
                                "FROM skills WHERE json_extract(body, '$.provenance.run') IS NOT NULL ORDER BY id")
        where = run.resolve()
        return [self._row_skill(row[:4]) for row in rows if Path(str(row[4])).resolve() == where]

    def active_version(self, name: str) -> tuple[int, bool] | None:
        row = self._db.execute("SELECT version, pinned FROM active WHERE name = ?", (name,)).fetchone()
        return (int(row[0]), bool(row[1])) if row else None

    def skills(self, world: str | None = None, kind: Kind | None = None, verified_only: bool = False,
             include_pending: bool = False) -> list[Skill]:
        """The active version of every skill (and the versions that wait, pending or candidate, when asked),
        filtered, by name."""
        query = ("SELECT s.body, s.version, s.status, s.created FROM skills s JOIN active a ON a.name = s.name "
                 "AND a.version = s.version WHERE 1=1")
        if include_pending:
            query = ("SELECT s.body, s.version, s.status, s.created FROM skills s LEFT JOIN active a ON "
                     "a.name = s.name AND a.version = s.version "
                     "WHERE (a.name IS NOT NULL OR s.status IN ('pending', 'candidate'))")
        args: list[Any] = []
        if world:
            query += " AND s.world = ?"
            args.append(world)
        if kind:
            query += " AND s.kind = ?"
            args.append(kind)
        if verified_only:
            query += " AND s.verified = 1"
        rows = self._db.execute(query + " ORDER BY s.name, s.version", args).fetchall()
        return [self._row_skill(r) for r in rows]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM active").fetchone()[0])

    # ----- writing
    def add(self, skill: Skill, artefact: Path | None = None, embedding: np.ndarray | None = None, *,
            activate: bool = True) -> Skill:
        """Store `skill` as the next version of its name: pending when the library requires approval, else made
        active (unless its name is pinned), or, with `activate` False, kept as a candidate (it verified worse than
        the active version; `lab skills approve` makes it active)."""
        self._ensure_embedding_model()
        if embedding is None:
            embedding = self.embedder.encode([indexed_text(skill)])[0]
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vector.shape != (self.embedder.dim,):
            raise LabError(f"embedding of shape {vector.shape}; the library's model gives ({self.embedder.dim},)")
        with self._write() as db:
            latest = db.execute("SELECT MAX(version) FROM skills WHERE name = ?", (skill.name,)).fetchone()[0]
            skill.version = int(latest or 0) + 1
            skill.status = "pending" if self.require_approval else "approved" if activate else "candidate"
            skill.created = time.time()
            if artefact is not None:
                target = Path(ARTEFACTS) / skill.name / f"v{skill.version}" / artefact.name
                write_atomic(self.folder / target, artefact.read_bytes())
                skill.artefact = str(target)
            self._insert(db, skill, vector)
        self._index = None
        return skill

    def add_many(self, skills: list[Skill], embeddings: np.ndarray) -> None:
        """Store many new skills (no artefacts) in one transaction, each as the next version of its name; for
        imports and benchmarks, where one transaction per skill would dominate."""
        self._ensure_embedding_model()
        vectors = np.asarray(embeddings, dtype=np.float32).reshape(len(skills), self.embedder.dim)
        status: Status = "pending" if self.require_approval else "approved"
        with self._write() as db:
            latest: dict[str, int] = {}
            for skill, vector in zip(skills, vectors, strict=True):
                if skill.name not in latest:
                    found = db.execute("SELECT MAX(version) FROM skills WHERE name = ?", (skill.name,)).fetchone()[0]
                    latest[skill.name] = int(found or 0)
                latest[skill.name] += 1
                skill.version, skill.status, skill.created = latest[skill.name], status, time.time()
                self._insert(db, skill, vector)
        self._index = None

    def _insert(self, db: sqlite3.Connection, skill: Skill, vector: np.ndarray) -> None:
        """Write one numbered skill version and its embedding; activate it when approved."""
        body = {k: v for k, v in skill.to_dict().items() if k not in ("version", "status", "created")}
        cursor = db.execute(
            "INSERT INTO skills (name, version, world, task, kind, description, body, status, verified, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (skill.name, skill.version, skill.world, skill.task, skill.kind, skill.description, json.dumps(body),
             skill.status, int(skill.verified), skill.created))
        db.execute("INSERT INTO embeddings VALUES (?, ?)", (cursor.lastrowid, vector.tobytes()))
        if skill.status == "approved":
            self._activate(db, skill.name, skill.version)

    def _activate(self, db: sqlite3.Connection, name: str, version: int) -> None:
        current = db.execute("SELECT pinned FROM active WHERE name = ?", (name,)).fetchone()
        if current is None or not current[0]:
            db.execute("INSERT OR REPLACE INTO active VALUES (?, ?, 0)", (name, version))

    def approve(self, name: str, version: int) -> Skill:
        """Make a waiting version approved: a pending one becomes active when it is newer than the active one, a
        candidate becomes active whatever it verified (a person chose it over the gate); a pinned name keeps its
        pinned version."""
        skill = self.get(name, version)
        if skill.status == "approved":
            raise LabError(f"{skill.ref} is already approved",
                           hint=f"`lab skills pin {skill.ref}` makes it the active version")
        if skill.status == "removed":
            raise LabError(f"{skill.ref} was removed", hint=f"`lab skills show {name}` lists its versions")
        with self._write() as db:
            db.execute("UPDATE skills SET status = 'approved' WHERE name = ? AND version = ?", (name, version))
            latest = db.execute("SELECT version FROM active WHERE name = ?", (name,)).fetchone()
            if skill.status == "candidate" or latest is None or int(latest[0]) < version:
                self._activate(db, name, version)
        self._index = None
        return self.get(name, version)

    def pin(self, name: str, version: int) -> Skill:
        """Make `version` the active one and keep it so until pinned again (rolls a skill back, or makes a
        candidate active, approving it)."""
        skill = self.get(name, version)
        if skill.status not in ("approved", "candidate"):
            raise LabError(f"{skill.ref} is {skill.status}; only an approved version or a candidate can be pinned",
                           hint=f"approve it first: `lab skills approve {skill.ref}`" if skill.status == "pending"
                           else f"`lab skills show {name}` lists its versions")
        with self._write() as db:
            db.execute("UPDATE skills SET status = 'approved' WHERE name = ? AND version = ?", (name, version))
            db.execute("INSERT OR REPLACE INTO active VALUES (?, ?, 1)", (name, version))
        self._index = None
        return self.get(name, version)

    def remove(self, name: str, version: int | None = None) -> list[str]:
        """Mark one version (or every version) removed; the rows stay as history. When the active version goes,
        the newest approved one left becomes active; removing another version (a candidate) leaves the active one,
        and its pin, as they are. Returns the refs removed."""
        targets = [self.get(name, version)] if version is not None else self.versions(name)
        targets = [s for s in targets if s.status != "removed"]
        if not targets:
            raise LabError(f"nothing to remove for {name}{'' if version is None else f'@{version}'}")
        active = self.active_version(name)
        with self._write() as db:
            for skill in targets:
                db.execute("UPDATE skills SET status = 'removed' WHERE name = ? AND version = ?",
                           (skill.name, skill.version))
            if active is None or active[0] in {skill.version for skill in targets}:
                remaining = db.execute("SELECT MAX(version) FROM skills WHERE name = ? AND status = 'approved'",
                                       (name,)).fetchone()[0]
                db.execute("DELETE FROM active WHERE name = ?", (name,))
                if remaining is not None:
                    db.execute("INSERT INTO active VALUES (?, ?, 0)", (name, int(remaining)))
        self._index = None
        return [s.ref for s in targets]

    # ----- embeddings and search
    def _ensure_embedding_model(self) -> None:
        """Record the embedding model on first use; when it or its dimension changed, re-embed every skill. The
        check, the reading and the rewriting are one write transaction, so a process adding skills at the same
        moment is waited for and its embeddings are not lost."""
        model, dim = self.embedder.name, str(self.embedder.dim)
        if self._indexed_as(model, dim):
            return
        with self._write() as db:
            if self._indexed_as(model, dim):
                return
            rows = db.execute("SELECT id, body FROM skills").fetchall()
            db.execute("DELETE FROM embeddings")
            self._embed(db, rows)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('embedding_model', ?)", (model,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('embedding_dim', ?)", (dim,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('index_version', ?)", (INDEX_VERSION,))
        self._index = None

    def _indexed_as(self, model: str, dim: str) -> bool:
        return (self.meta("embedding_model"), self.meta("embedding_dim"), self.meta("index_version")) == (
            model, dim, INDEX_VERSION)

    def _embed(self, db: sqlite3.Connection, rows: list[tuple[int, str]]) -> None:
        """Embed the skills of `rows` (id, body) with the library's model and store their vectors."""
        texts = [indexed_text(Skill.from_dict(json.loads(body))) for _, body in rows]
        vectors = self.embedder.encode(texts) if texts else np.zeros((0, self.embedder.dim), dtype=np.float32)
        db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?)",
                       [(row[0], np.asarray(vector, dtype=np.float32).tobytes())
                        for row, vector in zip(rows, vectors, strict=True)])

    def check(self, repair: bool = False) -> LibraryCheck:
        """What is wrong with the library: SQLite's full integrity check, skill versions without an embedding
        (never found by search or retrieval), artefacts a skill names that are missing. With `repair`, embed the
        skills that lack one (the only damage the library can mend itself)."""
        verdict = [row[0] for row in self._db.execute("PRAGMA integrity_check").fetchall()]
        damage = [] if verdict == ["ok"] else verdict
        unembedded_query = ("SELECT s.id, s.body, s.name, s.version FROM skills s "
                            "LEFT JOIN embeddings e ON e.skill_id = s.id WHERE e.skill_id IS NULL")
        unembedded = self._db.execute(unembedded_query).fetchall()
        repaired: list[str] = []
        if repair and unembedded:
            self._ensure_embedding_model()
            with self._write() as db:
                rows = db.execute(unembedded_query).fetchall()
                self._embed(db, [(row[0], row[1]) for row in rows])
                repaired = [f"{row[2]}@{row[3]}" for row in rows]
            self._index = None
            unembedded = []
        missing = [f"{skill.ref}: {skill.artefact}" for skill in self._every_version()
                   if skill.artefact and not (self.folder / skill.artefact).exists()]
        return LibraryCheck(damage, [f"{row[2]}@{row[3]}" for row in unembedded], repaired, missing)

    def _every_version(self) -> list[Skill]:
        return [self._row_skill(row) for row in self._db.execute(
            "SELECT body, version, status, created FROM skills ORDER BY id")]

    def _load_index(self) -> tuple[VectorIndex, list[int], np.ndarray, np.ndarray, np.ndarray]:
        """The derived index: vectors of active skills with their ids, worlds, kinds and verified flags."""
        if self._index is None:
            self._ensure_embedding_model()
            query = ("FROM skills s JOIN active a ON a.name = s.name AND a.version = s.version "
                     "JOIN embeddings e ON e.skill_id = s.id")
            count = int(self._db.execute(f"SELECT COUNT(*) {query}").fetchone()[0])
            dim = int(self.meta("embedding_dim"))
            matrix = np.empty((count, dim), dtype=np.float32)
            ids, worlds, kinds = np.empty(count, dtype=np.int64), [""] * count, [""] * count
            verified = np.zeros(count, dtype=bool)
            cursor = self._db.execute(f"SELECT s.id, s.world, s.kind, s.verified, e.vector {query} ORDER BY s.id")
            for row, (skill_id, world, kind, is_verified, vector) in enumerate(cursor):
                matrix[row] = np.frombuffer(vector, dtype=np.float32)
                ids[row], worlds[row], kinds[row], verified[row] = skill_id, world, kind, bool(is_verified)
            self._index = (VectorIndex(matrix), ids.tolist(), np.array(worlds), np.array(kinds), verified)
            del matrix
        return self._index

    def search_vector(self, query: np.ndarray, k: int = 5, world: str | None = None, kind: Kind | None = None,
                      verified_only: bool = False) -> list[tuple[int, float]]:
        """(skill row id, cosine score) of the k nearest active skills to a unit query vector, filtered."""
        index, ids, worlds, kinds, verified = self._load_index()
        if not ids:
            return []
        mask = None
        if world or kind or verified_only:
            mask = np.ones(len(ids), dtype=bool)
            if world:
                mask &= worlds == world
            if kind:
                mask &= kinds == kind
            if verified_only:
                mask &= verified
        return [(ids[position], score) for position, score in index.search(query, k, mask)]

    def search(self, query: str, k: int = 5, world: str | None = None, kind: Kind | None = None,
               verified_only: bool = False) -> list[SearchHit]:
        """The k active skills nearest in meaning to `query`, best first."""
        vector = self.embedder.encode([query])[0]
        hits = []
        for skill_id, score in self.search_vector(vector, max(k * 4, 20), world, kind, verified_only):
            row = self._db.execute("SELECT body, version, status, created FROM skills WHERE id = ?",
                                   (skill_id,)).fetchone()
            skill = self._row_skill(row)
            hits.append(SearchHit(skill, score + LEXICAL_WEIGHT * shared_words(indexed_text(skill), query)))
        return sorted(hits, key=lambda hit: -hit.score)[:k]

    # ----- moving libraries
    def export(self, folder: Path) -> int:
        """Write every version (with artefacts) as JSON files a library can import; returns the count."""
        folder.mkdir(parents=True, exist_ok=True)
        count = 0
        for (name,) in self._db.execute("SELECT DISTINCT name FROM skills ORDER BY name").fetchall():
            for skill in self.versions(name):
                target = folder / skill.name / f"v{skill.version}"
                if skill.artefact:
                    source = self.folder / skill.artefact
                    write_atomic(target / Path(skill.artefact).name, source.read_bytes())
                write_atomic(target / "skill.json", json.dumps(skill.to_dict(), indent=2) + "\n")
                count += 1
        return count

    def import_from(self, folder: Path) -> list[str]:
        """Add every exported skill version found under `folder` (as new versions here); returns their refs.

        Every file is read and checked before anything is added, so a bad file adds nothing (and a retry adds
        nothing twice). Code skills are checked against the rules again, and an imported skill counts as
        unverified until `lab skills verify` passes here: its exporter's record (and its comparison with the
        exporter's active version) is kept in its provenance. An exported candidate stays a candidate when its name
        is active here."""
        files = sorted(folder.glob("*/*/skill.json"), key=lambda p: (p.parent.parent.name, p.parent.name))
        if not files:
            raise LabError(f"no exported skills under {folder}", hint="export with `lab skills export DIR`")
        checked = [entry for entry in (self._read_export(path) for path in files) if entry is not None]
        return [self.add(skill, artefact=artefact, activate=skill.status != "candidate"
                         or self.active_version(skill.name) is None).ref for skill, artefact in checked]

    @staticmethod
    def _read_export(path: Path) -> tuple[Skill, Path | None] | None:
        """One exported version, checked; None for a removed one; a LabError naming the file for a bad one."""
        if not re.fullmatch(r"v[0-9]+", path.parent.name):
            raise LabError(f"{path.parent} is not a version folder (v1, v2, ...)",
                           hint="import a folder written by `lab skills export`, unchanged")
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise TypeError(f"a skill is a JSON object, not {type(data).__name__}")
            if data.get("status") == "removed":
                return None
            skill = Skill.from_dict(data)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError, KeyError) as error:
            raise LabError(f"{path} is not an exported skill: {error}",
                           hint="import a folder written by `lab skills export`, unchanged") from None
        if skill.kind == "code":
            try:
                check_program(skill.source, skill_rules(skill.name))
            except ProgramError as error:
                raise LabError(f"{path}: the skill {skill.name} breaks the rules and is not imported: "
                               f"{error.violations[0] if error.violations else error.message}") from None
        artefact = path.parent / Path(skill.artefact).name if skill.artefact else None
        if artefact is not None and not artefact.is_file():
            raise LabError(f"{path}: its artefact {artefact.name} is missing")
        original = asdict(skill.verification) if skill.verification is not None else None
        skill.provenance = {**skill.provenance, "imported_from": str(path.parent), "imported_verification": original,
                            **({"imported_comparison": asdict(skill.compared)} if skill.compared else {})}
        skill.verification = skill.compared = None
        return skill, artefact


def indexed_text(skill: Skill) -> str:
    """A skill's text as the library indexes it: with its task in words (a task given in words keeps its words;
    a world's task is its description with the values spoken, "the red cube", and its family's other words)."""
    own_words = str(skill.provenance.get("task_text", ""))
    said, other = (own_words, "") if own_words else task_words(skill.world, skill.task)
    return skill.search_text(said, other)


@functools.lru_cache(maxsize=4096)
def task_words(world: str, task: str) -> tuple[str, str]:
    """A world's task in words and its family's other words, once per task (a search ranks every hit by them);
    empty for a world or task this lab does not have (an imported skill keeps its own words)."""
    try:
        bound = get_world(world).task(task)
    except LabError:
        return "", ""
    return spoken(bound), bound.family.in_other_words
