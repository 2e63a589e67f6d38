"""Normalising citizens' text before it is stored and classified."""

from __future__ import annotations

import re

from tickets.errors import InvalidInput

MAX_TEXT_CHARS = 20_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
# What no text keeps from the edge on: C0 controls but tab and newlines, DEL, and lone surrogates
# (PostgreSQL refuses NUL in text and neither database can encode a surrogate).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
# Full-width letters and digits become ASCII; Chinese punctuation (，。？) stays as citizens wrote it.
_HALF_WIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}


def clean(text: str) -> str:
    """Every text that comes in (web forms and queries, chat events of every channel, the CLI's
    arguments) passes here first: control characters and lone surrogates out, nothing else changed."""
    return _UNSAFE.sub("", text)


def has_unsafe(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def visible(text: str) -> str:
    """`text` without controls, zero-width characters and outer spaces: empty when nothing shows."""
    return _CONTROL.sub("", text).strip()


def normalise(text: str | None, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Full-width letters and digits to ASCII, control characters out, whitespace collapsed.

    Raises InvalidInput for empty text or text longer than `max_chars`: the caller tells the
    citizen instead of silently cutting a complaint in half.
    """
    if text is None:
        raise InvalidInput("the message is empty")
    if len(text) > max_chars * 2:  # don't spend time normalising a 100 KB paste
        raise InvalidInput(f"the message is too long ({len(text)} characters; at most {max_chars})")
    cleaned = text.translate(_HALF_WIDTH).replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _CONTROL.sub("", cleaned)
    cleaned = _SPACES.sub(" ", cleaned)
    cleaned = _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in cleaned.split("\n"))).strip()
    if not cleaned:
        raise InvalidInput("the message is empty")
    if len(cleaned) > max_chars:
        raise InvalidInput(f"the message is too long ({len(cleaned)} characters; at most {max_chars})")
    return cleaned


def summarise(text: str, limit: int = 40) -> str:
    """A one-line summary: the first sentence, cut to `limit` characters."""
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip() or text.strip()
    first = first.replace("\n", " ")
    return first if len(first) <= limit else first[: limit - 1] + "…"
