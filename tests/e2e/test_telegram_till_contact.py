"""A shop's till chat on Telegram shares a contact nobody asked for (tills trial): it is
told what a contact is for there, never the refusal meant for a citizen's identity, and
nothing changes (the member's phone, a request open at the till)."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select, update

from core.storage import models as m
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_telegram_payments import CASHIER_CHAT, setup_till

NOT_NEEDED = (
    "This chat works for a shop: no contact is needed here, nothing was changed. To charge a "
    "customer, write PAY and their codice fiscale, phone or card code."
)
ASKED_LATER = (
    "This chat works for a shop: nothing was changed. Your own phone number is asked for, "
    "with the button, at your next PAY or REFUND."
)
KEPT = (
    "Thank you: your phone number is kept for the shop, so that your customers' codes never "
    "reach it. Nothing else was changed."
)
IDENTITY_REFUSAL = "We cannot do this from the chat."


def asks_contact(message: dict[str, Any]) -> bool:
    keyboard = (message.get("reply_markup") or {}).get("keyboard") or []
    return any(button.get("request_contact") for row in keyboard for button in row)


async def member_phone(server: TelegramServer) -> str | None:
    async with server.core.uow() as uow:
        return await uow.session.scalar(
            select(m.ShopMember.phone).where(m.ShopMember.address == str(CASHIER_CHAT))
        )


async def test_a_till_sharing_a_contact_unasked_is_told_what_it_is_for(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    cashier, _customer, citizen = await setup_till(server)
    phone = await member_phone(server)
    # Its own contact, then a customer's: the same plain answer, no button, nothing kept.
    for owner in (-1, None):
        share = partial(cashier.share_contact, citizen.phone or "", owner_id=owner)
        [answer] = await server.exchange(cashier, share)
        assert answer["text"] == NOT_NEEDED
        assert IDENTITY_REFUSAL not in answer["text"] and not asks_contact(answer)
    assert await member_phone(server) == phone
    async with server.core.uow() as uow:
        assert await uow.citizens.by_telegram_chat(1, str(CASHIER_CHAT)) is None

    # In the middle of a payment: said, the question again, and the payment goes on.
    await server.exchange(cashier, lambda: cashier.say("/paga"))
    said = await server.exchange(cashier, lambda: cashier.share_contact("+393330000001"))
    assert said[0]["text"].startswith(NOT_NEEDED) and "Who pays?" in said[-1]["text"]
    [waiting] = await server.exchange(cashier, lambda: cashier.say(f"{citizen.codice_fiscale} 3"))
    assert waiting["text"].startswith("Code sent to the customer (Telegram) for €3.00")


async def test_a_member_without_a_phone_who_shares_their_own_has_it_kept(
    telegram_server_any_db: TelegramServer,
) -> None:
    """What the next PAGA would ask for, given unasked: kept under the same rules. Someone
    else's contact is no member's phone: asked for later, nothing stored."""
    server = telegram_server_any_db
    cashier, _customer, citizen = await setup_till(server)
    async with server.core.uow() as uow:
        await uow.session.execute(
            update(m.ShopMember).where(m.ShopMember.address == str(CASHIER_CHAT)).values(phone=None)
        )
        await uow.commit()
    others = partial(cashier.share_contact, "+393471230077", owner_id=cashier.id + 1)
    [answer] = await server.exchange(cashier, others)
    assert answer["text"] == ASKED_LATER and not asks_contact(answer)
    assert await member_phone(server) is None
    # A voucher holder's number is refused as when asked, and not stored.
    own_citizens = partial(cashier.share_contact, citizen.phone or "")
    [refused] = await server.exchange(cashier, own_citizens)
    assert refused["text"].startswith("This number receives the payment codes of a voucher")
    assert await member_phone(server) is None
    [kept] = await server.exchange(cashier, lambda: cashier.share_contact("+393471230077"))
    assert kept["text"] == KEPT
    assert await member_phone(server) == "+393471230077"
