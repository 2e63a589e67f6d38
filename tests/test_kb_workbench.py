"""The knowledge base in the staff workbench: staff draft for their department, a kb_editor (or a
dispatcher) publishes, 加入知识库 turns an answered consultation into a masked draft."""

from __future__ import annotations

from hotline.bootstrap import App
from hotline.passwords import hash_password
from tests.factories import people, submit
from tests.test_workbench import PASSWORD, csrf_of, login
from tickets.directory import Directory
from tickets.knowledge import Status


def accounts(hotline: App) -> None:
    directory = Directory(hotline.engine)
    secret = hash_password(PASSWORD)
    directory.add("住建局小李", "staff", "housing", username="housing1", password_hash=secret)
    directory.add("知识库编辑小周", "kb_editor", None, username="editor", password_hash=secret)


def test_staff_draft_an_entry_and_a_kb_editor_publishes_it(hotline: App) -> None:
    accounts(hotline)
    staff = login(hotline, "housing1")
    form = {"question": "物业费标准谁来定？", "answer": "按物业服务合同约定。", "department": "housing",
            "variants": "物业收费标准\n物业费怎么定", "valid_from": "", "valid_until": "2027-12-31"}
    token = csrf_of(staff.get("/workbench/kb/new"))
    created = staff.post("/workbench/kb/new", data={"csrf_token": token, **form}, follow_redirects=False)
    assert created.status_code == 303
    entry_id = int(created.headers["location"].split("/")[-1].split("?")[0])
    assert hotline.kb.get(entry_id).status == Status.draft
    other = staff.post("/workbench/kb/new", data={"csrf_token": token, **form, "question": "水费怎么交？",
                                                 "department": "water"})
    assert other.status_code == 403 and "本单位" in other.text
    refused = staff.post(f"/workbench/kb/{entry_id}", data={"csrf_token": token, "action": "published"})
    assert refused.status_code == 403 and hotline.kb.get(entry_id).status == Status.draft

    editor = login(hotline, "editor")
    assert editor.get("/workbench", follow_redirects=False).headers["location"] == "/workbench/kb"
    page = editor.get(f"/workbench/kb/{entry_id}")
    assert "物业费标准谁来定" in page.text and 'id="kb-publish"' in page.text
    published = editor.post(f"/workbench/kb/{entry_id}", data={"csrf_token": csrf_of(page), "action": "published"},
                            follow_redirects=False)
    assert published.status_code == 303 and hotline.kb.get(entry_id).status == Status.published
    assert "修改记录" in editor.get(f"/workbench/kb/{entry_id}").text


def test_add_to_kb_on_an_answered_consultation(hotline: App) -> None:
    accounts(hotline)
    who = people(hotline)
    ticket = submit(hotline, "我叫王伟，电话13812345678，想问物业费标准谁定？", ticket_type="consultation")
    hotline.tickets.accept(ticket.number, who["housing_staff"])
    hotline.tickets.answer(ticket.number, who["housing_staff"], "普通住宅物业费实行政府指导价。")
    staff = login(hotline, "housing1")
    page = staff.get(f"/workbench/ticket/{ticket.number}")
    assert 'id="add-to-kb"' in page.text
    made = staff.post(f"/workbench/kb/from-{ticket.number}", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert made.status_code == 303
    draft = staff.get(made.headers["location"]).text
    assert "政府指导价" in draft and "13812345678" not in draft and "草稿" in draft
