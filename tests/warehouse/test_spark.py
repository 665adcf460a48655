"""Spark as a warehouse: URLs, the Parquet directory in the session catalog, introspection,
keys from the model file, fingerprints against hand SQL, one session shared by connections,
and queries stopped on timeout or cancel."""

from __future__ import annotations

import math
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import ibis
import pytest

from sextant.demo.setup import DemoFiles
from sextant.errors import ConfigurationError, WarehouseError
from sextant.service import Sextant
from sextant.warehouse.connection import connect
from sextant.warehouse.introspect import introspect
from sextant.warehouse.runner import Execution, QueryCancelled, QueryTimedOut, run_query
from sextant.warehouse.spark import spark_directory, spark_settings
from tests.agent_client import AgentClient
from tests.conftest import SPARK_DEMO_URL
from tests.soundness.test_spark import SPARK_SOCKETS

pytestmark = [pytest.mark.spark, SPARK_SOCKETS]

CA, ANALYST = "ca-manager@example.com", "analyst@example.com"

# -- URLs ----------------------------------------------------------------------------------------


def test_directory_of_a_url(tmp_path: Path) -> None:
    assert spark_directory("spark:///data/shop", tmp_path) == Path("/data/shop")
    assert spark_directory("spark://shop/parquet", tmp_path) == tmp_path / "shop/parquet"
    assert spark_directory("spark://parquet?master=local[2]", tmp_path) == tmp_path / "parquet"
    assert spark_directory("pyspark://parquet", tmp_path) == tmp_path / "parquet"
    assert spark_directory("spark://", tmp_path) is None  # the session's own catalog
    with pytest.raises(ConfigurationError, match=r"\?master=spark://host:7077"):
        spark_directory("spark://cluster:7077", tmp_path)


def test_master_and_settings_of_a_url() -> None:
    assert spark_settings("spark://parquet") == ("local[*]", {})
    url = "spark:///d?master=spark://cluster:7077&spark.executor.memory=4g"
    assert spark_settings(url) == ("spark://cluster:7077", {"spark.executor.memory": "4g"})
    with pytest.raises(ConfigurationError, match="unknown Spark URL parameter 'mode'"):
        spark_settings("spark:///d?mode=fast")


# -- the demo through Spark ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def backend(spark_demo: DemoFiles) -> Any:
    return connect(SPARK_DEMO_URL, spark_demo.data_dir)


def hand(backend: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in backend._session.sql(sql).collect()]


def test_parquet_files_become_tables_of_the_default_database(backend: Any) -> None:
    assert sorted(backend.list_tables(database="default")) == [
        "ORDERS",
        "PEOPLE",
        "PRODUCTS",
        "REVIEWS",
    ]  # spelt as the files are: Spark would lower-case them
    assert hand(backend, "SELECT count(*) FROM `default`.`ORDERS`") == [(18760,)]
    assert hand(backend, "SELECT count(DISTINCT `STATE`) FROM `default`.`PEOPLE`") == [(49,)]


def test_introspection_gives_names_and_types_but_no_keys(backend: Any) -> None:
    tables = {t.name: t for t in introspect(backend, "spark")}
    assert list(tables) == ["ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS"]
    orders = tables["ORDERS"]
    assert orders.schema == "default"
    assert [(c.name, c.database_type, c.base_type) for c in orders.columns] == [
        ("ID", "BIGINT", "type/BigInteger"),
        ("USER_ID", "BIGINT", "type/BigInteger"),
        ("PRODUCT_ID", "BIGINT", "type/BigInteger"),
        ("SUBTOTAL", "DOUBLE", "type/Float"),
        ("TAX", "DOUBLE", "type/Float"),
        ("TOTAL", "DOUBLE", "type/Float"),
        ("DISCOUNT", "DOUBLE", "type/Float"),
        ("CREATED_AT", "TIMESTAMP", "type/DateTime"),
        ("QUANTITY", "INT", "type/Integer"),
    ]
    birth = next(c for c in tables["PEOPLE"].columns if c.name == "BIRTH_DATE")
    assert (birth.database_type, birth.base_type) == ("DATE", "type/Date")
    assert [c.position for c in orders.columns] == list(range(9))
    assert not any(c.primary_key or c.foreign_key for t in tables.values() for c in t.columns)
    assert [t.name for t in introspect(backend, "spark", only=["PEOPLE", "NOPE"])] == ["PEOPLE"]


def test_keys_come_from_the_model_file(spark_service: Sextant) -> None:
    snapshot = spark_service.snapshot()
    fks = {
        (snapshot.tables[f.table_id].name, f.name): (
            snapshot.tables[snapshot.fields[f.fk_target_field_id].table_id].name,
            snapshot.fields[f.fk_target_field_id].name,
        )
        for f in snapshot.fields.values()
        if f.fk_target_field_id
    }
    assert fks == {
        ("ORDERS", "USER_ID"): ("PEOPLE", "ID"),
        ("ORDERS", "PRODUCT_ID"): ("PRODUCTS", "ID"),
        ("REVIEWS", "PRODUCT_ID"): ("PRODUCTS", "ID"),
    }
    keys = {
        snapshot.tables[f.table_id].name
        for f in snapshot.fields.values()
        if f.semantic_type == "type/PK" and f.name == "ID"
    }
    assert keys == {"ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS"}
    assert {d.engine for d in snapshot.databases.values()} == {"spark"}
    api = AgentClient(spark_service)
    details = api.get(f"/table/{api.table_id('ORDERS')}", ANALYST).json()
    assert {rt["related_by"] for rt in details["related_tables"]} == {"USER_ID", "PRODUCT_ID"}


