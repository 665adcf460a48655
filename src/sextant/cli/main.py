"""``sextant`` commands: demo, serve, check, apply, sync, token, explain, keys, sessions.

Only ``apply``, ``sync``, ``serve`` and ``demo`` write the application database's model;
``api-key`` and ``sessions`` write credentials only; everything else reads. Heavy modules
(Ibis, the warehouses, the service) are imported by the commands that use them, so that
``--help``, ``token`` and ``check --offline`` start at once (``benchmarks/cli_startup.py``).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sextant.cli.envfile import env_file, read_env_file
from sextant.errors import ConfigurationError, ModelInvalidError, SextantError
from sextant.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from sextant.demo.setup import DemoFiles
    from sextant.service import Sextant, SyncReport
    from sextant.store.db import Access

__all__ = ["app", "main"]

app = typer.Typer(
    name="sextant",
    help="Sextant: a self-hosted Agent API for data warehouses. Every command run from a "
    "folder with a sextant.env file (written by `sextant demo`) takes its settings from it.",
    no_args_is_help=True,
    add_completion=False,
    # plain help and tracebacks: Rich's help and traceback modules cost a third of a second at
    # every start, and tracebacks with locals could print secrets
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("sextant")
WORKER_START_SECONDS = 60


@functools.cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True, highlight=False, emoji=False)


def _out() -> Console:
    return _console(False)


def _err() -> Console:
    return _console(True)


DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where app.db lives [env: SEXTANT_DATA_DIR]")
]
ModelFile = Annotated[Path, typer.Argument(help="The semantic model (YAML)")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="The semantic model [env: SEXTANT_CONFIG]")
]


def _environment() -> dict[str, str]:
    """The process environment over the folder's ``sextant.env`` (the environment wins)."""
    path = env_file(os.environ)
    try:
        from_file = read_env_file(path) if path is not None else {}
    except (OSError, ValueError) as exc:
        _err().print(f"[red]configuration error:[/red] {exc}", markup=True)
        raise typer.Exit(2) from exc
    return {**from_file, **os.environ}


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(_environment(), **overrides)
    except ConfigurationError as exc:
        _err().print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic narrates every migration step at INFO; a command says what it did in one line
    logging.getLogger("alembic").setLevel(logging.WARNING)


@contextmanager
def _opened(settings: Settings, access: Access = "write") -> Iterator[Sextant]:
    """A service for one command, closed (connections released) when the command ends.
    ``access`` other than ``"write"`` needs an applied app database and never migrates it."""
    from sextant.service import Sextant

    try:
        service = Sextant(settings, access=access)
    except SextantError as exc:
        raise _fail(exc) from exc
    try:
        yield service
    finally:
        service.close()


def _warm_search(service: Sextant) -> None:
    """Load the embedding model and embed the catalog in the background at start-up, so the
    first semantic search does not wait for it."""

    def warm() -> None:
        try:
            service.search_index().vectors()
        except Exception as exc:  # search still answers with keywords
            log.warning("could not prepare semantic search: %s", exc)

    threading.Thread(target=warm, name="sextant-warm-search", daemon=True).start()


def _fail(exc: SextantError) -> typer.Exit:
    from sextant.model.issues import Issue

    if isinstance(exc, ModelInvalidError):
        for issue in exc.issues:
            text = issue.render(exc.source) if isinstance(issue, Issue) else str(issue)
            _err().print(text, highlight=False, markup=False)
        _err().print(f"[red]{len(exc.issues)} problem(s); nothing was changed.[/red]")
    else:
        _err().print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@app.command()
def check(
    model: ModelFile,
    offline: Annotated[
        bool, typer.Option(help="Do not connect to the warehouses; check the file alone")
    ] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", hidden=True)] = None,
) -> None:
    """Validate a model and report every problem, with lines and suggestions (no app
    database is opened or created)."""
    from sextant.checking import check_model

    settings = _settings(data_dir=data_dir)
    result = check_model(model, settings.env, offline=offline)
    # plain echo, not Rich: check --offline runs in editors and pre-commit hooks, on every save
    for line in result.render():
        typer.echo(line, err=True)
    if result.issues:
        typer.secho(f"{len(result.issues)} problem(s) found.", fg="red", err=True)
        raise typer.Exit(1)
    assert result.model is not None
    tables = (
        sum(len(db.tables) for db in result.model.databases)
        if offline
        else sum(len(t) for t in result.catalog.values())
    )
    typer.echo(
        f"{model}: OK ({len(result.model.databases)} database(s), {tables} table(s), "
        f"{len(result.model.metrics)} metric(s), {len(result.model.questions)} question(s), "
        f"{len(result.model.users)} user(s))"
    )


