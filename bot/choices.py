"""Buttons as typed choices, for a channel that has no buttons (WeChat's text chat; SMS could
reuse it): a reply's buttons become numbered lines (回复「1」提交), and a typed number is read
back as the button's data.

The numbers mean the buttons of the last message that had any, for that person: they are kept in
the conversation store (kind "choices"), so a restart or a second worker reads the same, and a
notice sent later (a department's answer with its rating buttons) replaces them as a new message
with buttons does. An old number never does harm: the conversation checks every button's data
against the state (a draft already submitted answers that the button is no longer valid).
"""

from __future__ import annotations

import re
import unicodedata

from bot.events import Buttons, Outcome
from bot.store import BotStore

# Channels whose users type their choices; the conversation words its questions for them.
TYPED_CHANNELS = frozenset({"wechat"})
KIND = "choices"
NUMBER = re.compile(r"^(?:回复|选|选择|第)?\s*(\d{1,2})\s*(?:号|项|个)?$")
NO_CHOICES = "现在没有可以用数字选择的选项。请直接用文字描述您的诉求，或回复“我的工单”查看已提交的工单。"
OUT_OF_RANGE = "没有第 {n} 项，请回复 1 到 {last} 之间的数字。"


def render(text: str, buttons: Buttons) -> tuple[str, dict[str, str]]:
    """The text followed by one line per row of buttons (回复「1」提交 / 回复「2」改类型　「3」改部门),
    and the numbers' data."""
    numbers: dict[str, str] = {}
    lines = []
    for row in buttons:
        cells = []
        for button in row:
            number = str(len(numbers) + 1)
            numbers[number] = button["data"]
            cells.append(f"「{number}」{button['text']}")
        if cells:
            lines.append("回复" + "　".join(cells))
    return (f"{text}\n{chr(10).join(lines)}" if lines else text), numbers


def render_outcome(outcome: Outcome) -> tuple[str, dict[str, str]]:
    """One message for the whole outcome (a channel that answers each message once, as WeChat's
    passive reply does): its replies joined, the buttons of the last reply that has any as choices.
    A reply that marks an earlier message (edit: "（已提交）") is left out when there is a new one
    beside it; a refusal shown as a toast becomes the text."""
    replies = [r for r in outcome.replies if not r.edit] or outcome.replies
    if not replies:
        return outcome.toast or "", {}
    with_buttons = max((i for i, r in enumerate(replies) if r.buttons), default=None)
    parts: list[str] = []
    numbers: dict[str, str] = {}
    for index, reply in enumerate(replies):
        if index == with_buttons:
            text, numbers = render(reply.text, reply.buttons)
            parts.append(text)
        else:
            parts.append(reply.text)
    return "\n\n".join(p for p in parts if p), numbers


def number_of(text: str) -> int | None:
    """The number a message is ("1", "１", "回复1", "选2"), or None."""
    found = NUMBER.match(unicodedata.normalize("NFKC", text).strip().rstrip("。.！!"))
    return int(found.group(1)) if found else None


def pick(text: str, numbers: dict[str, str]) -> tuple[str | None, str | None]:
    """(the data of the button the typed number means, None) or (None, what to answer instead);
    (None, None) when the text is not a number."""
    number = number_of(text)
    if number is None:
        return None, None
    if not numbers:
        return None, NO_CHOICES
    data = numbers.get(str(number))
    if data is None:
        return None, OUT_OF_RANGE.format(n=number, last=len(numbers))
    return data, None


def load(store: BotStore, channel: str, user_id: str) -> dict[str, str]:
    return store.load(channel, KIND, user_id) or {}


def save(store: BotStore, channel: str, user_id: str, numbers: dict[str, str]) -> None:
    """Replace the person's choices; a message without buttons leaves the last ones standing."""
    if numbers:
        store.save(channel, KIND, user_id, numbers)
