"""The trained part: text features and three linear heads (type, department, topic).

Features are TF-IDF over jieba words (through spaCy's zh tokenizer) and over character n-grams,
which survive segmentation mistakes and unseen place names. Heads are logistic regressions, which
give probabilities that thresholds can be put on and train in seconds on two cores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.config import FeaturesConfig, HeadConfig

FORMAT_VERSION = 1


def word_ngrams(tokens: list[str], low: int = 1, high: int = 2) -> list[str]:
    """Word n-grams of a pre-segmented text (module-level so that the vectoriser pickles)."""
    words = [t for t in tokens if t.strip()]
    grams = []
    for n in range(low, high + 1):
        grams += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    return grams


@dataclass
class Features:
    config: FeaturesConfig
    words: TfidfVectorizer = field(init=False)
    chars: TfidfVectorizer = field(init=False)

    def __post_init__(self) -> None:
        low, high = self.config.word_ngrams
        self.words = TfidfVectorizer(
            analyzer=partial(word_ngrams, low=low, high=high),
            sublinear_tf=True, min_df=self.config.min_df, max_features=self.config.max_features, dtype=np.float32,
        )
        self.chars = TfidfVectorizer(
            analyzer="char", ngram_range=tuple(self.config.char_ngrams), lowercase=True,
            sublinear_tf=True, min_df=self.config.min_df, max_features=self.config.max_features, dtype=np.float32,
        )

    def fit(self, texts: Sequence[str], tokens: Sequence[list[str]]) -> Features:
        self.words.fit(tokens)
        self.chars.fit(texts)
        return self

    def transform(self, texts: Sequence[str], tokens: Sequence[list[str]]) -> csr_matrix:
        return hstack([self.words.transform(tokens), self.chars.transform(texts)], format="csr")

    @property
    def _analyzers(self) -> tuple[Callable[..., list[str]], Callable[..., list[str]]]:
        cached = self.__dict__.get("_analyzer_cache")
        if cached is None:
            cached = self.__dict__["_analyzer_cache"] = (self.words.build_analyzer(), self.chars.build_analyzer())
        return cached

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_analyzer_cache"}

    def one(self, text: str, tokens: list[str] | None, needed: AbstractSet[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{inputs: (column indices, tf-idf values)} of one message for the inputs the heads need: what
        `transform` gives, without scikit-learn's per-call validation, which costs more than the
        arithmetic for one message."""
        parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if needed & {"words", "both"}:
            assert tokens is not None
            parts["words"] = _tfidf(self.words, self._analyzers[0](tokens), 0)
        if needed & {"chars", "both"}:
            parts["chars"] = _tfidf(self.chars, self._analyzers[1](text), 0)
        if "both" in needed:
            (wi, wv), (ci, cv) = parts["words"], parts["chars"]
            parts["both"] = (np.concatenate([wi, ci + len(self.words.vocabulary_)]), np.concatenate([wv, cv]))
        return parts

    def select(self, X: csr_matrix, inputs: str) -> csr_matrix:
        """The word columns, the character columns, or both, of a transformed matrix."""
        split = len(self.words.vocabulary_)
        if inputs == "words":
            return X[:, :split]
        if inputs == "chars":
            return X[:, split:]
        return X


def _tfidf(vectorizer: TfidfVectorizer, grams: list[str], offset: int) -> tuple[np.ndarray, np.ndarray]:
    ids = [i for i in map(vectorizer.vocabulary_.get, grams) if i is not None]
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    indices, counts = np.unique(np.array(ids, dtype=np.int64), return_counts=True)
    tf = 1 + np.log(counts) if vectorizer.sublinear_tf else counts.astype(float)
    values = tf * vectorizer.idf_[indices]
    norm = np.sqrt(values @ values)
    return indices + offset, values / norm if norm else values


@dataclass
class Head:
    """A logistic regression whose probabilities are shifted to the configured class priors."""

    config: HeadConfig
    model: LogisticRegression | None = None
    classes: list[str] = field(default_factory=list)
    adjust: np.ndarray | None = None
    dense: int = 0  # width of the sentence vector in the head's last columns (0: n-grams only)

    def fit(self, X: csr_matrix, labels: Sequence[str], sample_weight: np.ndarray | None = None,
            vectors: np.ndarray | None = None) -> Head:
        """X holds the head's own inputs (Features.select); `vectors` the sentence vectors beside them."""
        if vectors is not None and self.config.encoder_weight > 0:
            X = hstack([X, csr_matrix(vectors * self.config.encoder_weight)], format="csr")
            self.dense = vectors.shape[1]
        weight = "balanced" if self.config.class_weight == "balanced" else None
        self.model = LogisticRegression(C=self.config.C, max_iter=3000, class_weight=weight)
        self.model.fit(X, list(labels), sample_weight=sample_weight)
        self.classes = [str(c) for c in self.model.classes_]
        # Balanced training behaves as if every class were equally common; multiply by
        # prior / training prior to get probabilities for the configured mix (Saerens et al. 2002).
        if self.config.priors:
            if weight == "balanced":
                trained = np.full(len(self.classes), 1 / len(self.classes))
            else:
                counts = np.array([list(labels).count(c) for c in self.classes], dtype=float)
                trained = counts / counts.sum()
            wanted = np.array([self.config.priors.get(c, 1 / len(self.classes)) for c in self.classes])
            self.adjust = wanted / trained
        return self

    def predict_one(self, indices: np.ndarray, values: np.ndarray, vector: np.ndarray | None = None) -> np.ndarray:
        """predict_proba of one sparse row given as (indices, values), and the sentence vector the head
        was trained with beside it (its last columns), if any."""
        assert self.model is not None, "head is not trained"
        scores = self.model.coef_[:, indices] @ values + self.model.intercept_
        if self.dense:
            assert vector is not None, "this head reads the sentence vector"
            scores = scores + self.model.coef_[:, -self.dense:] @ (vector * self.config.encoder_weight)
        if len(self.classes) == 2:  # binary logistic regression: one decision value
            positive = 1 / (1 + np.exp(-scores[0]))
            probabilities = np.array([1 - positive, positive])
        else:
            exp = np.exp(scores - scores.max())
            probabilities = exp / exp.sum()
        if self.adjust is not None:
            probabilities = probabilities * self.adjust
            probabilities /= probabilities.sum()
        return probabilities


@dataclass
class NluModel:
    features: Features
    type_head: Head
    department_head: Head
    topic_head: Head
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def encoder(self) -> str:
        """The sentence encoder the heads were trained with ("none": n-grams only)."""
        return str(self.meta.get("encoder", "none"))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, directory / "model.joblib", compress=3)
        (directory / "meta.json").write_text(json.dumps(self.meta, ensure_ascii=False, indent=2), encoding="utf-8")

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / "model.joblib").exists() and (directory / "meta.json").exists()

    @staticmethod
    def load(directory: Path) -> NluModel:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{directory}: model format {meta.get('format')} is not {FORMAT_VERSION}; retrain it")
        model = joblib.load(directory / "model.joblib")
        if not isinstance(model, NluModel):
            raise ValueError(f"{directory}: not a hotline NLU model")
        return model


ProgressFn = Callable[[str], None]
