"""Builds everything from settings: engine, schema, departments, policy, classifier, service.

The only place that knows how the parts fit; adapters receive what they need from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.db import make_engine, upgrade
from hotline.settings import PROJECT_ROOT, HotlineConfig, Settings, load_settings
from tickets.delivery import Notifier
from tickets.knowledge import KnowledgeBase
from tickets.models import Department, Staff
from tickets.routing import Classifier, DepartmentKeywords, KeywordRouter
from tickets.service import Clock, TicketService
from tickets.similar import Embedder, SimilarSettings
from tickets.timelimits import Policy, TimeLimits
from tickets.timeutil import utcnow
from tickets.workcalendar import WorkCalendar

if TYPE_CHECKING:
    from hotline.kb_search import KbSearch

log = logging.getLogger(__name__)


def build_policy(config: HotlineConfig) -> Policy:
    calendar = WorkCalendar(
        timezone=config.city.timezone,
        extra_holidays=config.calendar.extra_holidays,
        extra_workdays=config.calendar.extra_workdays,
        use_chinese_calendar=config.calendar.use_chinese_calendar,
    )
    limits = config.time_limits
    overrides = {
        d.code: {k: v for k, v in d.answer_days.model_dump().items() if v is not None} for d in config.departments
    }
    return Policy(
        calendar=calendar,
        limits=TimeLimits(
            accept_days=limits.accept_days,
            answer_days=limits.answer_days.model_dump(),
            callback_days=limits.callback_days,
            callback_after_hours=config.scheduler.callback_after_hours,
            callback_attempts=limits.callback_attempts,
            max_extension_days=limits.max_extension_days,
            department_answer_days={code: o for code, o in overrides.items() if o},
        ),
    )


def keyword_router(config: HotlineConfig) -> KeywordRouter:
    return KeywordRouter(
        [DepartmentKeywords(d.code, d.topic, d.keywords) for d in config.departments],
        threshold=config.nlu.department_threshold,
    )


def sync_directory(engine: Engine, config: HotlineConfig) -> None:
    """Departments and the staff listed in config.yml, upserted by code / name (never deleted:
    tickets keep pointing at a department a city has retired, which is just marked inactive)."""
    with Session(engine) as session:
        existing = {d.code: d for d in session.exec(select(Department)).all()}
        for d in config.departments:
            row = existing.pop(d.code, None) or Department(code=d.code, name=d.name, topic=d.topic)
            row.name, row.topic, row.active = d.name, d.topic, True
            session.add(row)
        for retired in existing.values():
            retired.active = False
            session.add(retired)
        people: list[tuple[str, str, str | None, int | None, str | None]] = []
        for d in config.departments:
            people += [(p.name, p.role, d.code, p.telegram_id, p.username) for p in d.staff]
        people += [(p.name, "dispatcher", None, p.telegram_id, p.username) for p in config.dispatchers]
        people += [(p.name, "leader", None, p.telegram_id, p.username) for p in config.leaders]
        people += [(p.name, "operator", None, p.telegram_id, p.username) for p in config.operators]
        for name, role, code, telegram_id, username in people:
            staff = session.exec(
                select(Staff).where(Staff.name == name, Staff.from_config == True)  # noqa: E712
            ).first() or Staff(name=name, role=role, from_config=True)
            staff.role, staff.department_code = role, code
            staff.telegram_id = str(telegram_id) if telegram_id is not None else staff.telegram_id
            staff.username = username or staff.username
            session.add(staff)
        session.commit()


@dataclass
class App:
    """The assembled hotline. Built once per process."""

    settings: Settings
    engine: Engine
    clock: Clock = utcnow
    classifier_backend: str | None = None  # overrides nlu.backend: tests pass "keywords"

    @property
    def config(self) -> HotlineConfig:
        return self.settings.config

    @cached_property
    def policy(self) -> Policy:
        return build_policy(self.config)

    @cached_property
    def classifier(self) -> Classifier:
        return build_classifier(self)

    @cached_property
    def embedder(self) -> Embedder | None:
        """nlu.encoder for similar search, loaded on first use; None (lexical search) for `none` or
        when its package is missing (one warning)."""
        from nlu.encoder import LazyEncoder, encoder_available

        name = self.config.nlu.encoder
        return LazyEncoder(name, threads=self.config.nlu.encoder_threads) if encoder_available(name) else None

    @cached_property
    def tickets(self) -> TicketService:
        similar = self.config.nlu.similar
        return TicketService(
            self.engine, self.policy, self.classifier, clock=self.clock, embedder=self.embedder,
            similar_settings=SimilarSettings(days=similar.days, duplicate_threshold={str(k): v for k, v in similar.duplicate_threshold.items()}),
        )

    @cached_property
    def notifier(self) -> Notifier:
        """The outbox's notifier: Telegram when TELEGRAM_TOKEN is set, WeChat when WECHAT_TOKEN is,
        and the web chat."""
        from hotline.notifiers import build_notifier

        env = self.settings.env
        return build_notifier(self.tickets, self.engine, self.config, env.home, env.telegram_token,
                              env.telegram_api_base_url, env.wechat)

    @cached_property
    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(self.engine, clock=self.clock, local_day=self.policy.calendar.local_day)

    @cached_property
    def kb_search(self) -> KbSearch:
        from hotline.kb_search import KbSearch
        from nlu.retrieval import Calibration

        kb = self.config.kb
        return KbSearch(self.kb, kb.encoder, Calibration(threshold=kb.threshold, margin=kb.margin), self.settings.env.home)

    def now(self) -> datetime:
        return self.clock()


def import_sample_kb(app: App) -> int:
    """The sample knowledge base (config.yml `kb.sample`) when the knowledge base is empty: a city
    sees the bot answer at once and replaces it with `hotline kb import FILE --replace`."""
    from tickets import kb_files

    if not app.config.kb.sample or app.kb.count():
        return 0
    path = Path(app.config.kb.sample)
    path = path if path.is_absolute() else PROJECT_ROOT / path
    if not path.exists():
        log.warning("sample knowledge base %s not found; the knowledge base stays empty", path)
        return 0
    return app.kb.import_rows(kb_files.read(path), actor="sample").created


def build_classifier(app: App) -> Classifier:
    """The classifier of nlu.backend (HOTLINE_NLU_BACKEND or bootstrap(classifier=) override it).

    The built-in model loads on the first message (trained first when missing); `hotline serve`
    and `hotline classify` load it at start.
    """
    from hotline.nlu_wiring import LazyPipeline, rasa_classifier

    backend = app.classifier_backend or app.settings.env.nlu_backend or app.config.nlu.backend
    if backend == "builtin":
        return LazyPipeline(app.settings)
    if backend == "rasa":
        return rasa_classifier(app.settings)  # type: ignore[no-any-return]
    return keyword_router(app.config)


def bootstrap(
    settings: Settings | None = None, clock: Clock = utcnow, migrate: bool = True, classifier: str | None = None
) -> App:
    settings = settings or load_settings()
    settings.env.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.env.database_url)
    if migrate:
        upgrade(engine)
        sync_directory(engine, settings.config)
    return App(settings=settings, engine=engine, clock=clock, classifier_backend=classifier)
