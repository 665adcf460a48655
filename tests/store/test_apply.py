"""Applying models: stable ids, all-or-nothing writes, migrations that match the schema."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, select

from sextant.demo.setup import DemoFiles
from sextant.errors import ConfigurationError, ModelInvalidError
from sextant.service import Sextant
from sextant.settings import Settings
from sextant.store import schema as s
from sextant.store.db import (
    HEAD_REVISION,
    MIGRATIONS,
    alembic_config,
    migrate,
    require_current,
)
from tests.conftest import make_settings

Services = Callable[[Settings], Sextant]

NATURAL_KEYS = {
    s.databases: ("name",),
    s.tables: ("database_id", "name"),
    s.fields: ("table_id", "name"),
    s.cards: ("card_type", "name"),
    s.measures: ("table_id", "name"),
    s.segments: ("table_id", "name"),
    s.collections: ("name",),
}


def ids(engine: Engine) -> dict[str, dict[tuple[Any, ...], int]]:
    """Natural key -> id for every entity with a stable id."""
    out: dict[str, dict[tuple[Any, ...], int]] = {}
    with engine.connect() as conn:
        for table, keys in NATURAL_KEYS.items():
            rows = conn.execute(select(table.c.id, *(table.c[k] for k in keys)))
            out[table.name] = {tuple(r[1:]): r[0] for r in rows}
    return out


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(select(t)))
            for t in s.metadata.sorted_tables
            if t.name != "model_state"
        } | {"model_state": [tuple(r) for r in conn.execute(select(s.model_state.c.id))]}


EXTRA_METRIC = """
  - name: Tax Collected
    description: Sum of tax.
    collection: Curated
    table: ORDERS
    aggregation: {function: sum, column: TAX}
