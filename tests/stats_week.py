"""A hand-built week (2026-W19, 4-10 May 2026) whose every figure was computed by hand.

Calendar facts (chinese-calendar): 1-5 May are the Labour Day holiday, Wed 6 May to Fri 8 May are
working days, Sat 9 May is a 调休 make-up working day, Sun 10 May is a rest day. Deadlines: accept
within 1 working day; answer a consultation within 1, a complaint within 5, a suggestion within 15.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.bootstrap import App
from tests.conftest import local
from tests.factories import people, submit
from tickets.states import Rating

WEEK = "2026-W19"
REPORT_NOW = local(2026, 5, 11, 9, 0)  # Monday after the week, 09:00


@dataclass
class Week:
    numbers: dict[str, str]


def build_week(app: App) -> Week:
    p = people(app)
    housing, water, dispatcher = p["housing_staff"], p["water_head"], p["dispatcher"]
    t = app.tickets
    n: dict[str, str] = {}

    def new(key: str, text: str, ticket_type: str, department: str | None, at: object, citizen: str = "c1") -> None:
        n[key] = submit(app, text=text, citizen=f"{citizen}-{key}", department=department, ticket_type=ticket_type,
                        now=at).number  # type: ignore[arg-type]

    # Previous week (W18): one complaint, answered on time after 24 working hours, rated 满意.
    new("P1", "锦绣花园电梯经常故障", "complaint", "housing", local(2026, 4, 28, 10))
    t.accept(n["P1"], housing, local(2026, 4, 28, 11))
    t.answer(n["P1"], housing, "已督促维保单位检修", local(2026, 4, 29, 10))
    t.rate(n["P1"], _citizen(app, n["P1"]), Rating.satisfied, now=local(2026, 4, 29, 12))

    # T1 complaint: accepted on time, answered after 48 h (Wed 10:00 -> Fri 10:00), rated 满意.
    new("T1", "幸福里小区物业乱收费，每月多收二十元", "complaint", "housing", local(2026, 5, 6, 10))
    t.accept(n["T1"], housing, local(2026, 5, 6, 15))
    t.answer(n["T1"], housing, "已责令物业退还多收费用", local(2026, 5, 8, 10))
    t.rate(n["T1"], _citizen(app, n["T1"]), Rating.satisfied, now=local(2026, 5, 9, 12))
    # T2 consultation on the 调休 Saturday: answered after 6 working hours, never rated.
    new("T2", "公租房申请需要准备什么材料", "consultation", "housing", local(2026, 5, 9, 10))
    t.accept(n["T2"], housing, local(2026, 5, 9, 11))
    t.answer(n["T2"], housing, "请携带身份证和收入证明到服务大厅办理", local(2026, 5, 9, 16))
    # T3 complaint created Sunday 23:30 in Shanghai (15:30 UTC): in W19, not yet accepted.
    new("T3", "人民路爆管停水一整天", "complaint", "water", local(2026, 5, 10, 23, 30))
    # T4 complaint: housing sends it back, the dispatcher re-routes it to water, which accepts on time.
    new("T4", "小区门口下水道堵塞污水横流", "complaint", "housing", local(2026, 5, 7, 9))
    t.return_ticket(n["T4"], housing, "非我单位职责", local(2026, 5, 7, 11))
    t.reroute(n["T4"], dispatcher, "water", local(2026, 5, 7, 14))
    t.accept(n["T4"], water, local(2026, 5, 8, 9))
    # T5 consultation: never accepted; due Thu 7 May 09:00, so overdue at the end of the week.
    new("T5", "水费账单怎么查询", "consultation", "water", local(2026, 5, 6, 9))
    # T6 complaint: answered after 20 h, rated 不满意 (reopened), answered again, rated 基本满意.
    new("T6", "幸福里小区物业乱收费，大家意见很大", "complaint", "housing", local(2026, 5, 6, 14))
    t.accept(n["T6"], housing, local(2026, 5, 6, 16))
    t.answer(n["T6"], housing, "已约谈物业公司", local(2026, 5, 7, 10))
    t.rate(n["T6"], _citizen(app, n["T6"]), Rating.dissatisfied, "没有解决", now=local(2026, 5, 7, 12))
    t.answer(n["T6"], housing, "物业已退还费用并公示收费标准", local(2026, 5, 8, 10))
    t.rate(n["T6"], _citizen(app, n["T6"]), Rating.basically_satisfied, now=local(2026, 5, 8, 18))
    # T7 complaint: answered after 5 h, rated 不满意, still reopened at the end of the week.
    new("T7", "楼上装修施工噪音扰民", "complaint", "housing", local(2026, 5, 7, 10))
    t.accept(n["T7"], housing, local(2026, 5, 7, 11))
    t.answer(n["T7"], housing, "已告知施工方控制作业时间", local(2026, 5, 7, 15))
    t.rate(n["T7"], _citizen(app, n["T7"]), Rating.dissatisfied, "还是很吵", now=local(2026, 5, 8, 10))
    # T8 is spam, invalidated; T9 a duplicate of T1, merged: neither counts.
    new("T8", "你好你好", "consultation", None, local(2026, 5, 8, 9))
    t.invalidate(n["T8"], dispatcher, "无效诉求", local(2026, 5, 8, 10))
    new("T9", "幸福里小区物业乱收费问题，再次反映", "complaint", "housing", local(2026, 5, 8, 11))
    t.merge(n["T9"], n["T1"], dispatcher, local(2026, 5, 8, 12))
    # T10 consultation: accepted on time, answered late (due Fri 08:00, answered Fri 12:00), 28 h.
    new("T10", "维修基金怎么申请使用", "consultation", "housing", local(2026, 5, 7, 8))
    t.accept(n["T10"], housing, local(2026, 5, 7, 9))
    t.answer(n["T10"], housing, "请业委会向街道提出申请", local(2026, 5, 8, 12))
    # T11 suggestion: accepted late (due Thu 12:00, accepted Fri 09:00).
    new("T11", "建议增加供水管网巡查频次", "suggestion", "water", local(2026, 5, 6, 12))
    t.accept(n["T11"], water, local(2026, 5, 8, 9))
    # T12 waits for a dispatcher at the end of the week (invalidated only the next Monday).
    new("T12", "你好", "consultation", None, local(2026, 5, 10, 12))
    # Monday 00:30 in Shanghai is still Sunday in UTC, but it belongs to W20.
    new("N1", "翠湖苑路灯不亮", "complaint", "urban_mgmt", local(2026, 5, 11, 0, 30))
    return Week(n)


def later_events(app: App, week: Week) -> None:
    """What happens after the week: none of it may change W19's figures."""
    p = people(app)
    n, t = week.numbers, app.tickets
    t.invalidate(n["T12"], p["dispatcher"], "无效诉求", local(2026, 5, 11, 10))
    t.accept(n["T3"], p["water_head"], local(2026, 5, 11, 10))
    t.accept(n["T5"], p["water_head"], local(2026, 5, 11, 10, 30))
    t.answer(n["T5"], p["water_head"], "可在微信公众号查询", local(2026, 5, 11, 11))
    t.auto_close(n["T2"], local(2026, 5, 12, 17))
    t.answer(n["T7"], p["housing_staff"], "已联合街道执法", local(2026, 5, 12, 9))