@app.command()
def apply(model: ModelFile, data_dir: DataDir = None) -> None:
    """Validate a model and write it to the application database (all or nothing)."""
    settings = _settings(data_dir=data_dir)
    _logging(settings)
    try:
        with _opened(settings) as service:
            result = service.apply(model)
    except SextantError as exc:
        raise _fail(exc) from exc
    _out().print(f"applied {model}: {_counts(result.counts)}")


def _counts(counts: dict[str, int]) -> str:
    """``{"tables": 4, "metrics": 5}`` in words: "4 tables, 5 metrics"."""
    words = {what: what.replace("_", " ") for what in counts}
    return ", ".join(
        f"{count} {words[what][:-1] if count == 1 and what.endswith('s') else words[what]}"
        for what, count in counts.items()
    )


def _run_sync(service: Sextant, model: Path, settings: Settings) -> SyncReport:
    interactive = settings.progress if settings.progress is not None else sys.stderr.isatty()
    if not interactive:

        def plain(label: str, index: int, total: int) -> None:
            log.info("fingerprinting %s (%d/%d)", label, index + 1, total)

        return service.sync(model, progress=plain)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_err(), transient=True) as bar:
        task = bar.add_task("fingerprinting", total=None)

        def fancy(label: str, index: int, total: int) -> None:
            bar.update(task, description=f"fingerprinting {label}", completed=index, total=total)

        return service.sync(model, progress=fancy)


@app.command()
def sync(model: ModelFile, data_dir: DataDir = None) -> None:
    """Apply the model, introspect the warehouses and fingerprint every visible column."""
    settings = _settings(data_dir=data_dir)
    _logging(settings)
    try:
        with _opened(settings) as service:
            report = _run_sync(service, model, settings)
    except SextantError as exc:
        raise _fail(exc) from exc
    _out().print(
        f"synced {report.tables} table(s), {report.columns} column(s) "
        f"in {report.seconds:.2f} s with {report.scans} table scan(s)"
    )


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="[env: SEXTANT_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="[env: SEXTANT_PORT]")] = None,
    data_dir: DataDir = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes [env: SEXTANT_WORKERS]")
    ] = None,
) -> None:
    """Apply the model, then serve the Agent API (with several worker processes if asked)."""
    settings = _settings(config=config, host=host, port=port, data_dir=data_dir, workers=workers)
    _logging(settings)
    _require_free_port(settings.host, settings.port)
    with _opened(settings) as service:
        try:
            result = service.apply()
        except SextantError as exc:
            raise _fail(exc) from exc
        _out().print(
            f"serving {service.model_path()} ({_counts(result.counts)}) on "
            f"http://{settings.host}:{settings.port} with {settings.workers} worker(s)"
        )
        if settings.workers <= 1:
            _serve(settings, service)
            return
    _serve_workers(settings)


def _require_free_port(host: str, port: int) -> None:
    """Fail in one line before any work when the address is taken (uvicorn would only say
    ``Errno 98`` after the sync)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        _err().print(f"[red]error:[/red] cannot listen on {host}:{port}: {exc}")
        raise typer.Exit(1) from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            _err().print(
                f"[red]error:[/red] port {port} on {host} is already in use (another Sextant "
                "or demo still running?): stop it, or choose another with --port",
                highlight=False,
            )
            raise typer.Exit(1) from exc


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Where and how uvicorn listens: X-Forwarded-For believed only from trusted proxies,
    request heads and bodies under time and size limits, idle connections closed."""
    from sextant.http.protocol import configure

    protocol = configure(
        settings.head_timeout_seconds, settings.body_timeout_seconds, settings.max_header_bytes
    )
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.proxy_networks() or [],
        "http": protocol,
        "timeout_keep_alive": settings.keep_alive_seconds,
    }


