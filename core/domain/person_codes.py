"""Wrong payment codes typed for one person's codes (sent by SMS or Telegram) at all shops
together: the limit a card has (core/domain/cards.py), given to the codes sent to a phone.

Each wrong code costs the shop a try and warns the person, but a guesser could try her codes
at shop after shop. So the wrong codes typed for her code payments are counted per person,
in the same window and with the same numbers as a card's: once the shops together typed
WRONG_CODES_PER_PERSON of them in the window, no payment code is sent to her until enough of
them leave it (or the office lifts the stop). A shop adds at most COUNTED_PER_SHOP to the
count, so one dishonest shop cannot stop her paying everywhere: it takes several shops (its
own further guesses are stopped by the shop's own lock, core/domain/charges.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from core.domain.cards import PIN_FAILURE_WINDOW, PIN_FAILURES_PER_CARD, PIN_FAILURES_PER_SHOP

WRONG_CODE_WINDOW = PIN_FAILURE_WINDOW
COUNTED_PER_SHOP = PIN_FAILURES_PER_SHOP
WRONG_CODES_PER_PERSON = PIN_FAILURES_PER_CARD

# (shop id, when): a wrong code typed by that shop for one of the person's payments.
Typed = Sequence[tuple[int, datetime]]


def counted(typed: Typed, at: datetime) -> int:
    """The person's wrong codes that count at `at`: those of the window, at most
    COUNTED_PER_SHOP of each shop."""
    per_shop = Counter(shop for shop, when in typed if at - WRONG_CODE_WINDOW < when <= at)
    return sum(min(count, COUNTED_PER_SHOP) for count in per_shop.values())


def stopped_until(typed: Typed, now: datetime) -> datetime | None:
    """Until when no payment code is sent to the person; None when codes go to her now.
    The count falls below the limit as the wrong codes leave the window, the earliest
    first."""
    if counted(typed, now) < WRONG_CODES_PER_PERSON:
        return None
    leaving = sorted(when + WRONG_CODE_WINDOW for _, when in typed if when <= now)
    for moment in leaving:
        if moment > now and counted(typed, moment) < WRONG_CODES_PER_PERSON:
            return moment
    return leaving[-1]