def _citizen(app: App, number: str) -> int:
    return app.tickets.get(number).citizen_id


# Expected figures, by hand. Cohort: T1-T7, T10, T11, T12 (T8 invalid and T9 merged by the end).
CITY = {
    "received": 10,
    "accepted_in_time": 6,  # T1 T2 T4(water, first acceptance) T6 T7 T10; T11 late
    "response_rate": 0.6,  # 6 / 10
    "closed": 4,  # T1 T2 T6 T10 answered or closed; T7 is reopened at the end
    "closure_rate": 0.4,  # 4 / 10
    "answered": 5,  # first answers: T1 T2 T6 T7 T10
    "answered_on_time": 4,  # all but T10
    "on_time_rate": 0.8,  # 4 / 5
    "rated": 3,  # T1 T6 T7
    "satisfied": 2,  # T1 满意, T6 基本满意 at last
    "satisfaction_rate": 0.6667,  # 2 / 3
    "rating_rate": 0.6,  # 3 / 5
    "mean_handling_hours": 21.4,  # (48 + 6 + 20 + 5 + 28) / 5 = 107 / 5
    "overdue": 1,  # T5
    "assigned": 10,  # housing T1 T2 T4 T6 T7 T10, water T3 T4 T5 T11
    "returned": 1,  # T4 by housing
    "return_rate": 0.1,  # 1 / 10
}
PREVIOUS_CITY = {"received": 1, "accepted_in_time": 1, "response_rate": 1.0, "closed": 1, "closure_rate": 1.0,
                 "answered": 1, "answered_on_time": 1, "on_time_rate": 1.0, "rated": 1, "satisfied": 1,
                 "satisfaction_rate": 1.0, "rating_rate": 1.0, "mean_handling_hours": 24.0, "overdue": 0,
                 "assigned": 1, "returned": 0, "return_rate": 0.0}
