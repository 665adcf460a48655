"""The guarded agent of seed 000: an LLM answers a question with the curated cards only.

- The system prompt holds the curated card list (id, name, description, collection, result
  columns with types; never SQL) and says that only these ids exist.
- Every tool call is validated before anything runs: an unknown tool, a card id not in the
  list, or parameters that do not fit the card get an error result telling the model what is
  allowed, and the API is not called.
- Results reach the model cut to N rows / N bytes of JSON, with a note when cut.
- A card's result is reused for a short time (60 s), keyed by card, canonical parameters and
  the caller's security context, so two users with different sandboxes never share one.
- One query at a time per conversation; after N tool calls without an answer, it stops.
- One JSON line per tool call goes to the call log; the answer names its cards.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sextant.agent.providers import Provider, ToolCall, ToolResult, ToolSchema, Turn
from sextant.client import AgentClient, ApiError
from sextant.mcp.tools import TOOLS
from sextant.model.parameters import PARAMETER_TYPES, allowed, atoms, choice_atoms
from sextant.operations.cut import Rows, cut, dumps
from sextant.operations.shapes import CardParameter, CuratedCard, QueryResult

__all__ = ["AgentStopped", "Answer", "CallLog", "GuardedAgent", "ResultCache"]

log = logging.getLogger("sextant.agent")

CARD_TOOLS = ("run_card",)
AGENT_TOOLS = ("run_card", "search", "get_table", "query")


class AgentStopped(Exception):
    """The agent stopped without an answer (loop cap, model unreachable); says why."""


@dataclass(frozen=True)
class Answer:
    text: str
    cards: tuple[tuple[int, str], ...]  # (id, name) of each card whose rows were used
    tool_calls: int
    conversation: str


class ResultCache:
    """Results by key for ``seconds``; shared by the conversations of one process."""

    def __init__(self, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] <= self.clock():
                self._items.pop(key, None)
                return None
            return found[1]

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            self._items[key] = (self.clock() + self.seconds, value)


class CallLog:
    """One JSON line per tool call, appended to ``path`` (and to the log)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = dumps(record)
        log.info("tool call %s", line)
        if self.path is None:
            return
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class _Refused(Exception):
    """A tool call refused before any API call; the message tells the model what is allowed."""


def _rows(result: QueryResult) -> Rows:
    columns = [
        {"name": c.name, "display_name": c.display_name, "base_type": c.base_type}
        for c in result.cols
    ]
    return Rows(columns, result.rows, result.truncated)


_KINDS = {"number": "number", "string": "string", "date": "temporal"}


def _check_value(parameter: CardParameter, value: Any) -> None:
    """Whether ``value`` fits the parameter's type and allowed values (as far as a client
    can tell: the server checks again against the column)."""
    family = parameter.type.split("/", 1)[0]
    kinds = [_KINDS[family]] if family in _KINDS else ["string", "number", "boolean"]
    problems = []
    for kind in kinds:
        try:
            given = choice_atoms(parameter.type, value, kind)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        choices = parameter.values
        if choices is not None:
            outside = [v for v in given if not allowed(v, choices)]
            if outside:
                raise _Refused(
                    f"parameter {parameter.slug!r}: {outside[0]!r} is not allowed; "
                    f"use one of {', '.join(map(str, choices))}"
                )
        return
    raise _Refused(f"parameter {parameter.slug!r} ({parameter.type}) expects {problems[0]}")


