"""The demo shop as Parquet files, for engines that read files and declare no keys (Spark).

The same deterministic rows as the DuckDB file (``shop._generate``), one ``TABLE.parquet`` per
table, written with pyarrow (no Spark needed). Such engines know no primary or foreign keys, so
the model file declares them: :func:`declare_keys` adds ``semantic_type: type/PK`` to each ID
and ``foreign_key: TABLE.ID`` to each reference, the keys the DuckDB file declares itself.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from ruamel.yaml import YAML

from sextant.demo.shop import DEFAULT_SEED, declared_keys, generate_arrow, row_counts

__all__ = ["declare_keys", "write_parquet"]


def write_parquet(directory: Path, scale: int = 1, *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Create (or replace as a whole) ``directory`` with one Parquet file per table."""
    counts = row_counts(scale)
    tables = generate_arrow(counts, seed)
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".sextant-parquet-", dir=directory.parent))
    try:
        for name, table in tables.items():
            pq.write_table(table, staged / f"{name}.parquet")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staged, directory)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return counts


def declare_keys(model_text: str) -> str:
    """The demo model with the shop's primary and foreign keys written on its columns."""
    yaml = YAML(typ="rt")
    yaml.width = 4096  # keep the one-line column mappings on one line
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    document: Any = yaml.load(model_text)
    primary, foreign = declared_keys()
    for database in document["databases"]:
        for table in database.get("tables", ()):
            for column in table.get("columns", ()):
                key = (table["name"], column["name"])
                if key in primary and "semantic_type" not in column:
                    column["semantic_type"] = "type/PK"
                if key in foreign:
                    column["foreign_key"] = foreign[key]
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()
