"""Phone numbers as callers give them: one canonical form, so a number typed at the desk, given to
the bot or passed on the CLI finds the same citizen."""

from __future__ import annotations

import re

from tickets.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-()（）]")
# Mainland mobiles; landlines with their area code (010, 021, 0755 …); local landlines and service
# numbers of 5-8 digits as a switchboard shows them.
_VALID = re.compile(r"1[3-9]\d{9}|0\d{2,3}\d{7,8}|\d{5,8}")


def normalise_phone(value: str) -> str:
    """The digits of a phone number, without +86 / 0086 and separators; InvalidInput otherwise."""
    raw = (value or "").strip()
    digits = _SEPARATORS.sub("", raw)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    if not _VALID.fullmatch(digits):
        raise InvalidInput(f"malformed phone number {raw!r}: expected a mobile (11 digits, 1…) or a landline")
    return digits


def is_phone(value: str) -> bool:
    try:
        normalise_phone(value)
    except InvalidInput:
        return False
    return True
