"""Codes that come in when no question waits for them, and payment codes that come in
while one does.

A confirmation code typed after another word took the person out of the request it
confirms (STATO while the SMS with the code was on its way) takes them back to that
request's code step, where it is judged as if typed there. A payment code sent here
instead of being told to the cashier gets an explanation: it is for the cashier, and
not telling it is how a payment is refused (ANNULLA refuses it too, see refuse_payments);
one that expired unused is told so, even as the first message of a new chat. In a shop's
chat, a code typed after MENU left a payment waiting goes to that payment's code step
(flows/charge_waiting.code_at_till).

A payment code sent here while a question waits (the application's liquidity, its
confirmation code) is no answer to it: the engine asks `payment_for_code` before the step
reads the message, and explains it instead (engine._said_at_step), the question
and its tries untouched.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from core.dialogue.context import PHONE_CHANNELS, Input, Turn
from core.dialogue.flows import FLOWS
from core.dialogue.flows.base import ConfirmedFlow
from core.dialogue.flows.charge_waiting import code_at_till
from core.dialogue.flows.citizen import represented
from core.domain import otp
from core.domain.charges import ChargeStatus
from core.domain.messages import Money, Text, t, tn
from core.services import charges, refund_codes, security
from core.services.outbox import payer_of
from core.storage import models as m

# Six digits, perhaps read out in two threes ("145 185", "145-185"), and no other digit
# in the message: "il codice è 145185" is a code, "via Roma 12, 62020" is not.
_CODE = re.compile(r"(?<!\d)(\d{3})[ .-]?(\d{3})(?!\d)")

# The code came back in the turn that filed or changed the application: one `now`.
_SAME_TURN = timedelta(seconds=1)

PAYMENT_CODE_HERE = t(
    "This code is for the cashier: say it to them, do not send it here. If you do not want "
    "to pay, do not say it, or write ANNULLA to refuse."
)


def code_in(text: str | None) -> str | None:
    """The six-digit code a message holds, if that is the only number in it."""
    body = text or ""
    found = _CODE.search(body)
    if found is None or sum(ch.isdigit() for ch in body) != otp.CODE_DIGITS:
        return None
    return found.group(1) + found.group(2)


async def _holder_reached(turn: Turn) -> m.Citizen | None:
    """The holder whose payment codes are sent to this chat: their own, or the holder's
    whose delegate writes from this phone (codes go to the delegate then)."""
    holder = await turn.citizen() or await represented(turn)
    if holder is None:
        return None
    payer = await payer_of(turn.uow, holder)
    if payer is None or not turn.is_reached_at((payer.channel, payer.address)):
        return None
    return holder


async def awaiting_payments(turn: Turn) -> list[tuple[m.Charge, m.Shop]]:
    """Payments waiting for a code that was sent to this chat."""
    holder = await _holder_reached(turn)
    if holder is None:
        return []
    return await charges.awaiting_code(turn.uow, holder.id, turn.now)


def _expired_said(shop: m.Shop) -> Text:
    return t(
        "This code was for a payment at {shop} and has expired: nothing was paid. "
        "Payment codes are said to the cashier, not sent here.",
        shop=shop.name,
    )


def _closed_said(charge: m.Charge, shop: m.Shop) -> Text:
    """A code of a payment that is over: paid (perhaps refunded since), or cancelled."""
    if charge.status == ChargeStatus.CANCELLED:
        return t(
            "This code was for a payment at {shop} that was cancelled: it no longer works.",
            shop=shop.name,
        )
    return t(
        "This code was for the payment of {amount} at {shop}, already made: it is no "
        "longer needed.",
        amount=Money(charge.amount_cents),
        shop=shop.name,
    )


def _old_code_at_question(charge: m.Charge, shop: m.Shop) -> Text:
    """The same, shorter, while a question waits (its question follows in the same SMS when
    it fits): which payment, that it is over, and that the request stays open."""
    if charge.status == ChargeStatus.CANCELLED:
        return t(
            "This code was for a payment at {shop} that was cancelled. Your request stays open.",
            shop=shop.name,
        )
    if charge.status in (ChargeStatus.PENDING, ChargeStatus.EXPIRED):  # expired unused
        return t(
            "This code was for a payment at {shop} that expired: nothing was paid. Your "
            "request stays open.",
            shop=shop.name,
        )
    return t(
        "This code was for the payment of {amount} at {shop}, already made. Your request "
        "stays open.",
        amount=Money(charge.amount_cents),
        shop=shop.name,
    )


async def payment_for_code(turn: Turn) -> list[Text] | None:
    """What a lone six-digit code (as `code_in` reads it) sent while a question waits is
    told when it is the code of a payment sent to this chat: waiting, expired, or over
    (paid, cancelled); None otherwise, and the step reads it. Any other message costs no
    look-up: only six digits alone are checked against this chat's payments."""
    code = code_in(turn.inbound.text)
    if code is None:
        return None
    holder = await _holder_reached(turn)
    if holder is None:
        return None
    keys = turn.uow.keys
    for charge, shop in await charges.awaiting_code(turn.uow, holder.id, turn.now):
        if otp.code_matches(keys, code, charge.code_salt, charge.code_hash):
            return [payment_code_at_question(charge, shop)]
    for charge, shop in (
        *await charges.expired_codes(turn.uow, holder.id, turn.now),
        *await charges.closed_codes(turn.uow, holder.id, turn.now),
    ):
        if otp.code_matches(keys, code, charge.code_salt, charge.code_hash):
            return [_old_code_at_question(charge, shop)]
    return None


