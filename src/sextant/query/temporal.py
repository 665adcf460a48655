"""Time units as data: truncation and extraction, in Ibis and for Python values alike."""

from __future__ import annotations

import datetime as _dt
import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from sextant.warehouse.engines import DEFAULT_PROFILE, EngineProfile

__all__ = [
    "EXTRACTIONS",
    "TRUNCATIONS",
    "UTC_RULES",
    "TimeRules",
    "extract",
    "localize",
    "parse_temporal",
    "truncate",
    "truncate_value",
    "zone_known",
    "zone_needs_probe",
]


@dataclass(frozen=True)
class TimeRules:
    """What dates and times mean in a query: the report's time zone (bucketing, extraction
    and comparison of time-zone-aware timestamps happen there; naive timestamps are its wall
    clock) and the first day of a week (0 = Monday … 6 = Sunday)."""

    zone: str = "UTC"
    week_start: int = 0


UTC_RULES = TimeRules()

TRUNCATIONS: dict[str, str] = {
    "minute": "m",
    "hour": "h",
    "day": "D",
    "week": "W",  # ISO weeks: Monday
    "month": "M",
    "quarter": "Q",
    "year": "Y",
}

EXTRACTIONS: dict[str, Callable[[Any], ir.IntegerValue]] = {
    "day-of-week": lambda c: c.day_of_week.index() + 1,  # ISO: 1 = Monday ... 7 = Sunday
    "day-of-month": lambda c: c.day(),
    "day-of-year": lambda c: c.day_of_year(),
    "week-of-year": lambda c: c.week_of_year(),
    "month-of-year": lambda c: c.month(),
    "quarter-of-year": lambda c: c.quarter(),
    "hour-of-day": lambda c: c.hour(),
    "minute-of-hour": lambda c: c.minute(),
    "second-of-minute": lambda c: c.second(),
    # the short names used by the *-equals filter operations
    "year": lambda c: c.year(),
    "quarter": lambda c: c.quarter(),
    "month": lambda c: c.month(),
    "hour": lambda c: c.hour(),
    "minute": lambda c: c.minute(),
    "second": lambda c: c.second(),
}


def _week_start(column: Any, week_start: int, engine: EngineProfile) -> Any:
    """The first day of the week containing ``column`` (0 = Monday … 6 = Sunday), from the
    weekday: for weeks not starting on Monday, and engines whose Ibis compiler has no week."""
    day = column.date() if column.type().is_timestamp() else column
    back = (
        day.day_of_week.index()
        if week_start == 0
        else ((day.day_of_week.index() - week_start + 7) % 7)
    )
    if engine.shift_modifiers:
        first = _sqlite_date(day, ibis.literal("-") + back.cast("string") + " days")
    else:
        first = day - back.as_interval("D")
    return first.cast("timestamp") if column.type().is_timestamp() else first


def _sqlite_date_of(day: Any, modifier: Any) -> Any: ...


_sqlite_date: Callable[..., Any] = ibis.udf.scalar.builtin(
    _sqlite_date_of, name="date", signature=((dt.date, dt.string), dt.date)
)
"""SQLite's DATE(day, '-3 days'): Ibis refuses date arithmetic before SQLite 3.46."""


@functools.cache
def _local_function(name: str, dtype: dt.DataType) -> Callable[..., Any]:
    """The engine's function giving the wall-clock time of an instant in a zone, typed for
    the column's own timestamp type."""

    # named parameters: Ibis takes a builtin's arity from its Python signature
    def two(a: Any, b: Any) -> Any: ...

    def three(a: Any, b: Any, c: Any) -> Any: ...

    inputs: tuple[dt.DataType, ...]
    if name == "from_utc_timestamp":
        inputs = (dtype, dt.string)
    elif name == "convert_tz":
        inputs = (dtype, dt.string, dt.string)
    else:
        inputs = (dt.string, dtype)
    local = three if len(inputs) == 3 else two
    made: Callable[..., Any] = ibis.udf.scalar.builtin(
        local, name=name, signature=(inputs, dt.timestamp)
    )
    return made


def localize(column: Any, rules: TimeRules, engine: EngineProfile = DEFAULT_PROFILE) -> Any:
    """A time-zone-aware timestamp as the wall clock of the report zone (naive); every other
    column as it is (naive timestamps already are that wall clock)."""
    dtype = column.type()
    if not dtype.is_timestamp() or dtype.timezone is None or engine.local_time is None:
        return column
    if engine.local_time == "convert_tz" and rules.zone == "UTC":
        # the session is UTC already; and without MySQL's time zone tables CONVERT_TZ to a
        # named zone is NULL
        return column
    fn = _local_function(engine.local_time, dtype)
    if engine.local_time == "from_utc_timestamp":
        return fn(column, rules.zone)
    if engine.local_time == "convert_tz":
        return fn(column, "+00:00", rules.zone)
    return fn(rules.zone, column)


