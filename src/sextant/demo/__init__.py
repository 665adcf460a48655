"""Deterministic demo warehouse (a small online shop in an embedded DuckDB file)."""
