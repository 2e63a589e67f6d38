"""config.yml and the environment, typed and validated once at start-up.

Nothing else in the project reads os.environ or config.yml. A bad key or value raises
ConfigError naming the key (e.g. "departments.3.topic: ...").
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nlu.config import EncoderName, PipelineConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yml"
TICKET_TYPES = ("consultation", "complaint", "suggestion")
TOPICS = (
    "城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生",
    "党务政务", "农村农业", "国土资源", "政法", "民政", "科技与信息产业", "纪检监察", "经济管理",
)


class ConfigError(Exception):
    """config.yml or the environment is wrong; the message names the key."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class City(Strict):
    name: str = "示例市"
    timezone: str = "Asia/Shanghai"
    hotline_number: str = "12345"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r} (expected an IANA name such as Asia/Shanghai)") from err
        return value


class CalendarConfig(Strict):
    use_chinese_calendar: bool = True
    extra_holidays: list[date] = []
    extra_workdays: list[date] = []


class AnswerDays(Strict):
    consultation: float = Field(1, gt=0)
    complaint: float = Field(5, gt=0)
    suggestion: float = Field(15, gt=0)


class DepartmentAnswerDays(Strict):
    consultation: float | None = Field(None, gt=0)
    complaint: float | None = Field(None, gt=0)
    suggestion: float | None = Field(None, gt=0)


class TimeLimitsConfig(Strict):
    accept_days: float = Field(1, gt=0)
    answer_days: AnswerDays = AnswerDays()
    callback_days: float = Field(3, gt=0)
    max_extension_days: int = Field(10, ge=1)


class RankingWeights(Strict):
    response: float = Field(0.10, ge=0, le=1)
    closure: float = Field(0.45, ge=0, le=1)
    satisfaction: float = Field(0.45, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> RankingWeights:
        total = self.response + self.closure + self.satisfaction
        if abs(total - 1) > 1e-6:
            raise ValueError(f"weights must sum to 1, they sum to {total:g}")
        return self


class Ranking(Strict):
    weights: RankingWeights = RankingWeights()
    bottom: int = Field(3, ge=0)


class SimilarConfig(Strict):
    """Similar-message search (tickets/similar.py)."""

    days: int = Field(30, ge=1)  # open tickets created in the last N days are candidates
    # Cosine at or above which a candidate is flagged a duplicate, per encoder (`none`: the lexical
    # fallback). Calibrated on tests/data/paraphrases.yml: each encoder's scores live on their own scale.
    duplicate_threshold: dict[EncoderName, float] = {"use": 0.62, "e5": 0.93, "none": 0.19}
    # Hot issues: two groups whose tickets' mean vectors are at least this close are one issue.
    hot_threshold: dict[Literal["use", "e5"], float] = {"use": 0.55, "e5": 0.935}


class NluConfig(Strict):
    backend: Literal["builtin", "rasa", "keywords"] = "builtin"
    # The sentence encoder for similar search and the classifier's meaning features (nlu/encoder.py);
    # where its package cannot be imported the hotline runs as `none`, with one warning.
    encoder: EncoderName = "use"
    # 1: measured on a loaded 2-core host, USE with 2 threads was 6-17x slower than with 1 (it spins
    # while waiting); the server runs many requests side by side anyway.
    encoder_threads: int = Field(1, ge=1, le=64)
    similar: SimilarConfig = SimilarConfig()
    rasa_url: str = "http://127.0.0.1:5005"
    type_threshold: float = Field(0.45, ge=0, le=1)
    department_threshold: float = Field(0.35, ge=0, le=1)
    max_chars: int = Field(2000, ge=50)
    keyword_prior_weight: float = Field(0.3, ge=0, le=1)
    pipeline: PipelineConfig = PipelineConfig()  # nlu/config.py documents every key and its default


class BotConfig(Strict):
    flood_limit_per_minute: int = Field(10, ge=1)
    max_message_chars: int = Field(5000, ge=100)


class SchedulerConfig(Strict):
    enabled: bool = True
    sweep_minutes: int = Field(5, ge=1)
    escalate_every_days: int = Field(2, ge=1)
    digest_hour: int = Field(9, ge=0, le=23)
    weekly_report: str = "mon 09:00"
    snapshot_hour: int = Field(1, ge=0, le=23)
    deliver_seconds: int = Field(10, ge=1, le=3600)  # how often the outbox is delivered
    answer_reminder_days: float = Field(1, gt=0)  # remind a department this many working days before its deadline
    callback_after_hours: float = Field(24, ge=0)  # the 回访 asks the citizen to rate this long after the answer
    misfire_grace_minutes: int = Field(60, ge=1)  # a job missed by longer than this (downtime) is skipped

    @field_validator("weekly_report")
    @classmethod
    def _day_and_time(cls, value: str) -> str:
        if not re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"expected a weekday and a time such as 'mon 09:00', got {value!r}")
        return value