def payment_code_at_question(charge: m.Charge, shop: m.Shop) -> Text:
    """What a payment code sent while a question waits is told: it is the cashier's, and
    the request stays as it was (the engine asks its question again after it)."""
    return t(
        "This code is for paying {amount} at {shop}: tell it to the cashier, not here. Your "
        "request stays open.",
        amount=Money(charge.amount_cents),
        shop=shop.name,
    )


async def on_code(turn: Turn, inp: Input) -> bool:
    """A code with no step waiting for it: False when the message is no such code."""
    code = code_in(turn.inbound.text)
    if code is None:
        return False
    holder = await _holder_reached(turn)
    payments = await charges.awaiting_code(turn.uow, holder.id, turn.now) if holder else []
    expired = await charges.expired_codes(turn.uow, holder.id, turn.now) if holder else []
    closed = await charges.closed_codes(turn.uow, holder.id, turn.now) if holder else []
    keys = turn.uow.keys
    refund = await refund_codes.refund_code_sent_here(
        turn.uow, turn.channel, turn.address, code, turn.now
    )
    if refund is not None:
        # A cashier's refund code sent back to us: never a wrong try of anything here.
        turn.say(_refund_code_here(refund))
        return True
    confirmed = await _application_confirmed_by(turn, code)
    if confirmed is not None:
        # The application's code sent again after it went ("396582" twice, unsure the
        # first went out): not "not understood", which reads as if it had not gone.
        turn.say(confirmed)
        return True
    # A payment's own code is never counted against a request left at its code step.
    if not any(
        otp.code_matches(keys, code, charge.code_salt, charge.code_hash)
        for charge, _ in (*payments, *expired, *closed)
    ):
        for flow in FLOWS.values():
            if isinstance(flow, ConfirmedFlow) and await flow.resume_at_code(turn, inp):
                return True
    if payments:
        turn.say(PAYMENT_CODE_HERE)
        return True
    for charge, shop in expired:
        if otp.code_matches(keys, code, charge.code_salt, charge.code_hash):
            # Even as the first message of a chat: an explanation, not the welcome.
            turn.say(_expired_said(shop))
            return True
    for charge, shop in closed:
        if otp.code_matches(keys, code, charge.code_salt, charge.code_hash):
            turn.say(_closed_said(charge, shop))
            return True
    # A shop's chat: the code of the payment this till left waiting (MENU at its code
    # step, the terminal chat opened again), judged at that payment's code step.
    return await code_at_till(turn, inp, code)


async def _application_confirmed_by(turn: Turn, code: str) -> Text | None:
    """What the code that confirmed this chat's citizen's application (sent or changed),
    sent here again, is told: that it went, with its protocol. None for any other code (one
    replaced by a newer one also came back, but confirmed nothing)."""
    citizen = await turn.citizen()
    if citizen is None:
        return None
    proven_at = await security.used_code(
        turn.uow, turn.uow.keys, turn.channel, turn.address, "apply", code, turn.now
    )
    if proven_at is None:
        return None
    application = await turn.uow.applications.latest_for_citizen(citizen.id)
    if application is None or not any(
        abs(proven_at - moment) < _SAME_TURN
        for moment in (application.submitted_at, application.updated_at)
    ):
        return None
    return t(
        "This code already confirmed your application {protocol}: nothing more to do. To see "
        "how it stands, write STATO.",
        protocol=application.protocol,
    )


