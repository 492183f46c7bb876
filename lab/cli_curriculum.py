"""`lab curriculum`: a session that proposes tasks, writes and verifies skills, and stores them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lab.console import make_console
from lab.content import curriculum_file, shipped_curricula
from lab.errors import LabError

console = make_console()


def curriculum_command(
    curriculum: Annotated[str | None, typer.Argument(
        metavar="CURRICULUM", help="A curriculum file (world, budget, library, thresholds) or the name of a "
                                   "shipped one, e.g. playground.")] = None,
    budget: Annotated[int | None, typer.Option(help="Tasks to attempt (overrides the file).")] = None,
    library: Annotated[Path | None, typer.Option(help="Skill library folder (overrides the file).")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<time>-curriculum-...).")] = None,
    llm: Annotated[str | None, typer.Option(help="offline (default) or a model for every role: it proposes tasks, "
                                                 "writes their checks and skills, and critiques them")] = None,
    api_base: Annotated[str | None, typer.Option(help="Base URL of the model's server.")] = None,
    resume: Annotated[Path | None, typer.Option(help="Go on with a stopped session in this run directory.")] = None,
) -> None:
    """Run a curriculum session: propose a task, retrieve skills, write one, verify it, store it; repeat."""
    from lab.curriculum.session import CurriculumConfig, Session
    from lab.runs import Run
    from lab.settings import read_yaml_mapping, validated
    from lab.skills import SkillLibrary

    if resume is not None:
        run = Run.open(resume, made_by="curriculum")
        settings = validated(CurriculumConfig, run.read_json("config.json")["curriculum"], "curriculum")
        if budget is not None:
            settings.budget = budget
    else:
        if curriculum is None:
            raise LabError("lab curriculum needs a curriculum (or --resume RUN_DIR)",
                           hint=f"a YAML file, or one of: {', '.join(shipped_curricula())}")
        config = curriculum_file(curriculum)
        if config is None:
            raise LabError(f"no curriculum file or shipped curriculum named {curriculum!r}",
                           hint=f"give a YAML file, or one of: {', '.join(shipped_curricula())}")
        from lab.cli_llm import llm_settings

        values: dict[str, Any] = read_yaml_mapping(config)
        values.pop("llm", None)
        values.update({k: v for k, v in {"budget": budget, "library": library}.items() if v is not None})
        values["llm"] = llm_settings(llm, api_base, config_file=config).model_dump()
        settings = validated(CurriculumConfig, values, "curriculum", hint=f"see {config}")
        from lab.worlds import get_world

        get_world(settings.world)
        run = Run.create("curriculum", f"{settings.world}", out=out)
        run.write_json("config.json", {"command": "curriculum", "curriculum": settings.model_dump(mode="json")})
    console.print(f"run directory: {run.path}   library: {settings.library}")

    status = console.status("")

    def show(kind: str, info: dict[str, Any]) -> None:
        if kind == "task":
            console.rule(f"iteration {info['iteration']}: {info['task']}")
            if info["description"].replace(" ", "_") != info["task"]:
                console.print(f"  {info['description']}", highlight=False)
            status.update(f"writing a skill for {info['task']}")
            status.start()
        elif kind == "episode" and info["episodes"] % 20 == 0:
            status.update(f"writing a skill: {info['episodes']} candidate episodes played")
        elif kind == "attempted":
            status.stop()
            cost = f"; LLM cost ${info['cost_usd']:.4f}" if info.get("cost_usd") else ""
            if info["success"]:
                extra = f" calling {', '.join(info['calls'])}" if info.get("calls") else ""
                console.print(f"  [green]{info['skill']}[/] {info['how']}{extra}"
                              + (f" ({info['episodes']} episodes)" if info.get("episodes") else "")
                              + f", {info['seconds']:.1f} s; tasks mastered: {info['skills']}{cost}")
            else:
                console.print(f"  [red]failed[/]: {info['reason'][:200]}{cost}", highlight=False)
        elif kind == "exhausted":
            console.print("no task left to try now: every task is mastered or backing off")

    with SkillLibrary(settings.library) as opened:
        try:
            summary = Session(settings, run, opened, progress=show).run()
        finally:
            status.stop()
    spent = f", LLM cost ${summary['cost_usd']:.4f}" if summary["cost_usd"] else ""
    table = Table(title=f"session summary ({summary['iterations']} iterations, {summary['seconds']:.0f} s{spent})")
    for column in ("skills learned", "composed", "families", "failures"):
        table.add_column(column, overflow="fold")
    table.add_row(", ".join(summary["skills_learned"]) or "-", ", ".join(summary["composed"]) or "-",
                  ", ".join(summary["families_mastered"]) or "-",
                  "; ".join(f"{k} x{v}" for k, v in summary["failures_by_reason"].items()) or "-")
    console.print(table)
    agreement = summary["critic_agreement"]
    if agreement:
        console.print(f"critic agreed with the code check on {agreement['agreed']} of {agreement['judged']} "
                      f"episodes ({agreement['rate']:.0%})")


def solve_command(
    world: Annotated[str, typer.Argument(help="World name.")],
    goal: Annotated[str, typer.Argument(metavar="GOAL", help="What to do, in words.")],
    library: Annotated[Path, typer.Option(help="Skill library folder (frozen: nothing is stored).")] = Path(
        "skills"),
    video: Annotated[Path | None, typer.Option(help="Render one episode of the solution to this .mp4/.gif.")] = None,
    llm: Annotated[str | None, typer.Option(help="offline (default) or a model: it splits the goal into subgoals "
                                                 "and writes the program")] = None,
    api_base: Annotated[str | None, typer.Option(help="Base URL of the model's server.")] = None,
) -> None:
    """Reach a goal with the stored skills (zero-shot): split it into subgoals, read them as the world's tasks,
    compose stored skills for them, verify the composition in simulation. The library stays as it is."""
    from rich.syntax import Syntax

    from lab.cli_llm import llm_settings
    from lab.cli_skills import open_library
    from lab.curriculum.session import solve
    from lab.llm.config import build_llms
    from lab.worlds import get_world

    get_world(world)
    llms = build_llms(llm_settings(llm, api_base))
    with open_library(library) as opened, console.status("composing stored skills for the goal"):
        task, similarity, written = solve(world, goal, opened, llms=llms)
    console.print(f"goal read as the task {task.id}: {task.description} (similarity {similarity:.2f})")
    if not written.found:
        raise LabError(f"no composition of the library's skills reached {task.id} within {written.episodes} "
                       "episodes", hint="run a curriculum session to learn more skills, then try again")
    assert written.verification is not None
    console.print(Syntax(written.source or "", "python"))
    console.print(f"solved with {', '.join(written.calls) or 'primitives only'}: "
                  f"{written.verification.successes}/{len(written.verification.seeds)} seeds succeeded "
                  f"({written.episodes} episodes searched, {written.seconds:.1f} s)")
    if video is not None:
        from lab.skills.runtime import SkillRunner
        from lab.video import write_video

        seed = next((r.seed for r in written.results if r.success), written.verification.seeds[0])
        with open_library(library) as opened, SkillRunner(get_world(world), task, written.name,
                                                                        written.source or "", opened,
                                                                        render=True) as runner:
            result = runner.run(seed)
        write_video(result.frames, video)
        console.print(f"wrote {video} (seed {seed}, {len(result.frames)} frames)")
