"""config.yml and the environment, typed and validated once at start-up.

Nothing else in the project reads os.environ or config.yml. A bad key or value raises
ConfigError naming the key (e.g. "departments.3.topic: ...").
"""

from __future__ import annotations

import ipaddress
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
    callback_attempts: int = Field(3, ge=1)  # 电话回访: unanswered calls before the ticket closes unrated
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


def weekday_and_time(value: str, example: str) -> str:
    """A weekly moment as config.yml writes it ('mon 09:00'), or an error that shows one."""
    if not re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"expected a weekday and a time such as '{example}', got {value!r}")
    return value


class LearningConfig(Strict):
    """The weekly challenger (hotline/learning.py): trained on the corrections the centre made,
    promoted only if it beats the current model on the most recent of them, held out."""

    enabled: bool = True
    schedule: str = "sun 03:00"  # weekday and time in the city's zone
    min_corrections: int = Field(20, ge=2)  # fewer say too little to judge a challenger on
    holdout_share: float = Field(0.2, gt=0, lt=1)  # the most recent corrections, kept for judging
    min_gain: float = Field(0.0, ge=0, le=1)  # how much better it must agree than the current model

    @field_validator("schedule")
    @classmethod
    def _day_and_time(cls, value: str) -> str:
        return weekday_and_time(value, "sun 03:00")


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
    learning: LearningConfig = LearningConfig()


class BotConfig(Strict):
    flood_limit_per_minute: int = Field(10, ge=1)
    max_message_chars: int = Field(5000, ge=100)
    # WeChat drops a passive reply after 5 s; a slower answer is sent as a customer-service message.
    wechat_reply_seconds: float = Field(4.0, ge=0, le=4.5)


class ChatFloodConfig(Strict):
    """Web chat limits over every cookie, counted in the database so that every worker shares them."""

    per_address_per_minute: int = Field(60, ge=1)  # messages (text, commands, photos) from one address
    overall_per_minute: int = Field(600, ge=1)  # every event of every citizen together
    photos_per_address_per_hour: int = Field(20, ge=1)
    max_photo_mb: float = Field(10, gt=0, le=50)


class LoginConfig(Strict):
    """Wrong passwords allowed per account and per address within `window_minutes`, then a wait."""

    failures_per_account: int = Field(5, ge=1)
    failures_per_address: int = Field(20, ge=1)
    window_minutes: int = Field(15, ge=1)
    idle_minutes: int = Field(120, ge=5)  # a staff session unused this long ends
    absolute_hours: int = Field(12, ge=1)  # and every session ends this long after its login


class UploadsConfig(Strict):
    keep_days_after_close: int = Field(180, ge=1)  # a closed ticket's photos are deleted this long after closing
    orphan_hours: int = Field(24, ge=1)  # a photo no ticket took is deleted after this long


class WebConfig(Strict):
    trusted_proxies: list[str] = []  # addresses or networks (CIDR) whose X-Forwarded-For is believed
    chat: ChatFloodConfig = ChatFloodConfig()
    login: LoginConfig = LoginConfig()
    uploads: UploadsConfig = UploadsConfig()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as err:
                raise ValueError(f"{item!r} is not an IP address or network such as 10.0.0.0/8") from err
        return value


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
    deliver_claim_seconds: int = Field(60, ge=2, le=3600)  # a killed deliverer's batch waits this long (tickets/delivery.py)
    leader_retry_seconds: float = Field(10, gt=0, le=50)  # how often a standby process tries to lead (hotline/leader.py)

    @field_validator("weekly_report")
    @classmethod
    def _day_and_time(cls, value: str) -> str:
        return weekday_and_time(value, "mon 09:00")


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


class PrivacyConfig(Strict):
    """个人信息保护: how long a finished ticket keeps its personal data, and when the job runs."""

    retention_days: int = Field(730, ge=30, le=3650)  # after 办结 (or 无效 / 并单); then anonymised
    anonymise_hour: int = Field(2, ge=0, le=23)  # local hour of the nightly retention job


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


