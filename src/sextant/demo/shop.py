"""Deterministic demo warehouse shaped like a small online shop.

Every value is drawn from ``random.Random`` instances derived from a fixed seed (one per table,
so scaling ORDERS/REVIEWS leaves PRODUCTS/PEOPLE untouched), which makes the *data* identical on
every machine. The DuckDB file bytes are not stable, so compare builds with :func:`data_checksum`.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import os
import random
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import duckdb

# Ibis adjusts sqlglot's dialects (e.g. how PostgreSQL writes a date literal); sqlglot caches a
# dialect's rules the first time it writes SQL for it, so Ibis must be imported before the DDL
# below is rendered, or queries compiled later in the same process use the wrong rules.
import ibis.backends.sql.dialects  # noqa: F401
import pyarrow as pa
from sqlglot import exp

__all__ = [
    "DEFAULT_SEED",
    "TABLE_ROWS",
    "build_sqlite",
    "build_warehouse",
    "data_checksum",
    "declared_keys",
    "generate_arrow",
    "load_mysql",
    "load_postgres",
    "load_tables",
    "row_counts",
    "sqlite_value",
]

DEFAULT_SEED = 20240101
TABLE_ROWS: Mapping[str, int] = MappingProxyType(
    {"PRODUCTS": 200, "PEOPLE": 2_500, "ORDERS": 18_760, "REVIEWS": 1_112}
)
_SCALED_TABLES = frozenset({"ORDERS", "REVIEWS"})

# fmt: off
# Table layouts, in creation order (referenced tables first). Column order is part of the spec.
_COLUMNS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "PRODUCTS": (
        ("ID", "BIGINT"), ("EAN", "VARCHAR"), ("TITLE", "VARCHAR"), ("CATEGORY", "VARCHAR"),
        ("VENDOR", "VARCHAR"), ("PRICE", "DOUBLE"), ("RATING", "DOUBLE"),
        ("CREATED_AT", "TIMESTAMP"),
    ),
    "PEOPLE": (
        ("ID", "BIGINT"), ("ADDRESS", "VARCHAR"), ("EMAIL", "VARCHAR"), ("PASSWORD", "VARCHAR"),
        ("NAME", "VARCHAR"), ("CITY", "VARCHAR"), ("LONGITUDE", "DOUBLE"), ("STATE", "VARCHAR"),
        ("SOURCE", "VARCHAR"), ("BIRTH_DATE", "DATE"), ("ZIP", "VARCHAR"), ("LATITUDE", "DOUBLE"),
        ("CREATED_AT", "TIMESTAMP"),
    ),
    "ORDERS": (
        ("ID", "BIGINT"), ("USER_ID", "BIGINT"), ("PRODUCT_ID", "BIGINT"), ("SUBTOTAL", "DOUBLE"),
        ("TAX", "DOUBLE"), ("TOTAL", "DOUBLE"), ("DISCOUNT", "DOUBLE"),
        ("CREATED_AT", "TIMESTAMP"), ("QUANTITY", "INTEGER"),
    ),
    "REVIEWS": (
        ("ID", "BIGINT"), ("PRODUCT_ID", "BIGINT"), ("REVIEWER", "VARCHAR"), ("RATING", "INTEGER"),
        ("BODY", "VARCHAR"), ("CREATED_AT", "TIMESTAMP"),
    ),
}
_NULLABLE = frozenset({("ORDERS", "DISCOUNT")})
_FOREIGN_KEYS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "ORDERS": (("USER_ID", "PEOPLE"), ("PRODUCT_ID", "PRODUCTS")),
    "REVIEWS": (("PRODUCT_ID", "PRODUCTS"),),
}
_ARROW_TYPES: Mapping[str, Any] = {
    "BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(), "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("s"), "DATE": pa.date32(),
}

# Word lists.
CATEGORIES = ("Doohickey", "Gadget", "Gizmo", "Widget")
SOURCES = ("Affiliate", "Facebook", "Google", "Organic", "Twitter")
_SOURCE_WEIGHTS = (20, 19, 22, 21, 18)
_NOUNS: Mapping[str, tuple[str, ...]] = {
    "Doohickey": ("Bottle", "Clock", "Coat", "Hat", "Lamp", "Pants", "Shoes", "Wallet"),
    "Gadget": ("Bag", "Computer", "Keyboard", "Knife", "Plate", "Shirt", "Toucan", "Watch"),
    "Gizmo": ("Bench", "Car", "Chair", "Clock", "Computer", "Gloves", "Hat", "Table"),
    "Widget": ("Bottle", "Car", "Coat", "Gloves", "Knife", "Lamp", "Shoes", "Table"),
}
_ADJECTIVES = ("Aerodynamic", "Durable", "Enormous", "Ergonomic", "Fantastic", "Gorgeous",
               "Heavy-Duty", "Incredible", "Intelligent", "Lightweight", "Mediocre", "Practical",
               "Rustic", "Sleek", "Small", "Synergistic")
_MATERIALS = ("Aluminum", "Bronze", "Concrete", "Copper", "Cotton", "Granite", "Iron", "Leather",
              "Linen", "Marble", "Paper", "Plastic", "Rubber", "Silk", "Steel", "Wool", "Wooden")
_FIRST_NAMES = ("Aaron", "Alice", "Amara", "Andre", "Beatrice", "Carlos", "Chloe", "Daniel",
                "Diana", "Elena", "Ethan", "Fatima", "Gabriel", "Grace", "Hannah", "Hiro", "Isaac",
                "Julia", "Kenji", "Laura", "Liam", "Lucia", "Marcus", "Maya", "Noah", "Olivia",
                "Omar", "Priya", "Quinn", "Rosa", "Samuel", "Sofia", "Theo", "Uma", "Victor",
                "Wendy", "Xavier", "Yara", "Zoe")
_LAST_NAMES = ("Anderson", "Baker", "Brooks", "Castillo", "Chen", "Cohen", "Diaz", "Edwards",
               "Fischer", "Garcia", "Gupta", "Hansen", "Ito", "Jackson", "Kim", "Kowalski", "Lopez",
               "Martin", "Murphy", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Ramirez",
               "Reyes", "Rossi", "Schmidt", "Singh", "Sullivan", "Tanaka", "Turner", "Walsh",
               "Weber", "Williams", "Young")
_EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com",
                  "protonmail.com", "fastmail.com")
_VENDOR_SUFFIXES = ("and Sons", "Group", "Inc", "LLC", "Supply Co.", "Trading", "Works")
_STREETS = ("Cedar", "Elm", "Hillcrest", "Lakeview", "Maple", "Meadow", "Mill", "Oak", "Park",
            "Pine", "Ridge", "River", "Sunset", "Valley", "Walnut", "Washington", "Willow")
_STREET_SUFFIXES = ("Avenue", "Boulevard", "Court", "Drive", "Lane", "Road", "Street", "Way")
_CITIES = ("Ashland", "Bristol", "Brookfield", "Centerville", "Clinton", "Dayton", "Fairview",
           "Franklin", "Georgetown", "Greenville", "Hudson", "Jackson", "Kingston", "Lakewood",
           "Madison", "Marion", "Milford", "Newport", "Oakland", "Riverside", "Salem", "Shelby",
           "Springfield", "Winchester")
_REVIEW_OPENERS: Mapping[int, tuple[str, ...]] = {
    1: ("Broke after a week.", "Total waste of money.", "Would not buy again."),
    2: ("Disappointing overall.", "Not what I expected.", "Flimsy and overpriced."),
    3: ("It does the job.", "Decent, nothing special.", "Okay for the price."),
    4: ("Pretty good purchase.", "Works well so far.", "Solid and well made."),
    5: ("Absolutely love it!", "Exceeded my expectations.", "Best purchase this year."),
}
_REVIEW_DETAILS = ("Shipping was fast.", "Packaging could be better.", "My kids use it daily.",
                   "The color is slightly off.", "Assembly took ten minutes.",
                   "Customer service was helpful.", "Feels sturdier than it looks.",
                   "Bought a second one as a gift.")

# (code, latitude, longitude, weight): 49 states, Hawaii deliberately absent.
_STATES = (
    ("AK", 63.6, -152.5, 2), ("AL", 32.8, -86.8, 7), ("AR", 34.9, -92.4, 5),
    ("AZ", 34.2, -111.7, 9), ("CA", 37.2, -119.5, 31), ("CO", 39.0, -105.5, 7),
    ("CT", 41.6, -72.7, 5), ("DE", 39.0, -75.5, 2), ("FL", 28.6, -82.4, 20),
    ("GA", 32.7, -83.4, 12), ("IA", 42.0, -93.5, 5), ("ID", 44.4, -114.6, 3),
    ("IL", 40.0, -89.2, 13), ("IN", 39.9, -86.3, 8), ("KS", 38.5, -98.4, 4),
    ("KY", 37.5, -85.3, 6), ("LA", 31.1, -92.0, 6), ("MA", 42.3, -71.8, 9),
    ("MD", 39.0, -76.8, 8), ("ME", 45.4, -69.2, 3), ("MI", 44.3, -85.4, 11),
    ("MN", 46.3, -94.3, 7), ("MO", 38.4, -92.5, 8), ("MS", 32.7, -89.7, 4),
    ("MT", 47.0, -109.6, 2), ("NC", 35.6, -79.4, 12), ("ND", 47.5, -100.5, 2),
    ("NE", 41.5, -99.8, 3), ("NH", 43.7, -71.6, 3), ("NJ", 40.2, -74.7, 11),
    ("NM", 34.4, -106.1, 3), ("NV", 39.3, -116.6, 5), ("NY", 42.9, -75.5, 19),
    ("OH", 40.3, -82.8, 13), ("OK", 35.6, -97.5, 6), ("OR", 43.9, -120.6, 6),
    ("PA", 40.9, -77.8, 14), ("RI", 41.7, -71.5, 2), ("SC", 33.9, -80.9, 7),
    ("SD", 44.4, -100.2, 2), ("TN", 35.9, -86.4, 9), ("TX", 31.5, -99.3, 26),
    ("UT", 39.3, -111.7, 5), ("VA", 37.5, -78.9, 10), ("VT", 44.1, -72.7, 1),
    ("WA", 47.4, -120.5, 9), ("WI", 44.6, -89.9, 8), ("WV", 38.6, -80.6, 3),
    ("WY", 43.0, -107.6, 1),
)
_STATE_INFO = {code: (lat, lon) for code, lat, lon, _ in _STATES}
_SALES_TAX = {"AK": 0.0, "CA": 0.0725, "DE": 0.0, "FL": 0.06, "IL": 0.0625, "MA": 0.0625,
              "MT": 0.0, "NH": 0.0, "NJ": 0.06625, "NY": 0.04, "OR": 0.0, "PA": 0.06,
              "TX": 0.0625, "WA": 0.065}
_DEFAULT_SALES_TAX = 0.05
_QUANTITY_CUM_WEIGHTS = tuple(itertools.accumulate((40, 30, 12, 6, 4, 3, 2, 1, 1, 1)))
_DISCOUNT_RATE = 0.1
# fmt: on


def _days(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (arrow ``date32``); times 86,400 gives ``timestamp[s]`` values."""
    return date(year, month, day).toordinal() - date(1970, 1, 1).toordinal()


