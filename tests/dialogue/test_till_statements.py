"""What a cashier reads of the shop's money, whatever the period and however asked: their
own till's takings only (this month, a month named, "gli incassi del mese"), never the
shop's total nor what the municipality owes it; RIMBORSI and every question about what the
town pays the shop ("quando mi paga il comune?", "quanto mi dovete?") is one sentence that
only the owner sees them, and how she asks. The owner's statements read as before, byte
for byte (core.services.shop_money)."""

from __future__ import annotations

import json
from pathlib import Path

from core.bootstrap import Core
from core.domain.ledger import PostingKind
from core.domain.messages import Money, Reply, reply_to_json
from core.services import ledger
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, add_member, assert_one_segment, msgids
from tests.dialogue.test_till_takings import busy_saturday, rendered, texts
from tests.factories import Town

THIS_MONTH = "Your till this month: {count} payment, {amount}."
NAMED_MONTH = "Your till from {since} to {until}: {count} payment, {amount}."
OWNER_ONLY = (
    "Only the owner of the shop sees what the municipality reimburses it: the owner writes "
    "RIMBORSI from their own chat."
)
# What only the owner reads: the shop's totals and what the town owes it.
SHOPS = {
    "Today: {count} payment, {amount}.",
    "This month: {count} payment, {amount}.",
    "From {since} to {until}: {count} payment, {amount}.",
    "To be reimbursed by the municipality: {amount}.",
    "Today the municipality owes you {amount} in all.",
    "Last transfer: {amount}, ordered on {ordered}.",
    "No reimbursement yet.",
}
CASHIER_SMS = "+393339990050"


async def reimbursed(core: Core, town: Town, cents: int) -> None:
    """A reimbursement run paid the shop `cents`."""
    async with core.uow() as uow:
        await ledger.post(
            uow,
            municipality_id=town.municipality_id,
            kind=PostingKind.REIMBURSEMENT,
            from_owner=town.shop_id,
            to_owner=0,
            amount_cents=cents,
            now=core.now(),
        )
        await uow.commit()


def shop_figures(replies: list[Reply]) -> set[str]:
    return SHOPS & set(msgids(replies))


async def test_a_cashiers_statement_of_this_month_is_their_own_till(core: Core) -> None:
    _, _, first, _ = await busy_saturday(core)
    for typed in ("RESOCONTO mese", "gli incassi del mese", "statement month"):
        replies = await first.expect(typed, THIS_MONTH)
        assert texts(replies, THIS_MONTH) == [{"count": 2, "amount": Money(10_00)}]
        assert not shop_figures(replies)
        assert "La tua cassa questo mese: 2 pagamenti, 10,00 €." in rendered(replies, "it", True)
    # Asked which period, then this month.
    await first.expect("RESOCONTO", "Statement of which period?")
    replies = await first.expect("2", THIS_MONTH)
    assert texts(replies, THIS_MONTH) == [{"count": 2, "amount": Money(10_00)}]


async def test_a_cashiers_month_named_is_their_own_till(core: Core, clock: FakeClock) -> None:
    _, _, first, _ = await busy_saturday(core)
    clock.advance(days=30)  # 6 May: April is a month named, no longer this month
    for typed in ("RESOCONTO aprile", "il rendiconto di aprile"):
        replies = await first.expect(typed, NAMED_MONTH)
        assert not shop_figures(replies)
        [head] = texts(replies, NAMED_MONTH)
        assert head["count"] == 2 and head["amount"] == Money(10_00)
        assert "La tua cassa dal 01/04/2026 al 30/04/2026: 2 pagamenti, 10,00 €." in rendered(
            replies, "it", True
        )
    replies = await first.expect("RESOCONTO mese", THIS_MONTH)
    assert texts(replies, THIS_MONTH) == [{"count": 0, "amount": Money(0)}]


async def test_a_cashier_asking_for_reimbursements_hears_only_the_owner_sees_them(
    core: Core,
) -> None:
    town, _, first, _ = await busy_saturday(core)
    await reimbursed(core, town, 5_00)
    await add_member(core, town.shop_id, CASHIER_SMS, "cashier")
    by_sms = Chat(core, CASHIER_SMS)
    asked = (
        "RIMBORSI",
        "RIMBORSO",
        "reimbursements",
        "quando mi paga il comune?",
        "quanto mi deve il comune?",
        "quanto mi dovete?",
    )
    for chat in (first, by_sms):
        for typed in asked:
            replies = await chat.expect(typed, OWNER_ONLY)
            assert not shop_figures(replies)
    # A "Reimbursements" button of a menu shown before cashiers had "Last payment" there.
    await first.expect(None, OWNER_ONLY, option="reimbursement")
    [reply] = await by_sms.expect("RIMBORSI", OWNER_ONLY)
    assert assert_one_segment(reply, "it") == (
        "Solo chi è titolare del negozio vede i rimborsi del Comune: li chiede scrivendo "
        "RIMBORSI dalla sua chat."
    )
    assert render_en(reply) == (
        "Only the owner of the shop sees what the municipality reimburses it: the owner "
        "writes REIMBURSEMENT from their own chat."
    )


def render_en(reply: Reply) -> str:
    return rendered([reply], "en", False)


def as_read(replies: list[Reply]) -> list[str]:
    """A reply as the owner reads it by SMS in Italian, on Telegram in English, and as the
    outbox stores it."""
    payload = "\n".join(json.dumps(reply_to_json(reply), ensure_ascii=False) for reply in replies)
    return [rendered(replies, "it", True), rendered(replies, "en", False), payload]


# The owner's replies in the scenario below, as the code before a cashier's statements were
# narrowed wrote them (by SMS in Italian, on Telegram in English, the outbox's payload).
OWNER_BEFORE = Path(__file__).with_name("owner_statements_before.json")


async def test_the_owners_statements_read_as_before(core: Core, clock: FakeClock) -> None:
    town, owner, _, _ = await busy_saturday(core)
    await reimbursed(core, town, 5_00)
    said: dict[str, list[str]] = {}
    for typed in ("RESOCONTO OGGI", "INCASSO", "RESOCONTO mese", "RIMBORSI", "quanto mi dovete?"):
        said[typed] = as_read(await owner.send(typed))
    clock.advance(days=30)
    for typed in ("RESOCONTO aprile", "RESOCONTO mese"):
        said[f"May: {typed}"] = as_read(await owner.send(typed))
    assert said == json.loads(OWNER_BEFORE.read_text(encoding="utf-8"))
