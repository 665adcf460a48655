"""The embedder is pluggable: an OpenAI-compatible /v1/embeddings endpoint, over real HTTP."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from sextant.demo.setup import DemoFiles
from sextant.search.text import tokens
from sextant.service import Sextant
from sextant.settings import Settings
from sextant.store import schema as s
from tests.agent_client import AgentClient
from tests.conftest import make_settings
from tests.servers import serve


def _bag_of_words(text: str, dim: int = 64) -> list[float]:
    vector = [0.0] * dim
    for token in tokens(text):
        vector[int(hashlib.sha256(token.encode()).hexdigest(), 16) % dim] += 1.0
    return vector


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A small embeddings server on loopback (bag of hashed words), recording its requests."""
    seen: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/v1/embeddings")
    def embeddings(body: dict[str, Any]) -> dict[str, Any]:
        seen.append(body)
        return {
            "object": "list",
            "model": body["model"],
            "data": [
                {"object": "embedding", "index": i, "embedding": _bag_of_words(t)}
                for i, t in enumerate(body["input"])
            ],
        }

    with serve(app) as url:
        yield url, seen


def test_search_through_an_openai_compatible_endpoint(
    demo: DemoFiles,
    endpoint: tuple[str, list[dict[str, Any]]],
    services: Callable[[Settings], Sextant],
) -> None:
    url, seen = endpoint
    service = services(
        make_settings(
            demo.data_dir,
            config=demo.model,
            embedding_url=url,
            embedding_model="test-embedder",
            embedding_api_key="k",
        )
    )
    service.apply()
    api = AgentClient(service)
    response = api.request(
        "POST",
        "/search",
        "admin@example.com",
        json={"semantic_queries": ["product reviews and ratings"]},
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["name"] == "REVIEWS"
    assert seen[0]["model"] == "test-embedder" and len(seen[0]["input"]) == 13
    with service.engine.connect() as conn:
        models = set(conn.execute(select(s.search_vectors.c.model)).scalars())
    assert models == {"openai:test-embedder"}


def test_an_unreachable_endpoint_falls_back_to_keywords(
    demo: DemoFiles, services: Callable[[Settings], Sextant], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here
    service = services(
        make_settings(demo.data_dir, config=demo.model, embedding_url=f"http://127.0.0.1:{port}")
    )
    service.apply()
    api = AgentClient(service)
    response = api.request(
        "POST",
        "/search",
        "admin@example.com",
        json={"term_queries": ["reviews"], "semantic_queries": ["feedback"]},
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["name"] == "REVIEWS"
    assert "semantic search unavailable" in caplog.text
