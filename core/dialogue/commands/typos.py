"""A keyword with a slip ("SALDP", "sald0"): the one keyword it is near enough to (typo_of),
run, or suggested where acting on a guess would do harm (on_typo)."""

from __future__ import annotations

from core.dialogue.commands.running import run
from core.dialogue.context import Turn
from core.dialogue.keywords import KEYWORDS
from core.dialogue.menus import (
    community_on,
    is_shop_member,
    say_help,
)
from core.dialogue.words import (
    fold,
    typo_distance,
)
from core.domain.messages import Option, t

# A one-word message one slip away from a keyword ("Sadlo", "saldp", "AIUTOO", "domnada").
# Read-only commands run at once: an elderly person who mistyped SALDO wants the balance,
# not the help. Those that start something (an application, a payment, a registration)
# are only suggested, with a Yes to confirm. STOP and START are compliance words: they
# act only when written exactly, and a message close to them is never taken for another
# word (the help names them). CANCEL and TOWN are left out: with no request open there is
# nothing to cancel, and a town is picked from the list.
RUN_ON_TYPO = frozenset(
    {"help", "menu", "balance", "status", "card", "shops", "language", "statement",
     "reimbursement", "more", "office"}
)  # fmt: skip
NEVER_ON_TYPO = frozenset({"stop", "start", "cancel", "leave", "town"})
# Words that mean something only at a shop's till, or where community vouchers are on:
# elsewhere a near miss ("pago") is no typo of theirs, and gets the help.
SHOP_ONLY = frozenset({"charge", "refund", "cashier", "cashiers", "statement", "reimbursement"})
COMMUNITY_ONLY = frozenset({"buy", "give", "vouchers", "donate"})
# How each suggested command is named, in Italian and English.
SUGGESTED: dict[str, tuple[str, str]] = {
    "apply": ("DOMANDA", "APPLY"),
    "appeal": ("RICORSO", "APPEAL"),
    "charge": ("PAGA", "PAY"),
    "refund": ("STORNO", "REFUND"),
    "cashier": ("CASSIERE", "CASHIER"),
    "cashiers": ("CASSIERI", "CASHIERS"),
    "join": ("INVITO", "JOIN"),
    "register": ("REGISTRA", "REGISTER"),
    "shopkeeper": ("NEGOZIANTE", "SHOPKEEPER"),
    "buy": ("COMPRA", "BUY"),
    "donate": ("DONA", "DONATE"),
    "give": ("REGALA", "GIVE"),
    "vouchers": ("BUONI", "VOUCHERS"),
}
# Short words are too close to ordinary ones ("pay" and "yes", "?" and "ok"): they count only
# written exactly. Up to 6 letters one slip is allowed ("salve" is not SALDO), from 7 two.
_TYPO_MIN = 4
_LONGEST = max(len(word) for word in KEYWORDS)


def _slips_allowed(keyword: str) -> int:
    return 1 if len(keyword) <= 6 else 2


# On a keypad phone the letter O and the figure 0 share a key (and look alike): "SALD0",
# "NEG0ZI" are the keyword, when most of the word is letters ("0000" is no word).
_KEYPAD_ZERO = str.maketrans({"0": "o"})


def keypad_keyword(text: str | None) -> str | None:
    """The command a one-word message is with a zero typed for the letter O ("SALD0",
    "NEG0ZI"), when most of the word is letters; never STOP, START nor the others that
    act only when exact (NEVER_ON_TYPO)."""
    word = fold(text)
    if "0" not in word or sum(ch.isalpha() for ch in word) <= word.count("0"):
        return None
    name = KEYWORDS.get(word.translate(_KEYPAD_ZERO))
    return None if name is None or name in NEVER_ON_TYPO else name


def typo_of(text: str | None) -> str | None:
    """The command a one-word message misspells, when only one command is that close."""
    word = fold(text)
    if "0" in word and sum(ch.isalpha() for ch in word) > word.count("0"):
        word = word.translate(_KEYPAD_ZERO)
        if word in KEYWORDS:
            return keypad_keyword(text)
    if not word.isalpha() or not _TYPO_MIN <= len(word) <= _LONGEST + 2 or word in KEYWORDS:
        return None
    near: dict[str, int] = {}
    for keyword, name in KEYWORDS.items():
        slips = typo_distance(word, keyword) if len(keyword) >= _TYPO_MIN else None
        if slips is not None and slips <= _slips_allowed(keyword):
            near[name] = min(slips, near.get(name, slips))
    # The nearest: "casiere" is one slip from CASSIERE and two from CASSIERI.
    nearest = [name for name, slips in near.items() if slips == min(near.values(), default=0)]
    if len(nearest) != 1:
        return None  # nothing close, or two commands as close: the help says which words work
    name = nearest[0]
    return None if name in NEVER_ON_TYPO else name


async def on_typo(turn: Turn, name: str) -> None:
    """Run, or suggest, the command a one-word message misspells (see typo_of)."""
    if (name in SHOP_ONLY and not await is_shop_member(turn)) or (
        name in COMMUNITY_ONLY and not community_on(turn)
    ):
        await say_help(turn, understood=False)
        return
    if name in RUN_ON_TYPO:
        await run(turn, name, "")
        return
    italian, english = SUGGESTED[name]
    turn.say(
        t("Did you mean {keyword}?", keyword=english if turn.language == "en" else italian),
        # "1", "sì", "yes" or the button runs the command; anything else is read afresh.
        options=[Option(name, t("Yes"))],
    )
