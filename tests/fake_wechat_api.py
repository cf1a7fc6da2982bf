"""A local fake WeChat Official Account API, and the followers who write to the bot through it.

The API side: access tokens, customer-service and template messages, the menu, media upload and
download, with the rules that matter (the 48-hour window, 20 customer-service messages per
message the person sent, 2048-byte texts, followers only) and injectable errors (fail_next:
any errcode, e.g. 45009 the daily quota, 45047 too many messages, -1 busy; or an HTTP status).
The callback side: ``Follower`` posts signed (and, in safe mode, encrypted) XML to the bot's
``/wechat`` as WeChat does, with WeChat's retries on request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse, ClientSession, web
from wechatpy.crypto import WeChatCrypto

JSON = dict[str, Any]
Now = Callable[[], dt.datetime]

APP_ID = "wx0123456789abcdef"
APP_SECRET = "s3cr3t-of-the-account"
TOKEN = "wishbottoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
NEWS_TEMPLATE = "tpl-news-0001"
WINDOW = dt.timedelta(hours=48)
CS_PER_MESSAGE = 20
MAX_TEXT_BYTES = 2048


@dataclass
class Sent:
    """One message the bot sent a follower: a customer-service message or a template."""

    kind: str  # text, image, msgmenu, template
    body: JSON
    at: dt.datetime

    @property
    def text(self) -> str:
        if self.kind == "text":
            return str(self.body["text"]["content"])
        if self.kind == "msgmenu":
            menu = self.body["msgmenu"]
            items = "\n".join(i["content"] for i in menu["list"])
            return f"{menu['head_content']}\n{items}\n{menu.get('tail_content', '')}"
        if self.kind == "template":
            return "\n".join(str(v["value"]) for v in self.body["data"].values())
        return ""

    @property
    def choices(self) -> list[tuple[str, str]]:
        """A menu message's (id, label) items."""
        if self.kind != "msgmenu":
            return []
        return [(str(i["id"]), str(i["content"])) for i in self.body["msgmenu"]["list"]]


@dataclass
class Fault:
    path: str
    errcode: int
    times: int
    status: int = 200


