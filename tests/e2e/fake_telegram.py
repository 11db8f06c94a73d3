"""A local stand-in for the Telegram Bot API, for end-to-end tests and the benchmark.

It speaks the real wire format (form, multipart or JSON requests to
/bot<token>/<method>, `{"ok": ..., "result": ...}` answers), so the real
python-telegram-bot client is pointed at it through TELEGRAM_API_BASE_URL. It
records every call, keeps each chat's messages (with their keyboards) so that a
simulated user can read them and tap buttons, delivers updates either to the
registered webhook (with the secret header) or through getUpdates long polling,
and enforces flood limits the way Telegram does: 429 with `retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.telegram_updates import TelegramUser, UpdateIds

TOKEN = "424242:TEST-token_for-the-fake-api"
BOT_ID = 424242
BOT_USERNAME = "buonispesa_test_bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Calls that put a message in a chat and count against the flood limits.
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendLocation", "sendVenue", "sendDocument", "editMessageText", "sendInvoice"}
)
# Form fields that are plain strings; every other field is JSON-encoded by clients.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "url",
        "secret_token",
        "callback_query_id",
        "language_code",
        "chat_id",
        "title",
        "address",
        "description",
        "payload",
        "provider_token",
        "currency",
        "pre_checkout_query_id",
        "error_message",
    }
)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() on arrival
    status: int = 200
    files: dict[str, bytes] = field(default_factory=dict)


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _chat_of(call: Call) -> int:
    return int(call.params.get("chat_id", 0) or 0)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


class FakeTelegram:
    def __init__(
        self,
        *,
        token: str = TOKEN,
        overall_per_second: int = 30,
        per_chat_per_second: int = 4,
        flood_retry_after: int = 1,
    ) -> None:
        self.token = token
        self.overall_per_second = overall_per_second
        self.per_chat_per_second = per_chat_per_second
        self.flood_retry_after = flood_retry_after
        self.calls: list[Call] = []
        self.rejected: list[Call] = []  # answered 429
        self.chats: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.pending_updates: list[dict[str, Any]] = []
        self.blocked: set[int] = set()  # users who blocked the bot: 403 on sends
        self._forced: dict[str, deque[int]] = defaultdict(deque)
        self._refusals: dict[str, tuple[int, str]] = {}
        self.left_chats: list[int] = []
        # answerPreCheckoutQuery calls: query id -> (ok, error_message).
        self.checkout_answers: dict[str, tuple[bool, str | None]] = {}
        self.command_scopes: list[Any] = []
        self._window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = defaultdict(deque)
        self.ids = UpdateIds()
        self._new_updates = asyncio.Condition()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port = 0
        self.closing = False

    # Lifecycle -----------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._client = aiohttp.ClientSession()
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def close(self) -> None:
        self.closing = True
        async with self._new_updates:
            self._new_updates.notify_all()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # Test controls ------------------------------------------------------------------

    def refuse(self, method: str, status: int, description: str) -> None:
        """Every call of `method` from now on gets this error (e.g. 400 bad webhook)."""
        self._refusals[method] = (status, description)

    def fail_next(self, method: str, *, retry_after: int, times: int = 1) -> None:
        """The next `times` calls of `method` get 429 with this retry_after."""
        self._forced[method].extend([retry_after] * times)

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, as they look now (edits applied)."""
        return list(self.chats[chat_id])

    async def wait_until(self, condition: Callable[[], bool], within: float = 60.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), within)

    async def deliver(self, update: dict[str, Any]) -> int:
        """Send an update the way Telegram would: to the webhook if one is set (returns the
        HTTP status), else queued for getUpdates (returns 0)."""
        if "update_id" not in update:
            update["update_id"] = self.ids.update()
        if self.webhook is None:
            async with self._new_updates:
                self.pending_updates.append(update)
                self._new_updates.notify_all()
            return 0
        assert self._client is not None
        headers = {}
        if self.webhook.get("secret_token"):
            headers[SECRET_HEADER] = self.webhook["secret_token"]
        async with self._client.post(self.webhook["url"], json=update, headers=headers) as response:
            return response.status

    def next_update_id(self) -> int:
        return self.ids.update()

    # The API -------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method, params, time.monotonic(), files=files)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            self.calls.append(call)
            return _error(404, "Not Found: method not found")
        if method in self._refusals:
            call.status, description = self._refusals[method]
            self.calls.append(call)
            return _error(call.status, description)
        if method in MESSAGE_METHODS and _chat_of(call) in self.blocked:
            call.status = 403
            self.calls.append(call)
            return _error(403, "Forbidden: bot was blocked by the user")
        flood = self._flood(call)
        if flood is not None:
            call.status = 429
            self.calls.append(call)
            self.rejected.append(call)
            return _error(429, f"Too Many Requests: retry after {flood}", retry_after=flood)
        self.calls.append(call)
        try:
            response: web.Response = await handler(call)
        except (KeyError, ValueError) as error:
            call.status = 400
            return _error(400, f"Bad Request: {error}")
        async with self._changed:
            self._changed.notify_all()
        return response

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        if request.content_type == "application/json":
            return dict(await request.json()), {}
        if request.method == "GET":
            form: Any = request.query
        else:
            form = await request.post()
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
                params[key] = value.filename
            elif key in _STRING_FIELDS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        return params, files

    def _flood(self, call: Call) -> int | None:
        forced = self._forced.get(call.method)
        if forced:
            return forced.popleft()
        if call.method not in MESSAGE_METHODS:
            return None
        now = call.at
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        chat = _chat_of(call)
        chat_window = self._chat_windows[chat]
        while chat_window and chat_window[0] <= now - 1.0:
            chat_window.popleft()
        if len(self._window) >= self.overall_per_second:
            return self.flood_retry_after
        if len(chat_window) >= self.per_chat_per_second:
            return self.flood_retry_after
        self._window.append(now)
        chat_window.append(now)
        return None

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self.ids.message(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"},
            "from": self._bot_user(),
            **content,
        }
        self.chats[chat_id].append(message)
        return message

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Buoni spesa", "username": BOT_USERNAME}

    async def _api_getMe(self, call: Call) -> web.Response:
        return _ok(
            {
                **self._bot_user(),
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _api_setWebhook(self, call: Call) -> web.Response:
        self.webhook = dict(call.params)
        return _ok(True)

    async def _api_deleteWebhook(self, call: Call) -> web.Response:
        self.webhook = None
        return _ok(True)

    async def _api_setMyCommands(self, call: Call) -> web.Response:
        self.commands[call.params.get("language_code")] = list(call.params["commands"])
        self.command_scopes.append(call.params.get("scope"))
        return _ok(True)

    async def _api_leaveChat(self, call: Call) -> web.Response:
        self.left_chats.append(int(call.params["chat_id"]))
        return _ok(True)

    async def _api_getUpdates(self, call: Call) -> web.Response:
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(call.params.get("offset", 0) or 0)
        timeout = float(call.params.get("timeout", 0) or 0)
        limit = int(call.params.get("limit", 100) or 100)
        async with self._new_updates:
            # Updates below the offset are confirmed: Telegram forgets them.
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
            if not self.pending_updates and timeout > 0 and not self.closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._new_updates.wait_for(
                            lambda: bool(self.pending_updates) or self.closing
                        ),
                        timeout,
                    )
            return _ok(self.pending_updates[:limit])

    async def _api_sendMessage(self, call: Call) -> web.Response:
        content: dict[str, Any] = {"text": call.params["text"]}
        markup = call.params.get("reply_markup")
        if markup:
            content["reply_markup"] = markup
        if call.params.get("protect_content"):
            content["has_protected_content"] = True
        message = self._message(int(call.params["chat_id"]), **content)
        return _ok(self._public(message))

    async def _api_sendLocation(self, call: Call) -> web.Response:
        location = {
            "latitude": float(call.params["latitude"]),
            "longitude": float(call.params["longitude"]),
        }
        return _ok(self._message(int(call.params["chat_id"]), location=location))

    async def _api_sendVenue(self, call: Call) -> web.Response:
        location = {
            "latitude": float(call.params["latitude"]),
            "longitude": float(call.params["longitude"]),
        }
        venue = {
            "location": location,
            "title": str(call.params["title"]),
            "address": str(call.params["address"]),
        }
        return _ok(self._message(int(call.params["chat_id"]), location=location, venue=venue))

    async def _api_sendDocument(self, call: Call) -> web.Response:
        name = str(call.params.get("document", "file"))
        content = call.files.get("document", b"")
        document = {
            "file_id": f"doc{len(self.calls)}",
            "file_unique_id": f"u{len(self.calls)}",
            "file_name": name,
            "mime_type": "application/pdf" if name.endswith(".pdf") else "application/octet-stream",
            "file_size": len(content),
        }
        message = self._message(int(call.params["chat_id"]), document=document)
        message["_content"] = content  # kept for the tests, not sent back
        return _ok(self._public(message))

    async def _api_editMessageText(self, call: Call) -> web.Response:
        chat_id, message_id = int(call.params["chat_id"]), int(call.params["message_id"])
        for message in self.chats[chat_id]:
            if message["message_id"] == message_id:
                message["text"] = call.params["text"]
                markup = call.params.get("reply_markup")
                if markup:
                    message["reply_markup"] = markup
                else:
                    message.pop("reply_markup", None)
                message["edit_date"] = int(time.time())
                return _ok(self._public(message))
        return _error(400, "Bad Request: message to edit not found")

    async def _api_answerCallbackQuery(self, call: Call) -> web.Response:
        return _ok(True)

    async def _api_sendInvoice(self, call: Call) -> web.Response:
        prices = list(call.params["prices"])
        if not call.params.get("provider_token") and call.params["currency"] != "XTR":
            raise ValueError("a provider token is needed outside Telegram Stars")
        invoice = {
            "title": str(call.params["title"]),
            "description": str(call.params["description"]),
            "start_parameter": str(call.params.get("start_parameter", "")),
            "currency": str(call.params["currency"]),
            "total_amount": sum(int(price["amount"]) for price in prices),
        }
        message = self._message(int(call.params["chat_id"]), invoice=invoice)
        # What Telegram keeps to itself, for the tests: the payload comes back with the payment.
        message["_payload"] = str(call.params["payload"])
        message["_prices"] = prices
        return _ok(self._public(message))

    async def _api_answerPreCheckoutQuery(self, call: Call) -> web.Response:
        ok = bool(call.params["ok"])
        error = call.params.get("error_message")
        if not ok and not error:
            raise ValueError("error_message is required when ok is false")
        self.checkout_answers[str(call.params["pre_checkout_query_id"])] = (ok, error)
        return _ok(True)

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in message.items() if not k.startswith("_")}
        markup = public.get("reply_markup")
        # Only inline keyboards are part of a Message object; reply keyboards are not.
        if markup and "inline_keyboard" not in markup:
            public.pop("reply_markup")
        return public


