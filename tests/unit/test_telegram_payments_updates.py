"""Telegram Payments in the adapter: a successful payment reaches the engine with the
provider's references; a pre-checkout query is answered outside the conversation; an
invoice is planned with Telegram's limits."""

from __future__ import annotations

from telegram import Bot, Update

from bot.callbacks import CallbackSigner
from bot.render import INVOICE_TITLE, SendInvoice, plan
from bot.updates import translate
from core.domain.messages import Invoice, Reply, t

SIGNER = CallbackSigner(b"unit-test")
BOT = Bot("123:unit")
USER = {"id": 1001, "is_bot": False, "first_name": "Maria", "language_code": "it"}


def test_a_successful_payment_carries_the_references() -> None:
    raw = {
        "update_id": 5,
        "message": {
            "message_id": 9,
            "date": 0,
            "chat": {"id": 1001, "type": "private"},
            "from": USER,
            "successful_payment": {
                "currency": "EUR",
                "total_amount": 2000,
                "invoice_payload": "cv:1:2:2000",
                "telegram_payment_charge_id": "tg-1",
                "provider_payment_charge_id": "ch_1",
            },
        },
    }
    parsed = Update.de_json(raw, BOT)
    assert parsed is not None
    inbound = translate(parsed, SIGNER).inbound
    assert inbound is not None and inbound.payment is not None
    assert inbound.address == "1001" and inbound.provider_message_id == "5"
    assert (inbound.payment.payload, inbound.payment.total_amount) == ("cv:1:2:2000", 2000)
    assert inbound.payment.provider_payment_charge_id == "ch_1"


def test_a_pre_checkout_query_is_not_a_message_of_the_conversation() -> None:
    raw = {
        "update_id": 6,
        "pre_checkout_query": {
            "id": "q1",
            "from": USER,
            "currency": "EUR",
            "total_amount": 2000,
            "invoice_payload": "cv:1:2:2000",
        },
    }
    parsed = Update.de_json(raw, BOT)
    assert parsed is not None
    translation = translate(parsed, SIGNER)
    assert translation.inbound is None
    assert translation.checkout is not None and translation.checkout.id == "q1"


def test_an_invoice_is_planned_with_telegrams_title_limit() -> None:
    reply = Reply(
        texts=(),
        invoice=Invoice(
            title=t("Voucher {shop}", shop="Alimentari e Frutta Da Mario e Figli S.n"),
            description=t("Donation"),
            label=t("Voucher"),
            payload="cv:1:2:2000",
            amount_cents=2000,
        ),
    )
    [step] = plan(reply, "1001", "en", SIGNER)
    assert isinstance(step, SendInvoice)
    assert len(step.title) == INVOICE_TITLE and step.title.startswith("Voucher Alimentari")
    assert (step.currency, step.amount, step.payload) == ("EUR", 2000, "cv:1:2:2000")
