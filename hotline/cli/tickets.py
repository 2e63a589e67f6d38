"""`hotline ticket …`: submit, inspect and move tickets from the command line."""

from __future__ import annotations

import uuid

import typer

from hotline.cli.common import (
    FORMAT_OPTION,
    NOW_OPTION,
    Format,
    emit_json,
    get_app,
    handles_errors,
    iso,
    parse_now,
    table,
    ticket_dict,
)
from tickets.directory import Directory
from tickets.intake import CitizenRef, Submission
from tickets.models import Ticket
from tickets.notices import type_zh
from tickets.phones import normalise_phone
from tickets.states import ACTION_LABELS_ZH, RATING_LABELS_ZH, STATE_LABELS_ZH, Rating, State

app = typer.Typer(help="Submit, show, list and move tickets (工单).", no_args_is_help=True)

AS_OPTION = typer.Option(..., "--as", help="id of the staff member acting (see `hotline staff list`)")


def _print(ticket: Ticket, fmt: Format, created: bool | None = None) -> None:
    if fmt is Format.json:
        payload = ticket_dict(ticket)
        if created is not None:
            payload["created"] = created
        emit_json(payload)
        return
    hotline = get_app()
    rows = [
        ("工单号", ticket.number),
        ("状态", f"{ticket.state} ({STATE_LABELS_ZH[State(ticket.state)]})"),
        ("类型", f"{ticket.type} ({type_zh(ticket.type)})"),
        ("承办单位", f"{ticket.department_code or '—'} {hotline.tickets.department_name(ticket.department_code)}"),
        ("话题", ticket.topic),
        ("紧急", "是（已提示拨打110/119/120）" if ticket.urgent else "否"),
        ("需人工分派", "是" if ticket.needs_review else "否"),
        ("诉求", ticket.text if len(ticket.text) < 200 else ticket.text[:200] + "…"),
        ("地点", ticket.location),
        ("联系电话", ticket.contact_phone),
        ("保密", "是" if ticket.confidential else None),
        ("来电/来信次数", hotline.tickets.contact_count(ticket.number)),
        ("渠道", ticket.channel),
        ("受理时间", iso(ticket.created_at)),
        ("签收时限", iso(ticket.accept_due)),
        ("答复时限", iso(ticket.answer_due)),
        ("评价", RATING_LABELS_ZH[Rating(ticket.rating)] if ticket.rating else None),
    ]
    table(["", ""], rows, title=None if created is None else ("新工单" if created else "已存在的工单（重复提交）"))


def _state(value: str | None) -> str:
    return STATE_LABELS_ZH[State(value)] if value else ""


def _short(moment: str | None) -> str:
    return moment[:16].replace("T", " ") if moment else ""


def _actor(kind: str, actor_id: int | None, names: dict[int, str]) -> str:
    if kind == "system":
        return "系统"
    if kind == "citizen":
        return "市民"
    # People read a name; the id stays in `--format json` for scripts.
    return names.get(actor_id, f"工作人员#{actor_id}") if actor_id is not None else "工作人员"


