"""Alembic environment: migrations run on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from aispm.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("aispm migrations run through aispm.store.Store, which supplies a connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