def _serve(settings: Settings, service: Sextant) -> None:
    import uvicorn

    from sextant.http.app import create_app

    _warm_search(service)
    uvicorn.run(create_app(settings, service), **uvicorn_options(settings))


def _serve_workers(settings: Settings) -> None:
    """Each worker builds its own service from the environment and loads the applied model."""
    import uvicorn

    assert settings.config is not None  # apply() needed it
    os.environ.update(
        {
            "SEXTANT_CONFIG": str(settings.config.resolve()),
            "SEXTANT_DATA_DIR": str(settings.data_dir.resolve()),
            "SEXTANT_APP_DB_URL": settings.resolved_app_db_url,
        }
    )
    uvicorn.run(
        "sextant.http.factory:worker_app",
        factory=True,
        workers=settings.workers,
        # a worker loads Ibis and the model before it can answer the supervisor's ping; on a
        # busy machine that took longer than uvicorn's 5 s, so the supervisor killed and
        # restarted it ("Child process died", and a leaked semaphore at shutdown)
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        **uvicorn_options(settings),
    )


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Where the demo lives")] = Path(
        "sextant-demo"
    ),
    scale: Annotated[int, typer.Option(min=1, help="Multiply ORDERS and REVIEWS rows")] = 1,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    serve_: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server when ready")
    ] = True,
    engine: Annotated[
        str,
        typer.Option(
            help="Where the shop's data lives: duckdb or sqlite (a file in the data directory), "
            "postgres or mysql (a server database), spark (Parquet files)"
        ),
    ] = "duckdb",
    warehouse_url: Annotated[
        str | None,
        typer.Option(
            help="Server database for --engine postgres or mysql (created when missing) "
            "[default: postgresql://postgres@127.0.0.1:5432/sextant_demo, "
            "mysql://root@127.0.0.1:3306/sextant_demo]; for --engine spark, the Parquet "
            "directory and session settings [default: spark://parquet]"
        ),
    ] = None,
) -> None:
    """Build the demo shop (warehouse, model, users), sync it and serve it."""
    from sextant.demo.setup import agent_api_key, prepare_demo

    if serve_:
        _require_free_port(host, port)
    try:
        files = prepare_demo(data_dir, scale, engine, warehouse_url)
    except ValueError as exc:
        _err().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    secret = os.environ.get("SEXTANT_JWT_SECRET") or files.secret_file.read_text().strip()
    env = {**os.environ, "SEXTANT_JWT_SECRET": secret}
    settings = Settings.from_env(
        env, data_dir=data_dir, config=files.model, host=host, port=port, jwt_secret=secret
    )
    _logging(settings)
    with _opened(settings) as service:
        try:
            report = _run_sync(service, files.model, settings)
            key = agent_api_key(service.credentials, files.data_dir)
        except SextantError as exc:
            raise _fail(exc) from exc
        curated = next(
            (c.id for c in service.snapshot().collections.values() if c.name == "Curated"), None
        )
        shared = _share_settings(files, secret, f"http://{host}:{port}")
        _banner(files, report, secret, f"http://{host}:{port}", key, curated, shared)
        if serve_:
            _serve(settings, service)


def _share_settings(files: DemoFiles, secret: str, url: str) -> Path | None:
    """Write ``sextant.env`` where the demo runs, so every command run from here finds the
    demo; None when a ``sextant.env`` the demo did not write is in the way."""
    from sextant.cli.envfile import write_env_file

    path = env_file(os.environ)
    if path is None:
        return None
    values = {
        "SEXTANT_DATA_DIR": str(files.data_dir),
        "SEXTANT_CONFIG": str(files.model),
        "SEXTANT_JWT_SECRET": secret,
    }
    return path if write_env_file(path, values) else None


