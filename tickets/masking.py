"""Masking of personal data in texts shown outside the department (政务公开, dashboard examples).

Every view that shows a citizen's text or a department's answer calls `mask_personal`, the one
place that knows what is personal: ID-card, bank-card, phone and other long numbers; e-mail
addresses; WeChat / QQ / 微博 / 抖音 accounts named after their label; licence plates; exact
house numbers (building, unit, room); and people's names — introduced (我叫王伟, 联系了刘洋),
after a title or role (物业经理李明) or before one (王女士, 张师傅). A name becomes 某某, a
surname before a title 某 (某女士), so that neither a name nor its length is published.
"""

from __future__ import annotations

import re

from tickets.masking_names import LOOKALIKES, RULE_SURNAMES, name_spans, plausible_name

# Bump when a change masks more than before: masked texts stored by an older version (a ticket's
# summary_masked) are then computed again before anyone reads them.
MASKING_VERSION = 1

# 18-digit resident ID (last may be X), then 15-digit old IDs.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
# Bank cards written in groups of four (6222 0212 3456 7890 123); unbroken runs are long digits below.
_CARD_GROUPS = re.compile(r"(?<!\d)\d{4}(?:[ -]\d{4}){2,4}(?:[ -]\d{1,4})?(?!\d)")
# Mobile numbers (optionally +86), landlines with area code, and any other long digit run.
_MOBILE = re.compile(r"(?:\+?86[- ]?)?(?<!\d)1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)")
# Any other long digit run, except a ticket number (20261123-0007), which names no one.
_LONG_DIGITS = re.compile(r"(?<!\d)\d{7,}(?!\d)(?!-\d{4,}(?!\d))")
# Digits in groups (139 1234 5678, 110101 19900307 4521) or an ID already starred in the middle
# (110101 ******** 1234): masked when the groups hold 11 or more digits and stars.
_GROUPED = re.compile(r"(?<![0-9A-Za-z*])[0-9*]+(?:[ \u3000]+[0-9*]+){1,5}[Xx]?(?![0-9A-Za-z*])")
# A phone or ID read out in Chinese numerals (一三八…, 幺三九…, 壹叁捌…): seven or more in a row.
_CHINESE_DIGITS = re.compile(r"[零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖][零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖\s\-]{5,}"
                             r"[零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖]")
# A room number without 室 after the building or unit (5号楼1单元302), and 8-2-1101 style addresses.
_ROOM_AFTER_UNIT = re.compile(r"(单元|号楼|栋|幢)\s*\d{2,5}(?![\d年月日号点时分])")
_DASHED_ADDRESS = re.compile(r"(?<![\d-])\d{1,3}-\d{1,3}-\d{2,5}(?![\d-])")  # not a date (2026-11-23)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# An account after its label: 微信号wangjg1980, vx: abc_123, QQ 12345, 微博：小鱼儿, @某人.
_ACCOUNT_LABEL = (r"(?<![A-Za-z])(微信号?|威信|薇信|[vV]信|[vV][xX]|[wW][xX]|weixin|wechat|WeChat|[qQ]{2}号?|扣扣|"
                  r"企鹅号|微博号?|抖音号?|快手号?|小红书号?)")
_ACCOUNT = re.compile(_ACCOUNT_LABEL + r"(\s*(?:号码|账号|帐号|ID|id)?\s*(?:[:：]|是|为)?\s*)([A-Za-z0-9][A-Za-z0-9_-]{3,39})")
_NICKNAME = re.compile(r"(微博|微博名|昵称|网名|抖音|快手|小红书)(\s*[:：@]\s*@?)([^\s，。,;；、！？!?]{1,20})")
_HANDLE = re.compile(r"@[^\s，。,;；、！？!?@*]{2,20}")
# Licence plates: province, city letter, 5 (6 for new-energy) letters and digits: 闽A·12345, 湘A88K66.
_PLATE = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-Za-z])[\s·•・.\-]?"
                    r"(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{5,6}(?![A-Za-z0-9])")
