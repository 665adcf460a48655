"""What differs between warehouse engines, kept as data next to the engine's name."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_PROFILE", "ENGINE_PROFILES", "EngineProfile", "profile"]


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
    quantiles: bool = True  # quartiles in fingerprints (MySQL and SQLite have no quantile)
    arrays: bool = True  # array_agg, so that one scan collects every column's values
    # the statistics of a large table are computed in bounded memory in this process (the
    # embedded engines): distinct counts by grouping, which spills to disk, quartiles by a
    # sketch; a server engine spends its own memory (and spills) on the one-scan statistics
    bounded_statistics: bool = False
    # time units Ibis cannot truncate on this engine, computed from other parts instead
    # (sextant.query.temporal.truncate)
    emulated_truncations: frozenset[str] = frozenset()
    # the average of integers is taken over doubles (MySQL's AVG of integers is a DECIMAL
    # rounded to div_precision_increment, 4 places by default)
    float_average: bool = False
    # the average of decimals is a double (DuckDB): typed so, not as the decimal Ibis expects
    float_decimal_average: bool = False
    # dates and times are ISO text (SQLite): a truncated date is cast back to a date
    text_temporals: bool = False
    # date parts Ibis computes with a real division on this engine (SQLite's quarter and
    # ISO week): floored before they are compared or grouped
    floored_extractions: frozenset[str] = frozenset()
    # Ibis writes starts-with / ends-with as LIKE without escaping _ and % (SQLite): test the
    # prefix or suffix by position instead
    unescaped_like: bool = False
    # one connection serves every request (DuckDB: a cursor per query; Spark: one session per
    # process); otherwise requests lease pooled connections (sextant.warehouse.pool)
    shared_connection: bool = False
    # the function giving an instant's wall-clock time in a zone, for time-zone-aware
    # timestamps (sextant.query.temporal.localize): timezone(zone, ts) on DuckDB and
    # PostgreSQL, from_utc_timestamp(ts, zone) on Spark, convert_tz(ts, '+00:00', zone) on
    # MySQL (it needs the server's time zone tables); None: the engine has no such type
    local_time: str | None = None
    # text compares under a collation that calls different strings equal (MySQL's default
    # is case- and trailing-space-insensitive): a total order also sorts by the bytes' HEX()
    collated_text: bool = False
    # days are subtracted with DATE(x, '-N days') (SQLite: Ibis refuses date arithmetic
    # before SQLite 3.46)
    shift_modifiers: bool = False


ENGINE_PROFILES: dict[str, EngineProfile] = {
    p.name: p
    for p in (
        EngineProfile(
            "duckdb",
            "main",
            "duckdb",
            "information_schema",
            shared_connection=True,
            local_time="timezone",
            bounded_statistics=True,
            float_decimal_average=True,
        ),
        EngineProfile(
            "postgres", "public", "postgres", "information_schema", local_time="timezone"
        ),
        EngineProfile(
            "mysql",
            None,
            "mysql",
            "mysql",
            quantiles=False,
            arrays=False,
            emulated_truncations=frozenset({"week"}),
            float_average=True,
            local_time="convert_tz",
            collated_text=True,
        ),
        EngineProfile(
            "sqlite",
            "main",
            "sqlite",
            "sqlite",
            quantiles=False,
            arrays=False,
            emulated_truncations=frozenset({"minute", "hour"}),
            text_temporals=True,
            floored_extractions=frozenset({"quarter", "quarter-of-year", "week-of-year"}),
            unescaped_like=True,
            shift_modifiers=True,
        ),
        EngineProfile(
            "spark",
            "default",
            "spark",
            "catalog",
            shared_connection=True,
            local_time="from_utc_timestamp",
        ),
    )
}


def profile(engine: str) -> EngineProfile:
    return ENGINE_PROFILES[engine]


DEFAULT_PROFILE = ENGINE_PROFILES["duckdb"]
