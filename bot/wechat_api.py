"""The WeChat Official Account API over aiohttp: the access token (kept until it expires),
customer-service and template messages, the menu, and media; errors come back as errcodes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from aiohttp import ClientSession, ClientTimeout, FormData

from bot.settings import WeChatSettings
from models.clock import Clock

# The token went stale (expired, or another process asked for a new one): ask again once.
STALE_TOKEN = {40001, 40014, 42001}
TIMEOUT = ClientTimeout(total=30)
# A token is asked for again this long before WeChat says it expires.
TOKEN_MARGIN = dt.timedelta(minutes=5)


class ApiRefused(Exception):
    """WeChat answered with an errcode (the code is kept; the message never carries a token)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg[:200]}")
        self.errcode = errcode


class WeChatApi:
    def __init__(self, settings: WeChatSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._session: ClientSession | None = None
        self._token: str | None = None
        self._token_until = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._token_lock = asyncio.Lock()

    @property
    def session(self) -> ClientSession:
        if self._session is None or self._session.closed:
            self._session = ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _access_token(self, stale: str | None = None) -> str:
        async with self._token_lock:
            if self._token and self._token != stale and self.clock.now() < self._token_until:
                return self._token
            async with self.session.get(
                self.settings.base_url + "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.settings.app_id,
                    "secret": self.settings.app_secret,
                },
            ) as response:
                data = _checked(await response.json(content_type=None))
            self._token = str(data["access_token"])
            lifetime = dt.timedelta(seconds=int(data.get("expires_in", 7200)))
            self._token_until = self.clock.now() + lifetime - TOKEN_MARGIN
            return self._token

    async def _call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        """One API call with the token; a stale token is renewed once. Bytes come back as they
        are (media), JSON as a dict once its errcode is checked."""
        stale: str | None = None
        for _ in range(2):
            token = await self._access_token(stale)
            query = {"access_token": token, **(params or {})}
            data: Any = body
            if isinstance(body, dict):
                data = json.dumps(body, ensure_ascii=False).encode()
            async with self.session.request(
                method, self.settings.base_url + path, params=query, data=data
            ) as response:
                response.raise_for_status()
                if not response.content_type.startswith(("application/json", "text/")):
                    return await response.read()
                answer = await response.json(content_type=None)
            if isinstance(answer, dict) and answer.get("errcode") in STALE_TOKEN:
                stale = token
                continue
            return _checked(answer)
        return _checked(answer)

    async def send_custom(self, message: dict[str, Any]) -> None:
        await self._call("POST", "/cgi-bin/message/custom/send", body=message)

    async def send_template(self, message: dict[str, Any]) -> None:
        await self._call("POST", "/cgi-bin/message/template/send", body=message)

    async def upload_image(self, content: bytes, content_type: str) -> str:
        form = FormData()
        form.add_field("media", content, filename="photo", content_type=content_type)
        data = await self._call(
            "POST", "/cgi-bin/media/upload", body=form, params={"type": "image"}
        )
        return str(data["media_id"])

    async def media(self, media_id: str) -> bytes:
        content = await self._call("GET", "/cgi-bin/media/get", params={"media_id": media_id})
        if not isinstance(content, bytes):
            raise ApiRefused(-2, "no media")
        return content

    async def poster_ticket(self, scene: str) -> str:
        """A permanent QR code whose scan follows the account with ``scene`` (at most 64
        characters); the ticket that shows it."""
        data = await self._call(
            "POST",
            "/cgi-bin/qrcode/create",
            body={
                "action_name": "QR_LIMIT_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene[:64]}},
            },
        )
        return str(data["ticket"])

    async def menus(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The account's menu and its conditional menus (by tag)."""
        try:
            data = await self._call("GET", "/cgi-bin/menu/get")
        except ApiRefused as refused:
            if refused.errcode == 46003:  # no menu yet
                return None, []
            raise
        menu = data.get("menu")
        conditional = data.get("conditionalmenu") or []
        return (menu if isinstance(menu, dict) else None), [
            c for c in conditional if isinstance(c, dict)
        ]

    async def set_menu(self, menu: dict[str, Any]) -> None:
        """The menu for everyone (WeChat drops the conditional menus with it)."""
        await self._call("POST", "/cgi-bin/menu/create", body=menu)

    async def add_conditional_menu(self, menu: dict[str, Any]) -> None:
        await self._call("POST", "/cgi-bin/menu/addconditional", body=menu)

    async def tags(self) -> dict[str, int]:
        data = await self._call("GET", "/cgi-bin/tags/get")
        return {str(tag["name"]): int(tag["id"]) for tag in data.get("tags") or []}

    async def create_tag(self, name: str) -> int:
        data = await self._call("POST", "/cgi-bin/tags/create", body={"tag": {"name": name}})
        return int(data["tag"]["id"])

    async def tag(self, openid: str, tag_id: int, *, on: bool) -> None:
        path = "batchtagging" if on else "batchuntagging"
        await self._call(
            "POST",
            f"/cgi-bin/tags/members/{path}",
            body={"openid_list": [openid], "tagid": tag_id},
        )


def _checked(answer: Any) -> Any:
    if not isinstance(answer, dict):
        raise ApiRefused(-2, "not JSON")
    code = int(answer.get("errcode") or 0)
    if code != 0:
        raise ApiRefused(code, str(answer.get("errmsg", "")))
    return answer
