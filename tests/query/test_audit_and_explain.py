"""Every execution is audited; `sextant explain` shows the SQL a token runs for a user."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from sextant.cli.main import app as cli
from sextant.service import Sextant
from sextant.store import schema as s
from tests.agent_client import AgentClient
from tests.conftest import TEST_SECRET, cli_env

ANALYST, CA = "analyst@example.com", "ca-manager@example.com"


def test_every_execution_is_recorded(demo_service: Sextant) -> None:
    api = AgentClient(demo_service)
    orders = api.table_id("ORDERS")
    api.run(ANALYST, {"table_id": orders, "limit": 7})
    metric = api.metric_id("Order Count")
    api.run(CA, {"metric_id": metric})
    demo_service.queries.audit.flush()
    with demo_service.engine.connect() as conn:
        rows = conn.execute(
            select(s.audit_log, s.users.c.email)
            .join(s.users, s.users.c.id == s.audit_log.c.user_id)
            .where(s.audit_log.c.action == "query.execute")
            .order_by(s.audit_log.c.id)
        ).all()
    assert [(r.email, r.entity_type, r.entity_id, r.status, r.row_count) for r in rows] == [
        (ANALYST, "table", orders, "completed", 7),
        (CA, "metric", metric, "completed", 1),
    ]
    assert all(r.duration_ms is not None and r.duration_ms >= 0 for r in rows)


def test_explain_shows_the_sandbox_of_the_user(demo_service: Sextant) -> None:
    api = AgentClient(demo_service)
    orders = api.table_id("ORDERS")
    body = {"table_id": orders, "aggregations": [{"function": "count"}]}
    token = api.construct(ANALYST, body).json()["query"]
    env = cli_env(
        demo_service.settings.data_dir,
        SEXTANT_CONFIG=str(demo_service.settings.config),
        SEXTANT_JWT_SECRET=TEST_SECRET,
    )
    runner = CliRunner()
    plain = runner.invoke(cli, ["explain", token, "--email", ANALYST], env=env)
    assert plain.exit_code == 0, plain.output
    assert "COUNT(*)" in plain.stdout and "'CA'" not in plain.stdout
    sandboxed = runner.invoke(
        cli, ["explain", token, "--email", CA, "--dialect", "postgres"], env=env
    )
    assert sandboxed.exit_code == 0, sandboxed.output
    assert "'CA'" in sandboxed.stdout and '"PEOPLE"' in sandboxed.stdout
    for dialect in ("mysql", "sqlite", "spark"):
        assert (
            runner.invoke(
                cli, ["explain", token, "--email", CA, "--dialect", dialect], env=env
            ).exit_code
            == 0
        )
    bad = runner.invoke(cli, ["explain", token, "--email", CA, "--dialect", "oracle"], env=env)
    assert bad.exit_code == 2 and "unknown dialect" in bad.output
    forged = runner.invoke(cli, ["explain", token[:-4] + "AAAA", "--email", CA], env=env)
    assert forged.exit_code == 1
