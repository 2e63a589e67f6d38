"""The Rasa backend against a real Rasa server (scripts/rasa/up.sh; .ci/run starts one)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from hotline.bootstrap import App, bootstrap
from hotline.nlu_wiring import nlu_settings
from hotline.settings import load_config
from nlu.config import TYPES
from nlu.rasa import RasaClassifier
from tests.conftest import make_settings

pytestmark = pytest.mark.rasa
PROJECT = Path(__file__).resolve().parent.parent
CONFIG = load_config(PROJECT / "config.yml")


def _python310() -> bool:
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    return bool(shutil.which("python3.10")) or any(pyenv.glob("3.10*/bin/python3.10"))


@pytest.fixture(scope="module")
def rasa() -> RasaClassifier:
    required = os.environ.get("HOTLINE_REQUIRE_RASA") == "1"
    if not _python310() and not required:
        pytest.skip("Rasa tests skipped: no Python 3.10 on this machine (Rasa 3.6 needs Python < 3.11)")
    classifier = RasaClassifier(CONFIG.nlu.rasa_url, nlu_settings(CONFIG), PROJECT)
    try:
        classifier.status()
    except httpx.HTTPError as err:
        if required:
            pytest.fail(f"HOTLINE_REQUIRE_RASA=1 but no Rasa server answers at {classifier.url}: {err}")
        pytest.skip(f"Rasa tests skipped: no server at {classifier.url} (start one with scripts/rasa/up.sh)")
    return classifier


def test_rasa_server_answers_with_a_type_and_a_configured_department(rasa: RasaClassifier) -> None:
    prediction = rasa.classify("投诉小区物业乱收费，业委会也不管，开发商交房后房屋漏水")
    assert prediction.type in TYPES and prediction.backend == "rasa"
    assert prediction.department in {d.code for d in CONFIG.departments}
    assert prediction.topic == next(d.topic for d in CONFIG.departments if d.code == prediction.department)
    assert sum(prediction.type_scores.values()) == pytest.approx(1, abs=0.02)


def test_rasa_backend_keeps_entities_urgency_and_review_for_empty_text(rasa: RasaClassifier) -> None:
    prediction = rasa.classify("我家楼下着火了，电话13812345678")
    assert prediction.urgent and [e["label"] for e in prediction.entities] == ["phone"]
    empty = rasa.classify("   ")
    assert empty.needs_review and empty.department is None


def test_nlu_backend_rasa_routes_intake_through_the_server(rasa: RasaClassifier, tmp_path: Path, sqlite_url: str) -> None:
    app: App = bootstrap(make_settings(tmp_path, sqlite_url, HOTLINE_NLU_BACKEND="rasa"))
    try:
        assert isinstance(app.classifier, RasaClassifier)
        assert app.classifier.classify("请问公租房怎么申请").type in TYPES
    finally:
        app.engine.dispose()
