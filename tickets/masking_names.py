"""People's names in a text: where they are, so that tickets.masking can replace them.

Two kinds of evidence are combined, and a name found by either is masked:

- jieba's part-of-speech tagger marks person names `nr` (`nrt` transliterated, `nrfg` famous).
  A tagged word counts when it starts with a surname (compound ones too: 欧阳, 司马), is two to
  four characters long and is not followed by what ends a place or a shop (路, 小区, 纪念馆…): the
  tagger also calls 张家界 and 王府井 names. A lone surname the tagger marks, followed by a
  one- or two-character word (王|秀英), is a name as well.
- The role rules: after a role or kinship word (车主, 户主, 房东, 妈妈, 经办人, 业委会主任…) or an
  introduction (我叫, 联系人) a surname starts a name that ends where jieba's next word starts; a
  surname or a name before a title (王女士, 张建军师傅) is one too.

The tagger has its own dictionary (not jieba's global one, which the NLU extends with hotline
words), so masking gives the same answer whether or not the NLU is loaded. It loads on first use.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from typing import Any

# Surnames the rules trust on their own (each also starts common words, hence _COMMON_WORDS below).
RULE_SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
                 "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
                 "付严韦施陶洪翟颜倪牛温季俞章鲁葛伍申尤毕聂焦柳邢岳齐庞祝柯莫霍殷骆覃甘凌阮裴樊靳符滕苗柴卓欧")
# Surnames a tagged name may start with: the above and rarer ones that also begin common words
# (单位, 关于, 车主, 向他): only the tagger's or a role's evidence makes them a name.
TAGGER_SURNAMES = RULE_SURNAMES + (
    "肖闫向庄詹耿关兰左包宁尚舒纪梅童单涂谷盛曲翁冉蓝路游辛管蒙鲍华喻祁蒲房屈饶解牟艾穆农司古吉缪简车项芦麦褚娄窦戚岑景党"
    "宫费卜冷晏席卫柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝官封谈匡鞠惠荆冀郁胥班储栗燕"
    "楚鄢劳谌奚粟冼蔺厉伊仝郜阚帅屠朴盖廉禹祖漆巴卿狄索晁芮扈阙浦戈伏鹿薄邸雍辜羊乌裘亓邰赫杭况鲜逯茹诸慕亢嵇湛宾戎勾茅檀昝")
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容", "令狐", "皇甫", "尉迟", "公孙", "端木", "夏侯",
                     "宇文", "长孙", "司徒", "南宫", "西门", "独孤", "轩辕", "呼延", "百里", "万俟", "澹台", "申屠")

_TITLE_WORDS = ("先生|女士|小姐|同志|师傅|阿姨|大爷|大妈|大姐|大哥|奶奶|爷爷|老师|医生|医师|护士|警官|民警|辅警|经理|主任|"
                "书记|局长|副局长|处长|科长|所长|站长|院长|校长|园长|村长|镇长|队长|组长|老板|律师|网格员|社工|道长|"
                "老先生|老太太|老人|同学|家长|夫妇|一家|家属|本人|父子|母子|兄弟|姐妹")
# What a person does at the start of a sentence (刘青山说…, 舒畅反映…).
_SAYS = re.compile(r"(?:说|称|讲|反映|表示|投诉|举报|来电|咨询|要求|希望|认为|家的|家门口|家里|家楼)")
# Words before a name: roles, kinship, introductions (车主刘大伟, 我妈妈王秀英, 经办人周杰).
_ROLE_WORDS = ("维修工|修理工|电工|焊工|钟点工|环卫工|清洁工|装修工|木工|车主|户主|房东|房主|租客|租户|业主|店主|商户|摊主|司机|保安|保姆|保洁员?|快递员|外卖员|包工头|工头|会计|出纳|"
               "教练|园长|楼长|申请人|当事人|投诉人|来电人|举报人|经办人|承办人|负责人|联系人|代理人|家属|病人|患者|"
               "邻居|同事|同学|朋友|老乡|室友|租户|老人|孩子|学生|员工|工人|民警|辅警|城管队员|队员|网格员|社工|"
               "妈妈|母亲|爸爸|父亲|丈夫|妻子|爱人|老伴|老公|老婆|儿子|女儿|外婆|外公|奶奶|爷爷|婆婆|公公|岳母|岳父|舅舅|舅妈|"
               "姑姑|姑父|叔叔|婶婶|阿姨|伯伯|哥哥|姐姐|弟弟|妹妹|侄子|孙子|孙女|外孙|亲戚|"
               "经理|主任|书记|局长|处长|科长|所长|站长|院长|校长|村长|镇长|队长|组长|老板|律师|医生|护士|老师|支书|"
               "销售|中介|客服|前台|窗口人员|工作人员|管理员|承包人|开发商|我叫|名叫|姓名|签名")
# Verbs before a name or a thing (转告卫国强，/ 联系物业): a name only if punctuation or a title ends it.
_WEAK_BEFORE = re.compile(r"(?:转告|告诉|通知|联系|找)$")
_WEAK_BEFORE_ANYWHERE = re.compile(r"(?:转告|告诉|通知|联系|找)")
_PUNCTUATION = frozenset("，。、；：！？,.;:!?）)」”\"' …—")
_ROLE_IN = re.compile(r"(?:" + _ROLE_WORDS + r")[:：\s]*")
_TITLE = re.compile(r"(?:" + _TITLE_WORDS + r")")
_ROLE_BEFORE = re.compile(r"(?:" + _ROLE_WORDS + r")[:：\s]*$")
# What ends a place, a shop or an organisation named after a person (洪秀全路, 司马光小学, 万家乐超市).
_PLACE_AFTER = re.compile(
    r"(?:路|街|道|巷|弄|里|区|县|市|省|镇|乡|村|庄|屯|寨|湾|局|厅|委|院|所|站|店|馆|园|寺|庙|观|塔|宫|井|界|山|岭|峰|湖|"
    r"江|河|海|桥|门|楼|城|场|港|岛|州|坊|堂|阁|厂|矿|号|高速|小学|中学|大学|学校|小区|花园|广场|大道|大街|超市|饭店|酒店|"
    r"新村|新城|新区|地铁|遗址|市场|菜场|点心|面馆|烧饼|餐厅|公司|集团|银行|医院|纪念|故居|景区|古镇|步行街|商场|大厦|中心|基地|公园|幼儿园|凉茶|快递|网吧)")
# Words the tagger calls names that are places, brands or plain words in a hotline's texts.
_LOOKALIKE_WORDS = (
    "张家界 王府井 张家口 周口 马尾 高峰 高峰期 周末 林业 石家庄 黄山 华山 泰山 庐山 嵩山 衡山 峨眉 武当 周庄 朱家角 曹家渡 "
    "李村 杨家坪 刘家庄 翟家庄 谭家湾 廖家湾 段家滩 聂家湾 俞家 姚家园 倪家桥 王老吉 汤臣一品 万达 万家乐 钱塘 钱塘江 "
    "秦淮 秦淮河 孔庙 孙中山 中山 雷锋 焦裕禄 鲁迅 葛洲坝 东方明珠 上官村 司马光 武大郎 骆驼祥子 屈原 鲁智深 洪秀全 "
    "岳麓山 龙泉驿 黄金周 金融街 陆家嘴 顾村 宋庄 唐山 梁山 彭水 邓州 许昌 沈阳 常州 常德 武汉 吴江 苏州 焦作 柳州 邢台 "
    "钱江 汤臣 毕节 尤溪 韦曲 侯马 孟津 万州 汤山 龚滩 江北 白云 罗湖 龙华 徐汇 郑州 姜堰 申通 齐鲁 伍家岗 欧洲 高新 高铁 林荫 "
    "黄河 长江 张江 江南 金沙江 朱雀 何时 高速 马上 陈旧 周边 张贴 李子园 赵州桥 谢谢 白天 华夏 康复 史上 于是 董事长 程序 "
    "高温 林业站 金牛 马路 胡萝卜 温泉 季节 章程 文化 付款 严重 施工 陶瓷 洪水 颜料 牛街 端午 南京 安全 方便 石油 毛坯 "
    "黎明 武警 贺岁 宁静 蓝天 包子 单位 关于 向阳 华山 路口 谷雨 房子 司机 车主 曾祖父 曾祖母 曾孙"
)
LOOKALIKES = frozenset(_LOOKALIKE_WORDS.split())
# A name does not end like an organisation or a place (高新区, 林业局, 河东村).
_NOT_LAST = frozenset("区县市省局厅委院所站店馆园路街巷村镇乡部处科队办司厂组界井湖庭苑渡矿桥")
# Characters that end a name when one follows a role word (快递员石磊把…, 经理李明都…).
_FUNCTION_AFTER = frozenset("，。、；：！？,.;:!?）)」”\"' …—都也就还又才却讲说称不没未曾会要能让把被给跟同从的了们将正去来到过着是为请便在对向和与及等家已")
# Pronouns and particles: never part of a given name (和他说, 向我们反映).
_NOT_IN_NAME = frozenset("他她我你它们这那的了是在和与及也都就还又把被给从对向说着过得地之其而但所不没很太最更再吗呢吧啊")
# Prepositions that are also surnames (向市政反映, 于元月): a name only where the tagger says so.
_PREPOSITIONS = frozenset("向于")
# A word jieba's dictionary knows this well is a word (文明, 阳光, 许可, 杜鹃) even if tagged nr; real
# people's names, when there at all, are rare entries (刘大伟 8, 李建华 20).
_COMMON_FREQ = 40
# 姓+家+X names a place when X does (马家湾, 陈家祠, 王家沙, 胡家庙); 李家明 is a person.
_PLACE_AFTER_FAMILY = frozenset("湾祠沙汇庙庄村桥园坪渡嘴坝沟岭营屯集店堡寨坡塘滩洼港口河湖山岗冲坞墩垭湖寺巷楼")
_CHINESE = re.compile(r"[\u4e00-\u9fa5]+")
_lock = threading.Lock()
_tagger: Any = None


def _pos_tagger() -> Any:
    """jieba's tagger on a dictionary of its own (loaded once, ~1 s; cached by jieba on disk)."""
    global _tagger
    if _tagger is None:
        with _lock:
            if _tagger is None:
                import logging

                import jieba
                import jieba.posseg

                jieba.setLogLevel(logging.WARNING)
                tagger = jieba.posseg.POSTokenizer(jieba.Tokenizer())
                tagger.tokenizer.initialize()
                _tagger = tagger
    return _tagger