def zone_needs_probe(engine: EngineProfile, zone: str) -> bool:
    """Whether ``zone`` may be unknown to the engine (MySQL's zones are optional tables)."""
    return engine.local_time == "convert_tz" and zone != "UTC"


def zone_known(con: Any, engine: EngineProfile, zone: str) -> bool:
    """Whether the warehouse behind ``con`` can show instants in ``zone`` (MySQL needs its
    time zone tables: without them CONVERT_TZ to a named zone is NULL)."""
    if not zone_needs_probe(engine, zone):
        return True
    moment = ibis.literal(_dt.datetime(2000, 1, 1), type=dt.Timestamp(timezone="UTC"))
    shown = con.execute(localize(moment, TimeRules(zone), engine))
    return shown is not None and bool(shown == shown)  # NULL comes back as NaT (not itself)


_FORMATS = {"minute": "%Y-%m-%d %H:%M:00", "hour": "%Y-%m-%d %H:00:00"}


def _emulated(column: Any, unit: str, engine: EngineProfile) -> Any:
    if unit == "week":
        return _week_start(column, 0, engine)
    return column.strftime(_FORMATS[unit]).cast("timestamp")  # engines keeping text times


def truncate(
    column: Any, unit: str, engine: EngineProfile = DEFAULT_PROFILE, week_start: int = 0
) -> Any:
    """``column`` truncated to ``unit``, the way ``engine`` can compute it."""
    if unit == "week" and week_start != 0:
        return _week_start(column, week_start, engine)
    if unit in engine.emulated_truncations:
        return _emulated(column, unit, engine)
    truncated = column.truncate(TRUNCATIONS[unit])
    if engine.text_temporals and column.type().is_date():
        return truncated.cast("date")  # a date again, to compare with date literals
    return truncated


def extract(
    column: Any, unit: str, engine: EngineProfile = DEFAULT_PROFILE, week_start: int = 0
) -> ir.IntegerValue:
    """A part of ``column``; ``day-of-week`` counts from ``week_start`` (1 = its first day)."""
    if unit == "day-of-week" and week_start != 0:
        index = column.day_of_week.index()
        return ((index - week_start + 7) % 7 + 1).cast("int32")
    part = EXTRACTIONS[unit](column)
    if unit in engine.floored_extractions:
        # Ibis divides as reals here and types the result as an integer, so a cast to int32
        # alone would be dropped: floor the real first
        return part.cast("float64").floor().cast("int32")
    return part.cast("int32")


def parse_temporal(
    value: object, base_type: str, zone: str = "UTC"
) -> _dt.date | _dt.datetime | _dt.time:
    """An ISO date, datetime or time for a column of ``base_type``; ValueError otherwise. A
    value with an offset becomes the wall clock of ``zone`` (what columns are compared in)."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO-8601 date or datetime string")
    text = value.strip().replace("Z", "+00:00")
    try:
        if base_type == "type/Time":
            return _dt.time.fromisoformat(text)
        if len(text) == 10:
            return _dt.date.fromisoformat(text)
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(_in_words(value, base_type, str(exc))) from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:00-02:00 is past the end of the calendar
            raise ValueError("the date and time with its offset is out of range") from None
    return parsed


_EXAMPLES = {
    "type/Time": "a time like 14:30 or 14:30:00",
    "type/Date": "a date like 2024-03-31",
}


def _in_words(value: str, base_type: str, problem: str) -> str:
    """Python's date parsing complaint ("month must be in 1..12", "Invalid isoformat string")
    as a sentence about the value."""
    expected = _EXAMPLES.get(
        base_type, "a date like 2024-03-31 or a date and time like 2024-03-31T14:30:00"
    )
    for needle, words in (
        ("month must be", "there is no month {part} (months go from 01 to 12)"),
        ("day is out of range", "that day does not exist in that month"),
        ("hour must be", "hours go from 00 to 23"),
        ("minute must be", "minutes go from 00 to 59"),
        ("second must be", "seconds go from 00 to 59"),
        ("year ", "years go from 0001 to 9999"),
    ):
        if needle in problem:
            part = value[5:7] if len(value) >= 7 else value
            return f"{value!r} is not a valid date or time: {words.format(part=part)}"
    return f"{value!r} is not {expected}"


def truncate_value(value: _dt.date | _dt.datetime, unit: str, week_start: int = 0) -> _dt.datetime:
    """The start of the ``unit`` containing ``value``, as a naive datetime."""
    moment = value if isinstance(value, _dt.datetime) else _dt.datetime.combine(value, _dt.time())
    if unit == "minute":
        return moment.replace(second=0, microsecond=0)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - _dt.timedelta(days=(day.weekday() - week_start) % 7)
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown unit {unit!r}")
