"""The LLM layer: any model through litellm, cached, accounted, recordable and replayable, or a person via files."""

from lab.llm.backends import Cassette, FileBackend, LiteLLMBackend, LLMError, ReplayBackend, RetryableError
from lab.llm.cache import ResponseCache
from lab.llm.client import LLM, make_backend
from lab.llm.config import OFFLINE, ROLES, LLMSettings, build_llms
from lab.llm.extract import ExtractionError, ask_json, extract_code, extract_json
from lab.llm.ledger import BudgetExceeded, Ledger
from lab.llm.prompting import render
from lab.llm.types import Reply, Request

__all__ = [
    "LLM",
    "OFFLINE",
    "ROLES",
    "BudgetExceeded",
    "Cassette",
    "ExtractionError",
    "FileBackend",
    "LLMError",
    "LLMSettings",
    "Ledger",
    "LiteLLMBackend",
    "ReplayBackend",
    "Reply",
    "Request",
    "ResponseCache",
    "RetryableError",
    "ask_json",
    "build_llms",
    "extract_code",
    "extract_json",
    "make_backend",
    "render",
]
