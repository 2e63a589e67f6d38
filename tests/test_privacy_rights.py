"""A citizen's rights (export, erase), the retention job and the registry of holders of personal
data (issue 15, "Citizens' rights under the Personal Information Protection Law")."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.store import BotStore
from hotline import jobs, privacy, reports
from hotline.bootstrap import App
from tests.conftest import FakeClock, local
from tests.factories import people, submit
from tickets import personal_data
from tickets.corrections import NluCorrection
from tickets.intake import CitizenRef, Submission
from tickets.models import Attachment, Citizen, Message, TicketVector
from tickets.privacy import Scope
from tickets.stats import parse_week

PHONE = "13912345678"
TEXT = f"我叫刘建国，家住幸福路12号3栋2单元501室，楼上漏水，电话{PHONE}"


def filed(hotline: App, clock: FakeClock, account: str = "session-liu") -> tuple[int, str]:
    """A web citizen's answered and rated ticket, with a photo, a message and a chat transcript."""
    clock.now = local(2026, 11, 17, 9)
    upload = hotline.settings.env.home / "uploads" / "leak.jpg"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"photo")
    result = hotline.tickets.submit(Submission(
        "web", f"m-{account}", CitizenRef("web", account, phone=PHONE), TEXT, ticket_type="complaint",
        department="housing", phone=PHONE, location="幸福路12号3栋2单元501室", attachments=[("photo", "uploads/leak.jpg")]))
    ticket = result.ticket
    ids = people(hotline)
    hotline.tickets.accept(ticket.number, ids["housing_staff"])
    hotline.tickets.answer(ticket.number, ids["housing_staff"], "已联系刘建国，维修师傅张建军明天上门")
    hotline.tickets.rate(ticket.number, ticket.citizen_id, "satisfied", f"张建军师傅很好，有事打{PHONE}")
    with Session(hotline.engine) as session:
        session.add(Message(citizen_id=ticket.citizen_id, ticket_id=ticket.id, channel="web", direction="in",
                            text=TEXT, at=clock.now))
        session.commit()
    BotStore(hotline.engine).save("web", "transcript", account, {"messages": [{"text": TEXT}]}, clock.now)
    return ticket.citizen_id, ticket.number


def dumped(held: dict[str, Any]) -> str:
    return json.dumps(held, ensure_ascii=False)


def test_export_holds_everything_about_the_person(hotline: App, clock: FakeClock) -> None:
    citizen_id, number = filed(hotline, clock)
    submit(hotline, "别人的诉求，电话13700000000", citizen="someone-else")
    held = privacy.export_citizen(hotline, str(citizen_id), clock.now)
    assert held["citizen"][0]["phone"] == PHONE and held["citizen"][0]["external_id"] == "session-liu"
    assert [t["number"] for t in held["tickets"]] == [number] and held["tickets"][0]["text"] == TEXT
    assert [e["action"] for e in held["events"]][:2] == ["submit", "assign"]
    assert held["ratings"] == [{"number": number, "rating": "satisfied", "comment": f"张建军师傅很好，有事打{PHONE}",
                                "rated_at": held["tickets"][0]["rated_at"]}]
    assert {"source": "citizen", "phone": PHONE} in held["contacts"]
    assert held["replies"][0]["text"].startswith("已联系刘建国")
    assert held["attachments"][0]["ref"] == "uploads/leak.jpg"
    assert held["messages"][0]["text"] == TEXT
    assert held["notices"] and all(n["recipient"] == str(citizen_id) for n in held["notices"])
    assert held["chat"][0]["kind"] == "transcript" and held["chat"][0]["data"]["messages"][0]["text"] == TEXT
    assert "13700000000" not in dumped(held)
    assert privacy.export_citizen(hotline, "web:session-liu", clock.now)["tickets"] == held["tickets"]


