"""PostgreSQL words and records the sweeps' notices itself (tickets/sweeps_sql.py): it must record
exactly what the Python path records, row for row, for every kind of ticket a sweep meets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text as sql
from sqlmodel import Session

from hotline.bootstrap import App, bootstrap
from tests.conftest import _truncate_all, local, make_settings
from tests.factories import people, submit
from tickets import sweeps
from tickets.masked_summaries import mask_summaries
from tickets.masking import MASKING_VERSION
from tickets.models import Staff
from tickets.states import Role
from tickets.sweeps import SweepSettings, run_sweeps

pytestmark = pytest.mark.postgres
CATCH_UP = local(2026, 11, 25, 12)  # Wednesday noon, after the scheduler was down for a week


@pytest.fixture
def postgres_hotline(tmp_path: Path, postgres_url: str, clock) -> Iterator[App]:
    _truncate_all(postgres_url)
    app = bootstrap(make_settings(tmp_path, postgres_url), clock=clock, classifier="keywords")
    yield app
    app.engine.dispose()


def _recorded(engine, after_id: int) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sql(
            "SELECT key, kind, ticket_id, recipient_kind, recipient, text, CAST(buttons AS TEXT)::jsonb, "
            "CAST(attachments AS TEXT)::jsonb, created_at, next_attempt_at, attempts, sent_at "
            "FROM notice WHERE id > :after ORDER BY key"), {"after": after_id}).all()]


def _recipients_in_order(engine, after_id: int) -> dict[int, list[tuple]]:
    """Each ticket's notices in the order they were inserted: the order every run locks the keys in
    (heads by staff id, then the leaders), which keeps two schedulers from deadlocking."""
    found: dict[int, list[tuple]] = {}
    with engine.connect() as connection:
        for ticket_id, kind, recipient_kind, recipient in connection.execute(sql(
                "SELECT ticket_id, kind, recipient_kind, recipient FROM notice WHERE id > :after ORDER BY id"),
                {"after": after_id}):
            found.setdefault(ticket_id, []).append((kind, recipient_kind, recipient))
    return found


def _last_id(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sql("SELECT coalesce(max(id), 0) FROM notice")).scalar_one())


def test_the_database_records_the_same_notices_as_the_python_path(postgres_hotline, monkeypatch):
    app = postgres_hotline
    p = people(app)
    def accepted(**kwargs):
        ticket = submit(app, **kwargs)
        app.tickets.accept(ticket.number, p["housing_staff"] if ticket.department_code == "housing" else p["water_head"],
                           kwargs["now"])
        return ticket

    named = accepted(text="我叫王建国，电话13812345678，小区物业乱收费还不给发票", now=local(2026, 11, 16, 9))
    accepted(text="供水管道爆裂，整栋楼停水两天了", department="water", now=local(2026, 11, 16, 9, 5))
    stale = accepted(text="李秀英反映楼道堆放杂物无人清理，电话13900001111", now=local(2026, 11, 17, 9))
    extended = accepted(text="小区电梯经常困人", now=local(2026, 11, 10, 9))
    blank = accepted(text="咨询公租房申请条件", ticket_type="consultation", now=local(2026, 11, 24, 9))
    elsewhere = accepted(text="建议在路口增设红绿灯", ticket_type="suggestion", now=local(2026, 10, 19, 9))
    nobody = accepted(text="小区绿化带被占用种菜", now=local(2026, 11, 12, 9))
    accepted(text="楼上装修噪音太大", now=local(2026, 11, 19, 9))  # answer due within a working day: a reminder
    submit(app, text="小区门口垃圾没人清运", now=local(2026, 11, 23, 9))  # never accepted: two heads
    submit(app, text="自来水发黄有异味", department="water", now=local(2026, 11, 23, 9, 30))  # never accepted, no head
    with Session(app.engine) as session:  # a department with two heads: keys and order by staff id
        session.add(Staff(name="住建局副局长", role=Role.head, department_code="housing", active=True))
        water_head = session.get(Staff, p["water_head"])
        water_head.active = False  # a department without a head: the dispatchers, with a note
        session.add(water_head)
        session.commit()

    mask_summaries(app.engine)
    with app.engine.begin() as connection:
        connection.execute(sql("UPDATE ticket SET summary_masked_by = :old WHERE id = :id"),
                           {"old": MASKING_VERSION - 1, "id": stale.id})  # masked by an older masker: Python masks it
        connection.execute(sql("UPDATE ticket SET extension_state = 'granted' WHERE id = :id"), {"id": extended.id})
        connection.execute(sql("UPDATE ticket SET summary = '', summary_masked = '' WHERE id = :id"), {"id": blank.id})
        connection.execute(sql("UPDATE ticket SET department_code = 'nowhere' WHERE id = :id"), {"id": elsewhere.id})
        connection.execute(sql("UPDATE ticket SET department_code = NULL WHERE id = :id"), {"id": nobody.id})

    policy, settings = app.policy, SweepSettings()
    before = _last_id(app.engine)
    monkeypatch.setattr(sweeps, "SET_BASED", False)
    by_python = run_sweeps(app.engine, policy, CATCH_UP, settings)
    python_rows, python_order = _recorded(app.engine, before), _recipients_in_order(app.engine, before)
    with app.engine.begin() as connection:
        connection.execute(sql("DELETE FROM notice WHERE id > :after"), {"after": before})
    monkeypatch.setattr(sweeps, "SET_BASED", True)
    by_database = run_sweeps(app.engine, policy, CATCH_UP, settings)
    database_rows = _recorded(app.engine, before)

    assert by_database == by_python
    assert database_rows == python_rows
    assert _recipients_in_order(app.engine, before) == python_order
    kinds = {(row[1], row[3]) for row in database_rows}
    assert {("accept_overdue", "staff"), ("accept_overdue", "dispatchers"), ("answer_reminder", "department"),
            ("overdue", "staff"), ("overdue", "dispatchers"), ("overdue", "leaders")} <= kinds
    leaders = {row[2]: row[5] for row in database_rows if row[3] == "leaders"}
    assert "王建国" not in leaders[named.id] and "13812345678" not in leaders[named.id]
    assert "李秀英" not in leaders[stale.id] and "王建国" in next(
        row[5] for row in database_rows if row[2] == named.id and row[3] == "staff")
    assert f"工单 {blank.number}（咨询）\n" in leaders[blank.id]
    assert "承办单位：nowhere" in leaders[elsewhere.id] and "承办单位：待分派" in leaders[nobody.id]
    assert any(row[0].startswith(f"overdue:{extended.id}:0.0.x:") for row in database_rows)

    assert run_sweeps(app.engine, policy, CATCH_UP, settings) == dict.fromkeys(by_python, 0)  # each notice once


def test_a_part_that_fails_fails_the_sweep_and_the_next_run_records_the_rest_once(postgres_hotline, monkeypatch):
    from tickets import sweeps_sql

    app = postgres_hotline
    p = people(app)
    tickets = [submit(app, text=f"第{i}号楼电梯停运", now=local(2026, 11, 16, 9)) for i in range(6)]
    for ticket in tickets:
        app.tickets.accept(ticket.number, p["housing_staff"], local(2026, 11, 16, 10))
    mask_summaries(app.engine)
    before = _last_id(app.engine)
    real_run, calls = sweeps_sql._run, []

    def second_part_fails(engine, statement):  # 督办 level 1 (empty here) is calls 1 and 2, level 2 is 3 and 4
        calls.append(statement)
        if len(calls) == 4:
            raise ConnectionError("the database went away")
        return real_run(engine, statement)

    monkeypatch.setattr(sweeps_sql, "_run", second_part_fails)
    with pytest.raises(ConnectionError, match="went away"):
        run_sweeps(app.engine, app.policy, CATCH_UP, SweepSettings(), only=["overdue"])
    first = _recorded(app.engine, before)
    assert len(first) == 3 * 2  # the other part's three tickets: the head and the leaders each
    monkeypatch.setattr(sweeps_sql, "_run", real_run)
    assert run_sweeps(app.engine, app.policy, CATCH_UP, SweepSettings(), only=["overdue"])["overdue"] == 12 - len(first)
    assert {row[2] for row in _recorded(app.engine, before)} == {t.id for t in tickets}
    assert len(_recorded(app.engine, before)) == 12
