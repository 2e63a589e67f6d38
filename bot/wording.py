"""What a citizen's text is made of, before anything is classified: Chinese, other letters, or
nothing to read (emoji, punctuation); the words that mean a button; and whether an answer to
"where?" names a place at all."""

from __future__ import annotations

import re
import unicodedata

from nlu.normalise import to_simplified

CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Typed instead of pressing a draft's button; trailing punctuation and polite particles ignored.
SUBMIT_WORDS = frozenset({"提交", "确认", "确定", "确认提交", "确定提交", "提交吧", "可以提交", "好的提交", "没问题"})
CANCEL_WORDS = frozenset({"取消", "不提交", "取消提交", "算了", "不用了", "不要了"})
_TRIM = re.compile(r"[\s。！!，,.~～吧啊呀哈]+$")

# The labels the chat shows on its buttons (the web page's quick buttons, the draft card's, the
# rating's, Telegram's reply keyboard), typed as text: they mean the button, never a new appeal.
LABELS = {
    "我的工单": "mytickets", "查询进度": "status", "查询": "status", "使用说明": "help", "帮助": "help",
    "改类型": "types", "改部门": "depts", "返回": "back", "跳过": "skip",
    "满意": "rate:satisfied", "基本满意": "rate:basically_satisfied", "不满意": "rate:dissatisfied",
    "不说明原因，直接提交": "noreason", "不说明原因": "noreason",
    "仍然提交": "insist", "仍然提交 / submit anyway": "insist", "submit anyway": "insist",
    "发送位置": "share", "📍 发送位置": "share", "分享联系方式": "share", "📞 分享联系方式": "share",
}
STATUS_LABEL = re.compile(r"^查看\s*(\d{8}-\d{4})(?:（.*）)?$")

# "Where?" answered with "I don't know" or "skip": no place, and no second question.
NO_PLACE = frozenset({"跳过", "不知道", "不清楚", "不确定", "不记得", "忘了", "说不清", "不方便", "不方便说", "不想说",
                      "没有", "无", "不知道具体地址", "不知道地址", "不清楚地址"})
UNKNOWN = re.compile(r"^(?:不知道|不清楚|不记得|记不清)")
# What "I don't know" is about, in "不清楚具体门牌号": not a place of its own.
WHAT_IS_UNKNOWN = re.compile(r"具体|详细|的|门牌号?|地址|位置|地点|在哪里?|哪里|哪儿|几号楼?|几栋|几单元|楼号|号码")
# Not an answer to "where?" at all: thanks, greetings, assent.
NOT_AN_ANSWER = frozenset({"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "好", "好的", "好吧", "嗯", "嗯嗯", "哦", "噢", "行",
                           "可以", "是", "是的", "对", "对的", "收到", "知道了", "明白", "你好", "您好", "在吗", "ok", "okay",
                           "thanks", "thank you", "hello", "hi", "yes", "no"})
# What an address is made of: a number, or the words that end or anchor a place.
PLACE_WORDS = re.compile(
    r"\d|[一二三四五六七八九十百]+(?:号|栋|幢|楼|层|单元|室|弄|巷|组|队)"
    r"|路|街|巷|弄|胡同|大道|街道|号|小区|社区|村|镇|乡|区|县|楼|栋|幢|单元|门口|门前|大门|东门|西门|南门|北门|广场|公园|"
    r"学校|小学|中学|大学|学院|幼儿园|医院|卫生院|诊所|附近|对面|旁边|隔壁|路口|交叉口|桥|站|码头|机场|商场|超市|市场|"
    r"大厦|中心|花园|家园|公寓|苑|园|庄|府|湾|城|车库|停车场|河|湖|江|山|工地|工业园|厂|店|酒店|宾馆|饭店|餐厅|银行|"
    r"政府|派出所|楼下|楼上|院|地铁|公交"
    r"|\b(?:road|rd|street|st|avenue|ave|lane|district|building|park|station|square|village|community)\b",
    re.IGNORECASE,
)


def has_chinese(text: str) -> bool:
    return CHINESE.search(text) is not None


def has_words(text: str) -> bool:
    """Any letter of any script (digits, emoji, punctuation and symbols alone say nothing)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def bare(text: str) -> str:
    """The message as a button word: trimmed, closing punctuation and particles off, Simplified
    (a Traditional-script keyboard types 查詢進度, 謝謝)."""
    return to_simplified(_TRIM.sub("", text.strip())).lower()


def typed_label(text: str) -> str | None:
    """The action of a button whose label (or, for 提交 and 取消, one of its words) is the whole
    message ("status:NUMBER" for a typed 查看 NUMBER), else None."""
    found = STATUS_LABEL.match(text.strip())
    if found:
        return f"status:{found.group(1)}"
    word = bare(text)
    if word in SUBMIT_WORDS:
        return "submit"
    if word in CANCEL_WORDS:
        return "cancel"
    return LABELS.get(word)


def place_answer(text: str, found_place: bool) -> str:
    """How an answer to "where?" reads: "skip" (跳过, 不知道), "place" (the classifier found a place,
    or it has a number or a place word), "none" (thanks, greetings, assent) or "unsure".
    "不清楚门牌号，在万达广场" names a place after its "I don't know": the place wins."""
    word = bare(text)
    if word in NO_PLACE:
        return "skip"
    if word in NOT_AN_ANSWER:
        return "none"
    unknown = UNKNOWN.match(word)
    if unknown is None:
        return "place" if found_place or PLACE_WORDS.search(word) else "unsure"
    rest = WHAT_IS_UNKNOWN.sub("", word[unknown.end():])
    if PLACE_WORDS.search(rest) or (found_place and sum(ch.isalpha() for ch in rest) >= 2):
        return "place"
    return "skip" if len(word) <= 12 else "unsure"
