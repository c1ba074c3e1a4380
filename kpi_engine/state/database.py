"""The state database: one SQLite file by default (WAL, so readers never wait for a writer),
or Postgres (``KPILAB_DATABASE_URL=postgresql+psycopg://…``) for several hosts.

Every write is one short transaction (``write``). On SQLite a write transaction takes the
write lock when it begins (``BEGIN IMMEDIATE``): two processes that read and then write
would otherwise deadlock, and SQLite would fail the second at once instead of letting it
wait. Readers (``read``) never lock anyone out. A unique constraint that refuses a row is
the database telling two writers apart; callers turn it into a message or a retry.

The schema is brought up to date by Alembic when the database is opened (``migrate``),
under a lock, so several processes starting together migrate once.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import StaticPool

from kpi_engine.errors import KpiLabError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_SECONDS = 30  # how long a SQLite writer waits for another to finish
_ADVISORY_KEY = 7_417_513  # Postgres advisory lock for migrations (any fixed number)


class StateDB:
    """An open state database (one per process and URL; connections are pooled)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.engine = _engine(url)
        self._write = self.engine.execution_options(begin="IMMEDIATE")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with self._write.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_SECONDS, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint in WAL
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("begin")
        conn.exec_driver_sql(f"BEGIN {mode}" if mode else "BEGIN")

    return engine


def upsert(conn: Connection, table: Table, values: dict | list[dict], keys: tuple[str, ...]):
    """Insert rows, or update those whose ``keys`` exist: one statement, so two writers at
    once both succeed (a delete then an insert lets the second's insert collide on
    Postgres, where transactions do not wait for each other's reads)."""
    rows = values if isinstance(values, list) else [values]
    if not rows:
        return
    make = postgres_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = make(table)
    changed = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changed), rows)


def migrate(db: StateDB) -> None:
    """Bring the schema up to date (Alembic), once even when processes start together."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(db) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


@contextmanager
def _migration_lock(db: StateDB) -> Iterator[Connection]:
    if db.sqlite:
        path = db.url.removeprefix("sqlite:///")
        if path in ("", ":memory:", "sqlite://"):
            with db.engine.begin() as conn:
                yield conn
            return
        with open(path + ".migrate-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with db.engine.begin() as conn:
                    yield conn
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    with db.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
        yield conn


def open_state(url: str) -> StateDB:
    """The state database at ``url``, its schema up to date; a clear error if unreachable."""
    db = StateDB(url)
    try:
        migrate(db)
    except Exception as exc:  # the driver's own error: unreachable, refused, read-only
        db.close()
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise KpiLabError(
            f"cannot open the state database ({type(exc).__name__}: {first}): check"
            " KPILAB_DATABASE_URL, or --db"
        ) from None
    return db


def sqlite_url(path: str | os.PathLike) -> str:
    return "sqlite://" if str(path) == ":memory:" else f"sqlite:///{Path(path).resolve()}"
