"""The command line, in process (CliRunner) and as a real server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from sextant.auth.tokens import make_jwt
from sextant.cli.main import app
from sextant.demo.setup import DemoFiles
from sextant.store import schema as s
from tests.conftest import TEST_SECRET, cli_env, make_settings
from tests.soundness.test_spark import SPARK_SOCKETS

runner = CliRunner()


def env_for(data_dir: Path) -> dict[str, str]:
    return cli_env(data_dir, SEXTANT_JWT_SECRET=TEST_SECRET)


def test_check_ok_and_broken(demo: DemoFiles) -> None:
    ok = runner.invoke(app, ["check", str(demo.model)], env=env_for(demo.data_dir))
    assert ok.exit_code == 0, ok.output
    assert "OK (1 database(s), 4 table(s), 9 metric(s), 8 question(s), 7 user(s))" in ok.output
    text = demo.model.read_text()
    demo.model.write_text(text.replace("column: SUBTOTAL", "column: SUBTOTL", 1))
    broken = runner.invoke(app, ["check", str(demo.model)], env=env_for(demo.data_dir))
    assert broken.exit_code == 1
    assert "did you mean 'SUBTOTAL'?" in broken.output
    assert "1 problem(s) found." in broken.output


def test_apply_then_sync(demo: DemoFiles) -> None:
    applied = runner.invoke(app, ["apply", str(demo.model)], env=env_for(demo.data_dir))
    assert applied.exit_code == 0, applied.output
    assert "4 tables" in applied.output and "9 metrics" in applied.output
    assert "12 data permissions" in applied.output and "1 database," in applied.output
    assert applied.output.count("applied ") == 1 and "INFO" not in applied.output
    synced = runner.invoke(app, ["sync", str(demo.model)], env=env_for(demo.data_dir))
    assert synced.exit_code == 0, synced.output
    assert "synced 4 table(s), 35 column(s)" in synced.output
    engine = create_engine(make_settings(demo.data_dir).resolved_app_db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(s.fingerprints)).scalar() == 35
    engine.dispose()


def test_apply_of_a_broken_model_exits_1(demo: DemoFiles) -> None:
    demo.model.write_text(demo.model.read_text().replace("table: ORDERS", "table: ORDER", 1))
    result = runner.invoke(app, ["apply", str(demo.model)], env=env_for(demo.data_dir))
    assert result.exit_code == 1
    assert "nothing was changed" in result.output


def test_token_is_a_valid_hs256_jwt() -> None:
    result = runner.invoke(app, ["token", "--email", "analyst@example.com", "--secret", "k" * 32])
    assert result.exit_code == 0
    claims = jwt.decode(result.output.strip(), b"k" * 32, algorithms=["HS256"])
    assert claims["email"] == "analyst@example.com"
    assert abs(claims["iat"] - time.time()) < 5


def test_token_scope_and_ttl_are_claims() -> None:
    """``--scope`` once nested its claims under a "claims" key: the token had every scope."""
    args = ["token", "--email", "a@example.com", "--secret", "k" * 32]
    result = runner.invoke(app, [*args, "--scope", "agent:search", "--ttl", "60"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), b"k" * 32, algorithms=["HS256"])
    assert claims["scope"] == "agent:search" and "claims" not in claims
    assert 55 <= claims["exp"] - time.time() <= 65


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _banner_commands(output: str) -> list[str]:
    """The commands the demo banner prints (its indented lines)."""
    return [line.strip() for line in output.splitlines() if line.startswith("    ")]


def test_demo_serves_ping_within_60_seconds(tmp_path: Path) -> None:
    """What `make demo` runs, as a real process on a real port, from an empty directory; then
    every command its banner prints, as printed, from the same directory."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "sextant", "demo", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")))
    reader.start()
    url = f"http://127.0.0.1:{port}/api/agent/v1/ping"
    data = tmp_path / "sextant-demo"
    try:
        answer = None
        while time.monotonic() - started < 60 and process.poll() is None:
            try:
                answer = httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None, "the demo did not answer within 60 s"
        assert answer.status_code == 401  # even ping needs authentication
        secret = (data / "jwt-secret").read_text()
        token = make_jwt(secret, "analyst@example.com")
        pong = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert pong.json() == {"message": "pong"}
        key_file = data / "agent-api-key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "sextant.env").stat().st_mode & 0o777 == 0o600
        key = key_file.read_text().strip()
        curated = f"http://127.0.0.1:{port}/api/collection/1/items?models=card"
        items = httpx.get(curated, headers={"X-API-Key": key}, timeout=5).json()
        assert len(items["data"]) == 6 and {i["model"] for i in items["data"]} == {"card"}
        commands = _banner_commands("".join(lines))
        assert len(commands) == 5, commands
        for command in commands:
            ran = subprocess.run(
                ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                text=True, timeout=60,
            )  # fmt: skip
            assert ran.returncode == 0, (command, ran.stdout, ran.stderr)
            assert "error" not in ran.stdout.lower(), (command, ran.stdout)
            if "/ping" in command:
                assert ran.stdout.strip() == '{"message":"pong"}', (command, ran.stdout)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
    output = "".join(lines)
    assert "JWT shared secret:" in output and "curl -sS -H 'Authorization: Bearer" in output
    assert secret in output
    assert f"curl -sS -H 'X-API-Key: {key}' '{curated}'" in output
    banner_token = output.split("Authorization: Bearer ", 1)[1].split("'", 1)[0]
    assert jwt.decode(banner_token, secret.encode(), algorithms=["HS256"])["email"] == (
        "analyst@example.com"
    )


@pytest.mark.spark
@SPARK_SOCKETS
def test_demo_on_spark_builds_syncs_and_prints_the_banner(spark_demo: DemoFiles) -> None:
    """`sextant demo --engine spark` in process, on the Spark session the other tests share.
    One process's Spark catalog holds one directory per table name, so this demo writes its
    (identical) Parquet files into the directory the shared session already reads."""
    data_dir = spark_demo.data_dir.parent / "cli-spark-demo"
    lake = spark_demo.data_dir / "parquet"
    url = f"spark://{lake}?master=local[2]"
    options = ["--engine", "spark", "--warehouse-url", url, "--data-dir", str(data_dir)]
    result = runner.invoke(app, ["demo", "--no-serve", *options], env=env_for(data_dir))
    assert result.exit_code == 0, result.output
    assert "synced 4 tables, 35 columns" in result.output
    assert (lake / "ORDERS.parquet").exists()
    assert "foreign_key: PEOPLE.ID" in (data_dir / "sextant.yaml").read_text()


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_busy_port_is_said_in_one_line_before_any_work(tmp_path: Path, command: str) -> None:
    """Found: a second `make demo` synced, printed its banner, then died with uvicorn's raw
    `Errno 98`."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
        args = ["--port", str(port), "--data-dir", str(tmp_path / "d")]
        if command == "serve":
            args += ["--config", str(tmp_path / "nothing.yaml")]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "sextant", command, *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use (another Sextant or demo still "
        "running?): stop it, or choose another with --port"
    ], done.stderr
    assert not (tmp_path / "d").exists()  # nothing built, synced or created
    assert time.monotonic() - started < 20
