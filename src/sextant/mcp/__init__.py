"""The MCP server: Sextant's tools for LLM clients, over streamable HTTP and stdio."""
