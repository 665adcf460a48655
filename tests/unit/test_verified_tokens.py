"""A verified JWT is remembered by its text, but its times are checked on every use."""

from __future__ import annotations

import time

import jwt
import pytest

from sextant.auth.bearer import JwtConfig, verify_jwt
from sextant.errors import AuthenticationError

SECRET = "s" * 40
OTHER = "o" * 40


def _token(secret: str = SECRET, **claims: object) -> str:
    return jwt.encode({"email": "a@example.com", **claims}, secret, algorithm="HS256")


def test_a_remembered_token_still_ages_and_expires() -> None:
    config = JwtConfig(secret=SECRET, max_age_seconds=180)
    now = time.time()
    token = _token(iat=int(now), exp=int(now) + 60)
    assert verify_jwt(token, config, now)["email"] == "a@example.com"
    assert verify_jwt(token, config, now + 1)["email"] == "a@example.com"  # remembered
    with pytest.raises(AuthenticationError):
        verify_jwt(token, config, now + 61)  # past exp
    with pytest.raises(AuthenticationError):
        verify_jwt(token, JwtConfig(secret=SECRET, max_age_seconds=30), now + 31)  # too old
    started = _token(iat=int(now), nbf=int(now) - 5)
    assert verify_jwt(started, config, now)["email"] == "a@example.com"
    with pytest.raises(AuthenticationError):
        verify_jwt(started, config, now - 10)  # before its nbf: refused though remembered


def test_a_token_remembered_under_one_secret_is_refused_under_another() -> None:
    now = time.time()
    token = _token(iat=int(now))
    assert verify_jwt(token, JwtConfig(secret=SECRET), now)
    with pytest.raises(AuthenticationError):
        verify_jwt(token, JwtConfig(secret=OTHER), now)


def test_claims_handed_out_are_copies() -> None:
    now = time.time()
    token = _token(iat=int(now))
    config = JwtConfig(secret=SECRET)
    verify_jwt(token, config, now)["email"] = "mallory@example.com"
    assert verify_jwt(token, config, now)["email"] == "a@example.com"
