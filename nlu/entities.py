"""Entities with their spans: phone numbers, ID-card numbers, places, times and dates, licence plates.

Spans index the text that was passed in. Extraction runs on a width-folded copy of the same length
(full-width digits count as digits), so spans stay valid for the caller's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import phonenumbers

from nlu.normalise import to_simplified

Entity = dict[str, Any]

_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]·?"
    r"(?:[DF][A-HJ-NP-Z0-9]{5}|[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳](?![A-Za-z0-9]))"
)
_CN_NUM = "零一二两三四五六七八九十百千"
_NUM = rf"[\d{_CN_NUM}]+"
_PERIODS = ("早上", "上午", "中午", "下午", "晚上", "傍晚", "凌晨", "夜里", "半夜", "深夜")
_RELATIVE = ("每天", "每晚", "每周", "天天", "今天", "昨天", "前天", "明天", "后天", "大前天", "今早", "今晚", "昨晚", "明早",
             "明晚", "上周", "本周", "这周", "下周", "上个月", "这个月", "下个月", "上月", "本月", "今年", "去年", "前年", "明年",
             "最近", "近期", "周末", "节假日", "工作日", "春节", "国庆", "元旦", "清明", "端午", "中秋")
_WEEKS = ("每周", "上周", "本周", "这周", "下周")
_YEARS = ("今年", "去年", "前年", "明年")
_MONTHS = ("上个月", "这个月", "下个月", "上月", "本月")
_HOLIDAYS = ("春节", "国庆", "元旦", "清明", "端午", "中秋")
_DAY_PERIOD = "|".join(p for p in _PERIODS if p != "深夜")
_PERIOD = "|".join(_PERIODS)
_WEEKDAY = "[一二三四五六日天]?"


def _relative(word: str) -> str:
    """A relative time word with what may continue it: 上周三, 去年10月5日, 下个月3号, 春节前."""
    if word in _WEEKS:
        return f"{word}{_WEEKDAY}"
    if word in _YEARS:
        return f"{word}(?:{_NUM}月份?(?:{_NUM}[日号])?|(?:{'|'.join(_HOLIDAYS)})(?:前|后|期间)?)?"
    if word in _MONTHS:
        return f"{word}(?:{_NUM}[日号])?"
    if word in _HOLIDAYS:
        return f"{word}(?:前|后|期间)?"
    return word


# Longest first, so that 大前天 is not read as 大 + 前天 and 上个月 not as 上 + 个月.
_RELATIVE_RE = "|".join(_relative(w) for w in sorted(_RELATIVE, key=len, reverse=True))
# Every time starts with a digit, a Chinese numeral or the first character of one of the words
# above: the lookahead lets the engine skip all other positions at once (6x faster on long posts).
_TIME_FIRST = "".join(sorted({"\\d", *_CN_NUM, *(w[0] for w in _PERIODS + _RELATIVE)}))
_TIME = re.compile(
    rf"(?=[{_TIME_FIRST}])(?:"
    rf"(?:(?:\d{{2,4}}|[{_CN_NUM}]{{2,4}})年)?(?:{_NUM}月)?{_NUM}[日号](?![线楼院门室])(?:(?:{_DAY_PERIOD})?(?:{_NUM}[点时](?:{_NUM}分|半)?)?)"
    rf"|(?:\d{{4}}|[{_CN_NUM}]{{4}})年(?:{_NUM}月)?"
    rf"|{_NUM}月份?"
    rf"|\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}"
    rf"|(?:(?:{_RELATIVE_RE})(?:{_PERIOD})?(?:{_NUM}[点时](?:{_NUM}分|半|多)?(?:左右)?)?)"
    rf"|(?:{_PERIOD}){_NUM}[点时](?:{_NUM}分|半|多)?"
    rf"|{_NUM}[点时](?:{_NUM}分|半)?(?:左右|以后|之后|前)?(?=[，。,.\s到至]|$)"
    rf"|\d{{1,2}}:\d{{2}})"
)


def _cjk_except(excluded: str) -> str:
    """The CJK block without some characters, as ranges for a character class: one class test per
    character instead of a lookahead and a test (the place pattern twice as fast, the same matches)."""
    ranges, start = [], 0x4E00
    for code in sorted({ord(c) for c in excluded}):
        if code > start:
            ranges.append(f"{chr(start)}-{chr(code - 1)}" if code - 1 > start else chr(start))
        start = code + 1
    ranges.append(f"{chr(start)}-{chr(0x9FFF)}")
    return "".join(ranges)


# Characters of a name: Chinese, letters and digits, but not the function words that end a name.
_NAME = f"[{_cjk_except('的了在是把被给到从说我你他她们这那没不也都就还又很太')}A-Za-z0-9]"
_SUFFIX = r"(?:街道|大道|胡同|小区|花园|家园|新村|公寓|广场|大厦|社区|[省市区县镇乡村路街巷弄苑府城湾里])"
_PLACE = re.compile(
    rf"(?:{_NAME}{{1,10}}?{_SUFFIX})+"
    rf"(?:{_NAME}{{0,6}}?(?:\d+[号號][楼樓]|\d+[号號]院?|\d+[栋棟]|\d+幢|\d+[单單]元|\d+室|[一二三四五六七八九十]+期))*"
)
# A place starts after these words, not with them: the pattern cannot tell "反映某某路" from a name.
# Requests (希望城管…, 建议市里…, 请市政府…) and times (昨天小区…, 前天夜里) are not part of a name either.
_PLACE_BREAK = re.compile(
    r"反映|来电|市民|群众|投诉|举报|咨询|请问|关于|位于|附近|门口|旁边|楼下|楼上|对面|隔壁|地址|称|住|过马路|马路|希望|建议|另外|"
    r"还有|要求|请|"
    r"市里|区里|县里|镇里|村里|管一管|管管|公交|坐|乘|今天|昨天|前天|明天|每天|天天|今晚|昨晚|晚上|夜里|凌晨|早上|上午|下午|中午"
)
_PLACE_STOP = re.compile(
    r"^(?:城管|城市|城乡|社区医院|全市|本市|市区|小区|(?:市|区|县|镇|乡)?政府)$"
    # 跑路 (absconded), 思路, 套路, 出路 … end in 路 without being roads (东风一路, 光明上路 are roads);
    # 28路 is a bus route
    r"|(?:跑路|思路|套路|出路|活路|走路|线路|道路)$|^\d+路$"
    # 里 after a common noun is "in" (楼道里, 家里), not a lane named 幸福里
    r"|^(?:楼道|家|屋|院子?|村|城|店|厂|楼|车|河|水|心|夜|房间|单位|公司|学校|医院|这|那|哪)里$"
)
# 我家小区 is "my estate", not an estate named 家小区 (王家村 and 李家湾 are names: only after a pronoun).
_PRONOUN_HOME = re.compile(r"[我你他她咱]$")


def fold_width(text: str) -> str:
    return text.translate(_FOLD)


def _valid_id_card(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def find_id_cards(text: str) -> list[Entity]:
    """ID-card numbers, with `valid` saying whether the check digit agrees: a mistyped number (one
    wrong digit) is still someone's personal number, to be masked like a valid one."""
    return [
        {"label": "id_card", "text": m.group(), "start": m.start(), "end": m.end(), "valid": _valid_id_card(m.group())}
        for m in _ID_CARD.finditer(text)
    ]


