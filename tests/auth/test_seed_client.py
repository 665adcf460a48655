"""The reference's own client code (seed 001: PyJWT + requests) against a real demo server.

The snippets are taken from the seed file as written; only METABASE_URL and JWT_SECRET change.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_SECRET

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "001_8c888659e515caed.txt"


def _snippet(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin)]


def _configure(code: str, base_url: str) -> str:
    code = re.sub(r'METABASE_URL = "[^"]*"', f'METABASE_URL = "{base_url}"', code)
    return re.sub(r'JWT_SECRET = "[^"]*"', f'JWT_SECRET = "{TEST_SECRET}"', code)


@pytest.fixture
def seed_text() -> str:
    if not SEED.exists():
        pytest.fail(f"the reference seed is missing at {SEED} (../shared must sit beside the repo)")
    return SEED.read_text(encoding="utf-8")


def test_seed_client_works_as_written(
    seed_text: str,
    live_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The Slack example imports slack_sdk; it is not part of what we test, so give it a module.
    monkeypatch.setitem(sys.modules, "slack_sdk", types.SimpleNamespace(WebClient=object))
    bot = _configure(
        _snippet(seed_text, "import jwt\nimport time", "def handle_slack_message"), live_server
    )
    namespace: dict[str, Any] = {}
    exec(compile(bot, "seed-001-slack-bot", "exec"), namespace)
    assert namespace["METABASE_URL"] == live_server

    safe = _snippet(seed_text, "import jwt\nimport requests\nfrom typing", "Example workflows")
    exec(compile(safe, "seed-001-error-handling", "exec"), namespace)
    safe_api_call = namespace["safe_api_call"]

    assert safe_api_call("v1/ping", "analyst@example.com") == {"message": "pong"}
    assert safe_api_call("v1/ping", "Analyst@Example.com") == {"message": "pong"}
    assert safe_api_call("v1/ping", "nobody@example.com") is None
    assert "401" in capsys.readouterr().out
    assert safe_api_call("v1/no-such-endpoint", "analyst@example.com") is None
    assert "Resource not found" in capsys.readouterr().out

    token = namespace["create_jwt"]("analyst@example.com")
    import requests

    response = requests.get(
        f"{live_server}/api/agent/v1/ping", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200 and response.json() == {"message": "pong"}
