"""What a citizen reads: the words that undo STOP, a delegate's STATO, movements without the
office's words, a card only for vouchers that exist (usertest items 10, 11, 15, 30)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.bootstrap import Core
from core.dialogue.engine import STOPPED
from core.dialogue.flows.appeal import DELEGATE_CANNOT_APPEAL
from core.dialogue.flows.citizen import DELEGATE_NO_CARD, DELEGATE_NO_STATUS, movement_text
from core.domain.cards import mask_codice_fiscale_gsm
from core.domain.ledger import PostingKind
from core.i18n import render_text
from core.services import delegates
from core.services.applications import ApplicationInput, submit_application
from core.services.movements import Movement
from tests.dialogue.harness import Chat, msgids, param, town_with_open_window
from tests.factories import approved_request, make_cf, make_town

ADMITTED = "Application {protocol}: admitted. {amount} credited: write SALDO to see the balance."


async def test_the_stop_confirmation_names_the_italian_words_that_restore(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("stop", STOPPED.msgid)
    said = render_text(STOPPED, "it", sms=True)
    assert "RIATTIVA" in said and "START" in said, said
    [resumed] = await chat.expect(
        "riattiva", "Notices are on again. Write MENU to see what you can do."
    )
    assert "MENU" in render_text(resumed.texts[0], "it", sms=True)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_delegates_status_is_not_the_holders(core: Core, language: str) -> None:
    # docs/cards-and-delegates.md: a delegate pays and checks the balance, nothing more.
    # STATO from their phone neither tells the holder's application nor invites an appeal.
    town = await make_town(core, citizens=1)
    delegate = "+393471230002"
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        cf = town.citizen_cfs[0]
        yes = await approved_request(uow, municipality, cf, "delegate", delegate)
        await delegates.add_delegate(uow, municipality, cf, delegate, core.now(), approved=yes)
        await uow.commit()
    helper = Chat(core, delegate)
    await helper.send(f"LINGUA {language}")
    await helper.expect("SALDO", "Balance of {holder}: {balance}.")
    assert param(helper.last, "holder") == mask_codice_fiscale_gsm(town.citizen_cfs[0])
    replies = await helper.expect("STATO", DELEGATE_NO_STATUS.msgid)
    said = "\n".join(render_text(text, language, sms=True) for r in replies for text in r.texts)
    assert ("SALDO" if language == "it" else "BALANCE") in said, said
    protocol = param(await Chat(core, town.citizen_phones[0]).expect("STATO", ADMITTED), "protocol")
    for leaked in (str(protocol), "RICORSO", "APPEAL", "350"):
        assert leaked not in said, said
    await helper.expect("RICORSO", DELEGATE_CANNOT_APPEAL.msgid)
    # CARTA neither: not "no vouchers for this number" after SALDO showed a balance.
    await helper.expect("CARTA", DELEGATE_NO_CARD.msgid)
    # The holder's own STATO still tells their application.
    await Chat(core, town.citizen_phones[0]).expect("STATO", ADMITTED)


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_refund_in_the_movements_is_said_in_a_citizens_words(language: str) -> None:
    move = Movement(
        PostingKind.REFUND, 20_00, datetime(2026, 12, 3, 11, tzinfo=UTC), "Alimentari Da Rita", 1
    )
    said = render_text(movement_text(move, "Europe/Rome"), language, sms=True)
    assert "storno" not in said.lower() and "Alimentari Da Rita" in said
    assert ("rimborso" if language == "it" else "refund") in said


@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_card_of_someone_never_credited_is_not_shown(core: Core, language: str) -> None:
    town = await town_with_open_window(core, citizens=1)
    phone = "+393471230003"
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await submit_application(
            uow,
            municipality,
            ApplicationInput(make_cf(530), phone, 1, False, False, 0, 0, 0, language=language),
            source="paper",
            now=core.now(),
        )
        await uow.commit()
    chat = Chat(core, phone)
    replies = await chat.expect(
        "CARD",
        "You have no vouchers yet: your card works once they are credited. Write STATO.",
    )
    assert "Your card code is {code}. Show it at the till to pay." not in msgids(replies)
