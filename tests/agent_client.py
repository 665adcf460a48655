"""A small synchronous client over the in-process app, speaking as demo users."""

from __future__ import annotations

from typing import Any

import anyio
import httpx

from sextant.auth.tokens import make_jwt
from sextant.http import create_app
from sextant.service import Sextant
from tests.conftest import TEST_SECRET


class AgentClient:
    def __init__(self, service: Sextant) -> None:
        self.service = service
        self.app = create_app(service.settings, service)

    def request(
        self, method: str, path: str, email: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if email is not None:
            headers["Authorization"] = f"Bearer {make_jwt(TEST_SECRET, email)}"

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sextant") as c:
                return await c.request(method, "/api/agent/v1" + path, headers=headers, **kwargs)

        return anyio.run(go)

    def get(self, path: str, email: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, email, **kwargs)

    def table_id(self, name: str) -> int:
        return next(t.id for t in self.service.snapshot().tables.values() if t.name == name)

    def metric_id(self, name: str) -> int:
        return next(m.id for m in self.service.snapshot().metrics.values() if m.name == name)
