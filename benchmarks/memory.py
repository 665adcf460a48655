"""Resident memory of an idle `sextant serve` of the demo, against a bare FastAPI + PyJWT server.

Both are started for the run with one worker; each figure is read from /proc (the server and
its child processes): idle after one ping, then after a semantic search and an execute; then
the same server restarted, idle. The first start of a server creates its application database
(Alembic) and embeds every entity; later starts find both done, which is what a server holds
for the rest of its life. File-backed pages (shared libraries, the model's
weights, mapped read-only) are shared by every worker and process that maps them; anonymous
pages are each process's own. Target (issue 16): idle ≤ 250 MB with search enabled.

    .venv/bin/python benchmarks/memory.py [--scale 1] [--settle 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import SECRET, free_ports, sextant_env
from throughput import HERE, bearer, serve, stop, wait_ready

from sextant.demo.setup import prepare_demo


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            todo.extend(int(child) for child in children)
    return found


def resident(pid: int) -> dict[str, float]:
    """RSS, anonymous and file-backed resident memory (MB) of ``pid`` and its children."""
    total = {"VmRSS": 0.0, "RssAnon": 0.0, "RssFile": 0.0}
    for each in _tree(pid):
        for text in Path(f"/proc/{each}/status").read_text().splitlines():
            key, _, value = text.partition(":")
            if key in total:
                total[key] += int(value.split()[0]) / 1024
    return total


def line(name: str, got: dict[str, float], floor: float) -> None:
    print(
        f"{name:44} {got['VmRSS']:7.0f} {got['RssAnon']:7.0f} {got['RssFile']:7.0f} "
        f"{got['VmRSS'] / floor:8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds idle before reading")
    args = parser.parse_args()
    env = sextant_env() | {"FLOOR_JWT_SECRET": SECRET}
    print(f"{'process (MB)':44} {'RSS':>7} {'anon':>7} {'file':>7} {'vs floor':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp) / "demo", scale=args.scale)
        port = free_ports(1)[0]
        floor_server = serve(
            [sys.executable, "-m", "uvicorn", "floor_app:app", "--app-dir", str(HERE),
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env,
        )  # fmt: skip
        try:
            wait_ready(f"http://127.0.0.1:{port}/ping", bearer())
            floor = resident(floor_server.pid)
        finally:
            stop(floor_server)
        line("floor: FastAPI + PyJWT, idle", floor, floor["VmRSS"])
        command = [
            sys.executable, "-m", "sextant", "serve", "--config", str(files.model),
            "--data-dir", str(files.data_dir), "--port", str(port),
        ]  # fmt: skip
        api = f"http://127.0.0.1:{port}/api/agent/v1"
        server = serve(command, env)
        try:
            wait_ready(f"{api}/ping", bearer())
            time.sleep(args.settle)  # start-up work (the search index) ends after ready
            line("first start, idle (migrates, embeds)", resident(server.pid), floor["VmRSS"])
            search = {"term_queries": ["revenue"], "semantic_queries": ["money we made"]}
            httpx.post(f"{api}/search", headers=bearer(), json=search).raise_for_status()
            line("after a semantic search", resident(server.pid), floor["VmRSS"])
            body = {"table_id": 1, "aggregations": [{"function": "count"}]}
            made = httpx.post(f"{api}/construct-query", headers=bearer(), json=body)
            made.raise_for_status()
            query = {"query": made.json()["query"]}
            httpx.post(f"{api}/execute", headers=bearer(), json=query).raise_for_status()
            line("after an execute", resident(server.pid), floor["VmRSS"])
        finally:
            stop(server)
        server = serve(command, env)  # what every later start of the same server holds
        try:
            wait_ready(f"{api}/ping", bearer())
            time.sleep(args.settle)
            line("restarted, idle (goal 250 MB)", resident(server.pid), floor["VmRSS"])
        finally:
            stop(server)


if __name__ == "__main__":
    main()
