"""``sextant check``: load a model, introspect its warehouses (unless offline) and validate.

It needs no application database: checking never creates or changes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sextant.errors import ConfigurationError, WarehouseError
from sextant.model.catalog import Catalog, TableInfo
from sextant.model.issues import Issue
from sextant.model.loader import LoadedModel, load_model_file
from sextant.model.types import Model
from sextant.model.validate import engine_of, validate_model

__all__ = ["CheckResult", "check_model"]


@dataclass(frozen=True)
class CheckResult:
    loaded: LoadedModel
    catalog: Catalog
    issues: tuple[Issue, ...]

    @property
    def model(self) -> Model | None:
        return self.loaded.model

    def render(self) -> list[str]:
        return [issue.render(self.loaded.source) for issue in self.issues]


def check_model(model_file: Path, env: Mapping[str, str], *, offline: bool = False) -> CheckResult:
    """Every problem of ``model_file``, collected; with ``offline`` the warehouses are not
    opened (tables and columns are then not checked)."""
    loaded = load_model_file(model_file, env)
    issues = list(loaded.issues)
    catalog: dict[str, tuple[TableInfo, ...]] = {}
    unreachable = False
    if loaded.model is not None:
        if not offline:
            for index, db in enumerate(loaded.model.databases):
                if engine_of(db.url) is None:
                    continue  # the validator reports the URL
                try:
                    catalog[db.name] = _introspect(db.url, db.schema_, model_file.parent)
                    zone = loaded.model.settings.report_timezone
                    if zone and not _zone_known(db.url, model_file.parent, zone):
                        issue = Issue(
                            ("settings", "report_timezone"),
                            f"database {db.name} cannot show times in {zone}: MySQL and "
                            "MariaDB need their time zone tables (load them with "
                            "mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql)",
                        )
                        issues.append(issue.located(loaded.lines))
                except (WarehouseError, ConfigurationError) as exc:
                    issue = Issue(("databases", index, "url"), str(exc))
                    issues.append(issue.located(loaded.lines))
                    unreachable = True
        # a warehouse that cannot be read makes every column look missing: check the rest as
        # offline would, rather than bury the URL's problem under their echoes
        online = not offline and not unreachable
        issues += validate_model(loaded.model, loaded.lines, catalog if online else None)
    return CheckResult(loaded, catalog, tuple(issues))


def _introspect(url: str, schema: str | None, base_dir: Path) -> tuple[TableInfo, ...]:
    from sextant.warehouse.connection import connect
    from sextant.warehouse.introspect import introspect

    con = connect(url, base_dir)
    try:
        engine = engine_of(url)
        assert engine is not None  # connect() refuses unknown engines
        return introspect(con, engine, schema)
    finally:
        con.disconnect()


def _zone_known(url: str, base_dir: Path, zone: str) -> bool:
    from sextant.query.temporal import zone_known, zone_needs_probe
    from sextant.warehouse.connection import connect
    from sextant.warehouse.engines import profile

    engine = engine_of(url)
    assert engine is not None
    if not zone_needs_probe(profile(engine), zone):
        return True
    con = connect(url, base_dir)
    try:
        return zone_known(con, profile(engine), zone)
    finally:
        con.disconnect()
