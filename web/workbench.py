"""/workbench: the staff web workbench (departments, dispatchers, leaders) behind /login.

Pages read through tickets.views.TicketViews (which enforces who may see what); every form post
is checked for its CSRF token and then calls one TicketService function, whose refusal is shown
in Chinese (web.workbench_text) and logged in English."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from hotline.bootstrap import App
from tickets.errors import DomainError, InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from tickets.listing import Filters, list_tickets
from tickets.models import Staff
from tickets.states import (
    CALLBACK_RESULT_LABELS_ZH,
    ROLE_LABELS_ZH,
    STATE_LABELS_ZH,
    TYPE_LABELS_ZH,
    Role,
    TicketType,
)
from tickets.views import TicketViews
from web import csrf
from web.auth import current_staff, login_redirect, render
from web.workbench_text import DONE, action_zh, event_note, refusal

log = logging.getLogger(__name__)
# The form a web action posts, and the service function it calls with the form's fields.
Action = Callable[[App, str, int, dict[str, str]], Any]


def _days(hotline: App, form: dict[str, str]) -> int:
    try:
        return int(form.get("days", "").strip())
    except ValueError as err:
        most = hotline.policy.limits.max_extension_days
        raise InvalidInput(f"extension must be 1 to {most} working days, not {form.get('days')!r}") from err


ACTIONS: dict[str, Action] = {
    "accept": lambda h, n, s, f: h.tickets.accept(n, s),
    "answer": lambda h, n, s, f: h.tickets.answer(n, s, f.get("text", "")),
    "return": lambda h, n, s, f: h.tickets.return_ticket(n, s, f.get("reason", "")),
    "request_extension": lambda h, n, s, f: h.tickets.request_extension(n, s, _days(h, f), f.get("reason", "")),
    "assign": lambda h, n, s, f: h.tickets.assign(n, s, f.get("department", "")),
    "reroute": lambda h, n, s, f: h.tickets.reroute(n, s, f.get("department", "")),
    "grant_extension": lambda h, n, s, f: h.tickets.grant_extension(n, s, note=f.get("note") or None),
    "refuse_extension": lambda h, n, s, f: h.tickets.refuse_extension(n, s, note=f.get("note") or None),
    "close": lambda h, n, s, f: h.tickets.close(n, s, note=f.get("note") or None),
    "invalidate": lambda h, n, s, f: h.tickets.invalidate(n, s, f.get("reason", "")),
    "merge": lambda h, n, s, f: h.tickets.merge(n, f.get("into", "").strip(), s),
    "retype": lambda h, n, s, f: h.tickets.retype(n, s, f.get("type", "")),
    "mark_urgent": lambda h, n, s, f: h.tickets.mark_urgent(n, s, f.get("note") or None),
    "supervise": lambda h, n, s, f: h.tickets.supervise(n, s, f.get("text", "")),
    "acknowledge_supervision": lambda h, n, s, f: h.tickets.acknowledge_supervision(n, s),
    "callback": lambda h, n, s, f: h.tickets.record_callback(n, s, f.get("result", ""), f.get("note") or None),
}
STATUS = [(PermissionDenied, 403), (NotFound, 404), (TransitionNotAllowed, 409), (InvalidInput, 400)]


def status_of(err: DomainError) -> int:
    return next((code for kind, code in STATUS if isinstance(err, kind)), 400)


def router(hotline: App) -> APIRouter:
    routes = APIRouter(prefix="/workbench")
    views = TicketViews(hotline.engine)
    calendar = hotline.policy.calendar
    city = hotline.config.city.name

    def local(moment: datetime | None) -> str:
        return calendar.local(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"

    def department_names() -> dict[str, str]:
        return {d.code: d.name for d in hotline.tickets.departments()}

    def page(request: Request, staff: Staff, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        response = render(
            name, city=city, staff=staff, role=ROLE_LABELS_ZH.get(Role(staff.role), staff.role), now=hotline.now(),
            csrf_field=csrf.FIELD, csrf_token=csrf.token_for(request), local=local, names=department_names(),
            states=STATE_LABELS_ZH, types={t.value: TYPE_LABELS_ZH[t] for t in TicketType}, action_zh=action_zh,
            **context,
        )
        response.status_code = status
        return response

    page_ = page  # the list's `page` query parameter shadows it there

    def message(request: Request, staff: Staff, text: str, status: int) -> HTMLResponse:
        return page(request, staff, "workbench_message.html", status, text=text)

    def signed_in(request: Request) -> Staff | Response:
        staff = current_staff(request)
        return staff if staff is not None else login_redirect(request)

    @routes.get("", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        now = hotline.now()
        if staff.role == Role.dispatcher:
            return page(request, staff, "workbench_dispatcher.html", review=views.review_queue(),
                        extensions=views.extension_requests(), answered=views.answered(),
                        emergency=views.emergency_queue(), handling=hotline.tickets.handling_times())
        if staff.role == Role.operator:
            return page(request, staff, "workbench_operator.html", due=hotline.tickets.callbacks_due(now),
                        results=CALLBACK_RESULT_LABELS_ZH)
        if staff.role == Role.kb_editor:
            return RedirectResponse("/workbench/kb", status_code=303)
        if staff.role == Role.leader:
            return page(request, staff, "workbench_leader.html", overdue=views.overdue(now, masked=True),
                        counts=views.open_counts(), handling=hotline.tickets.handling_times())
        queue = views.department_queue(staff.department_code or "")
        return page(request, staff, "workbench_department.html", queue=queue, department=staff.department_code)

    @routes.get("/search", response_class=HTMLResponse)
    def search(request: Request, q: str = "") -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        found = views.search(staff, q)
        if len(found) == 1 and found[0].number == q.strip():
            return RedirectResponse(f"/workbench/ticket/{quote(found[0].number)}", status_code=303)
        return page(request, staff, "workbench_search.html", q=q, found=found)

    def _kb_entry(entry_id: Any) -> Any:
        try:
            return hotline.kb.get(int(entry_id))
        except (NotFound, ValueError, TypeError):
            return None

    @routes.get("/tickets", response_class=HTMLResponse)
    def tickets(request: Request, state: str = "", department: str = "", type: str = "", channel: str = "",
                overdue: str = "", date_from: str = "", date_to: str = "", q: str = "", page: int = 1) -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        try:
            filters = Filters(state, department, type, channel, overdue == "1",
                              date.fromisoformat(date_from) if date_from else None,
                              date.fromisoformat(date_to) if date_to else None, q)
            found = list_tickets(hotline.engine, calendar, staff, filters, hotline.now(), page)
        except (ValueError, DomainError):
            return message(request, staff, "筛选条件有误（日期格式为 2026-11-23），请检查后重试。", 400)
        query = {k: v for k, v in request.query_params.items() if k != "page"}
        return page_(request, staff, "workbench_list.html", found=found, filters=filters, query=urlencode(query))

    def ticket_page(request: Request, staff: Staff, number: str, status: int = 200, **context: Any) -> Response:
        try:
            view = views.page(number, staff, hotline.now())
        except (NotFound, PermissionDenied) as err:
            # Another department's ticket: say only that, not what the refused action found.
            return message(request, staff, refusal(err), status_of(err))
        names = department_names()
        kb_ids = {"kb_offered": view.ticket.nlu.get("kb_offered"), "kb_answered": view.ticket.kb_entry_id}
        kb_entries = {k: _kb_entry(v) for k, v in kb_ids.items() if v}
        may_add = (view.ticket.type == TicketType.consultation and bool(view.replies)
                   and hotline.kb.may_edit(staff, view.ticket.department_code))
        return page(request, staff, "workbench_ticket.html", status, view=view, t=view.ticket,
                    kb_entries=kb_entries, may_add_to_kb=may_add,
                    event_note=lambda e: event_note(e, names),
                    max_extension_days=hotline.policy.limits.max_extension_days, results=CALLBACK_RESULT_LABELS_ZH,
                    **context)

    @routes.get("/ticket/{number}", response_class=HTMLResponse)
    def ticket(request: Request, number: str, done: str | None = None) -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        return ticket_page(request, staff, number, done=DONE.get(done or ""))

    @routes.post("/ticket/{number}/{action}", response_class=HTMLResponse)
    async def act(request: Request, number: str, action: str) -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not csrf.valid(request, form.get(csrf.FIELD)):
            log.warning("workbench: form without a valid CSRF token from staff #%s for %s/%s", staff.id, number, action)
            return message(request, staff, "表单已过期或来源不明（缺少有效的安全令牌），操作未执行。请刷新页面后重试。", 403)
        if action not in ACTIONS:
            return message(request, staff, "不支持的操作。", 404)
        assert staff.id is not None
        try:
            ACTIONS[action](hotline, number, staff.id, form)
        except DomainError as err:
            log.info("workbench: staff #%s %s %s refused: %s", staff.id, action, number, err)
            return ticket_page(request, staff, number, status_of(err), error=refusal(err), form=form, failed=action)
        return RedirectResponse(f"/workbench/ticket/{quote(number)}?done={action}", status_code=303)

    @routes.get("/access", response_class=HTMLResponse)
    def access(request: Request, ticket: str = "") -> Response:
        """Who viewed which ticket's page, for the centre's leaders (个人信息查阅记录)."""
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        try:
            rows = views.access_log(staff, ticket)
        except PermissionDenied:
            return message(request, staff, "只有热线中心领导可以查看个人信息查阅记录。", 403)
        return page(request, staff, "workbench_access.html", rows=rows, q=ticket,
                    roles={r.value: ROLE_LABELS_ZH[r] for r in Role})

    @routes.get("/attachment/{attachment_id}")
    def attachment(request: Request, attachment_id: int) -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        try:
            found = views.attachment(attachment_id, staff)
        except (NotFound, PermissionDenied) as err:
            return message(request, staff, refusal(err), status_of(err))
        if found.ref.startswith(("https://", "http://")):  # a photo an Open311 client app published itself
            return RedirectResponse(found.ref, status_code=303, headers={"Cache-Control": "private, no-store"})
        home = hotline.settings.env.home.resolve()
        path = (home / found.ref).resolve()
        if not path.is_relative_to(home / "uploads"):
            return message(request, staff, "该附件保存在 Telegram 或微信中，网页上无法直接打开。", 404)
        if not path.is_file():
            return message(request, staff, "该照片已超过保存期限，已按规定删除。", 404)
        return FileResponse(Path(path), headers={"Cache-Control": "private, no-store"})

    return routes

