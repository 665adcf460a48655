"""Sextant against a peer semantic layer, Sidemantic, on the same demo shop, over HTTP.

    .venv/bin/python benchmarks/peers.py [--scale 10] [--seconds 5] [--repeat 200]
        [--connections 8]

Builds the demo at ``--scale``, serves it with `sextant serve` and, from a copy of the same
DuckDB file (opened read-only), with Sidemantic's own HTTP API server (`sidemantic server api`,
model in `benchmarks/peers/sidemantic/`). Sidemantic is installed from PyPI, pinned, into its own
virtual environment under ``~/.cache/sextant-bench/`` (made on the first run, reused after),
never into Sextant's.

Five queries, each in the system's own structured format (no SQL is sent to either): total
revenue; revenue by month; orders by product category (through ORDERS.PRODUCT_ID); distinct
buyers by state for orders over 100 (through ORDERS.USER_ID); the 100 newest orders over 50
(ties on CREATED_AT broken by ID). The answers are compared first (rows in any order, numbers
to 1e-9 relative, dates and datetimes parsed) and the run stops at the first difference.

Then per query: p50 and p95 of ``--repeat`` sequential requests over loopback HTTP (Sextant:
`POST /execute` with a ready token, and construct-query + execute; Sidemantic: `POST /query`,
one request that compiles and runs) and requests per second from wrk at ``--connections``
connections for ``--seconds`` (Sextant: execute with a ready token). Ratio = Sextant /
Sidemantic; "ahead" means lower latency or higher throughput. Both servers run one process, no
result cache, at most 8 concurrent warehouse queries. Needs `wrk` (`make bench-tools`).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from common import SECRET, free_ports, p50_p95, percentiles, sextant_env, wrk
from throughput import stop

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import prepare_demo
from sextant.demo.shop import row_counts

EMAIL = "analyst@example.com"
SIDEMANTIC_VERSION = "0.13.0"
# Sidemantic 0.13.0 asks for duckdb>=1.4.4, but its HTTP server fails on every query with
# DuckDB 2 (`fetch_record_batch` is gone): pin the DuckDB that Sextant runs on.
SIDEMANTIC_REQUIREMENTS = (f"sidemantic[api]=={SIDEMANTIC_VERSION}", "duckdb==1.5.6")
SIDEMANTIC_MODEL = Path(__file__).resolve().parent / "peers" / "sidemantic"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sextant-bench"
Rows = list[list[Any]]


ORDER_COLUMNS = (
    "ID", "USER_ID", "PRODUCT_ID", "SUBTOTAL", "TAX", "TOTAL", "DISCOUNT", "CREATED_AT",
    "QUANTITY",
)  # fmt: skip


# --- the five queries, in both formats ------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    sextant: Callable[[Callable[..., str]], dict[str, Any]]  # field ids -> construct body
    sidemantic: dict[str, Any]  # a `POST /query` body


def _newest_orders(f: Callable[..., str]) -> dict[str, Any]:
    return {
        "fields": [{"field_id": f(column)} for column in ORDER_COLUMNS],
        "filters": [{"field_id": f("TOTAL"), "operation": "greater-than", "value": 50}],
        "order_by": [
            {"field": {"field_id": f("CREATED_AT")}, "direction": "desc"},
            {"field": {"field_id": f("ID")}, "direction": "desc"},
        ],
        "limit": 100,
    }


QUERIES = (
    Query(
        "total revenue",
        lambda f: {"aggregations": [{"field_id": f("TOTAL"), "function": "sum"}]},
        {"metrics": ["orders.revenue"]},
    ),
    Query(
        "revenue by month",
        lambda f: {
            "aggregations": [{"field_id": f("TOTAL"), "function": "sum"}],
            "group_by": [{"field_id": f("CREATED_AT"), "field_granularity": "month"}],
        },
        {"dimensions": ["orders.created_at__month"], "metrics": ["orders.revenue"]},
    ),
    Query(
        "orders by category (FK)",
        lambda f: {
            "aggregations": [{"function": "count"}],
            "group_by": [{"field_id": f("CATEGORY", "PRODUCT_ID")}],
        },
        {"dimensions": ["products.category"], "metrics": ["orders.order_count"]},
    ),
    Query(
        "buyers by state, total>100",
        lambda f: {
            "filters": [{"field_id": f("TOTAL"), "operation": "greater-than", "value": 100}],
            "aggregations": [{"field_id": f("USER_ID"), "function": "count-distinct"}],
            "group_by": [{"field_id": f("STATE", "USER_ID")}],
        },
        {
            "dimensions": ["people.state"],
            "metrics": ["orders.buyers"],
            "filters": ["orders.total > 100"],
        },
    ),
    Query(
        "100 newest orders, total>50",
        _newest_orders,
        {
            "dimensions": [f"orders.{column.lower()}" for column in ORDER_COLUMNS],
            "filters": ["orders.total > 50"],
            "order_by": ["orders.created_at desc", "orders.id desc"],
            "limit": 100,
            "ungrouped": True,
        },
    ),
)


# --- the two servers ------------------------------------------------------------------------


def sidemantic_venv() -> Path:
    """Sidemantic's own virtual environment, made from PyPI on first use."""
    venv = CACHE / f"sidemantic-{SIDEMANTIC_VERSION}-venv"
    stamp = venv / "sextant-bench-requirements"
    wanted = "\n".join(SIDEMANTIC_REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return venv
    print(f"installing {' '.join(SIDEMANTIC_REQUIREMENTS)} into {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *SIDEMANTIC_REQUIREMENTS], check=True)
    stamp.write_text(wanted)
    return venv


def venv_versions(venv: Path) -> str:
    """`Sidemantic X on DuckDB Y`, the versions installed in ``venv``."""
    code = "import duckdb, sidemantic; print(sidemantic.__version__, duckdb.__version__)"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    peer, engine = done.stdout.split()
    return f"Sidemantic {peer} on DuckDB {engine}"


def sidemantic_command(venv: Path, warehouse: Path, token_file: Path, port: int) -> list[str]:
    return [
        str(venv / "bin" / "sidemantic"), "server", "api", str(SIDEMANTIC_MODEL),
        "--connection", f"duckdb://{warehouse.resolve()}?read_only=true",
        "--port", str(port), "--auth-token-file", str(token_file),
        "--max-concurrent-queries", "8", "--no-ui", "--no-mcp",
    ]  # fmt: skip


@contextmanager
def running(
    name: str,
    command: list[str],
    env: dict[str, str],
    cwd: Path,
    ready: tuple[str, SextantClient | SidemanticClient],
) -> Iterator[None]:
    """``command`` running (output in ``cwd/name.log``) and answering 200 on ``ready``: a URL
    and the client whose headers to send."""
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
    try:
        wait_ready(process, ready[0], ready[1].headers, log)
        yield
    finally:
        stop(process)


def wait_ready(
    process: subprocess.Popen[bytes], url: str, headers: dict[str, str], log: Path
) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: server exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up:\n{log.read_text()}")


# --- clients --------------------------------------------------------------------------------


class SextantClient:
    def __init__(self, base_url: str) -> None:
        self.base = f"{base_url}/api/agent/v1"
        self.http = httpx.Client(base_url=self.base, timeout=120)
        self.refresh()

    def refresh(self) -> None:
        """A new JWT: Sextant refuses one issued more than 180 s ago."""
        self.headers = {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}

    def field_ids(self, table: str) -> tuple[int, Callable[..., str]]:
        """The id of ``table`` and a look-up of its field ids by column (and FK column)."""
        tables = self.http.get("/tables", headers=self.headers).json()["data"]
        table_id = next(t["id"] for t in tables if t["name"] == table)
        detail = self.http.get(f"/table/{table_id}", headers=self.headers).json()

        def field(column: str, via: str | None = None) -> str:
            fields = detail["fields"]
            if via is not None:
                related = detail["related_tables"]
                fields = next(t["fields"] for t in related if t["related_by"] == via)
            return str(next(f["field_id"] for f in fields if f["name"] == column))

        return table_id, field

    def construct(self, body: dict[str, Any]) -> str:
        answer = self.http.post("/construct-query", json=body, headers=self.headers)
        answer.raise_for_status()
        return str(answer.json()["query"])

    def execute(self, token: str) -> httpx.Response:
        answer = self.http.post("/execute", json={"query": token}, headers=self.headers)
        answer.raise_for_status()
        return answer

    def rows(self, token: str) -> Rows:
        answer = self.execute(token).json()
        if answer.get("status") != "completed" or answer.get("truncated"):
            raise SystemExit(f"Sextant execute did not complete: {answer}")
        return list(answer["data"]["rows"])


class SidemanticClient:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url
        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}"}

    def query(self, body: dict[str, Any]) -> httpx.Response:
        answer = self.http.post("/query", json=body, headers=self.headers)
        answer.raise_for_status()
        return answer

    def rows(self, body: dict[str, Any]) -> Rows:
        return [list(row.values()) for row in self.query(body).json()["rows"]]


# --- same answers ---------------------------------------------------------------------------

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$")


def normal(value: Any) -> Any:
    """Numbers as floats, ISO dates and datetimes as naive UTC datetimes (a month key
    `2024-01-01` equals `2024-01-01T00:00:00Z`), anything else as it is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _ISO.match(value):
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return value


def _sort_key(row: list[Any]) -> str:
    # rows differ in their keys (group values, ids), never only in float measures
    return repr([value for value in row if not isinstance(value, float)])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def difference(ours: Rows, theirs: Rows) -> str | None:
    """Why the two results differ, or None when they hold the same rows."""
    if len(ours) != len(theirs):
        return f"{len(ours)} rows against {len(theirs)}"
    left = sorted(([normal(v) for v in row] for row in ours), key=_sort_key)
    right = sorted(([normal(v) for v in row] for row in theirs), key=_sort_key)
    for mine, peer in zip(left, right, strict=True):
        if len(mine) != len(peer) or not all(map(_same, mine, peer)):
            return f"row {mine} against {peer}"
    return None


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    query: str
    measure: str
    sextant: float
    sidemantic: float
    higher_is_better: bool = False

    @property
    def ratio(self) -> float:
        return self.sextant / self.sidemantic

    @property
    def ahead(self) -> bool:
        return self.ratio > 1 if self.higher_is_better else self.ratio < 1


def wrk_rate(
    url: str, authorization: str, body: dict[str, Any], seconds: float, conns: int
) -> float:
    """Requests per second of wrk POSTing ``body``; fails on any error or non-2xx answer."""
    got = wrk(
        url,
        method="POST",
        headers={"Authorization": authorization},
        body=body,
        seconds=seconds,
        connections=conns,
    )
    if got["bad"] or got["errors"]:
        raise SystemExit(f"wrk saw failed requests on {url}: {got}")
    return got["rate"]


def interleaved(calls: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """(p50, p95) in ms of each call over ``repeat`` sequential runs, taken in turns (one of
    each, then again) so that a busy moment of a shared machine falls on all of them alike."""
    for call in calls:
        call()  # warm
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for call, taken in zip(calls, samples, strict=True):
            taken.append(percentiles(call, 1, warm=False)[0])
    return [p50_p95(taken) for taken in samples]


def measure(
    query: Query,
    body: dict[str, Any],
    sextant: SextantClient,
    sidemantic: SidemanticClient,
    args: argparse.Namespace,
) -> list[Line]:
    """The five lines of one query: p50/p95 of execute and of construct+execute, wrk req/s."""
    sextant.refresh()
    token = sextant.construct(body)
    ready, both, peer = interleaved(
        [
            lambda: sextant.execute(token),
            lambda: sextant.execute(sextant.construct(body)),
            lambda: sidemantic.query(query.sidemantic),
        ],
        args.repeat,
    )
    sextant.refresh()
    ours = wrk_rate(
        f"{sextant.base}/execute",
        sextant.headers["Authorization"],
        {"query": token},
        args.seconds,
        args.connections,
    )
    theirs = wrk_rate(
        f"{sidemantic.base}/query",
        sidemantic.headers["Authorization"],
        query.sidemantic,
        args.seconds,
        args.connections,
    )
    return [
        Line(query.name, "p50 ms, execute (ready token)", ready[0], peer[0]),
        Line(query.name, "p95 ms, execute (ready token)", ready[1], peer[1]),
        Line(query.name, "p50 ms, construct + execute", both[0], peer[0]),
        Line(query.name, "p95 ms, construct + execute", both[1], peer[1]),
        Line(query.name, f"req/s, wrk {args.connections} conns", ours, theirs, True),
    ]


def check_answers(
    bodies: list[dict[str, Any]], sextant: SextantClient, sidemantic: SidemanticClient
) -> None:
    for query, body in zip(QUERIES, bodies, strict=True):
        ours = sextant.rows(sextant.construct(body))
        theirs = sidemantic.rows(query.sidemantic)
        why = difference(ours, theirs)
        if why is not None:
            raise SystemExit(f"answers differ on {query.name!r}: {why}")
        print(f"same answer: {query.name} ({len(ours)} rows)")


def print_table(lines: list[Line]) -> None:
    print(
        f"{'query':28} {'measure':30} {'Sextant':>9} {'Sidemantic':>10} {'ratio':>6} {'ahead':>5}"
    )
    for line in lines:
        print(
            f"{line.query:28} {line.measure:30} {line.sextant:9.2f} {line.sidemantic:10.2f} "
            f"{line.ratio:6.2f} {'yes' if line.ahead else 'NO':>5}"
        )
    behind = [line for line in lines if not line.ahead]
    if not behind:
        print(f"Sextant is ahead on every line ({len(lines)} of {len(lines)}).")
    else:
        names = "; ".join(f"{line.query}: {line.measure}" for line in behind)
        print(f"Sextant is NOT ahead on {len(behind)} of {len(lines)} lines: {names}.")


# --- the run --------------------------------------------------------------------------------


def compare(sextant: SextantClient, sidemantic: SidemanticClient, args: argparse.Namespace) -> None:
    orders, field = sextant.field_ids("ORDERS")
    bodies = [{"table_id": orders, **query.sextant(field)} for query in QUERIES]
    check_answers(bodies, sextant, sidemantic)
    print(
        f"p50/p95 of {args.repeat} sequential requests over loopback HTTP (ms); wrk "
        f"{args.connections} connections for {args.seconds:g} s (req/s); ratio = Sextant / "
        "Sidemantic"
    )
    lines: list[Line] = []
    for query, body in zip(QUERIES, bodies, strict=True):
        lines += measure(query, body, sextant, sidemantic, args)
    print_table(lines)


@contextmanager
def both_servers(tmp: Path, scale: int) -> Iterator[tuple[SextantClient, SidemanticClient]]:
    """The demo at ``scale`` served by `sextant serve` and, from a copy of its DuckDB file, by
    Sidemantic's API server (from its own venv); clients of both, while the block runs."""
    venv = sidemantic_venv()
    files = prepare_demo(tmp / "demo", scale=scale)
    warehouse = tmp / "sidemantic.duckdb"
    shutil.copyfile(files.warehouse, warehouse)
    token = secrets.token_hex(16)
    (tmp / "sidemantic-token").write_text(token)
    print(
        f"Sextant {version('sextant')} on DuckDB {version('duckdb')} against "
        f"{venv_versions(venv)}; demo --scale {scale} ({row_counts(scale)['ORDERS']:,} orders)"
    )
    ours, theirs = free_ports(2)
    sextant = SextantClient(f"http://127.0.0.1:{ours}")
    sidemantic = SidemanticClient(f"http://127.0.0.1:{theirs}", token)
    serve_sextant = [
        sys.executable, "-m", "sextant", "serve", "--config", str(files.model),
        "--data-dir", str(files.data_dir), "--port", str(ours),
    ]  # fmt: skip
    serve_sidemantic = sidemantic_command(venv, warehouse, tmp / "sidemantic-token", theirs)
    with (
        running("sextant", serve_sextant, sextant_env(), tmp, (f"{sextant.base}/ping", sextant)),
        running(
            "sidemantic",
            serve_sidemantic,
            dict(os.environ),
            tmp,
            (f"{sidemantic.base}/health", sidemantic),
        ),
    ):
        yield sextant, sidemantic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench-tools` (or apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp, both_servers(Path(tmp), args.scale) as clients:
        compare(*clients, args)


if __name__ == "__main__":
    main()