# The shortest valid Chinese number has seven digits (a local landline without its area code),
# written together or in groups (138 1234 5678, 0571-88886666, (021)12345678). A text without such a
# run is not handed to phonenumbers, whose matcher is slow: dates and amounts add up to seven digits
# in most long posts without being one number (on the real messages, 1 in 5 went to it for nothing).
_MIN_PHONE_DIGITS = 7
_DIGIT_RUN = re.compile(r"\d[\d \-.()（）–—]{5,}\d")


def _may_hold_phone(text: str) -> bool:
    return any(sum(c.isdigit() for c in run.group()) >= _MIN_PHONE_DIGITS for run in _DIGIT_RUN.finditer(text))


def find_phones(text: str, taken: Iterable[tuple[int, int]] = ()) -> list[Entity]:
    if not _may_hold_phone(text):
        return []
    spans = list(taken)
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.VALID):
        if any(match.start < end and start < match.end for start, end in spans):
            continue  # digits of an ID-card number are not a phone number
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.append({"label": "phone", "text": match.raw_string, "start": match.start, "end": match.end,
                      "value": number})
    return found


def find_plates(text: str) -> list[Entity]:
    return [{"label": "plate", "text": m.group(), "start": m.start(), "end": m.end()} for m in _PLATE.finditer(text)]


