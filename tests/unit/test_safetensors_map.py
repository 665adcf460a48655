"""The built-in embedder reads its weights through a memory map of the safetensors file."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from sextant.search.embedding import map_safetensors


def _write(path: Path, tensors: dict[str, np.ndarray]) -> None:
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {
            "dtype": names[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the format pads its header to 8 bytes
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def test_tensors_come_back_exactly_and_read_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    tensors = {
        "embeddings.weight": rng.standard_normal((50, 8)).astype(np.float32),
        "position_ids": np.arange(12, dtype=np.int64).reshape(1, 12),
        "bias": rng.standard_normal(8).astype(np.float32),
    }
    path = tmp_path / "model.safetensors"
    _write(path, tensors)
    _, mapped = map_safetensors(path)
    assert set(mapped) == set(tensors)
    for name, array in tensors.items():
        assert mapped[name].dtype == array.dtype
        assert mapped[name].shape == array.shape
        np.testing.assert_array_equal(mapped[name], array)
        with pytest.raises(ValueError):
            mapped[name][(0,) * array.ndim] = 1  # pages are the file's, never copied
    rows = mapped["embeddings.weight"][np.array([3, 41])]  # what the embedder does per token
    np.testing.assert_array_equal(rows, tensors["embeddings.weight"][[3, 41]])
