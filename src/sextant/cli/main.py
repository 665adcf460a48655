"""``sextant`` commands: demo, serve, check, apply, sync, token."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sextant.demo.setup import DemoFiles
from sextant.errors import ConfigurationError, ModelInvalidError, SextantError
from sextant.model.issues import Issue
from sextant.service import ProgressCallback, Sextant, SyncReport
from sextant.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="sextant",
    help="Sextant: a self-hosted Agent API for data warehouses.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console(soft_wrap=True, highlight=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)
log = logging.getLogger("sextant")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where app.db lives [env: SEXTANT_DATA_DIR]")
]
ModelFile = Annotated[Path, typer.Argument(help="The semantic model (YAML)")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="The semantic model [env: SEXTANT_CONFIG]")
]


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except ConfigurationError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@contextmanager
def _opened(settings: Settings) -> Iterator[Sextant]:
    """A service for one command, closed (connections released) when the command ends."""
    service = Sextant(settings)
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
    if isinstance(exc, ModelInvalidError):
        for issue in exc.issues:
            text = issue.render(exc.source) if isinstance(issue, Issue) else str(issue)
            err.print(text, highlight=False, markup=False)
        err.print(f"[red]{len(exc.issues)} problem(s); nothing was changed.[/red]")
    else:
        err.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@app.command()
def check(
    model: ModelFile,
    offline: Annotated[
        bool, typer.Option(help="Do not connect to the warehouses; check the file alone")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Validate a model and report every problem, with lines and suggestions."""
    settings = _settings(data_dir=data_dir)
    with _opened(settings) as service:
        result = service.check(model, offline=offline)
    for line in result.render():
        err.print(line, highlight=False, markup=False)
    if result.issues:
        err.print(f"{len(result.issues)} problem(s) found.", style="red")
        raise typer.Exit(1)
    assert result.model is not None
    tables = (
        sum(len(db.tables) for db in result.model.databases)
        if offline
        else sum(len(t) for t in result.catalog.values())
    )
    out.print(
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
    out.print(f"applied {model}: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))


def _run_sync(service: Sextant, model: Path, settings: Settings) -> SyncReport:
    interactive = settings.progress if settings.progress is not None else sys.stderr.isatty()
    if not interactive:

        def plain(label: str, index: int, total: int) -> None:
            log.info("fingerprinting %s (%d/%d)", label, index + 1, total)

        return service.sync(model, progress=plain)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("fingerprinting", total=None)

        def fancy(label: str, index: int, total: int) -> None:
            bar.update(task, description=f"fingerprinting {label}", completed=index, total=total)

        callback: ProgressCallback = fancy
        return service.sync(model, progress=callback)


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
    out.print(
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
    with _opened(settings) as service:
        try:
            service.apply()
        except SextantError as exc:
            raise _fail(exc) from exc
        if settings.workers <= 1:
            _serve(settings, service)
            return
    _serve_workers(settings)


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
    from sextant.demo.setup import prepare_demo

    try:
        files = prepare_demo(data_dir, scale, engine, warehouse_url)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    secret = os.environ.get("SEXTANT_JWT_SECRET") or files.secret_file.read_text().strip()
    env = {**os.environ, "SEXTANT_JWT_SECRET": secret}
    settings = Settings.from_env(
        env, data_dir=data_dir, config=files.model, host=host, port=port, jwt_secret=secret
    )
    _logging(settings)
    from sextant.demo.setup import agent_api_key

    with _opened(settings) as service:
        try:
            report = _run_sync(service, files.model, settings)
            key = agent_api_key(service.credentials, files.data_dir)
        except SextantError as exc:
            raise _fail(exc) from exc
        curated = next(
            (c.id for c in service.snapshot().collections.values() if c.name == "Curated"), None
        )
        _banner(files, report, secret, host, port, data_dir, key, curated)
        if serve_:
            _serve(settings, service)


def _banner(
    files: DemoFiles,
    report: SyncReport,
    secret: str,
    host: str,
    port: int,
    data_dir: Path,
    agent_key: str,
    curated: int | None,
) -> None:
    from sextant.auth.tokens import make_jwt

    token = make_jwt(secret, "analyst@example.com")
    base = f"http://{host}:{port}"
    out.print(
        f"\n[bold]Sextant demo[/bold] in {data_dir} (model: {files.model})\n"
        f"  synced {report.tables} tables, {report.columns} columns in {report.seconds:.1f} s\n"
        f"  JWT shared secret: {secret}\n"
        f"  API docs:          {base}/docs\n"
        f"  try (token valid 180 s; new one: sextant token --email analyst@example.com):\n"
        f"    curl -H 'Authorization: Bearer {token}' {base}/api/agent/v1/ping\n"
        f"  read-only agent key (group Agents, in {data_dir / 'agent-api-key'}): {agent_key}\n"
        f"  the curated saved questions an LLM may run:\n"
        f"    curl -H 'X-API-Key: {agent_key}' "
        f"'{base}/api/collection/{curated}/items?models=card'\n",
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
    needs_model = ttl_check or (config is not None and not settings.jwt_secret)
    with _opened(settings) if needs_model else nullcontext() as service:
        _token(email, settings, service, scope, ttl)


def _token(
    email: str, settings: Settings, service: Sextant | None, scope: str | None, ttl: int | None
) -> None:
    from sextant.auth.tokens import make_jwt

    if service is not None:
        try:
            service.apply()
        except SextantError as exc:
            raise _fail(exc) from exc
    policy = service.auth_policy() if service is not None else None
    key = settings.jwt_secret or (policy.jwt.secret if policy else None)
    if not key:
        err.print("[red]error:[/red] no secret: pass --secret, set SEXTANT_JWT_SECRET or --config")
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
        err.print(
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
    service = Sextant(settings)
    try:
        service.apply()
        print(service.explain(service.credentials.principal_for(email), token_, dialect))
    except SextantError as exc:
        raise _fail(exc) from exc
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        service.close()


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
        err.print("[red]error:[/red] give --api-key, or --email with --secret")
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
        err.print("[red]error:[/red] no model: set SEXTANT_LLM_MODEL (and SEXTANT_LLM_URL)")
        raise typer.Exit(2)
    jwt_secret = settings.jwt_secret if email else None
    if (api_key is None) == (email is None) or (email and not jwt_secret):
        err.print("[red]error:[/red] give --api-key, or --email with --secret / SEXTANT_JWT_SECRET")
        raise typer.Exit(2)
    try:
        provider = provider_for(
            settings.llm_provider, settings.llm_url, settings.llm_model, settings.llm_api_key
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
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
            err.print(f"[red]stopped:[/red] {exc}", markup=True, highlight=False)
            raise typer.Exit(1) from exc
    print(answer.text)


sessions_app = typer.Typer(help="Sessions made by POST /auth/sso.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (X-API-Key) acting as a group's service user.",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(sessions_app, name="sessions")
app.add_typer(keys_app, name="api-key")


def _service(data_dir: Path | None) -> AbstractContextManager[Sextant]:
    return _opened(_settings(data_dir=data_dir))


@sessions_app.command("revoke")
def sessions_revoke(
    email: Annotated[str, typer.Option(help="Revoke every session of this user")],
    data_dir: DataDir = None,
) -> None:
    """Revoke all sessions of a user."""
    try:
        with _service(data_dir) as service:
            count = service.credentials.revoke_sessions(email)
    except SextantError as exc:
        raise _fail(exc) from exc
    out.print(f"revoked {count} session(s) of {email}")


@keys_app.command("create")
def api_key_create(
    group: Annotated[str, typer.Option(help="The group whose permissions the key has")],
    name: Annotated[str, typer.Option(help="A unique name for the key")],
    data_dir: DataDir = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    try:
        with _service(data_dir) as service:
            key = service.credentials.create_api_key(group, name)
    except SextantError as exc:
        raise _fail(exc) from exc
    err.print(f"API key {name!r} for group {group!r} (shown once, store it now):")
    print(key)


@keys_app.command("revoke")
def api_key_revoke(
    name: Annotated[str, typer.Option(help="The key's name")], data_dir: DataDir = None
) -> None:
    """Revoke an API key and deactivate its service user."""
    try:
        with _service(data_dir) as service:
            service.credentials.revoke_api_key(name)
    except SextantError as exc:
        raise _fail(exc) from exc
    out.print(f"revoked API key {name!r}")


@keys_app.command("list")
def api_key_list(data_dir: DataDir = None) -> None:
    """List API keys (names, prefixes, groups; never the keys)."""
    with _service(data_dir) as service:
        keys = service.credentials.list_api_keys()
    for info in keys:
        state = "revoked" if info.revoked else "active"
        out.print(
            f"{info.name}\tsxt_{info.prefix}_…\t{info.group}\t{state}\t{info.created_at:%Y-%m-%d}"
        )


def main() -> None:
    app()
