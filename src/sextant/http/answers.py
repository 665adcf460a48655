"""The JSON answer of a route: encoded once, straight from the operation's dict.

FastAPI runs a returned dict through ``jsonable_encoder`` (a recursive copy) before encoding it;
for a table detail that copy cost twice the work of building the detail. Routes return
:class:`JsonAnswer` instead: ``json.dumps`` encodes the plain values operations produce, and the
encoder is used only for what ``json`` does not know (dates, decimals, models)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

__all__ = ["JsonAnswer"]


class JsonAnswer(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(
            content,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
            default=jsonable_encoder,
        ).encode("utf-8")