@app.command()
@handles_errors
def submit(
    text: str = typer.Option(..., "--text", help="the citizen's message"),
    citizen: str = typer.Option(None, "--citizen", help="the citizen's id on the channel (default: --phone, else cli-citizen)"),
    channel: str = typer.Option("cli", "--channel", help="cli | phone | web | telegram …"),
    message_id: str = typer.Option(None, "--message-id", help="the channel's message id (same id = same ticket)"),
    ticket_type: str = typer.Option(None, "--type", help="consultation|complaint|suggestion (default: classifier's)"),
    department: str = typer.Option(None, "--department", help="department code (default: classifier's)"),
    phone: str = typer.Option(None, "--phone", help="the caller's phone; identifies them when no --citizen is given"),
    join: str = typer.Option(None, "--join", help="add this as a repeat contact (重复来电) to ticket NUMBER instead"),
    as_: int = typer.Option(None, "--as", help="with --join: the operator or dispatcher joining it (default: the citizen)"),
    confidential: bool = typer.Option(False, "--confidential", help="保密: hide name and phone from the department"),
    now: str = NOW_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Open a ticket from a citizen's message, as intake does for every channel (or join one with --join)."""
    service = get_app().tickets
    number = normalise_phone(phone) if phone else None
    ref = CitizenRef(channel, citizen or number or "cli-citizen", phone=number)
    if join:
        citizen_id = service.citizen_id(ref.channel, ref.external_id, phone=number) if as_ is None else None
        service.add_contact(join, text, channel, staff_id=as_, citizen_id=citizen_id, now=parse_now(now))
        ticket = service.get(join)
        if fmt is Format.json:
            emit_json({**ticket_dict(ticket), "joined": True, "contacts": service.contact_count(join)})
        else:
            typer.echo(f"已作为重复来电加入工单 {ticket.number}（共 {service.contact_count(join)} 次来电/来信）")
        return
    submission = Submission(
        channel=channel,
        external_message_id=message_id or uuid.uuid4().hex,
        citizen=ref,
        text=text,
        ticket_type=ticket_type,
        department=department,
        phone=number,
        confidential=confidential,
    )
    result = service.submit(submission, parse_now(now))
    _print(result.ticket, fmt, created=result.created)


@app.command()
@handles_errors
def show(number: str, fmt: Format = FORMAT_OPTION) -> None:
    """One ticket, with its history."""
    service = get_app().tickets
    ticket = service.get(number)
    events = service.events(number)
    replies = service.replies(number)
    if fmt is Format.json:
        payload = ticket_dict(ticket)
        payload["events"] = [
            {"at": iso(e.at), "action": e.action, "actor_kind": e.actor_kind, "actor_id": e.actor_id,
             "from": e.from_state, "to": e.to_state, "note": e.note}
            for e in events
        ]
        payload["replies"] = [{"at": iso(r.at), "staff_id": r.staff_id, "text": r.text} for r in replies]
        payload["contacts"] = service.contact_count(number)
        payload["callback_attempts"] = [{"at": iso(a.at), "staff_id": a.staff_id, "result": a.result, "note": a.note}
                                        for a in service.callback_attempts(number)]
        emit_json(payload)
        return
    _print(ticket, fmt)
    names = {s.id: s.name for s in Directory(get_app().engine).everyone() if s.id is not None}
    table(
        ["时间", "动作", "操作人", "从", "到", "备注"],
        [(iso(e.at), ACTION_LABELS_ZH.get(e.action, e.action), _actor(e.actor_kind, e.actor_id, names), _state(e.from_state),
          _state(e.to_state), e.note) for e in events],
        title="办理记录",
    )


@app.command()
@handles_errors
def similar(
    number: str = typer.Argument(None, help="the ticket to compare (itself excluded)"),
    text: str = typer.Option(None, "--text", help="a message to compare instead of a ticket"),
    limit: int = typer.Option(5, "--limit", help="how many tickets to list"),
    days: int = typer.Option(None, "--days", help="open tickets of the last N days (default: nlu.similar.days)"),
    now: str = NOW_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """The open tickets most like a ticket or a text, best first; `duplicate` above the calibrated threshold."""
    found = get_app().tickets.similar(text=text, number=number, limit=limit, days=days, now=parse_now(now))
    if fmt is Format.json:
        emit_json([{"number": s.number, "score": s.score, "duplicate": s.duplicate} for s in found])
        return
    table(["工单号", "相似度", "疑似重复"], [(s.number, f"{s.score:.3f}", "是" if s.duplicate else "") for s in found],
          title="相似工单")


@app.command("list")
@handles_errors
def list_(
    state: str = typer.Option(None, "--state", help="only this state"),
    department: str = typer.Option(None, "--department", help="only this department code"),
    limit: int = typer.Option(None, "--limit", help="at most this many, newest first"),
    phone: str = typer.Option(None, "--phone", help="only the tickets of the caller with this phone number"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Tickets, newest first."""
    service = get_app().tickets
    if phone:
        tickets = [t for t in service.tickets_by_phone(phone) if (not state or t.state == state)
                   and (not department or t.department_code == department)][:limit]
    else:
        tickets = service.find(state=state, department=department, limit=limit)
    if fmt is Format.json:
        emit_json([ticket_dict(t) for t in tickets])
        return
    table(
        ["工单号", "状态", "类型", "单位", "受理", "答复时限", "摘要"],
        [(("【急】" if t.urgent else "") + t.number, _state(t.state), type_zh(t.type), t.department_code,
          _short(iso(t.created_at)), _short(iso(t.answer_due)), t.summary) for t in tickets],
        title=f"{len(tickets)} 件工单",
        no_wrap=(0,),
    )


@app.command()
@handles_errors
def assign(number: str, department: str = typer.Option(..., "--department"), as_: int = AS_OPTION,
           now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: send a new ticket to a department (派单)."""
    _print(get_app().tickets.assign(number, as_, department, parse_now(now)), fmt)


@app.command()
@handles_errors
def accept(number: str, as_: int = AS_OPTION, now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Department: accept a ticket (签收)."""
    _print(get_app().tickets.accept(number, as_, parse_now(now)), fmt)


@app.command()
@handles_errors
def answer(number: str, text: str = typer.Option(..., "--text"), as_: int = AS_OPTION,
           now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Department: answer the citizen (答复)."""
    _print(get_app().tickets.answer(number, as_, text, parse_now(now)), fmt)


@app.command("return")
@handles_errors
def return_(number: str, reason: str = typer.Option(..., "--reason"), as_: int = AS_OPTION,
            now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Department: send a misrouted ticket back to the dispatcher (退单), with a reason."""
    _print(get_app().tickets.return_ticket(number, as_, reason, parse_now(now)), fmt)


@app.command()
@handles_errors
def reroute(number: str, department: str = typer.Option(..., "--department"), as_: int = AS_OPTION,
            now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: send an open ticket to another department (改派)."""
    _print(get_app().tickets.reroute(number, as_, department, parse_now(now)), fmt)


@app.command()
@handles_errors
def extend(
    number: str,
    as_: int = AS_OPTION,
    days: int = typer.Option(None, "--days", help="department: working days asked for"),
    reason: str = typer.Option(None, "--reason", help="department: why"),
    grant: bool = typer.Option(False, "--grant", help="dispatcher: grant the pending request"),
    refuse: bool = typer.Option(False, "--refuse", help="dispatcher: refuse the pending request"),
    now: str = NOW_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Ask for an extension (department, once) or decide on one (dispatcher)."""
    service, moment = get_app().tickets, parse_now(now)
    if grant and refuse:
        raise typer.BadParameter("--grant 与 --refuse 只能选一个")
    if grant:
        ticket = service.grant_extension(number, as_, moment, note=reason)
    elif refuse:
        ticket = service.refuse_extension(number, as_, moment, note=reason)
    else:
        if days is None or not reason:
            raise typer.BadParameter("申请延期需要 --days 和 --reason")
        ticket = service.request_extension(number, as_, days, reason, moment)
    _print(ticket, fmt)


@app.command()
@handles_errors
def rate(
    number: str,
    rating: str = typer.Option(..., "--rating", help="satisfied | basically_satisfied | dissatisfied"),
    comment: str = typer.Option(None, "--comment"),
    now: str = NOW_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Record the citizen's rating (回访), e.g. taken by phone. 不满意 reopens the ticket."""
    service = get_app().tickets
    ticket = service.get(number)
    _print(service.rate(number, ticket.citizen_id, rating, comment, parse_now(now)), fmt)


@app.command()
@handles_errors
def reopen(number: str, as_: int = AS_OPTION, note: str = typer.Option(None, "--note"),
           now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: reopen an answered ticket (重办)."""
    _print(get_app().tickets.reopen(number, as_, note, parse_now(now)), fmt)


@app.command()
@handles_errors
def close(number: str, as_: int = AS_OPTION, note: str = typer.Option(None, "--note"),
          now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: close an answered ticket (办结)."""
    _print(get_app().tickets.close(number, as_, note, parse_now(now)), fmt)


@app.command()
@handles_errors
def invalidate(number: str, reason: str = typer.Option(..., "--reason"), as_: int = AS_OPTION,
               now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: mark a ticket invalid (spam, abuse, not the hotline's remit)."""
    _print(get_app().tickets.invalidate(number, as_, reason, parse_now(now)), fmt)


@app.command()
@handles_errors
def merge(number: str, into: str = typer.Option(..., "--into"), as_: int = AS_OPTION,
          now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: merge a ticket into another about the same issue (并单)."""
    _print(get_app().tickets.merge(number, into, as_, parse_now(now)), fmt)
