"""Charging a voucher at the till: who, how much, then the code the citizen reads out.

The citizen's one-time code goes to the citizen's own channel (the service
writes that message); telling it to the cashier is the consent. The cashier's
chat only ever sees where the code went, never the code.
"""

from __future__ import annotations

from core.dialogue import words
from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import (
    VERIFY,
    ConfirmedFlow,
    Gone,
    Step,
    Takes,
    known,
    shop_or_refusal,
    table,
    verify,
)
from core.dialogue.flows.charge_code import (
    confirmed_texts,
    judge_code,
    outcome_texts,
    reject_no_code,
    reject_wrong_code,
)
from core.dialogue.flows.charge_request import (
    AMOUNT_IN_FIGURES,
    CODE_ALONE,
    WHO_FIRST,
    _reference_error,
    looks_like_code,
    names_nobody,
    split_request,
)
from core.dialogue.flows.charge_session import (
    TILL_SESSION,
    TILL_WRONG_CODES,
    _till,
    till_session_open,
)
from core.dialogue.flows.charge_texts import (
    _ended_text,
    _left_waiting,
    _masked,
    _say_with,
    cancelled_text,
)
from core.dialogue.flows.member_phone import SHARE_BEFORE_CODES, keep_shared_phone, phone_missing
from core.dialogue.state import ChargeState, TillSession
from core.dialogue.words import after_paga_slip
from core.domain import otp
from core.domain.charges import ChargeStatus, ShopLock
from core.domain.errors import DomainError, InvalidAmount, InvalidIdentifier, Refusal
from core.domain.messages import Money, Option, Reply, Text, t
from core.domain.money import parse_euro
from core.domain.shops import ShopStatus
from core.services import charges as charge_service
from core.services import shop_members, tills, voucher_charges
from core.services import shops as shop_service
from core.storage import models as m

AFTER = (Option("charge", t("New charge")), Option("menu", t("Menu")))
AMOUNT_QUESTION = t("Amount to charge, in euro (e.g. 12,50)?")


# The service refuses these before anybody is looked up: the till stays at the amount.
_AMOUNT_REFUSALS = frozenset({Refusal.PAYMENT_BAD_AMOUNT, Refusal.PAYMENT_ABOVE_LIMIT})


