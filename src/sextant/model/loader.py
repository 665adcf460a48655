"""Read a semantic model from YAML, remembering the line of every key.

``${VAR}`` and ``${VAR:-default}`` in string values are replaced from the environment given
by the caller (secrets stay out of the file). Shape errors from the types are turned into
:class:`Issue` objects located on their lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from sextant.model.issues import Issue, Path
from sextant.model.types import Model
from sextant.wording import problem

__all__ = ["LoadedModel", "load_model_file", "load_model_text"]

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class LoadedModel:
    """A parsed model (``None`` when its shape is broken) and where each key sits."""

    model: Model | None
    lines: Mapping[Path, int]
    issues: tuple[Issue, ...]
    source: str


def load_model_file(path: FsPath, env: Mapping[str, str]) -> LoadedModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        issue = Issue((), f"cannot read the file: {exc.strerror}")
        return LoadedModel(None, {}, (issue,), str(path))
    return load_model_text(text, env, source=str(path))


def load_model_text(text: str, env: Mapping[str, str], source: str = "<model>") -> LoadedModel:
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        return LoadedModel(None, {}, (Issue((), f"not valid YAML: {exc.problem}", line),), source)
    if document is None:
        document = CommentedMap()
    if not isinstance(document, dict):
        return LoadedModel(None, {}, (Issue((), "the model must be a mapping", 1),), source)

    lines: dict[Path, int] = {}
    issues: list[Issue] = []
    data = _plain(document, (), lines, issues, env)
    try:
        model = Model.model_validate(data)
    except ValidationError as exc:
        reported: set[Path] = set()
        for error in exc.errors():
            raw = tuple(p for p in error["loc"] if isinstance(p, str | int))
            path = _drop_union_tags(raw)
            message, suggestion = problem(
                error, keys=keys_at(Model, path[:-1]), mapping="a mapping"
            )
            if path != raw and error["type"] != "extra_forbidden":
                # one failure per branch of a union: say it once, plainly
                if path in reported:
                    continue
                message = "has the wrong type"
            reported.add(path)
            issues.append(Issue(path, message, suggestion=suggestion).located(lines))
        return LoadedModel(None, lines, tuple(issues), source)
    return LoadedModel(model, lines, tuple(issues), source)


def keys_at(model: type[BaseModel], path: Path) -> list[str]:
    """The keys a mapping at ``path`` of ``model`` may have (none when it is not a model)."""
    current: Any = model
    for step in path:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == step), None)
        if field is None:
            return []
        current = _model_inside(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _model_inside(annotation: Any) -> Any:
    """The model class inside ``X | None``, ``tuple[X, ...]``, ``list[X]`` (or None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_inside(argument)
        if found is not None:
            return found
    return None


def _drop_union_tags(path: Path) -> Path:
    """Pydantic names union branches in locations (``tuple[str, ...]``); hide them."""
    return tuple(p for p in path if not (isinstance(p, str) and ("[" in p or p.startswith("'"))))


def _plain(
    node: Any, path: Path, lines: dict[Path, int], issues: list[Issue], env: Mapping[str, str]
) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            line_col = node.lc.key(key)
            if line_col is not None:
                lines[child] = line_col[0] + 1
            out[str(key)] = _plain(value, child, lines, issues, env)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*path, index)
            line_col = node.lc.item(index)
            if line_col is not None:
                lines[child] = line_col[0] + 1
            items.append(_plain(value, child, lines, issues, env))
        return items
    if isinstance(node, str):
        return _interpolate(node, path, lines, issues, env)
    return node


def _interpolate(
    text: str, path: Path, lines: Mapping[Path, int], issues: list[Issue], env: Mapping[str, str]
) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        issues.append(Issue(path, f"environment variable {name} is not set").located(lines))
        return ""

    return _VARIABLE.sub(replace, str(text))
