"""Alembic: the schema is built from migrations, on both databases, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import hotline.models_all  # noqa: F401
from hotline.db import make_engine, upgrade


def _assert_matches_models(engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = [d for d in compare_metadata(context, SQLModel.metadata) if "apscheduler" not in str(d)]
    assert diff == []


def test_upgrade_from_empty_sqlite_builds_the_whole_schema(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh' / 'hotline.db'}")
    upgrade(engine)
    upgrade(engine)  # every start upgrades: the second run is a no-op
    tables = set(inspect(engine).get_table_names())
    assert {"ticket", "ticket_event", "citizen", "department", "staff", "reply", "message", "notice",
            "alembic_version"} <= tables
    _assert_matches_models(engine)


def test_upgrade_from_empty_postgres_builds_the_whole_schema(postgres_admin_url):
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    name = "hotline_migration_test"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(postgres_admin_url.rsplit("/", 1)[0] + "/" + name)
    try:
        upgrade(engine)
        upgrade(engine)
        assert {"ticket", "ticket_event", "notice"} <= set(inspect(engine).get_table_names())
        _assert_matches_models(engine)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
