"""Only apply, sync, serve and demo write the application database's model.

Diagnostic commands (``explain``, ``token --ttl-check``, ``check``, ``api-key list``) once
applied the file they were given, so a running server served an unreviewed model. They now
open the app database read-only (SQLite ``mode=ro``, PostgreSQL read-only transactions) and
never create or migrate it; credential commands need an applied database and write only
credentials.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select
from typer.testing import CliRunner

from sextant.cli.main import app
from sextant.demo.setup import DemoFiles
from sextant.store import schema as s
from tests.agent_client import AgentClient
from tests.conftest import TEST_SECRET, cli_env, make_settings

runner = CliRunner()
ANALYST = "analyst@example.com"


def _state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the app database, in a stable order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(
                    (tuple(map(repr, row)) for row in conn.execute(select(table))), key=repr
                )
                for table in s.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _file_digest(data_dir: Path) -> str | None:
    path = data_dir / "app.db"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture
def applied(demo: DemoFiles, services: Any) -> tuple[DemoFiles, str]:
    """The demo applied, with a query token made by a real construct-query."""
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    api = AgentClient(service)
    body = {"table_id": api.table_id("ORDERS"), "aggregations": [{"function": "count"}]}
    token = str(api.construct(ANALYST, body).json()["query"])
    service.close()
    return demo, token


def test_diagnostic_commands_leave_the_app_database_unchanged(
    applied: tuple[DemoFiles, str],
) -> None:
    demo, token = applied
    url = make_settings(demo.data_dir).resolved_app_db_url
    # an edited, unreviewed model: applying it would rename a table and drop a metric
    edited = demo.model.read_text().replace("name: Order Count", "name: Orders Counted", 1)
    assert edited != demo.model.read_text()
    demo.model.write_text(edited)
    before, digest = _state(url), _file_digest(demo.data_dir)
    env = cli_env(demo.data_dir, SEXTANT_JWT_SECRET=TEST_SECRET)
    model = str(demo.model)
    commands = [
        ["explain", token, "--email", ANALYST, "-c", model],
        ["token", "--email", ANALYST, "-c", model, "--ttl-check"],
        ["token", "--email", ANALYST, "-c", model],
        ["check", model],
        ["check", model, "--offline"],
        ["api-key", "list"],
    ]
    for command in commands:
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 0, (command, result.output)
    assert "SELECT" in runner.invoke(app, commands[0], env=env).output
    assert _state(url) == before
    assert _file_digest(demo.data_dir) == digest
    assert "Orders Counted" not in repr(before["cards"])


def test_a_write_through_a_read_only_service_is_refused_by_the_database(
    applied: tuple[DemoFiles, str], services: Any
) -> None:
    """Read-only is enforced by the database, not only by which methods are called."""
    from sqlalchemy.exc import InternalError as SqlInternalError
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from sextant.service import Sextant

    demo, _ = applied
    service = Sextant(make_settings(demo.data_dir, config=demo.model), access="read")
    try:
        with pytest.raises((OperationalError, SqlInternalError, ProgrammingError)):
            service.credentials.revoke_sessions(ANALYST)
    finally:
        service.close()


@pytest.mark.parametrize(
    "command",
    [
        ["api-key", "create", "--group", "Agents", "--name", "k"],
        ["api-key", "revoke", "--name", "k"],
        ["api-key", "list"],
        ["sessions", "revoke", "--email", ANALYST],
        ["explain", "TOKEN", "--email", ANALYST, "-c", "MODEL"],
        ["token", "--email", ANALYST, "-c", "MODEL", "--ttl-check"],
    ],
)
def test_commands_other_than_apply_never_create_an_app_database(
    demo: DemoFiles, tmp_path: Path, command: list[str]
) -> None:
    empty = tmp_path / "nothing-applied"
    env = cli_env(empty, SEXTANT_JWT_SECRET=TEST_SECRET)
    args = [str(demo.model) if a == "MODEL" else a for a in command]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code != 0
    assert "no application database" in result.output
    assert "sextant apply" in result.output
    assert not (empty / "app.db").exists()
    url = make_settings(empty).app_db_url
    if url is not None:  # PostgreSQL: the database stays without tables
        engine = create_engine(url)
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()


def test_check_needs_no_app_database(demo: DemoFiles, tmp_path: Path) -> None:
    empty = tmp_path / "unused"
    env = cli_env(empty, SEXTANT_JWT_SECRET=TEST_SECRET)
    for extra in ([], ["--offline"]):
        result = runner.invoke(app, ["check", str(demo.model), *extra], env=env)
        assert result.exit_code == 0, result.output
    assert not empty.exists()
