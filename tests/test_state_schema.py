"""The migrations create exactly the tables ``state/schema.py`` describes, on SQLite and on
Postgres: a schema change that forgot its migration, or a migration one of them refuses,
fails here."""

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from kpi_engine.state.database import MIGRATIONS
from kpi_engine.state.schema import metadata
from kpi_engine.store import Store


def test_the_migrations_build_the_schema(state_store: Store):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with state_store.state.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() == head