HOUSING = {
    "received": 6,  # assigned to housing: T1 T2 T4 T6 T7 T10
    "accepted_in_time": 5, "response_rate": 0.8333,  # 5 / 6 (T4 was returned before acceptance)
    "closed": 4, "closure_rate": 0.6667,  # 4 / 6
    "answered": 5, "answered_on_time": 4, "on_time_rate": 0.8,
    "rated": 3, "satisfied": 2, "satisfaction_rate": 0.6667, "rating_rate": 0.6,
    "mean_handling_hours": 21.4, "overdue": 0, "returned": 1, "return_rate": 0.1667,  # 1 / 6
    "score": 68.34,  # 100 * (0.10 * 0.8333 + 0.45 * 0.6667 + 0.45 * 0.6667) = 68.336
    "rank": 1,
}
WATER = {
    "received": 4,  # T3 T4 T5 T11
    "accepted_in_time": 1, "response_rate": 0.25,  # T4 only
    "closed": 0, "closure_rate": 0.0, "answered": 0, "on_time_rate": None, "rated": 0,
    "satisfaction_rate": None, "rating_rate": None, "mean_handling_hours": None,
    "overdue": 1, "returned": 0, "return_rate": 0.0,
    "score": 4.55,  # no ratings: (0.10 * 0.25 + 0.45 * 0) / 0.55 = 0.04545
    "rank": 2,
}
TYPES = {
    # T1 T3 T4 T6 T7: accepted T1 T4 T6 T7; answered T1 T6 T7 (73 h); closed T1 T6; assigned 6 (T4 twice)
    "complaint": {"received": 5, "accepted_in_time": 4, "answered": 3, "answered_on_time": 3, "closed": 2,
                  "rated": 3, "satisfied": 2, "mean_handling_hours": 24.33, "overdue": 0, "assigned": 6,
                  "returned": 1},
    # T2 T5 T10 T12: accepted T2 T10; answered T2 T10 (6 + 28 = 34 h), on time T2; overdue T5
    "consultation": {"received": 4, "accepted_in_time": 2, "answered": 2, "answered_on_time": 1, "closed": 2,
                     "rated": 0, "satisfied": 0, "mean_handling_hours": 17.0, "overdue": 1, "assigned": 3,
                     "returned": 0},
    "suggestion": {"received": 1, "accepted_in_time": 0, "answered": 0, "closed": 0, "assigned": 1},
}
OVERDUE_DAYS = 2.6  # T5: due Thu 09:00; Thu 15 h + Fri 24 h + Sat (调休) 24 h + Sun 0 = 63 h = 2.625 days
