"""Authentication: JWTs, sessions, API keys and scopes, resolved to a principal."""
