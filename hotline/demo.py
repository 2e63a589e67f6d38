"""A simulated city for `hotline demo`: weeks of tickets through the real domain transitions.

Deterministic for a seed. Departments differ in speed, return rate and satisfaction; citizens
write less at night and on rest days; department staff work only on working days. Some messages
carry phone and ID-card numbers, so that masking on the public page can be checked.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from tickets import transitions
from tickets.actors import SYSTEM, Actor, citizen_actor
from tickets.intake import CitizenRef, Submission, create_ticket
from tickets.models import Department, Staff, Ticket
from tickets.routing import Classifier
from tickets.states import ActorKind, Rating, Role, State, TicketType
from tickets.timelimits import Policy

PLACES = ["朝阳区", "东城区", "高新区", "滨江区", "经开区", "城南街道", "北关街道", "新华路", "建设大道", "人民路",
          "幸福里小区", "锦绣花园", "阳光新城", "翠湖苑", "和平村", "长乐镇"]
OPENERS = {
    TicketType.complaint: ["市民来电反映：", "投诉：", "", "来电人称，", "我要反映一下，"],
    TicketType.consultation: ["来电咨询：", "请问", "咨询一下，", "", "市民来电咨询"],
    TicketType.suggestion: ["建议：", "市民来电建议", "希望", "我有个建议，"],
}
ISSUES = {
    TicketType.complaint: "{place}{kw}的问题已经持续{days}天了，多次反映没有结果，希望相关部门尽快处理。",
    TicketType.consultation: "{place}{kw}方面的政策是怎样的，需要准备哪些材料，到哪里办理？",
    TicketType.suggestion: "在{place}加强{kw}方面的管理和服务，方便周边群众。",
}
SPAM = ["哈哈哈哈哈", "在吗在吗", "测试一下", "加微信领红包，点击链接", "你们电话怎么老是占线", "。。。"]
ANSWERS = ["经核实，已安排工作人员到现场处理，问题已整改到位。", "您咨询的事项已按政策答复，详见以上说明。",
           "已转交属地街道跟进，将于近期完成整改。", "感谢您的建议，我局将认真研究并在后续工作中采纳。"]


@dataclass(frozen=True)
class Temper:
    """How a department behaves: hours to accept and answer, return and satisfaction rates."""

    accept_hours: float
    answer_days: float
    return_rate: float
    satisfaction: float
    rating_rate: float


def _tempers(codes: list[str], rng: random.Random) -> dict[str, Temper]:
    return {
        code: Temper(
            accept_hours=rng.uniform(1, 30),
            answer_days=rng.uniform(0.3, 1.3),  # fraction of the time limit used, >1 is late
            return_rate=rng.uniform(0.01, 0.12),
            satisfaction=rng.uniform(0.65, 0.97),
            rating_rate=rng.uniform(0.5, 0.9),
        )
        for code in codes
    }


def _text(rng: random.Random, ticket_type: TicketType, keyword: str) -> str:
    body = ISSUES[ticket_type].format(place=rng.choice(PLACES), kw=keyword, days=rng.randint(2, 30))
    text = rng.choice(OPENERS[ticket_type]) + body
    roll = rng.random()
    if roll < 0.25:
        text += f"联系电话1{rng.choice('3589')}{rng.randint(0, 999999999):09d}。"
    elif roll < 0.30:
        text += f"本人身份证号110101{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 9999):04d}。"
    if rng.random() < 0.2:
        text = f"我叫{rng.choice('王李张刘陈杨赵黄周吴')}{rng.choice(['伟', '芳', '娜', '敏', '静', '强'])}，" + text
    return text


def _created_times(rng: random.Random, policy: Policy, start: datetime, end: datetime, per_day: int) -> list[datetime]:
    times: list[datetime] = []
    day = policy.calendar.local_day(start)
    while policy.calendar.start_of(day) < end:
        volume = per_day if policy.calendar.is_workday(day) else int(per_day * 0.45)
        for _ in range(max(0, int(rng.gauss(volume, volume * 0.1)))):
            hour = min(23.99, max(0.0, rng.gauss(13, 4.5)))
            moment = policy.calendar.start_of(day) + timedelta(hours=hour)
            if start <= moment < end:
                times.append(moment)
        day += timedelta(days=1)
    return sorted(times)


def simulate(
    engine: Engine,
    policy: Policy,
    classifier: Classifier,
    weeks: int,
    per_day: int,
    seed: int,
    end: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    rng = random.Random(seed)
    with Session(engine, expire_on_commit=False) as session:
        departments = list(session.exec(select(Department).where(Department.active == True)).all())  # noqa: E712
        staff = list(session.exec(select(Staff).where(Staff.active == True)).all())  # noqa: E712
    keywords = {d.code: d.name.removeprefix("市") for d in departments}
    tempers = _tempers([d.code for d in departments], rng)
    actors = {
        s.department_code: Actor(ActorKind.staff, s.id, Role(s.role), s.department_code, s.name)
        for s in staff if s.role in (Role.staff, Role.head)
    }
    dispatcher_row = next((s for s in staff if s.role == Role.dispatcher), None)
    if dispatcher_row is None:
        raise RuntimeError("the demo needs a dispatcher: add one to config.yml or with `hotline staff add`")
    dispatcher = Actor(ActorKind.staff, dispatcher_row.id, Role.dispatcher, None, dispatcher_row.name)
    codes = [d.code for d in departments if d.code in actors]
    from hotline.demo_keywords import keywords_for  # noqa: PLC0415 - a table only the demo needs

    start = end - timedelta(weeks=weeks)
    moments = _created_times(rng, policy, start, end, per_day)
    known = set(codes)
    latest: dict[str, Ticket] = {}
    batch = 100  # short write transactions: a running server keeps working during a demo
    for index in range(0, len(moments), batch):
        with Session(engine, expire_on_commit=False) as session:
            for offset, created in enumerate(moments[index : index + batch]):
                serial = index + offset
                code = rng.choice(codes)
                ticket_type = rng.choices(list(TicketType), weights=[38, 52, 10])[0]
                spam = rng.random() < 0.02
                routed_by_citizen = not spam and rng.random() < 0.9
                if spam:
                    text = rng.choice(SPAM)
                elif routed_by_citizen:
                    text = _text(rng, ticket_type, rng.choice(keywords_for(code, keywords)))
                else:  # vague enough that the router leaves it to a dispatcher
                    text = f"{rng.choice(PLACES)}那边的事情已经{rng.randint(2, 9)}天了，一直没人管，麻烦帮忙转给相关部门。"
                submission = Submission(
                    channel=rng.choices(["telegram", "web", "phone"], weights=[3, 2, 5])[0],
                    external_message_id=f"demo-{seed}-{serial}",
                    citizen=CitizenRef("demo", f"citizen-{rng.randint(1, max(10, len(moments) // 3))}"),
                    text=text,
                    ticket_type=ticket_type,
                    department=code if routed_by_citizen else None,
                )
                ticket = create_ticket(session, submission, classifier, policy, created, known)
                if spam:
                    _spam(session, ticket, rng, dispatcher, end)
                    continue
                original = latest.get(code)
                if original is not None and rng.random() < 0.015 and original.state not in (State.invalid, State.merged):
                    at = created + timedelta(minutes=rng.randint(5, 90))
                    if at < end:  # a second citizen writes about the same problem: 并单
                        transitions.merge(session, ticket, original, dispatcher, at)
                        continue
                latest[code] = ticket
                _live(session, ticket, rng, policy, tempers, actors, dispatcher, end, code)
            session.commit()
        if progress:
            progress(min(index + batch, len(moments)), len(moments))
    return len(moments)


def _after(policy: Policy, moment: datetime, hours: float) -> datetime:
    """A moment `hours` of working time later: staff act on working days only."""
    return policy.calendar.add_working_days(moment, hours / 24)


def _spam(session, ticket, rng, dispatcher, end) -> None:  # type: ignore[no-untyped-def]
    at = ticket.created_at + timedelta(hours=rng.uniform(0.2, 4))
    if ticket.state == State.new and at < end:
        transitions.invalidate(session, ticket, dispatcher, "无效诉求（重复骚扰/非本热线受理范围）", at)


def _live(session, ticket, rng, policy, tempers, actors, dispatcher, end, code) -> None:  # type: ignore[no-untyped-def]
    """Play one ticket's life forward until `end`."""
    now = ticket.created_at
    if ticket.state == State.new:
        now = now + timedelta(hours=rng.uniform(0.3, 6))
        if now >= end:
            return
        transitions.assign(session, ticket, code, dispatcher, now, policy)
    temper = tempers[ticket.department_code]
    actor = actors[ticket.department_code]
    now = _after(policy, now, rng.expovariate(1 / temper.accept_hours))
    if now >= end:
        return
    if rng.random() < temper.return_rate:
        transitions.return_ticket(session, ticket, actor, "非我单位职责，请改派", now)
        now += timedelta(hours=rng.uniform(0.5, 8))
        if now >= end:
            return
        other = rng.choice([c for c in actors if c != ticket.department_code])
        transitions.reroute(session, ticket, other, dispatcher, now, policy)
        temper, actor = tempers[other], actors[other]
        now = _after(policy, now, rng.expovariate(1 / temper.accept_hours))
        if now >= end:
            return
    transitions.accept(session, ticket, actor, now)
    for round_ in range(3):
        limit_hours = policy.limits.answer_days_for(ticket.type, ticket.department_code) * 24
        now = _after(policy, now, limit_hours * rng.uniform(0.1, 2 * temper.answer_days))
        if now >= end:
            return
        transitions.answer(session, ticket, actor, rng.choice(ANSWERS), now)
        if rng.random() > temper.rating_rate:
            closes = policy.callback_due(now) + timedelta(minutes=rng.randint(1, 300))
            if closes < end:
                transitions.auto_close(session, ticket, SYSTEM, closes, policy)
            return
        now += timedelta(hours=rng.uniform(0.5, 60))
        if now >= end:
            return
        happy = rng.random() < temper.satisfaction or round_ == 2
        rating = rng.choice([Rating.satisfied, Rating.basically_satisfied]) if happy else Rating.dissatisfied
        transitions.rate(session, ticket, citizen_actor(ticket.citizen_id), rating, now, policy,
                         comment=None if happy else "问题没有解决")
        if happy:
            return