def _program() -> str:
    """How this shell reaches the ``sextant`` being run: ``sextant`` when it is the one on
    PATH, else its path (``.venv/bin/sextant``)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "__main__.py":
        return f"{_relative(Path(sys.executable))} -m sextant"
    found = shutil.which("sextant")
    if found and argv0.exists() and Path(found).resolve() == argv0.resolve():
        return "sextant"
    return _relative(argv0)


def _relative(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _banner(
    files: DemoFiles,
    report: SyncReport,
    secret: str,
    base: str,
    agent_key: str,
    curated: int | None,
    shared: Path | None,
) -> None:
    """What the demo is and commands to try, one per indented line, each runnable as
    printed from this folder (the tests run them)."""
    from sextant.auth.tokens import make_jwt

    token = make_jwt(secret, "analyst@example.com")
    me = _program()
    if shared is not None:
        settings_line = f"  settings for every command run from this folder: {shared}\n"
        flags = ""
    else:
        settings_line = (
            f"  {env_file(os.environ) or 'sextant.env'} was not written (it is not the "
            "demo's): commands below carry the demo's flags\n"
        )
        flags = f" --data-dir {files.data_dir}"
    secret_flag = "" if shared is not None else f" --secret {secret}"
    _out().print(
        f"\n[bold]Sextant demo[/bold] in {files.data_dir} (model: {files.model})\n"
        f"  synced {report.tables} tables, {report.columns} columns in {report.seconds:.1f} s\n"
        f"{settings_line}"
        f"  JWT shared secret: {secret}\n"
        f"  API docs:          {base}/docs\n"
        f"  try, as the analyst (this token is valid 180 s):\n"
        f"    curl -sS -H 'Authorization: Bearer {token}' {base}/api/agent/v1/ping\n"
        f"  a fresh token each time:\n"
        f'    curl -sS -H "Authorization: Bearer $({me} token --email analyst@example.com'
        f'{secret_flag})" {base}/api/agent/v1/ping\n'
        f"  read-only agent key (group Agents, in {files.data_dir / 'agent-api-key'}):\n"
        f"    curl -sS -H 'X-API-Key: {agent_key}' "
        f"'{base}/api/collection/{curated}/items?models=card'\n"
        f"  check the model, list the API keys:\n"
        f"    {me} check {files.model}\n"
        f"    {me} api-key list{flags}\n",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def token(
    email: Annotated[str, typer.Option(help="The user the token speaks for")],
    secret: Annotated[
        str | None, typer.Option(help="Shared secret [env: SEXTANT_JWT_SECRET]")
    ] = None,
    scope: Annotated[
        str | None, typer.Option(help="Space-separated scopes, e.g. 'agent:search'")
    ] = None,
    ttl: Annotated[
        int | None, typer.Option(help="Add an exp claim this many seconds ahead")
    ] = None,
    ttl_check: Annotated[
        bool,
        typer.Option(
            "--ttl-check",
            help="Verify the new token as the server would (needs --config) and say how long "
            "it stays valid",
        ),
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Print a fresh HS256 JWT for local testing (valid 180 s unless the model says otherwise)."""

    settings = _settings(config=config, data_dir=data_dir, jwt_secret=secret)
    if ttl_check or (settings.config is not None and not settings.jwt_secret):
        with _opened(settings, "read") as service:
            _token(email, settings, service, scope, ttl)
    else:
        _token(email, settings, None, scope, ttl)


def _token(
    email: str, settings: Settings, service: Sextant | None, scope: str | None, ttl: int | None
) -> None:
    from sextant.auth.tokens import make_jwt

    if service is not None:
        try:
            service.load(offline=True)  # the model's JWT settings; nothing is written
        except SextantError as exc:
            raise _fail(exc) from exc
    policy = service.auth_policy() if service is not None else None
    key = settings.jwt_secret or (policy.jwt.secret if policy else None)
    if not key:
        _err().print(
            "[red]error:[/red] no secret: pass --secret, set SEXTANT_JWT_SECRET or --config"
        )
        raise typer.Exit(2)
    extra: dict[str, object] = {}
    if scope:
        extra["scope"] = scope
    if ttl is not None:
        extra["exp"] = int(time.time()) + ttl
    claim = policy.jwt.email_claim if policy else "email"
    made = make_jwt(key, email, email_claim=claim, claims=extra)
    if service is not None and policy is not None:
        try:
            caller = service.authenticate({"authorization": f"Bearer {made}"}, "cli", None)
        except SextantError as exc:
            raise _fail(exc) from exc
        lifetime = min(policy.jwt.max_age_seconds, ttl if ttl is not None else 1 << 30)
        _err().print(
            f"valid for {caller.email} (groups: {', '.join(sorted(caller.groups))}) "
            f"for {lifetime} s",
            highlight=False,
        )
    print(made)