class ChargeFlow(ConfirmedFlow[ChargeState]):
    """On SMS the sender's number can be forged, and every wrong payment code counts
    against the shop: a forger must not be able to lock a shop out. So a till on SMS
    first confirms its session with a code sent to its own number (valid TILL_SESSION);
    without it no charge starts and no code can be typed. The second wrong code typed in
    one session ends it, so a forger riding on the real till's session adds at most
    TILL_WRONG_CODES wrong codes before the shop's own phone must confirm again."""

    name = "charge"
    doing = t("You were charging a payment.")
    acts_for_shop = "member"
    state_type = ChargeState

    def confirms(self, turn: Turn) -> tuple[str, ...]:
        """The shop whose till this phone opens: a code sent for one shop opens no other.
        (A payment the till then asks needs the customer's own code.)"""
        return (str(self.state(turn).shop_id),)

    async def code_text(self, turn: Turn, code: str, minutes: int) -> Text:
        shop = await shop_service.shop_by_id(turn.uow, known(self.state(turn).shop_id))
        return t(
            "Code {code} confirms that this phone charges vouchers for {shop}. Do not share "
            "it with anyone. Valid {minutes} min.",
            code=code,
            shop=shop.name if shop is not None else "",
            minutes=minutes,
        )

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        current = await shop_or_refusal(
            turn, t("Only shops registered with the municipality can charge vouchers.")
        )
        if current is None:
            return
        member, shop = current
        if shop.status != ShopStatus.APPROVED:
            turn.finish()
            turn.say(error_text(DomainError(Refusal.SHOP_NOT_APPROVED)))
            return
        if phone_missing(turn, member):
            # No charge starts until this member shares their own contact.
            await self.goto(turn, "contact", ChargeState(shop_id=shop.id, then=arg))
            return
        # (SMS only: the terminal chat is the operator's own machine, not a forgeable sender.)
        if turn.is_sms and not till_session_open(turn, shop.id):
            await self.goto(turn, VERIFY, ChargeState(shop_id=shop.id, then=arg))
            return
        await self._start(turn, shop.id, arg)

    async def ask_contact(self, turn: Turn) -> None:
        turn.say(SHARE_BEFORE_CODES, request="contact")

    async def on_contact(self, turn: Turn, inp: Input) -> None:
        s = self.state(turn)
        if await keep_shared_phone(turn, inp):
            await self._start(turn, known(s.shop_id), s.then)

    async def confirmed(self, turn: Turn) -> None:
        s = self.state(turn)
        shop_id = known(s.shop_id)
        try:
            # The chat must still work for the shop, and the shop charge, when the code
            # comes back: else no till session opens.
            await shop_members.open_till(turn.uow, shop_id, (turn.channel, turn.address), turn.now)
        except DomainError as error:
            turn.finish()
            turn.say(error_text(error))
            return
        turn.memory.till = TillSession(shop_id, turn.now + TILL_SESSION)
        await self._start(turn, shop_id, s.then)

    async def _start(self, turn: Turn, shop_id: int, arg: str) -> None:
        """A new PAGA gives up what this till still holds waiting for a code, each customer
        told, and names it before the new payment's question: a till never holds a payment
        the cashier no longer sees (the code told later would still pay). Given up after
        the new request, so that the same customer asked again gets one message, the new
        code saying the previous one is void (charges.request_charge).

        A PAGA refused for its own words (an amount or a reference that does not read, an
        amount above the ceiling, nobody found) changes nothing while a payment waits: the
        till is left as it was, the refusal said with the payment still waiting, whose
        code still pays; the cashier writes PAGA again. Else a typo would void the code
        the customer holds, and the customer would need a new one."""
        till = _till(turn)
        before = await charge_service.waiting_at_till(
            turn.uow, shop_id=shop_id, till=till, now=turn.now
        )
        start = len(turn.replies)
        self.move(turn, "who", ChargeState(shop_id=shop_id))
        taken = True
        try:
            if not arg.strip():
                await self.ask(turn)
            else:
                # With a payment waiting, a refusal is not followed by the question again:
                # the request ends, and the till is back at the payment waiting.
                taken = await self._who_and_amount(turn, arg, again=not before)
        except Reject as wrong:
            taken = False
            turn.say(*wrong.texts, request=None if before else wrong.request)
        if not before:
            return
        if not taken or turn.flow != self.name:
            # Refused (its own words, nobody found, the person's codes of the hour, the
            # shop locked): nothing new started, so the payment waiting keeps its code,
            # and is said.
            if turn.flow == self.name:
                turn.finish()
            _say_with(turn, len(turn.replies) - 1, [_left_waiting(before[0])], first=False)
            return
        s = turn.state
        asked = s.charge_id if isinstance(s, ChargeState) else None
        await tills.cancel_waiting(
            turn.uow, shop_id=shop_id, till=till, now=turn.now, reason=tills.REPLACED, keep=asked
        )
        left = {
            w.charge_id
            for w in await charge_service.waiting_at_till(
                turn.uow, shop_id=shop_id, till=till, now=turn.now
            )
        }
        gone = [each for each in before if each.charge_id not in left]
        _say_with(turn, start, [cancelled_text(each) for each in gone], first=True)

    async def _who_and_amount(self, turn: Turn, text: str, *, again: bool = True) -> bool:
        """Who pays, and the amount when it follows on the same line (PAGA's words, or the
        answer to "Who pays?"); a wrong amount is said, and asked again for the same person
        (not `again`: said alone, for the caller to end the request). `again` is also whether
        nothing waits at this till: an amount alone is kept then, and refused while a
        payment waits; six digits in place of who pays are said to be the customer's code
        most likely, and where it goes. False when something written was refused (and
        said); a refusal of the service raises Reject."""
        reference, amount = split_request(text)
        if looks_like_code(text) or looks_like_code(reference):
            # The customer's code typed in place of who pays: what it most likely is, and
            # where it goes (alone, while a payment waits here; after who pays, else). The
            # digits are judged as nothing: the same words for the right code and any other.
            turn.say(WHO_FIRST if again else CODE_ALONE)
            return False
        if names_nobody(reference):
            if not again:
                # A payment waits at the till: the line is refused, so that it never gives
                # up the code the customer holds.
                turn.say(error_text(InvalidIdentifier("payer", text, "missing")))
                return False
            # The amount first, who pays not yet: kept, and who pays asked for it.
            self.state(turn).amount = await self._checked_amount(turn, text)
            await self.ask(turn)
            return True
        cents = None
        if amount is not None:
            try:
                cents = await self._checked_amount(turn, amount)
            except Reject as wrong:
                if _reference_error(reference) is not None:
                    turn.say(*wrong.texts)
                    self._remember(turn, reference)  # says what is wrong with it
                    return False
                self._remember(turn, reference)
                self.move(turn, "amount")
                if not again:
                    turn.say(*wrong.texts)
                    return False
                # The error and the question in one SMS when they fit: a busy cashier
                # reads one message, and the town pays one.
                turn.say_split(*wrong.texts, AMOUNT_QUESTION)
                return False
        if not self._remember(turn, reference):
            if cents is not None and again:
                # "PAGA EUCJ DRQR W 5": who pays refused, the amount kept; the card number
                # written again alone charges it (the code's message names the amount).
                self.state(turn).amount = cents
            return False
        if amount is None:
            written = self.state(turn).amount
            if written is not None:
                # The amount written first ("PAGA 4,30", then who pays).
                await self._charge(turn, written)
            else:
                await self.goto(turn, "amount")
            return True
        await self._request(turn, amount)
        return True

    # Who pays -------------------------------------------------------------------------------

    async def ask_who(self, turn: Turn) -> None:
        written = self.state(turn).amount
        if written is not None:
            turn.say(
                t(
                    "Who pays {amount}? Write the codice fiscale, the phone number or the "
                    "card code.",
                    amount=Money(written),
                )
            )
            return
        turn.say(t("Who pays? Write the codice fiscale, the phone number or the card code."))

    async def on_who(self, turn: Turn, inp: Input) -> None:
        if not inp.text or not inp.text.strip():
            raise Reject(t("Write the codice fiscale, the phone number or the card code."))
        if words.customer_to_charge(words.plain_words(inp.text)):
            # "Devo far pagare una signora" where who pays is asked: no one named yet,
            # the question again (not "this is not a card number").
            await self.ask_who(turn)
            return
        # "3331000005 10": the phone and the amount, as after PAGA (never one longer number);
        # "pag 3331000005 10", PAGA mistyped in front of them, the same.
        await self._who_and_amount(turn, after_paga_slip(inp.text) or inp.text)

    def _remember(self, turn: Turn, reference: str) -> bool:
        """Keep who pays; a malformed codice fiscale or phone is said at once. Nobody is
        looked up yet: that happens with the amount, and counts against the shop."""
        error = _reference_error(reference)
        if error is not None:
            turn.say(error_text(error))
            return False
        self.state(turn).who = reference.strip()
        return True

    # How much -------------------------------------------------------------------------------

    async def ask_amount(self, turn: Turn) -> None:
        turn.say(AMOUNT_QUESTION)

    async def on_amount(self, turn: Turn, inp: Input) -> None:
        await self._request(turn, inp.text)

    @staticmethod
    def amount_of(amount_text: str) -> int:
        try:
            # "3 euro e 50" is 3,50: euro and cents in words are not "12 50" with a space.
            # "Dieci euro", "venti e cinquanta": said as a cashier says it, when only one
            # reading is possible (the customer's SMS states the amount before any code).
            written = (
                words.euro_and_cents(amount_text) or words.spoken_amount(amount_text) or amount_text
            )
            cents = parse_euro(words.amount_text(written, spelled=False))
        except InvalidAmount as error:
            if words.says_amount_in_words(amount_text):
                # "Cento e venti": 120, or 100,20? Not guessed: one example in figures.
                raise Reject(AMOUNT_IN_FIGURES) from error
            raise Reject(error_text(error)) from error
        if cents <= 0:
            raise Reject(error_text(DomainError(Refusal.PAYMENT_BAD_AMOUNT)))
        return cents

    async def _checked_amount(self, turn: Turn, amount_text: str) -> int:
        """The amount in cents; a code typed where the amount goes is asked about, never
        charged."""
        if looks_like_code(amount_text):
            # Nothing of this till waits for a code here: PAGA gave it up (_start).
            raise Reject(
                t(
                    "Did you write a code? Six digits are not taken as an amount: write the "
                    "amount in euro, e.g. 12,50."
                )
            )
        return self.amount_of(amount_text)

    async def _request(self, turn: Turn, amount_text: str) -> None:
        try:
            cents = await self._checked_amount(turn, amount_text)
        except Reject:
            if turn.step != "amount":
                self.move(turn, "amount")
            raise
        await self._charge(turn, cents)

    async def _charge(self, turn: Turn, cents: int) -> None:
        """Ask the customer's code for `cents`, of who pays as kept."""
        s = self.state(turn)
        who = known(s.who)
        voucher = voucher_charges.is_voucher_reference(who)
        request = (
            voucher_charges.request_voucher_charge(
                turn.uow,
                shop_id=known(s.shop_id),
                voucher_reference=who,
                amount_cents=cents,
                requested_by=_till(turn),
                now=turn.now,
            )
            if voucher
            else charge_service.request_charge(
                turn.uow,
                shop_id=known(s.shop_id),
                citizen_reference=who,
                amount_cents=cents,
                requested_by=_till(turn),
                now=turn.now,
            )
        )
        try:
            requested = await request
        except DomainError as error:
            if error.code in _AMOUNT_REFUSALS:
                # Refused before anybody was looked up: the same person, another amount.
                if turn.step != "amount":
                    self.move(turn, "amount")
                raise Reject(error_text(error)) from error
            if error.code == Refusal.CITIZEN_NOT_FOUND:
                # "Write it again", as the refusal says: the till stays at who pays, and
                # the reference written next (with its amount or not) is read there.
                if turn.step != "who":
                    self.move(turn, "who")
                raise Reject(error_text(error)) from error
            turn.finish()
            turn.say(error_text(error), options=AFTER)
            return
        s.charge_id, s.amount = requested.charge_id, cents
        s.where, s.pin = _masked(requested.channel, requested.sent_to), requested.channel == "card"
        s.position = requested.card_position
        s.voucher = voucher
        await self.goto(turn, "code")

    # The code the citizen reads out -----------------------------------------------------------

    async def ask_code(self, turn: Turn) -> None:
        s = self.state(turn)
        if s.pin and s.position is not None:
            # The server drew the cell: the cashier only passes the question on.
            turn.say(
                t(
                    "Card {card}, {amount}: ask the holder for code no. {position} of the "
                    "card. Write it here. ANNULLA to stop.",
                    card=known(s.where),
                    amount=Money(known(s.amount)),
                    position=s.position,
                )
            )
            return
        if s.pin:
            turn.say(
                t(
                    "Card {card}, {amount}: the holder types the card's PIN or tells it to "
                    "you. Write it here. ANNULLA to stop.",
                    card=known(s.where),
                    amount=Money(known(s.amount)),
                )
            )
            return
        turn.say(
            t(
                "Code sent to the customer ({where}) for {amount}. Ask them for it and "
                "write it here. "
                "ANNULLA to stop.",
                where=known(s.where),
                amount=Money(known(s.amount)),
            )
        )

    async def on_code(self, turn: Turn, inp: Input) -> None:
        typed = otp.normalize_typed_code(inp.text)
        s = self.state(turn)
        reject_no_code(s, inp.text, typed)
        result = await judge_code(turn, s, typed, till_tries=self._till_tries(turn))
        outcome = charge_service.ConfirmOutcome
        if result.outcome in (
            outcome.WRONG_CODE,
            outcome.CANCELLED_TOO_MANY_ATTEMPTS,
        ) and self._till_ended(turn):
            if result.shop_lock is ShopLock.NONE:
                await self._session_ended(turn, s, result)
                return
            # That wrong code also locked the shop: the till hears of the lock (below), what
            # matters more; the session ended all the same, and nothing else stays waiting.
            await self._close_till(turn, s)
        if result.outcome is outcome.CODES_STOPPED and self._till_ended(turn):
            # The wrong code that stopped the customer's codes ends the SMS session as any
            # last wrong code would; the till hears of the stop (below).
            await self._close_till(turn, s)
        another_till_waits = (
            result.outcome is outcome.WRONG_CODE
            and not s.pin
            and not s.voucher
            and await charge_service.waits_at_another_till(
                turn.uow, shop_id=known(s.shop_id), till=_till(turn), now=turn.now
            )
        )
        reject_wrong_code(s, result, another_till_waits=another_till_waits)
        turn.finish()
        if result.outcome in (outcome.CONFIRMED, outcome.ALREADY_CONFIRMED):
            # One SMS, or two when the warning about the card's codes does not fit in one.
            turn.say_split(*confirmed_texts(result), options=AFTER)
        else:
            turn.say(*outcome_texts(turn, s, result), options=AFTER)

    @staticmethod
    def _till_tries(turn: Turn) -> int | None:
        """The wrong codes this till may still type, the next one included: an SMS till's
        session allows TILL_WRONG_CODES; None elsewhere (only the payment's own tries). The
        service judges the code with it, so that the session's last wrong code is the
        payment's last too: cancelled, and its customer warned of the wrong codes, as at any
        till (charges.decide_confirmation)."""
        session = turn.memory.till
        if not turn.is_sms or session is None:
            return None
        return max(TILL_WRONG_CODES - session.wrong_codes, 1)

    @staticmethod
    async def _close_till(turn: Turn, s: ChargeState) -> list[charge_service.WaitingCharge]:
        """The SMS till's session ended on a wrong code: whatever it held waiting is
        cancelled, each customer told the code is void; the payments cancelled."""
        return await tills.cancel_waiting(
            turn.uow,
            shop_id=known(s.shop_id),
            till=_till(turn),
            now=turn.now,
            reason=tills.TILL_CLOSED,
        )

    async def _session_ended(
        self, turn: Turn, s: ChargeState, result: charge_service.ConfirmResult
    ) -> None:
        """The SMS till session's last wrong code: no code can be typed here until the shop's
        own phone confirms the till again. The payment it was typed for was cancelled by it,
        its customer warned of the wrong codes (the cashier may be guessing: never told that
        the shop gave it up); anything else this till held waiting is cancelled too, each
        customer told the code is void, rather than left pending: the wrong codes may be a
        forger's or a guesser's, the code of a payment being guessed should not outlive the
        session that guessed, and the till is told exactly what is left (nothing). The
        honest cashier asks again after PAGA (docs/payments-and-codes.md)."""
        outcome = charge_service.ConfirmOutcome
        cancelled = (
            [result.amount_cents] if result.outcome is outcome.CANCELLED_TOO_MANY_ATTEMPTS else []
        )
        others = await self._close_till(turn, s)
        cancelled += [each.amount_cents for each in others]
        turn.finish()
        if not cancelled:
            turn.say(
                t("After two wrong codes the till must be confirmed again: write PAGA."),
                options=AFTER,
            )
            return
        turn.say(
            t(
                "Two wrong codes: the payment of {amount} was cancelled and the customer "
                "told. Confirm the till again with PAGA, then ask again.",
                amount=Money(cancelled[0]),
            )
            if len(cancelled) == 1
            else t(
                "Two wrong codes: {count} payments were cancelled and the customers told. "
                "Confirm the till again with PAGA, then ask again.",
                count=len(cancelled),
            ),
            options=AFTER,
        )

    @staticmethod
    def _till_ended(turn: Turn) -> bool:
        """Count a wrong code against the SMS till session; True when that ended it."""
        session = turn.memory.till
        if not turn.is_sms or session is None:
            return False
        session.wrong_codes += 1
        if session.wrong_codes < TILL_WRONG_CODES:
            return False
        turn.memory.till = None
        return True

    @staticmethod
    async def _awaited(turn: Turn) -> tuple[ChargeState, m.Charge | m.VoucherCharge | None] | None:
        """The payment the code step waits for, as it stands now (None for the row: gone);
        None when the flow stands at no code step."""
        s = turn.state
        if turn.step != "code" or not isinstance(s, ChargeState) or s.charge_id is None:
            return None
        if s.voucher:
            found = await turn.uow.community.charge_with_parties(s.charge_id)
            return s, found[0] if found is not None else None
        return s, await turn.uow.charges.by_id(s.charge_id)

    @staticmethod
    def _waits(charge: m.Charge | m.VoucherCharge | None, turn: Turn) -> bool:
        return (
            charge is not None
            and charge.status == ChargeStatus.PENDING
            and charge.expires_at > turn.now
        )

    async def gone(self, turn: Turn, inp: Input) -> Gone | None:
        """The payment the code step waits for ended meanwhile, wherever it ended: its
        customer refused it (ANNULLA from their chat), the office cancelled it (a revocation,
        the code's phone no longer theirs), another till replaced it, its code expired. The
        till no longer asks for its code: a code typed now is answered with what became of
        the payment (nothing counted: nothing can be paid), any other message as if nothing
        were open (a codice fiscale's digits are no code of the wrong length)."""
        awaited = await self._awaited(turn)
        if awaited is None or self._waits(awaited[1], turn):
            return None
        s, charge = awaited
        if not otp.read_typed_code(inp.text).only_digits:
            return Gone(None)
        return Gone(Reply(texts=(_ended_text(s, charge, turn),), options=AFTER))

    async def left_open(self, turn: Turn) -> Text | None:
        awaited = await self._awaited(turn)
        if awaited is None or not self._waits(awaited[1], turn):
            # Its code expired (or the payment ended) meanwhile: nothing waits any more.
            return None
        s = awaited[0]
        # MENU (or another request) at the code step: the payment stays open, and its code
        # typed afterwards still confirms it (code_at_till).
        return t(
            "A payment of {amount} waits for the customer's code: write it here, or ANNULLA.",
            amount=Money(known(s.amount)),
        )

    async def resume_waiting(
        self, turn: Turn, shop_id: int, waiting: charge_service.WaitingCharge, inp: Input
    ) -> None:
        """Back at the code step of a payment this till left waiting, where the code is
        judged as if typed there (a wrong one counts)."""
        state = ChargeState(
            shop_id=shop_id,
            charge_id=waiting.charge_id,
            amount=waiting.amount_cents,
            where=_masked(waiting.channel, waiting.sent_to),
            pin=waiting.channel == "card",
            position=waiting.card_position,
            voucher=waiting.voucher,
        )
        self.move(turn, "code", state)
        await self.on_code(turn, inp)

    # ANNULLA: the payment at the code step, and any other this till holds waiting, is
    # cancelled and named by cancel_at_till (commands.run), after the flow ends.

    # Who pays, how much, then the code the citizen reads out; a till on SMS first
    # confirms its number (verify), then goes on with what PAGA already said. A code typed
    # with nothing open comes back in at the code step of the payment it left waiting.
    entry = ("who", VERIFY, "code", "contact")
    steps = table(
        {
            VERIFY: verify("who"),
            # On Telegram, a member who has not shared their phone yet: then "who".
            "contact": Step(ask_contact, on_contact, to=("who",), takes=Takes.CONTACT),
            "who": Step(ask_who, on_who, to=("amount", "code")),
            "amount": Step(ask_amount, on_amount, to=("who", "code")),
            "code": Step(ask_code, on_code),
        }
    )