class SensitiveKindConfig(Strict):
    """Tickets /public never shows: of `departments` (any, if empty) with one of `words` (any, if empty)."""

    name: str = Field(min_length=1)
    departments: list[str] = []
    words: list[str] = []

    @model_validator(mode="after")
    def _something_to_match(self) -> SensitiveKindConfig:
        if not self.departments and not self.words:
            raise ValueError(f"{self.name}: give departments, words or both (an empty kind would hide everything)")
        return self


class PublicationConfig(Strict):
    cases_per_week: int = Field(30, ge=0, le=200)
    excerpt_chars: int = Field(60, ge=10, le=500)
    answer_chars: int = Field(120, ge=10, le=1000)
    sensitive: list[SensitiveKindConfig] = []


class Person(Strict):
    name: str
    telegram_id: int | None = None
    username: str | None = None


class StaffMember(Person):
    role: Literal["staff", "head"] = "staff"


class DepartmentConfig(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    name: str = Field(min_length=2)
    topic: str
    scope: str = ""
    keywords: list[str] = []
    chat_id: int | None = None  # a Telegram group of the department, if it has one
    answer_days: DepartmentAnswerDays = DepartmentAnswerDays()
    staff: list[StaffMember] = []

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"unknown topic {value!r}; expected a first-level topic: {', '.join(TOPICS)}")
        return value


class HotlineConfig(Strict):
    city: City = City()
    calendar: CalendarConfig = CalendarConfig()
    time_limits: TimeLimitsConfig = TimeLimitsConfig()
    ranking: Ranking = Ranking()
    nlu: NluConfig = NluConfig()
    bot: BotConfig = BotConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    publication: PublicationConfig = PublicationConfig()
    dispatchers: list[Person] = []
    leaders: list[Person] = []
    departments: list[DepartmentConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> HotlineConfig:
        seen: set[str] = set()
        for index, department in enumerate(self.departments):
            if department.code in seen:
                raise ValueError(f"departments.{index}.code: duplicate department code {department.code!r}")
            seen.add(department.code)
        for index, kind in enumerate(self.publication.sensitive):
            unknown = [code for code in kind.departments if code not in seen]
            if unknown:
                raise ValueError(f"publication.sensitive.{index}.departments: unknown department {unknown[0]!r}")
        return self

    def department(self, code: str) -> DepartmentConfig | None:
        return next((d for d in self.departments if d.code == code), None)


class Environment(Strict):
    """What comes from the environment: secrets and places, never from config.yml."""

    home: Path
    database_url: str
    telegram_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    secret_key: str | None = None
    config_path: Path = DEFAULT_CONFIG
    nlu_backend: Literal["builtin", "rasa", "keywords"] | None = None  # HOTLINE_NLU_BACKEND overrides nlu.backend


class Settings(Strict):
    config: HotlineConfig
    env: Environment


def _format(err: ValidationError, source: str) -> str:
    lines = []
    for problem in err.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see config.yml's comments for the keys)"
        elif problem["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{source}: {key}: {message}")
    return "\n".join(lines)


def load_config(path: Path) -> HotlineConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: file not found (set HOTLINE_CONFIG or run from the project folder)") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    try:
        return HotlineConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format(err, path.name)) from err


def load_environment(environ: dict[str, str] | None = None) -> Environment:
    env = dict(os.environ if environ is None else environ)
    home = Path(env.get("HOTLINE_HOME") or PROJECT_ROOT / "var").resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{home / 'hotline.db'}"
    if not database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ConfigError(f"DATABASE_URL: expected sqlite:///PATH or postgresql://..., got {database_url.split(':')[0]}:…")
    if database_url.startswith("postgres:"):
        database_url = "postgresql" + database_url.removeprefix("postgres")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    secret = env.get("HOTLINE_SECRET_KEY")
    if secret is not None and (len(secret) < 16 or secret.lower() in {"changeme", "secret", "changethis"}):
        raise ConfigError("HOTLINE_SECRET_KEY: use at least 16 random characters, not a placeholder")
    token = env.get("TELEGRAM_TOKEN") or None
    if token is not None and not re.fullmatch(r"\d+:[\w-]{10,}", token):
        raise ConfigError("TELEGRAM_TOKEN: expected a bot token such as 123456:ABC-DEF... from @BotFather")
    return Environment(
        home=home,
        database_url=database_url,
        telegram_token=token,
        telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org/bot",
        secret_key=secret,
        config_path=Path(env.get("HOTLINE_CONFIG") or DEFAULT_CONFIG),
        nlu_backend=_nlu_backend(env.get("HOTLINE_NLU_BACKEND")),
    )


def _nlu_backend(value: str | None) -> Literal["builtin", "rasa", "keywords"] | None:
    if not value:
        return None
    if value not in ("builtin", "rasa", "keywords"):
        raise ConfigError(f"HOTLINE_NLU_BACKEND: expected builtin, rasa or keywords, got {value!r}")
    return value  # type: ignore[return-value]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = load_environment(environ)
    return Settings(config=load_config(env.config_path), env=env)
