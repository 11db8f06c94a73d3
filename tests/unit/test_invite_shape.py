"""A cashier code written alone is read as joining a shop (otp.bare_invite_code): no other
code of the service has its shape, and it is read as none of theirs. Each kind of code is
drawn the way the service draws it, many times."""

from __future__ import annotations

import secrets

import pytest

from core.dialogue.stray_codes import code_in
from core.dialogue.words import codice_fiscale_written
from core.domain import cards, community, identity, otp
from core.domain.errors import InvalidIdentifier
from core.services.applications import protocol_number
from core.services.identity import new_card_code
from core.storage import models as m
from tests.factories import make_cf, make_partita_iva

DRAWS = 3000


def _invites() -> list[str]:
    return [otp.new_invite_code() for _ in range(DRAWS)]


def test_every_new_cashier_code_has_the_shape_and_is_read_alone_as_printed_or_typed() -> None:
    for code in _invites():
        assert otp.is_invite_shape(code)
        printed = otp.printed_invite(code)
        assert printed == f"{code[:4]}-{code[4:8]}-{code[8:]}"
        for typed in (
            code,
            printed,
            code.lower(),
            f"{code[:4]} {code[4:8]} {code[8:]}",
            f" {printed.lower()}. ",
            f"{code[:8]}-{code[8:]}!",
        ):
            assert otp.bare_invite_code(typed) == code, typed


def test_a_code_apart_where_no_printed_group_ends_or_with_words_is_not_one_alone() -> None:
    code = "K7QP2MXX9ABC"
    assert otp.bare_invite_code(code) == code
    for typed in (
        "K7Q P2MXX9ABC",  # apart where no group ends: words, perhaps
        "K7QP2M XX9ABC",
        "INVITO K7QP2MXX9ABC",  # INVITO with it is the keyword's (commands.parse)
        "codice K7QP-2MXX-9ABC",
        "K7QP2MXX9AB",  # one short
        "K7QP2MXX9ABCD",  # one more
        "K7QP2MXX9AB0",  # 0, never in a cashier code
        "K7QP2MXX9ABL",  # L, never in one either
        "KKQPZMXXYABC",  # no digit: a word, not a code
        "K7QP2M3X9A45",  # six digits: more than a cashier code has
        "K2345678923C",
        "",
        None,
    ):
        assert otp.bare_invite_code(typed) is None, typed


def test_no_other_code_of_the_service_is_read_as_a_cashier_code() -> None:
    town = m.Municipality(code="TST")
    others = [
        *(new_card_code() for _ in range(DRAWS)),  # ten symbols of nearly the same alphabet
        *(community.new_voucher_code() for _ in range(DRAWS)),  # V and eleven digits
        *(otp.new_code() for _ in range(DRAWS)),  # payment, refund and confirmation codes
        *(cards.new_pin() for _ in range(DRAWS)),
        *cards.new_grid(),
        *(make_cf(index) for index in range(0, 10_000, 7)),
        *(make_partita_iva(index) for index in range(500)),
        *(protocol_number(town, 2026, secrets.randbelow(999_999)) for _ in range(DRAWS)),
        "IT60X0542811101000000123456",  # an IBAN
        "+393331234567",
        "3331234567",
    ]
    for other in others:
        for typed in (other, other.lower(), f"{other[:4]} {other[4:8]} {other[8:]}"):
            assert otp.bare_invite_code(typed) is None, typed


def test_a_cashier_code_is_read_as_no_other_code() -> None:
    for code in _invites():
        for typed in (code, otp.printed_invite(code)):
            assert code_in(typed) is None  # not a payment code
            assert not otp.read_typed_code(typed).only_digits
            assert not codice_fiscale_written(typed)
            assert not identity.looks_like_codice_fiscale(typed)
            assert community.normalize_voucher_code(typed) is None
            assert not community.looks_like_voucher_code(typed)
            assert not identity.is_phone_number(typed)
            assert len(cards.normalize_card_number(typed)) != cards.CARD_CODE_LENGTH
            with pytest.raises(InvalidIdentifier):
                cards.check_card_number(typed)  # said at the till: not a card's number


