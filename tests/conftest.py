"""Fixtures: real databases (a SQLite file, and PostgreSQL when TEST_POSTGRES_URL is set),
the real config.yml, and an injectable clock."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, create_engine, text
from sqlmodel import SQLModel

from hotline.bootstrap import App, bootstrap
from hotline.db import make_engine, upgrade
from hotline.settings import Settings, load_settings
from tickets.numbering import forget_sequences

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROJECT = Path(__file__).resolve().parent.parent


def local(*args: int) -> datetime:
    """A moment in the city's time zone: local(2026, 11, 23, 9) is Monday 09:00 in Shanghai."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local(2026, 11, 23, 9, 0))


def _postgres_url() -> str | None:
    return os.environ.get("TEST_POSTGRES_URL")


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as err:  # noqa: BLE001 - any failure means "not usable here"
        return f"{type(err).__name__}: {err}".splitlines()[0]


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = _postgres_url()
    required = os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail("HOTLINE_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests skipped: set TEST_POSTGRES_URL=postgresql+psycopg://user@host/db to run them")
    problem = _postgres_reachable(url)
    if problem:
        if required:
            pytest.fail(f"PostgreSQL at TEST_POSTGRES_URL is not reachable: {problem}")
        pytest.skip(f"PostgreSQL tests skipped: TEST_POSTGRES_URL is not reachable ({problem})")
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A database of its own for this test run, migrated once; dropped at the end."""
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_admin_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _truncate_all(url: str) -> None:
    import hotline.models_all  # noqa: F401

    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
        # The per-day ticket serial sequences (tickets/numbering.py): numbering starts again at 1.
        for (name,) in connection.execute(text(
                "SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE 'ticket\\_serial\\_%'")):
            connection.execute(text(f'DROP SEQUENCE IF EXISTS "{name}"'))
    engine.dispose()
    forget_sequences()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, then the same test on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "hotline.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Only SQLite, for tests about things that do not depend on the database."""
    target = tmp_path / "hotline.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


def keywords_config(tmp_path: Path) -> Path:
    """The shipped config.yml with the keyword router, for subprocess tests about something other than the model."""
    data = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    data["nlu"]["backend"] = "keywords"
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def make_settings(tmp_path: Path, database_url: str, **environ: str) -> Settings:
    env = {"HOTLINE_HOME": str(tmp_path / "home"), "DATABASE_URL": database_url,
           "HOTLINE_CONFIG": str(PROJECT / "config.yml"), "HOTLINE_NLU_BACKEND": "keywords", **environ}
    return load_settings(env)


@pytest.fixture
def hotline(tmp_path: Path, database_url: str, clock: FakeClock) -> Iterator[App]:
    """The assembled hotline on a fresh database (both backends), with the keyword router."""
    app = bootstrap(make_settings(tmp_path, database_url), clock=clock, classifier="keywords")
    yield app
    app.engine.dispose()


@pytest.fixture
def hotline_sqlite(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> Iterator[App]:
    app = bootstrap(make_settings(tmp_path, sqlite_url), clock=clock, classifier="keywords")
    yield app
    app.engine.dispose()


@pytest.fixture
def engine(hotline: App) -> Engine:
    return hotline.engine


@dataclass
class TrainedNlu:
    directory: Path
    model: object  # nlu.model.NluModel


@pytest.fixture(scope="session")
def nlu_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedNlu:
    """The shipped NLU model, trained once per test session from data/ and saved (about 30 s)."""
    from hotline.nlu_wiring import nlu_settings
    from hotline.settings import load_config
    from nlu.train import train_default

    directory = tmp_path_factory.mktemp("nlu") / "model"
    model = train_default(nlu_settings(load_config(PROJECT / "config.yml")), PROJECT)
    model.save(directory)
    return TrainedNlu(directory, model)
