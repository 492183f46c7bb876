"""The skill library's store: versions, approval, pinning, search by meaning, re-indexing, crashes, concurrency."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lab.errors import LabError
from lab.skills import SentenceEmbedder, Skill, SkillLibrary, Verification


class ProjectedEmbedder:
    """MiniLM vectors projected onto their first `dim` axes and renormalised: a second, smaller real embedding
    model, used to see the library re-index when its model or dimension changes."""

    def __init__(self, base: SentenceEmbedder, dim: int) -> None:
        self.base = base
        self._dim = dim

    @property
    def name(self) -> str:
        return f"{self.base.name}-first{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.base.encode(texts)[:, : self._dim]
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)



def skill(name: str, description: str, world: str = "playground", kind: str = "code", verified: bool = True,
          source: str = "") -> Skill:
    verification = Verification("playground-v1+abc", name, list(range(10)), 10 if verified else 2, 0.8)
    return Skill(name=name, description=description, kind=kind, world=world, task=name,  # type: ignore[arg-type]
                 params={"obj": "cube_red"}, source=source or f"def {name}(robot, obj='cube_red'):\n    pass\n",
                 provenance={"writer": "human"}, verification=verification)


def test_a_name_added_again_becomes_a_new_version(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        first = library.add(skill("pick", "pick up an object"))
        second = library.add(skill("pick", "pick up an object, gripping lower", source="def pick(robot):\n    pass\n"))
        assert (first.version, second.version) == (1, 2)
        assert library.get("pick").version == 2 and library.get("pick", 1).source == first.source
        assert [s.version for s in library.versions("pick")] == [1, 2]
        assert len(library) == 1


def test_pin_rolls_back_and_holds(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        for text in ("v1", "v2"):
            library.add(skill("place", f"place an object {text}"))
        library.pin("place", 1)
        library.add(skill("place", "place an object v3"))
        assert library.get("place").version == 1
        assert library.active_version("place") == (1, True)
        library.pin("place", 3)
        assert library.get("place").version == 3


def test_approval_keeps_new_versions_pending(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder, require_approval=True) as library:
        library.add(skill("stack", "stack one cube on another"))
        with pytest.raises(LabError, match="only pending versions"):
            library.get("stack")
        assert library.skills() == [] and library.skills(include_pending=True)[0].status == "pending"
        library.approve("stack", 1)
        assert library.get("stack").status == "approved"
    with SkillLibrary(tmp_path, embedder) as reopened:
        assert reopened.require_approval


def test_remove_falls_back_to_the_previous_version(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        library.add(skill("push", "push an object along the table"))
        library.add(skill("push", "push an object, faster"))
        assert library.remove("push", 2) == ["push@2"]
        assert library.get("push").version == 1
        library.remove("push")
        with pytest.raises(LabError, match="no skill named 'push'"):
            library.get("push")
        assert [s.status for s in library.versions("push")] == ["removed", "removed"]


def test_search_by_meaning_with_filters(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        library.add(skill("pick", "grasp an object and lift it off the table"))
        library.add(skill("open_drawer", "pull the drawer open by its handle"))
        library.add(skill("press_button", "press the button down", verified=False))
        library.add(skill("walk_forward", "walk forward quickly", world="ant", kind="policy"))
        assert library.search("grab the cube and raise it", k=1)[0].skill.name == "pick"
        assert library.search("slide the drawer out", k=1)[0].skill.name == "open_drawer"
        assert [h.skill.name for h in library.search("run", k=5, world="ant")] == ["walk_forward"]
        assert "press_button" not in [h.skill.name for h in library.search("push the button", verified_only=True)]
        assert [h.skill.name for h in library.search("anything", kind="policy")] == ["walk_forward"]


def test_changing_the_embedding_model_rebuilds_the_index(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        library.add(skill("pick", "grasp an object and lift it off the table"))
        library.add(skill("open_drawer", "pull the drawer open by its handle"))
        assert library.meta("embedding_dim") == "384"
    smaller = ProjectedEmbedder(embedder, 128)
    with SkillLibrary(tmp_path, smaller) as library:
        assert library.search("drawer", k=1)[0].skill.name == "open_drawer"
        assert library.meta("embedding_dim") == "128" and library.meta("embedding_model").endswith("first128")
        blob = library._db.execute("SELECT vector FROM embeddings LIMIT 1").fetchone()[0]
        assert len(blob) == 128 * 4


def test_libraries_from_other_versions_fail_clearly(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path / "new", embedder):
        pass
    db = sqlite3.connect(tmp_path / "new" / "library.db")
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(LabError, match="written by a newer lab"):
        SkillLibrary(tmp_path / "new", embedder)
    (tmp_path / "other").mkdir()
    db = sqlite3.connect(tmp_path / "other" / "library.db")
    db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    db.commit()
    db.close()
    with pytest.raises(LabError, match="not a skill library"):
        SkillLibrary(tmp_path / "other", embedder)


def test_export_import_round_trip(tmp_path: Path, embedder) -> None:
    policy = tmp_path / "policy.zip"
    policy.write_bytes(b"policy bytes")
    with SkillLibrary(tmp_path / "a", embedder) as library:
        library.add(skill("pick", "pick up an object"))
        library.add(skill("walk", "walk forward", world="ant", kind="policy"), artefact=policy)
        assert library.export(tmp_path / "export") == 2
    with SkillLibrary(tmp_path / "b", embedder) as other:
        assert sorted(other.import_from(tmp_path / "export")) == ["pick@1", "walk@1"]
        walk = other.get("walk")
        assert (tmp_path / "b" / walk.artefact).read_bytes() == b"policy bytes"
        assert walk.provenance["imported_from"].endswith("v1")
        assert not walk.verified, "an imported skill counts only once verified here"
        assert walk.provenance["imported_verification"]["seeds"], "the exporter's record is kept"


@pytest.mark.parametrize(("damage", "message"), [
    ("version folder", "is not a version folder"),
    ("unknown field", "is not an exported skill: .*unexpected keyword argument 'bogus'"),
    ("invalid JSON", "is not an exported skill: Expecting"),
    ("a skill that imports os", "breaks the rules and is not imported: line 1: import"),
])
def test_a_bad_export_is_refused_whole_with_the_file_named(tmp_path: Path, embedder, damage: str,
                                                           message: str) -> None:
    with SkillLibrary(tmp_path / "a", embedder) as library:
        library.add(skill("pick", "pick up an object"))
        library.add(skill("reach", "reach an object"))
        library.export(tmp_path / "export")
    bad = tmp_path / "export" / "reach" / "v1" / "skill.json"
    data = json.loads(bad.read_text())
    if damage == "version folder":
        (tmp_path / "export" / "reach" / "v1").rename(tmp_path / "export" / "reach" / "latest")
    elif damage == "unknown field":
        bad.write_text(json.dumps({**data, "bogus": 1}))
    elif damage == "invalid JSON":
        bad.write_text(bad.read_text()[:-5])
    else:
        bad.write_text(json.dumps({**data, "source": "import os\ndef reach(robot):\n    os.system('id')\n"}))
    with SkillLibrary(tmp_path / "b", embedder) as other:
        with pytest.raises(LabError, match=message):
            other.import_from(tmp_path / "export")
        assert len(other) == 0, "nothing of a bad export is added, not even the good files before it"


WRITER = """
import sys, numpy as np
from pathlib import Path
from lab.skills import Skill, SkillLibrary, SentenceEmbedder
library = SkillLibrary(Path(sys.argv[1]), SentenceEmbedder())
vector = library.embedder.encode(["a skill"])[0]
for i in range(int(sys.argv[3])):
    library.add(Skill(name="shared", description=f"{sys.argv[2]} {i}", kind="code", world="playground",
                      source="def shared(robot):\\n    pass\\n"), embedding=vector)
    print(i, flush=True)
