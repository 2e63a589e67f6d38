"""Similar-message search: the open tickets of the last days that read most like a text, with a
duplicate flag above a calibrated threshold (for intake, the call-takers' desk and hot issues).

Meaning comes from a sentence encoder the wiring injects as an `Embedder` (the domain knows nothing
of nlu/): each ticket's vector is stored in `ticket_vector` just after the ticket is committed, and
any candidate still without one (a crash in between, an encoder switched) is encoded when a search
first needs it. Without an encoder the search falls back to lexical similarity: the cosine of
character unigram and bigram TF-IDF vectors over the candidates.

The search is brute force: one matrix product over the candidates' vectors, a few milliseconds for
100,000 rows of 512 float32 (200 MB). Reading them is the cost: the candidates come as plain rows
(number and the vector row's time), and the vectors from a per-process `VectorCache`, so a search
reads from the database only the vectors it has not seen (benchmarks/similar.py). Past about
100,000 open tickets an ANN index would be needed (docs/DESIGN.md).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
from sqlalchemy import String, cast, delete, insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from tickets.models import Ticket, TicketVector
from tickets.states import OPEN_STATES

VECTORS = TicketVector.__table__  # type: ignore[attr-defined]


class Embedder(Protocol):
    """A sentence encoder: one L2-normalised float32 row per text."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class SimilarTicket:
    number: str
    score: float
    duplicate: bool


@dataclass(frozen=True)
class SimilarSettings:
    days: int = 30
    # Cosine above which a ticket counts as a duplicate, per encoder name; "none" is the lexical
    # fallback's. Calibrated on tests/data/paraphrases.yml (docs/DESIGN.md).
    duplicate_threshold: dict[str, float] | None = None

    def threshold(self, encoder: str) -> float:
        return (self.duplicate_threshold or {}).get(encoder, 1.01)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def store_vector(session: Session, ticket_id: int, embedder: Embedder, text: str, now: datetime) -> None:
    store_vectors(session, [(ticket_id, text)], embedder, now)


def store_vectors(session: Session, items: Sequence[tuple[int, str]], embedder: Embedder, now: datetime) -> np.ndarray:
    """Encode the texts in one batch and store (or replace) each ticket's vector; returns the vectors."""
    if not items:
        return np.zeros((0, 1), dtype=np.float32)
    rows = embedder.encode([text for _, text in items])
    ids = [ticket_id for ticket_id, _ in items]
    # Replace rather than merge: one DELETE and one multi-row INSERT instead of a SELECT per row.
    session.execute(delete(VECTORS).where(VECTORS.c.encoder == embedder.name, VECTORS.c.ticket_id.in_(ids)))
    session.execute(insert(VECTORS), [
        {"ticket_id": ticket_id, "encoder": embedder.name, "vector": to_bytes(vector), "created_at": now}
        for ticket_id, vector in zip(ids, rows, strict=True)
    ])
    return rows


def _pool(since: datetime, exclude: int | None, among: Sequence[str] | None) -> list[ColumnElement[bool]]:
    where = [col(Ticket.state).in_([s.value for s in OPEN_STATES]), col(Ticket.created_at) >= since]
    if exclude is not None:
        where.append(col(Ticket.id) != exclude)
    if among is not None:
        where.append(col(Ticket.number).in_(list(among)))
    return where


def candidates(session: Session, since: datetime, exclude: int | None, among: Sequence[str] | None = None) -> list[Any]:
    """(id, number, text) of the open tickets created since `since`, oldest first: Core rows, not
    ORM objects (a desk search at a large city's volume reads tens of thousands)."""
    query = select(col(Ticket.id), col(Ticket.number), col(Ticket.text)).where(*_pool(since, exclude, among))
    return list(session.execute(query.order_by(col(Ticket.id))).all())


