"""Builds the classifier that config.yml's `nlu.backend` names: the built-in pipeline (trained on
first use), a Rasa server's client, or the keyword router."""

from __future__ import annotations

import sys
from pathlib import Path

from hotline.settings import PROJECT_ROOT, HotlineConfig, Settings
from nlu.config import DepartmentInfo, NluSettings
from nlu.pipeline import Pipeline


def nlu_settings(config: HotlineConfig) -> NluSettings:
    from nlu.encoder import encoder_available

    nlu = config.nlu
    return NluSettings(
        encoder=nlu.encoder if encoder_available(nlu.encoder) else "none",
        encoder_threads=nlu.encoder_threads,
        type_threshold=nlu.type_threshold,
        department_threshold=nlu.department_threshold,
        max_chars=nlu.max_chars,
        keyword_prior_weight=nlu.keyword_prior_weight,
        pipeline=nlu.pipeline,
        departments=[DepartmentInfo(code=d.code, topic=d.topic, keywords=d.keywords) for d in config.departments],
    )


def model_dir(settings: Settings, override: Path | None = None) -> Path:
    return (override or settings.env.home / "models" / "nlu").resolve()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def builtin_pipeline(settings: Settings, model: Path | None = None) -> Pipeline:
    """The built-in pipeline from `model` (default HOTLINE_HOME/models/nlu), trained first if missing."""
    from nlu.train import load_or_train

    return load_or_train(nlu_settings(settings.config), PROJECT_ROOT, model_dir(settings, model), on_train=_say)


def rasa_classifier(settings: Settings):  # type: ignore[no-untyped-def]
    from nlu.rasa import RasaClassifier

    return RasaClassifier(settings.config.nlu.rasa_url, nlu_settings(settings.config), PROJECT_ROOT)


class LazyPipeline:
    """The built-in pipeline, loaded (or trained) on the first message or on `load()`, so that a
    process that never classifies (a scheduler sweep, a CLI listing) does not pay for it."""

    backend = "builtin"

    def __init__(self, settings: Settings, model: Path | None = None) -> None:
        self.settings = settings
        self.model = model
        self._pipeline: Pipeline | None = None

    def load(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = builtin_pipeline(self.settings, self.model)
        return self._pipeline

    def classify(self, text: str):  # type: ignore[no-untyped-def]
        return self.load().classify(text)

    def classify_batch(self, texts: list[str]):  # type: ignore[no-untyped-def]
        return self.load().classify_batch(texts)
