"""Tables of the Open311 GeoReport v2 intake: the API keys of client apps and what each request carried.

A request's ticket is found through (channel "open311", external_message_id = token), the same pair that
makes intake idempotent, so the row is written before the ticket and needs no foreign key to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel, col, select

from tickets import personal_data
from tickets.masking import mask_personal
from tickets.models import Ticket
from tickets.timeutil import UTCDateTime, utcnow


class ApiKey(SQLModel, table=True):
    """A client app's key for POST requests. Only a SHA-256 of the key is kept (keys are 256-bit random)."""

    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)  # the key's first characters, to tell keys apart in a listing
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Open311Request(SQLModel, table=True):
    __tablename__ = "open311_request"
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)  # the ticket's external_message_id
    api_key_id: int = Field(foreign_key="api_key.id", index=True)
    service_code: str = Field(max_length=40)
    lat: float | None = None
    long: float | None = None
    address_string: str | None = Field(default=None, max_length=200)
    media_url: str | None = Field(default=None, max_length=500)
    device_id: str | None = Field(default=None, max_length=100)
    account_id: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


def _requests(session: Session, scope: personal_data.Scope) -> list[Open311Request]:
    if not scope.ticket_ids:
        return []
    tokens = select(Ticket.external_message_id).where(col(Ticket.id).in_(scope.ticket_ids), Ticket.channel == "open311")
    return list(session.exec(select(Open311Request).where(col(Open311Request.token).in_(tokens))).all())


def export_requests(session: Session, scope: personal_data.Scope) -> list[dict[str, Any]]:
    return [{**r.model_dump(exclude={"created_at"}), "created_at": r.created_at.isoformat()}
            for r in _requests(session, scope)]


def erase_requests(session: Session, scope: personal_data.Scope) -> int:
    """The reporter's e-mail, device and account, the photo link and the exact point go; the address is
    masked as the public reads it. The token (the request's public id) and the service stay."""
    changed = 0
    for request in _requests(session, scope):
        if request.email is None and request.device_id is None and request.lat is None and request.media_url is None \
                and request.account_id is None and request.address_string == mask_personal(request.address_string or None):
            continue
        request.email = request.device_id = request.account_id = request.media_url = None
        request.lat = request.long = None
        request.address_string = mask_personal(request.address_string) or None
        session.add(request)
        changed += 1
    return changed


personal_data.register("open311_requests", export=export_requests, erase=erase_requests)
