"""A person chatting with the engine, as a test sees it: send a message, read the replies.

Every reply that goes out by SMS is rendered in its language and must fit one
GSM-7 segment: each scripted conversation on SMS is also a length test.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.engine import DialogueEngine, HandleResult
from core.dialogue.inbound import Channel, Edited, Inbound, SharedContact, SharedLocation
from core.dialogue.render import render_plain
from core.domain import gsm7
from core.domain.messages import Reply
from core.services import municipalities
from core.services.outbox import reply_of
from core.storage import models as m
from tests.factories import Town, codes_other_than, make_town, shared_phone

_ids = itertools.count(1)


def assert_one_segment(reply: Reply, language: str) -> str:
    body = render_plain(reply, language, sms=True)
    count = gsm7.count(body)
    assert count.encoding == "GSM-7", f"forces UCS-2 ({gsm7.non_gsm7(body)}): {body!r}"
    assert count.single, f"{count.length} septets, {count.segments} SMS: {body!r}"
    return body


def wrong_guesses(code: str, count: int, *others: str) -> list[str]:
    """Six-digit codes that are neither `code`, the customer's drawn one, nor any of
    `others` (another code drawn meanwhile, e.g. the till's own): a fixed guess such as
    111111 is the drawn code once in a million runs, and the payment it was to refuse goes
    through."""
    return codes_other_than(code, *others, count=count)


def msgids(replies: list[Reply]) -> list[str]:
    return [text.msgid for reply in replies for text in reply.texts]


def param(replies: list[Reply], name: str) -> Any:
    """The value of a parameter in the replies (the last one that has it)."""
    found = [text.params[name] for reply in replies for text in reply.texts if name in text.params]
    assert found, f"no parameter {name!r} in {msgids(replies)}"
    return found[-1]


def options(replies: list[Reply]) -> list[str]:
    return [option.key for reply in replies for option in reply.options]


@dataclass
class Chat:
    core: Core
    address: str
    channel: Channel = Channel.SMS
    to: str | None = None
    engine: DialogueEngine | None = None
    language_hint: str | None = None
    last: list[Reply] = field(default_factory=list)
    result: HandleResult | None = None

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = DialogueEngine(self.core)

    async def send(
        self,
        text: str | None = None,
        *,
        option: str | None = None,
        location: tuple[float, float] | None = None,
        contact: tuple[str, bool] | None = None,
        start: str | None = None,
        message_id: str | None = None,
        telegram_id: str | None = None,
        edited_after: timedelta | None = None,
        attachment: bool = False,
        voice: bool = False,
    ) -> list[Reply]:
        """One message; on Telegram `telegram_id` is its id in the chat, and with
        `edited_after` the message is an edit of that one, made so long after it.
        `attachment`: it carried a photo, a file or a sticker, `text` being the words
        written under it; with `voice` too, something to listen to."""
        assert self.engine is not None
        inbound = Inbound(
            channel=self.channel,
            address=self.address,
            text=text,
            option=option,
            location=SharedLocation(*location) if location else None,
            contact=SharedContact(*contact) if contact else None,
            provider_message_id=message_id or f"m{next(_ids)}",
            to=self.to,
            start_parameter=start,
            language_hint=self.language_hint,
            message_id=telegram_id,
            edited=Edited(edited_after) if edited_after is not None else None,
            attachment=attachment or voice,
            voice=voice,
        )
        self.result = await self.engine.handle(inbound)
        self.last = await self.replies(self.result.outbox_ids)
        return self.last

    async def replies(self, ids: list[int]) -> list[Reply]:
        found = []
        async with self.core.uow() as uow:
            for message_id in ids:
                row = await uow.outbox.by_id(message_id)
                assert row is not None
                assert (row.channel, row.address) == (self.channel.value, self.address)
                reply = reply_of(uow.keys, row)
                if row.channel == Channel.SMS.value:
                    assert_one_segment(reply, row.language)
                found.append(reply)
        return found

    async def state(self) -> tuple[str | None, str | None, dict[str, Any]]:
        """(flow, step, data) of this address's conversation, as stored."""
        async with self.core.uow() as uow:
            conversation = await uow.session.scalar(
                select(m.Conversation)
                .where(
                    m.Conversation.channel == self.channel.value,
                    m.Conversation.address == self.address,
                )
                .order_by(m.Conversation.updated_at.desc())
                .limit(1)
            )
            assert conversation is not None
            return conversation.flow, conversation.step, dict(conversation.data)

    async def expect(self, text: str | None = None, *expected: str, **kwargs: Any) -> list[Reply]:
        """Send, then check that the replies say these msgids, in this order."""
        replies = await self.send(text, **kwargs)
        said = msgids(replies)
        position = 0
        for msgid in expected:
            assert msgid in said[position:], f"{text!r}: expected {msgid!r}, got {said}"
            position = said.index(msgid, position) + 1
        return replies


async def outbox_of(core: Core, channel: str, address: str) -> list[tuple[m.OutboxMessage, Reply]]:
    async with core.uow() as uow:
        rows = await uow.outbox.for_address(channel, address)
        return [(row, reply_of(uow.keys, row)) for row in rows]


async def town_with_open_window(core: Core, **kwargs: Any) -> Town:
    """The factories' town (credited citizens, an approved shop) with a new round open now."""
    town = await make_town(core, **kwargs)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await municipalities.open_window(uow, municipality, core.now() - timedelta(minutes=1))
        await uow.commit()
    return town


async def add_member(
    core: Core, shop_id: int, address: str, role: str, channel: str = "sms"
) -> int:
    """A member of the shop (`role` "owner" or "cashier") on `channel`, as if joined; on
    Telegram with the phone they shared (tests.factories.shared_phone). Its id."""
    async with core.uow() as uow:
        member = m.ShopMember(
            shop_id=shop_id,
            channel=channel,
            address=address,
            role=role,
            created_at=core.now(),
            phone=shared_phone(channel, address),
        )
        uow.add(member)
        await uow.commit()
        return member.id


async def confirmation_code(chat: Chat) -> str:
    """The last confirmation code sent to this chat (not a payment code)."""
    for _row, reply in reversed(await outbox_of(chat.core, chat.channel.value, chat.address)):
        if reply.texts and reply.texts[0].msgid.startswith("Code {code} confirms "):
            return str(reply.texts[0].params["code"])
    raise AssertionError("no confirmation code sent")


async def open_till(chat: Chat) -> Chat:
    """A till on SMS confirms its session once with a code sent to its own number."""
    await chat.expect("PAGA", TILL_CODE)
    await chat.expect(
        await confirmation_code(chat),
        "Who pays? Write the codice fiscale, the phone number or the card code.",
    )
    return chat


TILL_CODE = (
    "Code {code} confirms that this phone charges vouchers for {shop}. Do not share it with "
    "anyone. Valid {minutes} min."
)
# What the shop's own codes confirm, named in their messages (the till's is TILL_CODE).
REFUND_CODE = (
    "Code {code} confirms the refund of {amount} (receipt no. {receipt}): reply to this "
    "message with the code. Do not give it to anyone else. Valid {minutes} min."
)
CASHIER_CODE = (
    "Code {code} confirms a new cashier code for {shop}. Do not share it with anyone. Valid "
    "{minutes} min."
)
# What the owner is told with a new cashier code (CASSIERE).
INVITED = (
    "Cashier code: {code}, valid for 2 days and once. The cashier sends this code here, by SMS "
    "or on Telegram, from their own phone."
)
JOIN_CODE = (
    "Code {code} confirms that you join {shop} as cashier. Do not share it with anyone. Valid "
    "{minutes} min."
)
REMOVE_CODE = (
    "Code {code} confirms that you remove cashier {who} from {shop}. Do not share it with "
    "anyone. Valid {minutes} min."
)
LEAVE_CODE = (
    "Code {code} confirms that you stop working for {shop}. Do not share it with anyone. "
    "Valid {minutes} min."
)
REGISTER_CODE = (
    "Code {code} confirms the registration of {shop}, P.IVA {vat}. Do not share it with "
    "anyone. Valid {minutes} min."
)
