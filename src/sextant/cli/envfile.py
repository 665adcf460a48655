"""``sextant.env``: the settings every command run from a folder shares.

``sextant demo`` writes one beside where it runs (data directory, model, JWT secret), so that
every later command (``token``, ``check``, ``api-key create``, ``serve``…) run from the same
folder finds the demo without a flag. Users may write their own: ``KEY=value`` lines, ``#``
comments, optional quotes. The real environment wins over the file; ``SEXTANT_ENV_FILE`` names
another file, or none when empty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DEMO_MARKER", "ENV_FILE", "env_file", "read_env_file", "write_env_file"]

ENV_FILE = "sextant.env"
DEMO_MARKER = "# written by `sextant demo`"


def env_file(environ: Mapping[str, str]) -> Path | None:
    """The file to read, or None when ``SEXTANT_ENV_FILE`` is set empty."""
    chosen = environ.get("SEXTANT_ENV_FILE")
    if chosen is None:
        return Path(ENV_FILE)
    return Path(chosen) if chosen.strip() else None


def read_env_file(path: Path) -> dict[str, str]:
    """The ``KEY=value`` pairs of ``path`` (nothing when it does not exist).

    A line that is not a pair is a :class:`ValueError` naming its line number, and so is a
    file that another user owns or may write (it could plant a JWT secret).
    """
    try:
        status = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    if hasattr(os, "getuid") and (status.st_uid != os.getuid() or status.st_mode & 0o022):
        # it may set the JWT secret: a file another user could have written is not trusted
        raise ValueError(
            f"{path} is not used: it must belong to you and be writable by you only "
            f"(chmod 600 {path})"
        )
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "").isalnum():
            raise ValueError(f"{path}:{number}: expected KEY=value, got {raw.strip()!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def write_env_file(path: Path, values: Mapping[str, str]) -> bool:
    """Write ``values`` to ``path`` (owner-only, it holds a secret) unless a file that
    ``sextant demo`` did not write is there; True when written."""
    if path.exists() and DEMO_MARKER not in path.read_text(encoding="utf-8"):
        return False
    lines = [DEMO_MARKER + ": settings for every sextant command run from this folder"]
    lines += [f"{key}={value}" for key, value in values.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise, and this one holds a secret
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return True