class FakeUser(TelegramUser):
    """A person in a private chat with the bot: types, taps buttons, shares things."""

    def __init__(
        self, api: FakeTelegram, user_id: int, *, first_name: str = "Maria", language: str = "it"
    ) -> None:
        super().__init__(api.ids, user_id, first_name=first_name, language=language)
        self.api = api

    async def say(self, text: str) -> int:
        return await self.api.deliver(self.text_update(text))

    async def start(self, payload: str | None = None) -> int:
        return await self.say(f"/start {payload}" if payload else "/start")

    async def share_contact(self, phone: str, *, owner_id: int | None = -1) -> int:
        """Share a contact card; by default one's own (user_id = the sender)."""
        contact: dict[str, Any] = {"phone_number": phone, "first_name": self.first_name}
        owner = self.id if owner_id == -1 else owner_id
        if owner is not None:
            contact["user_id"] = owner
        return await self.api.deliver(self.message_update(contact=contact))

    async def send_photo(self, caption: str | None = None) -> int:
        """A photo (of a document, say), with the words written under it if any."""
        content: dict[str, Any] = {
            "photo": [
                {"file_id": "AgACph", "file_unique_id": "AQADph", "width": 960, "height": 1280}
            ]
        }
        if caption is not None:
            content["caption"] = caption
        return await self.api.deliver(self.message_update(**content))

    async def send_document(self) -> int:
        """A file (a scanned form, say), with nothing written under it."""
        document = {
            "file_id": "BQACdo",
            "file_unique_id": "AgADdo",
            "file_name": "isee.pdf",
            "mime_type": "application/pdf",
        }
        return await self.api.deliver(self.message_update(document=document))

    async def send_sticker(self) -> int:
        sticker = {
            "file_id": "CAACst",
            "file_unique_id": "AgADst",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self.api.deliver(self.message_update(sticker=sticker))

    async def send_voice(self, kind: str = "voice") -> int:
        """A voice message (or an `audio`, a `video_note`): something to listen to."""
        media: dict[str, Any] = {"file_id": "AwACvo", "file_unique_id": "AgADvo", "duration": 7}
        if kind == "video_note":
            media["length"] = 240
        return await self.api.deliver(self.message_update(**{kind: media}))

    async def edit(self, update: dict[str, Any], text: str, *, after: int = 20) -> int:
        """Edit the text of the message `update` carried, `after` seconds after sending it."""
        return await self.api.deliver(self.edited_update(update, text, after=after))

    async def share_location(self, latitude: float, longitude: float) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return await self.api.deliver(self.message_update(location=location))

    def invoices(self) -> list[dict[str, Any]]:
        return [m for m in self.messages() if "invoice" in m]

    async def pre_checkout(self, invoice_message: dict[str, Any]) -> tuple[bool, str | None]:
        """Tap Pay on an invoice: Telegram asks the bot first; returns the bot's answer."""
        query_id = f"pcq{self.api.next_update_id()}"
        invoice = invoice_message["invoice"]
        update = {
            "update_id": self.api.next_update_id(),
            "pre_checkout_query": {
                "id": query_id,
                "from": self.user,
                "currency": invoice["currency"],
                "total_amount": invoice["total_amount"],
                "invoice_payload": invoice_message["_payload"],
            },
        }
        status = await self.api.deliver(update)
        assert status in (0, 200), status
        await self.api.wait_until(lambda: query_id in self.api.checkout_answers)
        return self.api.checkout_answers[query_id]

    async def paid(self, invoice_message: dict[str, Any], charge_id: str) -> int:
        """The provider took the money: the service message Telegram sends to the bot."""
        invoice = invoice_message["invoice"]
        payment = {
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice_message["_payload"],
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": f"ch_{charge_id}",
        }
        return await self.api.deliver(self.message_update(successful_payment=payment))

    def messages(self) -> list[dict[str, Any]]:
        return self.api.sent_to(self.id)

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages() if "text" in m]

    def last_keyboard_message(self) -> dict[str, Any]:
        for message in reversed(self.messages()):
            if "inline_keyboard" in message.get("reply_markup", {}):
                return dict(message)
        raise AssertionError(f"no inline keyboard in chat {self.id}: {self.texts()}")

    def button(self, label: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """The one button labelled exactly `label` on `message` (default: the latest
        keyboard)."""
        shown = message or self.last_keyboard_message()
        [found] = [
            b for row in shown["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label
        ]
        return dict(found)

    def buttons(self) -> list[str]:
        markup = self.last_keyboard_message()["reply_markup"]
        return [button["text"] for row in markup["inline_keyboard"] for button in row]

    def callback_update(
        self,
        data: str,
        message: dict[str, Any] | None = None,
        *,
        from_user: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A tap on `message` (default: the latest keyboard), as Telegram shows it to the bot."""
        shown = FakeTelegram._public(message or self.last_keyboard_message())
        return super().callback_update(data, shown, from_user=from_user)

    async def tap(self, label: str) -> int:
        """Tap the button whose text contains `label` on the latest keyboard."""
        message = self.last_keyboard_message()
        for row in message["reply_markup"]["inline_keyboard"]:
            for button in row:
                if label.lower() in button["text"].lower():
                    return await self.api.deliver(
                        self.callback_update(button["callback_data"], message)
                    )
        raise AssertionError(f"no button {label!r} in {self.buttons()}")

    async def wait_for_messages(self, count: int, within: float = 60.0) -> list[dict[str, Any]]:
        """Wait until the chat holds at least `count` bot messages; returns them."""
        await self.api.wait_until(lambda: len(self.api.chats[self.id]) >= count, within)
        return self.messages()
