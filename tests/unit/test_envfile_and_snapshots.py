"""sextant.env is trusted only when its owner alone may write it, and written owner-only; a
DuckDB snapshot is never a copy the writer changed underneath, and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sextant.cli.envfile import DEMO_MARKER, read_env_file, write_env_file
from sextant.warehouse import snapshots


def test_the_demo_rewrites_its_file_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sextant.env"
    path.write_text(DEMO_MARKER + "\nSEXTANT_DATA_DIR=old\n")
    path.chmod(0o644)  # e.g. checked out from git
    assert write_env_file(path, {"SEXTANT_JWT_SECRET": "s" * 32})
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_env_file(path) == {"SEXTANT_JWT_SECRET": "s" * 32}
    mine = tmp_path / "mine.env"
    mine.write_text("SEXTANT_PORT=9000\n")
    assert not write_env_file(mine, {"SEXTANT_PORT": "1"})  # not the demo's: left alone
    assert mine.read_text() == "SEXTANT_PORT=9000\n"


def test_a_file_others_may_write_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "sextant.env"
    path.write_text("SEXTANT_JWT_SECRET=planted\n")
    path.chmod(0o666)
    with pytest.raises(ValueError, match="writable by you only"):
        read_env_file(path)
    if os.getuid() == 0:  # owned by someone else
        path.chmod(0o600)
        os.chown(path, 65534, 65534)
        with pytest.raises(ValueError, match="must belong to you"):
            read_env_file(path)


def test_a_file_that_keeps_changing_is_not_snapshotted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "w.duckdb"
    source.write_bytes(b"x" * 1000)
    calls = iter(range(1000))
    monkeypatch.setattr(snapshots, "signature", lambda _p: ((next(calls), 0, 0), None))
    target = tmp_path / "snapshots"
    with pytest.raises(OSError, match="kept changing"):
        snapshots.copy_snapshot(source, target, attempts=3)
    assert list(target.iterdir()) == []


def test_a_failed_copy_leaves_nothing_and_old_leftovers_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "w.duckdb"
    source.write_bytes(b"x" * 1000)
    target = tmp_path / "snapshots"
    target.mkdir()
    leftover = target / "w-crashed.duckdb"
    leftover.write_bytes(b"old")
    os.utime(leftover, (0, 0))

    def full_disk(_a: object, _b: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshots.shutil, "copyfile", full_disk)
    with pytest.raises(OSError, match="No space"):
        snapshots.copy_snapshot(source, target)
    assert list(target.iterdir()) == []
