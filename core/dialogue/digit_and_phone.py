"""A menu's number and a phone number in one message ("1 3331234567"): neither a choice of
the menu nor a phone to act on. At a shop's chat it is most likely a charge written
without PAGA, so the form of PAGA comes back with that phone; elsewhere, that a menu's
number goes alone and that a phone is changed only by the office. Apart from the engine,
which only recognises the message (words.menu_digit_and_phone) and calls it.
"""

from __future__ import annotations

from core.dialogue.context import Turn
from core.dialogue.menus import is_shop_member
from core.domain.messages import t


async def say_digit_and_phone(turn: Turn, digit: str, phone: str) -> None:
    """What a menu's number and a phone number in one message get: at a shop's chat how to
    charge that phone (the form, with it), else that a menu's number goes alone and a
    phone is the office's to change. Nothing starts, nobody is looked up."""
    if await is_shop_member(turn):
        turn.say(
            t(
                "To charge {payer_phone}: PAGA {payer_phone} and the amount, e.g. PAGA "
                "{payer_phone} 12,50. A menu number goes alone.",
                payer_phone=phone,
            )
        )
        return
    turn.say(
        t(
            "Write the menu number alone, e.g. {digit}. A phone number is changed only by "
            "the office: write UFFICIO.",
            digit=digit,
        )
    )
