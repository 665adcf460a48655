"""A card run's parameter values: matched to the card's parameters, checked, made filters.

Everything here happens before anything runs, and every problem is a 400 that names the
parameter and says what it accepts. Values end up as typed filter values of the card's
query (the same path as an Agent API filter), never as text in SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sextant.errors import ForbiddenError, InvalidRequestError
from sextant.model.operations import kind_of
from sextant.model.parameters import PARAMETER_TYPES, allowed, choice_atoms, conditions
from sextant.query.fields import Column
from sextant.query.normal import NormFilter, Ref
from sextant.store.snapshot import ParameterRow

__all__ = ["Bound", "CardQueryRequest", "ParameterValue", "bind_parameters", "parameter_object"]

_SHOWN_CHOICES = 20


class ParameterValue(BaseModel):
    """One parameter of a card run, as Metabase clients send it (other keys are ignored)."""

    model_config = ConfigDict(extra="ignore")
    id: str | None = Field(default=None, max_length=200)
    slug: str | None = Field(default=None, max_length=200)
    target: Any = None
    type: str | None = Field(default=None, max_length=100)
    value: Any = None


class CardQueryRequest(BaseModel):
    """``POST /api/card/:id/query``; Metabase's other keys (``ignore_cache``, …) are ignored."""

    model_config = ConfigDict(extra="ignore")
    parameters: list[ParameterValue] = Field(default_factory=list, max_length=100)


def parameter_object(parameter: ParameterRow) -> dict[str, Any]:
    """A parameter as ``GET /api/card/:id`` shows it."""
    static = parameter.values is not None
    body: dict[str, Any] = {
        "id": parameter.id,
        "slug": parameter.slug,
        "name": parameter.name,
        "type": parameter.type,
        "target": ["dimension", ["template-tag", parameter.slug]],
        "required": parameter.required,
        "default": parameter.default,
        "values_source_type": "static-list" if static else None,
    }
    if static:
        body["values_source_config"] = {"values": list(parameter.values or ())}
    return body


def _named_by(given: ParameterValue, parameter: ParameterRow) -> bool:
    if given.id is not None:
        return given.id == parameter.id
    if given.slug is not None:
        return given.slug == parameter.slug
    target = given.target
    return (
        isinstance(target, list)
        and len(target) == 2
        and target[0] in ("dimension", "variable")
        and target[1] == ["template-tag", parameter.slug]
    )


def _label(given: ParameterValue) -> str:
    if given.id is not None:
        return given.id
    if given.slug is not None:
        return given.slug
    return repr(given.target) if given.target is not None else "(unnamed)"


@dataclass(frozen=True)
class Bound:
    """The filters a run's parameter values mean, and the values by slug (for the audit)."""

    filters: tuple[NormFilter, ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class _Problem:
    path: str
    message: str


def _shown(choices: Sequence[Any]) -> str:
    text = ", ".join(str(c) for c in choices[:_SHOWN_CHOICES])
    return text + (", …" if len(choices) > _SHOWN_CHOICES else "")


def bind_parameters(
    parameters: Sequence[ParameterRow],
    given: Sequence[ParameterValue],
    columns: Mapping[Ref, Column],
    field_values: Callable[[Column], list[Any] | None],
) -> Bound:
    """The filters the caller's values mean, or a 400 with every problem at once.

    ``columns`` is the caller's column list of the card's table (by reference): a parameter
    on a column the caller may not use is a 403. ``field_values`` gives a column's value list
    as the caller may see it (None when the column has none).
    """
    problems: list[_Problem] = []
    chosen: dict[str, tuple[int, Any]] = {}
    slugs = ", ".join(p.slug for p in parameters) or "none: this card takes no parameters"
    for i, value in enumerate(given):
        match = next((p for p in parameters if _named_by(value, p)), None)
        if match is None:
            problems.append(
                _Problem(
                    f"parameters[{i}]",
                    f"unknown parameter {_label(value)!r}; this card's parameters are: {slugs}",
                )
            )
            continue
        if value.value is None:
            continue  # Metabase sends unset parameters with a null value
        if match.slug in chosen:
            problems.append(_Problem(f"parameters[{i}]", f"{match.slug!r} is given twice"))
            continue
        chosen[match.slug] = (i, value.value)
    filters: list[NormFilter] = []
    used: dict[str, Any] = {}
    for parameter in parameters:
        index, raw = chosen.get(parameter.slug, (None, parameter.default))
        path = f"parameters[{index}].value" if index is not None else "parameters"
        kind = PARAMETER_TYPES[parameter.type]
        if raw is None:
            if parameter.required:
                problems.append(
                    _Problem(path, f"parameter {parameter.slug!r} is required: {kind.expects}")
                )
            continue
        column = columns.get(Ref(parameter.field_id, parameter.via_id))
        if column is None:
            raise ForbiddenError()  # the caller may not use the column this parameter filters
        column_kind = kind_of(column.field.base_type)
        try:
            made = conditions(parameter.type, raw, column_kind)
        except ValueError as exc:
            problems.append(
                _Problem(
                    path,
                    f"parameter {parameter.slug!r} ({parameter.type}) expects {exc}; got {raw!r}",
                )
            )
            continue
        choices = _choices(parameter, column, field_values)
        if choices is not None:
            given_atoms = choice_atoms(parameter.type, raw, column_kind)
            outside = [v for v in given_atoms if not allowed(v, choices)]
            if outside:
                problems.append(
                    _Problem(
                        path,
                        f"parameter {parameter.slug!r}: {outside[0]!r} is not an allowed value "
                        f"(allowed: {_shown(choices) or 'none'})",
                    )
                )
                continue
        ref = Ref(parameter.field_id, parameter.via_id)
        used[parameter.slug] = raw
        filters += [
            NormFilter(ref=ref, op=c.operation, values=c.values, bucket=c.bucket) for c in made
        ]
    if problems:
        errors = {p.path: p.message for p in problems}
        if len(problems) == 1:
            only = problems[0].message
            raise InvalidRequestError(only[0].upper() + only[1:] + ".", errors=errors)
        raise InvalidRequestError(
            "Invalid parameters: " + "; ".join(p.message for p in problems) + ".", errors=errors
        )
    return Bound(tuple(filters), used)


def _choices(
    parameter: ParameterRow, column: Column, field_values: Callable[[Column], list[Any] | None]
) -> list[Any] | None:
    if parameter.values is not None:
        return list(parameter.values)
    if parameter.values_from == "field":
        return field_values(column)
    return None
