"""The response cache: every reply on disk in SQLite (WAL), keyed by model, messages and sampling parameters.

Re-running a run asks nothing twice. Only successful replies are stored; the request's text is kept beside the
reply (credentials redacted) so a cache can be inspected.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from lab.llm.types import Reply, Request, redact

SCHEMA_VERSION = 1


class ResponseCache:
    """A thread-safe SQLite cache of replies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT, request TEXT, "
                         "reply TEXT, created REAL)")
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        self._db.commit()

    def get(self, request: Request) -> Reply | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (request.key(),)).fetchone()
        if row is None:
            return None
        reply = Reply.from_dict(json.loads(row[0]))
        reply.cached, reply.cost_usd, reply.seconds = True, 0.0, 0.0
        return reply

    def put(self, request: Request, reply: Reply) -> None:
        stored = reply.to_dict() | {"cached": False}
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?)",
                             (request.key(), request.model, redact(json.dumps(request.to_dict())),
                              redact(json.dumps(stored)), time.time()))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
