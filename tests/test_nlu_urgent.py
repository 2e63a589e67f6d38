"""The emergency lexicon (data/urgent.yml) as the pipeline reads it: normalised text, first group that counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlu.data import load_project_examples
from nlu.normalise import normalise
from nlu.urgent import UrgentDetector

PROJECT = Path(__file__).resolve().parent.parent
DETECTOR = UrgentDetector.from_file(PROJECT / "data" / "urgent.yml")


def kind(text: str) -> str | None:
    return DETECTOR.kind(normalise(text, 400))


EMERGENCIES = [
    # fire
    ("楼下饭店着火了，烟很大，快来人", "fire"),
    ("幸福里小区5栋3单元801着火了，电话13812345678", "fire"),
    ("市民来电反映：某某路12号仓库突然起火，火势很大，里面可能还有人", "fire"),
    ("厨房油锅起火了 扑不灭", "fire"),
    ("对面楼冒浓烟，好像是电动车烧起来了", "fire"),
    ("【紧急】锦绣花园地下车库爆炸了，到处都是烟", "fire"),
    ("楼下的培训机构着火了，里面有很多孩子", "fire"),
    ("刚才到家发现邻居家冒烟了，敲门没人应", "fire"),
    ("我很担心，隔壁已经着火了", "fire"),
    ("昨天修好的电线今天又起火了", "fire"),
    ("抽油烟机着火了怎么办", "fire"),
    ("人民路与解放路交叉口发生一起火灾，消防车还没到", "fire"),
    # gas
    ("楼道里闻到很浓的煤气味，燃气泄漏了", "gas"),
    ("厨房天然气味特别大，不敢开灯", "gas"),
    ("燃气报警器一直在响，屋里全是味", "gas"),
    ("液化气罐漏气了，嘶嘶响，在人民路88号", "gas"),
    ("从昨天晚上开始就闻到燃气味很重", "gas"),
    ("市民来电反映：某某小区7栋楼道燃气管道泄漏，气味刺鼻，请求立即处理", "gas"),
    # injury, including poisoning and people trapped
    ("他喝农药了！快来人！", "injury"),
    ("看到一辆车翻了，司机被卡在里面", "injury"),
    ("路口有人被车撞了，流了很多血", "injury"),
    ("救命，我爸心脏病发作了，快来人", "injury"),
    ("老人摔倒了起不来", "injury"),
    ("电梯卡在12楼，我和孩子被困在里面半小时了", "injury"),
    ("我妈吃了半瓶安眠药，叫不醒", "injury"),
    ("孩子误食了干燥剂，怎么办", "injury"),
    ("小孩掉河里了", "injury"),
    ("工地上有人触电了，倒在地上不动", "injury"),
    ("一家三口煤气中毒，人已经昏迷", "injury"),
    ("我老婆要生了，羊水破了，在开发区金港路", "injury"),
    ("我爸从昨天开始一直昏迷不醒", "injury"),
    ("货车侧翻，压在下面一个人", "injury"),
    # suicide: a threat or a worried relative counts
    ("我朋友说不想活了，现在一个人在江边", "suicide"),
    ("某某大厦楼顶有人要跳楼", "suicide"),
    ("担心她想不开要自杀，电话一直打不通", "suicide"),
    # missing people: yesterday's disappearance is still an emergency
    ("求助：我母亲走失了，有老年痴呆…", "missing"),
    ("孩子放学到现在还没回家，已经找了三个小时", "missing"),
    ("我爸昨天出门后就走丢了，他有老年痴呆", "missing"),
    ("六岁儿子在万达广场走失，穿红色外套", "missing"),
    # crime
    ("有人拿刀在小区门口抢劫", "crime"),
    ("隔壁家暴，现在正在打人，女的一直在喊", "crime"),
    ("有人撬门，我一个人在家，地址是和平路5号", "crime"),
    ("楼下一群人打起来了，还拿着棍子", "crime"),
    ("孩子被人抱走了！在火车站", "crime"),
    ("小偷正在偷电动车", "crime"),
    ("昨天被人打了，今天他又拿刀来了", "crime"),
    # present emergencies the previous lexicon (fe18297) caught, beside an exception word of another clause
    ("楼下着火了！这个隐患早就反映过", "fire"),
    ("楼下着火了,昨天就闻到烟味了", "fire"),
    ("快来人，有人晕倒了，上次也这样", "injury"),
    ("有人拿刀砍人！快报警，派出所就在旁边", "crime"),
    ("救命！我被困在电梯里了，物业说要赔偿", "injury"),
    ("快来，着火了，有风险", "fire"),
    ("楼道里电动车烧起来了，消防通道还被堵着，消防车进不来", "fire"),
    ("着火了，灭火器都是空的，快来人", "fire"),
    ("仓库起火了，这个安全隐患我们去年就反映过", "fire"),
    ("三楼冒浓烟，之前物业说整改，一直没改", "fire"),
    ("对面楼起火了，火势很大，以前就提过这个隐患", "fire"),
    ("隔壁着火了！我们小区的消防宣传做得太差了", "fire"),
    ("楼下饭店燃气泄漏了，味道很大，建议你们马上派人", "gas"),
    ("闻到很浓的煤气味，上次也漏过一次", "gas"),
    ("天然气漏了，整个楼道都是味，赶紧来人，售后电话打不通", "gas"),
    ("有人晕倒了，物业说不归他们管", "injury"),
    ("工地上有人从架子上摔下来，流了很多血，老板说会赔偿", "injury"),
    ("孩子被锁在车里了，车主联系不上，有风险", "injury"),
    ("有人被车撞了，倒在路中间，司机说要私了", "injury"),
    ("我被困在电梯里了，物业说要整改电梯，到现在都没人来", "injury"),
    ("快来人啊，河边有人落水了，去年这里也淹死过人", "injury"),
    ("小区门口有人拿刀砍人，派出所的人还没来", "crime"),
    ("楼下一群人打起来了，上次就是这伙人", "crime"),
    ("有人正在撬我家门，去年也被偷过", "crime"),
    ("家里进贼了，正在撬门，我躲在卧室", "crime"),
    ("现在楼下有人打起来了，昨天也打过", "crime"),
]

NOT_EMERGENCIES = [
    # the new-user trial
    "我想咨询一下火灾保险怎么买",
    "有火灾风险，建议物业管理",
    "小孩容易落水，建议加装护栏",
    "食物中毒应该怎么预防？",
    "心脏病发作时的急救知识培训",
    "建议在河边增加防溺水警示牌",
    "餐馆天天冒黑烟",
    "电梯被困了半小时才有人来",
    "昨天小区里有人打起来了",
    # short chat
    "我快被物业气炸了",
    "高层水压太低，热水器打不着火",
    "落水管破了，雨水直接灌进我家",
    "宠物狗走丢了，有没有地方可以登记",
    "如果老人走失了应该找哪个部门",
    "这家店天天喊跳楼价，是不是虚假广告",
    "厂里员工多次晕倒，老板还不让休息",
    "学校能不能组织一次消防演练",
    "小区里经常有人半夜打起来了，吵得睡不着",
    "这个路口经常发生车祸，要装红绿灯",
    "农药残留超标的青菜吃了会不会中毒",
    "楼道里停满电动车还飞线充电，一着火全楼都跑不出去",
    "网上买的电动车充电时冒烟了，差点着火，商家说不是质量问题",
    "被人打了个轻微伤，派出所说要调解，我不同意怎么办",
    "抽油烟机油污太多，担心起火，物业能不能统一清洗",
    "母亲失联多年，办低保要开什么证明",
    # 市民来电反映… summaries
    "市民来电反映：某某工厂烟囱排放黑色浓烟，呛得人喘不上气，请环保部门查处",
    "来电人称其家中上周因电线老化起火，房屋烧毁，想了解临时救助怎么申请",
    "市民来电反映：前天晚上烧烤店门口有人打起来了，民警到场后没有处理结果",
    "来电人反映婚宴后十几位客人食物中毒，都去了医院，酒店拒不承认",
    "市民来电反映：上个月小区电梯困人，被困老人一个多小时才被救出，要求物业整改",
    "来电人称某某美食街餐馆把醇基燃料放在灶台旁，担心引发火灾爆炸，要求检查",
    # long posts
    "【关于在老旧小区安装烟感报警器的建议】很多老小区没有消防报警系统，独居老人家里一旦起火很难被及时发现。"
    "建议政府为独居老人免费安装独立式烟感报警器，并联网到社区。",
    "【老旧小区燃气管道该换了】我们这一片都是九十年代的房子，燃气立管锈得起皮。看到外地燃气爆炸的新闻，"
    "大家都很担心。万一燃气泄漏后果不堪设想，请燃气主管部门全面查一查。",
    "【文庙被改成了私房菜馆】县级文物保护单位大成殿里开了私房菜馆，厨房就设在厢房里，每天明火做饭，"
    "油烟把梁上的彩绘熏得发黑。真要烧起来就全完了，请文物部门管一管。",
    # past, hazards and near misses keep their own clause even with an exclamation
    "上个月小区着火了！物业到现在都不管",
    "差点着火了！",
    "餐馆天天冒黑烟！",
    "有火灾隐患，请尽快整改！",
    "去年被人打了，派出所一直不立案！",
    "建议在电动车棚加装喷淋，防止起火",
    "着火时怎么逃生",
    "请问持刀伤人怎么判",
    "【小区电梯一个月困人三次】最严重的一次一位老人被困在十四楼四十多分钟，维保公司一个多小时才到。",
    "【消防通道被铁门锁死，真着火了人往哪跑？】一旦着火只剩一个楼梯。",
    "【120救护车四十分钟才到】上周四晚上八点多，我们小区一位老人在家中突然晕倒，家属马上打了120，"
    "救护车直到八点五十才到。老人抢救过来了，但家属非常后怕，请卫生部门查一下调度。",
]


@pytest.mark.parametrize(("text", "group"), EMERGENCIES)
def test_present_emergencies_are_recognised_with_their_group(text: str, group: str) -> None:
    assert kind(text) == group


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_knowledge_prevention_past_and_habits_are_not_emergencies(text: str) -> None:
    assert kind(text) is None


def test_message_wide_words_yield_to_an_event_said_to_happen_now() -> None:
    assert kind("想了解一下火灾保险，着火了能赔多少") is None
    assert kind("着火了！火灾保险能赔吗") == "fire"
    assert kind("着火了，快来人，我买过火灾保险") == "fire"
    assert kind("正在着火，消防演练时学的方法不管用") == "fire"


def test_clause_words_reach_only_their_clause() -> None:
    assert kind("存在火灾隐患") is None
    assert kind("着火了，存在火灾隐患") == "fire"
    assert kind("建议尽快处理燃气泄漏的问题") is None
    assert kind("燃气泄漏了，建议尽快处理") == "gas"


def test_no_consultation_or_suggestion_of_the_training_data_is_flagged() -> None:
    examples = [e for e in load_project_examples(PROJECT / "data") if e.type in ("consultation", "suggestion")]
    assert len(examples) > 1000
    assert [(e.source, e.text) for e in examples if kind(e.text)] == []


def test_a_worry_cancels_only_the_event_after_it_in_its_clause() -> None:
    assert kind("担心起火") is None
    assert kind("担心起火，结果今晚真的着火了") == "fire"


def test_a_past_day_ends_only_the_event_of_its_clause() -> None:
    assert kind("上周楼下起火了。") is None
    assert kind("上周楼下起火过一次。今天又着火了，快来人") == "fire"
    assert kind("着火了，上周就起过一次") == "fire"
    assert kind("昨天开始一直昏迷") == "injury"


def test_shared_rules_apply_to_the_groups_they_name(tmp_path: Path) -> None:
    lexicon = tmp_path / "urgent.yml"
    lexicon.write_text(
        "shared:\n"
        "  past:\n"
        "    groups: [fire]\n"
        "    unless_in_clause: ['昨天']\n"
        "    but_still: ['还在']\n"
        "  pressing:\n"
        "    groups: [fire]\n"
        "    now_in_sentence: ['快来人']\n"
        "fire:\n  patterns: ['着火']\n  unless: ['保险']\n"
        "missing:\n  patterns: ['走失']\n",
        encoding="utf-8",
    )
    detector = UrgentDetector.from_file(lexicon)
    assert detector.kind("昨天着火了") is None
    assert detector.kind("昨天着火了还在烧") == "fire"
    assert detector.kind("着火了,昨天就有烟") == "fire"
    assert detector.kind("昨天走失了") == "missing"
    assert detector.kind("着火了,保险赔吗") is None
    assert detector.kind("快来人,着火了,保险赔吗") == "fire"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shared:\n  past:\n    groups: [fires]\n    unless: ['昨天']\nfire:\n  patterns: ['着火']\n", "unknown group 'fires'"),
        ("fire:\n  patterns: ['着火']\n  unles: ['昨天']\n", "unknown key 'unles'"),
        ("fire:\n  patterns: ['着火']\n  unless_in_sentence: ['昨天']\n", "unknown key 'unless_in_sentence'"),
        ("fire:\n  patterns: ['着火(']\n", "bad pattern '着火('"),
    ],
)
def test_a_mistyped_lexicon_is_refused_with_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    lexicon = tmp_path / "urgent.yml"
    lexicon.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(message)):
        UrgentDetector.from_file(lexicon)


def test_the_first_character_shortcut_knows_when_it_cannot_tell() -> None:
    from nlu.urgent import _first_characters

    assert _first_characters("(?:着火|失火)了?") == frozenset("着失")
    assert _first_characters("(?<!消防)[煤燃]气泄漏") == frozenset("煤燃")
    assert _first_characters("a?b") == frozenset("ab")  # an optional start lets the next one start
    # Unknown starts, case-insensitive flags and patterns that may match nothing: no shortcut.
    for pattern in (r"\w+火", "(?i)fire", "x*", "("):
        assert _first_characters(pattern) is None, pattern
