"""A TPC-H warehouse and a Sextant model of it, for tests and benchmarks.

The data comes from ``tpchgen-cli`` (a PyPI package, the TPC-H generator rewritten in Rust)
as Parquet, loaded into one DuckDB file. The model declares the keys (the file has none) and
what the TPC-H queries need: measures with expressions, segments with conditions, a ratio
metric, related fields up to three keys away, and a manager sandboxed to the customers of one
nation (their orders through one key, their order lines through a chain of two).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")

# (table, column) -> the table.column it refers to
KEYS = {
    ("nation", "n_regionkey"): "region.r_regionkey",
    ("supplier", "s_nationkey"): "nation.n_nationkey",
    ("customer", "c_nationkey"): "nation.n_nationkey",
    ("partsupp", "ps_partkey"): "part.p_partkey",
    ("partsupp", "ps_suppkey"): "supplier.s_suppkey",
    ("orders", "o_custkey"): "customer.c_custkey",
    ("lineitem", "l_orderkey"): "orders.o_orderkey",
    ("lineitem", "l_partkey"): "part.p_partkey",
    ("lineitem", "l_suppkey"): "supplier.s_suppkey",
}

CLERK = "clerk@example.com"  # may query lineitem and customer, not orders in between
MANAGER = "manager-germany@example.com"  # sees GERMANY's customers, their orders and lines
GERMANY = 7  # n_nationkey of GERMANY in every TPC-H data set

EXTRAS = """
measures:
  - name: Discounted Price
    table: lineitem
    aggregation: {function: sum, expression: "l_extendedprice * (1 - l_discount)"}
  - name: Charge
    table: lineitem
    aggregation: {function: sum, expression: "l_extendedprice * (1 - l_discount) * (1 + l_tax)"}
  - name: Discount Revenue
    table: lineitem
    aggregation: {function: sum, expression: "l_extendedprice * l_discount"}
  - name: High Priority Lines
    table: lineitem
    aggregation:
      function: sum
      expression: "case when orders.o_orderpriority in ('1-URGENT', '2-HIGH') then 1 else 0 end"
  - name: Low Priority Lines
    table: lineitem
    aggregation:
      function: sum
      expression: >-
        case when orders.o_orderpriority <> '1-URGENT' and orders.o_orderpriority <> '2-HIGH'
        then 1 else 0 end

segments:
  - name: Received Late
    table: lineitem
    description: Lines received after the committed date and shipped before it.
    condition: l_commitdate < l_receiptdate and l_shipdate < l_commitdate
  - name: Shipped by Mail or Ship
    table: lineitem
    condition: l_shipmode = 'MAIL' or l_shipmode = 'SHIP'
  - name: Local Suppliers
    table: lineitem
    description: Lines whose supplier is of the customer's own nation.
    condition: customer.c_nationkey = supplier.s_nationkey  # two keys away, and one
  - name: Building Customers
    table: lineitem
    description: Lines of orders placed by customers of the BUILDING market segment.
    filters:
      - {column: c_mktsegment, via: [l_orderkey, o_custkey], operation: equals, value: BUILDING}

metrics:
  - name: Promotion Revenue Share
    description: Share of discounted revenue from promotional parts (TPC-H Q14).
    collection: Analysis
    table: lineitem
    type: ratio
    numerator:
      function: sum
      expression: "l_extendedprice * (1 - l_discount)"
      filters: [{column: p_type, via: l_partkey, operation: string-starts-with, value: PROMO}]
    denominator: {function: sum, expression: "l_extendedprice * (1 - l_discount)"}
    default_time_dimension: l_shipdate
"""


def generate(scale: float, directory: Path) -> Path:
    """TPC-H at ``scale`` as Parquet files in ``directory`` (made once per directory)."""
    if all((directory / f"{t}.parquet").exists() for t in TABLES):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    generator = shutil.which("tpchgen-cli") or str(Path(sys.executable).parent / "tpchgen-cli")
    subprocess.run(
        [generator, "parquet", "-s", str(scale), f"--output-dir={directory}"],
        check=True,
        capture_output=True,
    )
    return directory


def load(parquet: Path, warehouse: Path) -> Path:
    """One DuckDB file holding every table of ``parquet``."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SET enable_progress_bar = false")
        for table in TABLES:
            source = str(parquet / f"{table}.parquet")
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)",
                [source],
            )
    return warehouse


def model(warehouse: Path, extras: str = EXTRAS) -> str:
    """The Sextant model of ``warehouse``: keys declared, an admin, an analyst with every
    table and the GERMANY manager (orders and customers of that nation only)."""
    by_table: dict[str, list[str]] = {}
    for (table, column), target in KEYS.items():
        by_table.setdefault(table, []).append(
            f"          - {{name: {column}, foreign_key: {target}}}"
        )
    tables = "\n".join(
        f"      - name: {t}\n"
        + ("        columns:\n" + "\n".join(by_table[t]) if t in by_table else "")
        for t in TABLES
    )
    return f"""version: 1
settings:
  jwt: {{secret: "${{SEXTANT_JWT_SECRET}}"}}
  join_depth: 3  # lineitem -> orders -> customer -> nation
databases:
  - name: TPC-H
    url: duckdb://{warehouse}
    tables:
{tables}
collections:
  - {{name: Analysis}}
groups:
  - {{name: Analysts}}
  - {{name: Managers}}
  - {{name: Clerks}}
users:
  - {{email: admin@example.com, groups: [Administrators]}}
  - {{email: analyst@example.com, groups: [Analysts]}}
  - {{email: {CLERK}, groups: [Clerks]}}
  - {{email: {MANAGER}, groups: [Managers], attributes: {{nation: "{GERMANY}"}}}}
permissions:
  data:
    - {{group: Analysts, tables: "*", access: query}}
    - {{group: Clerks, tables: [lineitem, customer, nation], access: query}}
    - {{group: Managers, tables: [region, nation, supplier, part, partsupp], access: query}}
    - {{group: Managers, tables: [customer, orders, lineitem], access: sandboxed}}
  collections:
    - {{group: All Users, collection: Analysis, access: read}}
sandboxes:
  - group: Managers
    table: customer
    filter: {{column: c_nationkey, operation: equals, value: "{{{{user.nation}}}}"}}
  - group: Managers
    table: orders
    filter: {{column: c_nationkey, via: o_custkey, operation: equals, value: "{{{{user.nation}}}}"}}
  - group: Managers
    table: lineitem
    filter:
      column: c_nationkey
      via: [l_orderkey, o_custkey]
      operation: equals
      value: "{{{{user.nation}}}}"
{extras}"""


def build(scale: float, directory: Path, parquet_cache: Path | None = None) -> Path:
    """A TPC-H data directory at ``scale``: ``warehouse.duckdb`` and ``sextant.yaml`` (the
    model file's path is returned)."""
    directory.mkdir(parents=True, exist_ok=True)
    parquet = generate(scale, parquet_cache or directory / "parquet")
    warehouse = load(parquet, directory / "warehouse.duckdb")
    path = directory / "sextant.yaml"
    path.write_text(model(warehouse))
    return path
