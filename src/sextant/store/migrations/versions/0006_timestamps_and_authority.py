"""tables say when they were made and last changed; collections can be official

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import datetime as _dt

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table rebuild): other tables hold foreign keys to these
    op.add_column("tables", sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tables", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "collections",
        sa.Column("official", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    tables = sa.table(
        "tables",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = _dt.datetime.now(_dt.UTC)
    op.execute(tables.update().values(created_at=now, updated_at=now))


def downgrade() -> None:
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("official")
    with op.batch_alter_table("tables") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("created_at")
