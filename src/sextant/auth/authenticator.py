"""From request headers to a :class:`Principal`, or one of the fixed 401 answers of spec §8.

Order: a valid session or API key wins; otherwise the ``Authorization: Bearer`` JWT is checked.
Every failed credential is counted by the failed-authentication limiter of the client address.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from sextant.auth.bearer import JwtConfig, invalid_jwt, verify_jwt
from sextant.auth.limiter import FailureLimiter
from sextant.auth.memo import CredentialMemo, NeedsLookUp
from sextant.auth.principal import Principal, parse_scopes
from sextant.errors import AuthenticationError, RateLimitedError
from sextant.model.types import ProvisioningSpec
from sextant.store.credentials import (
    SessionGrant,
    create_session,
    hash_secret,
    resolve_api_key,
    resolve_session,
)
from sextant.store.users import (
    Identity,
    load_identity,
    provision_user,
    sync_provisioned_groups,
    user_exists,
)

__all__ = ["AuthPolicy", "Authenticator", "missing_authorization"]


def missing_authorization() -> AuthenticationError:
    return AuthenticationError(
        "missing_authorization",
        "Authentication required. Use X-Metabase-Session header or Authorization: Bearer <jwt>.",
    )


def _invalid_format() -> AuthenticationError:
    return AuthenticationError(
        "invalid_authorization_format",
        "Authorization header must use Bearer scheme: Authorization: Bearer <jwt>",
    )


def _unknown_credential() -> AuthenticationError:
    """An unknown, expired or revoked session or API key: answered like no credentials at all,
    as Metabase answers it (it counts as a failure all the same)."""
    return missing_authorization()


SESSION_HEADER = "x-metabase-session"
API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class AuthPolicy:
    """What the model and settings say about authentication, read at each request."""

    jwt: JwtConfig
    session_ttl: _dt.timedelta
    provisioning: ProvisioningSpec


class Authenticator:
    def __init__(
        self,
        engine: Engine,
        policy: Callable[[], AuthPolicy],
        limiter: FailureLimiter,
        memo_seconds: float = 0.0,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.limiter = limiter
        # (kind, credential digest or e-mail) -> (identity, scopes): see sextant.auth.memo
        self.memo: CredentialMemo[tuple[Identity, frozenset[str] | None]] = CredentialMemo(
            memo_seconds
        )

    # -- requests --------------------------------------------------------------------------
    def authenticate(
        self, headers: Mapping[str, str], client: str, *, wait: bool = True
    ) -> Principal:
        """The caller of a request; headers are matched case-insensitively.

        Without ``wait`` (on the event loop) only what needs no I/O is done: one credential,
        remembered, with the limiter in this process; otherwise :class:`NeedsLookUp` is raised
        before anything is counted, and the caller asks again with ``wait``.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        session = lowered.get(SESSION_HEADER, "").strip()
        api_key = lowered.get(API_KEY_HEADER, "").strip()
        authorization = lowered.get("authorization", "").strip()
        if not (session or api_key or authorization):
            raise missing_authorization()
        if not wait and (
            self.limiter.remote or bool(session) + bool(api_key) + bool(authorization) > 1
        ):
            raise NeedsLookUp()
        self._check_limit(client)
        failure: AuthenticationError | None = None
        found: Principal | None = None
        # every credential given is checked, and every one that fails counts towards the
        # limiter, even when another one succeeds: guessing keys next to a valid JWT is
        # still guessing
        if session:
            found = self._from_session(session, wait)
            if found is None:
                failure = _unknown_credential()
                self._failed(client, failure)
        if api_key and found is None:
            found = self._from_api_key(api_key, wait)
            if found is None:
                failure = failure or _unknown_credential()
                self._failed(client, _unknown_credential())
        elif api_key and self._from_api_key(api_key) is None:
            self._failed(client, _unknown_credential())
        if authorization:
            try:
                bearer = self._from_bearer(authorization, wait)
            except AuthenticationError as exc:
                failure = exc  # a JWT says more than an unknown session or key
                self._failed(client, exc)
            else:
                found = found or bearer
        if found is not None:
            return found
        assert failure is not None
        raise failure

    def _check_limit(self, client: str) -> None:
        retry = self.limiter.retry_after(client)
        if retry is not None:
            raise RateLimitedError(retry)

    def _failed(self, client: str, failure: AuthenticationError) -> None:
        if failure.code != "jwt_not_configured":
            self.limiter.record_failure(client)

    def _from_session(self, token: str, wait: bool = True) -> Principal | None:
        def look_up() -> tuple[Identity, frozenset[str] | None] | None:
            found = resolve_session(self.engine, token)
            identity = load_identity(self.engine, user_id=found[0]) if found else None
            return (identity, found[1]) if identity and found else None

        known = self.memo.remember(("session", hash_secret(token)), look_up, wait=wait)
        return _principal(known[0], known[1], "session") if known else None

    def _from_api_key(self, key: str, wait: bool = True) -> Principal | None:
        def look_up() -> tuple[Identity, frozenset[str] | None] | None:
            user_id = resolve_api_key(self.engine, key)
            identity = load_identity(self.engine, user_id=user_id) if user_id is not None else None
            return (identity, None) if identity else None

        known = self.memo.remember(("api_key", hash_secret(key)), look_up, wait=wait)
        return _principal(known[0], None, "api_key") if known else None

    def _from_bearer(self, authorization: str, wait: bool = True) -> Principal:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise _invalid_format()
        policy = self.policy()
        claims = verify_jwt(token.strip(), policy.jwt)  # every request: signature and age
        email = str(claims[policy.jwt.email_claim]).strip().lower()

        def look_up() -> tuple[Identity, frozenset[str] | None] | None:
            identity = load_identity(self.engine, email=email)
            return (identity, None) if identity else None

        known = self.memo.remember(("email", email), look_up, wait=wait)
        if known is None:
            raise invalid_jwt()  # unknown and deactivated users look like bad signatures
        return _principal(known[0], parse_scopes(claims.get("scope")), "jwt")

    # -- the session exchange --------------------------------------------------------------
    def exchange(self, token: str, client: str) -> SessionGrant:
        """``POST /auth/sso``: a session for a valid JWT, provisioning users when enabled."""
        self._check_limit(client)
        policy = self.policy()
        try:
            claims = verify_jwt(token, policy.jwt)
            identity = self._provisioned(claims, policy)
        except AuthenticationError as exc:
            self._failed(client, exc)
            raise
        return create_session(
            self.engine, identity.user_id, parse_scopes(claims.get("scope")), policy.session_ttl
        )

    def _provisioned(self, claims: dict[str, Any], policy: AuthPolicy) -> Identity:
        email = str(claims[policy.jwt.email_claim]).strip()
        identity = load_identity(self.engine, email=email)
        provisioning = policy.provisioning
        if not provisioning.enabled:
            if identity is None:
                raise invalid_jwt()
            return identity
        groups = _mapped_groups(claims.get("groups"), provisioning)
        if identity is None:
            if user_exists(self.engine, email):
                raise invalid_jwt()  # a deactivated user is never revived by a token
            provision_user(
                self.engine,
                email,
                _text(claims.get("first_name")),
                _text(claims.get("last_name")),
                groups,
            )
        elif identity.source == "provisioned":
            sync_provisioned_groups(self.engine, identity.user_id, groups)
        fresh = load_identity(self.engine, email=email)
        if fresh is None:
            raise invalid_jwt()
        return fresh


def _principal(identity: Identity, scopes: frozenset[str] | None, method: str) -> Principal:
    return Principal(
        user_id=identity.user_id,
        email=identity.email,
        groups=identity.groups,
        attributes=dict(identity.attributes),
        scopes=scopes,
        method=method,
    )


def _text(value: object) -> str | None:
    return value.strip()[:255] or None if isinstance(value, str) else None


def _mapped_groups(claim: object, provisioning: ProvisioningSpec) -> list[str]:
    """Sextant groups for the ``groups`` claim, only through the mapping (others ignored)."""
    if not isinstance(claim, list | tuple):
        return []
    out: list[str] = []
    for name in (str(c) for c in claim):
        out += provisioning.group_mapping.get(name, ())
    return sorted(set(out))