class FakeWeChatApi:
    """Use as ``async with FakeWeChatApi(clock.now) as server:``."""

    def __init__(self, now: Now) -> None:
        self.now = now
        self.tokens: dict[str, dt.datetime] = {}
        self.token_calls = 0
        self.calls: list[tuple[str, JSON]] = []
        self.sent: dict[str, list[Sent]] = {}
        self.followers: dict[str, Follower] = {}
        self.media: dict[str, bytes] = {}
        self.menu: JSON | None = None
        self.menu_sets = 0
        self.templates = {NEWS_TEMPLATE}
        self.qr_scenes: dict[str, str] = {}  # poster QR ticket -> its scene
        self.conditional: list[JSON] = []  # menus by tag
        self.tags: dict[int, str] = {}
        self.tagged: dict[str, set[int]] = {}  # openid -> its tags
        self.faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, callback_url: str = "", safe: bool = False) -> dict[str, str]:
        return {
            "WISHBOT_WECHAT_APP_ID": APP_ID,
            "WISHBOT_WECHAT_APP_SECRET": APP_SECRET,
            "WISHBOT_WECHAT_TOKEN": TOKEN,
            "WISHBOT_WECHAT_AES_KEY": AES_KEY if safe else "",
            "WISHBOT_WECHAT_BASE_URL": self.base_url,
            "WISHBOT_WECHAT_NEWS_TEMPLATE": NEWS_TEMPLATE,
        }

    async def __aenter__(self) -> FakeWeChatApi:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        app.router.add_post("/cgi-bin/message/template/send", self._template)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_get("/cgi-bin/menu/get", self._menu_get)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/qrcode/create", self._qrcode)
        app.router.add_post("/cgi-bin/menu/addconditional", self._menu_conditional)
        app.router.add_get("/cgi-bin/tags/get", self._tags_get)
        app.router.add_post("/cgi-bin/tags/create", self._tag_create)
        app.router.add_post("/cgi-bin/tags/members/batchtagging", self._tagging)
        app.router.add_post("/cgi-bin/tags/members/batchuntagging", self._tagging)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- scripting ---------------------------------------------------------------------------

    def follower(self, openid: str, callback: CallbackClient) -> Follower:
        follower = Follower(self, openid, callback)
        self.followers[openid] = follower
        return follower

    def fail_next(self, path: str, errcode: int, times: int = 1, status: int = 200) -> None:
        """The next calls to ``path`` (e.g. "message/custom/send") answer errcode (or a status)."""
        self.faults.append(Fault(path, errcode, times, status))

    async def wait_for_sent(self, openid: str, timeout: float = 60) -> Sent:  # noqa: ASYNC109
        """The first message sent to the follower, waiting for it (a bot in another process)."""
        async with asyncio.timeout(timeout):
            while not self.sent_to(openid):
                self._changed.clear()
                await self._changed.wait()
        return self.sent_to(openid)[0]

    def _record(self, openid: str, sent: Sent) -> None:
        self.sent.setdefault(openid, []).append(sent)
        self._changed.set()

    def sent_to(self, openid: str) -> list[Sent]:
        return self.sent.get(openid, [])

    def calls_of(self, path: str) -> list[JSON]:
        return [body for called, body in self.calls if called == path]

    # -- the API -----------------------------------------------------------------------------

    def _error(self, errcode: int, errmsg: str) -> web.Response:
        return web.json_response({"errcode": errcode, "errmsg": errmsg})

    def _fault(self, path: str) -> web.Response | None:
        for fault in self.faults:
            if fault.path == path and fault.times > 0:
                fault.times -= 1
                if fault.status != 200:
                    return web.Response(status=fault.status, text="bad gateway")
                return self._error(fault.errcode, "injected")
        return None

    def _checked(self, request: web.Request, path: str) -> web.Response | None:
        token = request.query.get("access_token", "")
        expires = self.tokens.get(token)
        if expires is None:
            return self._error(40001, "invalid credential, access_token is invalid")
        if expires <= self.now():
            return self._error(42001, "access_token expired")
        return self._fault(path)

    async def _token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        if request.query.get("appid") != APP_ID:
            return self._error(40013, "invalid appid")
        if request.query.get("secret") != APP_SECRET:
            return self._error(40125, "invalid appsecret")
        fault = self._fault("token")
        if fault is not None:
            return fault
        token = secrets.token_hex(16)
        self.tokens[token] = self.now() + dt.timedelta(seconds=7200)
        return web.json_response({"access_token": token, "expires_in": 7200})

    def _follower_refusal(self, openid: str) -> web.Response | None:
        follower = self.followers.get(openid)
        if follower is None:
            return self._error(40003, "invalid openid")
        if not follower.following:
            return self._error(43004, "require subscribe")
        return None

    async def _custom(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self.calls.append(("message/custom/send", body))
        refused = self._checked(request, "message/custom/send")
        if refused is not None:
            return refused
        openid = str(body.get("touser", ""))
        refused = self._follower_refusal(openid)
        if refused is not None:
            return refused
        follower = self.followers[openid]
        if follower.last_wrote is None or self.now() - follower.last_wrote > WINDOW:
            return self._error(45015, "response out of time limit or subscription is canceled")
        if follower.answers_left <= 0:
            return self._error(45047, "out of response count limit")
        kind = str(body.get("msgtype"))
        if kind == "text":
            content = str(body["text"]["content"])
            if len(content.encode()) > MAX_TEXT_BYTES:
                return self._error(45002, "content size out of limit")
        elif kind == "image":
            if body["image"]["media_id"] not in self.media:
                return self._error(40007, "invalid media_id")
        elif kind == "msgmenu":
            items = body["msgmenu"]["list"]
            if not 1 <= len(items) <= 10 or any(not str(i["content"]) for i in items):
                return self._error(40008, "invalid message type")
        else:
            return self._error(40008, "invalid message type")
        follower.answers_left -= 1
        self._record(openid, Sent(kind, body, self.now()))
        return self._error(0, "ok")

    async def _template(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self.calls.append(("message/template/send", body))
        refused = self._checked(request, "message/template/send")
        if refused is not None:
            return refused
        if body.get("template_id") not in self.templates:
            return self._error(40037, "invalid template_id")
        refused = self._follower_refusal(str(body.get("touser", "")))
        if refused is not None:
            return refused
        self._record(body["touser"], Sent("template", body, self.now()))
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 200228332})

    async def _menu_create(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self.calls.append(("menu/create", body))
        refused = self._checked(request, "menu/create")
        if refused is not None:
            return refused
        buttons = body.get("button") or []
        if not 1 <= len(buttons) <= 3 or any(len(b.get("sub_button", [])) > 5 for b in buttons):
            return self._error(40016, "invalid button size")
        self.menu = body
        self.menu_sets += 1
        self.conditional = []  # as WeChat does: a new menu drops the conditional ones
        return self._error(0, "ok")

    async def _menu_conditional(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        refused = self._checked(request, "menu/addconditional")
        if refused is not None:
            return refused
        if self.menu is None:
            return self._error(65303, "there is no selfmenu, please create selfmenu first")
        tag = int(body.get("matchrule", {}).get("tag_id", 0))
        if tag not in self.tags:
            return self._error(40008, "invalid tag_id")
        body["menuid"] = str(len(self.conditional) + 1000)
        self.conditional.append(body)
        return web.json_response({"menuid": body["menuid"]})

    async def _tags_get(self, request: web.Request) -> web.Response:
        refused = self._checked(request, "tags/get")
        if refused is not None:
            return refused
        tags = [{"id": i, "name": n, "count": 0} for i, n in self.tags.items()]
        return web.json_response({"tags": tags})

    async def _tag_create(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        refused = self._checked(request, "tags/create")
        if refused is not None:
            return refused
        name = str(body["tag"]["name"])
        if name in self.tags.values():
            return self._error(45157, "tag name duplicated")
        tag_id = 100 + len(self.tags)
        self.tags[tag_id] = name
        return web.json_response({"tag": {"id": tag_id, "name": name}})

    async def _tagging(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        refused = self._checked(request, "tags/members")
        if refused is not None:
            return refused
        tag = int(body.get("tagid", 0))
        if tag not in self.tags:
            return self._error(45059, "tag not exist")
        for openid in body.get("openid_list", []):
            tags = self.tagged.setdefault(openid, set())
            if request.path.endswith("/batchtagging"):
                tags.add(tag)
            else:
                tags.discard(tag)
        return self._error(0, "ok")

    def menu_for(self, openid: str) -> JSON | None:
        """The menu the follower sees: the first conditional one whose tag they have."""
        for menu in self.conditional:
            if int(menu["matchrule"]["tag_id"]) in self.tagged.get(openid, set()):
                return menu
        return self.menu

    async def _menu_get(self, request: web.Request) -> web.Response:
        refused = self._checked(request, "menu/get")
        if refused is not None:
            return refused
        if self.menu is None:
            return self._error(46003, "menu no exist")
        return web.json_response({"menu": self.menu, "conditionalmenu": self.conditional})

    async def _upload(self, request: web.Request) -> web.Response:
        refused = self._checked(request, "media/upload")
        if refused is not None:
            return refused
        form = await request.post()
        media = form.get("media")
        content = getattr(media, "file", None)
        if content is None:
            return self._error(41005, "media data missing")
        data = content.read()
        if len(data) > 10 * 1024 * 1024:
            return self._error(40009, "invalid image size")
        media_id = "media-" + hashlib.sha1(data).hexdigest()[:16]
        self.media[media_id] = data
        self.calls.append(("media/upload", {"media_id": media_id}))
        return web.json_response({"type": "image", "media_id": media_id, "created_at": 1})

    async def _qrcode(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self.calls.append(("qrcode/create", body))
        refused = self._checked(request, "qrcode/create")
        if refused is not None:
            return refused
        scene = str(body["action_info"]["scene"].get("scene_str", ""))
        if body.get("action_name") != "QR_LIMIT_STR_SCENE" or not 1 <= len(scene) <= 64:
            return self._error(40097, "invalid args")
        ticket = "gQ-" + hashlib.sha1(scene.encode()).hexdigest()[:12] + "=="
        self.qr_scenes[ticket] = scene
        return web.json_response({"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket}"})

    async def _media_get(self, request: web.Request) -> web.StreamResponse:
        refused = self._checked(request, "media/get")
        if refused is not None:
            return refused
        data = self.media.get(request.query.get("media_id", ""))
        if data is None:
            return self._error(40007, "invalid media_id")
        return web.Response(body=data, content_type="image/jpeg")


_msg_ids = itertools.count(24_000_000_000_000_000)


@dataclass
class CallbackClient:
    """Posts to the bot's /wechat as WeChat's servers do: signed, encrypted in safe mode."""

    session: ClientSession
    url: str
    now: Now
    safe: bool = False
    token: str = TOKEN

    def query(self, body: str = "", timestamp: int | None = None, nonce: str | None = None) -> JSON:
        stamp = str(timestamp if timestamp is not None else int(self.now().timestamp()))
        nonce = nonce or secrets.token_hex(5)
        parts = sorted([self.token, stamp, nonce])
        query = {
            "signature": hashlib.sha1("".join(parts).encode()).hexdigest(),
            "timestamp": stamp,
            "nonce": nonce,
        }
        if self.safe:
            query["encrypt_type"] = "aes"
        return query

    def wrap(self, xml: str, query: JSON) -> str:
        """The safe-mode envelope (the query then carries msg_signature too)."""
        if not self.safe:
            return xml
        envelope = WeChatCrypto(self.token, AES_KEY, APP_ID).encrypt_message(
            xml, query["nonce"], query["timestamp"]
        )
        start = envelope.index("<MsgSignature><![CDATA[") + len("<MsgSignature><![CDATA[")
        query["msg_signature"] = envelope[start : envelope.index("]]>", start)]
        return str(envelope)

    async def post(self, xml: str, **query_overrides: Any) -> ClientResponse:
        query = self.query(
            timestamp=query_overrides.pop("timestamp", None),
            nonce=query_overrides.pop("nonce", None),
        )
        body = self.wrap(xml, query)
        query.update(query_overrides)
        response = await self.session.post(self.url, params=query, data=body.encode())
        await response.read()
        return response

    async def post_raw(self, body: str, query: JSON) -> ClientResponse:
        response = await self.session.post(self.url, params=query, data=body.encode())
        await response.read()
        return response


@dataclass
class Follower:
    """Someone on WeChat who follows the account and writes to it."""

    server: FakeWeChatApi
    openid: str
    callback: CallbackClient
    following: bool = False
    last_wrote: dt.datetime | None = None
    answers_left: int = 0
    last_xml: str = ""
    last_query: JSON = field(default_factory=dict)

    def _xml(self, kind: str, fields: str, msg_id: bool = True) -> str:
        stamp = int(self.server.now().timestamp())
        ident = f"<MsgId>{next(_msg_ids)}</MsgId>" if msg_id else ""
        return (
            f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{stamp}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
            f"{fields}{ident}</xml>"
        )

    def _wrote(self) -> None:
        self.last_wrote = self.server.now()
        self.answers_left = CS_PER_MESSAGE

    async def _post(self, xml: str) -> ClientResponse:
        self.last_xml = xml
        return await self.callback.post(xml)

    async def follow(self, scene: str | None = None) -> ClientResponse:
        self.following = True
        self._wrote()
        key = f"<EventKey><![CDATA[qrscene_{scene}]]></EventKey>" if scene else ""
        return await self._post(
            self._xml("event", f"<Event><![CDATA[subscribe]]></Event>{key}", msg_id=False)
        )

    async def unfollow(self) -> ClientResponse:
        self.following = False
        return await self._post(
            self._xml("event", "<Event><![CDATA[unsubscribe]]></Event>", msg_id=False)
        )

    async def send(self, text: str, menu_id: str | None = None) -> ClientResponse:
        self._wrote()
        menu = f"<bizmsgmenuid>{menu_id}</bizmsgmenuid>" if menu_id else ""
        return await self._post(self._xml("text", f"<Content><![CDATA[{text}]]></Content>{menu}"))

    async def tap(self, label: str) -> ClientResponse:
        """Tap an item of the last menu message (WeChat sends its text with bizmsgmenuid)."""
        for sent in reversed(self.server.sent_to(self.openid)):
            for item_id, content in sent.choices:
                if label in content:
                    return await self.send(content, menu_id=item_id)
            if sent.kind == "msgmenu":
                break
        raise AssertionError(f"{self.openid} sees no choice {label!r}")

    async def click(self, key: str) -> ClientResponse:
        """A tap on the account's menu (a CLICK button)."""
        self._wrote()
        return await self._post(
            self._xml(
                "event",
                f"<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[{key}]]></EventKey>",
                msg_id=False,
            )
        )

    async def send_photo(self, content: bytes) -> ClientResponse:
        self._wrote()
        media_id = "media-in-" + hashlib.sha1(content).hexdigest()[:12]
        self.server.media[media_id] = content
        return await self._post(
            self._xml(
                "image",
                f"<PicUrl><![CDATA[http://mmbiz.example/{media_id}]]></PicUrl>"
                f"<MediaId><![CDATA[{media_id}]]></MediaId>",
            )
        )

    async def send_location(self, x: float, y: float) -> ClientResponse:
        self._wrote()
        return await self._post(
            self._xml(
                "location",
                f"<Location_X>{x}</Location_X><Location_Y>{y}</Location_Y>"
                "<Scale>15</Scale><Label><![CDATA[Sunflower]]></Label>",
            )
        )

    async def retry_last(self) -> ClientResponse:
        """WeChat's retry of the last message: the same XML, a fresh signature."""
        return await self.callback.post(self.last_xml)

    def inbox(self) -> list[Sent]:
        return self.server.sent_to(self.openid)

    def text(self) -> str:
        sent = self.inbox()
        assert sent, f"nothing was sent to {self.openid}"
        return sent[-1].text