"""


def _writer(folder: Path, tag: str, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(folder), tag, str(count)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_processes_adding_at_once_are_safe(tmp_path: Path, embedder) -> None:
    writers = [_writer(tmp_path, tag, 15) for tag in ("a", "b")]
    for writer in writers:
        _, errors = writer.communicate(timeout=300)
        assert writer.returncode == 0, errors
    with SkillLibrary(tmp_path, embedder) as library:
        versions = library.versions("shared")
        assert [s.version for s in versions] == list(range(1, 31))
        assert sorted(s.description for s in versions) == sorted(f"{t} {i}" for t in "ab" for i in range(15))


def test_kill_9_in_the_middle_of_adding_loses_nothing_committed(tmp_path: Path, embedder) -> None:
    writer = _writer(tmp_path, "k", 100_000)
    assert writer.stdout is not None
    for _ in range(20):
        writer.stdout.readline()
    time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    db = sqlite3.connect(tmp_path / "library.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    with SkillLibrary(tmp_path, embedder) as library:
        versions = [s.version for s in library.versions("shared")]
        assert len(versions) >= 20 and versions == list(range(1, len(versions) + 1))
        assert library.get("shared").version == versions[-1]
        count = library._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        assert count == len(versions)
        assert library.add(skill("shared", "after the crash")).version == versions[-1] + 1
        json.dumps([s.to_dict() for s in library.versions("shared")])


class InterruptingEmbedder(ProjectedEmbedder):
    """A model whose first encoding lets another writer add a skill meanwhile (in a thread, waited for at most a
    second): the moment two first writers of a new embedding model met at, which used to lose the other's
    embeddings."""

    def __init__(self, base: SentenceEmbedder, dim: int, meanwhile: Any) -> None:
        super().__init__(base, dim)
        self.meanwhile = meanwhile
        self.thread: threading.Thread | None = None

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.thread is None:
            self.thread = threading.Thread(target=self.meanwhile)
            self.thread.start()
            self.thread.join(timeout=1.0)
        return super().encode(texts)


def test_two_first_writers_of_an_embedding_model_keep_every_embedding(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as old:
        old.add(skill("reach", "move the gripper to an object"))
    other = SkillLibrary(tmp_path, ProjectedEmbedder(embedder, 64))
    interrupted = InterruptingEmbedder(embedder, 64, lambda: other.add(skill("pick", "pick up an object")))
    with SkillLibrary(tmp_path, interrupted) as library:
        library.add(skill("press", "press the button"))
        assert interrupted.thread is not None
        interrupted.thread.join()
        found = library.check()
        assert found.ok and found.unembedded == []
        assert {hit.skill.name for hit in library.search("pick up an object", k=3)} == {"reach", "pick", "press"}
    other.close()


def test_check_finds_and_repairs_skills_without_an_embedding(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        library.add(skill("reach", "move the gripper to an object"))
        library.add(skill("pick", "pick up an object"))
        library._db.execute("DELETE FROM embeddings WHERE skill_id = 1")
        assert library.check().unembedded == ["reach@1"] and not library.check().ok
        assert "reach" not in {hit.skill.name for hit in library.search("move the gripper", k=2)}
        repaired = library.check(repair=True)
        assert repaired.ok and repaired.repaired == ["reach@1"]
        assert library.search("move the gripper to an object", k=1)[0].skill.name == "reach"


def test_a_skill_is_indexed_with_its_task_in_words_and_an_old_index_is_rebuilt(tmp_path: Path, embedder) -> None:
    from lab.skills.store import INDEX_VERSION, indexed_text

    pick = Skill(name="pick", description="grasp from above and raise to carrying height", kind="code",
                 world="playground", task="lift(obj=cube_red, height=0.08)", source="def pick(robot):\n    pass\n")
    assert "It does: pick up the red cube and hold it 0.08 m above the table" in indexed_text(pick)
    with SkillLibrary(tmp_path, embedder) as library:
        library.add(pick)
        library._db.execute("UPDATE meta SET value = '1' WHERE key = 'index_version'")
        library._db.execute("UPDATE embeddings SET vector = zeroblob(length(vector))")
    with SkillLibrary(tmp_path, embedder) as library:
        assert library.search("pick the cube up", k=1)[0].skill.name == "pick"
        assert library.meta("index_version") == INDEX_VERSION and library.check().ok
        vector = library._db.execute("SELECT vector FROM embeddings").fetchone()[0]
        assert np.abs(np.frombuffer(vector, dtype=np.float32)).sum() > 0, "embedded again"


def test_a_skill_is_indexed_with_its_familys_other_words_so_a_request_in_them_finds_it(tmp_path: Path,
                                                                                        embedder) -> None:
    from lab.skills.store import indexed_text

    def skill(name: str, task: str, description: str) -> Skill:
        return Skill(name=name, description=description, kind="code", world="playground", task=task,
                     source=f"def {name}(robot):\n    pass\n")

    skills = [skill("reach", "reach(obj=cube_red)", "Move the gripper to the <obj>"),
              skill("push", "push(obj=cube_red, zone=zone_blue)", "Push the <obj> into the <zone> along the table"),
              skill("place", "place(obj=cube_red, zone=zone_blue)", "Pick up the <obj> and put it down in the <zone>"),
              skill("lift", "lift(obj=cube_red, height=0.08)", "Pick up the <obj> and hold it <height> m above the "
                    "table")]
    assert "In other words: slide or nudge an object" in indexed_text(skills[1])
    with SkillLibrary(tmp_path, embedder) as library:
        for each in skills:
            library.add(each)
        assert library.search("slide the ball across the tabletop into the target area", k=1)[0].skill.name == "push"
        assert library.search("carry the cube through the air and release it", k=1)[0].skill.name == "place"
        assert library.search("grasp the ball and keep it suspended", k=1)[0].skill.name == "lift"
