"""What the public may see (政务公开): resolved cases, after the fact, never identifying.

A case is published only if it was closed (满意/基本满意, 未评价 or closed by a dispatcher) in a
week that has ended; it was not urgent; and it is of no sensitive kind (config.yml
`publication.sensitive`: 举报 of a person, public security's crimes and 户籍, medical disputes…).
Only a masked excerpt of the citizen's text and of the department's last answer is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine, select
from sqlmodel import Session

from tickets.masking import mask_personal
from tickets.models import Department, Reply, Ticket
from tickets.states import TYPE_LABELS_ZH, State, TicketType

_SENTENCE_END = re.compile(r"[。！？!?；;]")


@dataclass(frozen=True)
class SensitiveKind:
    """Tickets never published: of one of `departments` (any, if empty) whose text has one of
    `words` (any text, if empty). At least one of the two is given."""

    name: str
    departments: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()

    def matches(self, department_code: str | None, text: str) -> bool:
        if self.departments and department_code not in self.departments:
            return False
        return not self.words or any(word in text for word in self.words)


@dataclass(frozen=True)
class PublicationRules:
    cases: int = 30  # at most this many cases a week
    excerpt_chars: int = 60  # of the citizen's text, after masking
    answer_chars: int = 120  # of the department's answer, after masking
    sensitive: tuple[SensitiveKind, ...] = field(default_factory=tuple)

    def sensitive_kind(self, department_code: str | None, text: str) -> str | None:
        return next((kind.name for kind in self.sensitive if kind.matches(department_code, text)), None)


@dataclass(frozen=True)
class PublicCase:
    number: str
    type_label: str
    department: str
    question: str
    answer: str
    received_on: date
    answered_on: date


_CLAUSE = re.compile(r"[^，。！？；,!?;]+[，。！？；,!?;]?")
_CONTACT = re.compile(r"^\s*(?:我叫|本人|我是|姓名|联系人|联系电话|联系方式|电话|手机|微信|邮箱|身份证|住|家住|地址)")


def without_contact(text: str) -> str:
    """A masked citizen's text without the clauses that only said who and where they are
    (我叫某某，电话1**********，住…**室): what is left says what the matter is."""
    kept = [c for c in _CLAUSE.findall(text) if "*" not in c and not _CONTACT.match(c)]
    return "".join(kept).lstrip("，,;； ") or text


def excerpt(text: str, limit: int) -> str:
    """The opening sentences of an already masked text, at most `limit` characters (… if cut)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] >= limit // 2:
        return cut[: ends[-1]].rstrip() + "…"
    return cut[: limit - 1] + "…"


def resolved_cases(
    engine: Engine, since: datetime, until: datetime, now: datetime, rules: PublicationRules,
    local_day: Callable[[datetime], date],
) -> list[PublicCase]:
    """Cases closed in [since, until), newest first, if that period has ended by `now`; else none.

    `local_day` turns a stored UTC moment into the city's date (dates only: a minute could identify)."""
    if until > now or rules.cases <= 0:
        return []
    with Session(engine) as session:
        picked = list(_publishable(session, since, until, rules))
        answers: dict[int, Reply] = {}
        ids = [ticket.id for ticket, _ in picked]
        if ids:
            query = select(Reply).where(Reply.ticket_id.in_(ids)).order_by(Reply.at, Reply.id)  # type: ignore[attr-defined, arg-type]
            for reply in session.execute(query).scalars():
                answers[reply.ticket_id] = reply  # the last answer wins
    return [
        PublicCase(
            number=ticket.number,
            type_label=TYPE_LABELS_ZH.get(TicketType(ticket.type), ticket.type),
            department=name or "",
            question=excerpt(without_contact(mask_personal(ticket.text)), rules.excerpt_chars),
            answer=excerpt(mask_personal(answers[ticket.id].text), rules.answer_chars) if ticket.id in answers else "",
            received_on=local_day(ticket.created_at),
            answered_on=local_day(ticket.answered_at or ticket.closed_at or ticket.created_at),
        )
        for ticket, name in picked
    ]


def _publishable(session: Session, since: datetime, until: datetime,
                 rules: PublicationRules) -> Iterator[tuple[Ticket, str | None]]:
    """Closed, not urgent, routed to a department, of no sensitive kind; at most rules.cases."""
    query = (
        select(Ticket, Department.name)  # type: ignore[call-overload]
        .join(Department, Department.code == Ticket.department_code)  # type: ignore[arg-type]
        .where(Ticket.state == State.closed, Ticket.closed_at >= since, Ticket.closed_at < until,  # type: ignore[arg-type, operator]
               Ticket.urgent == False)  # noqa: E712
        .order_by(Ticket.closed_at.desc(), Ticket.id.desc())  # type: ignore[union-attr, attr-defined, arg-type]
        .execution_options(yield_per=200)
    )
    taken = 0
    for ticket, name in session.execute(query):
        if rules.sensitive_kind(ticket.department_code, ticket.text) is not None:
            continue
        yield ticket, name
        taken += 1
        if taken >= rules.cases:
            return

