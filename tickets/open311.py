"""Open311 GeoReport v2 intake and status: a client app's request becomes a ticket through the same
submit service as every channel; what any GET shows of it is public and carries no personal data."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_
from sqlmodel import Session, col, select

from tickets.errors import InvalidInput
from tickets.intake import CitizenRef, Submission
from tickets.masking import mask_personal
from tickets.models import Reply, Ticket
from tickets.open311_models import ApiKey, Open311Request
from tickets.service import TicketService
from tickets.states import State
from tickets.timeutil import ensure_aware

CHANNEL = "open311"
DEFAULT_SPAN = timedelta(days=90)  # the specification's default window for GET requests
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
CLOSED = frozenset({State.answered, State.closed, State.invalid, State.merged})  # 办结 as the statistics count it


@dataclass(frozen=True)
class Report:
    """What a client app posted (POST requests): the specification's fields."""

    service_code: str
    description: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    media_url: str | None = None
    device_id: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class PublicRequest:
    """A request as anyone may read it: masked texts, no contact fields."""

    service_request_id: str
    status: str  # open | closed
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str | None
    lat: float | None
    long: float | None
    media_url: str | None


@dataclass(frozen=True)
class Query:
    numbers: Sequence[str] = ()  # when given, every other filter is ignored (as the specification says)
    service_codes: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()


def check(report: Report, service_codes: set[str]) -> None:
    if not report.service_code:
        raise InvalidInput("service_code was not provided")
    if report.service_code not in service_codes:
        raise InvalidInput(f"unknown service_code {report.service_code!r}")
    if not (report.description or "").strip():
        raise InvalidInput("description was not provided")
    has_point = report.lat is not None and report.long is not None
    if not has_point and not (report.address_string or "").strip():
        raise InvalidInput("a location is required: lat and long, or address_string")
    if has_point and not (-90 <= report.lat <= 90 and -180 <= report.long <= 180):  # type: ignore[operator]
        raise InvalidInput("lat must be within -90..90 and long within -180..180")


class Open311Desk:
    def __init__(self, engine: Engine, tickets: TicketService) -> None:
        self.engine = engine
        self.tickets = tickets

    def file(self, key: ApiKey, report: Report, now: datetime) -> Ticket:
        """Open the ticket of a client app's request; the NLU decides the type, service_code the department."""
        check(report, {d.code for d in self.tickets.departments()})
        token = secrets.token_hex(16)
        row = Open311Request(
            token=token, api_key_id=key.id, service_code=report.service_code, lat=report.lat, long=report.long,  # type: ignore[arg-type]
            address_string=_clip(report.address_string, 200), media_url=_clip(report.media_url, 500),
            device_id=_clip(report.device_id, 100), account_id=_clip(report.account_id, 100),
            email=_clip(report.email, 200), created_at=now,
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
        # The citizen is one person of one client app: their account there, else their e-mail, phone or device.
        who = report.account_id or report.email or report.phone or report.device_id or token
        name = "".join(part for part in (report.last_name, report.first_name) if part) or None
        point = f"{report.lat:.6f},{report.long:.6f}" if report.lat is not None and report.long is not None else ""
        address = (report.address_string or "").strip()
        location = f"{address}（{point}）" if address and point else address or point
        # The client's photo is a public URL: staff open it from the workbench like a channel's photo.
        media = report.media_url.strip() if report.media_url else ""
        photos = [("photo", media)] if media.startswith(("https://", "http://")) and len(media) <= 300 else []
        submission = Submission(
            channel=CHANNEL, external_message_id=token,
            citizen=CitizenRef(CHANNEL, f"{key.id}:{who}"[:80], name=_clip(name, 100), phone=_clip(report.phone, 40)),
            text=report.description, department=report.service_code, phone=_clip(report.phone, 40),
            location=location[:200], attachments=photos,
        )
        try:
            return self.tickets.submit(submission, now).ticket
        except Exception:
            with Session(self.engine) as session:  # nothing was filed: leave no request behind either
                session.delete(session.merge(row))
                session.commit()
            raise

    def number_for_token(self, token: str) -> str | None:
        with Session(self.engine) as session:
            query = select(Ticket.number).join(Open311Request, _joined()).where(Open311Request.token == token)
            return session.exec(query).first()

    def find(self, query: Query, now: datetime) -> list[PublicRequest]:
        """Requests filed through Open311, newest first, at most MAX_RESULTS."""
        statement = select(Ticket, Open311Request).join(Open311Request, _joined())
        if query.numbers:
            statement = statement.where(col(Ticket.number).in_(list(query.numbers)))
        else:
            start, end = _window(query.start, query.end, now)
            statement = statement.where(col(Ticket.created_at) >= start, col(Ticket.created_at) <= end)
            if query.service_codes:
                statement = statement.where(col(Open311Request.service_code).in_(list(query.service_codes)))
            wanted = set(query.statuses)
            if wanted - {"open", "closed"}:
                raise InvalidInput("status must be open or closed")
            if wanted == {"open"}:
                statement = statement.where(col(Ticket.state).not_in([s.value for s in CLOSED]))
            elif wanted == {"closed"}:
                statement = statement.where(col(Ticket.state).in_([s.value for s in CLOSED]))
        statement = statement.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()).limit(MAX_RESULTS)
        with Session(self.engine) as session:
            rows = list(session.exec(statement).all())
            ids = [ticket.id for ticket, _ in rows]
            answers: dict[int, str] = {}
            for reply in session.exec(select(Reply).where(col(Reply.ticket_id).in_(ids)).order_by(col(Reply.id))).all():
                answers[reply.ticket_id] = reply.text  # the latest answer wins
            into_ids = {t.merged_into_id for t, _ in rows if t.merged_into_id}
            merged_into = {t.id: t.number for t in session.exec(select(Ticket).where(col(Ticket.id).in_(into_ids)))} \
                if into_ids else {}
        names = {d.code: d.name for d in self.tickets.departments()}
        return [_public(ticket, row, answers.get(ticket.id), merged_into, names) for ticket, row in rows]  # type: ignore[arg-type]


