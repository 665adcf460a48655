"""A Python client of a Sextant server (sync and async, typed results)."""

from sextant.client.client import AgentClient, ApiError, AsyncAgentClient, QueryFailed

__all__ = ["AgentClient", "ApiError", "AsyncAgentClient", "QueryFailed"]
