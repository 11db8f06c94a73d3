"""An elderly citizen on an old keypad phone: a zero typed for the letter O in a keyword
("SALD0", "NEG0ZI"), and thousands written with a figure ("circa 2 mila euro")."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.commands import typo_of
from core.domain.messages import Money
from tests.dialogue.harness import Chat, param
from tests.dialogue.test_typos import BALANCE
from tests.factories import make_town

SHOPS = "{count} shop found:"


def test_a_zero_for_the_letter_o_is_that_keyword() -> None:
    # On a keypad the O and the 0 share a key: "sald0" was "not understood".
    assert typo_of("sald0") == typo_of("SALD0") == typo_of("Sald0!") == "balance"
    assert typo_of("NEG0ZI") == typo_of("neg0zl") == "shops"
    assert typo_of("stat0") == "status" and typo_of("d0manda") == "apply"
    # STOP still acts only when exact; a code or a number is no keyword.
    for text in ("st0p", "5t0p", "0000", "12345", "a1b2", "s0"):
        assert typo_of(text) is None, text


async def test_sald0_by_sms_is_the_balance(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    for text in ("sald0", "SALD0"):
        replies = await chat.expect(text, BALANCE)
        assert param(replies, "balance") == Money(150_00)
    await chat.expect("NEG0ZI", SHOPS)
