"""API keys of sandboxed groups carry user attributes (``--attribute state=CA``).

Found: a key has no attributes, so a key of the sandboxed Regional group saw zero rows.
"""

from __future__ import annotations

import duckdb
from typer.testing import CliRunner

from sextant.cli.main import app as cli
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import cli_env

runner = CliRunner()


def _create(service: Sextant, name: str, *attributes: str) -> str:
    args = ["api-key", "create", "--group", "Regional", "--name", name]
    for pair in attributes:
        args += ["--attribute", pair]
    created = runner.invoke(cli, args, env=cli_env(service.settings.data_dir))
    assert created.exit_code == 0, created.output
    return created.stdout.strip().splitlines()[-1]


def _count(api: AgentClient, key: str, table: str) -> int:
    headers = {"X-API-Key": key}
    body = {"table_id": api.table_id(table), "aggregations": [{"function": "count"}]}
    built = api.request("POST", "/construct-query", json=body, headers=headers)
    assert built.status_code == 200, built.text
    answer = api.request("POST", "/execute", json={"query": built.json()["query"]}, headers=headers)
    result = answer.json()
    assert result["status"] == "completed", result
    return int(result["data"]["rows"][0][0])


def _hand(service: Sextant, sql: str, *params: object) -> int:
    warehouse = service.settings.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(sql, list(params)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_sandboxed_key_sees_the_rows_of_its_attributes(demo_service: Sextant) -> None:
    api = AgentClient(demo_service)
    ca = _create(demo_service, "ca-bot", "state=CA")
    tx = _create(demo_service, "tx-bot", "state=TX", "region=south")
    bare = _create(demo_service, "bare-bot")
    for state, key in (("CA", ca), ("TX", tx)):
        people = _hand(demo_service, "SELECT count(*) FROM PEOPLE WHERE STATE = ?", state)
        orders = _hand(
            demo_service,
            "SELECT count(*) FROM ORDERS o JOIN PEOPLE p ON o.USER_ID = p.ID WHERE p.STATE = ?",
            state,
        )
        assert people > 0 and orders > 0
        assert _count(api, key, "PEOPLE") == people
        assert _count(api, key, "ORDERS") == orders
    # without the attribute the sandbox matches nothing: documented, and listed as "-"
    assert _count(api, bare, "PEOPLE") == 0
    listed = runner.invoke(cli, ["api-key", "list"], env=cli_env(demo_service.settings.data_dir))
    assert listed.exit_code == 0, listed.output
    rows = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines()}
    assert rows["ca-bot"][-1] == "state=CA"
    assert rows["tx-bot"][-1] == "region=south,state=TX"
    assert rows["bare-bot"][-1] == "-"
    # attributes survive an apply (the model owns only its own users' attributes)
    demo_service.apply()
    assert _count(api, ca, "ORDERS") == _count(api, ca, "ORDERS") > 0


def test_a_malformed_attribute_is_refused_before_anything_is_written(
    demo_service: Sextant,
) -> None:
    env = cli_env(demo_service.settings.data_dir)
    for bad in ("state", "=CA"):
        args = ["api-key", "create", "--group", "Regional", "--name", "x", "--attribute", bad]
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 2 and "KEY=VALUE" in result.output
    assert "x" not in [k.name for k in demo_service.credentials.list_api_keys()]
