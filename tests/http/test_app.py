"""The HTTP app through real ASGI requests: ping, OpenAPI docs, error shapes."""

from __future__ import annotations

import httpx
import pytest

from sextant.auth.tokens import make_jwt
from sextant.http import create_app
from sextant.service import Sextant
from tests.conftest import TEST_SECRET


@pytest.fixture
def client(demo_service: Sextant) -> httpx.AsyncClient:
    app = create_app(demo_service.settings, demo_service)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sextant")


async def _get(client: httpx.AsyncClient, path: str, **headers: str) -> httpx.Response:
    async with client:
        return await client.get(path, headers=headers)


@pytest.mark.anyio
async def test_ping(client: httpx.AsyncClient) -> None:
    token = make_jwt(TEST_SECRET, "analyst@example.com")
    response = await _get(client, "/api/agent/v1/ping", authorization=f"Bearer {token}")
    assert response.status_code == 200
    assert response.content == b'{"message":"pong"}'


@pytest.mark.anyio
async def test_openapi_document_and_docs(client: httpx.AsyncClient) -> None:
    async with client:
        spec = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert "/api/agent/v1/ping" in spec["paths"]
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.mark.anyio
async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await _get(client, "/api/agent/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not found."}
