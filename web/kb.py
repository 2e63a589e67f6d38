"""/workbench/kb: the knowledge base in the staff workbench — search, read, write, publish.

Department staff draft entries for their department; a dispatcher or a kb_editor publishes and
retires them (tickets.knowledge decides; a refusal is shown in Chinese). 「加入知识库」 on an
answered consultation makes a masked draft from it."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hotline.bootstrap import App
from tickets.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from tickets.knowledge import STATUS_LABELS_ZH, EntryFields, KnowledgeBase, Status
from tickets.models import Staff
from tickets.states import ROLE_LABELS_ZH, Role
from web import csrf
from web.auth import current_staff, login_redirect, render

log = logging.getLogger(__name__)
REFUSALS = {PermissionDenied: (403, "您没有权限进行此操作：承办人只能编写本单位的条目，发布和下线由派单员或知识库编辑负责。"),
            NotFound: (404, "没有找到该条目或工单。"), InvalidInput: (400, "内容有误：")}


def _refusal(err: DomainError) -> tuple[int, str]:
    for kind, (status, text) in REFUSALS.items():
        if isinstance(err, kind):
            return status, text + (str(err) if kind is InvalidInput else "")
    return 400, "操作未执行。"


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError as err:
        raise InvalidInput(f"日期格式应为 2027-01-31，而不是 {value!r}") from err


def _fields(form: dict[str, str]) -> EntryFields:
    return EntryFields(
        question=form.get("question", ""), answer=form.get("answer", ""), department=form.get("department", ""),
        variants=[v for v in form.get("variants", "").splitlines() if v.strip()], topic=form.get("topic") or None,
        tags=[t for t in form.get("tags", "").replace("，", ",").split(",") if t.strip()],
        source=form.get("source") or None, link=form.get("link") or None,
        valid_from=_date(form.get("valid_from", "")), valid_until=_date(form.get("valid_until", "")),
    )


def router(hotline: App) -> APIRouter:
    routes = APIRouter(prefix="/workbench/kb")
    calendar = hotline.policy.calendar
    kb: KnowledgeBase = hotline.kb

    def page(request: Request, staff: Staff, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        names = {d.code: d.name for d in hotline.tickets.departments()}
        response = render(name, city=hotline.config.city.name, staff=staff,
                          role=ROLE_LABELS_ZH.get(Role(staff.role), staff.role), now=hotline.now(),
                          csrf_field=csrf.FIELD, csrf_token=csrf.token_for(request), names=names,
                          local=lambda m: calendar.local(m).strftime("%Y-%m-%d %H:%M") if m else "—",
                          statuses={s.value: label for s, label in STATUS_LABELS_ZH.items()},
                          may_publish=kb.may_publish(staff), today=calendar.local_day(hotline.now()), **context)
        response.status_code = status
        return response

    def signed_in(request: Request) -> Staff | Response:
        staff = current_staff(request)
        return staff if staff is not None else login_redirect(request)

    async def form_of(request: Request) -> dict[str, str] | None:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        return form if csrf.valid(request, form.get(csrf.FIELD)) else None

    @routes.get("", response_class=HTMLResponse)
    def index(request: Request, q: str = "", status: str = "") -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        today = calendar.local_day(hotline.now())
        if q.strip():
            answers = hotline.kb_search.search(q[:2000], 20, today)
            found: list[tuple[Any, float | None, bool]] = [(kb.get(a.entry.id), a.score, a.confident) for a in answers]
        else:
            chosen = status if status in Status.__members__ else None
            found = [(e, None, False) for e in kb.entries(status=chosen, limit=500)]
        return page(request, staff, "workbench_kb_list.html", q=q, status_filter=status, found=found)

    @routes.get("/new", response_class=HTMLResponse)
    def new(request: Request) -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        return page(request, staff, "workbench_kb_entry.html", entry=None, form={"department": staff.department_code or ""},
                    versions=[])

    @routes.get("/{entry_id}", response_class=HTMLResponse)
    def show(request: Request, entry_id: int, done: str = "") -> Response:
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        try:
            entry = kb.get(entry_id)
        except NotFound:
            return page(request, staff, "workbench_kb_list.html", 404, q="", status_filter="", found=[],
                        error="没有找到该条目。")
        return page(request, staff, "workbench_kb_entry.html", entry=entry, versions=kb.versions(entry_id),
                    may_edit=kb.may_edit(staff, entry.department_code), done=done, form=None)

    @routes.post("/{target}", response_class=HTMLResponse)
    async def write(request: Request, target: str) -> Response:
        """new → a draft; ENTRY_ID → the entry changed; from-NUMBER → 「加入知识库」 of a ticket."""
        staff = signed_in(request)
        if not isinstance(staff, Staff):
            return staff
        form = await form_of(request)
        if form is None:
            return page(request, staff, "workbench_kb_list.html", 403, q="", status_filter="", found=[],
                        error="表单已过期或来源不明（缺少有效的安全令牌），操作未执行。请刷新页面后重试。")
        assert staff.id is not None
        try:
            if target == "new":
                entry = kb.create(staff.id, _fields(form))
            elif target.startswith("from-"):
                entry = kb.draft_from_ticket(target.removeprefix("from-"), staff.id)
            elif target.isdigit() and form.get("action") in ("published", "retired", "draft"):
                entry = kb.set_status(int(target), staff.id, Status(form["action"]))
            elif target.isdigit():
                entry = kb.update(int(target), staff.id, _fields(form))
            else:
                raise NotFound(target)
        except DomainError as err:
            status, text = _refusal(err)
            log.info("kb: staff #%s %s refused: %s", staff.id, target, err)
            entry_now = kb.get(int(target)) if target.isdigit() and not isinstance(err, NotFound) else None
            return page(request, staff, "workbench_kb_entry.html", status, entry=entry_now, form=form, error=text,
                        versions=kb.versions(int(target)) if entry_now else [],
                        may_edit=entry_now is not None and kb.may_edit(staff, entry_now.department_code))
        return RedirectResponse(f"/workbench/kb/{entry.id}?done=1", status_code=303)

    return routes