class VectorCache:
    """Stored vectors kept in process memory, by ticket id and the stored row's time: a vector never
    changes once written, and reading tens of thousands of 2 KB rows was most of a desk search
    (benchmarks/similar.py). Only the current candidates' vectors stay: a search of the whole window
    drops every other entry (a ticket closed, erased or past the window), and a candidate whose row
    is gone (an erasure deleted it) or was written again is dropped or read again, so nothing derived
    from erased text outlives the next search. The oldest go first past `max_rows` (about 2 KB each)."""

    def __init__(self, max_rows: int = 150_000) -> None:
        self.max_rows = max_rows
        self._rows: dict[int, tuple[str, Any, bytes]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def get_many(self, wanted: Sequence[tuple[int, Any]], encoder: str) -> list[bytes | None]:
        """The cached vector of each (ticket id, row time), None where the cache has no such row."""
        rows, miss = self._rows, (None, None, None)
        return [found[2] if (found := rows.get(ticket_id, miss))[1] == written and found[0] == encoder else None
                for ticket_id, written in wanted]

    def put(self, items: Sequence[tuple[int, str, Any, bytes]]) -> None:
        with self._lock:
            for ticket_id, encoder, written, blob in items:
                self._rows[ticket_id] = (encoder, written, blob)
            if len(self._rows) > self.max_rows:
                for ticket_id in sorted(self._rows)[: len(self._rows) - self.max_rows * 4 // 5]:
                    del self._rows[ticket_id]

    def forget(self, ticket_ids: Iterable[int]) -> None:
        with self._lock:
            for ticket_id in ticket_ids:
                self._rows.pop(ticket_id, None)

    def keep_only(self, ticket_ids: Iterable[int]) -> None:
        with self._lock:
            wanted = set(ticket_ids)
            for ticket_id in [t for t in self._rows if t not in wanted]:
                del self._rows[ticket_id]


def candidate_vectors(session: Session, since: datetime, exclude: int | None, among: Sequence[str] | None,
                      embedder: Embedder, now: datetime, cache: VectorCache | None = None) -> tuple[list[Any], np.ndarray]:
    """(id, number) of the same tickets and their stored vectors as one matrix; vectors not in
    `cache` are read (missing ones computed and stored)."""
    # the row's time as text: it is only compared, and converting 100,000 datetimes cost a tenth
    stored = select(col(TicketVector.ticket_id), cast(col(TicketVector.created_at), String).label("written")).where(
        TicketVector.encoder == embedder.name).subquery()
    query = (select(col(Ticket.id), col(Ticket.number), stored.c.written)
             .outerjoin(stored, stored.c.ticket_id == col(Ticket.id))
             .where(*_pool(since, exclude, among)).order_by(col(Ticket.id)))
    rows = list(session.execute(query).all())
    if not rows:
        return [], np.zeros((0, 1), dtype=np.float32)
    cache = VectorCache() if cache is None else cache
    if among is None and exclude is None and len(cache) > len(rows):  # the whole window: the rest has left it
        cache.keep_only(row.id for row in rows)
    cache.forget(row.id for row in rows if row.written is None)
    blobs = cache.get_many([(row.id, row.written) for row in rows], embedder.name)
    unread = [row.id for row, blob in zip(rows, blobs, strict=True) if blob is None and row.written is not None]
    read: dict[int, bytes] = {}
    for chunk in range(0, len(unread), 900):  # SQLite's bound-parameter limit
        found = session.execute(select(col(TicketVector.ticket_id), cast(col(TicketVector.created_at), String),
                                       col(TicketVector.vector))
                                .where(TicketVector.encoder == embedder.name,
                                       col(TicketVector.ticket_id).in_(unread[chunk:chunk + 900]))).all()
        cache.put([(ticket_id, embedder.name, written, blob) for ticket_id, written, blob in found])
        read.update({ticket_id: blob for ticket_id, _, blob in found})
    missing = [i for i, (row, blob) in enumerate(zip(rows, blobs, strict=True)) if blob is None and row.id not in read]
    if missing:  # computed and stored now; cached from the next search on, with the row's time
        texts = dict(session.execute(select(col(Ticket.id), col(Ticket.text)).where(
            col(Ticket.id).in_([rows[i].id for i in missing]))).all())
        computed = store_vectors(session, [(rows[i].id, texts[rows[i].id]) for i in missing], embedder, now)
        read.update({rows[i].id: to_bytes(vector) for i, vector in zip(missing, computed, strict=True)})
    matrix = b"".join(blob if blob is not None else read[row.id] for row, blob in zip(rows, blobs, strict=True))
    return rows, np.frombuffer(matrix, dtype="<f4").reshape(len(rows), -1)


def vectors_for(session: Session, tickets: Sequence[Ticket], embedder: Embedder, now: datetime) -> np.ndarray:
    """The stored vectors of `tickets` (rows in their order); missing ones are computed and stored."""
    ids = [t.id for t in tickets]
    stored: dict[int, bytes] = {}
    for chunk in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        query = select(TicketVector).where(
            TicketVector.encoder == embedder.name, col(TicketVector.ticket_id).in_(ids[chunk:chunk + 900])
        )
        stored.update({row.ticket_id: row.vector for row in session.exec(query).all()})
    missing = [t for t in tickets if t.id not in stored]
    if missing:
        rows = embedder.encode([t.text for t in missing])
        for ticket, row in zip(missing, rows, strict=True):
            assert ticket.id is not None
            stored[ticket.id] = to_bytes(row)
            session.merge(TicketVector(ticket_id=ticket.id, encoder=embedder.name, vector=stored[ticket.id], created_at=now))
    if not tickets:
        return np.zeros((0, 1), dtype=np.float32)
    return np.vstack([from_bytes(stored[t.id]) for t in tickets if t.id is not None])  # type: ignore[index]


def _grams(text: str) -> Counter[str]:
    chars = "".join(ch for ch in text.lower() if ch.isalnum())
    grams = Counter(chars)
    grams.update(chars[i:i + 2] for i in range(len(chars) - 1))
    return grams


def lexical_scores(query: str, texts: Sequence[str]) -> np.ndarray:
    """Cosine of character unigram + bigram TF-IDF (sublinear tf, smoothed idf over the candidates and
    the query). Measured on the paraphrase set: bigrams alone find the original first for 78% of
    rewordings, unigrams and bigrams for 90%, with a threshold that holds for pools of 12 and 80."""
    docs = [_grams(query)] + [_grams(t) for t in texts]
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    n = len(docs)

    def weigh(doc: Counter[str]) -> dict[str, float]:
        weights = {g: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[g])) + 1) for g, c in doc.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {g: w / norm for g, w in weights.items()}

    q = weigh(docs[0])
    return np.array([sum(w * q.get(g, 0.0) for g, w in weigh(doc).items()) for doc in docs[1:]], dtype=np.float32)


