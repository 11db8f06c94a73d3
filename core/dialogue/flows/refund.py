"""Giving back a payment of today (shop -> citizen). From SMS it waits for a code to that number."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.dialogue.context import NOT_UNDERSTOOD, Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import (
    CODE_FOR_OTHER_CONTENT,
    VERIFY,
    VERIFY_ATTEMPTS,
    ConfirmedFlow,
    Step,
    Takes,
    known,
    shop_or_refusal,
    table,
    verify,
)
from core.dialogue.flows.member_phone import SHARE_BEFORE_CODES, keep_shared_phone, phone_missing
from core.dialogue.menus import show_menu
from core.dialogue.state import CustomerCode, RefundState
from core.domain import otp
from core.domain.errors import DomainError, NotAllowed, Refusal
from core.domain.messages import Moment, Money, Option, Text, t, tn
from core.domain.shops import MemberRole, ShopStatus
from core.services import charges as charge_service
from core.services import refund_codes, security
from core.storage import models as m

SHOWN = 5


def start_of_day(now: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def refund_code_text(code: str, minutes: int, *, amount_cents: int, receipt: int) -> Text:
    """The code to the shop's own number names the refund it confirms: its amount and the
    receipt's number (the shop is in the code's digest; its name does not fit one SMS)."""
    return t(
        "Code {code} confirms the refund of {amount} (receipt no. {receipt}): reply to this "
        "message with the code. Do not give it to anyone else. Valid {minutes} min.",
        code=code,
        amount=Money(amount_cents),
        receipt=str(receipt),
        minutes=minutes,
    )


def receipt_of(charge: m.Charge) -> int:
    """The number on a payment's receipt, as the shop was told it (counted per shop; the
    charge id for a receipt made before that, which is also its number)."""
    return charge.receipt_number if charge.receipt_number is not None else charge.id


# A customer code of an earlier request (void, or replaced by the one this one waits for).
EARLIER_CUSTOMER_CODE = t(
    "That code is from an earlier refund request and no longer works: ask the customer for "
    "the code in their last message."
)


# The customer's code went to a phone or chat the office has since taken from them.
REFUND_STOPPED_BY_OFFICE = t(
    "The office cancelled this refund request: the customer's code no longer works. Nothing "
    "was refunded; ask again with STORNO."
)


class RefundFlow(ConfirmedFlow[RefundState]):
    name = "refund"
    acts_for_shop = "member"
    state_type = RefundState

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """The shop, the payment and its amount: a code sent for one refund gives back no
        other payment, of this shop or another."""
        s = self.state(turn)
        return (str(s.shop_id), str(s.charge_id), str(s.amount), str(s.receipt))

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        s = self.state(turn)
        return refund_code_text(
            code, minutes, amount_cents=known(s.amount), receipt=s.receipt or known(s.charge_id)
        )

    def _customer_content(self, turn: Turn) -> str:
        """What the customer's code consents to (the same refund): kept with that code."""
        return security.content_digest(turn.uow.keys, "refund_customer", self.confirms(turn))

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        current = await shop_or_refusal(
            turn, t("Only shops registered with the municipality can refund payments.")
        )
        if current is None:
            return
        if current[1].status != ShopStatus.APPROVED:
            turn.finish()
            await show_menu(turn)
            return
        if phone_missing(turn, current[0]):
            # The customer's code of a cashier's refund: not before this member shares
            # their own contact (flows/member_phone), as a charge.
            await self.goto(turn, "contact", RefundState(shop_id=current[1].id, then=arg))
            return
        self.move(
            turn,
            "pick",
            RefundState(shop_id=current[1].id, cashier=current[0].role == MemberRole.CASHIER.value),
        )
        receipt = arg.strip().lstrip("#").removeprefix("n.").strip()
        if receipt.isdigit():
            await self._pick(turn, receipt)
            return
        # No receipt number ("STORNO ultimo", "storna l'ultimo pagamento"): today's
        # payments to pick from, or that there is none; it asked for a number from a list
        # never shown, and stayed open even with no payment to refund.
        await self.ask(turn)

    async def ask_contact(self, turn: Turn) -> None:
        turn.say(SHARE_BEFORE_CODES, request="contact")

    async def on_contact(self, turn: Turn, inp: Input) -> None:
        then = self.state(turn).then
        if await keep_shared_phone(turn, inp):
            await self.begin(turn, then)

    async def _member(self, turn: Turn) -> m.ShopMember:
        """This chat's place in the refund's shop: what it may list and pick is the
        service's rule (a cashier's own till only)."""
        member = await turn.member_of(known(self.state(turn).shop_id))
        if member is None:
            raise NotAllowed(Refusal.SHOP_NOT_MEMBER)
        return member

    async def ask_pick(self, turn: Turn) -> None:
        zone = ZoneInfo(turn.town.timezone)
        found = await charge_service.refundable_charges(
            turn.uow,
            await self._member(turn),
            start_of_day(turn.now, turn.town.timezone),
            start_of_day(turn.now, turn.town.timezone) + timedelta(days=1),
            SHOWN,
        )
        if not found.charges:
            turn.finish()
            if found.settled:
                turn.say(
                    t(
                        "The payments of today have already been reimbursed by the "
                        "municipality: to undo one, contact the office."
                    )
                )
            else:
                turn.say(t("There is no payment of today to refund."))
            return
        question = t("Which payment of today do you want to refund?")
        texts: list[Text] = [question]
        if found.settled:
            # Said before the cashier picks, not after the customer's code.
            texts.insert(
                0,
                tn(
                    "Not listed: {count} payment already reimbursed by the municipality; for "
                    "it, contact the office.",
                    "Not listed: {count} payments already reimbursed by the municipality; for "
                    "them, contact the office.",
                    found.settled,
                ),
            )
        options = [
            Option(
                f"r{receipt_of(charge)}",
                t(
                    "No. {receipt}: {amount}, {time}",
                    receipt=str(receipt_of(charge)),
                    amount=Money(charge.amount_cents),
                    time=(charge.confirmed_at or charge.created_at)
                    .astimezone(zone)
                    .strftime("%H:%M"),
                ),
            )
            for charge in found.charges
        ]
        # The newest first; on SMS as many as fit (older ones by receipt number: STORNO 123).
        turn.say(*texts, options=turn.fitting_options(texts, options))

    async def on_pick(self, turn: Turn, inp: Input) -> None:
        if inp.choice and inp.choice.startswith("r"):
            await self._pick(turn, inp.choice[1:])
            return
        await self._pick(turn, inp.word.lstrip("#").removeprefix("n.").strip())

    async def _pick(self, turn: Turn, receipt: str) -> None:
        # Digits of any script are the same digits (`STORNO ²`, `١٢`): int() read some
        # (Arabic-Indic) and failed on others (superscripts) the turn did not survive.
        receipt = otp.ascii_digits(receipt)
        if not receipt.isdigit():
            raise Reject(t("Reply with the number of the payment to refund, or ANNULLA."))
        s = self.state(turn)
        try:
            charge = await charge_service.confirmed_charge(
                turn.uow, receipt_number=int(receipt), member=await self._member(turn)
            )
        except DomainError as error:
            raise Reject(error_text(error)) from error
        if charge is None:
            raise Reject(t("No payment of today with receipt no. {receipt}.", receipt=receipt))
        s.charge_id, s.amount, s.receipt = charge.id, charge.amount_cents, receipt_of(charge)
        await self.goto(turn, "sure")

    async def ask_sure(self, turn: Turn) -> None:
        s = self.state(turn)
        turn.say(
            t(
                "Refund {amount} (receipt no. {receipt}) to the customer?",
                amount=Money(known(s.amount)),
                receipt=str(s.receipt or known(s.charge_id)),
            ),
            options=(Option("yes", t("Yes, refund")), Option("no", t("No"))),
        )

    async def on_sure(self, turn: Turn, inp: Input) -> None:
        if inp.choice == "no":
            turn.finish()
            turn.say(t("Nothing was refunded."))
            return
        if inp.choice != "yes":
            raise Reject(NOT_UNDERSTOOD, t("Reply 1 to refund or 2 to leave it."))
        await self.confirm_then_do(turn)

    async def confirmed(self, turn: Turn) -> None:
        s = self.state(turn)
        if s.cashier:
            # A cashier's refund needs the customer's consent: a code sent to them.
            try:
                sent = await refund_codes.send_refund_code(
                    turn.uow,
                    charge_id=known(s.charge_id),
                    shop_id=known(s.shop_id),
                    now=turn.now,
                    by=(turn.channel, turn.address),
                    content=self._customer_content(turn),
                )
            except DomainError as error:
                # Nothing was sent to the customer (too many codes, or this chat may no
                # longer refund for the shop): the refund ends, nothing changed.
                turn.finish()
                turn.say(error_text(error))
                return
            s.customer = CustomerCode(
                sent.salt, sent.hash, tries=sent.wrong_tries, content=self._customer_content(turn)
            )
            s.where = sent.where
            if sent.held:
                # At the customer's limit nothing new is sent: the code they hold for this
                # very refund still confirms it.
                self.move(turn, "customer")
                turn.say(
                    t(
                        "No new code can be sent now: the customer's code of {when} ({where}) "
                        "still works for this refund. Write it here, or ANNULLA.",
                        where=sent.where,
                        when=Moment(sent.sent_at),
                    )
                )
                return
            await self.goto(turn, "customer")
            return
        await self._refund(turn, citizen_confirmed=False)

    async def ask_customer(self, turn: Turn) -> None:
        turn.say(
            t(
                "Code sent to the customer ({where}). Ask them for it and write it here to "
                "refund, or ANNULLA.",
                where=known(self.state(turn).where),
            )
        )

    async def _void_customer_code(self, turn: Turn) -> None:
        """The request ends without the refund: the customer, who holds its code, is told
        it no longer works (the service tells them once, in this transaction)."""
        if turn.step != "customer" or not isinstance(turn.state, RefundState):
            return
        s = self.state(turn)
        if s.customer is None or s.shop_id is None:
            return
        await refund_codes.void_refund_codes(
            turn.uow,
            refund_codes.REFUND_CANCELLED,
            turn.now,
            shop_id=s.shop_id,
            code_hash=s.customer.hash,
        )

    async def on_cancel(self, turn: Turn) -> None:
        await self._void_customer_code(turn)

    async def on_leave(self, turn: Turn) -> None:
        # Nothing brings a refund left for another request back: it is over.
        await self._void_customer_code(turn)

    async def on_customer(self, turn: Turn, inp: Input) -> None:
        typed = otp.normalize_typed_code(inp.text)
        if not typed:
            raise Reject(t("Write the code the customer reads to you (6 digits), or ANNULLA."))
        s = self.state(turn)
        pending = known(s.customer)
        if await refund_codes.refund_code_void(
            turn.uow,
            shop_id=known(s.shop_id),
            charge_id=known(s.charge_id),
            code_hash=pending.hash,
            now=turn.now,
        ):
            # The office voided the request while the till waited (the code went to a phone
            # or chat no longer the customer's): whatever is typed, nothing is refunded.
            turn.finish()
            turn.say(REFUND_STOPPED_BY_OFFICE)
            return
        right = otp.code_matches(turn.uow.keys, typed, pending.salt, pending.hash)
        if not right and await refund_codes.earlier_refund_code(
            turn.uow,
            charge_id=known(s.charge_id),
            typed=typed,
            pending_hash=pending.hash,
            now=turn.now,
        ):
            # The customer read out an older code: theirs, not a guess, so no try is lost.
            raise Reject(EARLIER_CUSTOMER_CODE)
        await refund_codes.refund_code_typed(
            turn.uow,
            charge_id=known(s.charge_id),
            code_hash=pending.hash,
            right=right,
            now=turn.now,
        )
        if right:
            if pending.content != self._customer_content(turn):
                # The customer consented to another refund (or the code was kept before
                # codes knew their content): it gives back nothing else.
                await self._void_customer_code(turn)
                turn.finish()
                turn.say(CODE_FOR_OTHER_CONTENT)
                return
            await self._refund(turn, citizen_confirmed=True)
            return
        tries = pending.tries + 1
        if tries >= VERIFY_ATTEMPTS:
            await self._void_customer_code(turn)
            turn.finish()
            turn.say(t("Too many wrong codes: the request was cancelled. Nothing was changed."))
            return
        pending.tries = tries
        left = VERIFY_ATTEMPTS - tries
        raise Reject(
            tn("Wrong code: {count} attempt left.", "Wrong code: {count} attempts left.", left)
        )

    async def _refund(self, turn: Turn, *, citizen_confirmed: bool) -> None:
        s = self.state(turn)
        charge_id, shop_id = known(s.charge_id), known(s.shop_id)
        amount, receipt = known(s.amount), s.receipt or charge_id
        customer = s.customer if citizen_confirmed else None
        turn.finish()
        try:
            await charge_service.refund_charge(
                turn.uow,
                charge_id=charge_id,
                shop_id=shop_id,
                by=(turn.channel, turn.address),
                now=turn.now,
                citizen_confirmed=citizen_confirmed,
            )
        except DomainError as error:
            if customer is not None:
                # The customer gave their code, yet nothing is refunded: they are told.
                await refund_codes.void_refund_codes(
                    turn.uow,
                    refund_codes.REFUND_CANCELLED,
                    turn.now,
                    shop_id=shop_id,
                    code_hash=customer.hash,
                )
            turn.say(error_text(error))
            return
        turn.say(
            t(
                "Refunded {amount} (receipt no. {receipt}). The customer has been told.",
                amount=Money(amount),
                receipt=str(receipt),
            )
        )

    # Pick today's payment, make sure, then (from SMS) the code to the shop's own number;
    # a cashier's refund also waits for the code the customer reads out.
    entry = ("pick", "contact")
    steps = table(
        {
            # On Telegram, a member who has not shared their phone yet: then STORNO again.
            "contact": Step(ask_contact, on_contact, takes=Takes.CONTACT),
            "pick": Step(ask_pick, on_pick, to=("sure",)),
            "sure": Step(ask_sure, on_sure, to=(VERIFY, "customer")),
            VERIFY: verify("customer"),
            "customer": Step(ask_customer, on_customer),
        }
    )
