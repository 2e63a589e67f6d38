"""Summaries masked ahead of the 督办 that quotes them to leaders (tickets/masked_summaries.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from hotline.bootstrap import App
from hotline.jobs import run_jobs
from tests.conftest import local
from tests.factories import people
from tickets.intake import CitizenRef, Submission
from tickets.masked_summaries import mask_summaries, store
from tickets.masking import MASKING_VERSION
from tickets.models import Notice, Ticket
from tickets.sweeps import SWEEPS

NAMED = "房东李建华不退押金，电话13912340000"


def file(app: App, key: str, text: str = NAMED, department: str | None = "housing") -> Ticket:
    return app.tickets.submit(Submission("web", key, CitizenRef("web", f"c-{key}"), text, ticket_type="complaint",
                                         department=department), local(2026, 11, 16, 10)).ticket


def stored(app: App, number: str) -> tuple[str | None, int | None]:
    with Session(app.engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        return ticket.summary_masked, ticket.summary_masked_by


def leaders_overdue(app: App) -> list[str]:
    with Session(app.engine) as session:
        query = select(Notice).where(Notice.kind == "overdue", Notice.recipient_kind == "leaders").order_by(Notice.id)
        return [n.text for n in session.exec(query).all()]


def test_the_regular_run_masks_the_summaries_of_tickets_awaiting_an_answer_once(hotline: App) -> None:
    routed = file(hotline, "m-1")
    unrouted = file(hotline, "m-2", department=None)  # new: waits for a dispatcher, no 督办 can quote it yet
    assert stored(hotline, routed.number) == (None, None)

    assert run_jobs(hotline, local(2026, 11, 16, 11), ["mask_summaries"]) == {"mask_summaries": 1}
    masked, version = stored(hotline, routed.number)
    assert version == MASKING_VERSION and masked is not None
    assert "李建华" not in masked and "13912340000" not in masked and "押金" in masked
    assert stored(hotline, unrouted.number) == (None, None)
    assert mask_summaries(hotline.engine) == 0  # nothing left to do


def test_the_leaders_overdue_notice_quotes_the_stored_mask_of_the_current_masker_only(hotline: App) -> None:
    people(hotline)
    ticket = file(hotline, "m-3")
    mask_summaries(hotline.engine)
    # What the 督办 quotes is the stored text, not a mask computed again: mark it to see.
    with Session(hotline.engine) as session:
        session.execute(update(Ticket).where(Ticket.id == ticket.id).values(summary_masked="（已存脱敏摘要）"))
        session.commit()
    run_jobs(hotline, local(2026, 11, 24, 10), SWEEPS)
    assert "（已存脱敏摘要）" in leaders_overdue(hotline)[-1] and ticket.number in leaders_overdue(hotline)[-1]

    # A mask stored by an older masker is not trusted: the next level's 督办 masks the summary again.
    with Session(hotline.engine) as session:
        session.execute(update(Ticket).where(Ticket.id == ticket.id).values(summary_masked_by=MASKING_VERSION - 1))
        session.commit()
    run_jobs(hotline, local(2026, 11, 26, 10), SWEEPS)
    latest = leaders_overdue(hotline)[-1]
    assert "第2级" in latest and "（已存脱敏摘要）" not in latest
    assert "李建华" not in latest and "13912340000" not in latest and "押金" in latest
    # and the next regular run stores a fresh one
    assert mask_summaries(hotline.engine) == 1
    assert stored(hotline, ticket.number)[1] == MASKING_VERSION


def test_without_a_stored_mask_the_leaders_notice_is_masked_on_the_fly(hotline: App) -> None:
    people(hotline)
    ticket = file(hotline, "m-4")
    run_jobs(hotline, local(2026, 11, 24, 10), SWEEPS)
    assert stored(hotline, ticket.number) == (None, None)
    text = leaders_overdue(hotline)[-1]
    assert "李建华" not in text and "13912340000" not in text and ticket.number in text


def test_a_mask_computed_before_an_erasure_rewrote_the_summary_is_not_stored(hotline: App) -> None:
    ticket = file(hotline, "m-5")
    with Session(hotline.engine) as session:
        session.execute(update(Ticket).where(Ticket.id == ticket.id).values(summary="房东某某不退押金"))
        session.commit()
    with Session(hotline.engine) as session:
        store(session, [(ticket.id, ticket.summary, "（旧摘要的脱敏）")])  # computed from the old summary
        session.commit()
    assert stored(hotline, ticket.number) == (None, None)
