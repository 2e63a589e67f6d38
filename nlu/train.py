"""Training: project data (and a city's CSV history) → NluModel, with progress callbacks."""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from nlu.config import NluSettings
from nlu.data import Example, load_project_examples
from nlu.encoder import CachedEncoder, load_encoder
from nlu.model import FORMAT_VERSION, Features, Head, NluModel
from nlu.normalise import normalise
from nlu.pipeline import PROBE, Pipeline, resolve
from nlu.tokenizer import Segmenter

Step = Callable[[str, int], None]  # (description, advance by) for a progress bar
TRAIN_STEPS = 6


def _noop(_description: str, _advance: int) -> None:
    return None


def _from_history(example: Example) -> bool:
    return example.source.endswith(".csv")


def train_model(examples: Sequence[Example], settings: NluSettings, root: Path, step: Step = _noop) -> NluModel:
    config = settings.pipeline
    topic_of = {d.code: d.topic for d in settings.departments}
    known = set(topic_of)
    step("normalising", 0)
    texts = [normalise(e.text, config.train_max_chars, config.normalise.traditional_to_simplified) for e in examples]
    keep = [i for i, t in enumerate(texts) if t]
    step("segmenting with jieba", 1)
    segmenter = Segmenter(resolve(config.tokenizer.user_dict, root), config.tokenizer.hmm)
    tokens = {i: segmenter.words(texts[i][: config.segment_chars]) for i in keep}
    step("building features", 1)
    features = Features(config.features).fit([texts[i] for i in keep], [tokens[i] for i in keep])
    # Every head reads rows of the same matrix: transform the training texts once.
    X_all = features.transform([texts[i] for i in keep], [tokens[i] for i in keep])
    row_of = {i: row for row, i in enumerate(keep)}
    encoder = load_encoder(settings.heads_encoder, settings.encoder_threads) if settings.heads_encoder != "none" else None
    vectors: np.ndarray | None = None
    if encoder is not None:
        step(f"encoding {len(keep)} texts with {encoder.name}", 0)
        vectors = encoder.encode([texts[i] for i in keep])

    def labelled(label_of: Callable[[Example], str | None]) -> tuple[list[int], list[str]]:
        rows = [(i, label_of(examples[i])) for i in keep]
        pairs = [(i, label) for i, label in rows if label]
        return [i for i, _ in pairs], [label for _, label in pairs]

    def fit(head: Head, label_of: Callable[[Example], str | None], name: str) -> Head:
        rows, labels = labelled(label_of)
        if len(set(labels)) < 2:
            raise ValueError(f"cannot train the {name} classifier: it needs examples of at least two classes")
        X = X_all[[row_of[i] for i in rows]]
        # A city may weigh its own history (--from-csv) above the project data.
        weights = np.array([config.history_weight if _from_history(examples[i]) else 1.0 for i in rows])
        dense = vectors[[row_of[i] for i in rows]] if vectors is not None else None
        return head.fit(features.select(X, head.config.inputs), labels, weights, dense)

    step("training the type classifier", 1)
    type_head = fit(Head(config.type_classifier), lambda e: e.type, "type")
    step("training the department classifier", 1)
    department_head = fit(
        Head(config.department_classifier), lambda e: e.department if e.department in known else None, "department"
    )
    step("training the topic classifier", 1)
    # A city's labelled history names the topics it files under: its scheme is the authority, so
    # the project's examples of other topics would only pull predictions outside it.
    # One topic cannot train a head on its own: the project's topics then stay.
    city_topics = {e.topic for e in examples if e.topic and _from_history(e)}
    if len(city_topics) < 2:
        city_topics = set()

    def topic_of_example(e: Example) -> str | None:
        topic = e.topic or topic_of.get(e.department or "")
        return topic if not city_topics or topic in city_topics else None

    topic_head = fit(Head(config.topic_classifier), topic_of_example, "topic")
    step("done", 1)
    meta = {
        "format": FORMAT_VERSION,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(keep),
        "types": dict(Counter(e.type for e in examples if e.type)),
        "departments": dict(Counter(e.department for e in examples if e.department)),
        "sources": dict(Counter(e.source for e in examples)),
        "python": platform.python_version(),
        "scikit_learn": sklearn.__version__,
        "pipeline": config.model_dump(mode="json"),
        **encoder_meta(encoder),
    }
    return NluModel(features, type_head, department_head, topic_head, meta)


def encoder_meta(encoder: CachedEncoder | None) -> dict[str, Any]:
    """Which encoder the heads read, and its vector of a fixed text: a package that changed its
    weights would give other vectors than the heads learnt from (checked when the model loads)."""
    if encoder is None:
        return {"encoder": "none"}
    return {"encoder": encoder.name, "encoder_dim": encoder.dim,
            "encoder_probe": [round(float(v), 5) for v in encoder.encode([PROBE])[0][:16]]}


def train_default(settings: NluSettings, root: Path, extra: Sequence[Example] = (), step: Step = _noop) -> NluModel:
    data_dir = resolve(settings.pipeline.data_dir, root)
    assert data_dir is not None
    examples = load_project_examples(data_dir, [d.code for d in settings.departments]) + list(extra)
    if not examples:
        raise ValueError(f"no training examples under {data_dir} (expected data/nlu/*.yml in Rasa NLU format)")
    return train_model(examples, settings, root, step)


def load_or_train(settings: NluSettings, root: Path, directory: Path, on_train: Callable[[str], None] | None = None) -> Pipeline:
    """The pipeline of the model in `directory`, trained from the project's data first if missing."""
    if not NluModel.exists(directory):
        if on_train:
            on_train(f"no NLU model in {directory}: training one from {settings.pipeline.data_dir}/ (about a minute)…")
        train_default(settings, root).save(directory)
    model = NluModel.load(directory)
    if model.encoder != settings.heads_encoder:
        # nlu.encoder changed, or its package is gone: the heads must read what the process can give.
        if on_train:
            on_train(f"the NLU model in {directory} reads encoder {model.encoder!r}, config has "
                     f"{settings.heads_encoder!r}: retraining (about a minute)…")
        model = train_default(settings, root)
        model.save(directory)
    return Pipeline(settings, model, root)
