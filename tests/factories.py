"""Small helpers that build tickets and find people, for tests on a real database."""

from __future__ import annotations

import itertools
from datetime import datetime

from hotline.bootstrap import App
from tickets.directory import Directory
from tickets.intake import CitizenRef, Submission
from tickets.models import Ticket

_serial = itertools.count(1)


def staff_id(app: App, name: str) -> int:
    person = next(p for p in Directory(app.engine).everyone() if p.name == name)
    assert person.id is not None
    return person.id


def people(app: App) -> dict[str, int]:
    """Ids of the config.yml people the tests act as."""
    return {
        "dispatcher": staff_id(app, "调度员王芳"),
        "leader": staff_id(app, "李副市长"),
        "housing_head": staff_id(app, "住建局张伟"),
        "housing_staff": staff_id(app, "住建局刘洋"),
        "water_head": staff_id(app, "水务局孙丽"),
    }


def submit(
    app: App,
    text: str = "我们小区物业乱收费，开发商交房后房屋漏水也不管",
    citizen: str = "citizen-1",
    department: str | None = "housing",
    ticket_type: str | None = "complaint",
    now: datetime | None = None,
    channel: str = "web",
) -> Ticket:
    result = app.tickets.submit(
        Submission(channel, f"msg-{next(_serial)}", CitizenRef(channel, citizen), text, ticket_type=ticket_type,
                   department=department),
        now,
    )
    return result.ticket
