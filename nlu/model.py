"""The trained part: text features and three linear heads (type, department, topic).

Features are TF-IDF over jieba words (through spaCy's zh tokenizer) and over character n-grams,
which survive segmentation mistakes and unseen place names. Heads are logistic regressions, which
give probabilities that thresholds can be put on and train in seconds on two cores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
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

    def select(self, X: csr_matrix, inputs: str) -> csr_matrix:
        """The word columns, the character columns, or both, of a transformed matrix."""
        split = len(self.words.vocabulary_)
        if inputs == "words":
            return X[:, :split]
        if inputs == "chars":
            return X[:, split:]
        return X


@dataclass
class Head:
    """A logistic regression whose probabilities are shifted to the configured class priors."""

    config: HeadConfig
    model: LogisticRegression | None = None
    classes: list[str] = field(default_factory=list)
    adjust: np.ndarray | None = None

    def fit(self, X: csr_matrix, labels: Sequence[str]) -> Head:
        """X holds the head's own inputs (Features.select)."""
        weight = "balanced" if self.config.class_weight == "balanced" else None
        self.model = LogisticRegression(C=self.config.C, max_iter=3000, class_weight=weight)
        self.model.fit(X, list(labels))
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

    def predict_proba(self, X: csr_matrix) -> np.ndarray:
        assert self.model is not None, "head is not trained"
        probabilities = self.model.predict_proba(X)
        if self.adjust is not None:
            probabilities = probabilities * self.adjust
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        return probabilities


@dataclass
class NluModel:
    features: Features
    type_head: Head
    department_head: Head
    topic_head: Head
    meta: dict[str, Any] = field(default_factory=dict)

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
