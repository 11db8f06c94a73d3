"""A Reply as plain text: what an SMS carries and what the terminal chat prints.

Texts become paragraphs (one line break, since every character of an SMS
counts) and options become numbered lines ("1 Saldo"); the engine maps a reply
"1" back to the first option offered. Telegram renders options as buttons instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.domain.messages import MapPin, Option, Reply, Text
from core.i18n import render_text, septets_at_most


def render_plain(reply: Reply, language: str, *, sms: bool) -> str:
    return render_parts(reply.texts, reply.options, language, sms=sms, pin=reply.pin)


def render_parts(
    texts: Sequence[Text],
    options: Sequence[Option],
    language: str,
    *,
    sms: bool,
    pin: MapPin | None = None,
) -> str:
    """`render_plain` of a reply of these texts, options and pin, without making the
    Reply (a frozen record of seven fields: the check whether an SMS fits makes one
    for every try)."""
    parts = [render_text(text, language, sms=sms) for text in texts]
    if options:
        parts.append(
            "\n".join(
                f"{number} {render_text(option.label, language, sms=sms)}"
                for number, option in enumerate(options, start=1)
            )
        )
    if pin is not None and not sms:
        # An SMS already names the shop and its address in its texts; a terminal can show where.
        parts.append(f"({pin.title}, {pin.address}: {pin.latitude:.5f}, {pin.longitude:.5f})")
    return "\n".join(part for part in parts if part)


def sms_septets_at_most(
    texts: Sequence[Text], options: Sequence[Option], language: str
) -> int | None:
    """At most how many septets `render_parts(texts, options, language, sms=True)` takes,
    without rendering a text (core.i18n.septets_at_most); None when a text's template can
    only be counted rendered."""
    # A line break between two parts (the texts, the options' lines), each one septet.
    total = len(texts) - 1 if texts else -1
    for text in texts:
        septets = septets_at_most(text, language)
        if septets is None:
            return None
        total += septets
    if options:
        # Each option "<number> <label>" on a line of its own, the first after the texts.
        total += len(options)
        for number, option in enumerate(options, start=1):
            septets = septets_at_most(option.label, language)
            if septets is None:
                return None
            total += len(str(number)) + 1 + septets
    return max(total, 0)
