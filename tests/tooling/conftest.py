"""A synced demo served on a real port for the client, MCP and agent tests (read-only use)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles, agent_api_key, prepare_demo
from sextant.http import create_app
from sextant.service import Sextant
from tests.conftest import TEST_SECRET, make_settings
from tests.servers import serve


@dataclass(frozen=True)
class Live:
    url: str
    service: Sextant
    key: str  # the demo's Agents key

    def rest(
        self, method: str, path: str, email: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if email is not None:
            headers["Authorization"] = f"Bearer {make_jwt(TEST_SECRET, email)}"
        return httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def table_id(self, name: str) -> int:
        return next(t.id for t in self.service.snapshot().tables.values() if t.name == name)

    def card_id(self, name: str) -> int:
        snapshot = self.service.snapshot()
        found = [q.id for q in snapshot.questions.values() if q.name == name]
        return (
            found[0] if found else next(m.id for m in snapshot.metrics.values() if m.name == name)
        )


@pytest.fixture(scope="session")
def live(demo_template: DemoFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    target = tmp_path_factory.mktemp("tooling") / "demo"
    shutil.copytree(demo_template.data_dir, target)
    files = prepare_demo(target)
    service = Sextant(make_settings(files.data_dir, config=files.model, auth_max_failures=0))
    service.sync()
    key = agent_api_key(service.credentials, files.data_dir)
    with serve(create_app(service.settings, service)) as url:
        yield Live(url, service, key)
    service.close()