_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _possible(value: str) -> bool:
    """False for a date no calendar has (2月30日, 13月5日): a typo or a number, not a time."""
    for month, day in _MONTH_DAY.findall(value):
        if not 1 <= int(month) <= 12 or not 1 <= int(day) <= _DAYS_IN_MONTH[int(month) - 1]:
            return False
    return True


def find_times(text: str) -> list[Entity]:
    return [
        {"label": "time", "text": m.group(), "start": m.start(), "end": m.end()}
        for m in _TIME.finditer(text)
        if m.group() and not m.group().isdigit() and _possible(m.group())
    ]


def _place_in(value: str, start: int, text: str) -> tuple[str, int] | None:
    """The place in a match of _PLACE: the last piece between break words that is a place by itself
    (反映某某路 → 某某路; 幸福社区门口路 → 幸福社区)."""
    cuts = [0, *(i for b in _PLACE_BREAK.finditer(value) for i in (b.start(), b.end())), len(value)]
    for begin, end in reversed(list(zip(cuts[::2], cuts[1::2], strict=True))):
        piece, at = value[begin:end], start + begin
        if piece.startswith("家") and _PRONOUN_HOME.search(text[max(0, at - 1) : at]):
            piece, at = piece[1:], at + 1
        if len(piece) >= 3 and _PLACE.fullmatch(piece) and not _PLACE_STOP.search(piece):
            return piece, at
    return None


def find_places(text: str) -> list[Entity]:
    found = []
    for match in _PLACE.finditer(text):
        place = _place_in(match.group(), match.start(), text)
        if place:
            value, start = place
            found.append({"label": "place", "text": value, "start": start, "end": start + len(value)})
    return found


def _overlaps(entity: Entity, others: list[Entity]) -> bool:
    return any(entity["start"] < o["end"] and o["start"] < entity["end"] for o in others)


EXTRACTORS: dict[str, Callable[[str], list[Entity]]] = {
    "id_card": find_id_cards,
    "phone": find_phones,
    "plate": find_plates,
    "time": find_times,
    "place": find_places,
}


def extract_entities(text: str, kinds: Iterable[str] = EXTRACTORS) -> list[Entity]:
    """All entities of the wanted kinds, earlier kinds winning overlaps, sorted by position."""
    folded = fold_width(text)
    # The patterns are written in Simplified characters (陽光花園5棟 is 阳光花园5栋 to them). opencc
    # converts character by character almost always; when a phrase changes length, the spans would
    # no longer index the caller's text, so the folded text is read as it is.
    simplified = to_simplified(folded)
    if len(simplified) == len(folded):
        folded = simplified
    wanted = set(kinds)
    found: list[Entity] = []
    for kind in ("id_card", "phone", "plate", "place", "time"):
        if kind not in wanted:
            continue
        for entity in EXTRACTORS[kind](folded):
            if not _overlaps(entity, found):
                entity["text"] = text[entity["start"] : entity["end"]]
                found.append(entity)
    return sorted(found, key=lambda e: e["start"])
