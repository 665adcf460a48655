"""Language models behind the guarded agent, spoken to in their own wire formats over HTTP:
any OpenAI-compatible chat-completions endpoint, and Anthropic's Messages API.

A conversation is kept in one neutral form (:class:`Turn`); each provider writes it in its
format and reads the model's reply back into a :class:`Reply`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

__all__ = [
    "AnthropicMessages",
    "ModelUnreachable",
    "OpenAIChat",
    "Provider",
    "Reply",
    "ToolCall",
    "ToolResult",
    "ToolSchema",
    "Turn",
    "provider_for",
]


class ModelUnreachable(Exception):
    """The model could not be reached or answered something unreadable."""


@dataclass(frozen=True)
class ToolSchema:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]  # as the model wrote it ({"__unparsable__": text} if not JSON)


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    content: str  # JSON text
    is_error: bool = False


@dataclass(frozen=True)
class Turn:
    """One turn: the user's question, the assistant's text and tool calls, or tool results."""

    role: str  # user | assistant | tool
    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    results: tuple[ToolResult, ...] = ()


@dataclass(frozen=True)
class Reply:
    text: str
    calls: tuple[ToolCall, ...] = field(default_factory=tuple)


class Provider(Protocol):
    model: str

    def complete(
        self, system: str, turns: Sequence[Turn], tools: Sequence[ToolSchema]
    ) -> Reply: ...


def _post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> Any:
    """One request on its own connection (a model answers slowly; no pool to keep)."""
    try:
        with httpx.Client(timeout=timeout) as http:
            response = http.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise ModelUnreachable(f"the model at {url} could not be reached: {exc}") from exc
    if response.status_code >= 400:
        raise ModelUnreachable(
            f"the model at {url} answered {response.status_code}: {response.text[:300]}"
        )
    try:
        return response.json()
    except ValueError as exc:
        raise ModelUnreachable(f"the model at {url} answered something not JSON") from exc


def _arguments(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        parsed = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {"__unparsable__": str(text)}
    return parsed if isinstance(parsed, dict) else {"__unparsable__": str(text)}


class OpenAIChat:
    """``POST {base_url}/chat/completions`` with function tools."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120.0
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def _messages(self, system: str, turns: Sequence[Turn]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for turn in turns:
            if turn.role == "user":
                out.append({"role": "user", "content": turn.text})
            elif turn.role == "assistant":
                message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
                if turn.calls:
                    message["tool_calls"] = [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.input)},
                        }
                        for c in turn.calls
                    ]
                out.append(message)
            else:
                out += [
                    {"role": "tool", "tool_call_id": r.call_id, "content": r.content}
                    for r in turn.results
                ]
        return out

    def complete(self, system: str, turns: Sequence[Turn], tools: Sequence[ToolSchema]) -> Reply:
        body = {
            "model": self.model,
            "messages": self._messages(system, turns),
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in tools
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        answer = _post(self.url, body, headers, self.timeout)
        try:
            message = answer["choices"][0]["message"]
            calls = tuple(
                ToolCall(c["id"], c["function"]["name"], _arguments(c["function"]["arguments"]))
                for c in message.get("tool_calls") or ()
            )
            return Reply(message.get("content") or "", calls)
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelUnreachable(f"unreadable chat-completions answer: {answer!r:.300}") from exc


class AnthropicMessages:
    """``POST {base_url}/v1/messages`` (Anthropic's Messages API) with tools."""

    VERSION = "2023-06-01"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_tokens: int = 2000,
    ) -> None:
        self.url = base_url.rstrip("/") + "/v1/messages"
        self.model = model
        self.api_key = api_key
        self.max_tokens = max_tokens
        self.timeout = timeout

    @staticmethod
    def _messages(turns: Sequence[Turn]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for turn in turns:
            if turn.role == "user":
                out.append({"role": "user", "content": turn.text})
            elif turn.role == "assistant":
                blocks: list[dict[str, Any]] = []
                if turn.text:
                    blocks.append({"type": "text", "text": turn.text})
                blocks += [
                    {"type": "tool_use", "id": c.id, "name": c.name, "input": c.input}
                    for c in turn.calls
                ]
                out.append({"role": "assistant", "content": blocks})
            else:
                out.append(
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": r.call_id,
                                "content": r.content,
                                "is_error": r.is_error,
                            }
                            for r in turn.results
                        ],
                    }
                )
        return out

    def complete(self, system: str, turns: Sequence[Turn], tools: Sequence[ToolSchema]) -> Reply:
        body = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system,
            "messages": self._messages(turns),
            "tools": [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in tools
            ],
        }
        headers = {"anthropic-version": self.VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        answer = _post(self.url, body, headers, self.timeout)
        try:
            blocks = answer["content"]
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            calls = tuple(
                ToolCall(b["id"], b["name"], _arguments(b.get("input")))
                for b in blocks
                if b.get("type") == "tool_use"
            )
            return Reply(text, calls)
        except (KeyError, TypeError) as exc:
            raise ModelUnreachable(f"unreadable Messages answer: {answer!r:.300}") from exc


def provider_for(kind: str, base_url: str | None, model: str, api_key: str | None) -> Provider:
    """The provider ``kind`` (``openai`` — any compatible endpoint — or ``anthropic``)."""
    if kind == "anthropic":
        return AnthropicMessages(base_url or "https://api.anthropic.com", model, api_key)
    if kind == "openai":
        if not base_url:
            raise ValueError("an OpenAI-compatible provider needs a base URL (SEXTANT_LLM_URL)")
        return OpenAIChat(base_url, model, api_key)
    raise ValueError(f"unknown provider {kind!r}; use openai or anthropic")
