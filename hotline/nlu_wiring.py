"""Builds the classifier that config.yml's `nlu.backend` names: the built-in pipeline (trained on
first use), a Rasa server's client, or the keyword router."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from hotline.settings import PROJECT_ROOT, HotlineConfig, Settings
from nlu.config import DepartmentInfo, NluSettings
from nlu.pipeline import Pipeline
from nlu.versions import ModelRegistry

# How often a running process looks for a newly promoted model: a file's stat, so it costs nothing.
POLL_SECONDS = 5.0


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


def registry(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings.env.home / "models")


def model_dir(settings: Settings, override: Path | None = None) -> Path:
    """`--model DIR` when given (that one model, outside the versions), else the current version."""
    return (override or registry(settings).current_dir()).resolve()


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
    process that never classifies (a scheduler sweep, a CLI listing) does not pay for it. Without a
    fixed `model` folder it follows the registry's current version: a model promoted by another
    process (the weekly challenger, `hotline nlu use`) is loaded on the next message after the poll."""

    backend = "builtin"

    def __init__(self, settings: Settings, model: Path | None = None) -> None:
        self.settings = settings
        self.model = model
        self._pipeline: Pipeline | None = None
        self._stamp: tuple[str, float] | None = None
        self._next_poll = 0.0
        self._lock = threading.Lock()

    def _changed(self) -> bool:
        if self.model is not None or time.monotonic() < self._next_poll:
            return False
        self._next_poll = time.monotonic() + POLL_SECONDS
        return registry(self.settings).stamp() != self._stamp

    @property
    def loaded(self) -> bool:
        return self._pipeline is not None

    def load(self) -> Pipeline:
        pipeline = self._pipeline
        if pipeline is not None and not self._changed():
            return pipeline
        with self._lock:  # one load at a time; the others keep answering with the model they have
            if self._pipeline is None or (self.model is None and registry(self.settings).stamp() != self._stamp):
                stamp = registry(self.settings).stamp()
                self._pipeline = builtin_pipeline(self.settings, self.model)
                self._stamp = stamp if self.model is None else None
            return self._pipeline

    def classify(self, text: str):  # type: ignore[no-untyped-def]
        return self.load().classify(text)

    def classify_batch(self, texts: list[str]):  # type: ignore[no-untyped-def]
        return self.load().classify_batch(texts)
