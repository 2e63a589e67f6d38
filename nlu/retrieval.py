"""Hybrid search over knowledge-base entries: BM25 over jieba words fused with the sentence
encoder's cosine, and a calibrated `confident` (a citizen may be answered without a person).

Everything a query needs is precomputed at build time, so a search is two vectorised products:
a sparse column sum for BM25 (scipy CSC matrix of per-word BM25 weights) and a dense matrix-vector
product for the cosine (one row per question or variant; an entry scores its best row). Nothing
here knows about tickets or the database: an entry is an id, its phrasings and its answer.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from nlu.normalise import normalise

log = logging.getLogger(__name__)

EXACT_ROWS = 20_000
CANDIDATES = 256
MAX_QUERY_CHARS = 200  # a question is short; a long post is read by its opening, as the encoder does
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# Words that say nothing about which entry is meant (how questions are asked, not what about).
STOPWORDS = frozenset(
    ["的", "了", "吗", "呢", "吧", "啊", "呀", "么", "嘛", "我", "我们", "你", "你们", "他", "她", "它", "他们", "是", "在", "有", "和", "与", "及", "或", "就", "都", "也", "还", "又", "要", "想", "能", "会", "可以", "可", "怎么", "怎么办", "怎样", "如何", "什么", "哪里", "哪儿", "哪个", "去哪", "谁", "找", "找谁", "请问", "咨询", "一下", "这个", "那个", "这", "那", "个", "一个", "把", "被", "给", "让", "没有", "不", "没", "多少", "为什么", "需要", "应该", "是不是", "能不能", "有没有", "问", "问题", "办", "一", "下", "上", "里", "吗", "啥", "些", "了解", "知道", "能否"]
)


def _cut(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut_for_search(text, HMM=False) if w.strip()]


def tokens(text: str) -> list[str]:
    """Search words of a text: jieba's fine cut (long words and their parts) minus stopwords and
    punctuation, plus the character bigrams of each longer word, so 电瓶车 meets 电动车 halfway."""
    clean = _PUNCT.sub(" ", normalise(text)[:2000]).lower()
    out: list[str] = []
    for word in _cut(clean):
        if word in STOPWORDS or not word.strip():
            continue
        out.append(word)
        if len(word) >= 3:
            out.extend(word[i:i + 2] for i in range(len(word) - 1))
    return out


@dataclass(frozen=True)
class Doc:
    id: int
    phrasings: Sequence[str]  # the question first, then its variants
    answer: str = ""


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    confident: bool


@dataclass(frozen=True)
class Calibration:
    """`confident` when the fused score of the best entry reaches `threshold` and leads the next
    entry by `margin` (two entries alike mean the question is ambiguous). Fixed from the project's
    measurements (docs/DESIGN.md, knowledge base); a city may tighten it in config.yml."""

    lexical_weight: float = 0.02  # BM25 breaks near-ties; more weight cost top-1 on reworded questions
    bm25_saturation: float = 8.0
    threshold: float = 0.915
    margin: float = 0.01
    lexical_only_threshold: float = 0.8  # without an encoder: BM25 alone, rarely sure


@dataclass
class _Bm25:
    vocab: dict[str, int]
    weights: Any  # CSC matrix, words x docs
    idf: np.ndarray

    @classmethod
    def build(cls, texts: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> _Bm25:
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths = np.array([len(t) for t in texts], dtype=np.float32)
        avg = float(lengths.mean()) if len(texts) else 1.0
        df: dict[int, int] = {}
        for doc, words in enumerate(texts):
            counts: dict[int, int] = {}
            for word in words:
                term = vocab.setdefault(word, len(vocab))
                counts[term] = counts.get(term, 0) + 1
            norm = k1 * (1 - b + b * len(words) / max(avg, 1.0))
            for term, tf in counts.items():
                rows.append(term)
                cols.append(doc)
                vals.append(tf * (k1 + 1) / (tf + norm))
                df[term] = df.get(term, 0) + 1
        n = max(len(texts), 1)
        idf = np.zeros(len(vocab), dtype=np.float32)
        for term, count in df.items():
            idf[term] = math.log(1 + (n - count + 0.5) / (count + 0.5))
        matrix = sparse.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(vocab), len(texts)))
        weighted = sparse.diags(idf) @ matrix
        return cls(vocab, weighted.tocsr(), idf)

    def score(self, words: list[str], n_docs: int) -> np.ndarray:
        ids = sorted({self.vocab[w] for w in words if w in self.vocab})
        if not ids:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self.weights[ids].sum(axis=0), dtype=np.float32).ravel()


@dataclass
class KbIndex:
    """An index of entries, built once (vectors cached by the encoder's caller) and searched often."""

    ids: np.ndarray
    bm25: _Bm25
    vectors: np.ndarray | None  # one row per phrasing
    row_entry: np.ndarray  # entry position of each row, grouped
    row_starts: np.ndarray  # first row of each entry
    encoder: Any = None
    calibration: Calibration = field(default_factory=Calibration)
    # Over EXACT_ROWS phrasings, a first pass reads one centroid per entry (a third of the memory a
    # query streams through) and only the best CANDIDATES entries are scored on every phrasing.
    centroids: np.ndarray | None = None

    @classmethod
    def build(cls, docs: Sequence[Doc], encoder: Any = None, vectors: np.ndarray | None = None,
              calibration: Calibration | None = None) -> KbIndex:
        """`vectors` (one row per phrasing, in order) skips encoding: the caller caches them."""
        texts = [tokens(" ".join(d.phrasings) + " " + " ".join(d.phrasings[:1]) + " " + d.answer) for d in docs]
        phrasings = [p for d in docs for p in d.phrasings]
        row_entry = np.repeat(np.arange(len(docs)), [len(d.phrasings) for d in docs])
        starts = np.concatenate([[0], np.cumsum([len(d.phrasings) for d in docs])[:-1]]).astype(np.int64) if docs \
            else np.zeros(0, dtype=np.int64)
        if vectors is None and encoder is not None and phrasings:
            vectors = encoder.encode(phrasings, kind="query")
        centroids = None
        if vectors is not None and len(vectors) > EXACT_ROWS:
            sums = np.add.reduceat(vectors, starts, axis=0)
            centroids = (sums / np.linalg.norm(sums, axis=1, keepdims=True)).astype(np.float32)
        return cls(
            ids=np.array([d.id for d in docs], dtype=np.int64),
            bm25=_Bm25.build(texts),
            vectors=vectors,
            row_entry=row_entry,
            row_starts=starts,
            encoder=encoder,
            calibration=calibration or Calibration(),
            centroids=centroids,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """Fused score of every entry for `query`; -inf where `allowed` is False."""
        query = normalise(query or "")[:MAX_QUERY_CHARS]
        n = len(self.ids)
        cal = self.calibration
        bm = self.bm25.score(tokens(query), n)
        lexical = bm / (bm + cal.bm25_saturation)
        if self.vectors is not None and self.encoder is not None and n:
            q = self.encoder.encode([query], kind="query")[0]
            fused = (1 - cal.lexical_weight) * self._dense(q) + cal.lexical_weight * lexical
        else:
            fused = lexical
        if allowed is not None:
            fused = np.where(allowed, fused, -np.inf)
        return fused

    def _dense(self, q: np.ndarray) -> np.ndarray:
        """Each entry's best cosine over its phrasings (exactly for the best entries of a large index,
        the centroid's for the rest, which cannot reach the top)."""
        assert self.vectors is not None
        if self.centroids is None:
            return np.maximum.reduceat(self.vectors @ q, self.row_starts)
        dense = self.centroids @ q
        k = min(CANDIDATES, len(dense))
        best = np.argpartition(-dense, k - 1)[:k]
        rows = np.flatnonzero(np.isin(self.row_entry, best))
        exact = np.full(len(dense), -1.0, dtype=np.float32)
        np.maximum.at(exact, self.row_entry[rows], self.vectors[rows] @ q)
        dense[best] = exact[best]
        return dense

    def search(self, query: str, limit: int = 5, allowed: np.ndarray | None = None) -> list[Hit]:
        if not (query or "").strip() or not len(self.ids):
            return []
        fused = self.scores(query, allowed)
        k = min(max(limit, 2), len(fused))
        top = np.argpartition(-fused, k - 1)[:k]
        top = top[np.argsort(-fused[top])]
        top = top[np.isfinite(fused[top])]
        if not len(top):
            return []
        best = float(fused[top[0]])
        second = float(fused[top[1]]) if len(top) > 1 else 0.0
        cal = self.calibration
        threshold = cal.threshold if self.vectors is not None and self.encoder is not None else cal.lexical_only_threshold
        sure = best >= threshold and best - second >= cal.margin
        return [Hit(int(self.ids[i]), round(float(fused[i]), 4), sure and rank == 0)
                for rank, i in enumerate(top[:limit])]
