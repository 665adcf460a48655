"""``settings.report_timezone`` end to end, on DuckDB and PostgreSQL: time-zone-aware
timestamps bucketed, extracted and compared as the report zone's wall clock across daylight
saving changes, and shown with their offset — each answer compared with hand SQL that says
``AT TIME ZONE`` explicitly, run on the same database.

The EVENTS table holds an instant every 37 minutes over four days around each 2024 change:
the US spring (10 March) and fall (3 November) changes and the EU ones (31 March, 27 October),
plus instants on month edges that are another month in one of the zones.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import fresh_postgres_database, make_settings

USER = "tz@example.com"
ZONES = ("America/New_York", "Europe/Paris")
UTC = dt.UTC

MODEL = """
version: 1
settings:
  jwt: {{secret: "${{SEXTANT_JWT_SECRET}}"}}
  report_timezone: {zone}
  start_of_week: {week}
databases:
  - name: Clock
    url: {url}
groups:
  - {{name: Users}}
users:
  - {{email: tz@example.com, groups: [Users]}}
permissions:
  data:
    - {{group: Users, tables: "*", access: query}}
"""


def instants() -> list[dt.datetime]:
    out: list[dt.datetime] = []
    for start in ("2024-03-08", "2024-03-29", "2024-10-25", "2024-11-01"):
        at = dt.datetime.fromisoformat(start).replace(tzinfo=UTC)
        end = at + dt.timedelta(days=4)
        while at < end:
            out.append(at)
            at += dt.timedelta(minutes=37)
    # 31 March 22:30 UTC is April in Paris; 1 December 03:00 UTC is November in New York
    edges = ("2024-03-31T22:30:00", "2024-12-01T03:00:00", "2024-12-31T23:30:00")
    out += [dt.datetime.fromisoformat(e).replace(tzinfo=UTC) for e in edges]
    return out


ROWS = [(i, at, i % 7 + 1) for i, at in enumerate(instants(), start=1)]


@pytest.fixture(scope="module")
def duck_clock(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("clock") / "clock.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE EVENTS (ID INTEGER, HAPPENED_AT TIMESTAMPTZ, AMOUNT INTEGER)")
        con.executemany("INSERT INTO EVENTS VALUES (?, ?, ?)", ROWS)
    return f"duckdb://{path}"


@pytest.fixture(scope="module")
def pg_clock(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server, "sextant_clock") as url:
        with psycopg.connect(url) as con:
            con.execute(
                'CREATE TABLE "EVENTS" ("ID" integer, "HAPPENED_AT" timestamptz, "AMOUNT" integer)'
            )
            with con.cursor() as cur:
                cur.executemany('INSERT INTO "EVENTS" VALUES (%s, %s, %s)', ROWS)
        yield url


Hand = Callable[[str], list[tuple[Any, ...]]]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest) -> tuple[str, Hand]:
    """The warehouse URL and a hand-SQL runner (a fresh connection each time)."""
    if request.param == "duckdb":
        url = str(request.getfixturevalue("duck_clock"))

        def run_duck(sql: str) -> list[tuple[Any, ...]]:
            with duckdb.connect(url.removeprefix("duckdb://"), read_only=True) as con:
                return con.execute(sql.replace('"', "")).fetchall()

        return url, run_duck
    url = str(request.getfixturevalue("pg_clock"))

    def run_pg(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(url) as con:
            return con.execute(sql).fetchall()

    return url, run_pg


@pytest.fixture(scope="module", params=[(ZONES[0], "monday"), (ZONES[1], "sunday")])
def clock(
    request: pytest.FixtureRequest,
    engine: tuple[str, Hand],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AgentClient, Hand, str, str]]:
    zone, week = request.param
    url, hand = engine
    data = tmp_path_factory.mktemp("clock-app")
    model = Path(data) / "clock.yaml"
    model.write_text(MODEL.format(zone=zone, week=week, url=url))
    service = Sextant(make_settings(data, config=model))
    service.apply()
    try:
        yield AgentClient(service), hand, zone, week
    finally:
        service.close()


def field(client: AgentClient, name: str) -> str:
    return client.field(USER, "EVENTS", name)


def local(text: str, zone: str) -> dt.datetime:
    """A datetime of a result as the zone's wall clock, checking that its offset is the
    zone's at that moment."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, text
    wall = moment.replace(tzinfo=None)
    expected = wall.replace(tzinfo=zoneinfo.ZoneInfo(zone)).utcoffset()
    assert moment.utcoffset() == expected, (text, zone)
    return wall


def naive(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time())


def local_sql(zone: str) -> str:
    return f"(\"HAPPENED_AT\" AT TIME ZONE '{zone}')"