def test_a_cashier_code_in_a_sentence_and_no_other_code_in_one() -> None:
    code = otp.new_invite_code()
    printed = otp.printed_invite(code)
    for said in (
        f"Buongiorno, il codice è {printed}.",
        f"codice cassiere {code.lower()}",
        f"INVITO: ({printed})",
    ):
        assert otp.invite_code_in(said) == code, said
    # Two codes are a doubt; a code apart where no group ends is no word of a code.
    assert otp.invite_code_in(f"{code} oppure {otp.new_invite_code()}") is None
    assert otp.invite_code_in(f"il codice è {code[:3]} {code[3:]}") is None
    for other in (
        new_card_code(),
        community.new_voucher_code(),
        otp.new_code(),
        make_cf(3),
        make_partita_iva(3),
        protocol_number(m.Municipality(code="TST"), 2026, 123),
    ):
        assert otp.invite_code_in(f"Buongiorno, il codice è {other}, grazie") is None, other


def test_a_cashier_code_typed_apart_in_a_sentence_is_read() -> None:
    for code in _invites():
        groups = (code[:4], code[4:8], code[8:])
        for said in (
            f"il codice è {' '.join(groups)}",
            f"codice {' - '.join(groups).lower()}",
            f"Buongiorno, il codice è {code[:8]} {code[8:]}, grazie",
            f"codice cassiere {code[:4]} – {code[4:]}.",
        ):
            assert otp.invite_code_in(said) == code, said
    code = "K7QP2MXX9ABC"
    for said in (
        "il codice è K7Q P2MXX 9ABC",  # apart where no group ends
        "il codice è K7QP, 2MXX, 9ABC",  # a list, not a code's groups
        "il codice è K7QP 2MXX 9ABC oppure K7QP 2MXX 9ABD",  # two codes: a doubt
        "il codice è K7QP 2MXX",  # two groups of three
    ):
        assert otp.invite_code_in(said) is None, said
    # A word of four letters before the code's groups is not one of them.
    assert otp.invite_code_in(f"casa {code[:4]} {code[4:8]} {code[8:]}") == code


def test_no_other_code_typed_apart_in_a_sentence_is_a_cashier_code() -> None:
    town = m.Municipality(code="TST")

    def fours(other: str) -> str:
        return " ".join(other[at : at + 4] for at in range(0, len(other), 4))

    others = [
        *(new_card_code() for _ in range(DRAWS)),
        *(community.new_voucher_code() for _ in range(DRAWS)),
        *(make_cf(index) for index in range(0, 10_000, 7)),
        *(make_partita_iva(index) for index in range(500)),
        *(protocol_number(town, 2026, secrets.randbelow(999_999)) for _ in range(DRAWS)),
        "IT60X0542811101000000123456",
        "+393331234567",
    ]
    for other in others:
        for typed in (fours(other), f"{other[:4]} - {other[4:8]} - {other[8:]}", other):
            for said in (
                f"Buongiorno, il codice è {typed}, grazie",
                f"casa {typed}",
                f"{typed} sera",
            ):
                assert otp.invite_code_in(said) is None, said
    for said in (
        "333 123 4567",  # a phone in groups
        "pago 20 euro e 50 per la spesa di oggi",
        "PAGA RSSM RA85 T10A 562S 12,50",
    ):
        assert otp.invite_code_in(said) is None, said


def test_a_cashier_code_in_groups_then_a_short_word_is_read() -> None:
    # "va", "ok" after the third group were a card's last group ("ABCD EFGH JK"), so the
    # code was not read and the cashier heard the welcome.
    for code in _invites():
        groups = (code[:4], code[4:8], code[8:])
        for said in (
            f"{' '.join(groups)} va bene",
            f"il codice è {'-'.join(groups)} ok",
            f"{' '.join(groups)} grazie",
            f"{' '.join(groups).lower()} ok grazie",
        ):
            assert otp.invite_code_in(said) == code, said
    assert otp.invite_code_in("K7QP 2MXX 9ABC va bene") == "K7QP2MXX9ABC"
    assert otp.invite_code_in("paga ABCD EF2H JK") is None
    assert otp.invite_code_in("paga abcd ef2h jk") is None
    # A first group of letters could be a word before a card: two letters a card may end
    # with stay its last group, so every code made has a digit in its first group.
    assert otp.invite_code_in("casa ABCD EF2H JK") is None
    assert all(otp.is_invite_shape(code) for code in _invites())
    assert all(any(ch.isdigit() for ch in code[:4]) for code in _invites())


def test_the_symbols_a_card_may_end_with_are_the_cards() -> None:
    # otp keeps its own copy (cards imports otp): they must not drift apart.
    assert frozenset(cards.CARD_CODE_ALPHABET) == otp._CARD_SYMBOLS
