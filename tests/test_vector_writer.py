"""New tickets' vectors written in batches on a background thread (hotline/vector_writer.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session, select

from hotline.bootstrap import App
from hotline.vector_writer import BackgroundVectors
from tickets.intake import CitizenRef, Submission
from tickets.models import TicketVector


class CountingEmbedder:
    """A real encoder would do; this one records the batches it was given."""

    name = "counting"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(len(texts))
        rows = np.array([[len(t), 1.0, 0.0, 0.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_new_tickets_get_their_vectors_in_batches_off_the_request(hotline: App) -> None:
    app = hotline
    embedder = CountingEmbedder()
    writer = BackgroundVectors(app.engine, embedder, batch=8)
    app.tickets.embedder = embedder
    app.tickets.vector_sink = writer
    now = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    numbers = [app.tickets.submit(Submission("web", f"m{i}", CitizenRef("web", f"c{i}"), "小区门口路灯坏了" * (i + 1)),
                                  now=now).ticket.id for i in range(20)]
    writer.flush()
    with Session(app.engine) as session:
        rows = {row.ticket_id: row for row in session.exec(select(TicketVector)).all()}
    assert sorted(rows) == sorted(numbers)
    assert all(row.encoder == "counting" and len(row.vector) == 4 * 4 for row in rows.values())
    # The first call loads the encoder (one probe text); then every ticket once, at most 8 at a time.
    assert embedder.batches[0] == 1 and sum(embedder.batches[1:]) == 20 and max(embedder.batches) <= 8


def test_a_failing_encoder_loses_no_ticket(hotline: App) -> None:
    class Broken(CountingEmbedder):
        def encode(self, texts: Sequence[str]) -> np.ndarray:
            raise RuntimeError("encoder down")

    app = hotline
    writer = BackgroundVectors(app.engine, Broken())
    app.tickets.embedder = Broken()
    app.tickets.vector_sink = writer
    result = app.tickets.submit(Submission("web", "x1", CitizenRef("web", "c"), "噪音扰民"))
    writer.flush()
    assert result.created and app.tickets.get(result.ticket.number).number == result.ticket.number
    with Session(app.engine) as session:
        assert session.exec(select(TicketVector)).all() == []
