"""What the benchmark scripts share: a server on loopback, free ports, percentile timing and
wrk runs."""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn


@contextmanager
def serve(app: Any, port: int) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1:``port`` in a thread, while the block runs."""
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def percentiles(call: Callable[[], object], n: int, warm: bool = True) -> tuple[float, float]:
    """(p50, p95) in milliseconds over ``n`` sequential calls."""
    if warm:
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return p50_p95(samples)


def p50_p95(samples: list[float]) -> tuple[float, float]:
    """The median and the 95th percentile of samples already taken."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def free_ports(count: int) -> list[int]:
    """``count`` ports nobody listens on now (fixed ports collide with servers left running)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


_LUA = """
wrk.method = "{method}"
{headers}
{body}
"""


def wrk(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    seconds: float = 5.0,
    connections: int = 16,
) -> dict[str, float]:
    """One wrk run (a C load generator, so it is not the bottleneck): req/s, p50 and p99 (ms),
    and the number of non-2xx answers and socket errors."""
    lines = [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items()]
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    script = _LUA.format(
        method=method,
        headers="\n".join(lines),
        body=f"wrk.body = {json.dumps(json.dumps(body))}" if body is not None else "",
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        threads = min(2, connections)
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
        done = subprocess.run(
            [*command, "-s", handle.name, url], capture_output=True, text=True, check=True
        )
    finally:
        os.unlink(handle.name)
    text = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", text, re.M)
        if found is None:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return {
        "rate": rate,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "bad": float(bad.group(1)) if bad else 0.0,
        "errors": float(sum(int(g) for g in errors.groups())) if errors else 0.0,
    }


SECRET = "benchmark-secret-0123456789abcdef0123456789"


def sextant_env() -> dict[str, str]:
    """The environment of a `sextant serve` under measurement: this run's JWT secret, quiet
    logs, no per-user rate limits (one user sends every request), no sextant.env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    return env | {
        "SEXTANT_JWT_SECRET": SECRET,
        "SEXTANT_LOG_LEVEL": "warning",
        "SEXTANT_USER_REQUESTS_PER_MINUTE": "0",
        "SEXTANT_USER_QUERIES_PER_MINUTE": "0",
        "SEXTANT_ENV_FILE": "",
    }


@contextmanager
def served_demo(
    scale: int,
    port: int,
    engine: str = "duckdb",
    warehouse_url: str | None = None,
    **settings_overrides: Any,
) -> Iterator[tuple[Any, Path, str]]:
    """A synced demo of ``scale`` on ``engine`` served on ``port``: (service, warehouse file,
    base URL); server engines load into ``warehouse_url`` (default: the local server)."""
    from sextant.demo.setup import prepare_demo
    from sextant.http import create_app
    from sextant.service import Sextant
    from sextant.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp), scale, engine, warehouse_url)
        settings = Settings(
            data_dir=Path(tmp),
            env={"SEXTANT_JWT_SECRET": SECRET},
            jwt_secret=SECRET,
            config=files.model,
            log_level="warning",
            **{
                # one benchmark user asks for more than a minute's allowance: the figures
                # measure the server, not its per-user limits
                "user_requests_per_minute": 0,
                "user_queries_per_minute": 0,
                **settings_overrides,
            },
        )
        service = Sextant(settings)
        service.sync()
        try:
            with serve(create_app(settings, service), port) as base_url:
                yield service, files.warehouse, base_url
        finally:
            service.close()


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its descendants."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def settle(pid: int, window: float = 0.5, busy: float = 0.05, limit: float = 120.0) -> None:
    """Wait until the server ``pid`` (with its workers) is idle: start-up work that outlives
    readiness (a first start embeds the catalog for semantic search) must not share the
    cores with the measurement."""
    deadline = time.monotonic() + limit
    before = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(window)
        now = _cpu_seconds(pid)
        if now - before < busy * window * 2:
            return
        before = now
