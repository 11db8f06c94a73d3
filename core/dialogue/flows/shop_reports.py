"""What a shop earned (today, this month) and what the municipality still owes it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.errors import error_text
from core.dialogue.flows.base import Flow, Step, shop_or_refusal, table
from core.dialogue.flows.refund import receipt_of, start_of_day
from core.dialogue.state import ShopState
from core.dialogue.words import fold, month_named
from core.domain.charges import ChargeStatus
from core.domain.errors import DomainError
from core.domain.messages import Day, Money, Option, Text, t, tn
from core.services import shop_money
from core.services import shops as shop_service
from core.storage import models as m

TODAY_WORDS = frozenset({"oggi", "today", "giorno", "day"})
MONTH_WORDS = frozenset({"mese", "month"})
# Said around the period ("RESOCONTO di oggi", "del mese", "di questo mese", "for today"):
# the period is the word left.
_AROUND_PERIOD = frozenset(
    {"di", "del", "della", "per", "questo", "questa", "il", "la", "of", "for", "this", "the"}
)


def period_word(text: str | None) -> str:
    """The one word of a period said with the words around it ("di oggi" is "oggi"), else
    the words as they were, folded."""
    words = fold(text).split()
    said = [word for word in words if word not in _AROUND_PERIOD]
    return said[0] if len(said) == 1 and said[0] in TODAY_WORDS | MONTH_WORDS else " ".join(words)


async def _acting(turn: Turn) -> tuple[m.ShopMember, m.Shop] | None:
    """The chat's place in the shop a statement is for, and the shop; None when the chat
    acts for none (shop_or_refusal: the menu, whose cashier it no longer is, or who may ask
    for statements)."""
    return await shop_or_refusal(
        turn, t("This is for shops registered with the municipality. To register, write REGISTRA.")
    )


def start_of_month(now: datetime, timezone: str) -> datetime:
    day = start_of_day(now, timezone)
    return day.replace(day=1)


def named_month(arg: str) -> int | None:
    """The month a statement asks for: its number (from a question in words) or its name
    ("RESOCONTO ottobre")."""
    word = arg.strip()
    if word.isdigit():
        return int(word) if 1 <= int(word) <= 12 else None
    return month_named(fold(word).split())


def month_period(month: int, now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The last such month up to now ("ottobre" in December is this year's, in March last
    year's), from its first day to the next month's first, in the town's time."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    year = today.year if month <= today.month else today.year - 1
    zone = ZoneInfo(timezone)
    since = datetime.combine(date(year, month, 1), time(0), tzinfo=zone)
    following = date(year + month // 12, month % 12 + 1, 1)
    return since, datetime.combine(following, time(0), tzinfo=zone)


class StatementFlow(Flow[ShopState]):
    name = "statement"
    acts_for_shop = "member"
    state_type = ShopState

    async def begin(self, turn: Turn, arg: str = "") -> None:
        turn.finish()
        current = await _acting(turn)
        if current is None:
            return
        member, shop = current
        self.move(turn, "period", ShopState(shop_id=shop.id))
        word = period_word(arg)
        month = named_month(word)
        if month is not None:
            await self._show_month(turn, member, shop, month)
            return
        if word in TODAY_WORDS or word in MONTH_WORDS:
            await self._show(turn, member, shop, "month" if word in MONTH_WORDS else "today")
            return
        await self.ask(turn)

    async def ask_period(self, turn: Turn) -> None:
        turn.say(
            t("Statement of which period?"),
            options=(Option("today", t("Today")), Option("month", t("This month"))),
        )

    async def on_period(self, turn: Turn, inp: Input) -> None:
        word = period_word(inp.text)
        choice = inp.choice or (
            "today" if word in TODAY_WORDS else "month" if word in MONTH_WORDS else None
        )
        if choice not in ("today", "month"):
            raise Reject(t("Reply 1 for today or 2 for this month."))
        # The chat's place in the shop as it is now: what it may read is the service's.
        current = await _acting(turn)
        if current is None:
            return
        await self._show(turn, *current, choice)

    async def _show_month(self, turn: Turn, member: m.ShopMember, shop: m.Shop, month: int) -> None:
        """A month named ("RESOCONTO ottobre"): its payments from its first to its last
        day, and what the town owes today, every month together (said so, not as that
        month's); this month's is the "this month" statement. A cashier: their own till's
        payments of that month only."""
        zone = turn.town.timezone
        if month == turn.now.astimezone(ZoneInfo(zone)).month:
            await self._show(turn, member, shop, "month")
            return
        turn.finish()
        since, until = month_period(month, turn.now, zone)
        result = await shop_money.statement_for(turn.uow, member, shop, since, until)
        last = Day((until - timedelta(days=1)).date())
        if isinstance(result, shop_service.TillTakings):
            head = tn(
                "Your till from {since} to {until}: {count} payment, {amount}.",
                "Your till from {since} to {until}: {count} payments, {amount}.",
                result.payments,
                since=Day(since.date()),
                until=last,
                amount=Money(result.paid_cents),
            )
            _say_till(turn, result, head)
            return
        head = tn(
            "From {since} to {until}: {count} payment, {amount}.",
            "From {since} to {until}: {count} payments, {amount}.",
            result.payments,
            since=Day(since.date()),
            until=last,
            amount=Money(result.paid_cents),
        )
        owed = t(
            "Today the municipality owes you {amount} in all.",
            amount=Money(result.to_be_reimbursed_cents),
        )
        _say_statement(turn, result, head, owed)

    async def _show(self, turn: Turn, member: m.ShopMember, shop: m.Shop, period: str) -> None:
        turn.finish()
        zone = turn.town.timezone
        if period == "today":
            since = start_of_day(turn.now, zone)
            until = since + timedelta(days=1)
        else:
            since = start_of_month(turn.now, zone)
            until = (since + timedelta(days=32)).replace(day=1)
        result = await shop_money.statement_for(turn.uow, member, shop, since, until)
        if isinstance(result, shop_service.TillTakings):
            _say_till(turn, result, _till_head(result, period))
            return
        if period == "today":
            await _show_today(turn, member, result, since, until)
            return
        head = tn(
            "This month: {count} payment, {amount}.",
            "This month: {count} payments, {amount}.",
            result.payments,
            amount=Money(result.paid_cents),
        )
        owed = t(
            "To be reimbursed by the municipality: {amount}.",
            amount=Money(result.to_be_reimbursed_cents),
        )
        _say_statement(turn, result, head, owed)

    # One question: today or this month (STATEMENT OGGI answers it at once).
    entry = ("period",)
    steps = table({"period": Step(ask_period, on_period)})


def _till_head(till: shop_service.TillTakings, period: str) -> Text:
    """The first line of a cashier's statement of today or this month: their own till's."""
    if period == "today":
        return tn(
            "Your till today: {count} payment, {amount}.",
            "Your till today: {count} payments, {amount}.",
            till.payments,
            amount=Money(till.paid_cents),
        )
    return tn(
        "Your till this month: {count} payment, {amount}.",
        "Your till this month: {count} payments, {amount}.",
        till.payments,
        amount=Money(till.paid_cents),
    )


def _say_till(turn: Turn, till: shop_service.TillTakings, head: Text) -> None:
    """A cashier's statement: their own till's payments and refunds, nothing of the shop's
    total nor of what the town owes it (shop_money.statement_for)."""
    texts: list[Text] = [head]
    if till.refunds:
        texts.append(_refunded(till.refunds, till.refunded_cents))
    turn.say(*texts)


async def _show_today(
    turn: Turn,
    member: m.ShopMember,
    result: shop_service.Statement,
    since: datetime,
    until: datetime,
) -> None:
    """The owner's statement of today ("RESOCONTO OGGI", "INCASSO", "quanto ha incassato
    Mario?"): the shop's payments and refunds, then what each till took, named as CASSIERI
    names cashiers (when any payment was taken at a till other than her own), then what the
    town owes. Amounts and counts, never who paid."""
    tills = await shop_service.takings_by_till(turn.uow, member, since, until)
    lines: list[Text] = [
        tn(
            "Today: {count} payment, {amount}.",
            "Today: {count} payments, {amount}.",
            result.payments,
            amount=Money(result.paid_cents),
        )
    ]
    if result.refunds:
        lines.append(_refunded(result.refunds, result.refunded_cents))
    if any(not till.own for till in tills):
        lines.extend(_till_line(till) for till in tills)
    owed = t(
        "To be reimbursed by the municipality: {amount}.",
        amount=Money(result.to_be_reimbursed_cents),
    )
    turn.say_summary(lines, owed)


def _refunded(count: int, cents: int) -> Text:
    return tn(
        "Of these, refunded: {count} payment, {amount}.",
        "Of these, refunded: {count} payments, {amount}.",
        count,
        amount=Money(cents),
    )


def _till_line(till: shop_service.TillTakings) -> Text:
    """One till's takings in the owner's statement of today."""
    amount, refunded = Money(till.paid_cents), Money(till.refunded_cents)
    if till.own and till.refunds:
        return tn(
            "Your till: {count} payment, {amount}, {refunded} refunded.",
            "Your till: {count} payments, {amount}, {refunded} refunded.",
            till.payments,
            amount=amount,
            refunded=refunded,
        )
    if till.own:
        return tn(
            "Your till: {count} payment, {amount}.",
            "Your till: {count} payments, {amount}.",
            till.payments,
            amount=amount,
        )
    if till.refunds:
        return tn(
            "{who}: {count} payment, {amount}, {refunded} refunded.",
            "{who}: {count} payments, {amount}, {refunded} refunded.",
            till.payments,
            who=till.label,
            amount=amount,
            refunded=refunded,
        )
    return tn(
        "{who}: {count} payment, {amount}.",
        "{who}: {count} payments, {amount}.",
        till.payments,
        who=till.label,
        amount=amount,
    )


async def show_last_payment(turn: Turn) -> None:
    """The last payment as STORNO lists payments (the receipt's number, the amount, when),
    never who paid: the shop's for its owner, a cashier's own till's for a cashier
    (shop_money.last_payment_for)."""
    current = await _acting(turn)
    if current is None:
        return
    turn.finish()
    last = await shop_money.last_payment_for(turn.uow, *current)
    charge = last.charge
    if charge is None:
        if last.own_till:
            turn.say(t("Your till has taken no payment yet."))
        else:
            turn.say(t("{shop} has no payment yet.", shop=current[1].name))
        return
    when = (charge.confirmed_at or charge.created_at).astimezone(ZoneInfo(turn.town.timezone))
    receipt, amount = str(receipt_of(charge)), Money(charge.amount_cents)
    day, at = Day(when.date()), when.strftime("%H:%M")
    refunded = charge.status == ChargeStatus.REFUNDED
    if last.own_till and refunded:
        text = t(
            "Last payment at your till: no. {receipt}, {amount}, on {day} at {time}; refunded.",
            receipt=receipt,
            amount=amount,
            day=day,
            time=at,
        )
    elif last.own_till:
        text = t(
            "Last payment at your till: no. {receipt}, {amount}, on {day} at {time}.",
            receipt=receipt,
            amount=amount,
            day=day,
            time=at,
        )
    elif refunded:
        text = t(
            "Last payment: no. {receipt}, {amount}, on {day} at {time}; refunded.",
            receipt=receipt,
            amount=amount,
            day=day,
            time=at,
        )
    else:
        text = t(
            "Last payment: no. {receipt}, {amount}, on {day} at {time}.",
            receipt=receipt,
            amount=amount,
            day=day,
            time=at,
        )
    turn.say(text)


async def show_reimbursements(turn: Turn) -> None:
    """What the municipality owes the shop and the transfers it ordered, for the owner; a
    cashier hears who sees them (shop_money.reimbursements_for refuses)."""
    current = await _acting(turn)
    if current is None:
        return
    turn.finish()
    try:
        owed = await shop_money.reimbursements_for(turn.uow, *current)
    except DomainError as error:
        turn.say(error_text(error))
        return
    paid = owed.transfers
    texts = [
        t(
            "To be reimbursed by the municipality: {amount}.",
            amount=Money(owed.owed_cents),
        )
    ]
    if paid.last_ordered_at is not None:
        zone = ZoneInfo(turn.town.timezone)
        ordered = Day(paid.last_ordered_at.astimezone(zone).date())
        amount = Money(paid.last_cents)
        # The SEPA file is made at approval; the bank pays on its execution date. Nobody
        # records the money arriving, so the shop is told what was ordered and for when.
        if paid.last_execution is None:
            texts.append(
                t(
                    "Last transfer: {amount}, ordered on {ordered}.",
                    amount=amount,
                    ordered=ordered,
                )
            )
        elif paid.last_execution >= turn.now.astimezone(zone).date():
            texts.append(
                t(
                    "Transfer of {amount} being paid: ordered on {ordered}, execution date {day}.",
                    amount=amount,
                    ordered=ordered,
                    day=Day(paid.last_execution),
                )
            )
        else:
            texts.append(
                t(
                    "Last transfer: {amount}, ordered on {ordered}, execution date {day}.",
                    amount=amount,
                    ordered=ordered,
                    day=Day(paid.last_execution),
                )
            )
        if paid.total_cents > paid.last_cents:
            texts.append(
                t(
                    "Transfers so far: {amount}.",
                    amount=Money(paid.total_cents),
                )
            )
    else:
        texts.append(t("No reimbursement yet."))
    turn.say(*texts)


def _say_statement(turn: Turn, result: shop_service.Statement, head: Text, owed: Text) -> None:
    """A statement's lines: the period's payments, its refunds if any, what is owed."""
    texts: list[Text] = [head]
    if result.refunds:
        texts.append(_refunded(result.refunds, result.refunded_cents))
    texts.append(owed)
    turn.say(*texts)