"""


def add_metric(model: Path) -> None:
    text = model.read_text()
    marker = "\nmeasures:\n"
    model.write_text(text.replace(marker, EXTRA_METRIC + marker, 1))


def test_ids_survive_restart_and_reapply_with_an_added_metric(
    demo: DemoFiles, services: Services
) -> None:
    settings = make_settings(demo.data_dir, config=demo.model)
    first = Sextant(settings)
    first.apply()
    before = ids(first.engine)
    assert len(before["fields"]) == 36
    assert sorted(k[0] for k in before["cards"]) == ["metric"] * 9 + ["question"] * 8
    first.engine.dispose()

    restarted = services(settings)  # a new process would do exactly this
    restarted.apply()
    assert ids(restarted.engine) == before

    add_metric(demo.model)
    restarted.apply()
    after = ids(restarted.engine)
    for kind, known in before.items():
        assert {k: after[kind][k] for k in known} == known, kind
    assert set(after["cards"]) - set(before["cards"]) == {("metric", "Tax Collected")}


def test_a_removed_metric_comes_back_with_its_id(demo: DemoFiles, services: Services) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    original = demo.model.read_text()
    add_metric(demo.model)
    service.apply()
    tax_id = ids(service.engine)["cards"][("metric", "Tax Collected")]
    demo.model.write_text(original)
    service.apply()
    with service.engine.connect() as conn:
        active = conn.execute(select(s.cards.c.active).where(s.cards.c.id == tax_id)).scalar()
    assert active is False
    add_metric(demo.model)
    service.apply()
    assert ids(service.engine)["cards"][("metric", "Tax Collected")] == tax_id


def test_a_broken_model_changes_nothing(demo: DemoFiles, services: Services) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    before = snapshot(service.engine)
    text = demo.model.read_text()
    demo.model.write_text(
        text.replace("collection: Finance\n", "collection: Nowhere\n").replace(EXTRA_METRIC, "")
        + EXTRA_METRIC.replace("  - name", "extra_top_level:\n  - name")
    )
    with pytest.raises(ModelInvalidError) as raised:
        service.apply()
    assert len(raised.value.issues) >= 1
    assert snapshot(service.engine) == before


def test_a_failure_inside_the_transaction_rolls_everything_back(
    demo: DemoFiles, postgres_database: str, services: Services
) -> None:
    """PostgreSQL enforces VARCHAR(255): a too-long user name fails after tables were written."""
    service = services(
        make_settings(demo.data_dir, config=demo.model, app_db_url=postgres_database)
    )
    service.apply()
    before = snapshot(service.engine)
    add_metric(demo.model)  # would add a metric before users are written
    text = demo.model.read_text().replace("first_name: Ana", "first_name: " + "A" * 300)
    demo.model.write_text(text)
    with pytest.raises(Exception, match="value too long"):
        service.apply()
    assert snapshot(service.engine) == before


def test_postgres_app_database_runs_the_same_migrations(
    demo: DemoFiles, postgres_database: str, services: Services
) -> None:
    service = services(
        make_settings(demo.data_dir, config=demo.model, app_db_url=postgres_database)
    )
    report = service.sync()
    assert report.tables == 4
    first = ids(service.engine)
    services(make_settings(demo.data_dir, app_db_url=postgres_database)).apply(demo.model)
    assert ids(service.engine) == first
    _assert_schema_matches_migrations(service.engine)


def _assert_schema_matches_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), s.metadata)
    assert diff == []


def test_sqlite_schema_matches_migrations(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    migrate(engine)  # idempotent
    _assert_schema_matches_migrations(engine)


def test_head_revision_is_alembics_head() -> None:
    """A database at HEAD_REVISION is opened without Alembic: the constant must name the
    newest migration, or a new migration would never run."""
    assert ScriptDirectory(str(MIGRATIONS)).get_heads() == [HEAD_REVISION]


def test_a_current_database_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(create_engine(url))
    script = (
        "import sys\n"
        "from sqlalchemy import create_engine\n"
        "from sextant.store.db import migrate, require_current\n"
        f"engine = create_engine({url!r})\n"
        "migrate(engine)\n"
        "require_current(engine)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_older_database_is_refused_then_migrated(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    config = alembic_config(engine.url.render_as_string())
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    with pytest.raises(ConfigurationError, match="older Sextant"):
        require_current(engine)
    migrate(engine)
    require_current(engine)
    _assert_schema_matches_migrations(engine)


def test_permissions_users_and_sandboxes_are_written(demo: DemoFiles, services: Services) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    with service.engine.connect() as conn:
        users = {r.email: r.active for r in conn.execute(select(s.users))}
        grants = conn.execute(
            select(s.groups.c.name, s.tables.c.name, s.data_permissions.c.access)
            .join(s.groups, s.groups.c.id == s.data_permissions.c.group_id)
            .join(s.tables, s.tables.c.id == s.data_permissions.c.table_id)
        ).all()
        attrs = conn.execute(select(s.user_attributes.c.key, s.user_attributes.c.value)).all()
        sandboxes = conn.execute(select(s.sandboxes.c.definition)).scalars().all()
        fk = conn.execute(
            select(s.fields.c.name, s.fields.c.semantic_type, s.fields.c.fk_target_field_id).where(
                s.fields.c.name == "USER_ID"
            )
        ).one()
    assert users["former@example.com"] is False and users["analyst@example.com"] is True
    assert ("Regional", "ORDERS", "sandboxed") in grants
    assert ("Analysts", "REVIEWS", "query") in grants
    assert not [g for g in grants if g[0] == "Outsiders"]
    assert attrs == [("state", "CA")]
    assert {
        "filter": {
            "column": "STATE",
            "operation": "equals",
            "value": "{{user.state}}",
            "via": "USER_ID",
        },
        "hidden_columns": [],
    } in sandboxes
    assert fk.semantic_type == "type/FK" and fk.fk_target_field_id is not None


def _cards(engine: Engine) -> dict[tuple[str, str], tuple[int, Any, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                s.cards.c.card_type,
                s.cards.c.name,
                s.cards.c.id,
                s.cards.c.created_at,
                s.cards.c.updated_at,
            )
        )
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def test_questions_and_metrics_share_stable_ids(demo: DemoFiles, services: Services) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    first = _cards(service.engine)
    ids_ = [card[0] for card in first.values()]
    assert len(ids_) == len(set(ids_)) == 17
    service.apply()
    assert _cards(service.engine) == first  # nothing changed: same ids, same timestamps

    text = demo.model.read_text()
    changed = text.replace(
        "aggregations: [{function: count}]\n      group_by: [SOURCE]",
        "aggregations: [{function: count-distinct, column: ID}]\n      group_by: [SOURCE]",
    )
    assert changed != text
    demo.model.write_text(changed)
    add_metric(demo.model)
    service.apply()
    after = _cards(service.engine)
    churn = ("question", "Churn Experiment")
    assert after[churn][0] == first[churn][0] and after[churn][1] == first[churn][1]
    assert after[churn][2] > first[churn][2]  # its definition changed
    untouched = ("question", "Revenue by Month")
    assert after[untouched] == first[untouched]
    tax = after[("metric", "Tax Collected")][0]
    assert tax > max(ids_)  # a new metric never takes a question's id
    assert {k: v[0] for k, v in after.items() if k in first} == {k: v[0] for k, v in first.items()}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrading_keeps_every_metric_id(
    demo: DemoFiles, services: Services, backend: str, request: pytest.FixtureRequest
) -> None:
    """An app database made before cards existed: its metrics keep their ids, and the
    questions that arrive with the next apply take new ones."""
    import sqlalchemy as sa
    from alembic import command

    from sextant.store.db import alembic_config, open_engine

    url = (
        request.getfixturevalue("postgres_database")
        if backend == "postgres"
        else f"sqlite:///{demo.data_dir / 'app.db'}"
    )
    engine = open_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    old = {
        name: sa.table(name, *(sa.column(c) for c in columns))
        for name, columns in {
            "databases": ("id", "name", "engine", "active"),
            "tables": ("id", "database_id", "name", "display_name", "visibility", "active"),
            "collections": ("id", "name", "active"),
            "metrics": (
                "id",
                "name",
                "collection_id",
                "table_id",
                "definition",
                "verified",
                "active",
            ),
        }.items()
    }
    # ids from the databases' own sequences, as a real older install would have them; the
    # metrics in the opposite order of the model's
    with engine.begin() as conn:
        db = conn.execute(
            sa.insert(old["databases"])
            .values(name="Sample Shop", engine="duckdb", active=True)
            .returning(old["databases"].c.id)
        ).scalar_one()
        table = conn.execute(
            sa.insert(old["tables"])
            .values(
                database_id=db,
                name="ORDERS",
                display_name="Orders",
                visibility="normal",
                active=True,
            )
            .returning(old["tables"].c.id)
        ).scalar_one()
        collection = conn.execute(
            sa.insert(old["collections"])
            .values(name="Curated", active=True)
            .returning(old["collections"].c.id)
        ).scalar_one()
        metric_ids = {
            name: conn.execute(
                sa.insert(old["metrics"])
                .values(
                    name=name,
                    collection_id=collection,
                    table_id=table,
                    definition=sa.literal({}, sa.JSON),
                    verified=True,
                    active=True,
                )
                .returning(old["metrics"].c.id)
            ).scalar_one()
            for name in ("Order Count", "Total Revenue")
        }
    engine.dispose()
    service = services(make_settings(demo.data_dir, config=demo.model, app_db_url=url))
    service.apply()
    cards = _cards(service.engine)
    assert cards[("metric", "Total Revenue")][0] == metric_ids["Total Revenue"]
    assert cards[("metric", "Order Count")][0] == metric_ids["Order Count"]
    assert cards[("metric", "Total Revenue")][1] is not None  # the migration dated it
    others = [v[0] for k, v in cards.items() if k[1] not in metric_ids]
    assert len(others) == len(set(others)) == 15
    assert min(others) > max(metric_ids.values())
    _assert_schema_matches_migrations(service.engine)