def _refund_code_here(refund: refund_codes.RefundCodeHere) -> Text:
    """What a customer who sends us the code of a cashier's refund is told: it is for the
    cashier while the refund waits; else that the refund was made, or that the request
    is over and the code no longer works."""
    amount = Money(refund.amount_cents)
    if refund.refunded:
        return t(
            "{shop} has already refunded you {amount}: this code is no longer needed.",
            shop=refund.shop,
            amount=amount,
        )
    if refund.waiting:
        return t(
            "This code is for the cashier of {shop}: read it to them only if you agree to "
            "the refund of {amount}.",
            shop=refund.shop,
            amount=amount,
        )
    return t(
        "This code was for a refund of {amount} from {shop}, which was cancelled: it no "
        "longer works.",
        amount=amount,
        shop=refund.shop,
    )


async def on_words_while_paying(turn: Turn) -> bool:
    """Words that are no keyword and no code, from the chat that received a payment code
    still waiting ("no", "ok", "si va bene", "non pago"): the payment is what the person
    is answering, so it is named with the two ways to answer it. Nothing changes: a bare
    "no" does not refuse (it may answer something else), ANNULLA does. False when no
    payment waits for a code sent to this chat."""
    waiting = await awaiting_payments(turn)
    for charge, shop in waiting:
        turn.say(
            t(
                "{shop} asks {amount} and waits for the code: if you agree, tell it to the "
                "cashier; if not, write ANNULLA.",
                shop=shop.name,
                amount=Money(charge.amount_cents),
            )
        )
    return bool(waiting)


# A payment that waits for a code which did not come (say_code_late): where it went.
def _code_went(turn: Turn, charge: m.Charge, shop: m.Shop, *, here: bool) -> Text:
    amount, name = Money(charge.amount_cents), shop.name
    if not here:
        # To her delegate's phone, or her other chat: named by neither (nothing of it here).
        return t(
            "{shop} asks you {amount}: code sent where your codes go, not here. Missing? The "
            "shop writes PAGA again for a new one.",
            shop=name,
            amount=amount,
        )
    if turn.channel in PHONE_CHANNELS:
        return t(
            "{shop} asks you {amount}: code sent to this number, see your SMS. Missing? The "
            "shop writes PAGA again for a new one.",
            shop=name,
            amount=amount,
        )
    return t(
        "{shop} asks you {amount}: code sent to this chat, see your messages. Missing? The "
        "shop writes PAGA again for a new one.",
        shop=name,
        amount=amount,
    )


NO_PAYMENT_ASKED = t(
    "No shop has asked you for a payment right now: the cashier must start it, writing PAGA "
    "and your codice fiscale or card number."
)


async def say_code_late(turn: Turn) -> None:
    """ "Non mi è arrivato il codice", "non arriva l'sms": each payment that waits for her
    code now (shop, amount) and where its code went, or that no shop has asked her for
    one. The code itself is never said again nor sent anew here: only its own message
    carries it, and PAGA again draws a new one."""
    holder = await turn.citizen() or await represented(turn)
    waiting = await charges.awaiting_code(turn.uow, holder.id, turn.now) if holder else []
    if holder is None or not waiting:
        turn.say(NO_PAYMENT_ASKED)
        return
    payer = await payer_of(turn.uow, holder)
    here = payer is not None and turn.is_reached_at((payer.channel, payer.address))
    for charge, shop in waiting:
        turn.say(_code_went(turn, charge, shop, here=here))


async def cancel_for_lost_phone(turn: Turn) -> None:
    """ "Ho perso il telefono" from the chat that received payment codes: the payments still
    waiting for them are refused as ANNULLA refuses them (the till told, nothing counted
    against the shop), each named: their codes are on the lost phone."""
    for charge, shop in await _refused_waiting(turn):
        turn.say(
            t(
                "Payment of {amount} to {shop} cancelled: its code went to the lost "
                "phone. The shop was told.",
                amount=Money(charge.amount_cents),
                shop=shop.name,
            )
        )


async def _refused_waiting(turn: Turn, **refusal: Any) -> list[tuple[m.Charge, m.Shop]]:
    """The payments waiting for a code sent to this chat, each refused as ANNULLA refuses
    it (`refusal`: charges.refuse_charge's not-me details): those it refused."""
    return [
        (charge, shop)
        for charge, shop in await awaiting_payments(turn)
        if await charges.refuse_charge(
            turn.uow, charge_id=charge.id, citizen_id=charge.citizen_id, now=turn.now, **refusal
        )
    ]