# Half-open [start, end) spans; timestamps are naive epoch seconds, birth dates epoch days.
_PRODUCTS_SPAN = (_days(2021, 1, 1) * 86_400, _days(2024, 1, 1) * 86_400)
_PEOPLE_SPAN = (_days(2021, 6, 1) * 86_400, _days(2025, 7, 1) * 86_400)
_ORDERS_SPAN = (_days(2022, 1, 1) * 86_400, _days(2026, 1, 1) * 86_400)  # 2022 .. 2025
_BIRTH_SPAN = (_days(1950, 1, 1), _days(2006, 1, 1))

Row = tuple[Any, ...]


def row_counts(scale: int) -> dict[str, int]:
    """Row count per table for ``scale`` (ORDERS and REVIEWS grow linearly)."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    return {t: n * scale if t in _SCALED_TABLES else n for t, n in TABLE_ROWS.items()}


def _col(table: str, column: str) -> int:
    """Position of ``column`` in a generated row of ``table``."""
    return [name for name, _ in _COLUMNS[table]].index(column)


def _rng(seed: int, table: str) -> random.Random:
    material = hashlib.sha256(f"sextant-demo:{seed}:{table}".encode()).digest()
    return random.Random(int.from_bytes(material[:8], "big"))


def _ean13(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(12)]
    check = -sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10
    return "".join(map(str, digits)) + str(check)


def _products(rng: random.Random, count: int) -> list[Row]:
    rows = []
    for pid in range(1, count + 1):
        category = rng.choice(CATEGORIES)
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_MATERIALS)} {rng.choice(_NOUNS[category])}"
        vendor = f"{rng.choice(_LAST_NAMES)} {rng.choice(_VENDOR_SUFFIXES)}"
        price = round(rng.uniform(15.0, 100.0), 2)
        rating = max(rng.randint(10, 50), rng.randint(10, 50)) / 10
        created = rng.randrange(*_PRODUCTS_SPAN)
        rows.append((pid, _ean13(rng), title, category, vendor, price, rating, created))
    return rows


def _state_sequence(rng: random.Random, count: int) -> list[str]:
    codes = [code for code, *_ in _STATES]
    weights = [weight for *_, weight in _STATES]
    states = codes + rng.choices(codes, weights=weights, k=count - len(codes))
    rng.shuffle(states)
    return states


def _person(rng: random.Random, pid: int, state: str, emails: Counter[str]) -> Row:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    local = f"{first}.{last}".lower()
    emails[local] += 1
    suffix = str(emails[local] - 1) if emails[local] > 1 else ""
    email = f"{local}{suffix}@{rng.choice(_EMAIL_DOMAINS)}"
    address = f"{rng.randint(1, 9999)} {rng.choice(_STREETS)} {rng.choice(_STREET_SUFFIXES)}"
    password = f"{rng.getrandbits(128):032x}"
    city = rng.choice(_CITIES)
    lat, lon = _STATE_INFO[state]
    longitude = round(lon + rng.uniform(-0.8, 0.8), 4)
    source = rng.choices(SOURCES, weights=_SOURCE_WEIGHTS)[0]
    birth_date = rng.randrange(*_BIRTH_SPAN)
    zip_code = f"{rng.randint(501, 99950):05d}"
    latitude = round(lat + rng.uniform(-0.8, 0.8), 4)
    created = rng.randrange(*_PEOPLE_SPAN)
    name = f"{first} {last}"
    return (pid, address, email, password, name, city, longitude, state, source, birth_date,
            zip_code, latitude, created)  # fmt: skip


def _people(rng: random.Random, count: int) -> list[Row]:
    emails: Counter[str] = Counter()
    states = _state_sequence(rng, count)
    return [_person(rng, pid, state, emails) for pid, state in enumerate(states, start=1)]


def _orders(
    rng: random.Random, count: int, people: Sequence[Row], products: Sequence[Row]
) -> list[Row]:
    total_weight = _QUANTITY_CUM_WEIGHTS[-1]
    price_at, state_at = _col("PRODUCTS", "PRICE"), _col("PEOPLE", "STATE")
    joined_at = _col("PEOPLE", "CREATED_AT")
    rows = []
    for oid in range(1, count + 1):
        person = people[rng.randrange(len(people))]
        product = products[rng.randrange(len(products))]
        quantity = bisect.bisect(_QUANTITY_CUM_WEIGHTS, rng.random() * total_weight) + 1
        subtotal = round(product[price_at] * quantity, 2)
        tax = round(subtotal * _SALES_TAX.get(person[state_at], _DEFAULT_SALES_TAX), 2)
        discount = None
        if rng.random() < _DISCOUNT_RATE:
            discount = round(subtotal * rng.uniform(0.05, 0.3), 2)
        total = round(subtotal + tax - (discount or 0.0), 2)
        created = rng.randrange(max(_ORDERS_SPAN[0], person[joined_at]), _ORDERS_SPAN[1])
        rows.append((oid, person[0], product[0], subtotal, tax, total, discount, created, quantity))
    return rows


def _reviews(rng: random.Random, count: int, products: Sequence[Row]) -> list[Row]:
    launched_at = _col("PRODUCTS", "CREATED_AT")
    rows = []
    for rid in range(1, count + 1):
        product = products[rng.randrange(len(products))]
        reviewer = f"{rng.choice(_FIRST_NAMES)}_{rng.choice(_LAST_NAMES)}{rng.randint(1, 99)}"
        rating = rng.choices((1, 2, 3, 4, 5), weights=(6, 8, 16, 35, 35))[0]
        body = f"{rng.choice(_REVIEW_OPENERS[rating])} {rng.choice(_REVIEW_DETAILS)}"
        created = rng.randrange(max(_ORDERS_SPAN[0], product[launched_at]), _ORDERS_SPAN[1])
        rows.append((rid, product[0], reviewer.lower(), rating, body, created))
    return rows


def _generate(counts: Mapping[str, int], seed: int) -> dict[str, list[Row]]:
    products = _products(_rng(seed, "PRODUCTS"), counts["PRODUCTS"])
    people = _people(_rng(seed, "PEOPLE"), counts["PEOPLE"])
    orders = _orders(_rng(seed, "ORDERS"), counts["ORDERS"], people, products)
    reviews = _reviews(_rng(seed, "REVIEWS"), counts["REVIEWS"], products)
    return {"PRODUCTS": products, "PEOPLE": people, "ORDERS": orders, "REVIEWS": reviews}


def _to_arrow(table: str, rows: Sequence[Row]) -> Any:
    columns = _COLUMNS[table]
    values = list(zip(*rows, strict=True))
    arrays = [
        pa.array(col, type=_ARROW_TYPES[sql_type])
        for (_, sql_type), col in zip(columns, values, strict=True)
    ]
    return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])


def generate_arrow(counts: Mapping[str, int], seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Every table's rows as a typed Arrow table, in creation order."""
    data = _generate(counts, seed)
    return {table: _to_arrow(table, data[table]) for table in _COLUMNS}


