"""`lab llm`: check that a model answers, and what it costs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lab.console import make_console
from lab.errors import LabError
from lab.llm import LLM, OFFLINE, Cassette, Ledger, make_backend, render
from lab.llm.config import LLMSettings, check_models
from lab.settings import read_yaml_mapping, validated

if TYPE_CHECKING:
    from lab.llm.config import LLMSettings

console = make_console()
llm_app = typer.Typer(help="Language models: check a model's round trip, latency, tokens and cost.")


@llm_app.command("check")
def check_command(
    model: Annotated[str, typer.Option(help="litellm model name (e.g. openai/gpt-4o), replay:FILE or file:DIR.")],
    api_base: Annotated[str | None, typer.Option(help="Base URL of a local or self-hosted server.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds before the call is abandoned.")] = 60.0,
    record: Annotated[Path | None, typer.Option(help="Also write the exchange to this cassette.")] = None,
) -> None:
    """One round trip to MODEL: prints the reply, latency, tokens and cost (never the API key)."""
    if model == OFFLINE:
        raise LabError("offline is the lab's model-free default, not a model to check",
                       hint="give a litellm model name, e.g. --model openai/gpt-4o-mini, or replay:FILE / file:DIR")
    llm = LLM(model, make_backend(model, api_base), role="default", timeout=timeout, retries=1, backoff=0.5,
              ledger=Ledger(), recorder=Cassette(record) if record else None)
    with console.status(f"asking {model}"):
        reply = llm.complete(render("llm_check", world="playground"), max_tokens=60)
    table = Table(title=f"lab llm check: {model}")
    for column in ("latency", "prompt tokens", "completion tokens", "cost"):
        table.add_column(column, justify="right")
    cost = "unknown (not in litellm's cost map)" if reply.cost_usd is None else f"${reply.cost_usd:.6f}"
    table.add_row(f"{reply.seconds * 1000:.0f} ms", str(reply.usage.prompt_tokens),
                  str(reply.usage.completion_tokens), cost)
    console.print(table)
    console.print(f"reply: {reply.text.strip()[:300]}", markup=False)


def llm_settings(llm: str | None = None, api_base: str | None = None, record: Path | None = None,
                 budget_usd: float | None = None, config_file: Path | None = None) -> LLMSettings:
    """LLM settings for a command: the `llm:` section of a YAML config, then --llm, --api-base, --record and
    --llm-budget on top. Commands that use models (reward search, curriculum) take these options."""
    values: dict = {}
    if config_file is not None:
        section = read_yaml_mapping(config_file).get("llm", {})
        if not isinstance(section, dict):
            raise LabError(f"the llm: section of {config_file} must be a mapping (model, roles, api_base, ...)")
        values.update(section)
    overrides = {"model": llm, "api_base": api_base, "record": record, "budget_usd": budget_usd}
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = validated(LLMSettings, values, "LLM")
    check_models(settings)
    return settings
