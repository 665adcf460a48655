"""Spec §8 through the real app: JWTs, sessions, API keys, scopes, provisioning, limiter."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from typer.testing import CliRunner

from sextant.auth.limiter import MemoryFailureLimiter
from sextant.auth.principal import SCOPES
from sextant.cli.main import app as cli
from sextant.demo.setup import DemoFiles
from sextant.http import create_app
from sextant.service import Sextant
from sextant.settings import Settings
from sextant.store import schema as s
from tests.conftest import TEST_SECRET, cli_env, make_settings

PING = "/api/agent/v1/ping"
MISSING = (
    b'{"error":"missing_authorization","message":"Authentication required. Use '
    b'X-Metabase-Session header or Authorization: Bearer <jwt>."}'
)
BAD_FORMAT = (
    b'{"error":"invalid_authorization_format","message":"Authorization header must use Bearer '
    b'scheme: Authorization: Bearer <jwt>"}'
)
INVALID = b'{"error":"invalid_jwt","message":"Invalid or expired JWT token."}'
NOT_CONFIGURED = (
    b'{"error":"jwt_not_configured","message":"JWT authentication is not configured. Set the '
    b'JWT shared secret in admin settings."}'
)
SCOPE = b'{"error":"unsupported_scope","message":"Insufficient scope for this operation."}'


def token(
    email: str = "analyst@example.com",
    *,
    secret: str = TEST_SECRET,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    payload: dict[str, Any] = {"iat": int(time.time()), "email": email}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    key: Any = secret.encode() if algorithm.startswith("HS") else secret
    return jwt.encode(payload, key, algorithm=algorithm)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


class Client:
    """A synchronous facade over an in-process ASGI client, per client address."""

    def __init__(self, service: Sextant, extra: APIRouter | None = None) -> None:
        self.app = create_app(service.settings, service)
        if extra is not None:
            self.app.include_router(extra)

    def request(
        self, method: str, path: str, *, address: str = "10.0.0.1", **kwargs: Any
    ) -> httpx.Response:
        import anyio

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(address, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://sextant") as c:
                return await c.request(method, path, **kwargs)

        return anyio.run(go)

    def ping(self, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", PING, headers=headers or {}, **kwargs)


@pytest.fixture
def client(demo_service: Sextant) -> Client:
    return Client(demo_service)


# -- the four 401s --------------------------------------------------------------------------


def test_no_header(client: Client) -> None:
    response = client.ping()
    assert (response.status_code, response.content) == (401, MISSING)
    assert response.headers["www-authenticate"] == "Bearer"


def test_basic_scheme(client: Client) -> None:
    response = client.ping({"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"})
    assert (response.status_code, response.content) == (401, BAD_FORMAT)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_bearer_in_any_case(client: Client, scheme: str) -> None:
    response = client.ping({"Authorization": f"{scheme} {token()}"})
    assert (response.status_code, response.json()) == (200, {"message": "pong"})


def _rs256() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(
        {"iat": int(time.time()), "email": "analyst@example.com"}, private, algorithm="RS256"
    )


def _alg_none() -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"iat": int(time.time()), "email": "analyst@example.com"}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _hs512() -> str:
    """HS512 with the right secret (PyJWT warns that it is short for SHA-512)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return token(algorithm="HS512")


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "expired exp": lambda: token(exp=int(time.time()) - 1),
    "not yet valid nbf": lambda: token(nbf=int(time.time()) + 60),
    "iat too old": lambda: token(iat=int(time.time()) - 181),
    "iat in the future": lambda: token(iat=int(time.time()) + 30),
    "missing iat": lambda: token(iat=None),
    "string iat": lambda: token(iat="now"),
    "alg none": _alg_none,
    "wrong key": lambda: token(secret="another-secret-that-is-long-enough-000"),
    "HS512": lambda: _hs512(),
    "RS256": _rs256,
    "unknown user": lambda: token("nobody@example.com"),
    "deactivated user": lambda: token("former@example.com"),
    "missing email": lambda: token(email=None),  # type: ignore[arg-type]
    "garbage": lambda: "not.a.jwt",
    "empty": lambda: "",
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_every_bad_token_gets_the_same_answer(client: Client, kind: str) -> None:
    response = client.ping(bearer(BAD_TOKENS[kind]()))
    assert (response.status_code, response.content) == (401, INVALID), kind


