"""Open311 GeoReport v2 under /open311/v2/, spoken over real HTTP on 127.0.0.1: the specification's shapes
and errors, a GeoReport client library (georeport) reading JSON and XML, and `hotline apikey`."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

import hotline.cli.common as cli_common
from hotline.bootstrap import App
from hotline.cli.main import app as cli
from hotline.passwords import hash_password
from tests.browser import served
from tests.conftest import PROJECT, FakeClock
from tests.factories import people, submit
from tickets.apikeys import ApiKeys
from tickets.directory import Directory
from tickets.open311_models import Open311Request
from web.app import create_app

V2 = "/open311/v2"
TEXT = "锦绣花园小区物业乱收费，我叫王建国，电话13812345678，3号楼2单元501室"
PERSONAL = ("13812345678", "王建国", "wjg@example.com", "建国", "501室", "acct-77", "device-9")


@pytest.fixture
def base(hotline: App) -> Iterator[str]:
    with served(hotline) as url:
        yield url


@pytest.fixture
def key(hotline: App) -> str:
    return ApiKeys(hotline.engine).add("fixmystreet", hotline.now())[1]


def post(base: str, fmt: str = "json", **fields: Any) -> httpx.Response:
    return httpx.post(f"{base}{V2}/requests.{fmt}", data=fields, timeout=20)


def get(base: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{base}{V2}/{path}", params=params, timeout=20)


def file_one(base: str, key: str, **extra: Any) -> str:
    fields = {"api_key": key, "service_code": "housing", "description": TEXT, "lat": "26.0745", "long": "119.2965",
              "email": "wjg@example.com", "first_name": "建国", "last_name": "王", "phone": "13812345678",
              "account_id": "acct-77", "device_id": "device-9", **extra}
    answer = post(base, **fields)
    assert answer.status_code == 200, answer.text
    return str(answer.json()[0]["service_request_id"])


def test_services_are_the_departments_of_config(base: str, hotline: App) -> None:
    answer = get(base, "services.json")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    services = answer.json()
    assert [s["service_code"] for s in services] == [d.code for d in hotline.config.departments]
    housing = services[0]
    assert set(housing) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert housing["service_name"] == "市住房和城乡建设局" and housing["group"] == "城乡建设"
    assert housing["metadata"] is False and housing["type"] == "realtime" and "物业" in housing["keywords"].split(", ")
    xml = get(base, "services.xml")
    assert xml.headers["content-type"].startswith("text/xml") and xml.content.startswith(b"<?xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services" and [s.findtext("service_code") for s in root] == [s["service_code"] for s in services]
    assert root[0].findtext("metadata") == "false" and root[0].findtext("service_name") == "市住房和城乡建设局"
    assert get(base, "services/housing.json").json() == {"service_code": "housing", "attributes": []}
    definition = ET.fromstring(get(base, "services/housing.xml").content)
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "housing"
    found = httpx.get(f"{base}/open311/discovery.json", timeout=20).json()
    assert found["endpoints"][0]["url"] == f"{base}{V2}" and "text/xml" in found["endpoints"][0]["formats"]
    discovery = ET.fromstring(httpx.get(f"{base}/open311/discovery.xml", timeout=20).content)
    assert discovery.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    missing = get(base, "services/nowhere.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_posting_needs_a_live_key_and_the_required_fields(base: str, hotline: App, key: str) -> None:
    fields = {"service_code": "housing", "description": "路灯坏了", "address_string": "五四路"}
    for bad in ({}, {"api_key": "not-a-key"}):
        refused = post(base, **fields, **bad)
        assert refused.status_code == 403
        [error] = refused.json()
        assert error["code"] == 403 and "api_key" in error["description"]
    xml = ET.fromstring(post(base, "xml", **fields).content)
    assert xml.tag == "errors" and xml.find("error/code").text == "403"  # type: ignore[union-attr]
    for missing, word in (({"service_code": ""}, "service_code"), ({"description": " "}, "description"),
                          ({"address_string": ""}, "location"), ({"service_code": "nowhere"}, "service_code")):
        answer = post(base, **{**fields, "api_key": key, **missing})
        assert answer.status_code == 400 and word in answer.json()[0]["description"], answer.text
    bad_lat = post(base, **{**fields, "api_key": key, "address_string": "", "lat": "north", "long": "119"})
    assert bad_lat.status_code == 400 and "lat" in bad_lat.json()[0]["description"]
    with Session(hotline.engine) as session:
        assert session.exec(select(Open311Request)).all() == []  # refused requests leave nothing behind
    created = ET.fromstring(post(base, "xml", **{**fields, "api_key": key}).content)  # FixMyStreet posts to .xml
    assert created.tag == "service_requests" and created.findtext("request/service_request_id", "").startswith("2026")
    assert created.find("request/account_id") is not None
    ApiKeys(hotline.engine).revoke("fixmystreet", hotline.now())
    assert post(base, **{**fields, "api_key": key}).status_code == 403


def test_a_request_becomes_a_routed_ticket_and_reads_back_without_personal_data(
    base: str, hotline: App, key: str, clock: FakeClock
) -> None:
    answer = post(base, api_key=key, service_code="housing", description=TEXT, lat="26.0745", long="119.2965",
                  email="wjg@example.com", first_name="建国", last_name="王", phone="13812345678",
                  account_id="acct-77", device_id="device-9", media_url="https://example.org/p/1.jpg")
    [created] = answer.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"} and created["account_id"] is None
    number = created["service_request_id"]
    ticket = hotline.tickets.get(number)
    assert ticket.channel == "open311" and ticket.department_code == "housing" and ticket.state == "assigned"
    assert ticket.type == hotline.classifier.classify(TEXT).type  # the NLU decides the type
    assert ticket.location == "26.074500,119.296500" and ticket.contact_phone == "13812345678"
    secret = hash_password("housing-pass-1")
    Directory(hotline.engine).add("住建局小李", "staff", "housing", username="housing1", password_hash=secret)
    workbench = TestClient(create_app(hotline))
    workbench.post("/login", data={"username": "housing1", "password": "housing-pass-1"}, follow_redirects=False)
    page = workbench.get(f"/workbench/ticket/{number}").text
    photo = re.search(r'href="(/workbench/attachment/\d+)"', page)
    assert photo and "26.074500,119.296500" in page  # staff see the point and the client's photo
    opened = workbench.get(photo.group(1), follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "https://example.org/p/1.jpg"
    assert number in created["service_notice"] and "市住房和城乡建设局" in created["service_notice"]

    one = get(base, f"requests/{number}.json")
    assert one.status_code == 200
    [shown] = one.json()
    assert shown["service_request_id"] == number and shown["status"] == "open"
    assert shown["agency_responsible"] == "市住房和城乡建设局" and shown["service_code"] == "housing"
    assert shown["lat"] == 26.0745 and shown["long"] == 119.2965 and shown["media_url"] == "https://example.org/p/1.jpg"
    assert shown["requested_datetime"] == "2026-11-23T09:00:00+08:00" and shown["status_notes"]
    assert "锦绣花园" in shown["description"]
    for text in (one.text, get(base, f"requests/{number}.xml").text, get(base, "requests.json").text,
                 get(base, "requests.xml").text):
        assert not any(word in text for word in PERSONAL), text
        assert "email" not in text and "phone" not in text and "first_name" not in text

    staff = people(hotline)["housing_staff"]
    clock.advance(hours=2)
    hotline.tickets.accept(number, staff, clock.now)
    hotline.tickets.answer(number, staff, "已责令物业退费，已电话告知王建国先生（13812345678）", clock.now)
    [answered] = get(base, f"requests/{number}.json").json()
    assert answered["status"] == "closed" and "已责令物业退费" in answered["status_notes"]
    assert "13812345678" not in answered["status_notes"] and "王建国" not in answered["status_notes"]
    root = ET.fromstring(get(base, f"requests/{number}.xml").content)
    assert root.tag == "service_requests" and root.find("request/status").text == "closed"  # type: ignore[union-attr]
    missing = get(base, "requests/20991231-0001.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_get_requests_filters_as_the_specification_says(base: str, hotline: App, key: str, clock: FakeClock) -> None:
    old = file_one(base, key, description="公租房申请需要什么材料")
    clock.advance(days=100)
    first = file_one(base, key)
    second = file_one(base, key, service_code="water", description="停水三天了", lat="", long="", address_string="五四路")
    submit(hotline, now=clock.now)  # a ticket from the web chat is not an Open311 request
    staff = people(hotline)["housing_staff"]
    hotline.tickets.accept(first, staff, clock.now)
    hotline.tickets.answer(first, staff, "已处理", clock.now)

    def numbers(**params: Any) -> list[str]:
        answer = get(base, "requests.json", **params)
        assert answer.status_code == 200, answer.text
        return [r["service_request_id"] for r in answer.json()]

    assert numbers() == [second, first]  # newest first, the last 90 days by default
    assert numbers(status="open") == [second] and numbers(status="closed") == [first]
    assert numbers(status="open,closed") == [second, first]
    assert numbers(service_code="water") == [second] and numbers(service_code="water,housing") == [second, first]
    assert numbers(service_request_id=f"{old},{second}") == [second, old]  # overrides the date window
    day = clock.now - timedelta(days=100)
    assert numbers(start_date=(day - timedelta(hours=1)).isoformat(), end_date=(day + timedelta(hours=1)).isoformat()) \
        == [old]
    assert get(base, "requests.json", status="pending").status_code == 400
    too_long = get(base, "requests.json", start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z")
    assert too_long.status_code == 400 and "90 days" in too_long.json()[0]["description"]
    assert get(base, "requests.json", start_date="yesterday").status_code == 400
    with Session(hotline.engine) as session:
        token = session.exec(select(Open311Request.token).where(Open311Request.service_code == "water")).one()
    assert get(base, f"tokens/{token}.json").json() == [{"service_request_id": second, "token": token}]
    assert ET.fromstring(get(base, f"tokens/{token}.xml").content).findtext("request/service_request_id") == second
    assert get(base, "tokens/nope.json").status_code == 404


def test_a_georeport_client_library_reads_services_and_requests(base: str, hotline: App, key: str) -> None:
    from georeport import GeoReport

    number = file_one(base, key)
    for fmt in ("json", "xml"):
        client = GeoReport(f"{base}{V2}", output_format=fmt)
        services = client.get_service_list()
        assert [s["service_code"] for s in services][:2] == ["housing", "urban_mgmt"]
        assert client.get_service_definition("housing")["service_code"] == "housing"
        found = client.get_service_requests(service_code="housing")
        found = found if isinstance(found, list) else [found]  # xmltodict gives a lone request as a dict
        assert [r["service_request_id"] for r in found] == [number]
        one = client.get_service_request(number)
        assert one["status"] == "open" and one["agency_responsible"] == "市住房和城乡建设局"


def test_apikey_cli_adds_lists_and_revokes(hotline: App, base: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": hotline.settings.env.database_url, "HOTLINE_HOME": str(hotline.settings.env.home),
           "HOTLINE_CONFIG": str(PROJECT / "config.yml")}

    def run(*args: str, code: int = 0) -> Any:
        cli_common._app = None
        result = CliRunner().invoke(cli, list(args), env=env)
        assert result.exit_code == code, result.output
        return result

    try:
        added = run("apikey", "add", "seeclickfix").stdout
        new_key = added.strip().splitlines()[-1]
        assert len(new_key) == 64 and new_key not in "".join(added.strip().splitlines()[:-1])
        assert post(base, api_key=new_key, service_code="water", description="停水", address_string="五四路").status_code == 200
        listed = json.loads(run("apikey", "list", "--format", "json").stdout)
        assert [(k["name"], k["active"], k["prefix"]) for k in listed] == [("seeclickfix", True, new_key[:8])]
        assert new_key not in run("apikey", "list").stdout
        assert "已吊销" in run("apikey", "revoke", "seeclickfix").stdout
        assert post(base, api_key=new_key, service_code="water", description="停水", address_string="五四路").status_code == 403
        assert "已存在" in run("apikey", "add", "seeclickfix", code=1).output
    finally:
        cli_common._app = None
