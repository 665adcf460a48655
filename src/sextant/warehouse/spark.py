"""Apache Spark as a warehouse: a directory of Parquet tables (or the session's own catalog)
read through one SparkSession per process, and queries that stop on a timeout or cancel.

URL: ``spark:///abs/dir`` or ``spark://relative/dir`` (relative to the model file, as DuckDB's),
every ``NAME.parquet`` file or ``NAME/`` folder of Parquet parts in it registered as table
``NAME`` of the session catalog's ``default`` database when connecting. ``spark://`` (no
directory) reads the catalog the session already has (a Hive metastore, say). Query parameters:
``master`` (default ``local[*]``; ``spark://host:7077``, ``yarn``, ``k8s://...`` reach a cluster)
and any ``spark.*`` setting, passed to the session as it starts.

Spark allows one session per process: every connection shares it, so disconnecting leaves it
running (it stops with the process), and a second URL asking for another ``master`` is refused.
"""

from __future__ import annotations

import functools
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from sextant.errors import ConfigurationError
from sextant.warehouse.runner import Execution

__all__ = ["DATABASE", "connect_spark", "run_spark", "spark_directory", "spark_settings"]

DATABASE = "default"
DEFAULT_MASTER = "local[*]"

# Settings for a session Sextant starts (a URL's spark.* parameters win): no web UI, table names
# kept as spelt (Spark lower-cases them otherwise), and the empty default database's folder
# away from the working directory.
_SESSION_DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.caseSensitive": "true",
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "sextant-spark-warehouse"),
}
_LOCAL_DEFAULTS: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
}
_TABLE_SUFFIX = ".parquet"
_CANCEL_REPEAT_SECONDS = 0.25

_lock = threading.Lock()
_registered: dict[str, str] = {}  # table -> the Parquet path it reads, in this process's session


def spark_directory(url: str, base_dir: Path | None) -> Path | None:
    """The Parquet directory of a Spark URL (None: use the session's catalog as it is)."""
    parts = urlsplit(url)
    if parts.port is not None or (parts.netloc and ":" in parts.netloc):
        raise ConfigurationError(
            "a spark:// URL names a data directory, not a master; "
            "write the cluster as ?master=spark://host:7077"
        )
    path = parts.netloc + parts.path
    if not path:
        return None
    if path.startswith("/"):
        return Path(path)
    return (base_dir or Path.cwd()) / path


def spark_settings(url: str) -> tuple[str, dict[str, str]]:
    """The master and the ``spark.*`` settings a URL asks for."""
    master = DEFAULT_MASTER
    settings: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "master":
            master = value
        elif key.startswith("spark."):
            settings[key] = value
        else:
            raise ConfigurationError(
                f"unknown Spark URL parameter {key!r}: use master=... or spark.* settings"
            )
    return master, settings


def _session(master: str, settings: dict[str, str]) -> Any:
    """The process's SparkSession, started with ``master`` and ``settings`` when there is none."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    running = SparkContext._active_spark_context
    if running is not None:
        if running.master != master:
            raise ConfigurationError(
                f"this process already runs Spark with master {running.master!r}; "
                f"one process holds one Spark session, so {master!r} cannot be used too"
            )
        session = SparkSession.builder.getOrCreate()
        for key, value in settings.items():  # runtime settings only: Spark keeps the rest
            if session.conf.isModifiable(key):
                session.conf.set(key, value)
        return session
    conf = dict(_SESSION_DEFAULTS)
    if master.startswith("local"):
        conf |= _LOCAL_DEFAULTS
    conf |= settings
    builder = SparkSession.builder.master(master).appName("sextant")
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _tables_in(directory: Path) -> dict[str, Path]:
    """``NAME.parquet`` files and ``NAME/`` folders (hidden and ``_`` names skipped)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no directory of Parquet tables at {directory}")
    out: dict[str, Path] = {}
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            out[entry.name] = entry
        elif entry.name.endswith(_TABLE_SUFFIX):
            out[entry.name.removesuffix(_TABLE_SUFFIX)] = entry
    return out


