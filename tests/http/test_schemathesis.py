"""Generated requests from the OpenAPI document, for two users with different permissions:
no server error, and every answer conforms to the document (status code, content type, body
schema). The failed-authentication limiter is off for this run (shared_service).

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
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from sextant.auth.tokens import make_jwt
from sextant.http import create_app
from sextant.service import Sextant
from sextant.settings import Settings
from tests.conftest import TEST_SECRET
from tests.servers import serve

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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


@pytest.mark.parametrize("email", ["analyst@example.com", "ca-manager@example.com"])
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_as_documented(
    case: schemathesis.Case, base_url: str, email: str
) -> None:
    token = make_jwt(TEST_SECRET, email)
    response = case.call_and_validate(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
    if response.status_code >= 400:
        body = response.json()
        assert {"error", "message"} <= set(body), body
