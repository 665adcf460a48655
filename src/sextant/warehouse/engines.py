"""What differs between warehouse engines, kept as data next to the engine's name."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENGINE_PROFILES", "EngineProfile", "profile"]


@dataclass(frozen=True)
class EngineProfile:
    name: str
    default_schema: str | None  # None: the connection's current database
    sqlglot_dialect: str
    # How tables, columns and declared keys are read (sextant.warehouse.introspect):
    # "information_schema" (the standard views), "mysql" (the same views, foreign keys in
    # key_column_usage), "sqlite" (PRAGMA table functions), "catalog" (names and types only:
    # the engine declares no keys, the model file does).
    catalog: str


ENGINE_PROFILES: dict[str, EngineProfile] = {
    p.name: p
    for p in (
        EngineProfile("duckdb", "main", "duckdb", "information_schema"),
        EngineProfile("postgres", "public", "postgres", "information_schema"),
        EngineProfile("mysql", None, "mysql", "mysql"),
        EngineProfile("sqlite", "main", "sqlite", "sqlite"),
        EngineProfile("spark", "default", "spark", "catalog"),
    )
}


def profile(engine: str) -> EngineProfile:
    return ENGINE_PROFILES[engine]