class GuardedAgent:
    """Answers questions with an LLM over a Sextant server's curated cards."""

    def __init__(
        self,
        client: AgentClient,
        provider: Provider,
        *,
        collection: str | None = None,
        tools: str = "cards",
        max_calls: int = 8,
        cache: ResultCache | None = None,
        call_log: CallLog | None = None,
        max_rows: int = 200,
        max_bytes: int = 30_000,
    ) -> None:
        if tools not in ("cards", "agent"):
            raise ValueError("tools is 'cards' (run_card only) or 'agent' (also search, …)")
        self.client = client
        self.provider = provider
        self.collection = collection
        self.tool_names = CARD_TOOLS if tools == "cards" else AGENT_TOOLS
        self.max_calls = max_calls
        self.cache = cache if cache is not None else ResultCache()
        self.call_log = call_log or CallLog()
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._one_query = threading.Lock()
        self._context: str | None = None

    # -- what the model is given -----------------------------------------------------------
    def cards(self) -> list[CuratedCard]:
        """The curated cards, narrowed to ``collection`` when given."""
        cards = self.client.curated_cards()
        if self.collection is not None:
            wanted = "/" + self.collection.strip("/")
            cards = [c for c in cards if c.collection == wanted]
        return cards

    @staticmethod
    def card_list(cards: list[CuratedCard]) -> list[dict[str, Any]]:
        return [
            {
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "collection": c.collection,
                "result_columns": c.result_columns,
                "parameters": [
                    {
                        "slug": p.slug,
                        "name": p.name,
                        "type": p.type,
                        "required": p.required,
                        **({"default": p.default} if p.default is not None else {}),
                        **({"values": p.values} if p.values is not None else {}),
                    }
                    for p in c.parameters
                ],
            }
            for c in cards
        ]

    def system_prompt(self, cards: list[CuratedCard]) -> str:
        listing = json.dumps(self.card_list(cards), indent=2, ensure_ascii=False)
        return (
            "You answer questions using the provided saved questions (cards).\n"
            f"Only the card ids in this list exist:\n{listing}\n"
            "To get data, call the run_card tool with a card_id from this list and its "
            'parameters as [{"slug": ..., "value": ...}]. Never invent card ids. If no card '
            "fits, say so. Describe what you found; every number must come from a card's "
            "rows: name the card (id and name) it came from."
        )

    def tools(self) -> list[ToolSchema]:
        return [
            ToolSchema(name, TOOLS[name].description, TOOLS[name].input_schema())
            for name in self.tool_names
        ]

    # -- one conversation ------------------------------------------------------------------
    def security_context(self) -> str:
        """Who the results belong to: the caller and its groups (sandboxes follow them)."""
        if self._context is None:
            user = self.client.current_user()
            self._context = f"{user.id}:{','.join(map(str, sorted(user.group_ids)))}"
        return self._context

    def ask(self, question: str) -> Answer:
        conversation = uuid.uuid4().hex
        cards = self.cards()
        by_id = {c.id: c for c in cards}
        system = self.system_prompt(cards)
        tools = self.tools()
        turns: list[Turn] = [Turn("user", question)]
        calls = 0
        used: dict[int, str] = {}
        while True:
            reply = self.provider.complete(system, turns, tools)
            turns.append(Turn("assistant", reply.text, reply.calls))
            if not reply.calls:
                return Answer(
                    self._sourced(reply.text, used), tuple(used.items()), calls, conversation
                )
            results = []
            for call in reply.calls:
                if calls >= self.max_calls:
                    raise AgentStopped(
                        f"stopped after {calls} tool calls without an answer (the loop cap); "
                        "the question may need a card that does not exist"
                    )
                calls += 1
                results.append(self._handle(conversation, call, by_id, used))
            turns.append(Turn("tool", results=tuple(results)))

    @staticmethod
    def _sourced(text: str, used: dict[int, str]) -> str:
        if not used:
            return text
        sources = "; ".join(f'card {i} "{name}"' for i, name in used.items())
        return f"{text.rstrip()}\n\nSources: {sources}"

    def _handle(
        self,
        conversation: str,
        call: ToolCall,
        cards: dict[int, CuratedCard],
        used: dict[int, str],
    ) -> ToolResult:
        started = time.perf_counter()
        record: dict[str, Any] = {
            "time": _dt.datetime.now(_dt.UTC).isoformat(),
            "conversation": conversation,
            "model": self.provider.model,
            "tool": call.name,
            "input": call.input,
            "cache_hit": False,
            "rows": None,
        }
        try:
            body = self._run(call, cards, record)
            if call.name == "run_card":
                card = cards[int(call.input["card_id"])]
                used[card.id] = card.name
            outcome, is_error = "ok", False
        except _Refused as exc:
            body, outcome, is_error = {"error": str(exc)}, "refused", True
        except ApiError as exc:
            body, outcome, is_error = {"error": exc.message}, "error", True
        text = dumps(body)
        record |= {
            "output_bytes": len(text.encode("utf-8")),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "outcome": outcome,
        }
        self.call_log.write(record)
        return ToolResult(call.id, text, is_error)

    def _run(
        self, call: ToolCall, cards: dict[int, CuratedCard], record: dict[str, Any]
    ) -> dict[str, Any]:
        if call.name not in self.tool_names:
            raise _Refused(
                f"unknown tool {call.name!r}; the tools are: {', '.join(self.tool_names)}"
            )
        spec = TOOLS[call.name]
        try:
            args: Any = spec.arguments.model_validate(call.input)
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()
            )
            raise _Refused(f"invalid input for {call.name}: {details}") from exc
        if call.name == "run_card":
            return self._run_card(args.card_id, args.parameters, cards, record)
        with self._one_query:
            if call.name == "search":
                found = self.client.search(args.term_queries, args.semantic_queries, args.limit)
                return dict(found.model_dump(exclude_unset=True))
            if call.name == "get_table":
                flags = args.model_dump(exclude={"table_id"})
                return dict(
                    self.client.table(args.table_id, **flags).model_dump(exclude_unset=True)
                )
            result = cut(_rows(self.client.query(args)), self.max_rows, self.max_bytes)
            record["rows"] = result["row_count"]
            return result

    def _run_card(
        self,
        card_id: int,
        parameters: list[Any],
        cards: dict[int, CuratedCard],
        record: dict[str, Any],
    ) -> dict[str, Any]:
        card = cards.get(card_id)
        if card is None:
            allowed_ids = ", ".join(str(i) for i in cards) or "none"
            raise _Refused(
                f"card_id {card_id} is not in the allowed card list (allowed: {allowed_ids})"
            )
        canonical = self._canonical(card, parameters)
        key = dumps([card.id, canonical, self.security_context()])
        cached = self.cache.get(key)
        if cached is not None:
            record |= {"cache_hit": True, "rows": cached["row_count"]}
            return cached
        with self._one_query:
            result = self.client.run_card(card.id, [{"slug": s, "value": v} for s, v in canonical])
        body = cut(
            _rows(result),
            self.max_rows,
            self.max_bytes,
            {"card": {"id": card.id, "name": card.name}},
        )
        record["rows"] = body["row_count"]
        self.cache.put(key, body)
        return body

    @staticmethod
    def _canonical(card: CuratedCard, parameters: list[Any]) -> list[tuple[str, Any]]:
        """The parameters by slug, sorted, each checked against the card's spec."""
        by_key = {p.slug: p for p in card.parameters} | {p.id: p for p in card.parameters}
        slugs = ", ".join(p.slug for p in card.parameters) or "none (the card takes none)"
        given: dict[str, Any] = {}
        for item in parameters:
            name = item.slug or item.id
            parameter = by_key.get(name or "")
            if parameter is None:
                raise _Refused(f"card {card.id} has no parameter {name!r}; its parameters: {slugs}")
            if item.value is None:
                continue
            _check_value(parameter, item.value)
            given[parameter.slug] = item.value
        for parameter in card.parameters:
            if parameter.required and parameter.default is None and parameter.slug not in given:
                expects = PARAMETER_TYPES[parameter.type].expects
                raise _Refused(
                    f"card {card.id} needs parameter {parameter.slug!r} ({parameter.type}): "
                    f"{expects}"
                )
        return sorted(
            (slug, atoms(value) if isinstance(value, list) else value)
            for slug, value in given.items()
        )