def _public(ticket: Ticket, row: Open311Request, answer: str | None, merged_into: dict[int, str],
            names: dict[str, str]) -> PublicRequest:
    department = names.get(ticket.department_code, ticket.department_code) if ticket.department_code else None
    return PublicRequest(
        service_request_id=ticket.number,
        status="closed" if ticket.state in CLOSED else "open",
        status_notes=status_notes(ticket, department, answer, merged_into.get(ticket.merged_into_id or 0)),
        service_name=names.get(row.service_code, row.service_code),
        service_code=row.service_code,
        description=mask_personal(ticket.text),
        agency_responsible=department,
        service_notice=None,
        requested_datetime=ticket.created_at,
        updated_datetime=ticket.updated_at,
        expected_datetime=ticket.answer_due if ticket.state not in CLOSED else None,
        address=mask_personal(row.address_string) if row.address_string else None,
        lat=row.lat,
        long=row.long,
        media_url=row.media_url,
    )


def status_notes(ticket: Ticket, department: str | None, answer: str | None, merged_into: str | None) -> str:
    """The public word on a request: the department's masked answer once there is one."""
    state = State(ticket.state)
    if state in (State.answered, State.closed) and answer:
        return mask_personal(answer)
    if state == State.merged:
        return f"已并入工单 {merged_into} 一并办理。" if merged_into else "已与相同诉求的工单一并办理。"
    if state == State.invalid:
        return "经核实，该诉求不属于12345热线受理范围或为无效信息，不予受理。"
    if state == State.closed:
        return "已办结。"
    where = department or "承办单位"
    return {
        State.new: "已受理，正在确定承办单位。",
        State.assigned: f"已派至{where}，等待签收。",
        State.accepted: f"{where}已签收，正在办理。",
        State.returned: "正在重新确定承办单位。",
        State.reopened: f"群众对答复不满意，{where}正在重新办理。",
    }.get(state, "正在办理。")


def _joined() -> ColumnElement[bool]:
    return and_(col(Ticket.channel) == CHANNEL, col(Ticket.external_message_id) == col(Open311Request.token))


def _window(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    start = ensure_aware(start) if start else None
    end = ensure_aware(end) if end else None
    if start and end:
        if end < start:
            raise InvalidInput("end_date is before start_date")
        if end - start > MAX_SPAN:
            raise InvalidInput("start_date and end_date may not span more than 90 days")
        return start, end
    if start:
        return start, start + MAX_SPAN
    if end:
        return end - MAX_SPAN, end
    return now - DEFAULT_SPAN, now


def _clip(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None
