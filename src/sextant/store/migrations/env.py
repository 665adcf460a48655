"""Alembic environment: runs on the connection handed over by :func:`sextant.store.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sextant.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # plain `alembic` command line use
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
