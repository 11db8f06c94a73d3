"""Words that work at every step, on every channel, in Italian and English.

"AIUTO", "aiuto!", "Help", "/help", "👍 SALDO", "*MENU*" all fold to the same command.
A command that takes an argument ("NEGOZI 62020", "PAGA RSSMRA85T10A562S 12,50") is
recognised by its first word; the others only when they are the whole message, give or
take courtesy words ("Saldo per favore"), so that an answer like "Menu del giorno" (a
shop name) is not taken for MENU. A few questions in plain words are commands too
(PHRASES: "quanto mi resta?"), from a small table, never by guessing.

`parse` is the one reading of keywords: the engine's general path and the one-trip plain
turn (plain_turn.py) both call it, so they recognise the same forms.

A package of small modules, one for each part of a command's life:

- reading: the keywords, PHRASES and a language named, read (parse, of_message, of_answer);
- typos: a keyword with a slip, run or suggested (typo_of, on_typo);
- running: what each command does (run), a deep link, the shop a member's chat chooses;
- questions_answered: the answers to questions said in words (answer_in_words);
- cancelling: ANNULLA (cancel, also words giving up at a question: GAVE_UP) and a payment
  refused in words (refuse_in_words);
- interruptions: a request made half-way through another (interrupt, remind, reprompt);
- language: LINGUA (set_language) and the way to English (hint_english);
- answers: the texts the commands answer with that others name.

Callers import from here (`from core.dialogue import commands`, `commands.parse`). A name
with a leading underscore is the package's own: its modules share some of them, callers
never read them.
"""

from __future__ import annotations

from core.dialogue.commands.answers import (
    AMOUNT_TYPED,
    CARD_TROUBLE,
    CODE_NOTHING_WAITS,
    CODE_OF_A_DRAFT,
    CODE_TROUBLE,
    DELEGATE_FOR_YOU,
    DELEGATION,
    FORGOT_CODE,
    HOUSEHOLD_CHANGED,
    HOW_MANY_AT_HOME,
    HOW_TO_PAY,
    LOST_CARD,
    LOST_CARD_ASK_OFFICE,
    NEW_NUMBER,
    NO_LONGER_THAT_SHOP,
    NOT_A_SCAM,
    NOT_ENOUGH_AT_THE_TILL,
    OTHER_CARD_LOST,
    SHOP_OR_SHOPS_ASKED,
    SHOP_REFUSES,
    UNDO_A_PAYMENT,
    VOUCHERS_ARE_FREE,
    VOUCHERS_DO_NOT_EXPIRE,
    WALLET_LOST,
    WALLET_LOST_ASK_OFFICE,
    WALLET_LOST_NO_CARD,
    WHAT_TO_BUY,
)
from core.dialogue.commands.cancelling import GAVE_UP, refuse_in_words
from core.dialogue.commands.interruptions import interrupt, remind, reprompt, says
from core.dialogue.commands.language import hint_english, set_language
from core.dialogue.commands.questions_answered import say_code_came, say_lost_card
from core.dialogue.commands.reading import (
    COMMANDS,
    EXACT_ONLY,
    FLOW_COMMANDS,
    LANGUAGE_WORDS,
    PHRASES,
    TAKES_ARGUMENT,
    language_asked,
    language_named,
    of_answer,
    of_message,
    parse,
    phrase_of,
)
from core.dialogue.commands.running import choose_shop, deep_link, run
from core.dialogue.commands.typos import (
    COMMUNITY_ONLY,
    NEVER_ON_TYPO,
    RUN_ON_TYPO,
    SHOP_ONLY,
    SUGGESTED,
    keypad_keyword,
    on_typo,
    typo_of,
)
from core.dialogue.menus import LANGUAGE_DONE, LANGUAGE_KEPT

__all__ = [
    "AMOUNT_TYPED",
    "CARD_TROUBLE",
    "CODE_NOTHING_WAITS",
    "CODE_OF_A_DRAFT",
    "CODE_TROUBLE",
    "COMMANDS",
    "COMMUNITY_ONLY",
    "DELEGATE_FOR_YOU",
    "DELEGATION",
    "EXACT_ONLY",
    "FLOW_COMMANDS",
    "FORGOT_CODE",
    "GAVE_UP",
    "HOUSEHOLD_CHANGED",
    "HOW_MANY_AT_HOME",
    "HOW_TO_PAY",
    "LANGUAGE_DONE",
    "LANGUAGE_KEPT",
    "LANGUAGE_WORDS",
    "LOST_CARD",
    "LOST_CARD_ASK_OFFICE",
    "NEVER_ON_TYPO",
    "NEW_NUMBER",
    "NOT_A_SCAM",
    "NOT_ENOUGH_AT_THE_TILL",
    "NO_LONGER_THAT_SHOP",
    "OTHER_CARD_LOST",
    "PHRASES",
    "RUN_ON_TYPO",
    "SHOP_ONLY",
    "SHOP_OR_SHOPS_ASKED",
    "SHOP_REFUSES",
    "SUGGESTED",
    "TAKES_ARGUMENT",
    "UNDO_A_PAYMENT",
    "VOUCHERS_ARE_FREE",
    "VOUCHERS_DO_NOT_EXPIRE",
    "WALLET_LOST",
    "WALLET_LOST_ASK_OFFICE",
    "WALLET_LOST_NO_CARD",
    "WHAT_TO_BUY",
    "choose_shop",
    "deep_link",
    "hint_english",
    "interrupt",
    "keypad_keyword",
    "language_asked",
    "language_named",
    "of_answer",
    "of_message",
    "on_typo",
    "parse",
    "phrase_of",
    "refuse_in_words",
    "remind",
    "reprompt",
    "run",
    "say_code_came",
    "say_lost_card",
    "says",
    "set_language",
    "typo_of",
]
