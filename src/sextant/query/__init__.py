"""Structured queries: resolve field ids, plan with sandboxes, compile with Ibis, execute."""