def declared_keys() -> tuple[frozenset[tuple[str, str]], dict[tuple[str, str], str]]:
    """The keys the DuckDB file declares: primary (TABLE, ID) and foreign -> ``TABLE.ID``."""
    primary = frozenset((table, "ID") for table in _COLUMNS)
    foreign = {
        (table, column): f"{target}.ID"
        for table, references in _FOREIGN_KEYS.items()
        for column, target in references
    }
    return primary, foreign


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _table(name: str) -> exp.Table:
    return exp.Table(this=_ident(name))


def _create_table(table: str, *, nullable: bool = False) -> exp.Create:
    definitions: list[exp.Expr] = []
    for name, sql_type in _COLUMNS[table]:
        constraints = []
        if name == "ID":
            constraints.append(exp.ColumnConstraint(kind=exp.PrimaryKeyColumnConstraint()))
        elif (table, name) not in _NULLABLE and not nullable:
            constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
        kind = exp.DataType.build(sql_type)
        definitions.append(exp.ColumnDef(this=_ident(name), kind=kind, constraints=constraints))
    for column, target in _FOREIGN_KEYS.get(table, ()):
        reference = exp.Reference(this=exp.Schema(this=_table(target), expressions=[_ident("ID")]))
        definitions.append(exp.ForeignKey(expressions=[_ident(column)], reference=reference))
    return exp.Create(this=exp.Schema(this=_table(table), expressions=definitions), kind="TABLE")


