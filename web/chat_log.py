"""The web chat's recent conversation, kept on the server so that a reload shows it again.

One JSON document per chat session in the bot's store (kind "transcript"): what the citizen wrote,
what the bot answered, and the later state of every message whose button changed it (a submitted
draft card, a rated answer). Notices (departments' answers) stay in the outbox; the history
interleaves them by time and lays the recorded edits over them. Messages are ids "m<serial>",
notices "n<notice id>"; the page names the message whose button was pressed with that id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.events import Buttons, Outcome
from bot.store import BotStore
from tickets.models import Notice
from tickets.timeutil import ensure_aware

CHANNEL = "web"
KIND = "transcript"
KEEP = 200  # messages kept per session; older ones drop off
KEEP_EDITS = 100
KEEP_ANSWERS = 20


def empty() -> dict[str, Any]:
    return {"serial": 0, "messages": [], "edits": {}}


class ChatLog:
    def __init__(self, store: BotStore) -> None:
        self.store = store

    def load(self, session: str) -> dict[str, Any]:
        return self.store.load(CHANNEL, KIND, session) or empty()

    def save(self, session: str, log: dict[str, Any], now: datetime) -> None:
        self.store.save(CHANNEL, KIND, session, trimmed(log), now)

    def claim_and_load(self, session: str, event_id: str, now: datetime) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Claim the event and read the conversation's state and the transcript together: (None, log)
        when the event was claimed before (a resend)."""
        claimed, found = self.store.claim_and_load(CHANNEL, event_id, [("user", session), (KIND, session)], now)
        log = found.get((KIND, session)) or empty()
        return (found.get(("user", session)) or {} if claimed else None), log

    def save_with_state(self, session: str, log: dict[str, Any], state: dict[str, Any], now: datetime) -> None:
        """The transcript and the conversation's state in one transaction, retried on a dropped
        connection (the ticket an event submitted is committed already; its number must not be lost)."""
        self.store.save_together(CHANNEL, [(KIND, session, trimmed(log)), ("user", session, state)], now, attempts=4)


def trimmed(log: dict[str, Any]) -> dict[str, Any]:
    log["messages"] = log["messages"][-KEEP:]
    for group, keep in (("edits", KEEP_EDITS), ("answers", KEEP_ANSWERS)):
        entries = log.setdefault(group, {})
        for key in list(entries)[:-keep]:
            del entries[key]
    return log


def remember(log: dict[str, Any], event_id: str, replies: list[dict[str, Any]], toast: str | None) -> None:
    """What an event was answered, for a resend of it (a proxy's retry after a lost response)."""
    log.setdefault("answers", {})[event_id] = {"replies": replies, "toast": toast}


def add(log: dict[str, Any], who: str, text: str, buttons: Buttons, now: datetime) -> str:
    log["serial"] += 1
    ident = f"m{log['serial']}"
    log["messages"].append({"id": ident, "from": who, "text": text, "buttons": buttons, "at": now.isoformat()})
    return ident


def record(log: dict[str, Any], outcome: Outcome, pressed: str | None, now: datetime) -> list[dict[str, Any]]:
    """Write the bot's replies into the log; return them as the page renders them (with ids).
    A reply that edits the pressed message replaces that message's text and buttons."""
    shown = []
    for reply in outcome.replies:
        if reply.edit and pressed:
            edit(log, pressed, reply.text, reply.buttons)
            shown.append({"id": pressed, "text": reply.text, "buttons": reply.buttons, "edit": True})
        else:
            ident = add(log, "bot", reply.text, reply.buttons, now)
            shown.append({"id": ident, "text": reply.text, "buttons": reply.buttons, "edit": False})
    return shown


def edit(log: dict[str, Any], ident: str, text: str, buttons: Buttons) -> None:
    if ident.startswith("n"):
        log["edits"][ident] = {"text": text, "buttons": buttons}
        return
    for message in log["messages"]:
        if message["id"] == ident:
            message["text"], message["buttons"] = text, buttons


def history(log: dict[str, Any], notices: list[Notice]) -> list[dict[str, Any]]:
    """Messages and notices in the order they happened, newest KEEP; buttons as recorded."""
    items = [(datetime.fromisoformat(m["at"]), 0, dict(m)) for m in log["messages"]]
    for n in notices:
        ident = f"n{n.id}"
        shown = log["edits"].get(ident, {"text": n.text, "buttons": n.buttons})
        at = ensure_aware(n.sent_at or n.created_at)
        items.append((at, 1, {"id": ident, "from": "notice", "text": shown["text"], "buttons": shown["buttons"],
                              "at": at.isoformat()}))
    items.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in items][-KEEP:]


def superseded(messages: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(message id, data) of draft buttons shown again by a later message: only the latest copy of a
    draft's buttons is offered (a card is re-sent whenever the citizen adds text)."""
    latest: dict[str, str] = {}
    for message in messages:
        for row in message["buttons"]:
            for b in row:
                if b["data"].startswith("c:"):
                    latest[b["data"].split(":")[2]] = message["id"]
    return {
        (message["id"], b["data"])
        for message in messages for row in message["buttons"] for b in row
        if b["data"].startswith("c:") and latest.get(b["data"].split(":")[2]) != message["id"]
    }


def mark_live(messages: list[dict[str, Any]], alive: set[str]) -> None:
    """Every button gets `live`: false for one whose action is no longer possible."""
    old = superseded(messages)
    for message in messages:
        message["buttons"] = [
            [{**b, "live": b["data"] in alive and (message["id"], b["data"]) not in old} for b in row]
            for row in message["buttons"]
        ]
