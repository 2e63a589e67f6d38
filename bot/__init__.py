"""The conversation, written once, and one adapter per channel (Telegram, web chat)."""
