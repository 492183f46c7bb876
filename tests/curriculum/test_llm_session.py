"""The whole loop with models behind the local OpenAI-compatible server: the curriculum proposes tasks (one of the
world's, one it writes a success check for), the writer writes skills from feedback, the critic's agreement with
the code check is recorded, and a resumed session knows the tasks it was given in words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lab.curriculum.llm_curriculum import task_name
from lab.curriculum.session import CurriculumConfig, Session
from lab.llm.config import LLMSettings
from lab.runs import Run
from lab.skills import SkillLibrary
from lab.skills.runtime import skill_task, verify_skill
from lab.worlds import get_world

HOVER = "hold the gripper just above the button"
HOVER_CHECK = '''```python
import numpy as np

def compute_success(state):
    offset = state["gripper_pos"] - state["button_pos"]
    return (np.linalg.norm(offset[:, :2], axis=-1) < 0.02) & (offset[:, 2] > 0.01) & (offset[:, 2] < 0.06)

def compute_fitness(state):
    # minus the distance (m) from a point 3 cm above the button
    return -np.linalg.norm(state["gripper_pos"] - state["button_pos"] - np.array([0.0, 0.0, 0.03]), axis=-1)
```'''
CHECK_WITH_A_BUG = "```python\ndef compute_success(state):\n    return open('/etc/passwd')\n```"


def skill_reply(name: str, fed_back: bool) -> str:
    if name == "reach":
        if not fed_back:
            return "```python\ndef reach(robot, obj):\n    robot.fly_to(obj)\n```"
        body = ("    robot.move_to(robot.position(obj) + np.array([0.0, 0.0, 0.08]))\n"
                "    robot.move_to(robot.position(obj))\n")
        return f"```python\nimport numpy as np\n\ndef reach(robot, obj):\n    \"\"\"Come down on it.\"\"\"\n{body}```"
    return (f'```python\nimport numpy as np\n\ndef {name}(robot):\n    """Hover over the button."""\n'
            '    robot.move_to(robot.position("button") + np.array([0.0, 0.0, 0.03]))\n```')


class Models:
    """Plays every role by reading which prompt it was sent."""

    def __init__(self) -> None:
        self.proposals = [HOVER, "move the gripper to the red cube"]
        self.checks_written = 0

    def __call__(self, request: dict[str, Any], index: int) -> str:
        system, user = request["messages"][0]["content"], request["messages"][-1]["content"]
        if system.startswith("You are the curriculum"):
            return json.dumps({"reasoning": "one step further", "task": self.proposals.pop(0)})
        if system.startswith("You turn a robot task"):
            self.checks_written += 1
            return CHECK_WITH_A_BUG if self.checks_written == 1 else HOVER_CHECK
        if system.startswith("You check a robot's work"):
            done = "stopped by an error" not in user
            return json.dumps({"reasoning": "read the states", "success": done,
                               "critique": "" if done else "use robot.move_to, the robot has no fly_to"})
        name = re.search(r"\(name it (\w+)\)", request["messages"][1]["content"]).group(1)
        fed_back = any("was run in simulation" in m["content"] for m in request["messages"])
        return skill_reply(name, fed_back)


def test_a_session_with_models_proposes_checks_writes_and_critiques(tmp_path: Path, embedder, model_server,
                                                                    monkeypatch, lab) -> None:
    models = Models()
    model_server.answer = models
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    llm = LLMSettings(model="openai/local", api_base=model_server.url, cache=False)
    config = CurriculumConfig.model_validate({"world": "playground", "budget": 2, "library": str(tmp_path / "lib"),
                                             "verify_seeds": 4, "llm": llm.model_dump()})
    run = Run.create("curriculum", "test", out=tmp_path / "run")
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        summary = Session(config, library).run(run)
        hover = task_name(HOVER, set())
        assert summary.skills_learned == [f"{hover}@1", "reach@1"]
        assert summary.tasks_mastered == sorted([hover, "reach(obj=cube_red)"])
        proposed = [e for e in run.events() if e["event"] == "proposed"]
        assert [e["task"] for e in proposed] == [hover, "reach(obj=cube_red)"]
        assert proposed[0]["program"] and proposed[1]["program"] is None
        prompts = [r["messages"] for r in model_server.requests]
        repair = next(m[-1]["content"] for m in prompts if m[0]["content"].startswith("You turn") and len(m) > 2)
        assert "open" in repair
        curriculum_prompt = next(m[-1]["content"] for m in prompts[1:] if m[0]["content"].startswith("You are"))
        assert HOVER in curriculum_prompt and hover in curriculum_prompt
        assert summary.critic_agreement is not None
        assert summary.critic_agreement.model_dump() == {"judged": 1, "agreed": 1, "rate": 1.0}
        critic_asked = [m for m in prompts if m[0]["content"].startswith("You check a robot's work")]
        assert len(critic_asked) == 1, "the critic is asked about the failure only, not the programs that passed"
        critique_sent = any("critique: use robot.move_to" in m[-1]["content"] for m in prompts)
        assert critique_sent

        stored = library.get(hover)
        assert stored.provenance["task_text"] == HOVER and "compute_success" in stored.provenance["task_program"]
        world = get_world("playground")
        verification, _ = verify_skill(world, skill_task(world, stored), stored, library, [7, 8])
        assert verification.passed

        from lab.report.html import write_report

        report = write_report(run.path).read_text()
        assert "Critic agreement with the code check" in report and "skill_writer" in report
        shown = lab("prompts", "show", "skill_writer", "--run", str(run.path))
        assert shown.returncode == 0 and f"(name it {hover})" in shown.stdout, shown.stderr
        resumed = Session(config.model_copy(update={"budget": 2}), library).take_up(Run.open(run.path))
        assert hover in resumed.curriculum.tasks and resumed.iterations == 2
        assert set(resumed.progress.mastered) == {hover, "reach(obj=cube_red)"}


def test_solve_with_models_plans_subgoals_and_writes_a_check_for_a_goal_outside_the_worlds_tasks(
        tmp_path: Path, embedder, model_server, monkeypatch) -> None:
    from lab.curriculum.session import solve
    from lab.llm.config import build_llms

    def answer(request: dict[str, Any], index: int) -> str:
        system = request["messages"][0]["content"]
        if system.startswith("You plan for a robot"):
            assert "goal: park the gripper over the button" in request["messages"][-1]["content"].lower()
            return json.dumps({"reasoning": "one step", "subgoals": [HOVER]})
        if system.startswith("You turn a robot task"):
            return HOVER_CHECK
        name = re.search(r"\(name it (\w+)\)", request["messages"][1]["content"]).group(1)
        return skill_reply(name, False)

    model_server.answer = answer
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    llms = build_llms(LLMSettings(model="openai/local", api_base=model_server.url, cache=False))
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        task, _, written = solve("playground", "park the gripper over the button", library, llms=llms)
        assert task.family.program is not None and task.description == "park the gripper over the button"
        assert written.found and written.verification.passed and len(library) == 0
