"""The trained built-in pipeline: decisions, thresholds, odd input, the model round trip, the
classifier protocol through intake, and the CLI. One model is trained per session (slow)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.bootstrap import App
from hotline.cli.main import app as cli
from hotline.nlu_wiring import nlu_settings
from hotline.settings import load_config
from nlu.config import DepartmentInfo, NluSettings
from nlu.data import CsvColumns, Example, check_history_labels, load_csv_examples
from nlu.model import NluModel
from nlu.parallel import ParallelClassifier
from nlu.pipeline import Pipeline
from tests.conftest import TrainedNlu
from tests.factories import submit
from tickets.states import State

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parent.parent
SETTINGS = nlu_settings(load_config(PROJECT / "config.yml"))


@pytest.fixture(scope="module")
def pipeline(nlu_model: TrainedNlu) -> Pipeline:
    return Pipeline(SETTINGS, nlu_model.model, PROJECT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "ticket_type", "department", "topic"),
    [
        ("请问公租房怎么申请，需要准备哪些材料？", "consultation", "housing", "城乡建设"),
        ("投诉：公司拖欠我们农民工三个月工资，老板电话也不接", "complaint", "hrss", "劳动和社会保障"),
        # The taxonomy files buses and the metro under 城乡建设, whoever runs them.
        ("建议在地铁站出口增设一条接驳公交线路，方便上下班", "suggestion", "transport", "城乡建设"),
        ("市民来电反映某某河道发黑发臭，怀疑有企业偷排废水", "complaint", "environment", "环境保护"),
    ],
)
def test_clear_messages_get_their_type_and_department(pipeline: Pipeline, text: str, ticket_type: str,
                                                      department: str, topic: str) -> None:
    prediction = pipeline.classify(text)
    assert (prediction.type, prediction.department, prediction.topic) == (ticket_type, department, topic)
    assert sum(prediction.type_scores.values()) == pytest.approx(1, abs=1e-3)
    assert sum(prediction.department_scores.values()) == pytest.approx(1, abs=1e-3)


def test_traditional_input_gets_the_same_answer_as_simplified(pipeline: Pipeline) -> None:
    simplified = pipeline.classify("请问公租房怎么申请，需要准备哪些材料？")
    traditional = pipeline.classify("請問公租房怎麼申請，需要準備哪些材料？")
    assert (traditional.type, traditional.department, traditional.type_confidence) == (
        simplified.type, simplified.department, simplified.type_confidence)


def test_thresholds_send_unsure_messages_to_review(nlu_model: TrainedNlu) -> None:
    text = "小区门口的路灯坏了好几天"
    strict = Pipeline(SETTINGS.model_copy(update={"department_threshold": 0.999}), nlu_model.model, PROJECT)  # type: ignore[arg-type]
    lenient = Pipeline(SETTINGS.model_copy(update={"department_threshold": 0.0, "type_threshold": 0.0}),
                       nlu_model.model, PROJECT)  # type: ignore[arg-type]
    assert strict.classify(text).needs_review is True
    assert lenient.classify(text).needs_review is False


def test_department_keywords_steer_routing_without_retraining(nlu_model: TrainedNlu) -> None:
    text = "咕噜咕噜的事情一直没人解决"
    departments = [
        DepartmentInfo(code=d.code, topic=d.topic, keywords=[*d.keywords, "咕噜咕噜"] if d.code == "water" else d.keywords)
        for d in SETTINGS.departments
    ]
    edited = NluSettings(**{**SETTINGS.model_dump(), "departments": departments, "keyword_prior_weight": 0.9})
    assert Pipeline(edited, nlu_model.model, PROJECT).classify(text).department == "water"  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   \n\t ", "hello, is anybody there?", "🔥🔥🔥😡", "12345"])
def test_input_without_chinese_gets_a_clear_result_for_review(pipeline: Pipeline, text: str) -> None:
    prediction = pipeline.classify(text)
    assert prediction.needs_review is True
    assert prediction.department is None and prediction.department_confidence == 0.0
    assert prediction.type in ("complaint", "consultation", "suggestion")


def test_a_100_kb_message_is_cut_and_classified(pipeline: Pipeline) -> None:
    text = "小区物业乱收费，电话13812345678。" * 5000
    assert len(text.encode()) > 100_000
    prediction = pipeline.classify(text)
    assert prediction.department == "housing"
    # Entities read what a ticket keeps, and no further.
    assert max(e["end"] for e in prediction.entities) <= SETTINGS.pipeline.entity_chars
    assert max(e["end"] for e in prediction.entities) > SETTINGS.max_chars


def test_a_phone_number_closing_a_long_post_is_found(pipeline: Pipeline) -> None:
    text = "【小区噪音扰民】" + "楼下商铺每天晚上放音乐到凌晨，严重影响休息。" * 200 + "联系电话13912345678"
    phones = [e for e in pipeline.classify(text).entities if e["label"] == "phone"]
    assert [p["value"] for p in phones] == ["+8613912345678"] and text[phones[0]["start"] : phones[0]["end"]] == "13912345678"


def test_a_declared_complaint_that_ends_with_a_suggestion_stays_a_complaint(pipeline: Pipeline) -> None:
    text = "我要投诉幸福路上的好味道饭店，后厨卫生很差，苍蝇乱飞，另外建议市场监管部门多来抽查"
    prediction = pipeline.classify(text)
    assert prediction.type == "complaint" and prediction.department == "market"
    # The declaration counts beside the word: 投诉 + 我要投诉 against one 建议.
    cues = pipeline._type_cues(text)
    assert cues is not None
    weights = dict(zip(pipeline.model.type_head.classes, cues.tolist(), strict=True))
    assert weights["complaint"] == 2 * weights["suggestion"] > 0


def test_urgent_messages_are_flagged(pipeline: Pipeline) -> None:
    assert pipeline.classify("我家楼下饭店着火了，烟很大").urgent is True
    assert pipeline.classify("小区消防通道被车堵死了").urgent is False


def test_model_round_trip_gives_the_same_predictions(nlu_model: TrainedNlu, pipeline: Pipeline) -> None:
    texts = ["请问公租房怎么申请", "工地半夜施工太吵了", "建议多开几趟公交", "社保怎么转到本市"]
    loaded = Pipeline(SETTINGS, NluModel.load(nlu_model.directory), PROJECT)
    assert [p.to_dict() for p in loaded.classify_batch(texts)] == [p.to_dict() for p in pipeline.classify_batch(texts)]
    assert [p.to_dict() for p in pipeline.classify_batch(texts)] == [pipeline.classify(t).to_dict() for t in texts]


def test_worker_processes_give_the_same_predictions_in_order(pipeline: Pipeline) -> None:
    texts = ["请问公租房怎么申请", "工地半夜施工太吵了", "建议多开几趟公交", "社保怎么转到本市", "", "hello"] * 5
    with ParallelClassifier(pipeline, workers=2) as parallel:
        assert parallel.workers == 2
        assert parallel.classify_batch(texts[:3]) == pipeline.classify_batch(texts[:3]) and not parallel.started
        in_workers = parallel.classify_batch(texts)
        assert parallel.started
    assert [p.to_dict() for p in in_workers] == [p.to_dict() for p in pipeline.classify_batch(texts)]
    # Shares of unequal length (31 messages over 3 processes) come back in the order they went in.
    uneven = [*texts, "楼道里的灯坏了一个月"]
    with ParallelClassifier(pipeline, workers=3) as parallel:
        in_three = parallel.classify_batch(uneven)
    assert [p.to_dict() for p in in_three] == [p.to_dict() for p in pipeline.classify_batch(uneven)]


def test_intake_routes_a_sure_message_and_keeps_an_unsure_one_for_a_dispatcher(
    hotline_sqlite: App, pipeline: Pipeline
) -> None:
    hotline_sqlite.__dict__["classifier"] = pipeline
    sure = submit(hotline_sqlite, "我家住在某某区幸福路12号阳光小区，物业乱收费，业委会也不管，电话13812345678",
                  department=None, ticket_type=None)
    assert sure.department_code == "housing" and sure.state == State.assigned
    assert sure.contact_phone == "+8613812345678" or sure.contact_phone == "13812345678"
    assert sure.location and "幸福路" in sure.location
    assert sure.nlu["backend"] == "builtin" and "housing" in sure.nlu["department_scores"]
    unsure = submit(hotline_sqlite, "hello", department=None, ticket_type=None)
    assert unsure.state == State.new and unsure.needs_review and unsure.department_code is None


def test_cli_classify_prints_one_json_object_per_stdin_line(nlu_model: TrainedNlu) -> None:
    result = CliRunner().invoke(cli, ["classify", "--model", str(nlu_model.directory)],
                                input="请问公租房怎么申请\n\n楼下着火了\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert set(lines[0]) == {"type", "type_confidence", "department", "department_confidence", "topic",
                             "needs_review", "urgent", "entities"}
    assert lines[0]["type"] == "consultation" and lines[1]["needs_review"] and lines[2]["urgent"]


def test_cli_evaluate_reports_per_class_scores_as_json(nlu_model: TrainedNlu) -> None:
    result = CliRunner().invoke(cli, [
        "nlu", "evaluate", "--model", str(nlu_model.directory), "--csv", str(PROJECT / "tests/data/nlu_history.csv"),
        "--text-col", "text", "--title-col", "title", "--label-col", "type", "--label", "type", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["n"] == 10 and set(report["classes"]) == {"complaint", "consultation", "suggestion"}
    assert report["macro_f1"] > 0.5


def test_cli_train_from_csv_adds_a_citys_history(tmp_path: Path) -> None:
    target = tmp_path / "city-model"
    result = CliRunner().invoke(cli, [
        "nlu", "train", "--model", str(target), "--from-csv", str(PROJECT / "tests/data/nlu_history.csv"),
        "--text-col", "text", "--title-col", "title", "--type-col", "type", "--topic-col", "topic"])
    assert result.exit_code == 0, result.output
    trained = NluModel.load(target)
    assert trained.meta["sources"]["nlu_history.csv"] == 10
    # The city's topics are the scheme its tickets are counted in: the topic head learns only those.
    with (PROJECT / "tests/data/nlu_history.csv").open(encoding="utf-8") as handle:
        city_topics = {row["topic"] for row in csv.DictReader(handle)}
    assert len(city_topics) >= 2 and trained.topic_head.classes == sorted(city_topics)


def test_cli_train_refuses_a_csv_without_label_columns(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["nlu", "train", "--model", str(tmp_path / "m"), "--from-csv",
                                      str(PROJECT / "tests/data/nlu_history.csv")])
    assert result.exit_code == 2 and "标注列" in result.output




def test_cli_train_refuses_history_labels_that_cannot_be_meant(tmp_path: Path) -> None:
    city = tmp_path / "city.csv"
    city.write_text("text,type,dept\n小区电梯又坏了,投诉,城建局\n请问社保怎么转,咨询,hrss\n", encoding="utf-8")

    def train(*columns: str) -> Any:
        return CliRunner().invoke(cli, ["nlu", "train", "--model", str(tmp_path / "m"), "--from-csv", str(city), *columns])

    result = train("--department-col", "dept")
    assert result.exit_code == 2 and "城建局" in result.output and "config.yml" in result.output
    result = train("--topic-col", "type")  # the type column given as topics
    assert result.exit_code == 2 and "--type-col" in result.output
    assert not (tmp_path / "m").exists()


def test_a_bad_type_names_the_spreadsheet_row_it_is_on(tmp_path: Path) -> None:
    city = tmp_path / "city.csv"
    # Row 3 spans two lines (a quoted line break) and row 4 has no text: the bad tag is on line 6.
    city.write_text('text,type\n小区电梯又坏了,投诉\n"路灯不亮了\n晚上很黑",投诉\n,咨询\n请问社保怎么转,吐槽\n', encoding="utf-8")
    with pytest.raises(ValueError, match="row 6: unknown type '吐槽'"):
        load_csv_examples(city, CsvColumns("text", type="type"))


def test_history_topics_outside_the_taxonomy_are_a_citys_scheme_or_a_typo() -> None:
    project = {"城乡建设", "交通运输", "环境保护"}

    def examples(*topics: str) -> list[Example]:
        return [Example("某条留言", topic=t, source="city.csv") for t in topics]

    assert check_history_labels(examples("城乡建设", "交通运输"), [], project) == []
    [typo] = check_history_labels(examples("城乡建设", "城建", "城建"), [], project)
    assert "城建 (2 rows)" in typo
    [own] = check_history_labels(examples("市容环境", "道路交通"), [], project)
    assert "city's own scheme" in own


def test_unreadable_or_missing_csv_files_are_one_clear_line(nlu_model: TrainedNlu, tmp_path: Path) -> None:
    garbled = tmp_path / "garbled.csv"
    garbled.write_bytes(b"text,type\n\xff\xfe\x00abc,complaint\n")
    for args in (["nlu", "train", "--model", str(tmp_path / "m"), "--from-csv", str(garbled), "--type-col", "type"],
                 ["nlu", "evaluate", "--model", str(nlu_model.directory), "--csv", str(garbled), "--label-col", "type",
                  "--label", "type"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert "garbled.csv: neither UTF-8 nor GBK" in result.output and "Traceback" not in result.output
    missing = tmp_path / "none.csv"
    result = CliRunner().invoke(cli, ["nlu", "train", "--model", str(tmp_path / "m"), "--from-csv", str(missing),
                                      "--type-col", "type"])
    assert result.exit_code == 2 and f"{missing}: no such file or directory" in " ".join(result.output.split())


def test_cli_train_with_a_history_of_one_topic_keeps_the_projects_topics(tmp_path: Path) -> None:
    one_topic = tmp_path / "one-topic.csv"
    one_topic.write_text("text,topic\n小区电梯又坏了,城乡建设 \n路灯不亮了,城乡建设\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["nlu", "train", "--model", str(tmp_path / "t"), "--from-csv", str(one_topic),
                                      "--topic-col", "topic"])
    assert result.exit_code == 0, result.output
    # One city topic (its cells stripped) cannot train a head alone: the project's topics stay.
    classes = NluModel.load(tmp_path / "t").topic_head.classes
    assert "城乡建设" in classes and "城乡建设 " not in classes and len(classes) > 2


def test_a_citys_gbk_csv_with_chinese_type_tags_is_read_as_the_three_types(nlu_model: TrainedNlu,
                                                                           tmp_path: Path) -> None:
    tags = {"complaint": "投诉", "consultation": "咨询", "suggestion": "建议"}
    with (PROJECT / "tests/data/nlu_history.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    city = tmp_path / "city-gbk.csv"  # as Excel in Chinese saves it
    with city.open("w", encoding="gbk", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "type": tags[row["type"]]} for row in rows)
    examples = load_csv_examples(city, CsvColumns("text", "title", type="type"))
    assert [e.type for e in examples] == [row["type"] for row in rows]
    result = CliRunner().invoke(cli, [
        "nlu", "evaluate", "--model", str(nlu_model.directory), "--csv", str(city), "--text-col", "text",
        "--title-col", "title", "--label-col", "type", "--label", "type", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(report["classes"]) == {"complaint", "consultation", "suggestion"} and report["macro_f1"] > 0.5


def test_an_unknown_type_tag_or_a_mistyped_model_path_is_a_clear_error(nlu_model: TrainedNlu, tmp_path: Path) -> None:
    city = tmp_path / "city.csv"
    city.write_text("text,type\n小区电梯又坏了,表扬\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["nlu", "evaluate", "--model", str(nlu_model.directory), "--csv", str(city),
                                      "--label-col", "type", "--label", "type"])
    assert result.exit_code == 2 and "表扬" in result.output
    result = CliRunner().invoke(cli, ["classify", "--model", str(tmp_path / "no-such-model"), "你好"])
    assert result.exit_code == 2 and "中没有 NLU 模型" in result.output
    assert not (tmp_path / "no-such-model").exists()  # nothing was trained in its place
