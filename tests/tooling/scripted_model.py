"""A scripted language model on loopback HTTP, speaking the providers' real wire formats:
OpenAI's chat completions and Anthropic's Messages. A script decides each reply from what the
model has been sent; every request is recorded."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers import serve


@dataclass(frozen=True)
class Step:
    """What the model does next: call tools, or answer."""

    text: str = ""
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()


@dataclass
class Seen:
    """A request as the script sees it, whatever the wire: the tool results just received."""

    body: dict[str, Any]
    headers: dict[str, str]
    results: list[tuple[str, bool]]  # (content, is_error) of the tool results in this request
    turn: int


Script = Callable[[Seen], Step]


@dataclass
class ScriptedModel:
    wire: str  # openai | anthropic
    script: Script
    requests: list[Seen] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _results(self, body: dict[str, Any]) -> list[tuple[str, bool]]:
        if self.wire == "openai":
            tail = []
            for message in reversed(body["messages"]):
                if message["role"] != "tool":
                    break
                content = message["content"]
                tail.append((content, '"error"' in content[:12]))
            return list(reversed(tail))
        last = body["messages"][-1]
        if last["role"] != "user" or isinstance(last["content"], str):
            return []
        return [
            (b["content"], bool(b.get("is_error")))
            for b in last["content"]
            if b.get("type") == "tool_result"
        ]

    def _reply(self, step: Step) -> dict[str, Any]:
        if self.wire == "openai":
            calls = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for name, args in step.calls
            ]
            message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
            if calls:
                message["tool_calls"] = calls
            return {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "model": "scripted",
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if calls else "stop",
                    }
                ],
            }
        blocks: list[dict[str, Any]] = [{"type": "text", "text": step.text}] if step.text else []
        blocks += [
            {"type": "tool_use", "id": f"toolu_{next(self._ids)}", "name": name, "input": args}
            for name, args in step.calls
        ]
        return {
            "id": f"msg_{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": "scripted",
            "content": blocks,
            "stop_reason": "tool_use" if step.calls else "end_turn",
        }

    async def _endpoint(self, request: Request) -> JSONResponse:
        body = await request.json()
        seen = Seen(body, dict(request.headers), self._results(body), len(self.requests))
        self.requests.append(seen)
        return JSONResponse(self._reply(self.script(seen)))

    @contextmanager
    def running(self) -> Iterator[str]:
        """Served on loopback: yields the base URL to configure (SEXTANT_LLM_URL)."""
        path = "/v1/chat/completions" if self.wire == "openai" else "/v1/messages"
        app = Starlette(routes=[Route(path, self._endpoint, methods=["POST"])])
        with serve(app) as url:
            yield url + "/v1" if self.wire == "openai" else url