# Exact addresses: building / unit / room / house numbers (3号楼2单元501室, 12号, 8栋, 302房).
_HOUSE = re.compile(r"[0-9一二三四五六七八九十零〇百]+(?:-[0-9]+)*\s*(?:号楼|号院|栋|幢|单元|室|号|层|楼|房|户)")

# -- names ---------------------------------------------------------------------------------------
_SURNAMES = RULE_SURNAMES
_NAME = r"[" + _SURNAMES + r"][\u4e00-\u9fa5]{1,2}?"
# What may follow a name: punctuation, a mobile number (already starred: 联系王伟1****), the end, or a word
# that says what the person did.
_AFTER_NAME = (r"(?=[\s，。、；：！？,.;:!?（(）)」”\"'…—]|1\*|$|说|称|讲|表示|反映|回复|答复|处理|协调|负责|联系|到场|上门|"
               r"核实|解释|沟通|来电|来信|来访|投诉|咨询|建议|要求|希望|认为|同意|签字|已|同志|电话|手机|等|和|与|及|在|对|向)")
# Titles a surname stands before (王女士, 张师傅, 李经理) or a full name stands after (物业经理李明).
_TITLES = ("先生|女士|小姐|同志|师傅|阿姨|大爷|大妈|大姐|大哥|老师|医生|医师|护士|警官|民警|辅警|经理|主任|书记|局长|"
           "处长|科长|所长|站长|院长|校长|村长|镇长|队长|组长|老板|律师|网格员|社工")
_ROLES = _TITLES + "|负责人|工作人员|管理员|保安|业主|市民|居民|村民|家长|患者|病人|当事人|投诉人|来电人|邻居|同事"
# Said before a name, so the name needs no title: 我叫王伟, 姓名：李四, 联系人张三.
_INTRO_STRONG = re.compile(r"(我叫|名叫|名字叫|姓名[:：]?|联系人[:：]?|签名[:：]?)\s*([" + _SURNAMES + r"][\u4e00-\u9fa5]{1,2})")
# Said before a name or a thing (是高峰期, 找不到): only a name if what follows ends it.
_INTRO_WEAK = re.compile(r"((?:我|他|她|对方|名字|姓名|本人)是|叫|本人|找|联系(?:了|上)?|通知了?|告知了?|告诉|转告|咨询了?)\s*(" + _NAME
                         + r")" + _AFTER_NAME)
# After a role a name is likelier than a word (经理李明都…), so a single function character ends it too.
_AFTER_ROLE_NAME = _AFTER_NAME[:-1] + r"|[都也就还又才却讲不没未曾会要能让把被给跟同从的了们将正去来到过着是为请便])"
_ROLE_NAME = re.compile(r"(" + _ROLES + r")\s*(" + _NAME + r")" + _AFTER_ROLE_NAME)
_SURNAME_TITLE = re.compile(r"([" + _SURNAMES + r"])(?:[\u4e00-\u9fa5]{1,2}?(?=先生|女士|小姐|同志))?(" + _TITLES + r")")
# A character and the surname after it that form a common word, not a name (语文老师, 感谢医生, 对方律师).
_COMMON_WORDS = (
    "语文 中文 英文 课文 历史 主任 责任 信任 担任 前任 现任 上任 兼任 对于 关于 由于 等于 属于 位于 至于 处于 过于 终于 在于 基于 "
    "鉴于 用于 出于 提高 最高 很高 太高 较高 偏高 过高 身高 经常 正常 非常 日常 异常 平常 通常 时常 照常 资金 押金 奖金 现金 租金 "
    "基金 定金 订金 明白 工程 过程 流程 课程 全程 感谢 多谢 致谢 答谢 允许 也许 或许 如何 任何 为何 一周 每周 本周 上周 下周 四周 "
    "双方 对方 地方 警方 院方 校方 各方 一方 官方 甲方 乙方 处方 前方 后方 其余 业余 多余 剩余 容易 交易 贸易 祝贺 照顾 回顾 "
    "依赖 信赖 紧张 主张 开张 一张 行李 分钟 园林 森林 树林 桥梁 大陆 江苏 滨江 长江 佩戴 穿戴 价钱 工钱 交钱 退钱 花钱 给钱 "
    "路段 时段 地段 阶段 手段 一万 上万 千万 农田 砂石 碎石 健康 安康 子孙 外孙 荒唐 国王 大王 人马 斑马 平安 不曾 未曾 "
    "章程 文章 规章 印章 公章 盖章 齐全 整齐 一齐 申请 重申 岳父 好温 体温 高温 保温 鲁莽 季度 四季 淡季 旺季 过节 毕业 完毕 "
    "方式 施工"
)
_NOT_A_NAME = frozenset(_COMMON_WORDS.split())