@app.command()
def explain(
    token_: Annotated[str, typer.Argument(metavar="TOKEN", help="A token from construct-query")],
    email: Annotated[str, typer.Option(help="Show the SQL this user's execution would run")],
    dialect: Annotated[
        str | None,
        typer.Option(help="duckdb, postgres, mysql, sqlite or spark (default: the warehouse's)"),
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Print the SQL a query token compiles to, with the user's sandboxes applied."""
    settings = _settings(config=config, data_dir=data_dir)
    with _opened(settings, "read") as service:
        try:
            service.load()  # the warehouses of the model; the app database is only read
            print(service.explain(service.credentials.principal_for(email), token_, dialect))
        except SextantError as exc:
            raise _fail(exc) from exc
        except ValueError as exc:
            _err().print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc


@app.command("mcp")
def mcp_stdio(
    url: Annotated[str, typer.Option(help="The Sextant server", envvar="SEXTANT_URL")],
    api_key: Annotated[
        str | None, typer.Option(help="An API key [env: SEXTANT_API_KEY]", envvar="SEXTANT_API_KEY")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Act as this user (with --secret)", envvar="SEXTANT_EMAIL")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            help="JWT shared secret [env: SEXTANT_JWT_SECRET]", envvar="SEXTANT_JWT_SECRET"
        ),
    ] = None,
    max_rows: Annotated[int, typer.Option(min=1, help="Rows of a tool result, at most")] = 200,
    max_bytes: Annotated[int, typer.Option(min=1, help="JSON bytes of a tool result")] = 30_000,
) -> None:
    """Serve the MCP tools over stdio (for desktop LLM clients), talking to a Sextant server."""
    import anyio

    from sextant.client import AsyncAgentClient
    from sextant.mcp.backends import Remote
    from sextant.mcp.server import serve_stdio

    if (api_key is None) == (secret is None) or (secret is not None and not email):
        _err().print("[red]error:[/red] give --api-key, or --email with --secret")
        raise typer.Exit(2)
    logging.basicConfig(level="WARNING", stream=sys.stderr)

    async def run() -> None:
        async with AsyncAgentClient(url, api_key=api_key, jwt_secret=secret, email=email) as c:
            await serve_stdio(Remote(c, max_rows, max_bytes))

    anyio.run(run)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in words")],
    url: Annotated[
        str, typer.Option(help="The Sextant server", envvar="SEXTANT_URL")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str | None, typer.Option(help="An API key [env: SEXTANT_API_KEY]", envvar="SEXTANT_API_KEY")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Ask as this user (JWT from SEXTANT_JWT_SECRET)")
    ] = None,
    secret: Annotated[
        str | None, typer.Option(help="JWT shared secret [env: SEXTANT_JWT_SECRET]")
    ] = None,
    collection: Annotated[
        str | None, typer.Option(help="Only the curated cards of this collection")
    ] = None,
    tools: Annotated[
        str, typer.Option(help="cards: run_card only; agent: also search, get_table, query")
    ] = "cards",
    max_calls: Annotated[
        int | None,
        typer.Option(min=1, help="Tool calls before giving up [env: SEXTANT_AGENT_MAX_CALLS]"),
    ] = None,
) -> None:
    """Answer a question with an LLM and the curated cards (seed 000's guarded agent)."""
    from sextant.agent import (
        AgentStopped,
        CallLog,
        GuardedAgent,
        ModelUnreachable,
        ResultCache,
        provider_for,
    )
    from sextant.client import AgentClient, ApiError

    settings = _settings(jwt_secret=secret, agent_max_calls=max_calls)
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr)
    if not settings.llm_model:
        _err().print("[red]error:[/red] no model: set SEXTANT_LLM_MODEL (and SEXTANT_LLM_URL)")
        raise typer.Exit(2)
    jwt_secret = settings.jwt_secret if email else None
    if (api_key is None) == (email is None) or (email and not jwt_secret):
        _err().print(
            "[red]error:[/red] give --api-key, or --email with --secret / SEXTANT_JWT_SECRET"
        )
        raise typer.Exit(2)
    try:
        provider = provider_for(
            settings.llm_provider, settings.llm_url, settings.llm_model, settings.llm_api_key
        )
    except ValueError as exc:
        _err().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    with AgentClient(url, api_key=api_key, jwt_secret=jwt_secret, email=email) as client:
        agent = GuardedAgent(
            client,
            provider,
            collection=collection,
            tools=tools,
            max_calls=settings.agent_max_calls,
            cache=ResultCache(settings.agent_cache_seconds),
            call_log=CallLog(settings.agent_log),
        )
        try:
            answer = agent.ask(question)
        except (AgentStopped, ModelUnreachable, ApiError) as exc:
            _err().print(f"[red]stopped:[/red] {exc}", markup=True, highlight=False)
            raise typer.Exit(1) from exc
    print(answer.text)


