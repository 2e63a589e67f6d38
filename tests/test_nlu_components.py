"""The NLU's parts on their own: normalisation, segmentation, entities, emergencies, keyword prior,
training data, metrics and the Rasa project writer. No trained model needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from hotline.nlu_wiring import nlu_settings
from hotline.settings import load_config
from nlu.config import DepartmentInfo, PipelineConfig
from nlu.data import CsvColumns, load_csv_examples, load_project_examples, parse_examples
from nlu.entities import extract_entities
from nlu.evaluate import report
from nlu.keywords import KeywordPrior
from nlu.normalise import normalise, to_simplified
from nlu.rasa import SEPARATOR, write_project
from nlu.tokenizer import Segmenter
from nlu.urgent import UrgentDetector

PROJECT = Path(__file__).resolve().parent.parent
CONFIG = load_config(PROJECT / "config.yml")


def test_normalise_folds_width_simplifies_and_removes_control_characters() -> None:
    assert normalise("ＡＢＣ１２３，請問\x00公租房\u200b怎麼申請") == "ABC123,请问公租房怎么申请"


def test_normalise_cuts_long_text_and_returns_empty_for_nothing() -> None:
    assert len(normalise("投诉" * 5000, max_chars=300)) == 300
    assert normalise("") == "" and normalise("  \n\t ") == "" and normalise(None) == ""


def test_jieba_segmenter_keeps_hotline_words_of_the_user_dictionary() -> None:
    for hmm in (True, False):
        words = Segmenter(PROJECT / "data" / "userdict.txt", hmm).words("小区维修基金被物业挪用了，我要找业委会")
        assert "维修基金" in words and "业委会" in words


def test_segmenter_is_spacys_jieba_and_without_hmm_splits_unknown_runs_into_characters() -> None:
    text = "市民来电反映翠湖苑小区门口的凯撒烧烤店油烟扰民"
    with_hmm = Segmenter(PROJECT / "data" / "userdict.txt", hmm=True)
    assert with_hmm.words(text) == with_hmm.doc_words(text)  # spaCy's own tokens
    without = Segmenter(PROJECT / "data" / "userdict.txt", hmm=False).words(text)
    assert "".join(without) == text and "油烟" in without
    assert len(without) >= len(with_hmm.words(text))


def _spans_hold(text: str, entities: list[dict]) -> None:
    for entity in entities:
        assert text[entity["start"] : entity["end"]] == entity["text"]


@pytest.mark.parametrize(
    ("text", "label", "value"),
    [
        ("有事请打我电话13812345678谢谢", "phone", "13812345678"),
        ("联系电话：0755-83456789", "phone", "0755-83456789"),
        ("我的身份证号是110101199003074514，请核实", "id_card", "110101199003074514"),
        ("我家住在某某区幸福路12号阳光小区3栋，楼下太吵", "place", "某某区幸福路12号阳光小区3栋"),
        ("市民来电反映某某街道某某路18号工地扰民", "place", "某某街道某某路18号"),
        ("昨天晚上十一点还在施工", "time", "昨天晚上十一点"),
        ("工地每天凌晨两点开始卸货", "time", "每天凌晨两点"),
        ("3月5日交的材料到现在没消息", "time", "3月5日"),
        ("车牌粤B12345的车天天堵在消防通道", "plate", "粤B12345"),
    ],
)
def test_each_entity_kind_is_found_with_its_span(text: str, label: str, value: str) -> None:
    entities = extract_entities(text)
    _spans_hold(text, entities)
    assert value in [e["text"] for e in entities if e["label"] == label]


def test_an_id_card_number_is_not_also_a_phone_number_and_a_mistyped_one_is_still_found() -> None:
    entities = extract_entities("身份证110101199003074514")
    assert [(e["label"], e["valid"]) for e in entities] == [("id_card", True)]
    # One wrong digit (the check digit disagrees) is still someone's number: found, to be masked.
    for typo in ("身份证110101199003074515", "身份证11010119900307451X"):
        assert [(e["label"], e["text"][-4:], e["valid"]) for e in extract_entities(typo)] == [("id_card", typo[-4:], False)]
    # Eighteen digits without a possible birth date are not an ID-card number.
    assert not [e for e in extract_entities("订单号110101199013374514") if e["label"] == "id_card"]


def test_places_do_not_swallow_requests_pronouns_times_or_bus_routes() -> None:
    def places(text: str) -> list[str]:
        return [e["text"] for e in extract_entities(text) if e["label"] == "place"]

    assert places("我家小区门口的路灯坏了，地址是幸福小区南门") == ["幸福小区"]
    assert places("另外建议市里管一管人民路10号的占道") == ["人民路10号"]
    assert places("我家楼下幸福路12号的烧烤店") == ["幸福路12号"] and places("对面光明路3号在施工") == ["光明路3号"]
    for text in ("希望城管来看看", "希望市里重视", "请市政府关注", "我们小区停水", "老板跑路了", "建议公交28路加密班次",
                 "昨天小区里停电", "前天夜里很吵"):
        assert places(text) == [], text
    # Names with 家 and 里 in them stay whole; 里 after a common noun means "in".
    assert places("王家村的桥塌了") == ["王家村"]
    assert places("住在光明里3号") == ["光明里3号"] and places("幸福里3号楼漏水") == ["幸福里3号楼"]
    assert places("楼道里堆满杂物") == [] and places("家里停水") == []
    # Roads whose names end like a word (一路, 上路, 门路) are still roads.
    for road in ("东风一路", "光明上路", "中山门路"):
        assert places(f"住在{road}附近") == [road], road


def test_relative_times_holidays_and_impossible_dates() -> None:
    def times(text: str) -> list[str]:
        return [e["text"] for e in extract_entities(text) if e["label"] == "time"]

    assert times("今早7点半就开始施工") == ["今早7点半"]
    assert times("说是明年春节前完工") == ["明年春节前"]
    assert times("下周三上午九点来检查") == ["下周三上午九点"]
    assert times("去年10月反映过一次") == ["去年10月"]
    assert times("上个月15号交的钱") == ["上个月15号"]
    assert times("2月30日") == [] and times("13月5日") == [] and times("2月29日") == ["2月29日"]


def test_full_width_digits_are_found_and_spans_index_the_original_text() -> None:
    text = "電話：１３８１２３４５６７８"
    entities = extract_entities(text)
    _spans_hold(text, entities)
    assert entities[0]["label"] == "phone" and entities[0]["value"] == "+8613812345678"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("楼下饭店着火了，烟很大，快来人", "fire"),
        ("楼道里闻到很浓的煤气味，燃气泄漏了", "gas"),
        ("楼道里闻到很重的燃气味，怀疑漏气了，在幸福里小区5栋。", "gas"),
        ("厨房天然气味特别大，不敢开灯", "gas"),
        ("路口有人被车撞了，流了很多血", "injury"),
        ("有人拿刀在小区门口抢劫", "crime"),
        ("救命，我爸心脏病发作了，快来人", "injury"),
        ("小孩掉河里了", "injury"),
        ("老人摔倒了起不来", "injury"),
        ("车祸，有人被撞了", "injury"),
        ("我老婆要生了，大出血", "injury"),
        ("我被人打了正在流血", "injury"),
    ],
)
def test_emergencies_are_recognised(text: str, kind: str) -> None:
    detector = UrgentDetector.from_file(PROJECT / "data" / "urgent.yml")
    assert detector.kind(normalise(text)) == kind


@pytest.mark.parametrize("text", ["小区消防通道被车堵死了，存在火灾隐患", "咨询一下工伤认定需要什么材料", "建议加强防火宣传",
                                  "请问燃气入户安检要收费吗", "工资拖了半年，这是我家的救命钱",
                                  "这个路口经常发生车祸，建议装红绿灯", "去年我被人打了，派出所一直没有立案"])
def test_hazards_and_questions_are_not_emergencies(text: str) -> None:
    assert UrgentDetector.from_file(PROJECT / "data" / "urgent.yml").kind(text) is None


def test_keyword_prior_points_at_the_department_whose_keywords_appear() -> None:
    prior = KeywordPrior([DepartmentInfo(code=d.code, topic=d.topic, keywords=d.keywords) for d in CONFIG.departments])
    scores = prior.scores("小区物业乱收费，业委会也不管")
    assert scores is not None and prior.codes[int(scores.argmax())] == "housing"
    assert prior.scores("今天天气不错") is None
    # Each department's score is the length of its keywords found, a keyword counted once.
    text = "垃圾分类做得不好，垃圾桶满了，物业不管，垃圾乱堆"
    naive = np.array([sum(len(k) for k in set(words) if k in text) for words in prior.keywords], dtype=float)
    assert np.array_equal(prior.scores(text), naive / naive.sum())


def test_project_training_data_covers_every_type_and_configured_department() -> None:
    examples = load_project_examples(PROJECT / "data")
    assert {e.type for e in examples} == {"complaint", "consultation", "suggestion"}
    departments = {e.department for e in examples}
    assert departments <= {d.code for d in CONFIG.departments}
    present = [path.stem for path in (PROJECT / "data" / "nlu").glob("*.yml") if not path.stem.startswith("_")]
    assert set(present) <= departments
    assert all(e.text.strip() for e in examples)


def test_rasa_examples_block_parsing_strips_entity_annotations() -> None:
    block = "- 我住在[幸福路](place)\n- 电话[13800000000]{\"entity\": \"phone\"}\n"
    assert parse_examples(block) == ["我住在幸福路", "电话13800000000"]


def test_csv_history_reads_title_text_and_labels() -> None:
    examples = load_csv_examples(PROJECT / "tests" / "data" / "nlu_history.csv",
                                 CsvColumns("text", "title", type="type", topic="topic"))
    assert len(examples) == 10
    assert examples[0].text.startswith("小区电梯频繁困人\n") and examples[0].topic == "城乡建设"


def test_csv_history_names_a_missing_column() -> None:
    with pytest.raises(KeyError, match="no column 'body'"):
        load_csv_examples(PROJECT / "tests" / "data" / "nlu_history.csv", CsvColumns("body"))


def test_report_gives_per_class_scores_macro_f1_and_confusion() -> None:
    result = report(["a", "a", "b", "b"], ["a", "b", "b", None])
    assert result["classes"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.5) / 2, abs=1e-3)
    assert result["confusion"]["labels"] == ["a", "b", "(none)"]
    assert result["confusion"]["matrix"] == [[1, 1, 0], [0, 1, 1]]


def test_rasa_project_has_one_intent_per_type_and_department(tmp_path: Path) -> None:
    codes = [d.code for d in CONFIG.departments]
    count = write_project(PROJECT / "data", tmp_path, codes, epochs=5)
    nlu = yaml.safe_load((tmp_path / "data" / "nlu.yml").read_text(encoding="utf-8"))
    intents = {block["intent"] for block in nlu["nlu"]}
    assert f"complaint{SEPARATOR}housing" in intents and count > 0
    config = yaml.safe_load((tmp_path / "config.yml").read_text(encoding="utf-8"))
    names = [step["name"] for step in config["pipeline"]]
    assert names[0] == "JiebaTokenizer" and "DIETClassifier" in names
    assert set(yaml.safe_load((tmp_path / "domain.yml").read_text(encoding="utf-8"))["intents"]) == intents


def test_pipeline_settings_are_validated_from_config_yml() -> None:
    settings = nlu_settings(CONFIG)
    assert {d.code for d in settings.departments} == {d.code for d in CONFIG.departments}
    with pytest.raises(ValueError, match="word_ngrams"):
        PipelineConfig.model_validate({"features": {"word_ngrams": [3, 1]}})
    with pytest.raises(ValueError, match="extra"):
        PipelineConfig.model_validate({"featurs": {}})


def test_characters_both_scripts_write_do_not_trigger_conversion_but_traditional_text_converts_whole() -> None:
    assert to_simplified("这是著名的景点") == "这是著名的景点"
    assert to_simplified("我們這裡的著名景點") == "我们这里的著名景点"


@pytest.mark.parametrize(("text", "expected"), [
    ("我家地址朝阳区建国路88号3单元", [("place", "朝阳区建国路88号3单元")]),  # 地址 is not part of the place
    ("海淀區中關村大街27號", [("place", "海淀區中關村大街27號")]),  # Traditional house numbers too
    ("建议在学校门口装红绿灯，方便孩子过马路", []),  # 过马路 is no road name
    ("地铁2号线早高峰太挤", []),  # a line number, not a date
    ("5号晚上8点又开始施工", [("time", "5号晚上8点")]),
])
def test_places_and_times_leave_out_words_that_only_look_like_them(text: str, expected: list[tuple[str, str]]) -> None:
    found = extract_entities(text, ["place", "time"])
    _spans_hold(text, found)
    assert [(e["label"], e["text"]) for e in found] == expected


def test_places_in_traditional_text_are_found_with_spans_into_it() -> None:
    for text, place in (("陽光花園5棟的電梯壞了", "陽光花園5棟"), ("幸福社區門口路燈壞了", "幸福社區")):
        entities = [e for e in extract_entities(text) if e["label"] == "place"]
        assert [e["text"] for e in entities] == [place]
        _spans_hold(text, entities)


def test_phones_written_in_groups_are_found_and_scattered_digits_are_not_a_phone() -> None:
    for text, phone in (("电话138 1234 5678", "138 1234 5678"), ("座机0571-88886666", "0571-88886666"),
                        ("（021）12345678", "（021）12345678"), ("手机138.1234.5678", "138.1234.5678")):
        assert [e["text"] for e in extract_entities(text) if e["label"] == "phone"] == [phone], text
    # Seven digits and more in all, but no run of them: a date and an amount.
    assert not [e for e in extract_entities("2023年3月5日花了1234元") if e["label"] == "phone"]
