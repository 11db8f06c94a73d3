"""Printed cards for people without a phone (Balestrate's model): a number and a grid of
one-time codes.

The number identifies the holder at the till (typed, or scanned from the card's QR
code); the consent to a payment is one code of the grid printed on a separate slip, like
a bank's "carta dei codici": the server draws an unused position, the holder types the
code at that position, and that code never confirms anything again. A cashier who sees
one code learns nothing they can use later. Cards issued before the grids have a static
PIN instead, kept working until the office reissues them. Codes and PINs are stored like
a payment code (core.domain.otp): a salted hash, compared in constant time.
docs/cards-and-delegates.md explains the rules.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from core.domain import otp
from core.domain.errors import InvalidIdentifier
from core.domain.keys import ServerKeys

PIN_DIGITS = 6
# One-time codes printed on a card's slip, numbered 1..GRID_SIZE, of CODE_DIGITS digits.
GRID_SIZE = 30
CODE_DIGITS = 6
# At most this many unused codes left: the till says so, and to ask the office for a card.
GRID_LOW = 5
# Characters of a card's number (printed in groups of four: ABCD EFGH JK).
CARD_CODE_LENGTH = 10
# The symbols of a card's number: 32, without 0/O and 1/I, which read alike
# (services.identity.new_card_code draws from them, as it has since the first version).
CARD_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Where the printed groups of a card's number end (ABCD EFGH JK): a cashier may type them
# apart there, and nowhere else.
_GROUP_ENDS = frozenset({4, 8})
# Wrong PINs are counted in a sliding window, per (card, shop) and per card.
PIN_FAILURE_WINDOW = timedelta(hours=24)
# Wrong PINs typed for one card at one shop in the window: that shop cannot charge the
# card until the oldest of them leaves the window; the card keeps working elsewhere, so
# a dishonest shop that has seen a card number cannot lock its holder out of every shop.
PIN_FAILURES_PER_SHOP = 3
# Wrong PINs for one card at all shops together in the window: the card is blocked until
# the office issues a new one. A shop adds at most PIN_FAILURES_PER_SHOP to any window,
# so this takes several shops (a thief trying shop after shop), never one.
PIN_FAILURES_PER_CARD = 8
# What a card's refusals at the till name (a DomainError's `slip`): the one-time codes of
# its grid, or the PIN of a card issued before the grids.
SLIP_GRID = "grid"
SLIP_PIN = "pin"


def shop_may_charge_from(wrong_at_shop: Sequence[datetime]) -> datetime | None:
    """When a shop may charge a card again, given the times of the wrong PINs it typed for
    the card in the window; None when it may charge now."""
    if len(wrong_at_shop) < PIN_FAILURES_PER_SHOP:
        return None
    # The count falls below the limit when the third most recent leaves the window.
    return sorted(wrong_at_shop)[-PIN_FAILURES_PER_SHOP] + PIN_FAILURE_WINDOW


def blocks_card(wrong_on_card: int) -> bool:
    """Whether the card's wrong PINs in the window, at every shop, block it."""
    return wrong_on_card >= PIN_FAILURES_PER_CARD


def new_pin() -> str:
    return otp.new_code(PIN_DIGITS)


def hash_pin(keys: ServerKeys, pin: str, salt: str) -> str:
    return otp.hash_code(keys, pin, salt)


def new_grid(size: int = GRID_SIZE) -> tuple[str, ...]:
    """The one-time codes of a new card, position 1 first (random digits from `secrets`)."""
    return tuple(otp.new_code(CODE_DIGITS) for _ in range(size))


def draw_position(unused: Sequence[int]) -> int:
    """The position the holder is asked for: drawn at random among the unused ones, by the
    server, so neither the cashier nor anybody who saw a used code can choose it."""
    if not unused:
        raise ValueError("no unused code left on the card")
    return secrets.choice(list(unused))


def drawable_at_shop(unused: Sequence[int], shown_to_shop: Collection[int]) -> list[int]:
    """The unused positions a shop may be asked for: not one its till was shown for a
    payment that was not made (expired, cancelled, refused for the balance), whose code
    the cashier may have heard and could type again if that cell came back to their till.
    `shown_to_shop` holds the cells shown at any till of the people who work for the shop
    now, at whichever shop. Other shops may still draw it: nobody there heard it, and the
    payment it makes spends it."""
    return [position for position in unused if position not in shown_to_shop]


def grid_running_out(unused: int) -> bool:
    """Whether the till tells the holder to ask the office for a new card."""
    return unused <= GRID_LOW


