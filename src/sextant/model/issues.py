"""Problems found in a semantic model, with where they are and what was probably meant."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Issue", "Path", "format_path", "suggest"]

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top)"


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``name`` (case-insensitive), if any is close enough."""
    pool = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(name.lower(), list(pool), n=1, cutoff=0.6)
    return pool[match[0]] if match else None


@dataclass(frozen=True)
class Issue:
    path: Path
    message: str
    line: int | None = None
    suggestion: str | None = None

    def render(self, source: str | None = None) -> str:
        where = source or "<model>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {format_path(self.path)}: {self.message}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion!r}?)"
        return text

    def located(self, lines: Mapping[Path, int]) -> Issue:
        """This issue with the line of its path, or of its nearest located ancestor."""
        if self.line is not None:
            return self
        path = self.path
        while path:
            if path in lines:
                return Issue(self.path, self.message, lines[path], self.suggestion)
            path = path[:-1]
        return self
