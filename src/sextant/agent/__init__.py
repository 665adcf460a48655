"""The guarded agent: an LLM answering questions with a server's curated cards (seed 000)."""

from sextant.agent.guard import AgentStopped, Answer, CallLog, GuardedAgent, ResultCache
from sextant.agent.providers import AnthropicMessages, ModelUnreachable, OpenAIChat, provider_for

__all__ = [
    "AgentStopped",
    "Answer",
    "AnthropicMessages",
    "CallLog",
    "GuardedAgent",
    "ModelUnreachable",
    "OpenAIChat",
    "ResultCache",
    "provider_for",
]
