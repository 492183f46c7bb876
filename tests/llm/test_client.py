"""The LLM client behind litellm's real client, against a local OpenAI-compatible server: no network anywhere."""

from __future__ import annotations

import importlib
import json
import threading
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from lab.llm import (
    LLM,
    BudgetExceeded,
    Cassette,
    ExtractionError,
    FileBackend,
    Ledger,
    LiteLLMBackend,
    LLMError,
    ReplayBackend,
    ResponseCache,
    ask_json,
    extract_code,
)

ASK = [{"role": "user", "content": "write a reward"}]
SECRET = "sk-lab-test-SECRET-0123456789abcdef"


class NoNativeN(LiteLLMBackend):
    def supports_n(self, model: str) -> bool:
        return False


def make_llm(server, model: str = "openai/test-model", **options) -> LLM:
    backend = options.pop("backend", None) or LiteLLMBackend(api_base=server.url, api_key="sk-local")
    options.setdefault("retries", 2)
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 5.0)
    return LLM(model, backend, **options)


def test_n_samples_in_one_request_where_the_provider_has_n(model_server) -> None:
    reply = make_llm(model_server).complete(ASK, n=3)
    assert reply.texts == ["sample 0", "sample 1", "sample 2"]
    assert len(model_server.requests) == 1 and model_server.requests[0]["n"] == 3
    assert reply.usage.prompt_tokens == 12 and reply.usage.completion_tokens == 21


def test_n_samples_as_concurrent_calls_otherwise(model_server) -> None:
    backend = NoNativeN(api_base=model_server.url, api_key="sk-local")
    reply = make_llm(model_server, backend=backend, max_concurrency=2).complete(ASK, n=3)
    assert len(reply.texts) == 3
    assert len(model_server.requests) == 3 and all("n" not in r for r in model_server.requests)


def test_rate_limit_then_success(model_server) -> None:
    model_server.script.extend([{"status": 429}])
    reply = make_llm(model_server).complete(ASK)
    assert reply.text == "sample 0"
    assert len(model_server.requests) == 2


def test_server_errors_exhaust_the_retries(model_server) -> None:
    model_server.script.extend([{"status": 500}] * 5)
    with pytest.raises(LLMError, match="failed 3 times"):
        make_llm(model_server, retries=2).complete(ASK)
    assert len(model_server.requests) == 3


def test_a_hanging_reply_hits_the_timeout(model_server) -> None:
    model_server.script.extend([{"delay": 3.0}])
    importlib.import_module("litellm")  # its first import takes seconds: not what is timed
    start = time.perf_counter()
    with pytest.raises(LLMError, match="failed 1 times"):
        make_llm(model_server, retries=0, timeout=0.5).complete(ASK)
    assert time.perf_counter() - start < 2.5


def test_a_malformed_http_reply_is_a_clear_error(model_server) -> None:
    model_server.script.extend([{"body": "<html>not json</html>"}] * 3)
    with pytest.raises(LLMError):
        make_llm(model_server, retries=0).complete(ASK)


def test_malformed_content_is_repaired_by_asking_again(model_server) -> None:
    class Plan(BaseModel):
        task: str
        attempts: int

    model_server.script.extend([{"contents": ["sure! here you go"]}, {"contents": ['{"task": "lift"}']},
                                {"contents": ['```json\n{"task": "lift", "attempts": 2}\n```']}])
    plan = ask_json(make_llm(model_server), ASK, Plan, attempts=3)
    assert plan == Plan(task="lift", attempts=2)
    second, third = model_server.requests[1]["messages"], model_server.requests[2]["messages"]
    assert "no valid JSON" in second[-1]["content"]
    assert "attempts: Field required" in third[-1]["content"]


def test_code_extraction_picks_the_requested_function() -> None:
    reply = ("Here is a helper:\n```python\ndef helper(x):\n    return x\n```\nand the reward:\n"
             "```python\nimport numpy as np\ndef compute_reward(state, action):\n    return 0.0, {}\n```\n")
    assert "def compute_reward" in extract_code(reply, "compute_reward")
    with pytest.raises(ExtractionError, match=r"block 1: defines helper; block 2: defines compute_reward"):
        extract_code(reply, "compute_skill")
    with pytest.raises(ExtractionError, match="syntax error"):
        extract_code("```python\ndef compute_reward(state, action)\n    return 0\n```", "compute_reward")


