"""The examples run against a live demo, as their docstrings say to run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TEST_SECRET
from tests.tooling.conftest import Live

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def hand(live: Live, sql: str) -> list[tuple[object, ...]]:
    path = live.service.settings.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]


def test_curated_cards_example(live: Live) -> None:
    out = run(
        str(EXAMPLES / "curated_cards.py"),
        "--url",
        live.url,
        "--api-key",
        live.key,
        "--param",
        "state=TX",
    )
    listing, _, ran = out.partition("\n]\n")
    cards = json.loads(listing + "\n]")
    assert {c["name"] for c in cards} >= {"Revenue by State", "Top Products", "Order Count"}
    assert all("sql" not in json.dumps(c).lower() for c in cards)
    result = json.loads(ran)
    [(expected,)] = hand(
        live,
        'SELECT sum(o."TOTAL") FROM "ORDERS" o JOIN "PEOPLE" p ON p."ID" = o."USER_ID" '
        "WHERE p.\"STATE\" = 'TX'",
    )
    assert result["rows"] == [{"STATE": "TX", "sum": pytest.approx(expected)}]


def test_slack_bot_example_answers_as_the_asking_user(live: Live) -> None:
    everyone = run(
        str(EXAMPLES / "slack_bot.py"),
        "--url",
        live.url,
        "--secret",
        TEST_SECRET,
        "--email",
        "analyst@example.com",
        "How many orders?",
    )
    assert everyone.startswith("[#data] Order Count: 18,760.00 (metric ")
    california = run(
        str(EXAMPLES / "slack_bot.py"),
        "--url",
        live.url,
        "--secret",
        TEST_SECRET,
        "--email",
        "ca-manager@example.com",
        "How many orders?",
    )
    [(ca_orders,)] = hand(
        live,
        'SELECT count(*) FROM "ORDERS" o JOIN "PEOPLE" p ON p."ID" = o."USER_ID" '
        "WHERE p.\"STATE\" = 'CA'",
    )
    assert california.startswith(f"[#data] Order Count: {ca_orders:,.2f}")
    outsider = run(
        str(EXAMPLES / "slack_bot.py"),
        "--url",
        live.url,
        "--secret",
        TEST_SECRET,
        "--email",
        "outsider@example.com",
        "How many orders?",
    )
    assert outsider.startswith("[#data] I found no metric")


def test_slack_bot_by_month(live: Live) -> None:
    out = run(
        str(EXAMPLES / "slack_bot.py"),
        "--url",
        live.url,
        "--secret",
        TEST_SECRET,
        "--email",
        "analyst@example.com",
        "What is our revenue by month?",
    )
    expected = hand(
        live,
        "SELECT strftime(date_trunc('month', \"CREATED_AT\"), '%Y-%m'), sum(\"TOTAL\") "
        'FROM "ORDERS" GROUP BY 1 ORDER BY 1 DESC LIMIT 3',
    )
    lines = out.strip().splitlines()
    assert lines[0].startswith("[#data] Total Revenue, last months (metric ")
    assert lines[1:] == [f"{m}: {v:,.2f}" for m, v in reversed(expected)]