def rank(
    session: Session,
    text: str,
    embedder: Embedder | None,
    settings: SimilarSettings,
    now: datetime,
    limit: int,
    days: int | None = None,
    exclude: Ticket | None = None,
    among: Sequence[str] | None = None,
    cache: VectorCache | None = None,
) -> list[SimilarTicket]:
    """The `limit` open tickets of the last `days` (only those numbered in `among`, if given) most
    like `text`, best first."""
    since = now - timedelta(days=settings.days if days is None else days)
    exclude_id = exclude.id if exclude is not None else None
    if limit <= 0:
        return []
    if embedder is None:
        # The weights are the whole window's (the threshold was calibrated on pools of 12 to 80): a
        # pool of a citizen's one or two tickets would weigh every shared character as rare.
        pool = candidates(session, since, exclude_id)
        if not pool:
            return []
        scores, threshold = lexical_scores(text, [row.text for row in pool]), settings.threshold("none")
        if among is not None:
            wanted = set(among)
            kept = [i for i, row in enumerate(pool) if row.number in wanted]
            pool, scores = [pool[i] for i in kept], scores[kept]
            if not pool:
                return []
    else:
        pool, matrix = candidate_vectors(session, since, exclude_id, among, embedder, now, cache)
        if not pool:
            return []
        if exclude is not None:
            query = vectors_for(session, [exclude], embedder, now)[0]
        else:
            query = embedder.encode([text])[0]
        scores, threshold = matrix @ query, settings.threshold(embedder.name)
    # Ties go to the newer ticket: the one a call-taker would merge into is the one still being worked.
    order = np.lexsort((-np.arange(len(pool)), -scores))[:limit]
    return [SimilarTicket(pool[i].number, round(float(scores[i]), 4), bool(scores[i] >= threshold)) for i in order]