class KbConfig(Strict):
    """The knowledge base (知识库): search and its calibration (docs/DESIGN.md, knowledge base)."""

    enabled: bool = True                  # the bot answers consultations from it
    encoder: Literal["e5", "use", "none"] = "e5"
    threshold: float = Field(0.915, ge=0, le=2)  # fused score a confident answer reaches
    margin: float = Field(0.01, ge=0, le=1)       # and its lead over the next entry
    expiry_notice_days: int = Field(14, ge=1, le=365)
    sample: str = "data/kb/sample.csv"    # imported on first start when the knowledge base is empty ("" = never)


class HotlineConfig(Strict):
    city: City = City()
    calendar: CalendarConfig = CalendarConfig()
    time_limits: TimeLimitsConfig = TimeLimitsConfig()
    ranking: Ranking = Ranking()
    nlu: NluConfig = NluConfig()
    bot: BotConfig = BotConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    publication: PublicationConfig = PublicationConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    web: WebConfig = WebConfig()
    kb: KbConfig = KbConfig()
    dispatchers: list[Person] = []
    leaders: list[Person] = []
    operators: list[Person] = []  # 话务员: take calls at /desk, make phone callbacks
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


class WeChatEnvironment(Strict):
    token: str
    appid: str
    secret: str
    aes_key: str | None = None  # EncodingAESKey: safe (encrypted) mode
    api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"


class Environment(Strict):
    """What comes from the environment: secrets and places, never from config.yml."""

    home: Path
    database_url: str
    telegram_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    secret_key: str | None = None
    config_path: Path = DEFAULT_CONFIG
    nlu_backend: Literal["builtin", "rasa", "keywords"] | None = None  # HOTLINE_NLU_BACKEND overrides nlu.backend
    wechat: WeChatEnvironment | None = None  # WECHAT_TOKEN turns the WeChat Official Account channel on


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
        wechat=_wechat(env),
    )


def _wechat(env: dict[str, str]) -> WeChatEnvironment | None:
    """The WeChat channel's settings when WECHAT_TOKEN is set; its other keys are then required
    (without APPID and SECRET no department's answer could reach the citizen)."""
    token = env.get("WECHAT_TOKEN") or None
    if token is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9]{3,32}", token):
        raise ConfigError("WECHAT_TOKEN: expected the 3-32 letters and digits entered as Token in the "
                          "Official Account's server settings")
    appid, secret = env.get("WECHAT_APPID") or "", env.get("WECHAT_SECRET") or ""
    if not re.fullmatch(r"wx[0-9a-f]{16}", appid):
        raise ConfigError("WECHAT_APPID: required with WECHAT_TOKEN; expected the AppID such as wx0123456789abcdef")
    if not re.fullmatch(r"[0-9a-zA-Z]{16,64}", secret):
        raise ConfigError("WECHAT_SECRET: required with WECHAT_TOKEN; expected the AppSecret (32 letters and digits)")
    aes_key = env.get("WECHAT_AES_KEY") or None
    if aes_key is not None and not re.fullmatch(r"[A-Za-z0-9+/]{43}", aes_key):
        raise ConfigError("WECHAT_AES_KEY: expected the 43-character EncodingAESKey of safe mode")
    base_url = env.get("WECHAT_API_BASE_URL") or "https://api.weixin.qq.com/cgi-bin/"
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"WECHAT_API_BASE_URL: expected an http(s) URL, got {base_url!r}")
    return WeChatEnvironment(token=token, appid=appid, secret=secret, aes_key=aes_key,
                             api_base_url=base_url.rstrip("/") + "/")


def _nlu_backend(value: str | None) -> Literal["builtin", "rasa", "keywords"] | None:
    if not value:
        return None
    if value not in ("builtin", "rasa", "keywords"):
        raise ConfigError(f"HOTLINE_NLU_BACKEND: expected builtin, rasa or keywords, got {value!r}")
    return value  # type: ignore[return-value]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = load_environment(environ)
    return Settings(config=load_config(env.config_path), env=env)
