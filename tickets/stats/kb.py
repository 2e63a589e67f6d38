"""The knowledge base's part of a report: direct answers by topic, the entries most used, and the
consultations that found no confident answer (what to write next)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from tickets.kb_models import KbEntry, KbMiss
from tickets.models import Ticket
from tickets.states import CloseReason

TOP = 10


def kb_figures(engine: Engine, since: datetime, until: datetime) -> dict[str, Any]:
    with Session(engine) as session:
        rows = session.execute(
            select(Ticket.topic, Ticket.kb_entry_id).where(  # type: ignore[call-overload]
                Ticket.close_reason == CloseReason.direct_answer, Ticket.created_at >= since,  # type: ignore[arg-type]
                Ticket.created_at < until)  # type: ignore[arg-type]
        ).all()
        by_topic = Counter(topic or "" for topic, _ in rows)
        by_entry = Counter(entry for _, entry in rows if entry is not None)
        questions = {e.id: e.question for e in session.execute(
            select(KbEntry).where(KbEntry.id.in_(list(by_entry)))).scalars()}  # type: ignore[union-attr]
        misses = session.execute(
            select(KbMiss.text, func.count()).where(KbMiss.at >= since, KbMiss.at < until)  # type: ignore[call-overload]
            .group_by(KbMiss.text).order_by(func.count().desc()).limit(TOP)
        ).all()
    return {
        "direct_answers_by_topic": [{"topic": t, "direct_answers": n} for t, n in by_topic.most_common()],
        "top_entries": [{"id": e, "question": questions.get(e, ""), "direct_answers": n}
                        for e, n in by_entry.most_common(TOP)],
        "unanswered": [{"text": text, "count": int(n)} for text, n in misses],
    }
