"""The typed face of wechatpy (which has no type hints): callback signatures, safe-mode
decryption, and a message's XML read into a plain dict of its fields."""

from __future__ import annotations

from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature


class Refused(Exception):
    """The callback is not from WeChat, or not a message we can read."""


def signed(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """The plain-mode signature: sha1 of the sorted token, timestamp and nonce."""
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        return False
    return True


def decrypted(
    token: str, aes_key: str, app_id: str, body: str, signature: str, timestamp: str, nonce: str
) -> str:
    """The message XML inside a safe-mode envelope; Refused for a wrong signature or app id."""
    try:
        plain: Any = WeChatCrypto(token, aes_key, app_id).decrypt_message(
            body, signature, timestamp, nonce
        )
    except Exception as error:  # wechatpy's own errors, and XML or base64 that does not read
        raise Refused(type(error).__name__) from None
    return str(plain)


def fields(xml: str) -> dict[str, str]:
    """A message's fields by their WeChat names (MsgType, FromUserName, Content, Event...)."""
    try:
        message: Any = parse_message(xml)
        data: Any = message._data if message is not None else None
    except Exception as error:  # malformed XML, no <xml> root, no MsgType
        raise Refused(type(error).__name__) from None
    if not isinstance(data, dict):
        raise Refused("not a message")
    found = {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int, float))}
    if not found.get("FromUserName") or not found.get("MsgType"):
        raise Refused("no sender")
    return found
