"""The floor a Sextant request is measured against: a bare FastAPI endpoint that verifies an
HS256 JWT with PyJWT (as every Sextant request must) and answers pong, on the same uvicorn.

    .venv/bin/python -m uvicorn floor_app:app --app-dir benchmarks
"""

from __future__ import annotations

import os

import jwt
from fastapi import FastAPI, Header, HTTPException

SECRET = os.environ.get("FLOOR_JWT_SECRET", "benchmark-secret-0123456789abcdef0123456789")

app = FastAPI()


@app.get("/ping")
def ping(authorization: str = Header("")) -> dict[str, str]:
    scheme, _, token = authorization.partition(" ")
    try:
        claims = jwt.decode(token, SECRET.encode(), algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise HTTPException(401, "invalid_jwt") from exc
    if scheme.lower() != "bearer" or "email" not in claims:
        raise HTTPException(401, "invalid_jwt")
    return {"message": "pong"}