def _stars(match: re.Match[str]) -> str:
    return "*" * len(match.group(0))


def _keep_label(match: re.Match[str]) -> str:
    return match.group(1) + match.group(2) + "*" * max(4, len(match.group(3)))


def _mask_names(text: str) -> str:
    text = _INTRO_STRONG.sub(lambda m: m.group(1) + "某某", text)

    def surname_title(match: re.Match[str]) -> str:
        start = match.start()
        if start > 0 and text[start - 1] + match.group(1) in _NOT_A_NAME:
            return match.group(0)
        if match.group(0)[: -len(match.group(2))] in LOOKALIKES:  # 孙中山先生纪念馆
            return match.group(0)
        return "某" + match.group(2)

    text = _SURNAME_TITLE.sub(surname_title, text)
    text = _ROLE_NAME.sub(lambda m: m.group(1) + "某某" if plausible_name(m.group(2)) else m.group(0), text)
    return _INTRO_WEAK.sub(lambda m: m.group(1) + "某某"
                           if plausible_name(m.group(2)) and m.group(2)[:2] not in _NOT_A_NAME else m.group(0), text)


def mask_personal(text: str | None) -> str:
    """The text with personal data replaced by asterisks, and names by 某某."""
    if not text:
        return ""
    masked = _ID_CARD.sub(_stars, text)
    masked = _CARD_GROUPS.sub(_stars, masked)
    masked = _EMAIL.sub("***@***", masked)
    masked = _MOBILE.sub(lambda m: "1**********", masked)
    masked = _LANDLINE.sub(_stars, masked)
    masked = _ACCOUNT.sub(_keep_label, masked)
    masked = _NICKNAME.sub(_keep_label, masked)
    masked = _HANDLE.sub("@***", masked)
    masked = _PLATE.sub(lambda m: m.group(1) + m.group(2) + "·*****", masked)
    masked = _LONG_DIGITS.sub(_stars, masked)
    masked = _GROUPED.sub(_grouped, masked)
    masked = _CHINESE_DIGITS.sub(_chinese_digits, masked)
    masked = _DASHED_ADDRESS.sub(_stars, masked)
    masked = _HOUSE.sub(lambda m: "**" + _unit(m.group(0)), masked)
    masked = _ROOM_AFTER_UNIT.sub(lambda m: m.group(1) + "**", masked)
    return _mask_tagged_names(_mask_names(masked))


def _grouped(match: re.Match[str]) -> str:
    found = match.group(0)
    return re.sub(r"[0-9*Xx]", "*", found) if sum(c.isdigit() or c == "*" for c in found) >= 11 else found


def _chinese_digits(match: re.Match[str]) -> str:
    found = match.group(0)
    return "*" * len(found) if sum(not c.isspace() and c != "-" for c in found) >= 7 else found


def _mask_tagged_names(text: str) -> str:
    spans = sorted(set(name_spans(text)))
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out += [text[at:start], "某某"]
        at = end
    return "".join(out) + text[at:]


def _unit(fragment: str) -> str:
    match = re.search(r"(号楼|号院|栋|幢|单元|室|号|层|楼|房|户)$", fragment)
    return match.group(1) if match else ""
