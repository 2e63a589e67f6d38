"""What a channel hands to the conversation, and what the conversation hands back.

Both are plain data, so that the Telegram adapter and the web chat render the same replies
with the same buttons.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from tickets.text import clean

Buttons = list[list[dict[str, str]]]  # rows of {"text": label, "data": callback data}


@dataclass(frozen=True)
class Event:
    channel: str  # "telegram", "web"
    user_id: str  # the person: Telegram user id, web chat session id
    chat_id: str  # where to answer: a private chat or a department's group
    event_id: str  # unique per message in the channel (it makes a submission idempotent)
    kind: str  # text, command, button, photo, location, contact, sticker, voice, file, other
    text: str = ""
    command: str | None = None  # for kind "command": "start", "status", …
    args: str = ""
    data: str = ""  # for kind "button": the button's data
    name: str = ""
    phone: str | None = None  # a shared contact's number
    latitude: float | None = None
    longitude: float | None = None
    place_name: str | None = None
    file_ref: str | None = None  # a photo's channel file id or stored path
    reply_to_text: str | None = None  # the text of the message this one replies to
    private: bool = True  # a one-to-one chat (not a department group)

    def __post_init__(self) -> None:
        # Every channel's input becomes an Event, so this is where its texts are cleaned (a NUL in a
        # place answer reached PostgreSQL and failed every later 提交 of that citizen).
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                object.__setattr__(self, f.name, clean(value))


@dataclass
class Reply:
    text: str
    buttons: Buttons = field(default_factory=list)
    edit: bool = False  # replace the message whose button was pressed instead of sending a new one
    ask: str | None = None  # "location" or "contact": offer the channel's share button
    photos: list[str] = field(default_factory=list)  # files to send (paths or channel file ids)


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None  # the short answer to a button press
    alert: bool = False  # show the toast as a dialog (refusals)
    keep_input: bool = False  # the message was refused or ignored: a channel with a text box keeps it there

    @classmethod
    def say(cls, text: str, buttons: Buttons | None = None, **kwargs: object) -> Outcome:
        return cls([Reply(text, buttons or [], **kwargs)])  # type: ignore[arg-type]

    @classmethod
    def refuse(cls, text: str) -> Outcome:
        """A refusal: shown as an alert on the pressed button (nothing is posted in the chat, which
        may be a department's group); Conversation.handle turns it into a message otherwise."""
        return cls([], toast=text[:190], alert=True)