def _frequency(word: str) -> int:
    return int(_pos_tagger().tokenizer.FREQ.get(word) or 0)


def _tag(word: str) -> str:
    return str(_pos_tagger().word_tag_tab.get(word, ""))


def plausible_name(name: str) -> bool:
    """The shape of a name, without context: for the regex rules of tickets.masking."""
    family = surname_length(name)
    return bool(family) and 1 <= len(name) - family <= 2 and name[-1] not in _NOT_LAST \
        and not any(c in _NOT_IN_NAME for c in name[family:])


def surname_length(word: str) -> int:
    """How many characters of `word` are a surname (2 for 欧阳…, 1 for 王…), 0 if it starts with none."""
    if word[:2] in COMPOUND_SURNAMES:
        return 2
    return 1 if word[:1] and word[0] in TAGGER_SURNAMES else 0


def _tokens(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, word, flag) for every word jieba finds in the text's runs of Chinese characters."""
    found = []
    for run in _CHINESE.finditer(text):
        at = run.start()
        for word, flag in _cut(run.group(0)):
            found.append((at, at + len(word), word, flag))
            at += len(word)
    return found


def warm() -> None:
    """Load the tagger now (the scheduler's start-up), not on the first ticket a sweep masks."""
    _pos_tagger()


@functools.lru_cache(maxsize=1024)
def _cut(run: str) -> tuple[tuple[str, str], ...]:
    """jieba's words and tags of one run of Chinese characters. The tagger's answer depends on the
    run alone, and the same texts are masked again and again (the public page, the leaders' pages,
    exports: the same tickets at every request), as are the system's words around a citizen's. Small:
    a citizen's words rarely repeat."""
    return tuple((pair.word, pair.flag) for pair in _pos_tagger().cut(run, HMM=True))