def test_erase_removes_personal_data_and_keeps_tickets_and_statistics(hotline: App, clock: FakeClock) -> None:
    citizen_id, number = filed(hotline, clock)
    ticket_id = hotline.tickets.get(number).id
    with Session(hotline.engine) as session:
        session.add(TicketVector(ticket_id=ticket_id, encoder="test", vector=b"\0" * 16, created_at=clock.now))
        session.add(NluCorrection(ticket_id=ticket_id, field="department", from_value="water", to_value="housing",
                                  actor_kind="staff", actor_id=1, at=clock.now))
        session.commit()
    held = privacy.export_citizen(hotline, str(citizen_id), clock.now)
    assert "test" in {v["encoder"] for v in held["ticket_vectors"]} and held["nlu_corrections"][0]["to_value"] == "housing"
    week = parse_week("2026-W47")
    before = reports.report_for(hotline, week, local(2026, 11, 24, 9))["city"]
    changed = privacy.erase_citizen(hotline, str(citizen_id), local(2026, 11, 24, 9))
    assert changed["tickets"] == 1 and changed["chat"] == 1 and changed["files"] == 1

    held = privacy.export_citizen(hotline, str(citizen_id), local(2026, 11, 24, 9))
    for secret in (PHONE, "刘建国", "张建军", "501", "12号", "session-liu", "uploads/leak.jpg"):
        assert secret not in dumped(held), secret
    assert held["messages"] == [] and held["chat"] == [] and held["attachments"] == []
    assert held["ticket_vectors"] == [] and len(held["nlu_corrections"]) == 1  # labels stay, the text is masked
    ticket = hotline.tickets.get(number)
    assert ticket.state == "closed" and ticket.rating == "satisfied" and "漏水" in ticket.text
    assert ticket.anonymised_at is not None and ticket.contact_phone is None
    assert ticket.summary_masked == ticket.summary  # what a 督办 quotes to leaders is the erased text too
    assert not (hotline.settings.env.home / "uploads" / "leak.jpg").exists()
    assert reports.report_for(hotline, week, local(2026, 11, 24, 9))["city"] == before
    with pytest.raises(Exception, match="no citizen"):
        privacy.erase_citizen(hotline, "web:session-liu", local(2026, 11, 24, 9))
    again = privacy.erase_citizen(hotline, str(citizen_id), local(2026, 11, 25, 9))
    assert again["tickets"] == 0 and again["citizen"] == 0


def test_the_retention_job_anonymises_finished_tickets_once(hotline: App, clock: FakeClock) -> None:
    _, number = filed(hotline, clock)
    still_open = submit(hotline, f"物业不修电梯，我是王秀英，电话{PHONE}", citizen="other", now=local(2026, 11, 17, 10))
    closed_at = hotline.tickets.get(number).closed_at
    assert closed_at is not None and hotline.config.privacy.retention_days == 730

    assert jobs.run_jobs(hotline, closed_at + timedelta(days=729), ["anonymise"]) == {"anonymised": 0}
    assert PHONE in hotline.tickets.get(number).text
    later = closed_at + timedelta(days=731)
    assert jobs.run_jobs(hotline, later, ["anonymise"]) == {"anonymised": 1}
    assert jobs.run_jobs(hotline, later, ["anonymise"]) == {"anonymised": 0}
    done = hotline.tickets.get(number)
    assert PHONE not in done.text and "刘建国" not in done.text and done.contact_phone is None
    assert all("刘建国" not in r.text and "张建军" not in r.text for r in hotline.tickets.replies(number))
    assert "张建军" not in (done.rating_comment or "") and PHONE not in (done.rating_comment or "")
    with Session(hotline.engine) as session:
        assert session.exec(select(Attachment)).all() == []
        kept = session.exec(select(Message).where(Message.ticket_id == done.id)).all()
        assert kept and all(PHONE not in m.text for m in kept)
        assert session.get(Citizen, done.citizen_id).phone == PHONE  # the person is not erased, only old tickets
    assert hotline.tickets.get(still_open.number).text.endswith(PHONE)


def test_a_table_registers_its_holder_in_one_line(hotline: App, clock: FakeClock) -> None:
    citizen_id, _ = filed(hotline, clock)
    seen: list[Scope] = []
    personal_data.register("test_vectors", export=lambda session, scope: [{"tickets": scope.ticket_ids}],
                           erase=lambda session, scope: seen.append(scope) or 1)
    try:
        held = privacy.export_citizen(hotline, str(citizen_id), clock.now)
        assert held["test_vectors"] == [{"tickets": [held["tickets"][0]["id"]]}]
        assert privacy.erase_citizen(hotline, str(citizen_id), clock.now)["test_vectors"] == 1
        assert seen[0].citizen_id == citizen_id and seen[0].external_id == "session-liu"
    finally:
        personal_data._holders.pop("test_vectors")



def test_an_open311_reporter_is_exported_and_erased_and_the_request_still_answers(hotline: App) -> None:
    from tests.browser import served
    from tests.test_open311 import file_one, get
    from tickets.apikeys import ApiKeys
    from tickets.open311_models import Open311Request

    key = ApiKeys(hotline.engine).add("fixmystreet", hotline.now())[1]
    with served(hotline) as base:
        number = file_one(base, key)
        ticket = hotline.tickets.get(number)
        token = ticket.external_message_id
        held = privacy.export_citizen(hotline, str(ticket.citizen_id), hotline.now())
        assert held["open311_requests"][0]["email"] == "wjg@example.com"
        changed = privacy.erase_citizen(hotline, str(ticket.citizen_id), hotline.now())
        assert changed["open311_requests"] == 1
        with Session(hotline.engine) as session:
            request = session.exec(select(Open311Request).where(Open311Request.token == token)).one()
        assert request.email is None and request.device_id is None and request.lat is None
        found = get(base, f"requests/{number}.json")  # the client still finds its request, masked
        assert found.status_code == 200 and "13812345678" not in found.text and "王建国" not in found.text
    assert "wjg@example.com" not in dumped(privacy.export_citizen(hotline, str(ticket.citizen_id), hotline.now()))
