"""Serving a DuckDB file without locking out its writers.

DuckDB lets one process write a file, and a process that holds it open (even read-only) stops
every writer with ``Could not set lock on file``. A data team refreshes its file with dbt or a
loader while Sextant serves, so Sextant never queries the file itself: it copies the file (and
its write-ahead log, which holds commits not yet checkpointed) to a private snapshot, opens the
snapshot read-only and unlinks it at once (the open connection keeps it readable, nothing is
left behind). Copying takes no lock, so a writer is never refused.

Before a query, when ``refresh_seconds`` have passed since the last look, the file's and the
log's size and modification time are compared with the snapshot's; when they differ a new
snapshot is taken and queries move to it, while queries already running finish on the old one.
A copy during which either file changed is thrown away and retried at the next look, so a
snapshot is always a state the writer committed.

Cost: one copy of the file per change per server process (disk space and time proportional to
the file); results lag the writer's commit by at most ``refresh_seconds``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Signature", "SnapshotWatch", "copy_snapshot", "signature"]

Signature = tuple[tuple[int, int, int], tuple[int, int, int] | None]
"""(size, mtime ns, inode) of the file and of its write-ahead log (None: no log)."""


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def signature(path: Path) -> Signature:
    """The file's state as seen from outside; FileNotFoundError when it is gone."""
    main = _stat(path)
    if main is None:
        raise FileNotFoundError(f"no DuckDB file at {path}")
    return (main, _stat(_wal(path)))


def copy_snapshot(path: Path, directory: Path, attempts: int = 5) -> tuple[Path, Signature]:
    """A consistent copy of ``path`` (and its log) in ``directory``; retried while a writer
    changes the file under the copy, then copied once more as it stands."""
    directory.mkdir(parents=True, exist_ok=True)
    _sweep(directory)
    for attempt in range(attempts):
        before = signature(path)
        fd, name = tempfile.mkstemp(prefix=path.stem + "-", suffix=".duckdb", dir=directory)
        os.close(fd)
        target = Path(name)
        try:
            shutil.copyfile(path, target)
            if before[1] is not None:
                shutil.copyfile(_wal(path), _wal(target))
        except FileNotFoundError:  # the log went away under the copy (a checkpoint)
            discard_snapshot(target)
            continue
        except BaseException:  # a full disk, an interrupt: no partial copy stays behind
            discard_snapshot(target)
            raise
        if signature(path) == before:
            return target, before
        discard_snapshot(target)
        time.sleep(0.05 * (attempt + 1))
    # never a copy the writer changed underneath: the caller keeps its snapshot, or fails
    raise OSError(f"{path} kept changing while it was copied ({attempts} attempts)")


_STALE_SECONDS = 3600


def _sweep(directory: Path) -> None:
    """Remove snapshots an hour old: a live snapshot is unlinked as soon as it is opened, so
    these are copies a crashed process left behind."""
    cutoff = time.time() - _STALE_SECONDS
    for item in directory.iterdir():
        with contextlib.suppress(OSError):
            if item.stat().st_mtime < cutoff:
                item.unlink()


def discard_snapshot(target: Path) -> None:
    """Remove a snapshot's files (an open connection keeps reading them)."""
    for item in (target, _wal(target)):
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


@dataclass
class SnapshotWatch:
    """When to look at the source again, and what the current snapshot was taken from."""

    source: Path
    refresh_seconds: float
    taken: Signature | None = None
    _looked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stale(self) -> bool:
        """Whether the source changed since the snapshot (looked at most every
        ``refresh_seconds``; a vanished file keeps the snapshot that is there)."""
        with self._lock:
            now = time.monotonic()
            if self.taken is not None and now - self._looked < self.refresh_seconds:
                return False
            self._looked = now
        try:
            return signature(self.source) != self.taken
        except FileNotFoundError:
            return False
