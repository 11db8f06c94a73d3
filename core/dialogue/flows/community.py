"""Community vouchers and donations in the chat: COMPRA/BUY, DONA/DONATE, REGALA/GIVE and
BUONI/VOUCHERS (a holder's vouchers; a shop's switch, limits and refunds).

Paying needs Telegram (the invoice is paid in the app), TELEGRAM_PAYMENT_PROVIDER_TOKEN
and the town's consent (`admin municipality community CODE --on`); elsewhere these words
say where to do it. The purchase becomes real only when the provider reports the
payment (payment_received). docs/community-vouchers.md explains the rules.
"""

from __future__ import annotations

from core.dialogue import words
from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import Flow, Step, known, table
from core.dialogue.inbound import Channel, Checkout, PaymentDone
from core.dialogue.state import BuyState, GiveState, NoState, VouchersState
from core.domain import community as rules
from core.domain.community import Purchase, Purpose
from core.domain.errors import DomainError, InvalidAmount, Refusal
from core.domain.identity import mask_phone
from core.domain.messages import Invoice, Money, Option, Text, t
from core.domain.money import parse_euro
from core.domain.shops import MemberRole, ShopStatus
from core.i18n import supported
from core.services import community, conversations, municipalities
from core.services import shops as shop_service
from core.storage import models as m
from core.storage.uow import UnitOfWork

ONLY_TELEGRAM = t(
    "Shop vouchers and donations are paid in our Telegram chat: look for the grocery "
    "vouchers of {town} on Telegram."
)
NOT_ENABLED = t("{town} has not enabled shop vouchers and donations.")


def turned_away(turn: Turn) -> bool:
    """Whether this chat cannot pay here: then the turn ends, saying why."""
    if turn.channel != Channel.TELEGRAM.value:
        why = t(ONLY_TELEGRAM.msgid, town=turn.town.name)
    elif not turn.payments or not turn.town.community_enabled:
        why = t(NOT_ENABLED.msgid, town=turn.town.name)
    else:
        return False
    turn.finish()
    turn.say(why)
    return True


def _amount(text: str) -> int:
    try:
        return parse_euro(words.amount_text(text, spelled=False))
    except InvalidAmount as error:
        raise Reject(error_text(error)) from error


async def _checked(
    turn: Turn, purchase: Purchase, low_cents: int, high_cents: int
) -> Refusal | None:
    """Why the town takes no such purchase now (community.check_purchase), or None; an
    amount outside its range (`low_cents` to `high_cents`) is asked again, with the range."""
    refusal = await community.check_purchase(turn.uow, purchase)
    if refusal is Refusal.PURCHASE_AMOUNT_OUT_OF_RANGE:
        raise Reject(
            t(
                "Choose an amount from {low} to {high}.",
                low=Money(low_cents),
                high=Money(high_cents),
            )
        )
    return refusal


class BuyFlow(Flow[BuyState]):
    name = "buy"
    state_type = BuyState

    async def start(self, turn: Turn, arg: str) -> None:
        if turned_away(turn):
            return
        await self.ask(turn)

    async def ask_shop(self, turn: Turn) -> None:
        shops = await community.accepting_shops(turn.uow, turn.town.id)
        if not shops:
            turn.finish()
            turn.say(t("No shop of {town} sells vouchers now.", town=turn.town.name))
            return
        turn.say(
            t("Which shop's voucher do you want to buy?"),
            options=[Option(f"s{shop.id}", t("{shop}", shop=shop.name)) for shop in shops],
        )

    async def on_shop(self, turn: Turn, inp: Input) -> None:
        choice = inp.choice or ""
        if not (choice.startswith("s") and choice[1:].isdigit()):
            raise Reject(t("Choose a shop from the list, or ANNULLA."))
        self.state(turn).shop_id = int(choice[1:])
        await self.goto(turn, "amount")

    async def _shop(self, turn: Turn) -> m.Shop | None:
        shop = await shop_service.shop_by_id(turn.uow, known(self.state(turn).shop_id))
        return shop if community.accepts_vouchers(shop, turn.town.id) else None

    async def ask_amount(self, turn: Turn) -> None:
        shop = await self._shop(turn)
        if shop is None:
            turn.finish()
            turn.say(t("This shop no longer sells vouchers. Nothing was charged."))
            return
        turn.say(
            t(
                "How much do you want to spend at {shop}? From {low} to {high}.",
                shop=shop.name,
                low=Money(shop.voucher_min_cents),
                high=Money(shop.voucher_max_cents),
            )
        )

    async def on_amount(self, turn: Turn, inp: Input) -> None:
        shop = await self._shop(turn)
        if shop is None:
            await self.ask_amount(turn)
            return
        cents = _amount(inp.text)
        purchase = Purchase(Purpose.VOUCHER, turn.town.id, cents, shop_id=shop.id)
        refusal = await _checked(turn, purchase, shop.voucher_min_cents, shop.voucher_max_cents)
        turn.finish()
        if refusal is not None:
            turn.say(t("This shop no longer sells vouchers. Nothing was charged."))
            return
        turn.say(
            invoice=Invoice(
                title=t("Voucher {shop}", shop=shop.name),
                description=t(
                    "Voucher of {amount} to spend at {shop}, {town}. Its number arrives here "
                    "once paid.",
                    amount=Money(cents),
                    shop=shop.name,
                    town=turn.town.name,
                ),
                label=t("Voucher"),
                payload=purchase.payload(),
                amount_cents=cents,
            )
        )

    # Which shop, then how much: the answer to the amount is the invoice.
    entry = ("shop",)
    steps = table(
        {
            "shop": Step(ask_shop, on_shop, to=("amount",)),
            "amount": Step(ask_amount, on_amount),
        }
    )


