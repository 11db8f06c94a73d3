"""Payments a till left waiting for the customer's code, met again with nothing open in the
shop's chat: a code typed there (after MENU at the code step, or the chat closed and
opened again) is judged at that payment's code step (code_at_till, from stray_codes), and
ANNULLA cancels them and names each (cancel_at_till, from commands), so that "Cancelled."
is never said while one still waits. Apart from the flow (flows/charge.py), whose code step
they resume.
"""

from __future__ import annotations

from core.dialogue.context import Input, Turn
from core.dialogue.flows.charge import ChargeFlow
from core.dialogue.flows.charge_session import _till, till_session_open
from core.dialogue.flows.charge_texts import cancelled_text
from core.domain.messages import t
from core.domain.shops import ShopStatus
from core.services import charges as charge_service
from core.services import refund_codes, tills


async def _waiting_here(turn: Turn) -> tuple[int, list[charge_service.WaitingCharge]] | None:
    """The shop this chat charges for and the payments its till left waiting for a code;
    None when the chat charges for no shop. An SMS till whose session is not open has
    none to offer (a forged sender must not type codes): an empty list."""
    current = await turn.shop()
    if current is None or current[1].status != ShopStatus.APPROVED:
        return None
    shop_id = current[1].id
    if turn.is_sms and not till_session_open(turn, shop_id):
        return shop_id, []
    waiting = await charge_service.waiting_at_till(
        turn.uow, shop_id=shop_id, till=_till(turn), now=turn.now
    )
    return shop_id, waiting


async def code_at_till(turn: Turn, inp: Input, code: str) -> bool:
    """A code typed in a shop's chat with nothing open: the code of the payment this till
    left waiting (MENU at the code step, the chat closed and opened again) is judged at
    that payment's code step; with none waiting, the cashier is told so. False when the
    chat charges for no shop."""
    found = await _waiting_here(turn)
    if found is None:
        return False
    shop_id, waiting = found
    if await refund_codes.ended_refund_code(turn.uow, shop_id, code, turn.now):
        # A customer reads out the code of a refund that is over (cancelled, or done): not
        # a payment's wrong code, counted against the shop.
        turn.say(
            t(
                "That is a customer's code for a refund that is no longer open: it does "
                "nothing now. To refund, write STORNO again."
            )
        )
        return True
    if not waiting:
        turn.say(t("No payment is waiting for a code at this till. To charge, write PAGA."))
        return True
    # Several waiting (two customers at once): the one whose code this is, without
    # counting a wrong try against the others; else the newest.
    chosen = next(
        (w for w in waiting if charge_service.code_is_for(turn.uow.keys, w, code)), waiting[0]
    )
    await ChargeFlow().resume_waiting(turn, shop_id, chosen, inp)
    return True


async def cancel_at_till(turn: Turn) -> bool:
    """ANNULLA in a shop's chat, once the request open there (if any) has ended: the
    payments this till holds waiting for a code are cancelled (each customer told the code
    is void) and named, so that "Cancelled." is never said while one still waits. Whether
    the SMS till's session is open does not matter: cancelling takes no money. False:
    none was waiting (or the chat charges for no shop)."""
    current = await turn.shop()
    if current is None:
        return False
    cancelled = await tills.cancel_waiting(
        turn.uow, shop_id=current[1].id, till=_till(turn), now=turn.now, reason=tills.BY_SHOP
    )
    if not cancelled:
        return False
    turn.say(*[cancelled_text(each) for each in cancelled])
    return True
