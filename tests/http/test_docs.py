"""``/docs`` and ``/redoc`` work offline; the OpenAPI document declares the credentials, the
query-string arguments and 400 errors as the server answers them.

Found: the page loaded Swagger UI from a CDN and was blank offline; "Authorize" had nothing to
offer; the ``with-*`` and ``limit`` arguments were not in the document.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from sextant.service import Sextant
from tests.agent_client import AgentClient


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_doc_pages_load_everything_from_this_server(api: AgentClient, page: str) -> None:
    html = api.app_request("GET", page)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", html.text), "no asset from another host"
    assets = re.findall(r"""["'](/docs/assets/[^"']+)["']""", html.text)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        answer = api.app_request("GET", asset)
        assert answer.status_code == 200 and len(answer.content) > 1000, asset
    assert "/openapi.json" in html.text


def _document(api: AgentClient) -> dict[str, Any]:
    answer = api.app_request("GET", "/openapi.json")
    assert answer.status_code == 200
    return dict(answer.json())


def test_the_three_credentials_are_declared(api: AgentClient) -> None:
    document = _document(api)
    schemes = document["components"]["securitySchemes"]
    assert schemes["JWT"] == {**schemes["JWT"], "type": "http", "scheme": "bearer"}
    assert (schemes["ApiKey"]["in"], schemes["ApiKey"]["name"]) == ("header", "X-API-Key")
    assert schemes["Session"]["name"] == "X-Metabase-Session"
    anyone = [{"JWT": []}, {"ApiKey": []}, {"Session": []}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/auth/"):
                assert "security" not in operation, (method, path)
            else:
                assert operation["security"] == anyone, (method, path)


def test_query_string_arguments_are_declared(api: AgentClient) -> None:
    paths = _document(api)["paths"]

    def names(path: str, method: str = "get") -> set[str]:
        return {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "query"}

    assert {"with-fields", "with-field-values", "with-related-tables", "with-metrics"} <= names(
        "/api/agent/v1/table/{table_id}"
    )
    assert {"with-queryable-dimensions", "with-segments"} <= names(
        "/api/agent/v1/metric/{metric_id}"
    )
    assert {"limit", "offset"} <= names("/api/agent/v1/tables")
    assert {"limit", "offset"} <= names("/api/agent/tables")
    assert "limit" in names("/api/agent/v1/table/{table_id}/field/{field_id}/values")
    assert {"models", "limit", "offset"} <= names("/api/collection/{collection_id}/items")
    assert "token" in names("/auth/sso")
    declared = paths["/api/agent/v1/table/{table_id}"]["get"]["parameters"]
    with_fields = next(p for p in declared if p["name"] == "with-fields")
    assert with_fields["schema"]["type"] == "boolean" and with_fields["required"] is False


def test_every_declared_argument_is_one_the_server_reads(api: AgentClient) -> None:
    """A declared argument with a wrong value gets the server's 400 naming it: the document
    says what the server checks, not a guess."""
    answer = api.get("/table/1", "analyst@example.com", params={"with-fields": "maybe"})
    assert answer.status_code == 400 and "with-fields" in answer.json()["errors"]
    paths = _document(api)["paths"]
    for path, operations in paths.items():
        for operation in operations.values():
            assert "422" not in operation["responses"], path
            assert "400" in operation["responses"], path
