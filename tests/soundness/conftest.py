"""Fixtures shared by the soundness runs on each engine: the DuckDB demo and its edited copy,
against which every engine's translated hand SQL is checked."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import duckdb
import pytest

from sextant.demo.setup import DemoFiles
from tests.soundness import test_duckdb_edges


@pytest.fixture(scope="module")
def duck_shop(demo_template: DemoFiles) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(demo_template.warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def duck_edges(
    demo_template: DemoFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("soundness-duck-edges") / "warehouse.duckdb"
    shutil.copyfile(demo_template.warehouse, path)
    con = duckdb.connect(str(path))
    try:
        for statement in test_duckdb_edges.EDITS:
            con.execute(statement)
        yield con
    finally:
        con.close()
