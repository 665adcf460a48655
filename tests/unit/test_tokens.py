"""``make_jwt`` signs with the standard library; PyJWT (what the server verifies with) must
accept every token it makes, with every claim intact."""

from __future__ import annotations

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sextant.auth.tokens import make_jwt

claim_values = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.lists(st.text(), max_size=3),
)


REGISTERED = frozenset({"iat", "exp", "nbf", "aud", "iss", "sub", "jti"})


@given(
    secret=st.text(min_size=32, max_size=64),  # PyJWT warns under 32 bytes
    email=st.text(max_size=40),
    extra=st.dictionaries(
        # registered claims PyJWT checks the type of (nbf must be a number…) are left out
        st.text(min_size=1, max_size=10).filter(lambda k: k not in REGISTERED | {"email"}),
        claim_values,
        max_size=4,
    ),
)
def test_pyjwt_verifies_every_token(secret: str, email: str, extra: dict[str, object]) -> None:
    token = make_jwt(secret, email, now=1_700_000_000, claims=extra)
    claims = jwt.decode(
        token, secret.encode("utf-8"), algorithms=["HS256"], options={"verify_iat": False}
    )
    assert claims == {"iat": 1_700_000_000, "email": email, **extra}
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_a_wrong_key_is_refused() -> None:
    token = make_jwt("r" * 32, "a@example.com")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, b"w" * 32, algorithms=["HS256"])
