"""A WeChat callback in the neutral form: which chat it belongs to, its id in the inbox, and
what the person sent. Only reading: bot/wechat.py keeps callbacks and sends replies."""

from __future__ import annotations

import hashlib
from typing import Any

from handlers.messages import Incoming, Sender

PLATFORM = "wechat"
# Added to a kept callback: the store's reference of a photo fetched when it arrived, and the
# button a numbered answer (or a tapped menu item) stands for.
STORED_PHOTO = "wishbot_photo"
PRESSED = "wishbot_button"
# ...and the phone number typed in answer to the phone question (WeChat shares no contacts).
TYPED_PHONE = "wishbot_phone"
# The account menu's CLICK keys are command buttons, as the web and Telegram menus send them.
COMMAND_KEY = "a:cmd:"


def chat_key(openid: str) -> str:
    return f"{PLATFORM}:{openid}"


def update_id(fields: dict[str, str]) -> int:
    """The inbox's id: a message's MsgId; an event (which has none) a digest of who, when and
    what, which WeChat's retries of it repeat."""
    msg_id = fields.get("MsgId", "")
    if msg_id.isdecimal() and 0 < int(msg_id) < 2**62:
        return int(msg_id)
    seen = "|".join(
        fields.get(k, "") for k in ("FromUserName", "CreateTime", "MsgType", "Event", "EventKey")
    )
    return int(hashlib.sha256(seen.encode()).hexdigest()[:15], 16)


def to_incoming(payload: dict[str, Any]) -> Incoming | None:
    """The neutral form of a kept callback; None for what we do not handle (view events...)."""
    openid = str(payload.get("FromUserName", ""))
    sender = Sender(PLATFORM, openid, "", None)
    kind = str(payload.get("MsgType", "")).lower()
    pressed = payload.get(PRESSED)
    if isinstance(pressed, str) and pressed:
        return Incoming(sender, openid, button=pressed)
    phone = payload.get(TYPED_PHONE)
    if isinstance(phone, str) and phone:
        return Incoming(sender, openid, phone=phone)
    if kind == "text":
        text = str(payload.get("Content", ""))
        if text.startswith("/") and len(text) > 1:
            name, *args = text[1:].split()
            return Incoming(sender, openid, text=text, command=name.lower(), args=tuple(args))
        return Incoming(sender, openid, text=text)
    if kind == "image":
        kept = payload.get(STORED_PHOTO)
        if isinstance(kept, str):
            return Incoming(sender, openid, photo=kept)
        return Incoming(sender, openid, unsupported="photo")
    if kind == "location":
        try:
            where = (float(payload["Location_X"]), float(payload["Location_Y"]))
        except (KeyError, ValueError):
            return Incoming(sender, openid, unsupported="location")
        return Incoming(sender, openid, location=where)
    if kind == "event":
        event = str(payload.get("Event", "")).lower()
        key = str(payload.get("EventKey", ""))
        if event in ("subscribe", "subscribe_scan", "scan"):
            # A follow (or a scan of a poster's QR code): /start, with the poster's code.
            scene: tuple[str, ...] = (key,) if key and event != "subscribe" else ()
            return Incoming(sender, openid, text="/start", command="start", args=scene)
        if event == "click" and key.startswith(COMMAND_KEY):
            return Incoming(sender, openid, button=key)
        return None
    return Incoming(sender, openid, unsupported=kind or "message")
