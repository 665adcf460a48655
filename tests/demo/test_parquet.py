"""The demo shop as Parquet files (for Spark): the same data as the DuckDB file, and a model that
declares the keys Spark cannot. Nothing here starts Spark."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from sextant.demo.setup import DemoFiles, prepare_demo
from sextant.model.loader import load_model_file
from sextant.model.validate import validate_model

TABLES = ("ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS")


@pytest.fixture(scope="module")
def parquet_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return prepare_demo(tmp_path_factory.mktemp("parquet") / "demo", engine="spark")


def test_same_rows_and_types_as_the_duckdb_file(
    parquet_demo: DemoFiles, demo_template: DemoFiles
) -> None:
    assert parquet_demo.warehouse == parquet_demo.data_dir / "parquet"
    assert sorted(p.name for p in parquet_demo.warehouse.iterdir()) == [
        f"{t}.parquet" for t in TABLES
    ]
    with duckdb.connect(str(demo_template.warehouse), read_only=True) as con:
        for table in TABLES:
            path = str(parquet_demo.warehouse / f"{table}.parquet")
            files = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
            tables = con.execute(f'DESCRIBE "{table}"').fetchall()
            assert [r[:2] for r in files] == [r[:2] for r in tables], table
            differ = con.execute(
                f"SELECT count(*) FROM ((SELECT * FROM read_parquet('{path}') EXCEPT ALL "
                f'SELECT * FROM "{table}") UNION ALL (SELECT * FROM "{table}" EXCEPT ALL '
                f"SELECT * FROM read_parquet('{path}')))"
            ).fetchone()
            assert differ == (0,), table


def test_model_reads_the_folder_and_declares_the_keys(parquet_demo: DemoFiles) -> None:
    loaded = load_model_file(parquet_demo.model, {"SEXTANT_JWT_SECRET": "x" * 32})
    assert loaded.model is not None and not loaded.issues
    assert not validate_model(loaded.model, loaded.lines, None)
    (database,) = loaded.model.databases
    assert database.url == "spark://parquet"
    declared = {
        (t.name, c.name): (c.semantic_type, c.foreign_key)
        for t in database.tables
        for c in t.columns
        if c.name == "ID" or c.foreign_key
    }
    assert declared == {
        ("PRODUCTS", "ID"): ("type/PK", None),
        ("PEOPLE", "ID"): ("type/PK", None),
        ("ORDERS", "ID"): ("type/PK", None),
        ("REVIEWS", "ID"): ("type/PK", None),
        ("ORDERS", "USER_ID"): (None, "PEOPLE.ID"),
        ("ORDERS", "PRODUCT_ID"): (None, "PRODUCTS.ID"),
        ("REVIEWS", "PRODUCT_ID"): (None, "PRODUCTS.ID"),
    }
    text = parquet_demo.model.read_text()
    assert "# Sextant semantic model of the demo shop." in text  # comments kept


def test_rerun_reuses_and_a_new_scale_or_url_rewrites(tmp_path: Path) -> None:
    first = prepare_demo(tmp_path / "d", engine="spark")
    assert first.built
    again = prepare_demo(tmp_path / "d", engine="spark")
    assert not again.built
    scaled = prepare_demo(tmp_path / "d", scale=2, engine="spark")
    assert scaled.built
    assert json.loads((tmp_path / "d" / ".demo.json").read_text())["scale"] == 2
    moved = prepare_demo(
        tmp_path / "d", engine="spark", warehouse_url="spark://shop?master=local[2]"
    )
    assert moved.built and moved.warehouse == tmp_path / "d" / "shop"
    assert "url: spark://shop?master=local[2]" in moved.model.read_text()


def test_the_spark_demo_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a directory"):
        prepare_demo(tmp_path / "d", engine="spark", warehouse_url="spark://")
    with pytest.raises(ValueError, match="not a master"):
        prepare_demo(tmp_path / "d", engine="spark", warehouse_url="spark://cluster:7077")