class DonateFlow(Flow[NoState]):
    name = "donate"
    state_type = NoState

    async def start(self, turn: Turn, arg: str) -> None:
        if turned_away(turn):
            return
        if arg.strip():
            await self.on_amount(turn, Input(text=arg.strip()))
            return
        await self.ask(turn)

    async def ask_amount(self, turn: Turn) -> None:
        turn.say(
            t(
                "How much do you want to give to the grocery vouchers fund of {town}? "
                "From {low} to {high}.",
                town=turn.town.name,
                low=Money(rules.DONATION_MIN_CENTS),
                high=Money(rules.DONATION_MAX_CENTS),
            )
        )

    async def on_amount(self, turn: Turn, inp: Input) -> None:
        cents = _amount(inp.text)
        purchase = Purchase(Purpose.DONATION, turn.town.id, cents)
        refusal = await _checked(turn, purchase, rules.DONATION_MIN_CENTS, rules.DONATION_MAX_CENTS)
        turn.finish()
        if refusal is not None:
            turn.say(t(NOT_ENABLED.msgid, town=turn.town.name))
            return
        turn.say(
            invoice=Invoice(
                title=t("Donation to {town}", town=turn.town.name),
                description=t(
                    "A gift of {amount} to the grocery vouchers fund of {town}. The receipt "
                    "arrives here.",
                    amount=Money(cents),
                    town=turn.town.name,
                ),
                label=t("Donation"),
                payload=purchase.payload(),
                amount_cents=cents,
            )
        )

    # How much (or DONA 20 at once): the answer is the invoice.
    entry = ("amount",)
    steps = table({"amount": Step(ask_amount, on_amount)})


class GiveFlow(Flow[GiveState]):
    """A voucher handed over to someone's phone: codes and receipts go there from now on."""

    name = "give"
    state_type = GiveState

    async def start(self, turn: Turn, arg: str) -> None:
        if turn.channel != Channel.TELEGRAM.value:
            turn.finish()
            turn.say(t(ONLY_TELEGRAM.msgid, town=turn.town.name))
            return
        await self.ask(turn)

    async def ask_pick(self, turn: Turn) -> None:
        held = [
            h
            for h in await community.vouchers_held(
                turn.uow, turn.town.id, turn.channel, turn.address
            )
            if h.balance_cents > 0
        ]
        if not held:
            turn.finish()
            turn.say(t("You have no vouchers to give. Write COMPRA to buy one."))
            return
        turn.say(
            t("Which voucher do you want to give?"),
            options=[
                Option(
                    f"g{h.voucher.code}",
                    t(
                        "{voucher}: {amount} at {shop}",
                        voucher=h.voucher.code,
                        amount=Money(h.balance_cents),
                        shop=h.shop.name,
                    ),
                )
                for h in held
            ],
        )

    async def on_pick(self, turn: Turn, inp: Input) -> None:
        choice = inp.choice or ""
        if not choice.startswith("g"):
            raise Reject(t("Choose a voucher from the list, or ANNULLA."))
        self.state(turn).code = choice[1:]
        await self.goto(turn, "phone")

    async def ask_phone(self, turn: Turn) -> None:
        turn.say(t("The phone number of the person you give it to?"))

    async def on_phone(self, turn: Turn, inp: Input) -> None:
        try:
            given = await community.give_voucher(
                turn.uow,
                municipality_id=turn.town.id,
                code=known(self.state(turn).code),
                channel=turn.channel,
                address=turn.address,
                phone=inp.text,
                now=turn.now,
            )
        except DomainError as error:
            if error.code.startswith("phone."):
                raise Reject(error_text(error)) from error
            turn.finish()
            turn.say(error_text(error))
            return
        turn.finish()
        turn.say(
            t(
                "Done: voucher {voucher} now belongs to {phone}. We sent them an SMS.",
                voucher=given.voucher.code,
                phone=mask_phone(given.voucher.holder_address),
            )
        )

    # Which voucher, then whose phone it goes to.
    entry = ("pick",)
    steps = table(
        {
            "pick": Step(ask_pick, on_pick, to=("phone",)),
            "phone": Step(ask_phone, on_phone),
        }
    )


