"""What differs between warehouse engines, kept as data next to the engine's name."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENGINE_PROFILES", "EngineProfile", "profile"]


@dataclass(frozen=True)
class EngineProfile:
    name: str
    default_schema: str | None  # None: the connection's current database
    sqlglot_dialect: str


ENGINE_PROFILES: dict[str, EngineProfile] = {
    p.name: p
    for p in (
        EngineProfile("duckdb", "main", "duckdb"),
        EngineProfile("postgres", "public", "postgres"),
        EngineProfile("mysql", None, "mysql"),
        EngineProfile("sqlite", "main", "sqlite"),
        EngineProfile("spark", "default", "spark"),
    )
}


def profile(engine: str) -> EngineProfile:
    return ENGINE_PROFILES[engine]