def test_iat_a_little_in_the_future_and_almost_stale_are_accepted(client: Client) -> None:
    for iat in (int(time.time()) + 4, int(time.time()) - 170):
        assert client.ping(bearer(token(iat=iat))).status_code == 200


def test_email_matches_in_any_case(client: Client) -> None:
    assert client.ping(bearer(token("ANALYST@Example.COM"))).status_code == 200


def test_jwt_not_configured(demo: DemoFiles, services: Callable[[Settings], Sextant]) -> None:
    settings = make_settings(demo.data_dir, env={}, jwt_secret=None, config=demo.model)
    demo.model.write_text(demo.model.read_text().replace("secret: ${SEXTANT_JWT_SECRET}\n", ""))
    service = services(settings)
    service.apply()
    response = Client(service).ping(bearer(token()))
    assert (response.status_code, response.content) == (401, NOT_CONFIGURED)


def test_configurable_email_claim(demo: DemoFiles, services: Callable[[Settings], Sextant]) -> None:
    demo.model.write_text(demo.model.read_text().replace("email_claim: email", "email_claim: upn"))
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    client = Client(service)
    upn = jwt.encode(
        {"iat": int(time.time()), "upn": "analyst@example.com"},
        TEST_SECRET.encode(),
        algorithm="HS256",
    )
    assert client.ping(bearer(upn)).status_code == 200
    assert client.ping(bearer(token())).content == INVALID


# -- sessions -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/auth/sso", "/auth/sso/to_session"])
def test_session_issue_and_use(client: Client, path: str) -> None:
    response = client.request("POST", path, json={"jwt": token()})
    assert response.status_code == 200
    body = response.json()
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert (
        dt.timedelta(days=13, hours=23) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=14)
    )
    pong = client.ping({"X-Metabase-Session": body["session_token"]})
    assert pong.json() == {"message": "pong"}


def test_sessions_are_stored_hashed(client: Client, demo_service: Sextant) -> None:
    session = client.request("POST", "/auth/sso", json={"jwt": token()}).json()["session_token"]
    with demo_service.engine.connect() as conn:
        stored = [r.token_hash for r in conn.execute(s.sessions.select())]
    assert stored and session not in stored and all(len(h) == 64 for h in stored)


def test_session_expiry(client: Client, demo_service: Sextant) -> None:
    session = client.request("POST", "/auth/sso", json={"jwt": token()}).json()["session_token"]
    with demo_service.engine.begin() as conn:
        conn.execute(
            update(s.sessions).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    response = client.ping({"X-Metabase-Session": session})
    assert response.status_code == 401
    assert response.json()["error"] == "missing_authorization"  # as Metabase answers it


def test_session_revocation_from_the_cli(client: Client, demo_service: Sextant) -> None:
    session = client.request("POST", "/auth/sso", json={"jwt": token()}).json()["session_token"]
    assert client.ping({"X-Metabase-Session": session}).status_code == 200
    env = cli_env(demo_service.settings.data_dir)
    result = CliRunner().invoke(
        cli, ["sessions", "revoke", "--email", "Analyst@example.com"], env=env
    )
    assert result.exit_code == 0 and "revoked 1 session(s)" in result.output
    assert client.ping({"X-Metabase-Session": session}).status_code == 401


def test_a_session_of_a_deactivated_user_stops_working(
    client: Client, demo_service: Sextant
) -> None:
    session = client.request("POST", "/auth/sso", json={"jwt": token()}).json()["session_token"]
    with demo_service.engine.begin() as conn:
        conn.execute(
            update(s.users).where(s.users.c.email == "analyst@example.com").values(active=False)
        )
    assert client.ping({"X-Metabase-Session": session}).status_code == 401


def test_a_valid_session_wins_over_a_bad_bearer(client: Client) -> None:
    session = client.request("POST", "/auth/sso", json={"jwt": token()}).json()["session_token"]
    headers = {"X-Metabase-Session": session, "Authorization": "Basic x"}
    assert client.ping(headers).status_code == 200
    bad_session = {"X-Metabase-Session": "nope", "Authorization": f"Bearer {token()}"}
    assert client.ping(bad_session).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [({"jwt": "x.y.z"}, 401), ({}, 400), ({"jwt": 5}, 400), ({"jwt": "a", "more": 1}, 400)],
)
def test_sso_bad_input(client: Client, body: dict[str, Any], status: int) -> None:
    response = client.request("POST", "/auth/sso", json=body)
    assert response.status_code == status
    assert set(response.json()) >= {"error", "message"}


