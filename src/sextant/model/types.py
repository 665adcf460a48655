"""Frozen types of the semantic model as written in YAML.

Field names are the YAML keys. Each type checks its own shape on construction; references
between parts (a metric's table, a user's groups) are checked by :mod:`sextant.model.validate`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sextant.model.operations import AGGREGATIONS, OPERATIONS, Arity

__all__ = [
    "ADMINISTRATORS",
    "ALL_USERS",
    "AgentSpec",
    "AggregationSpec",
    "CollectionPermissionSpec",
    "CollectionSpec",
    "ColumnSpec",
    "DataPermissionSpec",
    "DatabaseSpec",
    "FilterSpec",
    "GroupSpec",
    "JwtSpec",
    "MeasureSpec",
    "MetricInputSpec",
    "MetricSpec",
    "Model",
    "PermissionsSpec",
    "ProvisioningSpec",
    "QuestionAggregationSpec",
    "QuestionFilterSpec",
    "QuestionGroupSpec",
    "QuestionOrderSpec",
    "QuestionParameterSpec",
    "QuestionQuerySpec",
    "QuestionSpec",
    "RatioPartSpec",
    "SandboxSpec",
    "SegmentSpec",
    "SettingsSpec",
    "TableSpec",
    "UserSpec",
]

ALL_USERS = "All Users"
ADMINISTRATORS = "Administrators"

Scalar = str | int | float | bool
Visibility = Literal["normal", "hidden", "sensitive"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


class ColumnSpec(_Spec):
    name: str
    display_name: str | None = None
    description: str | None = None
    semantic_type: str | None = None
    visibility: Visibility = "normal"
    foreign_key: str | None = Field(
        default=None, description="TABLE.COLUMN this column points to, when not declared"
    )

    _name = field_validator("name")(_non_empty)

    @field_validator("semantic_type")
    @classmethod
    def _semantic_type(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("type/"):
            raise ValueError("semantic types look like 'type/Category'")
        return value

    @field_validator("foreign_key")
    @classmethod
    def _foreign_key(cls, value: str | None) -> str | None:
        if value is not None and value.count(".") != 1:
            raise ValueError("write a foreign key as TABLE.COLUMN")
        return value


class TableSpec(_Spec):
    name: str
    display_name: str | None = None
    description: str | None = None
    visibility: Literal["normal", "hidden"] = "normal"
    columns: tuple[ColumnSpec, ...] = ()

    _name = field_validator("name")(_non_empty)


class DatabaseSpec(_Spec):
    name: str
    url: str = Field(repr=False)
    schema_: str | None = Field(default=None, alias="schema")
    description: str | None = None
    tables: tuple[TableSpec, ...] = ()

    _name = field_validator("name")(_non_empty)


class CollectionSpec(_Spec):
    name: str
    description: str | None = None
    official: bool = False  # Metabase's authority level: verified metrics in it are official

    _name = field_validator("name")(_non_empty)


def _check_arity(operation: str, value: Scalar | None, values: tuple[Scalar, ...] | None) -> None:
    op = OPERATIONS.get(operation)
    if op is None:
        return  # reported with a suggestion by the validator
    has_value = value is not None
    has_values = values is not None
    if op.arity is Arity.NONE and (has_value or has_values):
        raise ValueError(f"operation {operation!r} takes no value")
    if op.arity is not Arity.NONE and has_value == has_values:
        raise ValueError(f"operation {operation!r} needs exactly one of value or values")
    if op.arity is Arity.ONE and has_values:
        raise ValueError(f"operation {operation!r} takes a single value")
    if has_values and not values:
        raise ValueError("values must not be empty")


class FilterSpec(_Spec):
    """One filter in the Agent API grammar, naming a column instead of a field id."""

    column: str
    operation: str
    value: Scalar | None = None
    values: tuple[Scalar, ...] | None = None
    bucket: str | None = None
    via: str | tuple[str, ...] | None = Field(
        default=None,
        description="a foreign-key column of the table, the column being on its target; or a "
        "chain of them, each a key of the table the previous one points to",
    )

    @model_validator(mode="after")
    def _arity(self) -> FilterSpec:
        _check_arity(self.operation, self.value, self.values)
        return self


def _check_operand(function: str | None, column: str | None, expression: str | None) -> None:
    if column is not None and expression is not None:
        raise ValueError("give column or expression, not both")
    if function in AGGREGATIONS and function != "count" and column is None and expression is None:
        raise ValueError(f"aggregation {function!r} needs a column or an expression")


class AggregationSpec(_Spec):
    """``function`` over one ``column``, or over an ``expression`` of the table's columns
    (see :mod:`sextant.model.expressions`); ``count`` with neither counts rows."""

    function: str
    column: str | None = None
    expression: str | None = None

    @model_validator(mode="after")
    def _needs_column(self) -> AggregationSpec:
        _check_operand(self.function, self.column, self.expression)
        return self


class RatioPartSpec(_Spec):
    """The numerator or denominator of a ratio: an aggregation of the metric's table with
    its own filters, or another (simple) metric of the same table."""

    function: str | None = None
    column: str | None = None
    expression: str | None = None
    metric: str | None = None
    filters: tuple[FilterSpec, ...] = ()

    @model_validator(mode="after")
    def _one_source(self) -> RatioPartSpec:
        if (self.function is None) == (self.metric is None):
            raise ValueError("give either function (with column or expression) or metric")
        if self.metric is not None and (self.column or self.expression) is not None:
            raise ValueError("column and expression go with function, not with metric")
        _check_operand(self.function, self.column, self.expression)
        return self


class MetricInputSpec(_Spec):
    """One metric a derived metric's expression uses, under ``alias`` (default: its name),
    optionally offset by a period (``1 month``) for period-over-period comparisons."""

    metric: str
    alias: str | None = None
    offset: str | None = None


_KIND_KEYS: dict[str, tuple[set[str], set[str]]] = {  # type: (required, allowed beyond them)
    "simple": ({"aggregation"}, set()),
    "ratio": ({"numerator", "denominator"}, set()),
    "derived": ({"expression", "metrics"}, set()),
    "cumulative": ({"aggregation"}, {"window", "grain"}),
}
_KIND_ONLY = {"aggregation", "numerator", "denominator", "expression", "metrics", "window", "grain"}


class MetricSpec(_Spec):
    name: str
    description: str | None = None
    collection: str
    database: str | None = None
    table: str
    type: Literal["simple", "ratio", "derived", "cumulative"] = "simple"
    aggregation: AggregationSpec | None = None
    numerator: RatioPartSpec | None = None
    denominator: RatioPartSpec | None = None
    expression: str | None = None
    metrics: tuple[MetricInputSpec, ...] = ()
    window: str | None = None
    grain: str | None = None
    filters: tuple[FilterSpec, ...] = ()
    default_time_dimension: str | None = None
    verified: bool = False

    _name = field_validator("name")(_non_empty)

    @model_validator(mode="after")
    def _keys_of_type(self) -> MetricSpec:
        required, optional = _KIND_KEYS[self.type]
        given = {k for k in _KIND_ONLY if getattr(self, k) not in (None, ())}
        missing = sorted(required - given)
        if missing:
            raise ValueError(f"a {self.type} metric needs {' and '.join(missing)}")
        extra = sorted(given - required - optional)
        if extra:
            raise ValueError(f"{', '.join(extra)} does not apply to a {self.type} metric")
        return self


class MeasureSpec(_Spec):
    name: str
    display_name: str | None = None
    description: str | None = None
    database: str | None = None
    table: str
    aggregation: AggregationSpec

    _name = field_validator("name")(_non_empty)


class SegmentSpec(_Spec):
    """The rows of a table that all ``filters`` and the boolean ``condition`` keep."""

    name: str
    display_name: str | None = None
    description: str | None = None
    database: str | None = None
    table: str
    filters: tuple[FilterSpec, ...] = ()
    condition: str | None = None

    _name = field_validator("name")(_non_empty)

    @model_validator(mode="after")
    def _something(self) -> SegmentSpec:
        if not self.filters and self.condition is None:
            raise ValueError("a segment needs filters or a condition")
        return self


# -- saved questions -----------------------------------------------------------------------
# A question's query is a construct-query body with column names: ``TOTAL`` for a column of
# the source table, ``PEOPLE.STATE`` for a column of a table one foreign key away.


class QuestionFilterSpec(_Spec):
    """A filter on a column (``column`` + ``operation``) or a segment by name."""

    column: str | None = None
    operation: str | None = None
    value: Scalar | None = None
    values: tuple[Scalar, ...] | None = None
    bucket: str | None = None
    segment: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> QuestionFilterSpec:
        if self.segment is not None:
            others = (self.column, self.operation, self.value, self.values, self.bucket)
            if any(v is not None for v in others):
                raise ValueError("a segment filter has only 'segment'")
            return self
        if self.column is None or self.operation is None:
            raise ValueError("a filter needs 'column' and 'operation' (or 'segment')")
        _check_arity(self.operation, self.value, self.values)
        return self


class QuestionAggregationSpec(_Spec):
    """An aggregation (``function`` over ``column``) or a measure by name."""

    function: str | None = None
    column: str | None = None
    measure: str | None = None
    sort_order: Literal["asc", "desc"] | None = None

    @model_validator(mode="after")
    def _shape(self) -> QuestionAggregationSpec:
        if self.measure is not None:
            if self.function is not None or self.column is not None:
                raise ValueError("a measure aggregation has only 'measure' and 'sort_order'")
            return self
        if self.function is None:
            raise ValueError("an aggregation needs 'function' (or 'measure')")
        if self.function in AGGREGATIONS and self.function != "count" and self.column is None:
            raise ValueError(f"aggregation {self.function!r} needs a column")
        return self


class QuestionGroupSpec(_Spec):
    column: str
    field_granularity: str | None = None


class QuestionOrderSpec(_Spec):
    column: str
    direction: Literal["asc", "desc"] = "asc"


def _columns(value: object) -> object:
    """``[A, {column: B}]`` -> ``[A, B]``: fields may be written either way."""
    if isinstance(value, list | tuple):
        return [v["column"] if isinstance(v, dict) and set(v) == {"column"} else v for v in value]
    return value


def _groups(value: object) -> object:
    """A group-by or order-by entry may be a bare column name."""
    if isinstance(value, list | tuple):
        return [{"column": v} if isinstance(v, str) else v for v in value]
    return value


class QuestionQuerySpec(_Spec):
    """The query of a saved question: a table query or a metric query."""

    database: str | None = None
    table: str | None = None
    metric: str | None = None
    filters: tuple[QuestionFilterSpec, ...] = ()
    fields: tuple[str, ...] | None = None
    aggregations: tuple[QuestionAggregationSpec, ...] | None = None
    group_by: tuple[QuestionGroupSpec, ...] | None = None
    order_by: tuple[QuestionOrderSpec, ...] | None = None
    limit: int | None = Field(default=None, ge=1)

    _fields = field_validator("fields", mode="before")(_columns)
    _group_by = field_validator("group_by", "order_by", mode="before")(_groups)

    @model_validator(mode="after")
    def _source(self) -> QuestionQuerySpec:
        if (self.table is None) == (self.metric is None):
            raise ValueError("give exactly one of 'table' or 'metric' as the source")
        return self


class QuestionParameterSpec(_Spec):
    slug: str = Field(pattern=r"^[a-z0-9_]+$", max_length=100)
    name: str | None = None
    type: str
    target: str
    required: bool = False
    default: Scalar | tuple[Scalar | None, ...] | None = None
    values: tuple[Scalar, ...] | None = None
    values_from: Literal["field"] | None = None

    @model_validator(mode="after")
    def _values(self) -> QuestionParameterSpec:
        if self.values is not None and self.values_from is not None:
            raise ValueError("give 'values' or 'values_from', not both")
        if self.values is not None and not self.values:
            raise ValueError("values must not be empty")
        return self


class QuestionSpec(_Spec):
    name: str
    description: str | None = None
    collection: str
    query: QuestionQuerySpec
    parameters: tuple[QuestionParameterSpec, ...] = ()

    _name = field_validator("name")(_non_empty)


class GroupSpec(_Spec):
    name: str
    description: str | None = None

    _name = field_validator("name")(_non_empty)


class UserSpec(_Spec):
    email: str
    first_name: str | None = None
    last_name: str | None = None
    groups: tuple[str, ...] = ()
    attributes: dict[str, str] = Field(default_factory=dict)
    active: bool = True

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        local, at, domain = value.partition("@")
        if not (local and at and "." in domain) or " " in value:
            raise ValueError(f"{value!r} is not an email address")
        return value


class DataPermissionSpec(_Spec):
    group: str
    database: str | None = None
    tables: tuple[str, ...] | Literal["*"]
    access: Literal["query", "sandboxed", "none"]


class CollectionPermissionSpec(_Spec):
    group: str
    collection: str
    access: Literal["read", "none"]


class PermissionsSpec(_Spec):
    data: tuple[DataPermissionSpec, ...] = ()
    collections: tuple[CollectionPermissionSpec, ...] = ()


class SandboxSpec(_Spec):
    group: str
    database: str | None = None
    table: str
    filter: FilterSpec
    hidden_columns: tuple[str, ...] = ()


class JwtSpec(_Spec):
    secret: str | None = Field(default=None, repr=False)
    email_claim: str = "email"
    max_age_seconds: int = Field(default=180, gt=0)
    max_future_seconds: int = Field(default=5, ge=0)


class ProvisioningSpec(_Spec):
    enabled: bool = False
    group_mapping: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class AgentSpec(_Spec):
    """What LLM agents are offered (the MCP tools ``list_cards``/``run_card``, ``sextant ask``)."""

    collections: tuple[str, ...] | None = Field(
        default=None, description="the curated collections; default: every readable one"
    )
    max_rows: int = Field(default=200, gt=0, description="rows of a tool result, at most")
    max_bytes: int = Field(default=30_000, gt=0, description="JSON bytes of a tool result")


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class SettingsSpec(_Spec):
    report_timezone: str | None = None
    start_of_week: Weekday = "monday"
    # how many foreign keys away a related field may be (1: the tables a table's own keys
    # point to; 2, the default: also the tables their keys point to; at most 3)
    join_depth: int = Field(default=2, ge=1, le=3)
    session_ttl_days: int = Field(default=14, gt=0)
    jwt: JwtSpec = JwtSpec()
    provisioning: ProvisioningSpec = ProvisioningSpec()
    agent: AgentSpec = AgentSpec()


class Model(_Spec):
    """A whole semantic model: the content of one YAML file."""

    version: Literal[1] = 1
    settings: SettingsSpec = SettingsSpec()
    databases: tuple[DatabaseSpec, ...] = ()
    collections: tuple[CollectionSpec, ...] = ()
    metrics: tuple[MetricSpec, ...] = ()
    questions: tuple[QuestionSpec, ...] = ()
    measures: tuple[MeasureSpec, ...] = ()
    segments: tuple[SegmentSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    permissions: PermissionsSpec = PermissionsSpec()
    sandboxes: tuple[SandboxSpec, ...] = ()

    def group_names(self) -> list[str]:
        """Declared groups plus the two built-in ones."""
        names = [ALL_USERS, ADMINISTRATORS]
        names += [g.name for g in self.groups if g.name not in names]
        return names
