"""Wiring of knowledge-base search: the published entries from the database, the encoder's
vectors cached on disk by text hash (re-imports and restarts encode only new wording), and an
index rebuilt when the entries change. Used by the conversation, the workbench and the CLI."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nlu.encoder import load_encoder
from nlu.retrieval import Calibration, Doc, KbIndex
from tickets.knowledge import KnowledgeBase, Searchable

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 2000  # longer input is cut (the index reads its first 200 characters anyway)


@dataclass(frozen=True)
class Answer:
    entry: Searchable
    score: float
    confident: bool

    def as_json(self) -> dict[str, Any]:
        """The shape `hotline kb search --format json` prints (read by outside scripts)."""
        return {"id": self.entry.id, "question": self.entry.question, "answer": self.entry.answer,
                "department": self.entry.department, "score": self.score, "confident": self.confident}


class VectorCache:
    """Encoded phrasings under HOTLINE_HOME/kb/, keyed by a hash of the encoder and the text."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    self.rows = dict(zip([str(k) for k in data["keys"]], data["vectors"], strict=True))
            except (OSError, ValueError, KeyError) as err:
                log.warning("ignoring the knowledge-base vector cache %s: %s", path, err)

    def vectors(self, encoder: Any, texts: list[str]) -> np.ndarray:
        keys = [hashlib.blake2b(f"{encoder.name}\0{t}".encode(), digest_size=16).hexdigest() for t in texts]
        todo = sorted({(k, t) for k, t in zip(keys, texts, strict=True) if k not in self.rows})
        if todo:
            for (key, _), row in zip(todo, encoder.encode([t for _, t in todo], kind="query"), strict=True):
                self.rows[key] = row
            self._save()
        if not keys:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        return np.stack([self.rows[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(self.rows)), vectors=np.stack(list(self.rows.values())))
        tmp.replace(self.path)


class KbSearch:
    def __init__(self, kb: KnowledgeBase, encoder_name: str = "e5", calibration: Calibration | None = None,
                 home: Path | None = None) -> None:
        self.kb = kb
        self.encoder_name = encoder_name
        self.calibration = calibration or Calibration()
        self.cache_path = home / "kb" / f"vectors-{encoder_name}.npz" if home is not None else None
        self._lock = threading.Lock()
        self._signature: tuple[int, str] | None = None
        self._index: KbIndex | None = None
        self._entries: list[Searchable] = []
        self._valid: tuple[np.ndarray, np.ndarray] | None = None  # first and last valid day (ordinals)
        self._cache: VectorCache | None = None

    def _current(self) -> tuple[KbIndex, list[Searchable]]:
        signature = self.kb.signature()
        with self._lock:
            if self._index is None or signature != self._signature:
                entries = self.kb.searchable()
                # An empty knowledge base (a city that has none) never loads the encoder.
                encoder = load_encoder(self.encoder_name, threads=2) if entries else None
                docs = [Doc(e.id, [e.question, *e.variants], e.answer) for e in entries]
                vectors = None
                if encoder is not None:
                    if self._cache is None:
                        self._cache = VectorCache(self.cache_path)
                    vectors = self._cache.vectors(encoder, [p for d in docs for p in d.phrasings])
                self._index = KbIndex.build(docs, encoder, vectors=vectors, calibration=self.calibration)
                self._entries, self._signature = entries, signature
                self._valid = None
                if any(e.valid_from or e.valid_until for e in entries):
                    self._valid = (np.array([e.valid_from.toordinal() if e.valid_from else 0 for e in entries]),
                                   np.array([e.valid_until.toordinal() if e.valid_until else 10**7 for e in entries]))
            return self._index, self._entries

    def warm(self) -> int:
        """Build the index now (start-up), so the first citizen does not wait for it."""
        return len(self._current()[1])

    def search(self, text: str, limit: int = 5, today: date | None = None) -> list[Answer]:
        """Best first; entries outside their validity on `today` are not searched."""
        text = (text or "")[:MAX_QUERY_CHARS]
        if not text.strip():
            return []
        index, entries = self._current()
        allowed = None
        valid = self._valid
        if today is not None and valid is not None:
            allowed = (valid[0] <= today.toordinal()) & (today.toordinal() <= valid[1])
        by_id = {e.id: e for e in entries}
        return [Answer(by_id[h.id], h.score, h.confident) for h in index.search(text, max(1, limit), allowed)]

    def best(self, text: str, now: datetime) -> Answer | None:
        """The confident answer for a citizen's question, or None."""
        hits = self.search(text, 2, self.kb.local_day(now))
        return hits[0] if hits and hits[0].confident else None