def test_cache_hits_never_reach_the_server(model_server, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    ledger = Ledger()
    first = make_llm(model_server, cache=cache, ledger=ledger).complete(ASK, n=2)
    again = make_llm(model_server, cache=ResponseCache(tmp_path / "cache.sqlite"), ledger=ledger).complete(ASK, n=2)
    assert again.texts == first.texts and again.cached and not first.cached
    assert len(model_server.requests) == 1
    different = make_llm(model_server, cache=cache).complete(ASK, n=2, temperature=0.1)
    assert not different.cached and len(model_server.requests) == 2
    assert ledger.roles["default"].calls == 2 and ledger.roles["default"].cached == 1


def test_record_then_replay_in_order(model_server, tmp_path: Path) -> None:
    cassette = tmp_path / "session.jsonl"
    model_server.answer = lambda request, index: f"answer to {request['messages'][-1]['content']}"
    llm = make_llm(model_server, recorder=Cassette(cassette))
    recorded = [llm.complete([{"role": "user", "content": f"q{i}"}]).text for i in range(3)]
    sent = len(model_server.requests)

    replay = LLM("replay", ReplayBackend(cassette))
    assert [replay.complete([{"role": "user", "content": f"q{i}"}]).text for i in range(3)] == recorded
    assert len(model_server.requests) == sent
    with pytest.raises(LLMError, match="ran out: it holds 3 replies and request 4 has none"):
        replay.complete([{"role": "user", "content": "q3"}])

    other = LLM("replay", ReplayBackend(cassette))
    with pytest.raises(LLMError, match=r"request 1 differs .* message 1 \(user\) differs at character 1"):
        other.complete([{"role": "user", "content": "q9"}])


def test_the_file_backend_answered_by_a_thread(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"

    def person() -> None:
        request = folder / "request-0001.json"
        while not request.exists():
            time.sleep(0.02)
        asked = json.loads(request.read_text())
        (folder / "response-0001.json").write_text(json.dumps({"texts": [f"done: {asked['messages'][0]['content']}"]}))

    helper = threading.Thread(target=person)
    helper.start()
    llm = LLM("file", FileBackend(folder, wait_seconds=10, poll_seconds=0.02), role="reward_designer")
    reply = llm.complete(ASK)
    helper.join()
    assert reply.text == "done: write a reward"
    nobody = LLM("file", FileBackend(folder, wait_seconds=0.2, poll_seconds=0.02))
    with pytest.raises(LLMError, match=r"no answer to .*request-0002\.json after 0\.2 s"):
        nobody.complete(ASK)


def test_the_budget_cap_stops_the_run_before_the_next_call(model_server) -> None:
    ledger = Ledger(budget_usd=1e-9)
    llm = make_llm(model_server, model="openai/gpt-4o-mini", ledger=ledger)
    first = llm.complete(ASK)
    assert first.cost_usd is not None and first.cost_usd > 0
    with pytest.raises(BudgetExceeded, match="budget of \\$1e-09 is spent"):
        llm.complete([{"role": "user", "content": "another"}])
    assert len(model_server.requests) == 1


def test_unknown_models_have_unknown_cost_not_zero(model_server) -> None:
    reply = make_llm(model_server, model="openai/not-a-real-model").complete(ASK)
    assert reply.cost_usd is None


def test_keys_are_absent_from_everything_written(model_server, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    cassette, ledger_file, cache_file = tmp_path / "c.jsonl", tmp_path / "ledger.jsonl", tmp_path / "cache.sqlite"
    model_server.answer = lambda request, index: f"echo {request['messages'][-1]['content']}"
    llm = LLM("openai/test-model", LiteLLMBackend(api_base=model_server.url), retries=0,
              cache=ResponseCache(cache_file), ledger=Ledger(path=ledger_file), recorder=Cassette(cassette))
    llm.complete([{"role": "user", "content": f"my key is {SECRET}, keep it safe"}])
    assert SECRET in model_server.headers[0].get("Authorization", ""), "the key came from the environment"
    for path in tmp_path.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path
    assert "[redacted]" in cassette.read_text()


def test_a_missing_key_fails_at_once_with_a_hint(model_server, monkeypatch) -> None:
    from lab.llm.backends import LLMError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = LLM("openai/no-key", LiteLLMBackend(api_base=model_server.url), retries=4, backoff=5.0)
    importlib.import_module("litellm")  # its first import takes seconds: not what is timed
    started = time.perf_counter()
    with pytest.raises(LLMError) as caught:
        llm.complete([{"role": "user", "content": "hi"}])
    assert time.perf_counter() - started < 4 and "OPENAI_API_KEY" in (caught.value.hint or "")
