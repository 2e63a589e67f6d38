"""The knowledge base (知识库): entries with versions, drafted by departments, published by a
dispatcher or a kb_editor, valid between two dates; imports that update rather than duplicate.

Search itself is nlu.retrieval's; this module decides what may be searched (published and valid
today) and who may change what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from tickets.errors import InvalidInput, NotFound, PermissionDenied
from tickets.kb_models import KbEntry, KbMiss, KbVersion
from tickets.masking import mask_personal
from tickets.models import Department, Reply, Staff, Ticket
from tickets.outbox import enqueue
from tickets.states import Role, TicketType
from tickets.text import normalise
from tickets.timeutil import utcnow

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 5000
EXPIRY_NOTICE_DAYS = 14  # the owning department is told this many days before an entry expires


class Status(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


STATUS_LABELS_ZH = {Status.draft: "草稿", Status.published: "已发布", Status.retired: "已下线"}
PUBLISHERS = frozenset({Role.dispatcher, Role.kb_editor})


def question_key(question: str) -> str:
    """What makes two questions the same entry: case, width, spaces and end punctuation aside."""
    return normalise(question, MAX_QUESTION_CHARS).lower().replace(" ", "").rstrip("？?。.！!")


@dataclass
class EntryFields:
    """An entry as written or imported (department as a code)."""

    question: str
    answer: str
    department: str
    variants: list[str] = field(default_factory=list)
    topic: str | None = None
    tags: list[str] = field(default_factory=list)
    source: str | None = None
    link: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    def cleaned(self) -> EntryFields:
        if not (self.question or "").strip():
            raise InvalidInput("the question is empty")
        question = normalise(self.question, 20_000).strip()
        answer = (self.answer or "").strip()
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidInput(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        if not answer:
            raise InvalidInput("the answer is empty")
        if len(answer) > MAX_ANSWER_CHARS:
            raise InvalidInput(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise InvalidInput("valid_until is before valid_from")
        variants = list(dict.fromkeys(normalise(v, MAX_QUESTION_CHARS).strip() for v in self.variants if v and v.strip()))
        return EntryFields(question, answer, self.department, [v for v in variants if v != question],
                           (self.topic or "").strip() or None, [t.strip() for t in self.tags if t.strip()],
                           (self.source or "").strip() or None, (self.link or "").strip() or None,
                           self.valid_from, self.valid_until)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    retired: int


@dataclass(frozen=True)
class Searchable:
    """An entry as search sees it."""

    id: int
    question: str
    variants: list[str]
    answer: str
    department: str
    topic: str | None
    source: str | None
    valid_from: date | None
    valid_until: date | None
    updated_at: datetime


def _snapshot(entry: KbEntry) -> dict[str, Any]:
    return {
        "question": entry.question, "variants": list(entry.variants), "answer": entry.answer, "link": entry.link,
        "source": entry.source, "department": entry.department_code, "topic": entry.topic, "tags": list(entry.tags),
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else None,
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else None, "status": entry.status,
    }


class KnowledgeBase:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow,
                 local_day: Callable[[datetime], date] | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.local_day = local_day or (lambda moment: moment.date())

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # -- who ----------------------------------------------------------------------------------
    def _staff(self, session: Session, staff_id: int) -> Staff:
        staff = session.get(Staff, staff_id)
        if staff is None or not staff.active:
            raise NotFound(f"no active staff member with id {staff_id}")
        return staff

    @staticmethod
    def may_edit(staff: Staff, department: str | None) -> bool:
        """Department staff write for their own department; dispatchers and kb_editors for any."""
        if staff.role in PUBLISHERS:
            return True
        return staff.role in (Role.staff, Role.head) and department is not None and staff.department_code == department

    @staticmethod
    def may_publish(staff: Staff) -> bool:
        return staff.role in PUBLISHERS

    def _departments(self, session: Session) -> dict[str, Department]:
        return {d.code: d for d in session.exec(select(Department).where(Department.active == True)).all()}  # noqa: E712

    def department_code(self, session: Session, value: str) -> str:
        """A department given by its code or its Chinese name."""
        value = (value or "").strip()
        departments = self._departments(session)
        if value in departments:
            return value
        for code, department in departments.items():
            if department.name == value:
                return code
        raise InvalidInput(f"unknown department {value!r} (a code of config.yml or its Chinese name)")

    # -- writing ------------------------------------------------------------------------------
    def _version(self, session: Session, entry: KbEntry, action: str, staff: Staff | None, actor: str,
                 now: datetime) -> None:
        session.flush()
        session.add(KbVersion(entry_id=entry.id, version=entry.version, action=action,  # type: ignore[arg-type]
                              staff_id=staff.id if staff else None, actor=staff.name if staff else actor,
                              at=now, snapshot=_snapshot(entry)))

    def _apply(self, session: Session, entry: KbEntry, fields: EntryFields) -> bool:
        """Copy the fields onto the entry; True when anything changed."""
        departments = self._departments(session)
        topic = fields.topic or (departments[fields.department].topic if fields.department in departments else None)
        new = {
            "question": fields.question, "question_key": question_key(fields.question), "variants": fields.variants,
            "answer": fields.answer, "department_code": fields.department, "topic": topic, "tags": fields.tags,
            "source": fields.source, "link": fields.link, "valid_from": fields.valid_from,
            "valid_until": fields.valid_until,
        }
        changed = any(getattr(entry, k) != v for k, v in new.items())
        for key, value in new.items():
            setattr(entry, key, value)
        return changed

    def _duplicate(self, session: Session, key: str, except_id: int | None) -> None:
        other = session.exec(select(KbEntry).where(KbEntry.question_key == key)).first()
        if other is not None and other.id != except_id:
            raise InvalidInput(f"entry #{other.id} already has this question")

    def create(self, staff_id: int, fields: EntryFields, now: datetime | None = None,
               from_ticket_id: int | None = None) -> KbEntry:
        """A draft, written by staff for their department (or by a publisher for any)."""
        moment = now or self.clock()
        with self.unit_of_work() as session:
            staff = self._staff(session, staff_id)
            fields = fields.cleaned()
            fields.department = self.department_code(session, fields.department)
            if not self.may_edit(staff, fields.department):
                raise PermissionDenied("write", "kb", "staff write entries for their own department only")
            self._duplicate(session, question_key(fields.question), None)
            entry = KbEntry(question="", question_key="", answer="", department_code="", status=Status.draft,
                            from_ticket_id=from_ticket_id, created_at=moment, updated_at=moment)
            self._apply(session, entry, fields)
            session.add(entry)
            self._version(session, entry, "create", staff, "", moment)
            return entry

    def update(self, entry_id: int, staff_id: int, fields: EntryFields, now: datetime | None = None) -> KbEntry:
        moment = now or self.clock()
        with self.unit_of_work() as session:
            staff, entry = self._staff(session, staff_id), self._entry(session, entry_id)
            fields = fields.cleaned()
            fields.department = self.department_code(session, fields.department)
            if not (self.may_edit(staff, entry.department_code) and self.may_edit(staff, fields.department)):
                raise PermissionDenied("write", f"kb #{entry_id}", "staff write entries for their own department only")
            self._duplicate(session, question_key(fields.question), entry.id)
            if self._apply(session, entry, fields):
                # A change by department staff goes back to review; a publisher's edit stays live.
                if not self.may_publish(staff) and entry.status == Status.published:
                    entry.status = Status.draft
                entry.version += 1
                entry.updated_at = moment
                session.add(entry)
                self._version(session, entry, "update", staff, "", moment)
            return entry

    def set_status(self, entry_id: int, staff_id: int, status: Status, now: datetime | None = None) -> KbEntry:
        """Publish or retire (a publisher's call), or send back to draft."""
        moment = now or self.clock()
        with self.unit_of_work() as session:
            staff, entry = self._staff(session, staff_id), self._entry(session, entry_id)
            if not self.may_publish(staff):
                raise PermissionDenied(str(status), f"kb #{entry_id}", "only a dispatcher or a kb_editor publishes")
            if entry.status != status:
                entry.status = status
                entry.version += 1
                entry.updated_at = moment
                if status == Status.published:
                    entry.published_at = moment
                session.add(entry)
                self._version(session, entry, {"published": "publish", "retired": "retire"}.get(status, "update"),
                              staff, "", moment)
            return entry

    def draft_from_ticket(self, number: str, staff_id: int, now: datetime | None = None) -> KbEntry:
        """「加入知识库」: a draft from an answered consultation's question and the department's
        reply, with personal data masked."""
        with self.unit_of_work() as session:
            ticket = session.exec(select(Ticket).where(Ticket.number == number)).first()
            if ticket is None:
                raise NotFound(f"no ticket numbered {number!r}")
            if ticket.type != TicketType.consultation:
                raise InvalidInput("only a consultation becomes a knowledge-base entry")
            reply = session.exec(select(Reply).where(Reply.ticket_id == ticket.id).order_by(Reply.id.desc())).first()  # type: ignore[union-attr]
            if reply is None or ticket.department_code is None:
                raise InvalidInput("the ticket has no answer yet")
            ticket_id, department = ticket.id, ticket.department_code
            question = mask_personal(ticket.text)[:MAX_QUESTION_CHARS]
            answer = mask_personal(reply.text)[:MAX_ANSWER_CHARS]
        fields = EntryFields(question=question, answer=answer, department=department, source=f"工单 {number}")
        return self.create(staff_id, fields, now, from_ticket_id=ticket_id)

    # -- import and export --------------------------------------------------------------------
    def import_rows(self, rows: Sequence[tuple[int, EntryFields]], replace: bool = False,
                    actor: str = "import", now: datetime | None = None) -> ImportResult:
        """Rows (with their line numbers) become published entries in one transaction: a row whose
        question exists updates that entry; `replace` retires every entry the file does not name.
        The first bad row stops it all, named by its line."""
        moment = now or self.clock()
        created = updated = unchanged = retired = 0
        with self.unit_of_work() as session:
            seen: dict[str, int] = {}
            existing = {e.question_key: e for e in session.exec(select(KbEntry)).all()}
            for line, raw in rows:
                try:
                    fields = raw.cleaned()
                    fields.department = self.department_code(session, fields.department)
                except InvalidInput as err:
                    raise InvalidInput(f"line {line}: {err}") from err
                key = question_key(fields.question)
                if key in seen:
                    raise InvalidInput(f"line {line}: the same question as line {seen[key]}")
                seen[key] = line
                entry = existing.get(key)
                if entry is None:
                    entry = KbEntry(question="", question_key="", answer="", department_code="",
                                    status=Status.published, created_at=moment, updated_at=moment, published_at=moment)
                    self._apply(session, entry, fields)
                    session.add(entry)
                    self._version(session, entry, "import", None, actor, moment)
                    created += 1
                    continue
                changed = self._apply(session, entry, fields)
                if changed or entry.status != Status.published:
                    entry.status = Status.published
                    entry.published_at = entry.published_at or moment
                    entry.version += 1
                    entry.updated_at = moment
                    session.add(entry)
                    self._version(session, entry, "import", None, actor, moment)
                    updated += 1
                else:
                    unchanged += 1
            if replace:
                for key, entry in existing.items():
                    if key not in seen and entry.status != Status.retired:
                        entry.status = Status.retired
                        entry.version += 1
                        entry.updated_at = moment
                        session.add(entry)
                        self._version(session, entry, "retire", None, actor, moment)
                        retired += 1
        return ImportResult(created, updated, unchanged, retired)

    # -- reading ------------------------------------------------------------------------------
    def _entry(self, session: Session, entry_id: int) -> KbEntry:
        entry = session.get(KbEntry, entry_id)
        if entry is None:
            raise NotFound(f"no knowledge-base entry #{entry_id}")
        return entry

    def get(self, entry_id: int) -> KbEntry:
        with self.unit_of_work() as session:
            return self._entry(session, entry_id)

    def versions(self, entry_id: int) -> list[KbVersion]:
        with self.unit_of_work() as session:
            query = select(KbVersion).where(KbVersion.entry_id == entry_id).order_by(KbVersion.id.desc())  # type: ignore[union-attr]
            return list(session.exec(query).all())

    def entries(self, status: str | None = None, department: str | None = None, limit: int = 500) -> list[KbEntry]:
        with self.unit_of_work() as session:
            query: Any = select(KbEntry)
            if status:
                query = query.where(KbEntry.status == status)
            if department:
                query = query.where(KbEntry.department_code == department)
            return list(session.exec(query.order_by(KbEntry.id).limit(limit)).all())

    def count(self) -> int:
        with self.unit_of_work() as session:
            return int(session.exec(select(func.count()).select_from(KbEntry)).one())

    def signature(self) -> tuple[int, str]:
        """Changes when anything search reads changes: rebuild the index then."""
        with self.unit_of_work() as session:
            n, last = session.exec(select(func.count(), func.max(KbEntry.updated_at)).select_from(KbEntry)).one()
            return int(n), str(last)

    def searchable(self) -> list[Searchable]:
        """Published entries (validity is checked at search time, so an index outlives midnight)."""
        with self.unit_of_work() as session:
            rows = session.exec(select(KbEntry).where(KbEntry.status == Status.published).order_by(KbEntry.id)).all()  # type: ignore[arg-type]
            return [Searchable(e.id, e.question, list(e.variants), e.answer, e.department_code, e.topic,  # type: ignore[arg-type]
                               e.source, e.valid_from, e.valid_until, e.updated_at) for e in rows]

    def valid_on(self, entry: Searchable | KbEntry, day: date) -> bool:
        return (entry.valid_from is None or entry.valid_from <= day) and (entry.valid_until is None or day <= entry.valid_until)

    def record_miss(self, text: str, best_entry_id: int | None, score: float | None, now: datetime | None = None) -> None:
        with self.unit_of_work() as session:
            session.add(KbMiss(at=now or self.clock(), text=mask_personal(text)[:300], best_entry_id=best_entry_id,
                               score=score))

    # -- the scheduler's job ------------------------------------------------------------------
    def remind_expiring(self, now: datetime, days: int = EXPIRY_NOTICE_DAYS) -> int:
        """Tell each owning department about its published entries that expire within `days`,
        once per entry and expiry date (safe to run twice: the reminder is marked on the entry and
        the notice's key is unique)."""
        today = self.local_day(now)
        sent = 0
        with self.unit_of_work() as session:
            query = select(KbEntry).where(KbEntry.status == Status.published, KbEntry.valid_until != None)  # noqa: E711
            for entry in session.exec(query).all():
                assert entry.valid_until is not None
                if entry.reminded_for == entry.valid_until or entry.valid_until > today + timedelta(days=days):
                    continue
                if entry.valid_until < today:
                    continue  # already out of search; the list shows it as expired
                enqueue(session, key=f"kb_expiry:{entry.id}:{entry.valid_until.isoformat()}", kind="kb_expiry",
                        recipient_kind="department", recipient=entry.department_code,
                        text=f"【知识库到期提醒】条目 #{entry.id}「{entry.question}」将于 {entry.valid_until:%Y-%m-%d} 到期，"
                             "请核对内容并更新有效期，到期后将不再用于答复群众。", now=now)
                entry.reminded_for = entry.valid_until
                session.add(entry)
                sent += 1
        return sent
