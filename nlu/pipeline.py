"""The built-in pipeline: normalise → segment (spaCy zh + jieba) → features → type, department and
topic heads → keyword prior → thresholds; entities and the emergency check run beside it."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlu.config import TYPES, NluSettings
from nlu.encoder import CachedEncoder, load_encoder
from nlu.entities import extract_entities
from nlu.keywords import KeywordPrior
from nlu.model import NluModel
from nlu.normalise import normalise
from nlu.prediction import NluPrediction
from nlu.tokenizer import Segmenter
from nlu.urgent import UrgentDetector

log = logging.getLogger(__name__)
# A fixed text whose vector a model records at training (nlu.train.encoder_meta) and checks at load.
PROBE = "市长热线：小区门口垃圾三天没人清运"
_READABLE = re.compile(r"[\u4e00-\u9fff]")


def resolve(path: str | None, root: Path) -> Path | None:
    if not path:
        return None
    candidate = Path(path)
    return candidate if candidate.is_absolute() else root / candidate


class Pipeline:
    """Classifies messages with a trained NluModel. Thread-safe for reading; build once per process."""

    backend = "builtin"

    def __init__(self, settings: NluSettings, model: NluModel, root: Path) -> None:
        self.settings = settings
        self.model = model
        config = settings.pipeline
        # Segmentation is part of the model: read it as the model was trained (models older than these
        # settings segmented everything they classified, with jieba's HMM on).
        trained = model.meta.get("pipeline") or {}
        hmm = bool((trained.get("tokenizer") or {}).get("hmm", True))
        self.segment_chars = int(trained.get("segment_chars", config.classify_chars))
        self.segmenter = Segmenter(resolve(config.tokenizer.user_dict, root), hmm)
        urgent_path = resolve(config.urgent_lexicon, root)
        self.urgent = UrgentDetector.from_file(urgent_path) if urgent_path and urgent_path.exists() else UrgentDetector([])
        departments = [d for d in settings.departments if d.code in model.department_head.classes]
        self.topic_of = {d.code: d.topic for d in settings.departments}
        self.prior = KeywordPrior(departments)
        dep_classes = model.department_head.classes
        self._prior_index = [dep_classes.index(code) for code in self.prior.codes]
        self._cue_words = {t: getattr(config.type_cues, t) for t in TYPES}
        self.encoder = self._load_encoder(model, settings.encoder_threads)

    @staticmethod
    def _load_encoder(model: NluModel, threads: int) -> CachedEncoder | None:
        """The encoder the model's heads were trained with, checked on the probe text it recorded."""
        if model.encoder == "none":
            return None
        encoder = load_encoder(model.encoder, threads)
        if encoder is None:
            raise ValueError(f"the NLU model reads {model.encoder!r} vectors but that encoder cannot be loaded; "
                             "retrain with `hotline nlu train`")
        probe = model.meta.get("encoder_probe")
        if probe and not np.allclose(encoder.encode([PROBE])[0][: len(probe)], probe, atol=2e-3):
            log.warning("encoder %r gives other vectors than when the NLU model was trained (a package "
                        "update?): retrain with `hotline nlu train`", model.encoder)
        return encoder

    # -- steps -------------------------------------------------------------------------------
    def prepare(self, text: str) -> str:
        limit = min(self.settings.max_chars, self.settings.pipeline.classify_chars)
        return normalise(text, limit, self.settings.pipeline.normalise.traditional_to_simplified)

    def _type_cues(self, text: str) -> np.ndarray | None:
        classes = self.model.type_head.classes
        hits = np.array([sum(1 for w in self._cue_words.get(c, []) if w in text) for c in classes], dtype=float)
        return hits / hits.sum() if hits.sum() else None

    def _department_prior(self, text: str) -> np.ndarray | None:
        scores = self.prior.scores(text)
        if scores is None:
            return None
        full = np.zeros(len(self.model.department_head.classes))
        full[self._prior_index] = scores
        return full

    # -- public ------------------------------------------------------------------------------
    def classify(self, text: str) -> NluPrediction:
        return self.classify_batch([text])[0]

    def classify_batch(self, texts: Sequence[str]) -> list[NluPrediction]:
        prepared = [self.prepare(t or "") for t in texts]
        readable = [i for i, t in enumerate(prepared) if _READABLE.search(t)]
        results: list[NluPrediction] = []
        probabilities = self._probabilities([prepared[i] for i in readable]) if readable else None
        position = {index: row for row, index in enumerate(readable)}
        for index, original in enumerate(texts):
            clipped = (original or "")[: self.settings.pipeline.entity_chars]
            entities = extract_entities(clipped, self.settings.pipeline.entities)
            urgent_kind = self.urgent.kind(prepared[index]) if prepared[index] else None
            if probabilities is None or index not in position:
                results.append(self._unreadable(entities, urgent_kind))
                continue
            row = position[index]
            p_type, p_dep, p_topic = (p[row] for p in probabilities)
            results.append(self._decide(prepared[index], p_type, p_dep, p_topic, entities, urgent_kind))
        return results

    def _probabilities(self, prepared: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        heads = (self.model.type_head, self.model.department_head, self.model.topic_head)
        needed = {head.config.inputs for head in heads}
        rows: list[list[np.ndarray]] = [[], [], []]
        segment_chars = self.segment_chars
        vectors = self.encoder.encode(prepared) if self.encoder is not None else None
        for n, text in enumerate(prepared):  # one message at a time: the same numbers alone or in a batch
            tokens = self.segmenter.words(text[: segment_chars]) if needed & {"words", "both"} else None
            inputs = self.model.features.one(text, tokens, needed)
            vector = vectors[n] if vectors is not None else None
            for row, head in zip(rows, heads, strict=True):
                row.append(head.predict_one(*inputs[head.config.inputs], vector))
        p_type, p_dep, p_topic = (np.vstack(row) for row in rows)
        return p_type, p_dep, p_topic

    def _decide(self, text: str, p_type: np.ndarray, p_dep: np.ndarray, p_topic: np.ndarray,
                entities: list[dict], urgent_kind: str | None) -> NluPrediction:
        config = self.settings.pipeline
        cues = self._type_cues(text)
        if cues is not None and config.type_cues.weight:
            p_type = (1 - config.type_cues.weight) * p_type + config.type_cues.weight * cues
        prior = self._department_prior(text)
        weight = self.settings.keyword_prior_weight
        if prior is not None and weight:
            p_dep = (1 - weight) * p_dep + weight * prior
        type_classes = self.model.type_head.classes
        dep_classes = self.model.department_head.classes
        t, d = int(p_type.argmax()), int(p_dep.argmax())
        topic, topic_confidence = self._topic(p_dep, p_topic)
        department_confidence = float(p_dep[d])
        type_confidence = float(p_type[t])
        return NluPrediction(
            type=type_classes[t],
            type_confidence=round(type_confidence, 4),
            department=dep_classes[d],
            department_confidence=round(department_confidence, 4),
            topic=topic,
            topic_confidence=round(topic_confidence, 4),
            needs_review=type_confidence < self.settings.type_threshold
            or department_confidence < self.settings.department_threshold,
            urgent=urgent_kind is not None,
            urgent_kind=urgent_kind,
            entities=entities,
            type_scores=dict(zip(type_classes, np.round(p_type, 4).tolist(), strict=True)),
            department_scores=dict(zip(dep_classes, np.round(p_dep, 4).tolist(), strict=True)),
        )

    def _topic(self, p_dep: np.ndarray, p_topic: np.ndarray) -> tuple[str | None, float]:
        """The topic head, blended with the topics of the likely departments."""
        topics = self.model.topic_head.classes
        blend = self.settings.pipeline.topic_department_weight
        if not blend:
            top = int(p_topic.argmax())
            return topics[top], float(p_topic[top])
        scores = dict(zip(topics, (1 - blend) * p_topic, strict=True))
        for code, p in zip(self.model.department_head.classes, p_dep, strict=True):
            topic = self.topic_of.get(code)
            if topic in scores:  # a topic the head does not know (a city's own scheme) is not added
                scores[topic] = scores.get(topic, 0.0) + blend * float(p)
        best = max(scores, key=lambda k: scores[k])
        return best, scores[best]

    def _unreadable(self, entities: list[dict], urgent_kind: str | None) -> NluPrediction:
        """No Chinese to read (empty, English only, emoji): a clear answer that a person must look."""
        priors = self.settings.pipeline.type_classifier.priors or {t: 1 / len(TYPES) for t in TYPES}
        likeliest = max(priors, key=lambda k: priors[k])
        return NluPrediction(
            type=likeliest, type_confidence=0.0, department=None, department_confidence=0.0, topic=None,
            needs_review=True, urgent=urgent_kind is not None, urgent_kind=urgent_kind, entities=entities,
        )
