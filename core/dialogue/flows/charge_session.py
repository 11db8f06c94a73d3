"""The till a payment is asked from, and an SMS till's session. On SMS the sender's number
can be forged and every wrong payment code counts against the shop, so a till on SMS first
confirms its session with a code sent to its own number, valid TILL_SESSION, and the
session ends after TILL_WRONG_CODES wrong codes typed in it. Shared by the charge flow
(flows/charge.py) and by codes typed at a till with nothing open (flows/charge_waiting.py).
"""

from __future__ import annotations

from datetime import timedelta

from core.dialogue.context import Turn

# A till by SMS is confirmed once with a code sent to its number, for this long.
TILL_SESSION = timedelta(hours=12)
# Wrong payment codes (or PINs) an SMS till session may type before it must be confirmed
# again: a forger of the shop's number adds at most this many per session the shop opens,
# below the 5 that lock the shop.
TILL_WRONG_CODES = 2


def till_session_open(turn: Turn, shop_id: int) -> bool:
    session = turn.memory.till
    return session is not None and session.shop_id == shop_id and session.until > turn.now


def _till(turn: Turn) -> str:
    """The till a payment is asked from (its `requested_by`): this chat."""
    return f"{turn.channel}:{turn.address}"
