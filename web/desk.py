"""/desk: the call-taking screen of an operator (话务员) wearing a headset (issue 14).

One page (web/templates/desk.html, web/static/desk.js) and small JSON endpoints that it calls as
the operator types: the caller looked up by number, the NLU's suggestions for the summary, and the
four ways a call ends (a new ticket, a repeat contact joined to an open ticket, an emergency
transfer, a direct answer from the knowledge base). Each ending calls the service and records the
call's handling time. Knowledge-base answers are offered only for a consultation, never for a
complaint or a suggestion."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hotline.bootstrap import App
from tickets.errors import DomainError, InvalidInput
from tickets.intake import CitizenRef, Submission
from tickets.knowledge import Status as KbStatus
from tickets.models import Staff, Ticket
from tickets.phones import normalise_phone
from tickets.states import (
    EMERGENCY_SERVICES,
    ROLE_LABELS_ZH,
    STATE_LABELS_ZH,
    TYPE_LABELS_ZH,
    Role,
    State,
    TicketType,
)
from web import csrf
from web.auth import current_staff, login_redirect, render
from web.workbench_text import refusal

log = logging.getLogger(__name__)
DESK_ROLES = (Role.operator, Role.dispatcher)
SUGGEST_CHARS = 2000
KB_ANSWERS = 3


def _error(text: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status)


def router(hotline: App) -> APIRouter:
    routes = APIRouter(prefix="/desk")
    calendar = hotline.policy.calendar
    service = hotline.tickets

    def local(moment: Any) -> str:
        return calendar.local(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"

    def names() -> dict[str, str]:
        return {d.code: d.name for d in service.departments()}

    def brief(ticket: Ticket) -> dict[str, Any]:
        return {"number": ticket.number, "state": ticket.state, "state_zh": STATE_LABELS_ZH[State(ticket.state)],
                "summary": ticket.summary, "department": names().get(ticket.department_code or "", "待分派"),
                "created": local(ticket.created_at), "type_zh": TYPE_LABELS_ZH[TicketType(ticket.type)]}

    def operator(request: Request) -> Staff | Response:
        staff = current_staff(request)
        if staff is None:
            return login_redirect(request)
        if staff.role not in DESK_ROLES:
            return render("forbidden.html", city=hotline.config.city.name, staff=staff,
                          text="来电受理台仅供话务员和派单员使用。")
        return staff

    async def posted(request: Request) -> tuple[Staff, dict[str, str]] | Response:
        staff = current_staff(request)
        if staff is None or staff.role not in DESK_ROLES:
            return _error("请以话务员身份登录。", 403)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not csrf.valid(request, form.get(csrf.FIELD)):
            return _error("表单已过期（缺少有效的安全令牌），请刷新页面。", 403)
        return staff, form

    def seconds(form: dict[str, str]) -> float:
        try:
            return float(form.get("seconds", "0"))
        except ValueError:
            return 0.0

    @routes.get("", response_class=HTMLResponse)
    def desk(request: Request) -> Response:
        staff = operator(request)
        if not isinstance(staff, Staff):
            return staff
        return render("desk.html", city=hotline.config.city.name, staff=staff,
                      role=ROLE_LABELS_ZH.get(Role(staff.role), staff.role), csrf_field=csrf.FIELD,
                      csrf_token=csrf.token_for(request), departments=names(),
                      types={t.value: TYPE_LABELS_ZH[t] for t in TicketType}, services=EMERGENCY_SERVICES)

    def kb_answers(text: str) -> list[dict[str, Any]]:
        """The knowledge base's best entries for a consultation; the operator judges the unsure ones."""
        try:
            hits = hotline.kb_search.search(text, KB_ANSWERS, hotline.kb.local_day(hotline.now()))
        except Exception:  # noqa: BLE001 - a broken index must not stop the call being taken
            log.exception("desk: knowledge-base search failed")
            return []
        dept = names()
        return [{"id": a.entry.id, "question": a.entry.question, "answer": a.entry.answer,
                 "source": a.entry.source or dept.get(a.entry.department, a.entry.department),
                 "department": dept.get(a.entry.department, a.entry.department),
                 "updated": calendar.local(a.entry.updated_at).strftime("%Y-%m-%d"),
                 "score": round(float(a.score), 3), "confident": bool(a.confident)} for a in hits]

    @routes.get("/caller")
    def caller(request: Request, phone: str = "") -> Response:
        staff = operator(request)
        if not isinstance(staff, Staff):
            return _error("请以话务员身份登录。", 403)
        try:
            found = service.caller(phone)
        except InvalidInput:
            return JSONResponse({"valid": False})
        return JSONResponse({"valid": True, "phone": found.phone, "name": found.name, "confidential": found.confidential,
                             "open": [brief(t) for t in found.open], "earlier": [brief(t) for t in found.earlier[:10]]})

    @routes.post("/suggest")
    async def suggest(request: Request) -> Response:
        got = await posted(request)
        if not isinstance(got, tuple):
            return got
        text = got[1].get("text", "").strip()[:SUGGEST_CHARS]
        if not text:
            return JSONResponse({"empty": True})
        prediction = service.classifier.classify(text)
        entities = {e.get("label"): e.get("text") for e in reversed(prediction.entities)}
        scores: dict[str, float] = getattr(prediction, "department_scores", {}) or {}
        ranked = [c for c in sorted(scores, key=lambda c: -scores[c]) if c in names()][:3]
        if prediction.department and prediction.department not in ranked:
            ranked = [prediction.department, *ranked][:3]
        # The search offers open tickets only (tickets/similar.py), the ones a call can join.
        similar = [{"number": s.number, "score": round(float(s.score), 3), "duplicate": bool(s.duplicate),
                    **brief(service.get(s.number))} for s in service.similar(text=text, limit=5)]
        # The operator's choice of type (sent once they touched it) outranks the suggestion's.
        chosen = got[1].get("type") or prediction.type
        kb = await asyncio.to_thread(kb_answers, text) if chosen == TicketType.consultation else []
        return JSONResponse({"type": prediction.type, "type_zh": TYPE_LABELS_ZH[TicketType(prediction.type)],
                             "department": prediction.department, "candidates": [[c, names()[c]] for c in ranked],
                             "topic": prediction.topic, "place": entities.get("place"), "time": entities.get("time"),
                             "urgent": bool(prediction.urgent), "similar": similar, "kb": kb})

    @routes.post("/submit")
    async def submit(request: Request) -> Response:
        got = await posted(request)
        if not isinstance(got, tuple):
            return got
        staff, form = got
        assert staff.id is not None
        urgent = form.get("urgent") == "1"
        try:
            phone = normalise_phone(form.get("phone", ""))
            submission = Submission(
                channel="phone", external_message_id=f"desk:{form.get('call') or uuid.uuid4().hex}",
                citizen=CitizenRef("phone", phone, name=form.get("name", "").strip() or None, phone=phone),
                text=form.get("text", ""), ticket_type=form.get("type") or None,
                department=None if urgent else (form.get("department") or None), phone=phone,
                to_dispatcher=urgent, confidential=form.get("confidential") == "1")
            ticket = service.submit(submission).ticket
            if urgent and not ticket.urgent:
                ticket = service.mark_urgent(ticket.number, staff.id, "话务员标记紧急")
            service.record_call(staff.id, "submitted", seconds(form), ticket.number)
        except DomainError as err:
            log.info("desk: staff #%s submit refused: %s", staff.id, err)
            return _error(refusal(err))
        routed = ticket.state == State.assigned
        return JSONResponse({"number": ticket.number, "state_zh": STATE_LABELS_ZH[State(ticket.state)],
                             "department": names().get(ticket.department_code or "", "派单员分派"),
                             "deadline": local(ticket.answer_due) if routed else "派单员分派后计时",
                             "urgent": ticket.urgent})

    @routes.post("/join")
    async def join(request: Request) -> Response:
        got = await posted(request)
        if not isinstance(got, tuple):
            return got
        staff, form = got
        assert staff.id is not None
        number = form.get("number", "").strip()
        try:
            service.add_contact(number, form.get("text", ""), "phone", staff_id=staff.id)
            service.record_call(staff.id, "joined", seconds(form), number)
            ticket = service.get(number)
        except DomainError as err:
            log.info("desk: staff #%s join %s refused: %s", staff.id, number, err)
            return _error(refusal(err))
        return JSONResponse({"number": ticket.number, "contacts": service.contact_count(number),
                             "state_zh": STATE_LABELS_ZH[State(ticket.state)],
                             "deadline": local(ticket.answer_due) if ticket.answer_due else "—"})

    @routes.post("/transfer")
    async def transfer(request: Request) -> Response:
        got = await posted(request)
        if not isinstance(got, tuple):
            return got
        staff, form = got
        assert staff.id is not None
        target, reason = form.get("service", ""), form.get("reason", "").strip()
        if target not in EMERGENCY_SERVICES or not reason:
            return _error("请选择110/119/120并填写转办原因。")
        try:
            phone = normalise_phone(form.get("phone", ""))
            held = service.submit(Submission(
                channel="phone", external_message_id=f"desk:{form.get('call') or uuid.uuid4().hex}",
                citizen=CitizenRef("phone", phone, phone=phone), text=form.get("text", "") or reason, phone=phone,
                hold=True)).ticket
            ticket = service.close_at_once(held.number, "transferred", staff_id=staff.id, service=target, note=reason)
            service.record_call(staff.id, "transferred", seconds(form), ticket.number)
        except DomainError as err:
            log.info("desk: staff #%s transfer refused: %s", staff.id, err)
            return _error(refusal(err))
        return JSONResponse({"number": ticket.number, "service": target, "service_zh": EMERGENCY_SERVICES[target]})

    @routes.post("/answer")
    async def answer(request: Request) -> Response:
        """已直接答复: the call is recorded as a consultation closed at once with the entry read out."""
        got = await posted(request)
        if not isinstance(got, tuple):
            return got
        staff, form = got
        assert staff.id is not None
        if form.get("type") != TicketType.consultation:
            return _error("只有咨询可以用知识库直接答复；投诉、建议请提交工单。")
        if form.get("urgent") == "1":
            return _error("紧急诉求不能直接答复，请提交（送派单员）或转办。")
        try:
            entry = hotline.kb.get(int(form.get("entry", "")))
        except (ValueError, DomainError):
            return _error("请选择一条知识库答复。")
        if entry.status != KbStatus.published or not hotline.kb.valid_on(entry, hotline.kb.local_day(hotline.now())):
            return _error("这条知识库答复已下线或已过有效期，请另选或提交工单。")
        try:
            phone = normalise_phone(form.get("phone", ""))
            ticket = service.answer_directly(Submission(
                channel="phone", external_message_id=f"desk:{form.get('call') or uuid.uuid4().hex}",
                citizen=CitizenRef("phone", phone, name=form.get("name", "").strip() or None, phone=phone),
                text=form.get("text", ""), ticket_type=TicketType.consultation, phone=phone,
                confidential=form.get("confidential") == "1"), entry.id, staff_id=staff.id).ticket  # type: ignore[arg-type]
            service.record_call(staff.id, "direct_answer", seconds(form), ticket.number)
        except DomainError as err:
            log.info("desk: staff #%s direct answer refused: %s", staff.id, err)
            return _error(refusal(err))
        return JSONResponse({"number": ticket.number, "state_zh": STATE_LABELS_ZH[State(ticket.state)],
                             "entry": entry.id, "question": entry.question})

    return routes
