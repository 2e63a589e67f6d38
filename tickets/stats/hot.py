"""Hot issues: messages grouped by what they are about, so that recurring problems and 并单 (merge)
candidates stand out.

Each message gets a label: the issue word it names first (from config.yml's department keywords and
a common list; the longest at that place), prefixed with the place it names (幸福里·物业). A place is a name
ending in 小区, 路, 街道, 村… whose name part holds no function or question word (到哪里, 我们小区
and 公交线路 are not places). The report then groups the labels by issue word: the group is named
after its most frequent place when most of its messages name it (幸福里·物业), else after the word
alone, and lists its places with their counts. Messages with no issue word are left out.

Where the wiring hands in the tickets' sentence vectors, groups that mean the same are then merged
(merge_by_meaning): words group messages readably, vectors catch the same problem in other words."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

# Issue words any city has; config.yml's department keywords are added to these.
COMMON_ISSUE_WORDS = (
    "垃圾", "噪音", "噪声", "停水", "停电", "漏水", "积水", "异味", "油烟", "扬尘", "占道", "违建", "路灯", "井盖",
    "物业", "欠薪", "工资", "社保", "医保", "公交", "出租车", "违停", "学位", "入学", "退款", "供暖", "燃气", "电梯",
)
# Words that say where, not what (小区 is a housing keyword, but 幸福里小区 is a place).
_PLACE_WORDS = frozenset({"小区", "社区", "街道", "居委会", "村委会", "村民", "农民"})

# 里 only before 小区/社区 (幸福里小区): alone it is mostly 哪里, 家里, 公司里.
_SUFFIX = re.compile(r"小区|花园|新城|新村|家园|公寓|街道|大道|大街|广场|大厦|公园|苑|里(?=小区|社区)|路|街|巷|弄|村|镇|区")
# A place's name holds none of these: function words, pronouns, question words, measure words.
_STOP = frozenset("在住到去从于向往至的了着是我你他她它们咱这那哪谁啥怎么什吗呢吧啊呀嘛把被给让请叫说问有没不也都就还又很太该"
                  "其每各此条座栋些种几要想需已将或对个")
# Openings of a sentence that run into a place name (市民来电反映朝阳区…).
_LEADING = ("来电人", "反映", "来电", "咨询", "投诉", "建议", "希望", "市民", "请问", "一下", "位于", "关于", "附近", "周边",
            "居民", "群众", "本市", "全市", "加强", "人称", "称")
# Name parts that are generic, not a name (居民区, 老旧小区, 城乡结合部).
_GENERIC = frozenset({"居民", "住宅", "商业", "工业", "风景", "生活", "办公", "停车", "施工", "开发", "老旧", "城乡", "农村",
                      "城市", "周边", "附近", "旅游", "保护", "示范", "新建", "老城", "中心", "主城", "外面", "里面", "下面",
                      *_PLACE_WORDS, "城区", "市区", "景区", "园区", "校区", "片区", "辖区"})
# A suffix with the character before it forming an everyday word: 公交线路, 高速公路 are not places
# (but a two-character name keeps it: 东城区).
_ENDINGS = (
    "线路 道路 马路 公路 铁路 电路 思路 出路 套路 水路 网路 走路 修路 上路 过路 进路 小路 大路 一路 半路 近路 绕路 "
    "城区 市区 郊区 社区 景区 园区 校区 辖区 片区 地区 山区 街区 专区 新区 老区 本区 该区 全区 城里 村里 家里 心里 夜里 "
    "屋里 店里 手里 院里 楼里 区里 市里 县里 镇里 公里 农村 乡村 城镇 乡镇 上街 沿街 临街 逛街 小巷 小镇"
)
_COMMON_ENDINGS = frozenset(_ENDINGS.split())
_NAME_CHARS = 4
_ISSUE_CHARS = 1000  # the issue is named in the opening; a long post's tail adds cost, not meaning


def vocabulary(words: Iterable[str]) -> tuple[str, ...]:
    """Issue words to look for: `words` (the departments' keywords), then the common list's others."""
    own = {w.strip() for w in words if len(w.strip()) >= 2} - _PLACE_WORDS
    common = {w for w in COMMON_ISSUE_WORDS if w not in own}
    return (*sorted(own, key=lambda w: (-len(w), w)), *sorted(common, key=lambda w: (-len(w), w)))


def _name_before(text: str, end: int) -> str:
    start = end
    while start > 0 and end - start < _NAME_CHARS and "\u4e00" <= text[start - 1] <= "\u9fa5" \
            and text[start - 1] not in _STOP:
        start -= 1
    name = text[start:end]
    stripped = True
    while stripped:
        stripped = False
        for opening in _LEADING:
            if name.startswith(opening) and len(name) > len(opening):
                name, stripped = name[len(opening):], True
    return name


def place_in(text: str, words: Sequence[str] = ()) -> str | None:
    """The first place named in `text` (幸福里, 城南街道, 朝阳区), or None."""
    for match in _SUFFIX.finditer(text):
        name = _name_before(text, match.start())
        if len(name) < 2 or name in _GENERIC or (len(name) > 2 and name[-1] + match.group(0)[0] in _COMMON_ENDINGS):
            continue
        place = name + match.group(0)
        if any(word in place for word in words):
            continue  # 步行街, 老旧小区, 公交线路: an issue word, not a place
        return place
    return None


def issue_word(text: str, words: Sequence[str]) -> str | None:
    """The issue word the text names first (the longest at that place: 垃圾分类 before 垃圾), so that a
    closing 本人身份证号… does not make a complaint about 摊贩 a 身份证 issue."""
    match = _alternation(tuple(words)).search(text[:_ISSUE_CHARS]) if words else None
    return match.group(0) if match else None


@lru_cache(maxsize=8)
def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern: the leftmost match, and at that place the longest word (alternatives longest first)."""
    return re.compile("|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w))))


def issue_label(text: str, words: Sequence[str]) -> str | None:
    """The issue word (see issue_word), prefixed with the place the text names, if any."""
    word = issue_word(text, words)
    if word is None:
        return None
    place = place_in(text, words)
    return f"{place}·{word}" if place else word


def split_label(label: str) -> tuple[str | None, str]:
    """(place, issue word) of a message's label."""
    place, _, word = label.rpartition("·")
    return place or None, word


@dataclass
class HotIssue:
    label: str
    department_code: str
    count: int = 0
    example: str = ""
    numbers: list[str] = field(default_factory=list)
    places: list[tuple[str, int]] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # labels merged in by meaning (merge_by_meaning)

    def add(self, count: int, example: str, numbers: Sequence[str], keep: int = 5) -> None:
        self.count += count
        self.example = self.example or example
        self.numbers.extend(n for n in numbers if len(self.numbers) < keep and n not in self.numbers)


def group_issues(labelled: Iterable[HotIssue], places_shown: int = 3) -> list[HotIssue]:
    """Messages' labels grouped by issue word, largest first. A group is named after its most
    frequent place when at least two and at least half of its messages name it."""
    by_word: dict[str, list[HotIssue]] = {}
    for issue in labelled:
        by_word.setdefault(split_label(issue.label)[1], []).append(issue)
    groups = []
    for word, members in by_word.items():
        members.sort(key=lambda m: (-m.count, m.label))
        total = sum(m.count for m in members)
        places: Counter[str] = Counter()
        departments: Counter[str] = Counter()
        for member in members:
            place = split_label(member.label)[0]
            if place:
                places[place] += member.count
            departments[member.department_code] += member.count
        top = min(places.items(), key=lambda pc: (-pc[1], pc[0]), default=None)
        named = top is not None and top[1] >= 2 and 2 * top[1] >= total
        label = f"{top[0]}·{word}" if named and top is not None else word
        department = min(departments.items(), key=lambda dc: (-dc[1], dc[0]))[0]
        group = HotIssue(label, department, places=sorted(places.items(), key=lambda pc: (-pc[1], pc[0]))[:places_shown])
        if named:  # the example and numbers of the place the group is named after come first
            members.sort(key=lambda m: (split_label(m.label)[0] != top[0] if top else True, -m.count, m.label))
        for member in members:
            group.add(member.count, member.example, member.numbers)
        groups.append(group)
    return sorted(groups, key=lambda g: (-g.count, g.label))


def merge_by_meaning(
    groups: Sequence[HotIssue], vectors: Mapping[str, np.ndarray], threshold: float, keep: int = 5
) -> list[HotIssue]:
    """Groups whose messages mean the same merged, so that one problem named in different words
    (停水 and 自来水, 噪音 and 施工) counts once: a group joins the largest group before it whose centroid
    (the mean of its tickets' sentence vectors, by number) has a cosine of at least `threshold` with its
    own. The larger group keeps its readable label; the merged ones are listed in `related`."""
    merged: list[tuple[HotIssue, np.ndarray | None]] = []
    for original in sorted(groups, key=lambda g: (-g.count, g.label)):
        group = replace(original, numbers=list(original.numbers), places=list(original.places),
                        related=list(original.related))  # the caller's groups stay as they were
        rows = [vectors[n] for n in group.numbers if n in vectors]
        centroid = _unit(np.mean(rows, axis=0)) if rows else None
        target = None
        if centroid is not None:
            target = next((i for i, (_, c) in enumerate(merged) if c is not None and float(c @ centroid) >= threshold), None)
        if target is None:
            merged.append((group, centroid))
            continue
        into, into_centroid = merged[target]
        assert into_centroid is not None and centroid is not None
        weight = into.count / (into.count + group.count)
        merged[target] = (into, _unit(weight * into_centroid + (1 - weight) * centroid))
        into.related.append(group.label)
        into.add(group.count, group.example, group.numbers, keep)
        places = Counter(dict(into.places)) + Counter(dict(group.places))
        into.places = sorted(places.items(), key=lambda pc: (-pc[1], pc[0]))[: max(len(into.places), 3)]
    return sorted((g for g, _ in merged), key=lambda g: (-g.count, g.label))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
