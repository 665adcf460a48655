"""Generated requests from the OpenAPI document never produce a 500 (issue 5).

The document is taken from an app built at import (no data needed for it); the requests go
over real HTTP to a server on the shared, synced demo.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from sextant.auth.tokens import make_jwt
from sextant.http import create_app
from sextant.service import Sextant
from sextant.settings import Settings
from tests.conftest import TEST_SECRET
from tests.servers import serve


def _document() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        service = Sextant(Settings(data_dir=Path(tmp)))
        try:
            return create_app(service.settings, service).openapi()
        finally:
            service.close()


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture(scope="module")
def base_url(shared_service: Sextant) -> Iterator[str]:
    with serve(create_app(shared_service.settings, shared_service)) as url:
        yield url


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, base_url: str) -> None:
    token = make_jwt(TEST_SECRET, "analyst@example.com")
    response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert {"error", "message"} <= set(body), body
