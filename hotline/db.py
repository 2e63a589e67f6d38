"""The database engine (SQLite by default, PostgreSQL through DATABASE_URL) and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool, not a connection per session: closing the last connection to a WAL database
        # checkpoints it, which made every ticket cost ~15 ms.
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=5, max_overflow=10, **kwargs
        )
        _sqlite_transactions(engine)
        return engine
    # Connections beyond pool_size are closed when given back: a pool smaller than the threads that
    # use it at once (requests' threads, the vector writer, the scheduler) opened and closed a
    # PostgreSQL backend for most checkouts under load. 2 workers × (16 + 8) stay inside
    # PostgreSQL's default 100 connections.
    return create_engine(url, pool_pre_ping=True, pool_size=16, max_overflow=8, **kwargs)


def _sqlite_transactions(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so that concurrent writers wait instead of failing.

    pysqlite's own transaction handling defers the write lock until the first write, which makes
    a read-then-write transaction fail with "database is locked" under concurrency.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # alembic loads only when the schema is checked

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; run at every start)."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes or machines starting at once: one migrates, the others wait for it
            # and then find nothing to do (the lock ends with this transaction).
            from sqlalchemy import text

            from hotline.leader import LOCK_CLASS, MIGRATION_LOCK

            connection.execute(text("SELECT pg_advisory_xact_lock(:c, :o)"), {"c": LOCK_CLASS, "o": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