class VouchersFlow(Flow[VouchersState]):
    """BUONI/VOUCHERS: the vouchers this chat holds; for a shop's owner, its switch, its
    limits and the refund of a voucher nobody spent."""

    name = "vouchers"
    state_type = VouchersState

    async def start(self, turn: Turn, arg: str) -> None:
        current = await turn.shop()
        if current is None or current[1].status != ShopStatus.APPROVED:
            turn.finish()
            await show_held(turn)
            return
        member, shop = current
        if turn.channel != Channel.TELEGRAM.value:
            turn.finish()
            turn.say(t(ONLY_TELEGRAM.msgid, town=turn.town.name))
            return
        if member.role != MemberRole.OWNER.value:
            turn.finish()
            turn.say(t("Only the owner of {shop} manages its vouchers.", shop=shop.name))
            return
        self.state(turn).shop_id = shop.id
        await self.ask(turn)

    async def _shop(self, turn: Turn) -> m.Shop:
        shop = await shop_service.shop_by_id(turn.uow, known(self.state(turn).shop_id))
        assert shop is not None
        return shop

    # Option keys are not command names: a tapped "refund" would start the till's refund.
    async def ask_menu(self, turn: Turn) -> None:
        shop = await self._shop(turn)
        low, high = Money(shop.voucher_min_cents), Money(shop.voucher_max_cents)
        if shop.vouchers_enabled:
            state = t(
                "{shop} sells vouchers from {low} to {high}.", shop=shop.name, low=low, high=high
            )
            switch = Option("v_off", t("Stop selling"))
        else:
            state = t(
                "{shop} does not sell vouchers (limits {low} to {high}).",
                shop=shop.name,
                low=low,
                high=high,
            )
            switch = Option("v_on", t("Start selling"))
        texts = [state]
        if not turn.town.community_enabled:
            texts.append(t(NOT_ENABLED.msgid, town=turn.town.name))
        turn.say(
            *texts,
            options=(
                switch,
                Option("v_limits", t("Change limits")),
                Option("v_refund", t("Refund a voucher")),
            ),
        )

    async def on_menu(self, turn: Turn, inp: Input) -> None:
        if inp.choice in ("v_on", "v_off"):
            shop = await community.set_shop_vouchers(
                turn.uow, known(self.state(turn).shop_id), enabled=inp.choice == "v_on"
            )
            turn.finish()
            if shop.vouchers_enabled:
                turn.say(t("Done: {shop} sells vouchers.", shop=shop.name))
            else:
                turn.say(t("Done: {shop} no longer sells vouchers.", shop=shop.name))
            return
        if inp.choice == "v_limits":
            await self.goto(turn, "limits")
            return
        if inp.choice == "v_refund":
            await self.goto(turn, "refund_code")
            return
        raise Reject(t("Choose an option from the list, or ANNULLA."))

    async def ask_limits(self, turn: Turn) -> None:
        turn.say(t("Write the minimum and the maximum in euro, e.g. 10 100."))

    async def on_limits(self, turn: Turn, inp: Input) -> None:
        parts = inp.text.replace("-", " ").split()
        if len(parts) != 2:
            raise Reject(t("Write the minimum and the maximum in euro, e.g. 10 100."))
        low, high = _amount(parts[0]), _amount(parts[1])
        try:
            shop = await community.set_shop_vouchers(
                turn.uow, known(self.state(turn).shop_id), minimum_cents=low, maximum_cents=high
            )
        except DomainError as error:
            raise Reject(error_text(error)) from error
        turn.finish()
        turn.say(
            t(
                "Done: vouchers of {shop} from {low} to {high}.",
                shop=shop.name,
                low=Money(shop.voucher_min_cents),
                high=Money(shop.voucher_max_cents),
            )
        )

    async def ask_refund_code(self, turn: Turn) -> None:
        turn.say(t("The number of the voucher to refund (e.g. V12345678901)?"))

    async def on_refund_code(self, turn: Turn, inp: Input) -> None:
        code = rules.normalize_voucher_code(inp.text)
        if code is None:
            raise Reject(error_text(DomainError(Refusal.VOUCHER_NOT_FOUND)))
        self.state(turn).code = code
        await self.goto(turn, "refund_reference")

    async def ask_refund_reference(self, turn: Turn) -> None:
        turn.say(
            t(
                "First refund the payment at your payment provider. Then write here the "
                "refund reference it gave you."
            )
        )

    async def on_refund_reference(self, turn: Turn, inp: Input) -> None:
        s = self.state(turn)
        code = known(s.code)
        try:
            await community.refund_voucher(
                turn.uow,
                shop_id=known(s.shop_id),
                code=code,
                refund_reference=inp.text,
                now=turn.now,
            )
        except DomainError as error:
            if error.code == Refusal.VOUCHER_REFUND_REFERENCE:
                raise Reject(error_text(error)) from error
            turn.finish()
            turn.say(error_text(error))
            return
        turn.finish()
        turn.say(t("Refund of voucher {voucher} recorded. Its holder has been told.", voucher=code))

    # The owner's menu: the switch ends here; limits, or a refund's voucher then its reference.
    entry = ("menu",)
    steps = table(
        {
            "menu": Step(ask_menu, on_menu, to=("limits", "refund_code")),
            "limits": Step(ask_limits, on_limits),
            "refund_code": Step(ask_refund_code, on_refund_code, to=("refund_reference",)),
            "refund_reference": Step(ask_refund_reference, on_refund_reference),
        }
    )


