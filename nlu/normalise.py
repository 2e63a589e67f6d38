"""Text normalisation before anything else sees a message.

Full-width to half-width (NFKC), Traditional to Simplified (opencc), control characters out,
whitespace collapsed, over-long text cut. Chinese punctuation becomes its ASCII twin here, which
the classifier does not mind; the ticket keeps the citizen's own text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC  # imported lazily: loading the tables takes a moment

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters that only Traditional text uses: changed by some entry of opencc's t2s tables and
    never the result of one. Text without any of them is Simplified already, so the (slow, pure
    Python) conversion is skipped for it. Characters both scripts write (著 in 著名, 乾 in 乾隆) do
    not count: a Traditional text always has others (們, 這, 說 …), and then all of it is converted."""
    changed: set[str] = set()
    produced: set[str] = set()
    for path in (p for chain in _t2s()._dict_chain for p in (chain if isinstance(chain, list) else [chain])):
        with open(path, encoding="utf-8") as table:
            for line in table:
                key, _, values = line.rstrip("\n").partition("\t")
                for value in values.split(" "):
                    produced.update(value)
                    # an entry changes text only where its characters differ
                    changed.update(k for k, v in zip(key, value, strict=False) if k != v)
                    if len(value) != len(key):
                        changed.update(key)
    return frozenset(changed - produced)


def to_simplified(text: str) -> str:
    if _traditional_chars() and _traditional_chars().isdisjoint(text):
        return text
    return str(_t2s().convert(text))


def normalise(text: str | None, max_chars: int = 2000, simplify: bool = True) -> str:
    """The text the NLU reads; "" for nothing readable (never raises)."""
    if not text:
        return ""
    text = text[: max_chars * 2]  # bound the work before the expensive steps
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub(" ", text)  # line breaks and tabs become one space
    text = _CONTROL.sub("", text).strip()
    if simplify and text:
        text = to_simplified(text)
    return text[:max_chars]
