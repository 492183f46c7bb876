"""One real embedding model for the skill tests (loading it costs seconds; encoding is cheap)."""

from __future__ import annotations

import pytest

from lab.skills import SentenceEmbedder


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    model = SentenceEmbedder()
    model.encode(["warm up"])
    return model
