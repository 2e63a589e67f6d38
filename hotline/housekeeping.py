"""The nightly clean-up: chat photos past their retention, orphan uploads, old rate counters and
expired staff sessions. Each step takes `now`; running it twice deletes nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from hotline.limits import Limits
from tickets.models import Attachment, Ticket
from tickets.sessions import StaffSession
from tickets.timeutil import ensure_aware

UPLOADS = "uploads"


def expire_uploads(engine: Engine, home: Path, now: datetime, keep_days: int, orphan_hours: int) -> dict[str, int]:
    """Delete the uploaded photos of tickets closed more than `keep_days` ago, and files under
    uploads/ that no ticket took and that are older than `orphan_hours` (a draft never submitted,
    a throttled or refused upload). The attachment rows stay: the ticket says a photo was sent."""
    now = ensure_aware(now)
    root = (home / UPLOADS).resolve()
    with Session(engine) as session:
        expired = session.exec(
            select(Attachment.ref).join(Ticket, col(Ticket.id) == Attachment.ticket_id)
            .where(col(Ticket.closed_at).is_not(None), col(Ticket.closed_at) < now - timedelta(days=keep_days))
        ).all()
        kept = set(session.exec(select(Attachment.ref)).all()) - set(expired)
    removed = sum(_remove(home, root, ref) for ref in expired)
    orphans = 0
    if root.is_dir():
        cutoff = (now - timedelta(hours=orphan_hours)).timestamp()
        for path in root.rglob("*"):
            if path.is_file() and str(path.relative_to(home.resolve())) not in kept and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                orphans += 1
    return {"uploads_expired": removed, "uploads_orphaned": orphans}


def _remove(home: Path, root: Path, ref: str) -> int:
    path = (home / ref).resolve()
    if not path.is_relative_to(root) or not path.is_file():  # a Telegram file id, or gone already
        return 0
    path.unlink(missing_ok=True)
    return 1


def prune_sessions(engine: Engine, now: datetime, absolute: timedelta) -> int:
    """Rows of sessions past their absolute lifetime (an idle one is removed when it is next seen)."""
    with Session(engine) as session:
        result = session.execute(
            delete(StaffSession).where(col(StaffSession.created_at) < ensure_aware(now) - absolute)
        )
        session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]


def housekeeping(engine: Engine, home: Path, now: datetime, keep_days: int, orphan_hours: int,
                 session_hours: int) -> dict[str, int]:
    return {
        **expire_uploads(engine, home, now, keep_days, orphan_hours),
        "rate_counters_pruned": Limits(engine).prune(now),
        "sessions_pruned": prune_sessions(engine, now, timedelta(hours=session_hours)),
    }
