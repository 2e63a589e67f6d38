"""Staff web sessions, kept on the server: a cookie holds a random token, the table its digest.

A signed cookie alone stays valid until it expires, whatever the person did: logging out, a new
password or a deactivated account could not end it. Here a session ends when its row goes, and
every session of a person goes when their password changes. Sessions expire after `idle` without
use and `absolute` after the login, whatever their use.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, Engine, delete
from sqlmodel import Field, Session, SQLModel

from tickets.timeutil import UTCDateTime, ensure_aware

TOUCH_EVERY = timedelta(minutes=1)  # last use is written at most this often (a page view is not a write)


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"
    digest: str = Field(max_length=64, primary_key=True)  # sha256 of the cookie's token
    staff_id: int = Field(foreign_key="staff.id", index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Sessions:
    def __init__(self, engine: Engine, idle: timedelta, absolute: timedelta) -> None:
        self.engine, self.idle, self.absolute = engine, idle, absolute

    def open(self, staff_id: int, now: datetime) -> str:
        """A new session for `staff_id`; returns the token for the cookie."""
        token = secrets.token_urlsafe(32)
        now = ensure_aware(now)
        with Session(self.engine) as session:
            session.add(StaffSession(digest=_digest(token), staff_id=staff_id, created_at=now, last_seen_at=now))
            session.commit()
        return token

    def staff_of(self, token: str, now: datetime) -> int | None:
        """Whose session `token` is, or None (unknown, ended or expired: an expired row is removed)."""
        now = ensure_aware(now)
        with Session(self.engine) as session:
            row = session.get(StaffSession, _digest(token))
            if row is None:
                return None
            if now - ensure_aware(row.last_seen_at) > self.idle or now - ensure_aware(row.created_at) > self.absolute:
                session.delete(row)
                session.commit()
                return None
            if now - ensure_aware(row.last_seen_at) > TOUCH_EVERY:
                row.last_seen_at = now
                session.add(row)
                session.commit()
            return row.staff_id

    def close(self, token: str) -> None:
        with Session(self.engine) as session:
            session.execute(delete(StaffSession).where(StaffSession.digest == _digest(token)))  # type: ignore[arg-type]
            session.commit()


def end_all(session: Session, staff_id: int) -> None:
    """End every session of a person (a new password, a deactivated account)."""
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))  # type: ignore[arg-type]
