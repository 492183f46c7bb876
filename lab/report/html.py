"""`lab report RUN_DIR`: a self-contained `report.html` beside the run's files (plots inline as SVG).

Each kind of run has its sections; a training run shows its learning curves, every reward component, the reward
program, the final evaluation and any videos in the directory.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.curriculum.audit import session_audit
from lab.curriculum.records import TaskAttempted, critic_agreement, failures_by_reason
from lab.errors import LabError
from lab.report.plots import interval_chart, line_chart, scatter_chart
from lab.runs import CONFIG, SUMMARY, Run
from lab.search.records import CandidateProposed, CandidateTrained, IterationDone, SearchResult
from lab.search.scoreboard import SCOREBOARD, read_scoreboard
from lab.settings import validated
from lab.skills.store import DATABASE, SkillLibrary
from lab.training.records import RewardRejected, TrainingFailed

REPORT = "report.html"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; } .grid > div { flex: 1 1 520px; }
table { border-collapse: collapse; font-size: 0.9rem; } td, th { padding: 0.25rem 0.6rem; border: 1px solid #ddd; }
th { background: #f4f4f4; text-align: left; } pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; }
.muted { color: #777; } .bad { color: #b00020; }
"""


def table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p class='muted'>none</p>"
    columns = columns or list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def page(title: str, sections: list[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{html.escape(name)}</h2>{content}" for name, content in sections)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def training_sections(run: Run, config: dict[str, Any]) -> list[tuple[str, str]]:
    """The sections of one training run: curves, components, evaluation, reward program, videos, config."""
    curve = run.read_json("curves.json") if run.file("curves.json").exists() else []
    sections: list[tuple[str, str]] = []
    failure = next(run.records(TrainingFailed), None) or next(run.records(RewardRejected), None)
    if failure:
        sections.append(("Failure", f"<pre class='bad'>{html.escape(failure.error)}</pre>"))
    if curve:
        steps = [p["step"] for p in curve]
        charts = [
            line_chart("task fitness (episodes ending in each window)",
                       {"episode fitness": (steps, [p.get("fitness") for p in curve]),
                        "per-step fitness": (steps, [p.get("step_fitness") for p in curve])}, ylabel="task fitness"),
            line_chart("success rate", {"success rate": (steps, [p.get("success_rate") for p in curve])},
                       ylabel="share of episodes"),
            line_chart("episode length", {"length": (steps, [p.get("episode_length") for p in curve])},
                       ylabel="steps"),
            line_chart("episode return (reward program and env's own)",
                       {"reward program": (steps, [p.get("episode_reward") for p in curve]),
                        "env reward": (steps, [p.get("episode_env_reward") for p in curve])}, ylabel="return"),
        ]
        names = sorted({n for p in curve for n in p.get("step_components", {})})
        component_charts = [
            line_chart("reward components, mean per step",
                       {n: (steps, [p.get("step_components", {}).get(n) for p in curve]) for n in names},
                       ylabel="reward per step"),
            line_chart("reward components, sum per episode",
                       {n: (steps, [p.get("episode_components", {}).get(n) for p in curve]) for n in names},
                       ylabel="reward per episode"),
        ]
        sections.append(("Learning curves", _grid(charts)))
        sections.append(("Reward components", _grid(component_charts)))
    for record in sorted(run.path.glob("eval*.json")):
        evaluation = json.loads(record.read_text())
        rows = [{k: v for k, v in e.items() if k != "components"} for e in evaluation.get("episodes", [])]
        sections.append((f"Evaluation ({record.name})", table([evaluation.get("summary", {})]) + table(rows)))
    videos = sorted(p for p in run.path.rglob("*") if p.suffix in (".mp4", ".gif"))
    if videos:
        tags = "".join(
            f"<div><p>{html.escape(v.name)}</p>" + (
                f"<video src='{html.escape(str(v.relative_to(run.path)))}' controls width='480'></video>"
                if v.suffix == ".mp4" else f"<img src='{html.escape(str(v.relative_to(run.path)))}' width='480'>")
            + "</div>" for v in videos)
        sections.append(("Videos", f"<div class='grid'>{tags}</div>"))
    if run.file("reward.py").exists():
        sections.append(("Reward program", f"<pre>{html.escape(run.file('reward.py').read_text())}</pre>"))
    sections.append(("Configuration", f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>"))
    return sections


def _grid(svgs: list[str]) -> str:
    return "<div class='grid'>" + "".join(f"<div>{svg}</div>" for svg in svgs) + "</div>"


def search_sections(run: Run, config: dict[str, Any]) -> list[tuple[str, str]]:
    """A reward search: the outcome against the baselines, fitness per candidate per iteration, the lineage of the
    best, its component curves, every candidate with its note and errors, and the cost per iteration."""
    candidates = {proposed.id: proposed for proposed in run.records(CandidateProposed)}
    scores: dict[tuple[str, str], float | None] = {}
    hacking: set[str] = set()
    for trained in run.records(CandidateTrained):
        if trained.result.ok:
            scores[(trained.id, trained.stage)] = trained.result.evaluation.get("fitness_mean")
            if trained.hacking:
                hacking.add(trained.id)
    iterations = list(run.records(IterationDone))
    summary = validated(SearchResult, run.read_json(SUMMARY), f"search result ({run.file(SUMMARY)})") if run.file(
        SUMMARY).exists() else None
    sections: list[tuple[str, str]] = []
    if summary is not None:
        rows = [{"reward": f"best ({summary.best})", **summary.final_evaluation.model_dump()}]
        if summary.sampled_evaluation is not None:
            rows.append({"reward": "best (sampled)", **summary.sampled_evaluation.model_dump()})
        rows += [{"reward": name, **evaluation.model_dump()} for name, evaluation in summary.baselines.items()]
        labels = {"best": f"best ({summary.best})"}
        for name, (low, high) in summary.fitness_intervals.items():
            for row in rows:
                if row["reward"] == labels.get(name, name):
                    row["95% interval of the mean"] = f"{low:.4g} to {high:.4g}"
        warnings = summary.verdict + [f"the best candidate looks like reward hacking: {reason}"
                                      for reason in summary.hacking_reasons]
        if warnings:
            banners = "".join(f"<p class='{'muted' if ' is above ' in line else 'bad'}'>{html.escape(line)}</p>"
                              for line in warnings)
            over = (f"{summary.seeds} training seeds and their held-out episodes" if summary.seeds > 1
                    else "the held-out episodes of one training seed")
            sections.append((f"Verdict (bootstrap over {over})", banners))
        score_bounds = summary.human_normalized_interval
        facts = {"human-normalized score": summary.human_normalized_score,
                 "its 95% interval": f"{score_bounds[0]:.3f} to {score_bounds[1]:.3f}" if score_bounds else None,
                 "correlation with the human reward": summary.correlation_with_human,
                 "reward hacking flagged": summary.reward_hacking, "LLM cost (USD)": summary.llm_cost_usd}
        per_seed = [{"policy": name, **{f"training seed {index}": value for index, value in enumerate(means)}}
                    for name, means in summary.seed_means.items()]
        sections.append(("Outcome (held-out seeds)", table(rows) + table([facts])
                         + ("<p>Mean held-out fitness per training seed:</p>" + table(per_seed)
                            if summary.seeds > 1 else "")))
        sections.append(("The best against the baselines while training", comparison_chart(run, summary)))
    else:
        sections.append(("Outcome", "<p class='muted'>the search has not finished (resume it with --resume)</p>"))
    by_stage: dict[str, tuple[list[float], list[float | None]]] = {}
    for (cid, stage), score in scores.items():
        xs, ys = by_stage.setdefault(stage, ([], []))
        xs.append(float(candidates[cid].iteration) if cid in candidates else -1.0)
        ys.append(score)
    if by_stage:
        sections.append(("Fitness per candidate per iteration",
                         scatter_chart("candidate fitness (ranking episodes)", by_stage, ylabel="fitness")))
    if summary is not None:
        chain = []
        for cid in summary.lineage:
            proposed = candidates.get(cid)
            note, source = (proposed.note, proposed.source) if proposed else ("", "")
            chain.append(f"<h3>{html.escape(cid)} <span class='muted'>{html.escape(note)}</span>"
                         f"</h3><pre>{html.escape(source)}</pre>")
        sections.append(("Lineage of the best (best first)", "".join(chain)))
        reflection = run.path / "candidates" / summary.best / "full" / "reflection.txt"
        if reflection.exists():
            sections.append(("Reflection on the best", f"<pre>{html.escape(reflection.read_text())}</pre>"))
        videos = sorted((run.path / "videos").glob("*.mp4"))
        if videos:
            tags = "".join(f"<div><p>{html.escape(v.stem)}</p><video src='videos/{html.escape(v.name)}' controls "
                           "width='480'></video></div>" for v in videos)
            sections.append(("Rollouts on a held-out seed (best and baselines)", f"<div class='grid'>{tags}</div>"))
        best_run = run.path / "candidates" / summary.best / "full"
        if (best_run / CONFIG).exists():
            best = training_sections(Run.open(best_run), {})
            sections += [(f"Best: {name}", content) for name, content in best
                         if name in ("Learning curves", "Reward components")]
    rows = [{"candidate": cid, "iteration": c.iteration, "parent": c.parent,
             "short": scores.get((cid, "short")), "full": scores.get((cid, "full")),
             "checked": "ok" if c.valid else "rejected", "reward hacking": "yes" if cid in hacking else "",
             "note": c.note, "errors": " | ".join(e.splitlines()[0] for e in c.errors if e)}
            for cid, c in candidates.items()]
    sections.append(("Candidates", table(rows)))
    programs = "".join(
        f"<details><summary>{html.escape(cid)} <span class='muted'>iteration {c.iteration}, "
        f"{'checked' if c.valid else 'rejected'}; {html.escape(c.note)}</span></summary>"
        f"<pre>{html.escape(c.source)}</pre></details>" for cid, c in candidates.items())
    sections.append(("Every candidate's program", programs or "<p class='muted'>none</p>"))
    sections.append(("Iterations (time and LLM cost)", table(
        [e.model_dump(include={"iteration", "seconds", "llm_cost_usd", "best", "best_score"}) for e in iterations])))
    sections.append(("Configuration", f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>"))
    return sections


def comparison_chart(run: Run, summary: SearchResult) -> str:
    """The task fitness of the best's full run and of each baseline (first training seed) over training, on one
    chart: whether the best learned faster, or only ended higher."""
    folders = {f"best ({summary.best})": run.path / "candidates" / summary.best / "full"}
    folders |= {name: run.path / "baselines" / name for name in summary.baselines}
    series = {}
    for name, folder in folders.items():
        curve_file = folder / "curves.json"
        if curve_file.is_file():
            curve = json.loads(curve_file.read_text())
            series[name] = ([p["step"] for p in curve], [p.get("fitness") for p in curve])
    if not series:
        return "<p class='muted'>no curves were written</p>"
    return line_chart("task fitness of episodes ending in each window", series, ylabel="task fitness")


def curriculum_sections(run: Run, config: dict[str, Any]) -> list[tuple[str, str]]:
    """A curriculum session: skills learned against iterations, families mastered (the tech tree's milestones),
    failures by reason, every attempt, and what it changed in the skill library (with the commands that undo it)."""
    attempts = list(run.records(TaskAttempted))
    sections: list[tuple[str, str]] = []
    learned, families, first = 0, set(), {}
    xs, skills, mastered = [], [], []
    for attempt in attempts:
        if attempt.success:
            family = attempt.task.partition("(")[0]
            if family not in families:
                families.add(family)
                first[family] = attempt.iteration
            if attempt.wrote_skill:
                learned += 1
        xs.append(float(attempt.iteration))
        skills.append(float(learned))
        mastered.append(float(len(families)))
    if attempts:
        sections.append(("Progress", line_chart("skills learned and families mastered",
                                                {"skills learned": (xs, skills), "families mastered": (xs, mastered)},
                                                xlabel="iteration", ylabel="count")))
    milestones = [{"family": f, "first mastered at iteration": i} for f, i in sorted(first.items(), key=lambda x: x[1])]
    sections.append(("Milestones (task families mastered)", table(milestones)))
    sections.append(("Failures by reason", table([{"reason": k, "count": v}
                                                  for k, v in failures_by_reason(attempts).items()])))
    agreement = critic_agreement(attempts)
    if agreement:
        sections.append(("Critic agreement with the code check", table([agreement.model_dump()])))
    sections.append(("Cost", table(session_cost(run, config, attempts),
                                   ["role", "model", "calls", "tokens", "LLM cost (USD)", "seconds"])))
    rows = [{"iteration": a.iteration, "task": a.task, "success": a.success, "skill": a.skill,
             "how": a.how or a.reason, "calls": ", ".join(a.calls), "episodes": a.episodes, "seconds": a.seconds}
            for a in attempts]
    sections.append(("Attempts", table(rows)))
    sections.append(("Library changes", library_changes(run, config)))
    sections.append(("Configuration", f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>"))
    return sections


def library_changes(run: Run, config: dict[str, Any]) -> str:
    """The versions the session added to its library, what became of each and the command that undoes it; a note
    when the library is not where the session's settings say (a relative folder is read from here)."""
    folder = Path(str(config.get("curriculum", {}).get("library", "")))
    if not (folder / DATABASE).is_file():
        return f"<p class='muted'>the library {html.escape(str(folder))} is not here, so its changes are not shown</p>"
    with SkillLibrary(folder, create=False) as library:
        changes = session_audit(library, run.path)
    return table([{"version": c.ref, "what became of it": c.change, "evidence": c.evidence,
                   "command": c.command, "what the command does": c.action} for c in changes],
                 ["version", "what became of it", "evidence", "command", "what the command does"])


def session_cost(run: Run, config: dict[str, Any], attempts: list[TaskAttempted]) -> list[dict[str, Any]]:
    """LLM calls, tokens and dollars per role from the run's ledger, and the session's seconds, one row per role
    (one offline row when no model played a role)."""
    roles: dict[str, dict[str, Any]] = {}
    ledger = run.file("llm_ledger.jsonl")
    if ledger.is_file():
        for line in ledger.read_text().splitlines():
            call = json.loads(line)
            row = roles.setdefault(call["role"], {"role": call["role"], "model": call["model"], "calls": 0,
                                                  "tokens": 0, "LLM cost (USD)": 0.0})
            row["calls"] += 1
            row["tokens"] += int(call.get("prompt_tokens") or 0) + int(call.get("completion_tokens") or 0)
            row["LLM cost (USD)"] = round(row["LLM cost (USD)"] + float(call.get("cost_usd") or 0.0), 6)
    seconds = round(sum(a.seconds for a in attempts), 1)
    if not roles:
        return [{"role": "all", "model": "offline (learning-progress curriculum, compositional search)",
                 "calls": 0, "tokens": 0, "LLM cost (USD)": 0.0, "seconds": seconds}]
    return [*roles.values(), {"role": "session", "seconds": seconds}]


def scoreboard_sections(run: Run, config: dict[str, Any]) -> list[tuple[str, str]]:
    """A reward scoreboard: the count against human with its interval, the human-normalized score of every task
    with its interval on one chart, and the table (each task's search has its own report under tasks/)."""
    if not run.file(SCOREBOARD).is_file():
        return [("Scoreboard", "<p class='muted'>no task has finished yet (resume it with --resume)</p>")]
    board = read_scoreboard(run)
    sections = [("Against human", f"<p><b>{html.escape(board.summary())}</b></p><p class='muted'>Eureka: at or "
                                  "above human on 83% of 29 tasks; Text2Reward: 13 of 17 (other tasks, budgets "
                                  "and models)</p>")]
    scored = [(row.task, row.score, row.score_interval) for row in board.rows if row.score is not None]
    if scored:
        sections.append(("Human-normalized score per task (0 = sparse, 1 = human)",
                         interval_chart("(best - sparse) / |human - sparse|, 95% interval", scored,
                                        xlabel="human-normalized score", reference=(0.0, 1.0),
                                        limits=(-2.0, 3.0))))
    rows = [{"task": r.task, "vs human": r.standing, "best": r.best, "best 95%": _bounds(r.best_interval),
             "human": r.human, "human 95%": _bounds(r.human_interval), "sparse": r.sparse,
             "sparse 95%": _bounds(r.sparse_interval), "human-normalized": r.score,
             "its 95%": _bounds(r.score_interval), "seconds": r.seconds, "error": r.error} for r in board.rows]
    sections.append(("Tasks", table(rows)))
    sections.append(("Configuration", f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>"))
    return sections


def _bounds(bounds: tuple[float, float] | None) -> str:
    return f"{bounds[0]:.4g} to {bounds[1]:.4g}" if bounds else ""


SECTIONS: dict[str, Callable[[Run, dict[str, Any]], list[tuple[str, str]]]] = {
    "train": training_sections, "reward": search_sections, "curriculum": curriculum_sections,
    "bench": scoreboard_sections}
"""Report sections per kind of run (the `command` in its config); later kinds of runs add theirs here."""


def write_report(path: Path) -> Path:
    """Write `report.html` into the run directory at `path`; returns its path."""
    run = Run.open(path)
    config = run.read_json(CONFIG)
    command = str(config.get("command", ""))
    make_sections = SECTIONS.get(command)
    if make_sections is None:
        raise LabError(f"cannot report on a {command!r} run yet", hint=f"reports exist for: {', '.join(SECTIONS)}")
    described = config.get("search", config.get("curriculum", config))
    named = [str(part) for part in (described.get("world"), described.get("task") or described.get("task_text"))
             if part]
    title = f"{command}: {' / '.join(named)} ({path.name})" if named else f"{command} ({path.name})"
    run.write_text(REPORT, page(title, make_sections(run, config)))
    return run.file(REPORT)
