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

    def app_request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any path of the app, without credentials unless given in ``headers``."""

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sextant") as c:
                return await c.request(method, path, **kwargs)

        return anyio.run(go)

    def get(self, path: str, email: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, email, **kwargs)

    def table_id(self, name: str) -> int:
        return next(t.id for t in self.service.snapshot().tables.values() if t.name == name)

    def metric_id(self, name: str) -> int:
        return next(m.id for m in self.service.snapshot().metrics.values() if m.name == name)

    def field(self, email: str, table: str, column: str, via: str | None = None) -> str:
        """The field id of ``column`` as ``email`` sees it (through ``via`` for related ones)."""
        detail = self.get(f"/table/{self.table_id(table)}", email).json()
        if via is None:
            fields = detail["fields"]
        else:
            fields = next(t["fields"] for t in detail["related_tables"] if t["related_by"] == via)
        return str(next(f["field_id"] for f in fields if f["name"] == column))

    def construct(self, email: str, body: dict[str, Any]) -> httpx.Response:
        return self.request("POST", "/construct-query", email, json=body)

    def execute(self, email: str, token: str) -> httpx.Response:
        return self.request("POST", "/execute", email, json={"query": token})

    def run(self, email: str, body: dict[str, Any]) -> dict[str, Any]:
        """Construct and execute as ``email``; the completed body."""
        built = self.construct(email, body)
        assert built.status_code == 200, built.text
        answer = self.execute(email, built.json()["query"])
        assert answer.status_code == 202, answer.text
        result = answer.json()
        assert result["status"] == "completed", result
        return dict(result)
