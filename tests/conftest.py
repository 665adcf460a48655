"""Shared fixtures: the demo data directory, services, and real database servers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sextant.demo.setup import DemoFiles, prepare_demo
from sextant.service import Sextant
from sextant.settings import Settings

TEST_SECRET = "test-secret-for-sextant-only-0123456789"
IN_CI = os.environ.get("CI", "").lower() == "true"
# a sextant.env left in the working folder by `make demo` must not steer the suite's commands;
# tests of the file name theirs
os.environ["SEXTANT_ENV_FILE"] = ""


def service_missing(name: str, reason: str) -> None:
    """Skip with a visible reason, except in CI where a missing service is a failure."""
    message = f"{name} is not available: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The demo built once per run; copy it (``demo``) before changing anything."""
    return prepare_demo(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture
def demo(demo_template: DemoFiles, tmp_path: Path) -> DemoFiles:
    """A private copy of the demo directory (warehouse, model, secret), app db not created."""
    target = tmp_path / "demo"
    shutil.copytree(demo_template.data_dir, target)
    return prepare_demo(target)


APP_DB = os.environ.get("SEXTANT_TEST_APP_DB", "sqlite")
"""``postgres`` runs the whole suite with a PostgreSQL application database (one per data
directory, dropped at the end of the run); ``sqlite`` (the default) uses DIR/app.db."""
_POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
_APP_DATABASES: set[str] = set()


def app_db_url(data_dir: Path) -> str | None:
    """The application database for ``data_dir`` in this run (None: the SQLite default)."""
    if APP_DB != "postgres":
        return None
    import hashlib

    import psycopg
    from psycopg import sql

    name = "sextant_app_" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:16]
    if name not in _APP_DATABASES:
        with psycopg.connect(_POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        _APP_DATABASES.add(name)
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_app_databases() -> None:
    if not _APP_DATABASES:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(_POSTGRES_ADMIN, autocommit=True) as conn:
        for name in sorted(_APP_DATABASES):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    _APP_DATABASES.clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    del session, exitstatus
    _drop_app_databases()


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Test settings: the test JWT secret, and this run's application database."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "env": {"SEXTANT_JWT_SECRET": TEST_SECRET},
        "jwt_secret": TEST_SECRET,
        "app_db_url": app_db_url(data_dir),
        # the suite asks far more of one user than a minute's allowance; the tests of the
        # per-user limits set their own
        "user_requests_per_minute": 0,
        "user_queries_per_minute": 0,
        # tests revoke and change credentials and look at once; the memo's own tests set it
        "auth_cache_seconds": 0.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI command over ``data_dir`` (and this run's application database)."""
    env = {"SEXTANT_DATA_DIR": str(data_dir), **extra}
    url = app_db_url(data_dir)
    if url is not None:
        env["SEXTANT_APP_DB_URL"] = url
    return env


@pytest.fixture
def services() -> Iterator[Callable[[Settings], Sextant]]:
    """Make services that are closed after the test (request it after database fixtures)."""
    made: list[Sextant] = []

    def make(settings: Settings) -> Sextant:
        made.append(Sextant(settings))
        return made[-1]

    yield make
    for service in made:
        service.close()


@pytest.fixture
def demo_service(demo: DemoFiles, services: Callable[[Settings], Sextant]) -> Sextant:
    """A service over a synced copy of the demo, with its own SQLite app database."""
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.sync()
    return service


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """Base URL of the local PostgreSQL server (database ``test``)."""
    import psycopg

    url = "postgresql://postgres@127.0.0.1:5432/test"
    try:
        with psycopg.connect(url, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL at 127.0.0.1:5432", str(exc).strip())
    return url


@contextmanager
def fresh_postgres_database(server: str, prefix: str = "sextant") -> Iterator[str]:
    """A new, empty database on ``server`` (plain URL of it), dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mariadb_server() -> str:
    """URL of the local MariaDB (or MySQL) server, database ``test``."""
    import MySQLdb

    url = "mysql://root@127.0.0.1:3306/test"
    try:
        MySQLdb.connect(host="127.0.0.1", port=3306, user="root", connect_timeout=3).close()
    except MySQLdb.OperationalError as exc:
        service_missing("MariaDB at 127.0.0.1:3306", str(exc).strip())
    return url


@contextmanager
def fresh_mariadb_database(prefix: str = "sextant") -> Iterator[str]:
    """The URL of a new database name on the local MariaDB (created by the demo loader or the
    test), dropped afterwards."""
    import MySQLdb

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (SQLAlchemy URL), dropped afterwards."""
    with fresh_postgres_database(postgres_server) as url:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def live_server(demo_service: Sextant) -> Iterator[str]:
    """The demo app served by uvicorn on a free loopback port, in a thread; yields its URL."""
    from sextant.http import create_app
    from tests.servers import serve

    with serve(create_app(demo_service.settings, demo_service)) as url:
        yield url


@pytest.fixture(scope="session")
def shared_service(
    demo_template: DemoFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sextant]:
    """One synced demo service for read-only tests (do not apply or change anything).

    Its failed-authentication limiter is off: modules share it, and generated requests (the
    schemathesis run) fail authentication on purpose. The limiter is tested on its own.
    """
    target = tmp_path_factory.mktemp("shared") / "demo"
    shutil.copytree(demo_template.data_dir, target)
    files = prepare_demo(target)
    service = Sextant(make_settings(files.data_dir, config=files.model, auth_max_failures=0))
    service.sync()
    yield service
    service.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden SQL files under tests/query/golden from the current compiler",
    )


SPARK_DEMO_URL = "spark://parquet?master=local[2]"


@pytest.fixture(scope="session")
def spark_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The demo shop as Parquet files with its model (skips with a reason without pyspark or
    Java, fails in CI). Spark itself starts with the first connection, once per process."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        service_missing("pyspark", "install the spark extra (make install does)")
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        service_missing("Java", "no java on PATH and no JAVA_HOME (Spark needs Java 17)")
    return prepare_demo(
        tmp_path_factory.mktemp("spark-demo"), engine="spark", warehouse_url=SPARK_DEMO_URL
    )


@pytest.fixture(scope="session")
def spark_service(spark_demo: DemoFiles) -> Iterator[Sextant]:
    """One synced service over the Spark demo for read-only tests (do not apply or change)."""
    service = Sextant(make_settings(spark_demo.data_dir, config=spark_demo.model))
    service.sync()
    yield service
    service.close()


@pytest.fixture
def redis_url() -> str:
    """The local Redis (skips with a reason when absent, fails in CI)."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis at 127.0.0.1:6379", str(exc))
    finally:
        client.close()
    return url