def _insert_from(table: str, source: str) -> exp.Insert:
    return exp.Insert(this=_table(table), expression=exp.select(exp.Star()).from_(_table(source)))


def _write(path: Path, data: Mapping[str, Sequence[Row]]) -> None:
    source = "sextant_demo_source"
    with duckdb.connect(str(path)) as con:
        for table in _COLUMNS:
            con.execute(_create_table(table).sql(dialect="duckdb"))
            con.register(source, _to_arrow(table, data[table]))
            con.execute(_insert_from(table, source).sql(dialect="duckdb"))
            con.unregister(source)
        con.execute("CHECKPOINT")


def build_warehouse(path: Path, scale: int = 1, *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Create (or atomically replace) the demo DuckDB file at ``path``; return its row counts."""
    counts = row_counts(scale)
    data = _generate(counts, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sextant-demo-", dir=path.parent) as tmp:
        staged = Path(tmp) / "warehouse.duckdb"
        _write(staged, data)
        # A leftover write-ahead log next to the target would be replayed onto the new file.
        Path(f"{path}.wal").unlink(missing_ok=True)
        os.replace(staged, path)
    return counts


_LIST_TABLES = (
    "SELECT table_name FROM duckdb_tables() "
    "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name"
)
_LIST_COLUMNS = (
    "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
    "WHERE schema_name = 'main' AND NOT internal AND table_name = ? ORDER BY column_index"
)


def _canonical(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _line(values: Sequence[Any]) -> bytes:
    rendered = [_canonical(v) for v in values]
    return json.dumps(rendered, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def data_checksum(path: Path) -> str:
    """sha256 over the data (tables by name, rows by ID, canonical values), not the file bytes."""
    digest = hashlib.sha256()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [name for (name,) in con.execute(_LIST_TABLES).fetchall()]
        for table in tables:
            columns = con.execute(_LIST_COLUMNS, [table]).fetchall()
            digest.update(_line(["table", table, *(list(c) for c in columns)]))
            query = exp.select(exp.Star()).from_(_table(table)).order_by(exp.column(_ident("ID")))
            cursor = con.execute(query.sql(dialect="duckdb"))
            while batch := cursor.fetchmany(10_000):
                for row in batch:
                    digest.update(_line(row))
    return digest.hexdigest()


def load_postgres(url: str, scale: int = 1, *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Load the same shop into the PostgreSQL database at ``url`` (tables are replaced)."""
    import psycopg
    from psycopg import sql

    counts = row_counts(scale)
    data = _generate(counts, seed)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table in reversed(list(_COLUMNS)):
            drop = exp.Drop(this=_table(table), kind="TABLE", exists=True, cascade=True)
            cur.execute(drop.sql(dialect="postgres"))
        for table in _COLUMNS:
            cur.execute(_create_table(table).sql(dialect="postgres"))
            columns = sql.SQL(", ").join(sql.Identifier(name) for name, _ in _COLUMNS[table])
            copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
            arrow = _to_arrow(table, data[table])  # typed values (timestamps, dates)
            columns_values = [arrow.column(i).to_pylist() for i in range(arrow.num_columns)]
            with cur.copy(copy) as stream:
                for row in zip(*columns_values, strict=True):
                    stream.write_row(row)
        cur.execute("ANALYZE")
    return counts


def _insert(table: str, dialect: str, marker: str) -> str:
    """``INSERT INTO "T" ("A", ...) VALUES (?, ...)`` with the driver's parameter marker."""
    names = [name for name, _ in _COLUMNS[table]]
    target = exp.Schema(this=_table(table), expressions=[_ident(n) for n in names])
    values = exp.Tuple(expressions=[exp.var(marker) for _ in names])
    insert = exp.Insert(this=target, expression=exp.Values(expressions=[values]))
    return insert.sql(dialect=dialect)


def load_tables(
    conn: Any,
    dialect: str,
    marker: str,
    tables: Mapping[str, Any],
    *,
    convert: Any = None,
    nullable: bool = False,
) -> None:
    """Replace the shop's tables over a DB-API connection with ``tables`` (Arrow tables by
    name), inserting in batches; ``nullable`` drops the NOT NULL constraints (for test data
    with holes); ``convert`` adapts each value for the driver."""
    cursor = conn.cursor()
    try:
        for table in reversed(list(_COLUMNS)):
            cursor.execute(exp.Drop(this=_table(table), kind="TABLE", exists=True).sql(dialect))
        for table in _COLUMNS:
            cursor.execute(_create_table(table, nullable=nullable).sql(dialect=dialect))
            statement = _insert(table, dialect, marker)
            arrow = tables[table]
            columns = [arrow.column(name).to_pylist() for name, _ in _COLUMNS[table]]
            rows = list(zip(*columns, strict=True))
            if convert is not None:
                rows = [tuple(convert(v) for v in row) for row in rows]
            for start in range(0, len(rows), 5_000):
                cursor.executemany(statement, rows[start : start + 5_000])
        conn.commit()
    finally:
        cursor.close()


def _arrow_tables(scale: int, seed: int) -> tuple[dict[str, int], dict[str, Any]]:
    counts = row_counts(scale)
    data = _generate(counts, seed)
    return counts, {table: _to_arrow(table, rows) for table, rows in data.items()}


def load_mysql(url: str, scale: int = 1, *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Load the same shop into the MySQL or MariaDB database at ``url`` (tables are replaced;
    the database is created, in utf8mb4, when missing)."""
    import MySQLdb  # type: ignore[import-untyped]

    from sextant.warehouse.connection import mysql_params

    counts, tables = _arrow_tables(scale, seed)
    params = mysql_params(url)
    database = params.pop("database")
    params["autocommit"] = False
    conn: Any = MySQLdb.connect(**params)
    try:
        utf8 = exp.CharacterSetProperty(this=exp.var("utf8mb4"), default=False)
        create = exp.Create(
            this=_table(database),
            kind="DATABASE",
            exists=True,
            properties=exp.Properties(expressions=[utf8]),
        )
        with conn.cursor() as cursor:
            cursor.execute(create.sql(dialect="mysql"))
        conn.select_db(database)
        load_tables(conn, "mysql", "%s", tables)
    finally:
        conn.close()
    return counts


def sqlite_value(value: Any) -> Any:
    """Dates and timestamps as the ISO text SQLite stores (and Ibis reads back)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def build_sqlite(path: Path, scale: int = 1, *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Create (or atomically replace) the demo SQLite file at ``path``; return its row counts."""
    import sqlite3

    counts, tables = _arrow_tables(scale, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sextant-demo-", dir=path.parent) as tmp:
        staged = Path(tmp) / "warehouse.sqlite"
        conn = sqlite3.connect(staged)
        try:
            load_tables(conn, "sqlite", "?", tables, convert=sqlite_value)
        finally:
            conn.close()
        os.replace(staged, path)
    return counts
