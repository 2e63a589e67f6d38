"""What a citizen's text is made of, before anything is classified: Chinese, other letters, or
nothing to read (emoji, punctuation); and the few words that mean a draft's button."""

from __future__ import annotations

import re
import unicodedata

CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Typed instead of pressing a draft's button; trailing punctuation and polite particles ignored.
SUBMIT_WORDS = frozenset({"提交", "确认", "确定", "确认提交", "确定提交", "提交吧", "可以提交", "好的提交", "没问题"})
CANCEL_WORDS = frozenset({"取消", "不提交", "取消提交", "算了", "不用了", "不要了"})
_TRIM = re.compile(r"[\s。！!，,.~～吧啊呀哈]+$")


def has_chinese(text: str) -> bool:
    return CHINESE.search(text) is not None


def has_words(text: str) -> bool:
    """Any letter of any script (digits, emoji, punctuation and symbols alone say nothing)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def typed_action(text: str) -> str | None:
    """"submit" or "cancel" when the whole message is one of the buttons' words, else None."""
    word = _TRIM.sub("", text.strip())
    if word in SUBMIT_WORDS:
        return "submit"
    if word in CANCEL_WORDS:
        return "cancel"
    return None
