"""Open311 GeoReport v2 under /open311/v2/: services, requests, tokens, in JSON and XML.

Field names, shapes and error bodies are the specification's, so civic apps (FixMyStreet and the like)
and GeoReport client libraries speak to the hotline unchanged. Routes parse, call the domain's Open311
desk (tickets/open311.py), and render; GETs carry no personal data."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hotline.bootstrap import App
from tickets.apikeys import ApiKeys
from tickets.errors import DomainError
from tickets.open311 import Open311Desk, PublicRequest, Query, Report

PREFIX = "/open311/v2"
MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
FORMAT_TYPES = ("application/json", "text/xml")
CHANGESET = "2026-12-07T00:00:00Z"  # when this endpoint's shape last changed (discovery's changeset)
# Root and item element of each XML answer, as the specification names them.
XML_NAMES = {"services": ("services", "service"), "requests": ("service_requests", "request"),
             "errors": ("errors", "error")}
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _xml(items: list[dict[str, Any]], kind: str) -> bytes:
    root_name, item_name = XML_NAMES[kind]
    root = ET.Element(root_name)
    for item in items:
        element = ET.SubElement(root, item_name)
        for key, value in item.items():
            if isinstance(value, list) and key == "attributes":
                ET.SubElement(element, key)
            else:
                ET.SubElement(element, key).text = _text(value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def answer(payload: Any, fmt: str, kind: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(_xml(payload, kind), status_code=status, media_type=MEDIA["xml"])
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status, media_type=MEDIA["json"])


def error(code: int, description: str, fmt: str) -> Response:
    return answer([{"code": code, "description": description}], fmt if fmt in MEDIA else "json", "errors", code)


def _float(form: Any, name: str) -> float | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a decimal number, got {value!r}") from None


def _moment(value: str | None, name: str, hotline: App) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+"))  # a '+' in a query string arrives as ' '
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2010-01-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=hotline.policy.calendar.tz)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def router(hotline: App) -> APIRouter:
    routes = APIRouter()
    desk = Open311Desk(hotline.engine, hotline.tickets)
    keys = ApiKeys(hotline.engine)

    def when(moment: datetime | None) -> str | None:
        return hotline.policy.calendar.local(moment).isoformat(timespec="seconds") if moment else None

    def services() -> list[dict[str, Any]]:
        return [{"service_code": d.code, "service_name": d.name, "description": d.scope or d.name, "metadata": False,
                 "type": "realtime", "keywords": ", ".join(d.keywords), "group": d.topic}
                for d in hotline.config.departments]

    def public(item: PublicRequest) -> dict[str, Any]:
        fields = {name: getattr(item, name, None) for name in REQUEST_FIELDS}
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            fields[name] = when(fields[name])
        return fields

    def guarded(fmt: str, handler: Any) -> Response:
        if fmt not in MEDIA:
            return error(404, f"unknown format {fmt!r}: use .json or .xml", "json")
        try:
            return handler()
        except Open311Error as err:
            return error(err.code, err.description, fmt)
        except DomainError as err:
            return error(400, str(err), fmt)

    @routes.get("/open311/discovery.{fmt}")
    def discovery(request: Request, fmt: str) -> Response:
        """The specification's service discovery: where the GeoReport v2 endpoint is and what it speaks."""

        def run() -> Response:
            endpoint = {"specification": "http://wiki.open311.org/GeoReport_v2", "url": str(request.base_url).rstrip("/")
                        + PREFIX, "changeset": CHANGESET, "type": "production", "formats": list(FORMAT_TYPES)}
            city = hotline.config.city.name
            found = {"changeset": CHANGESET, "contact": f"{city}12345市民服务热线", "key_service": "hotline apikey add",
                     "endpoints": [endpoint]}
            if fmt == "json":
                return answer(found, fmt, "services")
            root = ET.Element("discovery")
            for key in ("changeset", "contact", "key_service"):
                ET.SubElement(root, key).text = str(found[key])
            element = ET.SubElement(ET.SubElement(root, "endpoints"), "endpoint")
            for key in ("specification", "url", "changeset", "type"):
                ET.SubElement(element, key).text = str(endpoint[key])
            formats = ET.SubElement(element, "formats")
            for media in FORMAT_TYPES:
                ET.SubElement(formats, "format").text = media
            return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), media_type=MEDIA["xml"])

        return guarded(fmt, run)

    @routes.get(PREFIX + "/services.{fmt}")
    def list_services(fmt: str) -> Response:
        return guarded(fmt, lambda: answer(services(), fmt, "services"))

    @routes.get(PREFIX + "/services/{code}.{fmt}")
    def service_definition(code: str, fmt: str) -> Response:
        def run() -> Response:
            if code not in {d.code for d in hotline.config.departments}:
                raise Open311Error(404, f"no service with service_code {code!r}")
            if fmt == "xml":
                root = ET.Element("service_definition")
                ET.SubElement(root, "service_code").text = code
                ET.SubElement(root, "attributes")
                return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), media_type=MEDIA["xml"])
            return answer({"service_code": code, "attributes": []}, fmt, "services")

        return guarded(fmt, run)

    @routes.post(PREFIX + "/requests.{fmt}")
    async def post_request(request: Request, fmt: str) -> Response:
        form = await request.form()

        def run() -> Response:
            key = keys.verify(str(form.get("api_key") or ""))
            if key is None:
                raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")

            def field(name: str) -> str | None:
                value = form.get(name)
                return str(value) if value is not None else None

            report = Report(
                service_code=(field("service_code") or "").strip(), description=field("description") or "",
                lat=_float(form, "lat"), long=_float(form, "long"), address_string=field("address_string"),
                email=field("email"), first_name=field("first_name"), last_name=field("last_name"),
                phone=field("phone"), media_url=field("media_url"), device_id=field("device_id"),
                account_id=field("account_id"),
            )
            ticket = desk.file(key, report, hotline.now())
            notice = f"已受理，工单号 {ticket.number}。"
            if ticket.department_code:
                notice += f"承办单位：{hotline.tickets.department_name(ticket.department_code)}。"
            if ticket.answer_due:
                notice += f"答复时限：{when(ticket.answer_due)}。"
            return answer([{"service_request_id": ticket.number, "service_notice": notice, "account_id": None}],
                          fmt, "requests")

        return guarded(fmt, run)

    @routes.get(PREFIX + "/requests.{fmt}")
    def get_requests(request: Request, fmt: str) -> Response:
        def run() -> Response:
            params = request.query_params
            query = Query(numbers=_split(params.get("service_request_id")),
                          service_codes=_split(params.get("service_code")),
                          start=_moment(params.get("start_date"), "start_date", hotline),
                          end=_moment(params.get("end_date"), "end_date", hotline),
                          statuses=_split(params.get("status")))
            return answer([public(r) for r in desk.find(query, hotline.now())], fmt, "requests")

        return guarded(fmt, run)

    @routes.get(PREFIX + "/requests/{number}.{fmt}")
    def get_request(number: str, fmt: str) -> Response:
        def run() -> Response:
            found = desk.find(Query(numbers=[number]), hotline.now())
            if not found:
                raise Open311Error(404, f"no service request with service_request_id {number!r}")
            return answer([public(found[0])], fmt, "requests")

        return guarded(fmt, run)

    @routes.get(PREFIX + "/tokens/{token}.{fmt}")
    def get_token(token: str, fmt: str) -> Response:
        def run() -> Response:
            number = desk.number_for_token(token)
            if number is None:
                raise Open311Error(404, f"no service request for token {token!r}")
            return answer([{"service_request_id": number, "token": token}], fmt, "requests")

        return guarded(fmt, run)

    return routes
