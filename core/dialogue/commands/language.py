"""The chat's language: LINGUA's choice (set_language, with the way back said in the
language left behind), and the way to English after a command written in English to an
Italian chat by SMS (hint_english)."""

from __future__ import annotations

from dataclasses import replace

from core.dialogue.context import ACKNOWLEDGED, DECLINED, Turn
from core.dialogue.flows import FLOWS
from core.dialogue.menus import (
    LANGUAGE_DONE,
    show_menu,
    switch_language,
    way_to_language,
    welcome,
)
from core.dialogue.questions import APOLOGY

# Commands that only tell something: written in English to a chat in another language
# ("balance please", "thank you"), their answer ends with the way to English (IN_ENGLISH)
# when it fits the one SMS. The help says it itself; LANGUAGE offers the languages.
_TOLD_IN_ENGLISH = frozenset(
    {"balance", "status", "card", "shops", "more", "menu", "office", "thanks", "greeting",
     "lost_card", "lost_phone", "other_card", "delegation", "stop_hint", "price", "expiry",
     "window",
     "scam", "how_to_pay", "what_to_buy", "card_trouble", "forgot_code", "who_can_apply",
     "how_much_given", "new_number", "household_changed", "shop_refuses",
     "code_trouble", "code_late", "not_enough", "job_lost", "bills", "why_refused",
     "code_came", DECLINED, ACKNOWLEDGED, APOLOGY, "undo_payment"}
)  # fmt: skip


def hint_english(turn: Turn, name: str) -> None:
    """After the command `name`: the way to English, for someone who wrote English to an
    Italian chat by SMS (or to Italian, for Italian written to an English chat), in its
    last message when it fits (never a second SMS)."""
    way = way_to_language(turn) if turn.is_sms and name in _TOLD_IN_ENGLISH else None
    if way is None:
        return
    if not turn.replies or any(
        text.msgid == way.msgid for reply in turn.replies for text in reply.texts
    ):
        return
    last = turn.replies[-1]
    if (
        last.request is None
        and last.document is None
        and last.pin is None
        and not last.sensitive
        and turn.fits_sms([*last.texts, way], last.options)
    ):
        turn.replies[-1] = replace(last, texts=(*last.texts, way))


async def set_language(turn: Turn, language: str) -> None:
    # The way back to the language left behind only when one was left behind: "LINGUA IT"
    # written to a chat already in Italian changes nothing to undo.
    done = await switch_language(turn, language)
    flow = FLOWS.get(turn.flow or "")
    if flow is not None and turn.step is not None:
        if not flow.asks_language(turn):
            # The request's question comes again in the new language, after the same
            # confirmation the menu heads with.
            turn.say(done)
        await flow.on_language_chosen(turn)
        return
    if turn.municipality is None:
        return
    if turn.new_chat:
        # "Please write in English" as a chat's first words: who writes comes first, as
        # for any first message; "Done" only when a language was left behind (a known
        # citizen's), with its way back.
        await show_menu(turn, welcome(turn), done if done is LANGUAGE_DONE else None)
        return
    await show_menu(turn, done)
