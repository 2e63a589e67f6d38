"""Personal data is masked in everything the public sees: the citizen's text and the department's answer."""

from __future__ import annotations

import pytest

from tickets.masking import mask_personal


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("联系电话13812345678，请回电", "13812345678", "联系电话"),
        ("电话+86 138-1234-5678", "1234", "电话"),
        ("座机0571-88886666", "88886666", "座机"),
        ("本人身份证号110101199001011234。", "110101199001011234", "本人身份证号"),
        ("身份证11010119900101123X", "11010119900101123X", "身份证"),
        ("我叫王伟，住在幸福里小区", "王伟", "我叫某某"),
        ("张建国先生反映", "张建国", "某先生反映"),
        ("幸福里小区3号楼2单元501室漏水", "501", "幸福里小区"),
        ("人民路12号门口垃圾", "12号", "人民路"),
    ],
)
def test_personal_data_is_masked_and_the_rest_kept(text: str, hidden: str, kept: str) -> None:
    masked = mask_personal(text)
    assert hidden not in masked
    assert kept in masked


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("有事加我微信号wangjg1980，谢谢", "wangjg1980", "微信号"),
        ("vx: abc_123 随时联系", "abc_123", "vx"),
        ("回复请发邮件到wjg@example.com，谢谢", "wjg", "回复请发邮件到"),
        ("回复请发邮件到wjg@example.com，谢谢", "example.com", "谢谢"),
        ("我的QQ 123456", "123456", "我的QQ"),
        ("QQ号：12345678", "12345678", "QQ号"),
        ("微博：小鱼儿爱吃鱼，已私信", "小鱼儿", "已私信"),
        ("车牌闽A·12345的车天天堵门", "12345", "闽A"),
        ("湘A88K66长期占用消防通道", "88K66", "长期占用消防通道"),
        ("新能源车粤BD12345乱停", "D12345", "新能源车"),
        ("退款请打到卡号6222 0212 3456 7890 123", "3456", "退款请打到卡号"),
    ],
)
def test_accounts_plates_and_cards_are_masked(text: str, hidden: str, kept: str) -> None:
    masked = mask_personal(text)
    assert hidden not in masked
    assert kept in masked


@pytest.mark.parametrize(
    ("text", "hidden", "expected"),
    [
        ("经核实，已联系物业经理李明，要求三日内整改。", "李明", "经核实，已联系物业经理某某，要求三日内整改。"),
        ("我单位联系了张师傅，明天上门维修。", "张", "我单位联系了某师傅，明天上门维修。"),
        ("王女士反映的情况属实。", "王", "某女士反映的情况属实。"),
        ("已联系刘洋处理。", "刘洋", "已联系某某处理。"),
        ("社区网格员周芳已上门核实。", "周芳", "社区网格员某某已上门核实。"),
        ("派出所民警赵磊称已调解。", "赵磊", "派出所民警某某称已调解。"),
        ("请王经理回电。", "王", "请某经理回电。"),
        ("市民陈静来电反映噪音。", "陈静", "市民某某来电反映噪音。"),
        ("多次找物业经理李明都没有结果。", "李明", "多次找物业经理某某都没有结果。"),
        ("主任王建国也到了现场。", "王建国", "主任某某也到了现场。"),
        ("如有疑问请联系王建国13812345678。", "王建国", "如有疑问请联系某某1**********。"),
        ("已电话告知王建国。", "王建国", "已电话告知某某。"),
        ("可向副主任刘成志（联系电话：略）咨询。", "刘成志", "可向副主任某某（联系电话：略）咨询。"),
    ],
)
def test_third_parties_named_in_an_answer_are_masked(text: str, hidden: str, expected: str) -> None:
    masked = mask_personal(text)
    assert hidden not in masked
    assert masked == expected


@pytest.mark.parametrize(
    "text",
    [
        "建议在人民路增设公交站点，方便周边群众出行。",
        "请问公交线路怎么调整？",
        "语文老师布置的作业太多。",
        "感谢医生的耐心解释。",
        "对于老师的问题，学校已答复。",
        "医生高度重视，已安排复查。",
        "是否可以延长开放时间？",
        "找不到负责的部门。",
        "主任医生说的情况属实。",
        "经核实，已安排工作人员到现场处理，问题已整改到位。",
        "问题是周末噪音太大。",
        "高新区管网改造",
        "经其本人申请，要求原地翻新。",
        "请直接与我们联系。联系方式（见下）",
        "已告知施工负责人夜间停止施工。",
    ],
)
def test_text_without_personal_data_is_unchanged(text: str) -> None:
    assert mask_personal(text) == text


def test_nothing_to_mask_gives_an_empty_string() -> None:
    assert mask_personal(None) == ""
    assert mask_personal("") == ""
