"""`hotline doctor`: is this installation ready to serve? Configuration, database, schema version,
NLU model, Chinese fonts and the Telegram token, each checked without changing anything (it does
not migrate, train or set a webhook). Exit 1 when any check fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import typer
from sqlalchemy import text

from hotline.bootstrap import App, bootstrap
from hotline.cli.common import FORMAT_OPTION, Format, emit_json
from hotline.settings import ConfigError, load_settings

OK, WARN, FAIL = "ok", "warn", "fail"
MARKS = {OK: "[ OK ]", WARN: "[WARN]", FAIL: "[FAIL]"}


@dataclass
class Check:
    name: str  # 中文 / English
    status: str
    detail: str


def check_database(app: App) -> Check:
    try:
        with app.engine.connect() as connection:
            version = connection.execute(text("SELECT version()" if app.engine.dialect.name == "postgresql"
                                              else "SELECT 'SQLite ' || sqlite_version()")).scalar()
    except Exception as err:  # noqa: BLE001 - whatever the driver raises, the database is not usable
        return Check("数据库 database", FAIL, f"无法连接 cannot connect: {type(err).__name__}: {str(err).splitlines()[0]}")
    where = app.engine.url.render_as_string(hide_password=True)
    return Check("数据库 database", OK, f"{where} ({str(version).split(' on ')[0]})")


def check_schema(app: App) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from hotline.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(str(app.engine.url))).get_current_head()
    try:
        with app.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as err:  # noqa: BLE001
        return Check("数据库结构 schema", FAIL, f"无法读取 cannot read: {type(err).__name__}")
    if current == head:
        return Check("数据库结构 schema", OK, f"最新 up to date ({head})")
    return Check("数据库结构 schema", FAIL, f"版本 {current or '空 empty'} ≠ {head}: 请运行 run `hotline init`")


def check_model(app: App) -> Check:
    backend = app.settings.env.nlu_backend or app.config.nlu.backend
    if backend == "keywords":
        return Check("模型 NLU model", OK, "关键词路由，无需模型 keyword router, no model needed")
    if backend == "rasa":
        url = app.config.nlu.rasa_url
        try:
            httpx.get(url, timeout=5).raise_for_status()
        except httpx.HTTPError as err:
            return Check("模型 NLU model", FAIL, f"Rasa 服务不可用 Rasa server at {url} unreachable: {type(err).__name__}")
        return Check("模型 NLU model", OK, f"Rasa {url}")
    from hotline.nlu_wiring import model_dir
    from nlu.model import NluModel

    directory = model_dir(app.settings)
    if not NluModel.exists(directory):
        return Check("模型 NLU model", FAIL, f"{directory} 无模型 no model: 请运行 run `hotline nlu train`")
    try:
        NluModel.load(directory)
    except Exception as err:  # noqa: BLE001 - a broken or outdated model file
        return Check("模型 NLU model", FAIL, f"{directory} 无法加载 cannot load: {err}")
    return Check("模型 NLU model", OK, str(directory))


def check_fonts(_: App) -> Check:
    from hotline.charts import FontMissing, cjk_font

    try:
        return Check("中文字体 fonts", OK, cjk_font())
    except FontMissing as err:
        return Check("中文字体 fonts", FAIL, f"缺少中文字体，周报图表无法显示 {err}")


def check_telegram(app: App) -> Check:
    env = app.settings.env
    if not env.telegram_token:
        return Check("Telegram", WARN, "未设置 TELEGRAM_TOKEN not set: 仅网页聊天 web chat only")
    try:
        answer = httpx.get(f"{env.telegram_api_base_url}{env.telegram_token}/getMe", timeout=10)
    except httpx.HTTPError as err:
        return Check("Telegram", FAIL, f"无法连接 Bot API unreachable: {type(err).__name__}")
    if answer.status_code == 401:
        return Check("Telegram", FAIL, "令牌无效 TELEGRAM_TOKEN rejected (401 Unauthorized)")
    try:
        bot = answer.json()["result"]["username"]
    except (ValueError, KeyError, TypeError):
        return Check("Telegram", FAIL, f"Bot API 回答异常 unexpected answer ({answer.status_code})")
    return Check("Telegram", OK, f"@{bot}")


CHECKS: list[Callable[[App], Check]] = [check_database, check_schema, check_model, check_fonts, check_telegram]


def run_checks() -> list[Check]:
    try:
        settings = load_settings()
    except ConfigError as err:
        return [Check("配置 configuration", FAIL, str(err))]
    checks = [Check("配置 configuration", OK, f"{settings.config.city.name}, {len(settings.config.departments)} 个部门 departments")]
    app = bootstrap(settings, migrate=False)
    try:
        database = check_database(app)
        checks.append(database)
        for check in CHECKS[1:]:
            if check is check_schema and database.status == FAIL:
                continue
            checks.append(check(app))
    finally:
        app.engine.dispose()
    return checks


def doctor(fmt: Format = FORMAT_OPTION) -> None:
    """Check the configuration, database, schema version, NLU model, fonts and Telegram token (exit 1 on failure)."""
    checks = run_checks()
    failed = [c for c in checks if c.status == FAIL]
    if fmt is Format.json:
        emit_json({"ok": not failed, "checks": [c.__dict__ for c in checks]})
    else:
        for c in checks:
            typer.echo(f"{MARKS[c.status]} {c.name}: {c.detail}")
        typer.echo(f"{len(failed)} 项失败 failed" if failed else "一切正常 all good")
    if failed:
        raise typer.Exit(1)