def printable_card_code(code: str) -> bool:
    """Whether a drawn number may be printed on a card: it has a letter, and its first
    group is no keyword. Ten digits (one draw in 4**10, about one card in a million) are
    read at the till as a phone number or an amount typed with spaces ("2224 7569 57"),
    never as a card; a first group that is a keyword (six in 32**4, one card in 175,000)
    is that keyword when the number is typed in its groups. Cards printed before this
    rule keep their number."""
    return any(ch.isalpha() for ch in code) and code[:4] not in otp.KEYWORD_GROUPS


def normalize_card_number(text: str) -> str:
    """What a cashier types or a scanner reads: "abcd efgh-jk" -> "ABCDEFGHJK"."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


# A card number as a cashier may type it: letters and digits, its groups apart or not.
_TYPED = re.compile(r"[0-9A-Z]+(?:[ -]+[0-9A-Z]+)*")
# Digits with the letter O for a zero: an amount or a phone number mistyped ("5OO"), as
# no card has an O.
_DIGITS_AND_O = re.compile(r"[0-9][0-9O -]*")
# What an amount or a phone number may be written with, an O for a zero included.
_NUMBER_SIGNS = frozenset("0123456789O .,'+-−€")
# Typed in the card's printed groups (ABCD EFGH JK): two groups of four, then the rest.
_IN_GROUPS = re.compile(r"[0-9A-Z]{4}[ -]+[0-9A-Z]{4}(?:[ -]+[0-9A-Z]+)+")


def tried_card_number(text: str) -> bool:
    """Whether a cashier's words are a card number, of whatever length: letters and digits
    in groups, with a letter (digits alone are an amount or a phone number)."""
    typed = text.strip().upper()
    return (
        _TYPED.fullmatch(typed) is not None
        and any(ch.isalpha() for ch in typed)
        and _DIGITS_AND_O.fullmatch(typed) is None
    )


def reads_as_digits(text: str) -> bool:
    """Whether the words are digits, perhaps with an O for a zero and the signs of an
    amount or a phone number ("5OO", "12,5O", "€ 12", "333 1OO 5"): an amount or a phone,
    never a card's number (no card has an O, and none is digits alone)."""
    typed = text.strip().upper()
    return any(ch.isdigit() for ch in typed) and all(ch in _NUMBER_SIGNS for ch in typed)


def in_printed_groups(text: str) -> bool:
    """Whether the words are written as a card number is printed, "ABCD EFGH JKL" too."""
    return _IN_GROUPS.fullmatch(text.strip().upper()) is not None


def check_card_number(text: str) -> None:
    """Raises InvalidIdentifier for words that cannot be any card's number, said before
    anybody is looked up: "card.format" for letters and digits no card has (0, O, 1, I, an
    accented letter: "ABCD EFGH J1") or apart where no printed group ends (a name, "Mario
    Rossi"), whatever their length; "card.length" for a card number typed with fewer or more
    characters than a card has ("FEVY 57ED N"). Every card number ever made has
    CARD_CODE_LENGTH symbols of CARD_CODE_ALPHABET (services.identity.new_card_code, for
    every citizen, since the first version; no migration or import writes another), so such
    words find nobody. Digits alone or with an O for a zero (an amount or a phone,
    "5OO") are not read as a card number here: the till says what they lack."""
    if reads_as_digits(text):
        return
    typed = text.strip().upper()
    number = normalize_card_number(typed)
    if number and not (possible_symbols(number) and apart_where_printed(typed)):
        raise InvalidIdentifier("card", text, "format")
    if tried_card_number(text) and len(number) != CARD_CODE_LENGTH:
        raise InvalidIdentifier("card", text, "length")


def possible_symbols(number: str) -> bool:
    """Whether every character (of a number normalize_card_number gave) is one a card's
    number has."""
    return all(ch in CARD_CODE_ALPHABET for ch in number)


def apart_where_printed(typed: str) -> bool:
    """Whether letters and digits written apart ("ABCD EFGH JK", "ABCD-EFGHJK") are apart
    only where the card's printed groups end; together they always are."""
    ends, count = set(), 0
    for ch in typed:
        if ch.isalnum():
            count += 1
        elif count:
            ends.add(count)
    ends.discard(count)  # signs after the last character
    return ends <= _GROUP_ENDS


def grouped(code: str, size: int = 4) -> str:
    """ABCD EFGH JK: easier to read out and to type."""
    return " ".join(code[i : i + size] for i in range(0, len(code), size))


def mask_codice_fiscale(cf: str) -> str:
    """Enough for the holder to recognise their card, not enough to read the code off it."""
    if len(cf) != 16:
        return "•" * 6
    return cf[:6] + "•" * 9 + cf[-1]


def mask_codice_fiscale_gsm(cf: str) -> str:
    """The same for an SMS: GSM-7 has no bullet."""
    return mask_codice_fiscale(cf).replace("•", "*")