def week_sql(zone: str, week: str) -> str:
    if week == "monday":
        return f"date_trunc('week', {local_sql(zone)})"
    return f"date_trunc('week', {local_sql(zone)} + INTERVAL '1 day') - INTERVAL '1 day'"


def grouped(client: AgentClient, granularity: str) -> list[list[Any]]:
    at = field(client, "HAPPENED_AT")
    body = {
        "table_id": client.table_id("EVENTS"),
        "aggregations": [
            {"function": "count"},
            {"function": "sum", "field_id": field(client, "AMOUNT")},
        ],
        "group_by": [{"field_id": at, "field_granularity": granularity}],
    }
    return list(client.run(USER, body)["data"]["rows"])


@pytest.mark.parametrize("unit", ["day", "week", "month", "hour"])
def test_truncation_in_the_report_zone(
    clock: tuple[AgentClient, Hand, str, str], unit: str
) -> None:
    client, hand, zone, week = clock
    bucket = week_sql(zone, week) if unit == "week" else f"date_trunc('{unit}', {local_sql(zone)})"
    expected = hand(
        f'SELECT {bucket} AS b, count(*), sum("AMOUNT") FROM "EVENTS" GROUP BY 1 ORDER BY 1'
    )
    got = grouped(client, unit)
    assert [(local(r[0], zone), r[1], r[2]) for r in got] == [
        (naive(b), c, int(s)) for b, c, s in expected
    ]
    if unit == "day":  # the days of the changes are 23 and 25 hours long in the zone
        starts = [local(r[0], zone) for r in got]
        assert len(set(starts)) == len(starts)


def test_a_day_lasts_23_hours_on_the_spring_change(
    clock: tuple[AgentClient, Hand, str, str],
) -> None:
    client, hand, zone, _ = clock
    change = "2024-03-10" if zone == "America/New_York" else "2024-03-31"
    hours = {
        r[0] for r in grouped(client, "hour") if local(r[0], zone).date().isoformat() == change
    }
    assert len(hours) == 23  # the skipped hour has no instant
    utc_day = {r[0] for r in grouped(client, "day")}
    assert any(text.endswith(("-05:00", "+01:00")) for text in utc_day)
    assert any(text.endswith(("-04:00", "+02:00")) for text in utc_day)
    del hand


@pytest.mark.parametrize("part", ["hour-of-day", "day-of-week"])
def test_extraction_in_the_report_zone(
    clock: tuple[AgentClient, Hand, str, str], part: str
) -> None:
    client, hand, zone, week = clock
    if part == "hour-of-day":
        expr = f"extract(hour FROM {local_sql(zone)})"
    else:  # ISO day of week, renumbered from the first day of the week
        first = 1 if week == "monday" else 7
        expr = f"((extract(isodow FROM {local_sql(zone)}) - {first} + 7) % 7 + 1)"
    expected = hand(
        f'SELECT {expr} AS p, count(*), sum("AMOUNT") FROM "EVENTS" GROUP BY 1 ORDER BY 1'
    )
    got = grouped(client, part)
    assert [(int(p), c, int(s)) for p, c, s in got] == [(int(p), c, int(s)) for p, c, s in expected]


def count_where(client: AgentClient, *filters: dict[str, Any]) -> int:
    body = {
        "table_id": client.table_id("EVENTS"),
        "filters": list(filters),
        "aggregations": [{"function": "count"}],
    }
    return int(client.run(USER, body)["data"]["rows"][0][0])


def test_comparisons_in_the_report_zone(clock: tuple[AgentClient, Hand, str, str]) -> None:
    client, hand, zone, _ = clock
    at = field(client, "HAPPENED_AT")
    change = "2024-03-10" if zone == "America/New_York" else "2024-03-31"
    on_day = count_where(
        client, {"field_id": at, "operation": "equals", "value": change, "bucket": "day"}
    )
    [(expected_day,)] = hand(
        f"SELECT count(*) FROM \"EVENTS\" WHERE date_trunc('day', {local_sql(zone)}) "
        f"= TIMESTAMP '{change} 00:00:00'"
    )
    assert on_day == expected_day and on_day > 0
    moment = f"{change}T04:00:00"  # after the change in both zones: a summer-time wall clock
    after = count_where(client, {"field_id": at, "operation": "greater-than", "value": moment})
    [(expected_after,)] = hand(
        f'SELECT count(*) FROM "EVENTS" WHERE "HAPPENED_AT" > '
        f"(TIMESTAMP '{change} 04:00:00' AT TIME ZONE '{zone}')"
    )
    assert after == expected_after
    offset = count_where(
        client, {"field_id": at, "operation": "greater-than", "value": f"{change}T04:00:00Z"}
    )
    [(expected_offset,)] = hand(
        f'SELECT count(*) FROM "EVENTS" WHERE "HAPPENED_AT" > TIMESTAMPTZ \'{change} 04:00:00+00\''
    )
    assert offset == expected_offset and offset != after  # an offset in the value wins
    in_month = count_where(
        client, {"field_id": at, "operation": "equals", "value": "2024-04-15", "bucket": "month"}
    )
    [(expected_month,)] = hand(
        f"SELECT count(*) FROM \"EVENTS\" WHERE date_trunc('month', {local_sql(zone)}) "
        f"= TIMESTAMP '2024-04-01 00:00:00'"
    )
    assert in_month == expected_month