def test_fingerprints_and_sandboxed_values_match_hand_sql(
    spark_service: Sextant, backend: Any
) -> None:
    api = AgentClient(spark_service)
    orders = api.table_id("ORDERS")
    total = api.field(ANALYST, "ORDERS", "TOTAL")
    for email, where in ((ANALYST, "TRUE"), (CA, "p.`STATE` = 'CA'")):
        stats = api.get(f"/table/{orders}/field/{total}/values", email).json()["statistics"]
        ((distinct, low, high, mean, sd),) = hand(
            backend,
            "SELECT count(DISTINCT o.`TOTAL`), min(o.`TOTAL`), max(o.`TOTAL`), avg(o.`TOTAL`), "
            "stddev_samp(o.`TOTAL`) FROM `default`.`ORDERS` o JOIN `default`.`PEOPLE` p "
            f"ON p.`ID` = o.`USER_ID` WHERE {where}",
        )
        assert stats["distinct_count"] == distinct
        for key, want in zip(("min", "max", "avg", "sd"), (low, high, mean, sd), strict=True):
            assert math.isclose(stats[key], want, rel_tol=1e-9), (email, key)
    people = api.table_id("PEOPLE")
    state = api.field(CA, "PEOPLE", "STATE")
    assert api.get(f"/table/{people}/field/{state}/values", CA).json()["values"] == ["CA"]
    source = api.field(ANALYST, "PEOPLE", "SOURCE")
    values = api.get(f"/table/{people}/field/{source}/values", ANALYST).json()["values"]
    assert values == ["Affiliate", "Facebook", "Google", "Organic", "Twitter"]


# -- one session per process --------------------------------------------------------------------


def test_disconnecting_leaves_the_shared_session_running(
    spark_demo: DemoFiles, backend: Any
) -> None:
    other = connect(SPARK_DEMO_URL, spark_demo.data_dir)  # reconnects: tables re-registered
    assert other._session is backend._session
    other.disconnect()
    assert hand(backend, "SELECT count(*) FROM `default`.`PRODUCTS`") == [(200,)]


def test_a_second_master_in_the_same_process_is_refused(spark_demo: DemoFiles) -> None:
    with pytest.raises(WarehouseError, match="one process holds one Spark session"):
        connect("spark://parquet?master=local[1]", spark_demo.data_dir)


def test_a_second_directory_with_the_same_tables_is_refused(
    spark_demo: DemoFiles, backend: Any, tmp_path: Path
) -> None:
    """Tables live in the process's one catalog: another directory's PRODUCTS must not replace
    the demo's (its warehouse would read the other's rows)."""
    other = tmp_path / "lake"
    shutil.copytree(spark_demo.data_dir / "parquet", other)
    with pytest.raises(WarehouseError, match="'ORDERS' is already read from"):
        connect(f"spark://{other}?master=local[2]", None)
    assert hand(backend, "SELECT count(*) FROM `default`.`PRODUCTS`") == [(200,)]


def test_a_missing_directory_is_a_connection_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no directory of Parquet tables"):
        connect("spark://nowhere?master=local[2]", tmp_path)


# -- stopping queries ---------------------------------------------------------------------------


def _slow(backend: Any) -> Any:
    """47 million joined rows with string work: about 6 s here, in batches short enough for
    Spark to notice a cancel (a task stops between batches, not inside one: a join exploding
    within one batch would keep its task busy after the cancel)."""
    orders = backend.table("ORDERS", database="default")
    people = backend.table("PEOPLE", database="default").select(P=ibis._.ID, N=ibis._.NAME)
    pairs = orders.cross_join(people)
    hit = (pairs.N.lower() + pairs.ID.cast("string")).contains("zz9")
    return pairs.filter(hit).aggregate(n=ibis._.count())


def _idle(backend: Any) -> bool:
    """No Spark job of the session still running (interrupts take a moment to land)."""
    tracker = backend._session.sparkContext.statusTracker()
    deadline = time.monotonic() + 10
    while tracker.getActiveJobsIds() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not tracker.getActiveJobsIds()


def test_a_long_query_is_stopped_on_timeout(backend: Any) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimedOut):
        run_query(backend, "spark", _slow(backend), Execution(), timeout=1.0)
    assert time.monotonic() - started < 5
    assert _idle(backend)
    started = time.monotonic()  # the cancelled tasks gave their cores back
    assert hand(backend, "SELECT count(*) FROM `default`.`REVIEWS`") == [(1112,)]
    assert time.monotonic() - started < 3


def test_a_query_is_cancelled_when_the_caller_goes_away(backend: Any) -> None:
    execution = Execution()
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            run_query(backend, "spark", _slow(backend), execution, timeout=60)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(1.5)
    execution.cancel()
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled)
    assert _idle(backend)