def _plausible(text: str, start: int, end: int) -> bool:
    """A name of the right shape, not a lookalike, not the start of a place's or shop's name."""
    name = text[start:end]
    family = surname_length(name)
    if not family or not 2 <= len(name) <= 4 or len(name) - family > 2 or len(name) - family < 1:
        return False
    if _TITLE.fullmatch(name) or _ROLE_IN.fullmatch(name) or (start > 0 and text[start - 1] == "某"):
        return False
    if name[family:] == "家":  # 宋家塘, 王家
        return False
    if _frequency(name) >= _COMMON_FREQ and not _tag(name).startswith("nr"):  # 方式, 钱财, 符合: words
        return False
    if name[-1] in _NOT_LAST or "某" in name or any(c in _NOT_IN_NAME for c in name[family:]):
        return False
    if len(name) == 3 and name[1] == "家" and name[2] in _PLACE_AFTER_FAMILY:  # 马家湾, 徐家汇, 陈家祠
        return False
    if name in LOOKALIKES or any(name.startswith(word) and len(word) >= 2 for word in LOOKALIKES if word[0] == name[0]):
        return False
    after = text[end:end + 4]
    if _TITLE.match(after):
        return True
    return not _PLACE_AFTER.match(after)


def name_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each person's name the tagger finds, with the role and title evidence."""
    if not _CHINESE.search(text):
        return
    tokens = _tokens(text)
    boundaries = {end for _, end, _, _ in tokens}
    for role in _ROLE_IN.finditer(text):
        yield from _after_role(text, role.end(), boundaries)
    for verb in _WEAK_BEFORE_ANYWHERE.finditer(text):
        yield from _after_role(text, verb.end(), boundaries)
    for i, (start, end, word, flag) in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if flag.startswith("nr") and surname_length(word) and len(word) >= 2 and _plausible(text, start, end) and (
                _frequency(word) < _COMMON_FREQ or _TITLE.match(text[end:end + 4])
                or _ROLE_BEFORE.search(text[max(0, start - 8):start])):
            yield start, end
            continue
        family = surname_length(word)
        if not family or len(word) > family:
            yield from _after_role(text, start, boundaries)
            continue
        if following is None:
            continue
        # A lone surname (王 | 秀英, 欧阳 | 娜娜, 郑 | 大海) with the next word as the given name.
        given_start, given_end, given, given_flag = following
        if not 1 <= len(given) <= 2 or not _CHINESE.fullmatch(given) or _TITLE.fullmatch(given):
            continue
        tagged = flag.startswith("nr") or family == 2
        after_role = bool(_ROLE_BEFORE.search(text[max(0, start - 8):start]))
        before_title = bool(_TITLE.match(text[given_end:given_end + 4]))
        if text[start] in _PREPOSITIONS and not flag.startswith("nr"):
            continue
        if (tagged or after_role or before_title) and _plausible(text, start, given_end):
            yield start, given_end
        else:
            yield from _after_role(text, start, boundaries)