def test_raw_instants_carry_the_zone_offset(clock: tuple[AgentClient, Hand, str, str]) -> None:
    client, hand, zone, _ = clock
    body = {
        "table_id": client.table_id("EVENTS"),
        "fields": [{"field_id": field(client, "ID")}, {"field_id": field(client, "HAPPENED_AT")}],
        "order_by": [{"field": {"field_id": field(client, "ID")}}],
    }
    result = client.run(USER, body)
    at_col = result["data"]["cols"][1]
    assert at_col["base_type"] == "type/DateTime"
    assert at_col["effective_type"] == "type/DateTimeWithLocalTZ"
    rows = result["data"]["rows"]
    expected = hand('SELECT "ID", "HAPPENED_AT" FROM "EVENTS" ORDER BY "ID"')
    where = zoneinfo.ZoneInfo(zone)
    assert [(i, dt.datetime.fromisoformat(t).astimezone(UTC)) for i, t in rows] == [
        (i, at.astimezone(UTC)) for i, at in expected
    ]  # the same instants (compared in UTC: an hour repeated in the fall is ambiguous)
    assert [t for _, t in rows] == [at.astimezone(where).isoformat() for _, at in expected]


def test_mariadb_timestamps_in_utc(
    mariadb_server: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """MySQL's TIMESTAMP is time-zone-aware to Ibis; without a report zone (UTC) it is read
    as it is — CONVERT_TZ to the named zone 'UTC' is NULL where the server has no time zone
    tables, which had made every such column NULL."""
    import MySQLdb

    from tests.conftest import fresh_mariadb_database

    with fresh_mariadb_database("sextant_clock") as url:
        name = url.rsplit("/", 1)[1]
        conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
        try:
            cur = conn.cursor()
            cur.execute("SET time_zone = '+00:00'")
            cur.execute(f"CREATE DATABASE `{name}`")
            cur.execute(
                f"CREATE TABLE `{name}`.EVENTS "
                "(ID INTEGER, HAPPENED_AT TIMESTAMP NULL, AMOUNT INTEGER)"
            )
            cur.executemany(
                f"INSERT INTO `{name}`.EVENTS VALUES (%s, %s, %s)",
                [(i, at.replace(tzinfo=None), amount) for i, at, amount in ROWS[:200]],
            )
            conn.commit()
        finally:
            conn.close()
        data = tmp_path_factory.mktemp("clock-maria")
        model = Path(data) / "clock.yaml"
        text = MODEL.format(zone="UTC", week="monday", url=url)
        model.write_text(text)
        service = Sextant(make_settings(data, config=model))
        try:
            service.apply()
            client = AgentClient(service)
            days = grouped(client, "day")
            expected: dict[str, int] = {}
            for _, at, _ in ROWS[:200]:
                day = at.strftime("%Y-%m-%dT00:00:00Z")
                expected[day] = expected.get(day, 0) + 1
            assert [(r[0], r[1]) for r in days] == sorted(expected.items())
            assert sum(r[2] for r in days) == sum(amount for _, _, amount in ROWS[:200])
            body = {
                "table_id": client.table_id("EVENTS"),
                "fields": [{"field_id": field(client, "HAPPENED_AT")}],
                "order_by": [{"field": {"field_id": field(client, "ID")}}],
                "limit": 3,
            }
            rows = client.run(USER, body)["data"]["rows"]
            assert [r[0] for r in rows] == [
                at.strftime("%Y-%m-%dT%H:%M:%SZ") for _, at, _ in ROWS[:3]
            ]
        finally:
            service.close()
        # a named zone: CONVERT_TZ needs the server's time zone tables, or says NULL
        model.write_text(MODEL.format(zone="Europe/Paris", week="monday", url=url))
        paris = Sextant(make_settings(data, config=model))
        try:
            import MySQLdb as db

            probe = db.connect(host="127.0.0.1", port=3306, user="root")
            try:
                cursor = probe.cursor()
                cursor.execute("SELECT CONVERT_TZ('2000-01-01', '+00:00', 'Europe/Paris')")
                has_tables = cursor.fetchone()[0] is not None
            finally:
                probe.close()
            problems = [i.message for i in paris.check().issues]
            if has_tables:
                assert problems == []
            else:
                assert len(problems) == 1 and "time zone tables" in problems[0]
        finally:
            paris.close()
