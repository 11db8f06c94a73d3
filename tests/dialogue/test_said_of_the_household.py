"""The household's questions answered with a statement, not a "sì" or a "no" (SMS trial of
December 2026, elderly applicants):

- "mio marito ha la pensione", "mia moglie prende la pensione" at the pension question
  were not understood: someone at home has one, a yes, and the savings question follows
  as after "sì". Likewise "mio figlio lavora" at the work question. A negative or a "but"
  ("no, ma mio marito ha la pensione", "mio marito non ha la pensione", "ha perso il
  lavoro") is still not read as a yes: asked again, nothing recorded.
- "ho la naspi" at the support question (how much a month?) was "not an amount": there
  is some, so how much is asked, nothing recorded; "pago l'affitto" at the rent likewise.
- "niente", "nulla" at a question whether anyone has something (work, a pension) were
  not understood: a no, as "nessuno" is."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.context import NOT_UNDERSTOOD as SORRY
from tests.dialogue.harness import msgids
from tests.dialogue.test_apply import LIQUIDITY, PENSION, RENT, SUMMARY, SUPPORT, WORK
from tests.dialogue.test_her_words_at_the_questions import (
    NOT_AN_AMOUNT,
    YES_OR_NO,
    answers,
    at_work,
)

HOW_MUCH_SUPPORT = (
    "How much does the household receive per month? Write the amount in euro, e.g. {example}."
)
HOW_MUCH_RENT = (
    "How much rent does the household pay per month? Write the amount in euro, e.g. {example}."
)


@pytest.mark.parametrize(
    "said",
    [
        "mio marito ha la pensione",
        "mia moglie prende la pensione",
        "Mio marito è in pensione",
        "sono in pensione",
        "prendo la pensione di invalidità",
        "my husband has a pension",
    ],
)
async def test_someone_at_home_has_a_pension_is_a_yes(core: Core, said: str) -> None:
    chat = await at_work(core, "2")
    await chat.expect("no", PENSION)
    replies = await chat.expect(said, LIQUIDITY)
    assert SORRY.msgid not in msgids(replies)
    assert (await answers(chat))["pension"] is True
    assert (await chat.state())[:2] == ("apply", "liquidity")


@pytest.mark.parametrize(
    "said", ["mio figlio lavora", "mio marito ha un lavoro", "io lavoro", "lavoriamo"]
)
async def test_someone_at_home_works_is_a_yes(core: Core, said: str) -> None:
    chat = await at_work(core, "3")
    replies = await chat.expect(said, PENSION)
    assert SORRY.msgid not in msgids(replies)
    assert (await answers(chat))["work"] is True


@pytest.mark.parametrize(
    "said",
    [
        "no, ma mio marito ha la pensione",
        "mio marito non ha la pensione",
        "nn ha la pensione",
        "mio marito aveva la pensione",
        "pensione",
        "mio marito ha la pensione forse",
    ],
)
async def test_negatives_and_doubts_about_the_pension_are_asked_again(
    core: Core, said: str
) -> None:
    chat = await at_work(core, "2")
    await chat.expect("no", PENSION)
    await chat.expect(said, SORRY.msgid, YES_OR_NO, PENSION)
    assert "pension" not in await answers(chat)
    assert (await chat.state())[:2] == ("apply", "pension")


@pytest.mark.parametrize(
    "said", ["mio marito ha perso il lavoro", "cerco lavoro", "mio figlio lavorava", "lavoro"]
)
async def test_no_work_now_is_never_a_yes(core: Core, said: str) -> None:
    chat = await at_work(core, "2")
    await chat.expect(said, SORRY.msgid, YES_OR_NO, WORK)
    assert "work" not in await answers(chat)


@pytest.mark.parametrize(
    "said", ["niente", "nulla", "Niente!", "proprio niente", "niente pensione"]
)
async def test_nothing_is_a_no_where_having_something_is_asked(core: Core, said: str) -> None:
    chat = await at_work(core, "3")
    replies = await chat.expect(said.replace("pensione", "lavoro"), PENSION)
    assert SORRY.msgid not in msgids(replies)
    assert (await answers(chat))["work"] is False
    await chat.expect(said, LIQUIDITY)
    assert (await answers(chat))["pension"] is False


async def test_support_and_rent_said_without_the_sum_ask_how_much(core: Core) -> None:
    chat = await at_work(core, "2")
    await chat.expect("no", PENSION)
    await chat.expect("mio marito ha la pensione", LIQUIDITY)
    await chat.expect("1000", SUPPORT)
    for said in ("ho la naspi", "mio marito prende la cassa integrazione", "sì"):
        replies = await chat.expect(said, HOW_MUCH_SUPPORT)
        assert SORRY.msgid not in msgids(replies)
        assert (await chat.state())[:2] == ("apply", "support")
        assert "support" not in await answers(chat)
    # "Non ho la naspi" is no statement that there is some: the amount's error, as before.
    await chat.expect("non ho la naspi", NOT_AN_AMOUNT)
    await chat.expect("300", RENT)
    assert (await answers(chat))["support"] == 300_00
    await chat.expect("pago l'affitto", HOW_MUCH_RENT)
    assert "rent" not in await answers(chat)
    await chat.expect("niente", SUMMARY)
    assert (await answers(chat))["rent"] == 0
