"""The guarded agent against a scripted model speaking OpenAI's and Anthropic's wire formats
over loopback HTTP, and a real Sextant server: every guard of seed 000, observed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sextant.agent import AgentStopped, CallLog, GuardedAgent, ResultCache, provider_for
from sextant.cli.main import app
from sextant.client import AgentClient
from sextant.store import schema as s
from tests.conftest import TEST_SECRET
from tests.tooling.conftest import Live
from tests.tooling.scripted_model import ScriptedModel, Seen, Step

WIRES = ["openai", "anthropic"]
LOG_FIELDS = {
    "time",
    "conversation",
    "model",
    "tool",
    "input",
    "output_bytes",
    "rows",
    "cache_hit",
    "duration_ms",
    "outcome",
}


def card_runs(live: Live) -> int:
    live.service.queries.audit.flush()
    with live.service.engine.connect() as conn:
        query = select(func.count()).select_from(s.audit_log)
        return int(conn.execute(query.where(s.audit_log.c.action == "card.query")).scalar_one())


def agent(
    live: Live, wire: str, url: str, log: Path, cache: ResultCache | None = None, **kw: Any
) -> tuple[GuardedAgent, AgentClient]:
    client = AgentClient(live.url, **(kw.pop("credentials", None) or {"api_key": live.key}))
    provider = provider_for(wire, url, "scripted-model", "model-key")
    made = GuardedAgent(client, provider, call_log=CallLog(log), cache=cache or ResultCache(), **kw)
    return made, client


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def hand(live: Live, sql: str) -> list[tuple[Any, ...]]:
    path = live.service.settings.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]


@pytest.mark.parametrize("wire", WIRES)
def test_a_valid_call_is_answered_with_its_card(live: Live, wire: str, tmp_path: Path) -> None:
    card = live.card_id("Revenue by State")

    def script(seen: Seen) -> Step:
        if seen.turn == 0:
            params = [{"slug": "state", "value": ["CA"]}]
            return Step(calls=(("run_card", {"card_id": card, "parameters": params}),))
        rows = json.loads(seen.results[0][0])["rows"]
        return Step(text=f"Revenue in California: {rows[0][1]:.2f} dollars.")

    model = ScriptedModel(wire, script)
    log = tmp_path / "calls.jsonl"
    before = card_runs(live)
    with model.running() as url:
        guarded, client = agent(live, wire, url, log)
        with client:
            answer = guarded.ask("What is the revenue in California?")
    [(expected,)] = hand(
        live,
        'SELECT sum(o."TOTAL") FROM "ORDERS" o JOIN "PEOPLE" p ON p."ID" = o."USER_ID" '
        "WHERE p.\"STATE\" = 'CA'",
    )
    assert answer.text.startswith(f"Revenue in California: {expected:.2f} dollars.")
    assert answer.text.endswith(f'Sources: card {card} "Revenue by State"')
    assert answer.cards == ((card, "Revenue by State"),) and answer.tool_calls == 1
    assert card_runs(live) == before + 1
    first = model.requests[0]
    if wire == "openai":
        system = first.body["messages"][0]["content"]
        assert [t["function"]["name"] for t in first.body["tools"]] == ["run_card"]
        assert first.headers["authorization"] == "Bearer model-key"
        second = model.requests[1].body["messages"]
        assert second[-1]["role"] == "tool" and second[-2]["tool_calls"]
    else:
        system = first.body["system"]
        assert [t["name"] for t in first.body["tools"]] == ["run_card"]
        assert first.headers["x-api-key"] == "model-key"
        assert first.headers["anthropic-version"] == "2023-06-01"
        last = model.requests[1].body["messages"][-1]["content"][0]
        assert last["type"] == "tool_result" and last["is_error"] is False
    assert "Only the card ids in this list exist" in system
    assert "Revenue by State" in system and "Top Products" in system
    assert "Gross Sales by Quarter" not in system  # Finance: not curated
    assert "select" not in system.lower()  # no SQL anywhere
    [line] = log_lines(log)
    assert set(line) == LOG_FIELDS
    assert (line["tool"], line["outcome"], line["rows"], line["cache_hit"]) == (
        "run_card",
        "ok",
        1,
        False,
    )
    assert line["model"] == "scripted-model" and line["output_bytes"] > 0


@pytest.mark.parametrize("wire", WIRES)
def test_hallucinated_ids_and_bad_parameters_never_reach_the_api(
    live: Live, wire: str, tmp_path: Path
) -> None:
    top, period = live.card_id("Top Products"), live.card_id("Orders in Period")
    finance = live.card_id("Gross Sales by Quarter")
    calls = [
        ("run_card", {"card_id": 99999}),
        ("run_card", {"card_id": finance}),  # exists, but not in the curated list
        ("run_card", {"card_id": top, "parameters": [{"slug": "category", "value": "Gizmos"}]}),
        ("run_card", {"card_id": top, "parameters": [{"slug": "colour", "value": "red"}]}),
        ("run_card", {"card_id": period}),
        ("run_card", {"card_id": period, "parameters": [{"slug": "period", "value": "May"}]}),
        ("run_card", {"card_id": "seven"}),
        ("drop_table", {"name": "ORDERS"}),
    ]

    def script(seen: Seen) -> Step:
        if seen.turn == 0:
            return Step(calls=tuple(calls))
        return Step(text="No card fits this question.")

    model = ScriptedModel(wire, script)
    log = tmp_path / "calls.jsonl"
    before = card_runs(live)
    with model.running() as url:
        guarded, client = agent(live, wire, url, log)
        with client:
            answer = guarded.ask("Sales of gizmos?")
    assert answer.text == "No card fits this question." and answer.cards == ()
    assert card_runs(live) == before  # nothing reached the API
    results = [json.loads(text)["error"] for text, _ in model.requests[1].results]
    assert all(error for _, error in model.requests[1].results) or wire == "openai"
    assert results[0].startswith("card_id 99999 is not in the allowed card list (allowed: ")
    assert results[1].startswith(f"card_id {finance} is not in the allowed card list")
    assert results[2] == (
        "parameter 'category': 'Gizmos' is not allowed; use one of Doohickey, Gadget, Gizmo, Widget"
    )
    assert results[3] == f"card {top} has no parameter 'colour'; its parameters: category"
    assert results[4].startswith(f"card {period} needs parameter 'period' (date/range)")
    assert results[5].startswith("parameter 'period' (date/range) expects a range of days")
    assert results[6].startswith("invalid input for run_card: card_id")
    assert results[7] == "unknown tool 'drop_table'; the tools are: run_card"
    lines = log_lines(log)
    assert len(lines) == len(calls) and {line["outcome"] for line in lines} == {"refused"}


def test_a_large_result_is_cut_with_the_note(live: Live, tmp_path: Path) -> None:
    card = live.card_id("Recent Large Orders")

    def script(seen: Seen) -> Step:
        if seen.turn == 0:
            return Step(calls=(("run_card", {"card_id": card}),))
        return Step(text="There are many large orders.")

    model = ScriptedModel("openai", script)
    with model.running() as url:
        guarded, client = agent(live, "openai", url, tmp_path / "calls.jsonl")
        with client:
            guarded.ask("Show me the large orders")
    content = model.requests[1].results[0][0]
    result = json.loads(content)
    assert len(content.encode()) <= 30_000 and result["row_count"] == len(result["rows"]) == 200
    assert result["truncated"] is True
    assert result["note"] == (
        "results truncated to 200 rows of 2,000 or more; ask a more specific question"
    )
    with AgentClient(live.url, api_key=live.key) as client:
        full = client.run_card(card)
    assert len(json.dumps(full.rows)) > 30_000  # the whole result would not have fit


def test_a_runaway_model_is_stopped_at_the_loop_cap(live: Live, tmp_path: Path) -> None:
    card = live.card_id("Revenue by Month")
    model = ScriptedModel("anthropic", lambda seen: Step(calls=(("run_card", {"card_id": card}),)))
    log = tmp_path / "calls.jsonl"
    before = card_runs(live)
    with model.running() as url:
        guarded, client = agent(live, "anthropic", url, log)
        with client, pytest.raises(AgentStopped, match="stopped after 8 tool calls"):
            guarded.ask("loop forever")
        env = {
            "SEXTANT_LLM_PROVIDER": "anthropic",
            "SEXTANT_LLM_URL": url,
            "SEXTANT_LLM_MODEL": "scripted-model",
            "SEXTANT_AGENT_LOG": str(tmp_path / "cli.jsonl"),
            "SEXTANT_AGENT_MAX_CALLS": "3",
        }
        result = CliRunner().invoke(
            app, ["ask", "loop forever", "--url", live.url, "--api-key", live.key], env=env
        )
    assert result.exit_code == 1
    assert "stopped after 3 tool calls without an answer" in result.output
    assert len(log_lines(log)) == 8 and len(log_lines(tmp_path / "cli.jsonl")) == 3
    # the same card with the same parameters: one run, then the cache (per process)
    assert card_runs(live) == before + 2
    assert [line["cache_hit"] for line in log_lines(log)] == [False] + [True] * 7


def test_the_cache_hits_within_its_time_and_misses_after(live: Live, tmp_path: Path) -> None:
    card = live.card_id("Orders by Category")
    clock = [1000.0]
    cache = ResultCache(60, clock=lambda: clock[0])

    def script(seen: Seen) -> Step:
        if not seen.results:
            return Step(calls=(("run_card", {"card_id": card}),))
        return Step(text="Widgets lead.")

    model = ScriptedModel("openai", script)
    log = tmp_path / "calls.jsonl"
    before = card_runs(live)
    with model.running() as url:
        guarded, client = agent(live, "openai", url, log, cache)
        with client:
            guarded.ask("Which category sells most?")
            clock[0] += 59
            guarded.ask("Which category sells most?")
            clock[0] += 2  # 61 s after the first run
            guarded.ask("Which category sells most?")
    assert [line["cache_hit"] for line in log_lines(log)] == [False, True, False]
    assert card_runs(live) == before + 2
    assert len({line["conversation"] for line in log_lines(log)}) == 3


def test_two_sandboxes_never_share_a_cached_result(live: Live, tmp_path: Path) -> None:
    card = live.card_id("Revenue by State")
    cache = ResultCache(60)
    seen_rows: list[list[Any]] = []

    def script(seen: Seen) -> Step:
        if not seen.results:
            return Step(calls=(("run_card", {"card_id": card}),))
        seen_rows.append(json.loads(seen.results[0][0])["rows"])
        return Step(text="done")

    model = ScriptedModel("anthropic", script)
    log = tmp_path / "calls.jsonl"
    with model.running() as url:
        for email in ("analyst@example.com", "ca-manager@example.com"):
            credentials = {"jwt_secret": TEST_SECRET, "email": email}
            guarded, client = agent(live, "anthropic", url, log, cache, credentials=credentials)
            with client:
                guarded.ask("Revenue by state?")
    analyst, ca = seen_rows
    assert len(analyst) == 49 and [r[0] for r in ca] == ["CA"]
    assert [line["cache_hit"] for line in log_lines(log)] == [False, False]


def test_ask_prints_the_answer_and_exits_0(live: Live, tmp_path: Path) -> None:
    card = live.card_id("Order Count")

    def script(seen: Seen) -> Step:
        if not seen.results:
            return Step(calls=(("run_card", {"card_id": card}),))
        return Step(text=f"There are {json.loads(seen.results[0][0])['rows'][0][0]} orders.")

    model = ScriptedModel("openai", script)
    with model.running() as url:
        env = {"SEXTANT_LLM_URL": url, "SEXTANT_LLM_MODEL": "m", "SEXTANT_JWT_SECRET": TEST_SECRET}
        result = CliRunner().invoke(
            app,
            [
                "ask",
                "How many orders?",
                "--url",
                live.url,
                "--email",
                "analyst@example.com",
                "--collection",
                "Curated",
            ],
            env=env,
        )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f'There are 18760 orders.\n\nSources: card {card} "Order Count"'


def test_an_unreachable_model_exits_non_zero(live: Live) -> None:
    env = {"SEXTANT_LLM_URL": "http://127.0.0.1:9/v1", "SEXTANT_LLM_MODEL": "m"}
    result = CliRunner().invoke(
        app, ["ask", "anything", "--url", live.url, "--api-key", live.key], env=env
    )
    assert result.exit_code == 1 and "could not be reached" in result.output