def test_sso_malformed_json(client: Client) -> None:
    response = client.request(
        "POST", "/auth/sso", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_unknown_user_without_provisioning_gets_no_session(client: Client) -> None:
    response = client.request("POST", "/auth/sso", json={"jwt": token("new@example.com")})
    assert (response.status_code, response.content) == (401, INVALID)


# -- provisioning ---------------------------------------------------------------------------


PROVISIONING = """
  provisioning:
    enabled: true
    group_mapping:
      sales: [Analysts]
      money: [Finance]
"""


@pytest.fixture
def provisioning(demo: DemoFiles, services: Callable[[Settings], Sextant]) -> Sextant:
    text = demo.model.read_text().replace(
        "    email_claim: email\n", "    email_claim: email\n" + PROVISIONING, 1
    )
    demo.model.write_text(text)
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    return service


def test_provisioning_creates_users_and_syncs_groups(provisioning: Sextant) -> None:
    client = Client(provisioning)
    claims = {"groups": ["sales", "Administrators"], "first_name": "Nia", "last_name": "New"}
    first = client.request("POST", "/auth/sso", json={"jwt": token("new@example.com", **claims)})
    assert first.status_code == 200
    who = provisioning.auth.authenticate({"x-metabase-session": first.json()["session_token"]}, "t")
    assert who.groups == {"All Users", "Analysts"}  # unmapped claim groups are ignored
    again = client.request(
        "POST", "/auth/sso", json={"jwt": token("NEW@example.com", groups=["money"])}
    )
    who = provisioning.auth.authenticate({"x-metabase-session": again.json()["session_token"]}, "t")
    assert who.groups == {"All Users", "Finance"}
    assert (
        who.user_id == provisioning.auth.authenticate(bearer(token("new@example.com")), "t").user_id
    )


def test_bearer_never_creates_users(provisioning: Sextant) -> None:
    response = Client(provisioning).ping(bearer(token("brand-new@example.com", groups=["sales"])))
    assert (response.status_code, response.content) == (401, INVALID)


def test_provisioning_neither_revives_deactivated_users_nor_changes_model_users(
    provisioning: Sextant,
) -> None:
    client = Client(provisioning)
    former = client.request(
        "POST", "/auth/sso", json={"jwt": token("former@example.com", groups=["sales"])}
    )
    assert former.status_code == 401
    analyst = client.request("POST", "/auth/sso", json={"jwt": token(groups=["money"])})
    who = provisioning.auth.authenticate(
        {"x-metabase-session": analyst.json()["session_token"]}, "t"
    )
    assert who.groups == {"All Users", "Analysts"}


# -- API keys -------------------------------------------------------------------------------


def test_api_key_create_use_revoke(client: Client, demo_service: Sextant) -> None:
    env = cli_env(demo_service.settings.data_dir)
    runner = CliRunner()
    created = runner.invoke(
        cli, ["api-key", "create", "--group", "Analysts", "--name", "bot"], env=env
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("sxt_")
    assert client.ping({"X-API-Key": key}).json() == {"message": "pong"}
    who = demo_service.auth.authenticate({"x-api-key": key}, "t")
    assert who.groups == {"All Users", "Analysts"} and who.method == "api_key"
    listed = runner.invoke(cli, ["api-key", "list"], env=env)
    assert "bot" in listed.output and key not in listed.output
    with demo_service.engine.connect() as conn:
        assert key not in str([tuple(r) for r in conn.execute(s.api_keys.select())])
    duplicate = runner.invoke(
        cli, ["api-key", "create", "--group", "Analysts", "--name", "bot"], env=env
    )
    assert duplicate.exit_code == 1
    assert runner.invoke(cli, ["api-key", "revoke", "--name", "bot"], env=env).exit_code == 0
    response = client.ping({"X-API-Key": key})
    assert response.status_code == 401 and response.json()["error"] == "missing_authorization"
    demo_service.apply()  # the model does not touch API-key users
    assert client.ping({"X-API-Key": key}).status_code == 401


def test_api_key_for_unknown_group(demo_service: Sextant) -> None:
    env = cli_env(demo_service.settings.data_dir)
    result = CliRunner().invoke(
        cli, ["api-key", "create", "--group", "Nope", "--name", "x"], env=env
    )
    assert result.exit_code == 1 and "No group named 'Nope'" in result.output


def test_tampered_api_keys_fail(client: Client, demo_service: Sextant) -> None:
    key = demo_service.credentials.create_api_key("Analysts", "k1")
    for bad in (key[:-1] + ("A" if key[-1] != "A" else "B"), "sxt_00000000_x", "garbage"):
        assert client.ping({"X-API-Key": bad}).status_code == 401


# -- scopes ---------------------------------------------------------------------------------


def _scoped_call(client: Client, service: Sextant, scope: str) -> tuple[str, str, Any]:
    """A real request that needs exactly ``scope``: (method, path, json body)."""
    snapshot = service.snapshot()
    orders = next(t.id for t in snapshot.tables.values() if t.name == "ORDERS")
    metric = next(m.id for m in snapshot.metrics.values() if m.name == "Total Revenue")
    if scope == "agent:table:read":
        return "GET", f"/api/agent/v1/table/{orders}", None
    if scope == "agent:metric:read":
        return "GET", f"/api/agent/v1/metric/{metric}", None
    if scope == "agent:search":
        return "POST", "/api/agent/v1/search", {"term_queries": ["orders"]}
    if scope == "agent:query:construct":
        return "POST", "/api/agent/v1/construct-query", {"table_id": orders}
    built = client.request(
        "POST",
        "/api/agent/v1/construct-query",
        json={"table_id": orders, "limit": 1},
        headers=bearer(token()),
    )
    return "POST", "/api/agent/v1/execute", {"query": built.json()["query"]}


@pytest.mark.parametrize("scope", SCOPES)
def test_each_scope_allowed_and_refused(demo_service: Sextant, scope: str) -> None:
    client = Client(demo_service)
    method, path, body = _scoped_call(client, demo_service, scope)
    for granted in (scope, f"agent:search {scope}", "agent:*", None):
        response = client.request(method, path, json=body, headers=bearer(token(scope=granted)))
        assert response.status_code in (200, 202), (granted, response.text)
    others = " ".join(x for x in SCOPES if x != scope)
    for refused in (others, "", "agent:table"):
        response = client.request(method, path, json=body, headers=bearer(token(scope=refused)))
        assert (response.status_code, response.content) == (403, SCOPE), refused
    session = client.request("POST", "/auth/sso", json={"jwt": token(scope=others)}).json()
    response = client.request(
        method, path, json=body, headers={"X-Metabase-Session": session["session_token"]}
    )
    assert response.status_code == 403  # a session keeps the scopes of its JWT


# -- the failed-authentication limiter -------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_engages_and_releases(
    demo: DemoFiles, services: Callable[[Settings], Sextant]
) -> None:
    clock = Clock()
    service = Sextant(
        make_settings(demo.data_dir, config=demo.model),
        limiter=MemoryFailureLimiter(5, 60.0, clock=clock),
    )
    service.apply()
    client = Client(service)
    attacker, user = "10.9.9.9", "10.1.1.1"
    for _ in range(5):
        assert client.ping(bearer("bad.token.here"), address=attacker).status_code == 401
    blocked = client.ping(bearer(token()), address=attacker)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert blocked.json()["error"] == "too_many_requests"
    sso = client.request("POST", "/auth/sso", json={"jwt": token()}, address=attacker)
    assert sso.status_code == 429
    assert client.ping(bearer(token()), address=user).status_code == 200
    for _ in range(50):  # successes are never counted
        assert client.ping(bearer(token()), address=user).status_code == 200
    clock.now += 61
    assert client.ping(bearer(token()), address=attacker).status_code == 200
    service.close()


def test_limiter_defaults_come_from_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"SEXTANT_AUTH_MAX_FAILURES": "3", "SEXTANT_AUTH_FAILURE_WINDOW_SECONDS": "10"},
        data_dir=tmp_path,
    )
    service = Sextant(settings)
    limiter = service.auth.limiter
    assert isinstance(limiter, MemoryFailureLimiter)
    assert (limiter.max_failures, limiter.window_seconds) == (3, 10.0)
    service.close()


# -- arbitrary headers never break the server -----------------------------------------------

header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["Authorization", "X-Metabase-Session", "X-API-Key", "X-Other"]),
    value=header_text,
    prefix=st.sampled_from(["", "Bearer ", "bearer  ", "Basic "]),
)
def test_arbitrary_headers_never_500(client: Client, name: str, value: str, prefix: str) -> None:
    response = client.ping({name: prefix + value}, address="10.7.7.7")
    assert response.status_code in {200, 401, 429}
    assert set(response.json()) >= (
        {"message"} if response.status_code == 200 else {"error", "message"}
    )