async def refuse_payments(turn: Turn, *, not_me: bool = False) -> bool:
    """ANNULLA with no request open, from the chat that received payment codes, or the same
    refusal in words ("non voglio pagare", refusal_words.refusal_of): those payments are
    refused, and each shop told. `not_me` ("non sono io", "non ho comprato niente"): the
    person did not shop there, so someone gave her details at the till: she is told whom
    to tell. False when there was none to refuse."""
    # One challenge for the refusals of this message: one reply to copy back confirms them.
    challenge = security.not_me_challenge(turn.uow.keys, turn.channel) if not_me else None
    refused = await _refused_waiting(turn, not_me=not_me, channel=turn.channel, challenge=challenge)
    for charge, shop in refused:
        amount = Money(charge.amount_cents)
        turn.say(
            t(
                "Payment of {amount} to {shop} refused: the code no longer works. To "
                "report it to the office, reply NOT ME {challenge}",
                amount=amount,
                shop=shop.name,
                challenge=challenge.code,
            )
            if challenge is not None
            else t(
                "Payment of {amount} to {shop} refused: the code no longer works. Not you? "
                "Someone has your details: write UFFICIO.",
                amount=amount,
                shop=shop.name,
            )
            if not_me
            else t(
                "Payment of {amount} to {shop} refused: the code no longer works. The shop "
                "was told.",
                amount=amount,
                shop=shop.name,
            )
        )
    return bool(refused)


async def confirm_not_me(turn: Turn, typed: str) -> bool:
    """ "NON SONO IO 4821" from the chat payment codes go to: the challenge the reply to an
    SMS "not me" said (refuse_payments), which only the real phone read. Right, the
    refusal counts against the shop for the office; wrong, nothing changes but a try
    (security.confirm_not_me). False when no "not me" of this holder waits for one."""
    holder = await _holder_reached(turn)
    if holder is None:
        return False
    done = await security.confirm_not_me(turn.uow, turn.uow.keys, holder.id, typed, turn.now)
    if done.answer == security.NotMeAnswer.NONE_WAITING:
        return False
    if done.answer == security.NotMeAnswer.WRONG:
        turn.say(
            t(
                "These are not the digits we sent you: nothing was reported. Reply NOT ME and "
                "the digits of our last message."
            )
        )
    elif done.answer == security.NotMeAnswer.USED_UP:
        turn.say(
            t("Too many wrong digits: nothing was reported. To tell the office, write UFFICIO.")
        )
    for charge in done.charges:
        shop = await turn.uow.shops.by_id(charge.shop_id)
        turn.say(
            t(
                "Thank you: the office knows that the payment of {amount} at {shop} was not "
                "yours. Someone has your details: write UFFICIO.",
                amount=Money(charge.amount_cents),
                shop=shop.name if shop is not None else "",
            )
        )
    return True


async def not_me_again(turn: Turn) -> bool:
    """ "Non sono io" with no payment waiting, while her SMS "not me" waits for its
    challenge: the challenge again, new, for each payment (security.renew_not_me_challenge).
    False when none waits."""
    holder = await _holder_reached(turn)
    if holder is None:
        return False
    renewed = await security.renew_not_me_challenge(
        turn.uow, turn.uow.keys, holder.id, turn.channel, turn.now
    )
    if renewed is None:
        return False
    challenge, refused = renewed
    for charge in refused:
        shop = await turn.uow.shops.by_id(charge.shop_id)
        turn.say(
            t(
                "The payment of {amount} at {shop} is refused. To report it to the office, "
                "reply NOT ME {challenge}",
                amount=Money(charge.amount_cents),
                shop=shop.name if shop is not None else "",
                challenge=challenge.code,
            )
        )
    return True


async def cancelled_while_paying(turn: Turn) -> Text | None:
    """What ANNULLA says after ending another request while a payment waits for a code
    sent to this chat: "Cancelled.", and that the payment still waits and ANNULLA again
    refuses it (refuse_payments). None when no payment waits."""
    waiting = await awaiting_payments(turn)
    if not waiting:
        return None
    if len(waiting) > 1:
        # ANNULLA again refuses them all (refuse_payments): all are said, not the last one.
        return tn(
            "Cancelled. {count} payment still waits for your code: write ANNULLA again to "
            "refuse it.",
            "Cancelled. {count} payments still wait for your code: write ANNULLA again to "
            "refuse them all.",
            len(waiting),
        )
    [(charge, shop)] = waiting
    return t(
        "Cancelled. The payment of {amount} at {shop} still waits for your code: write "
        "ANNULLA again to refuse it.",
        amount=Money(charge.amount_cents),
        shop=shop.name,
    )
