"""Alembic's environment: migrations run on the connection ``state.database.migrate`` opened
(inside its lock), never on a URL of their own."""

from alembic import context

from kpi_engine.state.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