def _register(session: Any, tables: dict[str, Path]) -> None:
    """Each table as an external Parquet table of the ``default`` database (data untouched).

    The session, and so its catalog, is the process's: a name already registered for another
    directory, or a table Sextant did not register (a metastore's), is refused rather than
    replaced, so one warehouse can never read another's files or drop a catalog table."""
    with _lock:
        for name, path in tables.items():
            location = str(path.resolve())
            qualified = sge.table_(name, db=DATABASE, quoted=True)
            written = qualified.sql(dialect="spark")
            previous = _registered.get(name)
            if previous is not None and previous != location:
                raise ConfigurationError(
                    f"Spark table {name!r} is already read from {previous} in this process; "
                    f"a second directory with the same table names needs its own Sextant process"
                )
            exists = session.catalog.tableExists(written)
            if exists and previous == location:
                session.catalog.refreshTable(written)  # the files may have been rewritten
                continue
            if exists:
                raise ConfigurationError(
                    f"the Spark catalog already has a table {DATABASE}.{name}; Sextant will not "
                    f"replace it with the Parquet files at {location}"
                )
            session.catalog.createTable(written, path=location, source="parquet")
            _registered[name] = location


@functools.cache
def _backend_class() -> type[BaseBackend]:
    import ibis
    import ibis.backends.pyspark
    from ibis.formats.pyarrow import PyArrowData

    _ = ibis.pyspark  # loading the backend through Ibis registers its options
    base: Any = ibis.backends.pyspark.Backend

    class SharedSessionBackend(base):  # type: ignore[misc]
        """Ibis' PySpark backend on the process's session, which disconnecting leaves running,
        and whose Arrow results come straight from Spark (Ibis goes through pandas)."""

        def disconnect(self) -> None:
            pass

        def to_pyarrow(self, expr: Any, /, *, params: Any = None, limit: Any = None) -> Any:
            table = expr.as_table()
            self._run_pre_execute_hooks(table)
            sql = self.compile(table, params=params, limit=limit)
            arrow = _naive(self._session.sql(sql).toArrow())
            converted = PyArrowData.convert_table(arrow, table.schema())
            return expr.__pyarrow_result__(converted)

    return SharedSessionBackend


def connect_spark(url: str, base_dir: Path | None) -> BaseBackend:
    directory = spark_directory(url, base_dir)
    master, settings = spark_settings(url)
    tables = _tables_in(directory) if directory is not None else {}
    session = _session(master, settings)
    _register(session, tables)
    backend: BaseBackend = _backend_class()().connect(session)
    return backend


def _naive(table: pa.Table) -> pa.Table:
    """Spark's TIMESTAMP results (date_trunc gives them) arrive in the session time zone, which
    Ibis sets to UTC; Sextant's timestamps are naive, as Ibis' own results are."""
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp(column.type.unit))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def run_spark(backend: BaseBackend, sql: str, execution: Execution) -> pa.Table:
    """Queries run side by side (Spark schedules them); the jobs of each carry a tag of its own,
    and stopping it cancels the jobs under that tag (task threads interrupted). A query may
    start several jobs one after another, so the cancelling repeats until the query ends."""
    session: Any = backend._session
    context = session.sparkContext
    tag = f"sextant-{uuid.uuid4().hex}"

    def cancel_until_finished() -> None:
        while True:
            context.cancelJobsWithTag(tag)
            if execution.finished.wait(_CANCEL_REPEAT_SECONDS):
                return

    def stop() -> None:
        name = "sextant-spark-cancel"
        threading.Thread(target=cancel_until_finished, name=name, daemon=True).start()

    context.addJobTag(tag)
    context.setInterruptOnCancel(True)
    try:
        execution.bind(stop)
        execution.check()
        return _naive(session.sql(sql).toArrow())
    except Exception:
        execution.check_failed()  # a cancelled job surfaces as a Spark error: say why
        raise
    finally:
        context.removeJobTag(tag)
