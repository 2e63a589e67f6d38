"""config.yml and the environment: a wrong key or value stops start-up, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hotline.settings import ConfigError, load_config, load_environment
from tests.conftest import PROJECT


def write_config(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_config_is_valid_and_has_the_departments_a_city_needs():
    config = load_config(PROJECT / "config.yml")
    codes = {d.code for d in config.departments}
    assert len(codes) >= 15
    assert {"housing", "environment", "transport", "education", "hrss", "health", "market", "commerce",
            "culture_tourism", "urban_mgmt", "public_security", "water", "civil_affairs", "natural_resources",
            "agriculture"} <= codes
    assert all(d.keywords and d.staff for d in config.departments)
    assert config.city.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["city"].update(timezone="Mars/Base"), "city.timezone: unknown time zone 'Mars/Base'"),
        (lambda d: d["departments"][3].update(topic="城建"), "departments.3.topic: unknown topic '城建'"),
        (lambda d: d["departments"][0].update(code="Bad Code"), "departments.0.code: String should match pattern"),
        (lambda d: d["departments"][1].update(code="housing"), "duplicate department code 'housing'"),
        (lambda d: d["time_limits"]["answer_days"].update(complaint=0), "time_limits.answer_days.complaint: Input should be greater than 0"),
        (lambda d: d["time_limits"].update(answer_dayz=3), "time_limits.answer_dayz: unknown key"),
        (lambda d: d["ranking"]["weights"].update(closure=0.9), "ranking.weights: weights must sum to 1"),
        (lambda d: d["nlu"].update(backend="gpt"), "nlu.backend: Input should be 'builtin', 'rasa' or 'keywords'"),
        (lambda d: d["scheduler"].update(weekly_report="monday 9am"), "scheduler.weekly_report: expected a weekday and a time"),
        (lambda d: d.pop("departments"), "departments: required key is missing"),
        (lambda d: d["privacy"].update(retention_days=7), "privacy.retention_days: Input should be greater than or equal to 30"),
        (lambda d: d["privacy"].update(retention_days="two years"), "privacy.retention_days: Input should be a valid integer"),
        (lambda d: d["departments"][2]["staff"][0].update(role="boss"), "departments.2.staff.0.role: Input should be 'staff' or 'head'"),
    ],
)
def test_bad_config_names_the_key(tmp_path, change, expected):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, change))
    assert expected in str(info.value)
    assert str(info.value).startswith("config.yml: ")


def test_unreadable_config_says_what_is_wrong(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("city: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_environment_picks_database_and_home(tmp_path):
    env = load_environment({"HOTLINE_HOME": str(tmp_path)})
    assert env.database_url == f"sqlite:///{tmp_path / 'hotline.db'}"
    pg = load_environment({"DATABASE_URL": "postgresql://u:p@db/hotline"})
    assert pg.database_url == "postgresql+psycopg://u:p@db/hotline"
    assert pg.telegram_api_base_url == "https://api.telegram.org/bot"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL: expected sqlite"),
        ({"TELEGRAM_TOKEN": "not-a-token"}, "TELEGRAM_TOKEN: expected a bot token"),
        ({"HOTLINE_SECRET_KEY": "changeme"}, "HOTLINE_SECRET_KEY"),
    ],
)
def test_bad_environment_names_the_variable(environ, expected):
    with pytest.raises(ConfigError, match=expected):
        load_environment(environ)
