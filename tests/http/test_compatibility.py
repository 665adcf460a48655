"""What Metabase serves today, through the app (spec §1, §4, §8, §10): the listings and the
unversioned paths of seed 001, Metabase's GET form of the SSO exchange, and value lists that
say when they were cut."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from sextant.auth.tokens import make_jwt
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import TEST_SECRET

ADMIN, ANALYST = "admin@example.com", "analyst@example.com"
CA_MANAGER, OUTSIDER = "ca-manager@example.com", "outsider@example.com"


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


def get(api: AgentClient, path: str, email: str, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, email)}"}
    return api.app_request("GET", path, headers=headers, params=params)


@pytest.mark.parametrize("kind", ["tables", "metrics"])
def test_listings_hold_what_the_caller_may_use(api: AgentClient, kind: str) -> None:
    snapshot = api.service.snapshot()
    for email in (ADMIN, ANALYST, CA_MANAGER, OUTSIDER):
        answer = get(api, f"/api/agent/v1/{kind}", email)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        names = [item["name"] for item in body["data"]]
        assert names == sorted(names) and body["total_count"] == len(names)
        for item in body["data"]:
            if kind == "tables":
                assert api.get(f"/table/{item['id']}", email).status_code == 200
                assert item["type"] == "table"
            else:
                assert api.get(f"/metric/{item['id']}", email).status_code == 200
                assert item["type"] == "metric"
        others = snapshot.tables if kind == "tables" else snapshot.metrics
        for entity_id in set(others) - {item["id"] for item in body["data"]}:
            path = f"/table/{entity_id}" if kind == "tables" else f"/metric/{entity_id}"
            assert api.get(path, email).status_code == 403
    outsider = get(api, f"/api/agent/v1/{kind}", OUTSIDER).json()
    admin = get(api, f"/api/agent/v1/{kind}", ADMIN).json()
    assert outsider["total_count"] < admin["total_count"]


def test_listings_page(api: AgentClient) -> None:
    whole = get(api, "/api/agent/v1/metrics", ADMIN).json()
    assert whole["total_count"] >= 4
    pages = [
        get(api, "/api/agent/v1/metrics", ADMIN, limit=3, offset=offset).json()
        for offset in range(0, whole["total_count"], 3)
    ]
    assert [i for p in pages for i in p["data"]] == whole["data"]
    assert all(p["total_count"] == whole["total_count"] for p in pages)
    beyond = get(api, "/api/agent/v1/tables", ADMIN, offset=1000).json()
    assert beyond == {"data": [], "total_count": len(api.service.snapshot().tables)}
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "x"}):
        answer = get(api, "/api/agent/v1/tables", ADMIN, **bad)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", bad


def test_unversioned_paths_answer_as_the_versioned_ones(api: AgentClient) -> None:
    for kind in ("tables", "metrics"):
        assert (
            get(api, f"/api/agent/{kind}", ANALYST).json()
            == get(api, f"/api/agent/v1/{kind}", ANALYST).json()
        )
    orders = api.table_id("ORDERS")
    fields = get(api, f"/api/agent/tables/{orders}/fields", ANALYST)
    assert fields.status_code == 200
    assert fields.json() == api.get(f"/table/{orders}", ANALYST).json()["fields"]
    assert get(api, f"/api/agent/tables/{orders}/fields", OUTSIDER).status_code == 403
    assert get(api, "/api/agent/tables/999999/fields", ANALYST).status_code == 404
    assert get(api, "/api/agent/tables/x/fields", ANALYST).status_code == 404
    assert api.app_request("GET", "/api/agent/tables").status_code == 401


def test_sso_get_answers_as_metabase(api: AgentClient) -> None:
    before = int(time.time())
    answer = api.app_request(
        "GET", "/auth/sso", params={"jwt": make_jwt(TEST_SECRET, ANALYST), "token": "true"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"id", "iat", "exp"}
    assert before - 1 <= body["iat"] <= time.time() + 1
    assert body["exp"] - body["iat"] == 14 * 86400  # the demo's session lifetime
    assert answer.headers["cache-control"] == "no-store"
    ping = api.app_request("GET", "/api/agent/v1/ping", headers={"X-Metabase-Session": body["id"]})
    assert ping.json() == {"message": "pong"}
    no_token = api.app_request("GET", "/auth/sso", params={"jwt": make_jwt(TEST_SECRET, ANALYST)})
    assert no_token.status_code == 400 and "token=true" in no_token.json()["message"]
    bad = api.app_request("GET", "/auth/sso", params={"jwt": "nope", "token": "true"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_jwt"
    assert api.app_request("GET", "/auth/sso").status_code == 400


def test_unknown_session_or_key_is_missing_authorization(api: AgentClient) -> None:
    for header in ({"X-Metabase-Session": "no-such-session"}, {"X-API-Key": "sxt_no_such_key"}):
        answer = api.app_request("GET", "/api/agent/v1/ping", headers=header)
        assert answer.status_code == 401
        assert answer.json()["error"] == "missing_authorization", header


def test_value_lists_say_when_they_were_cut(api: AgentClient) -> None:
    people = api.table_id("PEOPLE")
    state = api.field(ANALYST, "PEOPLE", "STATE")
    whole = api.get(f"/table/{people}/field/{state}/values", ANALYST, params={"limit": 1000})
    values = whole.json()["values"]
    assert len(values) > 5 and whole.json()["has_more_values"] is False
    cut = api.get(f"/table/{people}/field/{state}/values", ANALYST, params={"limit": 5}).json()
    assert cut["values"] == values[:5] and cut["has_more_values"] is True
    exact = api.get(
        f"/table/{people}/field/{state}/values", ANALYST, params={"limit": len(values)}
    ).json()
    assert exact["values"] == values and exact["has_more_values"] is False
