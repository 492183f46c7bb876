"""`lab curriculum`: a session that proposes tasks, writes and verifies skills, and stores them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from lab.cli_llm import llm_settings
from lab.cli_options import settings_options
from lab.cli_skills import open_library
from lab.console import make_console
from lab.content import curriculum_file, shipped_curricula
from lab.curriculum.config import CurriculumConfig
from lab.curriculum.records import AttemptFinished, CurriculumExhausted, EpisodesPlayed, TaskStarted
from lab.errors import LabError
from lab.llm.config import build_llms
from lab.runs import Record, Run
from lab.settings import read_yaml_mapping, validated
from lab.video import write_video

console = make_console()


@settings_options(CurriculumConfig, leave_out=("world",))
def curriculum_command(
    curriculum: Annotated[str | None, typer.Argument(
        metavar="CURRICULUM", help="A curriculum file (world, budget, library, thresholds) or the name of a "
                                   "shipped one, e.g. playground.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<time>-curriculum-...).")] = None,
    llm: Annotated[str | None, typer.Option(help="offline (default) or a model for every role: it proposes tasks, "
                                                 "writes their checks and skills, and critiques them")] = None,
    api_base: Annotated[str | None, typer.Option(help="Base URL of the model's server.")] = None,
    resume: Annotated[Path | None, typer.Option(help="Go on with a stopped session in this run directory (with "
                                                     "its own settings; --budget may grow).")] = None,
    given: dict[str, Any] | None = None,
) -> None:
    """Run a curriculum session: propose a task, retrieve skills, write one, verify it, store it; repeat. An option
    overrides the curriculum file's setting."""
    from lab.curriculum.audit import session_audit  # start-up: loads MuJoCo
    from lab.curriculum.session import Session  # start-up: loads MuJoCo
    from lab.skills import SkillLibrary  # start-up: loads MuJoCo

    chosen = {name: value for name, value in (given or {}).items() if value is not None}
    if resume is not None:
        run = Run.open(resume, made_by="curriculum")
        settings = run.read_config(CurriculumConfig, "curriculum")
        fixed = sorted(set(chosen) - {"budget"})
        if fixed:
            raise LabError(f"--resume goes on with the run's own settings; {', '.join(fixed)} cannot change",
                           hint="only --budget may change on a resume; start a new session for other settings")
        settings.budget = chosen.get("budget", settings.budget)
    else:
        if curriculum is None:
            raise LabError("lab curriculum needs a curriculum (or --resume RUN_DIR)",
                           hint=f"a YAML file, or one of: {', '.join(shipped_curricula())}")
        config = curriculum_file(curriculum)
        if config is None:
            raise LabError(f"no curriculum file or shipped curriculum named {curriculum!r}",
                           hint=f"give a YAML file, or one of: {', '.join(shipped_curricula())}")
        values: dict[str, Any] = read_yaml_mapping(config)
        values.pop("llm", None)
        values.update(chosen)
        values["llm"] = llm_settings(llm, api_base, config_file=config).model_dump()
        settings = validated(CurriculumConfig, values, "curriculum", hint=f"see {config}")
        from lab.worlds import get_world  # start-up: loads MuJoCo

        get_world(settings.world)
        run = Run.create("curriculum", f"{settings.world}", out=out)
    console.print(f"run directory: {run.path}   library: {settings.library}")

    status = console.status("")

    def show(record: Record) -> None:
        if isinstance(record, TaskStarted):
            console.rule(f"iteration {record.iteration}: {record.task}")
            if record.description.replace(" ", "_") != record.task:
                console.print(f"  {record.description}", highlight=False)
            status.update(f"writing a skill for {record.task}")
            status.start()
        elif isinstance(record, EpisodesPlayed) and record.episodes % 20 == 0:
            status.update(f"writing a skill: {record.episodes} candidate episodes played")
        elif isinstance(record, AttemptFinished):
            status.stop()
            attempt = record.attempt
            cost = f"; LLM cost ${record.cost_usd:.4f}" if record.cost_usd else ""
            if attempt.success:
                extra = f" calling {', '.join(attempt.calls)}" if attempt.calls else ""
                colour = "yellow" if attempt.kept_active else "green"
                console.print(f"  [{colour}]{attempt.skill}[/] {attempt.how}{extra}"
                              + (f" ({attempt.episodes} episodes)" if attempt.episodes else "")
                              + f", {attempt.seconds:.1f} s; tasks mastered: {record.skills}{cost}")
                if attempt.kept_active:
                    console.print(f"  kept as a candidate, {attempt.kept_active} stays active: {attempt.compared}",
                                  highlight=False)
            else:
                console.print(f"  [red]failed[/]: {attempt.reason[:200]}{cost}", highlight=False)
        elif isinstance(record, CurriculumExhausted):
            console.print("no task left to try now: every task is mastered or backing off")

    with SkillLibrary(settings.library) as opened:
        try:
            result = Session(settings, opened, progress=show).run(run)
        finally:
            status.stop()
        changes = session_audit(opened, run.path)
    spent = f", LLM cost ${result.cost_usd:.4f}" if result.cost_usd else ""
    table = Table(title=f"session summary ({result.iterations} iterations, {result.seconds:.0f} s{spent})")
    for column in ("skills learned", "composed", "families", "failures"):
        table.add_column(column, overflow="fold")
    table.add_row(", ".join(result.skills_learned) or "-", ", ".join(result.composed) or "-",
                  ", ".join(result.families_mastered) or "-",
                  "; ".join(f"{k} x{v}" for k, v in result.failures_by_reason.items()) or "-")
    console.print(table)
    agreement = result.critic_agreement
    if agreement:
        console.print(f"critic agreed with the code check on {agreement.agreed} of {agreement.judged} "
                      f"episodes ({agreement.rate:.0%})")
    console.print(f"library changes in {settings.library}:" + ("" if changes else " none"), highlight=False)
    for change in changes:
        console.print(f"  {change.line}", highlight=False, markup=False, soft_wrap=True)
        if change.evidence:
            console.print(f"    {change.evidence}", highlight=False, markup=False, soft_wrap=True)


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
    from lab.curriculum.session import solve  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo

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
        from lab.skills.runtime import SkillRunner  # start-up: loads MuJoCo

        seed = next((r.seed for r in written.results if r.success), written.verification.seeds[0])
        with open_library(library) as opened, SkillRunner(get_world(world), task, written.name,
                                                                        written.source or "", opened,
                                                                        render=True) as runner:
            result = runner.run(seed)
        write_video(result.frames, video)
        console.print(f"wrote {video} (seed {seed}, {len(result.frames)} frames)")
