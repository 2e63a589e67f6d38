"""API keys of Open311 client apps: issued once, stored as a hash, revoked by name."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tickets.errors import InvalidInput, NotFound
from tickets.open311_models import ApiKey


def key_hash(key: str) -> str:
    # A 256-bit random key needs no slow hash: SHA-256 cannot be walked back, and lookups stay one index hit.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, now: datetime) -> tuple[ApiKey, str]:
        """A new key for a client app; the key itself is returned once and never stored."""
        name = name.strip()
        if not name:
            raise InvalidInput("the key's name must not be empty")
        key = secrets.token_hex(32)  # hex: no character a shell or a form needs to escape
        row = ApiKey(name=name, key_hash=key_hash(key), prefix=key[:8], created_at=now)
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError as err:
                raise InvalidInput(f"an API key named {name!r} already exists") from err
        return row, key

    def everyone(self) -> list[ApiKey]:
        with Session(self.engine) as session:
            return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())

    def revoke(self, name: str, now: datetime) -> ApiKey:
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.exec(select(ApiKey).where(ApiKey.name == name.strip())).first()
            if row is None:
                raise NotFound(f"no API key named {name!r}")
            if row.revoked_at is None:
                row.revoked_at = now
                session.add(row)
                session.commit()
            return row

    def verify(self, key: str | None) -> ApiKey | None:
        """The live key row for a presented key, or None."""
        if not key:
            return None
        with Session(self.engine) as session:
            row = session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash(key.strip()))).first()
        return row if row is not None and row.revoked_at is None else None