def _after_role(text: str, start: int, boundaries: set[int]) -> Iterator[tuple[int, int]]:
    """A name right after a role word or at a sentence's start before what people do (快递员石磊把…,
    温家明说…), even where jieba cut it wrongly: the surname and one or two characters, up to a
    function character, a title or one of jieba's word boundaries."""
    family = surname_length(text[start:start + 2])
    if not family or text[start] in _PREPOSITIONS:
        return
    opening = start == 0 or text[start - 1] in _FUNCTION_AFTER and text[start - 1] not in "的家在对向和与及等"
    after_role = bool(_ROLE_BEFORE.search(text[max(0, start - 8):start]))
    weak = not after_role and bool(_WEAK_BEFORE.search(text[max(0, start - 2):start]))
    if not (after_role or opening or weak):
        return
    for given in (2, 1):
        end = start + family + given
        if end > len(text) or not _CHINESE.fullmatch(text[start:end]):
            continue
        rest = text[end:end + 4]
        if weak:
            ends = end == len(text) or text[end] in _PUNCTUATION or bool(_TITLE.match(rest))
        elif opening and not after_role:
            ends = bool(_SAYS.match(rest) or _TITLE.match(rest))
        else:
            ends = end == len(text) or text[end] in _FUNCTION_AFTER or bool(_TITLE.match(rest)) or end in boundaries
        if ends and _plausible(text, start, end):
            yield start, end
            return
