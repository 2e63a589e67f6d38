"""The workbench's words (zh-CN): actions, event notes, and the domain's refusals as sentences.

The domain's own messages are English (logs, CLI); staff read these."""

from __future__ import annotations

import re

from tickets.errors import DomainError, InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from tickets.models import TicketEvent
from tickets.states import ACTION_LABELS_ZH, STATE_LABELS_ZH, TRANSITIONS, State, Who

DONE = {
    "accept": "已签收。请在答复时限内答复群众。",
    "answer": "已答复，答复已发送给群众，等待群众评价。",
    "return": "已退单，工单已退回热线中心重新分派。",
    "request_extension": "延期申请已提交，等待派单员审批。",
    "assign": "已派单。",
    "reroute": "已改派。",
    "grant_extension": "已同意延期，答复时限已顺延。",
    "refuse_extension": "已不同意延期，答复时限不变。",
    "close": "已办结。",
    "invalidate": "已标记为无效工单。",
    "merge": "已并单。",
    "retype": "已改类型，答复时限已按新类型重算。",
    "mark_urgent": "已标记为紧急，承办单位已收到通知。",
    "supervise": "已督办，承办单位须确认已阅。",
    "acknowledge_supervision": "已确认督办意见。",
    "callback": "已记录回访结果。",
}
WHO_ZH = {Who.operator: "话务员", Who.dispatcher: "派单员", Who.department: "承办单位", Who.citizen: "群众本人", Who.system: "系统"}
EMPTY_WHAT = {"the answer": "答复内容", "the reason for returning": "退单理由", "the reason (无效原因)": "无效原因",
              "the reason for the extension": "延期理由"}
_NUMBER = re.compile(r"\d{8}-\d{4,}")
_STATE = re.compile(r"it is (\w+) ")


def action_zh(action: str) -> str:
    return "查看" if action == "view" else ACTION_LABELS_ZH.get(action, action)


def refusal(err: DomainError) -> str:
    """One Chinese sentence for a refusal by the domain."""
    text = str(err)
    if isinstance(err, PermissionDenied):
        if err.action == "view" or err.action not in TRANSITIONS:
            return f"您无权查看工单 {err.number}：它不属于本单位。"
        who = "或".join(WHO_ZH[w] for w in sorted(TRANSITIONS[err.action].who) if w in WHO_ZH)
        return f"您无权对工单 {err.number} 执行“{action_zh(err.action)}”：只有该工单的{who}可以。"
    if isinstance(err, TransitionNotAllowed):
        if "already asked" in err.reason:
            return f"工单 {err.number} 本轮答复已经申请过延期，不能再次申请。"
        if "no extension request" in err.reason:
            return f"工单 {err.number} 没有待审批的延期申请。"
        if "already marked urgent" in err.reason:
            return f"工单 {err.number} 已经是紧急工单。"
        if "no supervision note" in err.reason:
            return f"工单 {err.number} 没有待确认的督办意见。"
        if err.reason.startswith("target"):
            return f"目标工单已无效或已并入其他工单，不能将工单 {err.number} 并入。"
        found = _STATE.match(err.reason)
        if found and found.group(1) in State.__members__:
            return f"工单 {err.number} 当前为“{STATE_LABELS_ZH[State(found.group(1))]}”，不能{action_zh(err.action)}。"
        return f"工单 {err.number} 现在不能{action_zh(err.action)}。"
    if isinstance(err, NotFound):
        number = _NUMBER.search(text)
        return f"没有找到工单 {number.group(0)}，请核对工单号。" if number else "没有找到该工单，请核对工单号。"
    if isinstance(err, InvalidInput):
        for english, chinese in EMPTY_WHAT.items():
            if text.startswith(english):
                return f"{chinese}不能为空。"
        days = re.match(r"extension must be 1 to (\d+)", text)
        if days:
            return f"延期天数须为 1 至 {days.group(1)} 个工作日。"
        if text.startswith("malformed phone number"):
            return "电话号码格式不正确：请输入11位手机号或带区号的固定电话。"
        if "already a" in text:
            return "工单已经是该类型。"
        if "the supervision note" in text:
            return "督办意见不能为空。"
        if "unknown callback result" in text:
            return "请选择回访结果：满意、基本满意、不满意或未接通。"
        if "unknown department" in text:
            return "请选择一个有效的承办单位。"
        if "merged into itself" in text:
            return "工单不能并入它自己，请填写另一张工单的编号。"
        return "输入有误，请检查后重试。"
    return "操作没有成功，请稍后再试。"


def event_note(event: TicketEvent, names: dict[str, str]) -> str:
    """An event's note for people: department codes become names, "3d: …" becomes 3个工作日."""
    note = event.note or ""
    if event.action == "assign":
        return names.get(note, note)
    if event.action == "reroute" and " -> " in note:
        before, after = note.split(" -> ", 1)
        return f"{names.get(before, before)} → {names.get(after, after)}"
    if event.action == "request_extension":
        days, _, reason = note.partition("d: ")
        return f"{days}个工作日：{reason}" if days.isdigit() else note
    if event.action == "merge":
        return f"并入 {note}"
    return note