sessions_app = typer.Typer(help="Sessions made by POST /auth/sso.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (X-API-Key) acting as a group's service user.",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(sessions_app, name="sessions")
app.add_typer(keys_app, name="api-key")


def _service(data_dir: Path | None, access: Access) -> AbstractContextManager[Sextant]:
    """Credential commands need an applied app database: they never create or migrate it."""
    return _opened(_settings(data_dir=data_dir), access)


@sessions_app.command("revoke")
def sessions_revoke(
    email: Annotated[str, typer.Option(help="Revoke every session of this user")],
    data_dir: DataDir = None,
) -> None:
    """Revoke all sessions of a user."""
    try:
        with _service(data_dir, "credentials") as service:
            count = service.credentials.revoke_sessions(email)
    except SextantError as exc:
        raise _fail(exc) from exc
    _out().print(f"revoked {count} session(s) of {email}")


@keys_app.command("create")
def api_key_create(
    group: Annotated[str, typer.Option(help="The group whose permissions the key has")],
    name: Annotated[str, typer.Option(help="A unique name for the key")],
    attribute: Annotated[
        list[str] | None,
        typer.Option(
            "--attribute",
            help="A user attribute of the key, KEY=VALUE (repeat it); sandboxes read it, so "
            "a key of a sandboxed group needs the attributes its sandboxes use",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    attributes: dict[str, str] = {}
    for pair in attribute or []:
        key_name, sep, value = pair.partition("=")
        if not sep or not key_name.strip():
            _err().print(f"[red]error:[/red] --attribute wants KEY=VALUE, got {pair!r}")
            raise typer.Exit(2)
        attributes[key_name.strip()] = value
    try:
        with _service(data_dir, "credentials") as service:
            key = service.credentials.create_api_key(group, name, attributes)
    except SextantError as exc:
        raise _fail(exc) from exc
    shown = ", ".join(f"{k}={v}" for k, v in attributes.items())
    _err().print(
        f"API key {name!r} for group {group!r}{f' with {shown}' if shown else ''} "
        "(shown once, store it now):",
        highlight=False,
        markup=False,
    )
    print(key)


@keys_app.command("revoke")
def api_key_revoke(
    name: Annotated[str, typer.Option(help="The key's name")], data_dir: DataDir = None
) -> None:
    """Revoke an API key and deactivate its service user."""
    try:
        with _service(data_dir, "credentials") as service:
            service.credentials.revoke_api_key(name)
    except SextantError as exc:
        raise _fail(exc) from exc
    _out().print(f"revoked API key {name!r}")


@keys_app.command("list")
def api_key_list(data_dir: DataDir = None) -> None:
    """List API keys (names, prefixes, groups; never the keys)."""
    with _service(data_dir, "read") as service:
        keys = service.credentials.list_api_keys()
    for info in keys:
        state = "revoked" if info.revoked else "active"
        attributes = ",".join(f"{k}={v}" for k, v in info.attributes.items()) or "-"
        # tab-separated, one key per line: for cut and awk (Rich would expand the tabs)
        typer.echo(
            f"{info.name}\tsxt_{info.prefix}_…\t{info.group}\t{state}\t"
            f"{info.created_at:%Y-%m-%d}\t{attributes}"
        )


def main() -> None:
    app()
