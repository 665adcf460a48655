"""Tables of the application database (SQLAlchemy Core).

Entities are never deleted while their name lives on: an entity dropped from the model is
marked inactive and keeps its id, so that re-adding it later gives back the same id.
Changes to this module need a new Alembic revision in ``store/migrations``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "api_keys",
    "audit_log",
    "cards",
    "collection_permissions",
    "collections",
    "data_permissions",
    "databases",
    "fields",
    "fingerprints",
    "groups",
    "measures",
    "memberships",
    "metadata",
    "model_state",
    "sandboxes",
    "search_vectors",
    "segments",
    "server_settings",
    "sessions",
    "tables",
    "user_attributes",
    "users",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_NAME = 255


def _active() -> Column[bool]:
    return Column("active", Boolean, nullable=False, default=True)


databases = Table(
    "databases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(_NAME), nullable=False, unique=True),
    Column("engine", String(32), nullable=False),
    Column("schema_name", String(_NAME)),
    Column("description", Text),
    _active(),
)

tables = Table(
    "tables",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("database_id", ForeignKey("databases.id"), nullable=False),
    Column("schema_name", String(_NAME)),
    Column("name", String(_NAME), nullable=False),
    Column("display_name", String(_NAME), nullable=False),
    Column("description", Text),
    Column("visibility", String(16), nullable=False, default="normal"),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),  # when its description or keys last changed
    _active(),
    UniqueConstraint("database_id", "name", name="uq_tables_database_id_name"),
)

fields = Table(
    "fields",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("table_id", ForeignKey("tables.id"), nullable=False),
    Column("name", String(_NAME), nullable=False),
    Column("position", Integer, nullable=False),
    Column("display_name", String(_NAME), nullable=False),
    Column("description", Text),
    Column("database_type", String(_NAME), nullable=False),
    Column("base_type", String(64), nullable=False),
    Column("semantic_type", String(64)),
    Column("visibility", String(16), nullable=False, default="normal"),
    Column("nullable", Boolean, nullable=False, default=True),
    Column("fk_target_field_id", ForeignKey("fields.id")),
    _active(),
    UniqueConstraint("table_id", "name", name="uq_fields_table_id_name"),
)

collections = Table(
    "collections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(_NAME), nullable=False, unique=True),
    Column("description", Text),
    Column("official", Boolean, nullable=False, default=False),  # authority_level "official"
    _active(),
)

cards = Table(
    "cards",
    metadata,
    # metrics and saved questions are cards and share one id space, as in Metabase
    Column("id", Integer, primary_key=True),
    Column("card_type", String(16), nullable=False, default="metric"),  # metric | question
    Column("name", String(_NAME), nullable=False),
    Column("description", Text),
    Column("collection_id", ForeignKey("collections.id")),
    Column("table_id", ForeignKey("tables.id")),  # the table the card reads
    Column("definition", JSON, nullable=False),
    Column("default_time_field_id", ForeignKey("fields.id")),
    Column("verified", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),  # when the definition last changed
    _active(),
    UniqueConstraint("card_type", "name", name="uq_cards_card_type_name"),
)

measures = Table(
    "measures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("table_id", ForeignKey("tables.id"), nullable=False),
    Column("name", String(_NAME), nullable=False),
    Column("display_name", String(_NAME)),
    Column("description", Text),
    Column("definition", JSON, nullable=False),
    _active(),
    UniqueConstraint("table_id", "name", name="uq_measures_table_id_name"),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("table_id", ForeignKey("tables.id"), nullable=False),
    Column("name", String(_NAME), nullable=False),
    Column("display_name", String(_NAME)),
    Column("description", Text),
    Column("definition", JSON, nullable=False),
    _active(),
    UniqueConstraint("table_id", "name", name="uq_segments_table_id_name"),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(_NAME), nullable=False, unique=True),
    Column("description", Text),
    Column("builtin", Boolean, nullable=False, default=False),
    _active(),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(_NAME), nullable=False),
    Column("email_key", String(_NAME), nullable=False, unique=True),  # lower-cased email
    Column("first_name", String(_NAME)),
    Column("last_name", String(_NAME)),
    Column("source", String(16), nullable=False, default="model"),  # model | provisioned
    _active(),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("group_id", ForeignKey("groups.id"), primary_key=True),
)

user_attributes = Table(
    "user_attributes",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("key", String(_NAME), primary_key=True),
    Column("value", Text, nullable=False),
)

data_permissions = Table(
    "data_permissions",
    metadata,
    Column("group_id", ForeignKey("groups.id"), primary_key=True),
    Column("table_id", ForeignKey("tables.id"), primary_key=True),
    Column("access", String(16), nullable=False),  # query | sandboxed | none
)

collection_permissions = Table(
    "collection_permissions",
    metadata,
    Column("group_id", ForeignKey("groups.id"), primary_key=True),
    Column("collection_id", ForeignKey("collections.id"), primary_key=True),
    Column("access", String(16), nullable=False),  # read | none
)

sandboxes = Table(
    "sandboxes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", ForeignKey("groups.id"), nullable=False),
    Column("table_id", ForeignKey("tables.id"), nullable=False),
    Column("definition", JSON, nullable=False),  # filter + hidden columns
)

fingerprints = Table(
    "fingerprints",
    metadata,
    Column("field_id", ForeignKey("fields.id"), primary_key=True),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("statistics", JSON, nullable=False),
    Column("value_list", JSON),  # sorted distinct values; null for high-cardinality columns
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_id", ForeignKey("users.id")),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(32)),
    Column("entity_id", Integer),
    Column("status", String(16), nullable=False),
    Column("duration_ms", Integer),
    Column("row_count", BigInteger),
    Column("detail", JSON),
    Index("ix_audit_log_at", "at"),
)

model_state = Table(
    "model_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("document", JSON, nullable=False),  # the model as applied, secrets removed
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("scopes", Text),  # space-separated, from the JWT; null = every scope
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_sessions_user_id", "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(_NAME), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False, unique=True),  # shown in listings, not secret
    Column("key_hash", String(64), nullable=False),  # sha256 of the whole key
    Column("group_id", ForeignKey("groups.id"), nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False),  # the key's service user
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

server_settings = Table(
    "server_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

search_vectors = Table(
    "search_vectors",
    metadata,
    Column("entity_type", String(16), primary_key=True),  # table | metric
    Column("entity_id", Integer, primary_key=True),
    Column("model", String(128), nullable=False),
    Column("text_hash", String(64), nullable=False),  # sha256 of the text that was embedded
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
)
