"""A Reply as plain text: what an SMS carries and what the terminal chat prints.

Texts become paragraphs (one line break, since every character of an SMS
counts) and options become numbered lines ("1 Saldo"); the engine maps a reply
"1" back to the first option offered. Telegram renders options as buttons instead.
"""

from __future__ import annotations

from core.domain.messages import Reply
from core.i18n import render_text


def render_plain(reply: Reply, language: str, *, sms: bool) -> str:
    parts = [render_text(text, language, sms=sms) for text in reply.texts]
    if reply.options:
        parts.append(
            "\n".join(
                f"{number} {render_text(option.label, language, sms=sms)}"
                for number, option in enumerate(reply.options, start=1)
            )
        )
    if reply.pin is not None and not sms:
        # An SMS already names the shop and its address in its texts; a terminal can show where.
        pin = reply.pin
        parts.append(f"({pin.title}, {pin.address}: {pin.latitude:.5f}, {pin.longitude:.5f})")
    return "\n".join(part for part in parts if part)
