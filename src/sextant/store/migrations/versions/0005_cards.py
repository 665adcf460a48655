"""cards: metrics and saved questions in one id space

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:30:00

The ``metrics`` table becomes ``cards`` (keeping every id): a ``card_type`` column tells
metrics from saved questions, names are unique per type, and cards record when they were
created and last changed. On PostgreSQL the primary key, foreign keys and id sequence keep
their ``metrics`` names.
"""

from __future__ import annotations

import datetime as _dt

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("metrics", "cards")
    with op.batch_alter_table("cards") as batch:
        batch.add_column(
            sa.Column("card_type", sa.String(length=16), nullable=False, server_default="metric")
        )
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint("uq_metrics_name", type_="unique")
        batch.create_unique_constraint("uq_cards_card_type_name", ["card_type", "name"])
    cards = sa.table(
        "cards",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = _dt.datetime.now(_dt.UTC)
    op.execute(cards.update().values(created_at=now, updated_at=now))


def downgrade() -> None:
    cards = sa.table("cards", sa.column("card_type", sa.String(16)))
    op.execute(cards.delete().where(cards.c.card_type != "metric"))
    with op.batch_alter_table("cards") as batch:
        batch.drop_constraint("uq_cards_card_type_name", type_="unique")
        batch.create_unique_constraint("uq_metrics_name", ["name"])
        batch.drop_column("updated_at")
        batch.drop_column("created_at")
        batch.drop_column("card_type")
    op.rename_table("cards", "metrics")