async def show_held(turn: Turn) -> None:
    held = await community.vouchers_held(turn.uow, turn.town.id, turn.channel, turn.address)
    if not held:
        turn.say(t("You have no shop vouchers. Write COMPRA to buy one."))
        return
    turn.say_fitting(
        t("Your shop vouchers:"),
        lines=[
            t(
                "{voucher}: {amount} left at {shop}",
                voucher=h.voucher.code,
                amount=Money(h.balance_cents),
                shop=h.shop.name,
            )
            for h in held
        ],
    )


# The provider's side ---------------------------------------------------------------------------


async def payment_received(turn: Turn, payment: PaymentDone) -> None:
    """Record what the provider took (once, whatever the number of reports) and give the
    receipt: the voucher's number, or the donation's."""
    recorded = await community.record_payment(
        turn.uow,
        community.PaymentReport(
            payload=payment.payload,
            currency=payment.currency,
            total_amount=payment.total_amount,
            telegram_payment_charge_id=payment.telegram_payment_charge_id,
            provider_payment_charge_id=payment.provider_payment_charge_id,
            channel=turn.channel,
            address=turn.address,
            language=turn.language,
        ),
        turn.now,
    )
    if turn.flow in (BuyFlow.name, DonateFlow.name):
        turn.finish()
    if recorded.receipt is not None:
        turn.say(recorded.receipt)


async def pre_checkout(uow: UnitOfWork, checkout: Checkout, *, enabled: bool) -> Text | None:
    """None when the provider may take the money; else why not (shown by Telegram)."""
    purchase = rules.parse_payload(checkout.payload)
    if purchase is None:
        return t("This payment is no longer possible. Nothing was charged.")
    town = await municipalities.by_id(uow, purchase.municipality_id)
    if town is None:
        return t("This payment is no longer possible. Nothing was charged.")
    if not enabled:
        return t(NOT_ENABLED.msgid, town=town.name)
    if checkout.total_amount != purchase.amount_cents:
        return t("This payment does not match the request. Nothing was charged.")
    refusal = await community.check_purchase(uow, purchase, currency=checkout.currency)
    if refusal is None:
        return None
    if refusal is Refusal.PURCHASE_NOT_ENABLED:
        return t(NOT_ENABLED.msgid, town=town.name)
    if refusal is Refusal.PURCHASE_WRONG_CURRENCY:
        return t("This payment does not match the request. Nothing was charged.")
    shop = await shop_service.shop_by_id(uow, purchase.shop_id or 0)
    if refusal is Refusal.PURCHASE_SHOP_NOT_ACCEPTING or shop is None:
        return t("This shop no longer sells vouchers. Nothing was charged.")
    return t(
        "This amount is no longer accepted: {shop} sells vouchers from {low} to {high}. "
        "Nothing was charged.",
        shop=shop.name,
        low=Money(shop.voucher_min_cents),
        high=Money(shop.voucher_max_cents),
    )


async def checkout_language(uow: UnitOfWork, checkout: Checkout) -> str:
    """The payer's language: the one chosen in this chat, else the Telegram app's."""
    purchase = rules.parse_payload(checkout.payload)
    if purchase is not None:
        language = await conversations.language_of(
            uow, purchase.municipality_id, checkout.channel.value, checkout.address
        )
        if language is not None:
            return supported(language)
    return supported(checkout.language_hint)
