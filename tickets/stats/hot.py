"""Hot issues: messages grouped by what and where they are about, so that recurring problems
and 并单 (merge) candidates stand out. A label is the most specific issue word found in the text,
prefixed with the place named in it (幸福里小区·垃圾); messages with no issue word are left out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Issue words any city has; config.yml's department keywords are added to these.
COMMON_ISSUE_WORDS = (
    "垃圾", "噪音", "噪声", "停水", "停电", "漏水", "积水", "异味", "油烟", "扬尘", "占道", "违建", "路灯", "井盖",
    "物业", "欠薪", "工资", "社保", "医保", "公交", "出租车", "违停", "学位", "入学", "退款", "供暖", "燃气", "电梯",
)
_PLACE = re.compile(
    r"([\u4e00-\u9fa5]{2,5}?(?:小区|花园|新城|家园|公寓|苑|里|街道|大道|路|街|村|镇|区))"
)
_NOT_PLACE_START = "在了的我们你他她是请市民来电反映咨询建议投诉希望问题已经"


# Words that say where, not what (小区 is a housing keyword, but 幸福里小区 is a place).
_PLACE_WORDS = frozenset({"小区", "社区", "街道", "居委会", "村委会", "村民", "农民"})


def vocabulary(words: Iterable[str]) -> tuple[str, ...]:
    unique = {w.strip() for w in (*COMMON_ISSUE_WORDS, *words) if len(w.strip()) >= 2} - _PLACE_WORDS
    return tuple(sorted(unique, key=lambda w: (-len(w), w)))


def _place(text: str) -> str | None:
    for match in _PLACE.finditer(text):
        place = match.group(1).lstrip(_NOT_PLACE_START)
        if len(place) >= 3 and not place.endswith(("小区", "社区")) or len(place) >= 4:
            return place
    return None


def issue_label(text: str, words: Sequence[str]) -> str | None:
    """`words` longest first (see vocabulary()); the first that occurs names the issue."""
    word = next((w for w in words if w in text), None)
    if word is None:
        return None
    place = _place(text)
    return f"{place}·{word}" if place else word


@dataclass
class HotIssue:
    label: str
    department_code: str
    count: int = 0
    example: str = ""
    numbers: list[str] = field(default_factory=list)

    def add(self, count: int, example: str, numbers: Sequence[str], keep: int = 5) -> None:
        self.count += count
        self.example = self.example or example
        self.numbers.extend(n for n in numbers if len(self.numbers) < keep and n not in self.numbers)
