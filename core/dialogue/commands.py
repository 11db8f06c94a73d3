"""Words that work at every step, on every channel, in Italian and English.

"AIUTO", "aiuto!", "Help", "/help", "👍 SALDO", "*MENU*" all fold to the same command.
A command that takes an argument ("NEGOZI 62020", "PAGA RSSMRA85T10A562S 12,50") is
recognised by its first word; the others only when they are the whole message, give or
take courtesy words ("Saldo per favore"), so that an answer like "Menu del giorno" (a
shop name) is not taken for MENU. A few questions in plain words are commands too
(PHRASES: "quanto mi resta?"), from a small table, never by guessing.

`parse` is the one reading of keywords: the engine's general path and the one-trip plain
turn (plain_turn.py) both call it, so they recognise the same forms.
"""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import pairwise

from core.dialogue import failure_words as failing
from core.dialogue import stray_codes
from core.dialogue.context import DECLINED, Input, Turn
from core.dialogue.flows import FLOWS, shop_finder
from core.dialogue.flows import citizen as citizen_requests
from core.dialogue.flows.base import VERIFY, not_a_shop
from core.dialogue.flows.charge import cancel_at_till
from core.dialogue.flows.shop_reports import show_reimbursements
from core.dialogue.inbound import Inbound
from core.dialogue.menus import (
    community_on,
    is_shop_member,
    offer_languages,
    office_contact,
    say_help,
    say_office_contact,
    show_menu,
    way_to_language,
    welcome,
)
from core.dialogue.state import ApplyState
from core.dialogue.words import (
    NUMBER_WORDS,
    as_said,
    clean,
    fold,
    has_digits,
    plain_words,
    typo_distance,
)
from core.domain.channels import Channel
from core.domain.messages import Option, Text, t
from core.domain.shops import ShopStatus, searched_category
from core.i18n import supported

# How someone else may pay with a person's vouchers (docs/cards-and-delegates.md).
DELEGATION = t(
    "To use another person's vouchers you need their delegation: ask your municipality's "
    "social services together. Then their codes and SALDO come to you."
)

# "Mia figlia può fare la spesa per me?", "mio marito può usare i miei buoni?": the holder
# asks whether someone of the family may shop or ask for her; told from her side, as
# DELEGATION is told to whoever would help.
DELEGATE_FOR_YOU = t(
    "Yes, once the municipality registers them as your delegate: go together to the social "
    "services. Then your payment codes and SALDO go to their phone."
)

# "Quanto costano i buoni?", "devo pagare per la domanda?": nothing, ever. Said with who
# may not ask for money, since someone who asks for a fee is a swindler the office must hear of.
VOUCHERS_ARE_FREE = t(
    "The vouchers are free: the municipality gives them to households in need. Nobody may "
    "ask you for money for them: if someone does, tell the office."
)

KEYWORDS: dict[str, str] = {
    "aiuto": "help",
    "help": "help",
    "info": "help",
    "?": "help",
    "stop": "stop",
    "stopall": "stop",
    "unsubscribe": "stop",
    "disiscrivi": "stop",
    "start": "start",
    "avvia": "start",
    "riattiva": "start",
    "unstop": "start",
    "lingua": "language",
    "language": "language",
    "lang": "language",
    "menu": "menu",
    "home": "menu",
    "annulla": "cancel",
    "cancel": "cancel",
    # ESCI has always been a word for ANNULLA; from a shop's member with no request open
    # it means leaving the shop (run() below), asked with a Yes first.
    "esci": "leave",
    "leave": "leave",
    "saldo": "balance",
    "balance": "balance",
    "credito": "balance",
    "carta": "card",
    "card": "card",
    "tessera": "card",
    "negozi": "shops",
    "shops": "shops",
    "shop": "shops",
    "domanda": "apply",
    "apply": "apply",
    "richiesta": "apply",
    "ricorso": "appeal",
    "ricorsi": "appeal",
    "appeal": "appeal",
    "stato": "status",
    "status": "status",
    "paga": "charge",
    "pay": "charge",
    "incassa": "charge",
    "charge": "charge",
    "storno": "refund",
    "refund": "refund",
    "storna": "refund",
    "resoconto": "statement",
    "statement": "statement",
    "estratto": "statement",
    "rimborso": "reimbursement",
    "rimborsi": "reimbursement",
    "reimbursement": "reimbursement",
    "reimbursements": "reimbursement",
    "cassiere": "cashier",
    "cashier": "cashier",
    "cassieri": "cashiers",
    "cashiers": "cashiers",
    "invito": "join",
    "join": "join",
    "registra": "register",
    "register": "register",
    "negoziante": "shopkeeper",
    "shopkeeper": "shopkeeper",
    "esercente": "shopkeeper",
    "comune": "town",
    "town": "town",
    "compra": "buy",
    "buy": "buy",
    "dona": "donate",
    "donate": "donate",
    "regala": "give",
    "give": "give",
    "buoni": "vouchers",
    "vouchers": "vouchers",
    "ufficio": "office",
    "office": "office",
    "contatti": "office",
    "contatto": "office",
    "contact": "office",
    "contacts": "office",
    "altri": "more",
    "more": "more",
    "avanti": "more",
    "next": "more",
}
TAKES_ARGUMENT = frozenset(
    {"shops", "charge", "language", "join", "refund", "statement", "start", "appeal"}
)
# Option keys that are commands too (menu buttons): a tap runs the command.
COMMANDS = frozenset(KEYWORDS.values()) | {"switch", DECLINED}
# Commands that start a flow of the same name in FLOWS.
FLOW_COMMANDS = {
    "shops": "shops",
    "apply": "apply",
    "appeal": "appeal",
    "charge": "charge",
    "refund": "refund",
    "statement": "statement",
    "cashier": "cashier",
    "cashiers": "cashiers",
    "join": "join",
    "register": "register",
    "shopkeeper": "shopkeeper",
    "buy": "buy",
    "donate": "donate",
    "give": "give",
    "vouchers": "vouchers",
}
LANGUAGE_WORDS = {
    "it": "it",
    "ita": "it",
    "italiano": "it",
    "italian": "it",
    "en": "en",
    "eng": "en",
    "english": "en",
    "inglese": "en",
}


# Questions in plain words that ask for a command, whole (after courtesy words and
# punctuation are left out, see words.plain_words), per language. An explicit table: a
# sentence that is not here is read as before (a keyword inside it, or the help), and a
# message with a digit (a payment code, an amount) is never one of these.
PHRASES: dict[str, str] = {
    # Italian
    "quanto mi resta": "balance",
    "quanto mi rimane": "balance",
    "quanto ho": "balance",
    "quanto ho ancora": "balance",
    "quanto posso spendere": "balance",
    "quanto posso spendere ancora": "balance",
    "quanto posso ancora spendere": "balance",
    "quanto mi resta da spendere": "balance",
    "quanto ho da spendere": "balance",
    "ho finito i soldi": "balance",
    "ho finito il credito": "balance",
    "sono finiti i soldi": "balance",
    "quanti soldi ho": "balance",
    "quanti soldi mi restano": "balance",
    "quanti soldi mi rimangono": "balance",
    "quanto credito ho": "balance",
    "il mio saldo": "balance",
    "mio saldo": "balance",
    # Asking for help in words: the help, not "I did not understand" before it.
    "non capisco": "help",
    "non ho capito": "help",
    "cosa devo fare": "help",
    "che devo fare": "help",
    "non ho capito niente": "help",
    "non ho capito nulla": "help",
    "non capisco niente": "help",
    "non ci capisco niente": "help",
    "aiutatemi": "help",
    "mi aiutate": "help",
    "ho bisogno di aiuto": "help",
    "che cosa devo fare": "help",
    "come funziona": "help",
    # Asking for a person: how to reach the office (UFFICIO).
    "voglio parlare con qualcuno": "office",
    "posso parlare con qualcuno": "office",
    "vorrei parlare con qualcuno": "office",
    "chi posso chiamare": "office",
    "numero del comune": "office",
    "telefono del comune": "office",
    "numero dellufficio": "office",
    "telefono dellufficio": "office",
    "come contatto il comune": "office",
    "come contatto lufficio": "office",
    "servizi sociali": "office",
    "assistente sociale": "office",
    # ANNULLA said in a sentence, at the till or by the customer who refuses to pay: the
    # same as ANNULLA (it ends the request open, else refuses the payments waiting).
    "annulla il pagamento": "cancel",
    "annulla pagamento": "cancel",
    "annulla la spesa": "cancel",
    "annulla la richiesta": "cancel",
    "annulla la domanda": "cancel",
    "annulla tutto": "cancel",
    "voglio annullare": "cancel",
    "voglio annullare il pagamento": "cancel",
    # English
    "how much do i have left": "balance",
    "how much can i spend": "balance",
    "how much i have": "balance",
    "how much can i still spend": "balance",
    "how much do i have left to spend": "balance",
    "have i run out of money": "balance",
    "have i finished my money": "balance",
    "how much have i got left": "balance",
    "how much is left": "balance",
    "how much do i have": "balance",
    "how much money do i have": "balance",
    "how much money do i have left": "balance",
    "whats my balance": "balance",
    "what is my balance": "balance",
    "my balance": "balance",
    "i dont understand": "help",
    "i do not understand": "help",
    "what do i do": "help",
    "how does it work": "help",
    "i want to talk to someone": "office",
    "can i talk to someone": "office",
    "who can i call": "office",
    "social services": "office",
    "cancel the payment": "cancel",
    "cancel payment": "cancel",
    "cancel the request": "cancel",
    "cancel the application": "cancel",
    "cancel everything": "cancel",
    "i want to cancel": "cancel",
}
# Commands that count only as the keyword itself (with punctuation or an emoji around it):
# STOP is a compliance word, never read out of other words.
EXACT_ONLY = frozenset({"stop"})


# "Vorrei sapere quanto ho", "mi dice quanto mi resta?", "I'd like to know how much I
# have": the question after them is the phrase ("vorrei sapere quanto ho incassato" is
# none of PHRASES, and stays a shop's question).
_WANT_TO_KNOW = (
    ("vorrei", "sapere"), ("volevo", "sapere"), ("voglio", "sapere"), ("mi", "dice"),
    ("mi", "dica"), ("mi", "puo", "dire"), ("id", "like", "to", "know"),
    ("i", "would", "like", "to", "know"), ("i", "want", "to", "know"),
    ("can", "you", "tell", "me"),
)  # fmt: skip
# "Voglio parlare con una persona", "vorrei parlare con l'assistente sociale", "can I talk
# to a person?": asking for someone of the office, told how to reach it (UFFICIO). Not
# "voglio parlare con mia figlia", nor with a shop.
_TALK_TO = (
    ("voglio", "parlare", "con"), ("vorrei", "parlare", "con"), ("volevo", "parlare", "con"),
    ("posso", "parlare", "con"), ("parlare", "con"), ("i", "want", "to", "talk", "to"),
    ("i", "want", "to", "speak", "to"), ("can", "i", "talk", "to"),
    ("can", "i", "speak", "to"), ("id", "like", "to", "talk", "to"),
    ("id", "like", "to", "speak", "to"), ("talk", "to"), ("speak", "to"),
)  # fmt: skip
_SOMEONE_AT_THE_OFFICE = frozenset(
    {"qualcuno", "persona", "operatore", "operatrice", "impiegato", "impiegata",
     "assistente sociale", "lassistente sociale", "servizi sociali", "ufficio", "lufficio",
     "someone", "somebody", "person", "human", "operator", "social worker",
     "social services", "office"}
)  # fmt: skip
_ARTICLES = frozenset({"un", "una", "il", "la", "i", "mia", "mio", "a", "an", "the", "my"})


def _asks_for_someone(words: list[str]) -> bool:
    for start in _TALK_TO:
        if tuple(words[: len(start)]) == start:
            rest = words[len(start) :]
            while rest and rest[0] in _ARTICLES:
                rest = rest[1:]
            return " ".join(rest) in _SOMEONE_AT_THE_OFFICE
    return False


def phrase_of(text: str | None) -> str | None:
    """The command a whole message asks for in plain words: one of PHRASES (after "vorrei
    sapere"), asking to talk to someone of the office, or a keyword that takes no argument
    between courtesy words ("Buongiorno, SALDO grazie")."""
    words = as_said(plain_words(text))
    if not words or has_digits(words):
        return None
    said = " ".join(words)
    if said in PHRASES:
        return PHRASES[said]
    for lead in _WANT_TO_KNOW:
        if tuple(words[: len(lead)]) == lead and " ".join(words[len(lead) :]) in PHRASES:
            return PHRASES[" ".join(words[len(lead) :])]
    if _asks_for_someone(words):
        return "office"
    name = KEYWORDS.get(said)
    if name is None or name in TAKES_ARGUMENT or name in EXACT_ONLY:
        return None
    return name


# A language named alone ("italiano", "English", "in italiano per favore") is LINGUA with
# it, at every step like the other keywords; in a sentence it is a word of the answer ("non
# parlo bene l'italiano"). The short codes (IT, EN) count only after LINGUA.
_LANGUAGE_NAMES = frozenset({"italiano", "italian", "inglese", "english"})


def language_named(text: str | None) -> str | None:
    """The language a message names alone, as LINGUA IT / LANGUAGE EN would ("it", "en")."""
    words = plain_words(text)
    if words[:1] == ["in"]:
        words = words[1:]
    if len(words) != 1 or words[0] not in _LANGUAGE_NAMES:
        return None
    return LANGUAGE_WORDS[words[0]]


def _from_first_word(text: str) -> str:
    """The message from its first letter or digit: "👍 SALDO" -> "SALDO". A leading "/",
    "+" or "-" stays (a Telegram command, a phone number, a negative amount)."""
    at = 0
    while at < len(text) and not (text[at].isalnum() or text[at] in "/+-"):
        at += 1
    return text[at:] or text


def parse(text: str | None) -> tuple[str, str] | None:
    """(command, argument) when the message is a command, else None."""
    cleaned = clean(text)
    if not cleaned:
        return None
    first, _, rest = _from_first_word(cleaned).partition(" ")
    # Telegram appends the bot's name to commands in groups: "/menu@buonispesa_bot".
    name = KEYWORDS.get(fold(first.split("@", 1)[0]))
    if name is not None:
        if not plain_words(rest) and (name not in EXACT_ONLY or not fold(rest)):
            return name, ""  # "SALDO", "saldo.", "SALDO 👍", "Saldo per favore"
        if name in TAKES_ARGUMENT:
            return name, rest.strip()
    said = phrase_of(cleaned)
    if said is not None:
        return said, ""
    language = language_named(cleaned)
    return ("language", language) if language is not None else None


def of_message(inbound: Inbound) -> tuple[str, str] | None:
    """The command a message is before reading it as an answer: a keyword, a tapped
    command button, a Telegram /start link."""
    command = parse(inbound.text)
    if command is None and inbound.option in COMMANDS:
        command = (inbound.option or "", "")
    if inbound.start_parameter and (command is None or command == ("start", "")):
        command = ("start", inbound.start_parameter)
    return command


def of_answer(
    command: tuple[str, str] | None, inp: Input, text: str | None, *, asked: bool
) -> tuple[str, str] | None:
    """The command once the message is read against the options offered: an option that
    is a command, else, when nothing is being asked (`asked`: a flow stands at a step),
    the one keyword of a sentence."""
    if command is None and inp.choice in COMMANDS:
        command = (inp.choice or "", "")
    if command is None and inp.choice is None and not asked:
        # Nothing asked: "Buongiorno, vorrei sapere il mio saldo" means SALDO.
        command = unasked(text)
    return command


async def interrupt(turn: Turn) -> Text | None:
    """Leave the current flow for another request; a draft keeps its answers for later.
    Returns what reminds the person of the draft left waiting, or of what the flow left
    open (a payment waiting for its code); None when nothing was kept or left open."""
    if turn.flow is None:
        return None
    flow = FLOWS.get(turn.flow)
    reminder = flow.draft_reminder() if flow is not None and flow.save_draft(turn) else None
    if flow is not None and reminder is None:
        # A payment left waiting for its code stays open: said, never dropped in silence.
        reminder = await flow.left_open(turn)
    if flow is not None:
        await flow.on_leave(turn)
    turn.finish()
    return reminder


def says(turn: Turn, text: Text, start: int = 0) -> bool:
    """Whether the turn's replies from `start` on say this text already."""
    return any(said.msgid == text.msgid for reply in turn.replies[start:] for said in reply.texts)


def remind(turn: Turn, reminder: Text | None) -> None:
    """After the answer to a request made half-way through another: say that one waits,
    in the same message when it fits (one SMS), else in a message of its own. Not when the
    answer said it already (no vouchers yet: the application to complete)."""
    if reminder is None or says(turn, reminder):
        return
    last = turn.replies[-1] if turn.replies else None
    if (
        last is not None
        and not last.options
        and last.request is None
        and last.document is None
        and last.pin is None
        and not last.sensitive
        and (not turn.is_sms or turn.fits_sms([*last.texts, reminder]))
    ):
        turn.replies[-1] = replace(last, texts=(*last.texts, reminder))
        return
    turn.say(reminder)


# Commands that only tell something: written in English to a chat in another language
# ("balance please", "thank you"), their answer ends with the way to English (IN_ENGLISH)
# when it fits the one SMS. The help says it itself; LANGUAGE offers the languages.
_TOLD_IN_ENGLISH = frozenset(
    {"balance", "status", "card", "shops", "more", "menu", "office", "thanks", "greeting",
     "lost_card", "other_card", "delegation", "stop_hint", "price", "expiry", "window",
     "scam", "how_to_pay", "what_to_buy", "card_trouble", "forgot_code", "who_can_apply",
     "how_much_given", "new_number", "household_changed", "shop_refuses",
     "code_trouble", "not_enough", "job_lost", "bills",
     "code_came", DECLINED}
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


async def reprompt(turn: Turn) -> None:
    flow = FLOWS.get(turn.flow or "")
    if flow is not None and turn.step is not None:
        await flow.ask(turn)


async def set_language(turn: Turn, language: str) -> None:
    # The way back to the language left behind only when one was left behind: "LINGUA IT"
    # written to a chat already in Italian changes nothing to undo.
    done = LANGUAGE_DONE if supported(language) != turn.language else LANGUAGE_KEPT
    turn.set_language(language)
    # The language buttons are answered: a "2" from now on answers the question asked again.
    turn.offered = []
    citizen = await turn.citizen()
    if citizen is not None and turn.receives_notices_of(citizen):
        # Notices (payment codes, receipts) follow the language chosen in the chat that
        # receives them; LINGUA by SMS (whose sender can be forged) never re-languages
        # the citizen's Telegram chat.
        citizen.language = turn.language
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
    await show_menu(turn, done)


# The way back is said in the language left behind: a number's language can be changed by
# someone forging its SMS sender, and the person must read how to undo it.
LANGUAGE_DONE = t("Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA.")
# The language asked for is the chat's already: nothing was left behind.
LANGUAGE_KEPT = t("Done: I will write to you in English.")


# A lost card: the office replaces it, and the lost one stops working then (`admin card
# --reissue`, docs/cards-and-delegates.md). Said with the office's contact when both fit
# one SMS, else with the way to it (UFFICIO).
LOST_CARD = t("Lost card? Tell the office: they give you a new card and block the lost one.")
LOST_CARD_ASK_OFFICE = t(
    "Lost card? Tell the office: they give you a new card and block the lost one. To reach "
    "them, write UFFICIO."
)


# "Ho perso la carta d'identità": not the voucher card, whose code would answer nothing
# asked; what is asked is whether the vouchers are at risk (they are not: a payment needs
# the voucher card's codes or the code sent to the phone) and where to turn.
OTHER_CARD_LOST = t(
    "That is not the voucher card: your vouchers still work. To replace it, ask whoever "
    "issued it (the town hall for an identity card)."
)


# "È una truffa?", "siete truffatori?", "is this a scam?": who writes, what the service
# never asks for, and how to check with the office (UFFICIO).
NOT_A_SCAM = t(
    "This is your town's grocery voucher service: we never ask for money, PINs or bank "
    "details, and a code is told only to the cashier. In doubt, write UFFICIO."
)
# "Come faccio a pagare?", "come si usano i buoni?": how a payment is made at the till
# (docs/payments-and-codes.md), and where (NEGOZI).
HOW_TO_PAY = t(
    "At the till, give your codice fiscale or phone number: a code comes to you; tell it to "
    "the cashier and the vouchers pay. NEGOZI says where."
)


# "Mio marito è morto", "è nato mio nipote", "mia figlia è andata via di casa": the
# household changed, which the office records (the application and its amount follow).
HOUSEHOLD_CHANGED = t(
    "A change in your household (someone who died, was born, came or left) is told to the "
    "social services: they update your application. Write UFFICIO to reach them."
)
# "Il codice non funziona", "mi dice codice sbagliato" at the till, with no payment
# waiting for her code (any more): each code pays once, briefly, the payment it came with.
CODE_TROUBLE = t(
    "A payment code works once, for a few minutes, for the payment it came with. Refused or "
    "late? Ask the cashier to write PAGA again: a new code comes to you."
)
# "Il negozio non accetta i buoni": the shops that take them are NEGOZI's; one of those
# that refused is the office's to hear of.
SHOP_REFUSES = t(
    "Only the shops in the NEGOZI list take the vouchers. If one of them refused them, "
    "tell the office: write UFFICIO."
)
# "Il cliente non ha abbastanza soldi" from a shop: nobody tells a shop a customer's
# balance; the payment is refused when it is short, and the customer reads SALDO.
NOT_ENOUGH_AT_THE_TILL = t(
    "A payment larger than the customer's balance is refused, and the balance is never "
    "told to the shop: the customer checks it writing SALDO, or you charge less."
)
# "Quanto danno a una famiglia di 0?": a household is at least the one who asks.
HOW_MANY_AT_HOME = t(
    "How many people live in the house, you included? Ask, e.g.: how much do they give for "
    "a household of 3?"
)


# "Cosa posso comprare con i buoni?", "posso comprare il vino?": what grocery vouchers are
# for (food and basic necessities, at the shops that take them); a product in doubt is the
# cashier's to say. Not an application, which "posso … buoni" would otherwise start.
WHAT_TO_BUY = t(
    "The vouchers buy food and basic necessities at the shops that take them (NEGOZI lists "
    "them). In doubt about a product, ask the cashier."
)


# "Cosa posso comprare con i buoni?", "posso comprare il vino?", "what can I buy?".
_BUY = frozenset({"comprare", "comprarci", "compro", "acquistare", "acquisto", "buy"})
_WHAT_OR_MAY = frozenset({"cosa", "che", "quali", "quale", "posso", "puo", "what", "can"})
# "Quando scadono i buoni?": they do not (no rule or policy gives them an end); what was
# credited stays until spent.
VOUCHERS_DO_NOT_EXPIRE = t(
    "The vouchers have no expiry date: what is left stays on your balance. SALDO shows how much."
)
# "Me so scordato er codice": nothing to remember, and where a card's PIN is asked again.
FORGOT_CODE = t(
    "No code to remember: at each purchase a new code comes to you by SMS, and you tell it "
    "to the cashier. Card PIN forgotten? Write UFFICIO."
)
# "Ho cambiato numero": who records it, and why a message cannot.
NEW_NUMBER = t(
    "A new phone number is recorded only by the municipality's social services, so that "
    "nobody else gets your codes. Write UFFICIO to reach them."
)
# "La tessera nn funziona": how a card pays (docs/cards-and-delegates.md), and where to turn.
CARD_TROUBLE = t(
    "Card refused at the till? The cashier types the card number and asks for one code of "
    "your slip (each works once). Still refused? Write UFFICIO."
)
# "Mi è arrivato un codice, cosa devo fare?" with no payment waiting for it.
CODE_NOTHING_WAITS = t(
    "No payment waits for a code of yours now. A payment code is told only to the cashier, "
    "when you pay. If you did not ask for it, give it to nobody."
)
# The same with a request of this chat left at its code step (an application): the code
# typed here finishes it (stray_codes.on_code).
CODE_OF_A_DRAFT = t("That code confirms the request you left half-way: write it here to finish it.")


async def say_code_came(turn: Turn) -> None:
    """What a code received is for: a payment waiting for it (named, with how to answer),
    the request this chat left at its code step, else nothing that waits for it. A shop's
    chat gets the help, as before: its codes say what they confirm."""
    if await is_shop_member(turn):
        await say_help(turn, understood=False)
        return
    if await stray_codes.on_words_while_paying(turn):
        return
    if any(draft.step == VERIFY for draft in turn.memory.drafts.values()):
        turn.say(CODE_OF_A_DRAFT)
        return
    turn.say(CODE_NOTHING_WAITS)


def say_lost_card(turn: Turn) -> None:
    contact = office_contact(turn)
    if not turn.is_sms or turn.fits_sms([LOST_CARD, contact]):
        turn.say(LOST_CARD, contact)
    else:
        turn.say(LOST_CARD_ASK_OFFICE)


async def deep_link(turn: Turn, payload: str) -> None:
    """A link or QR code opened in Telegram: /start <card code>."""
    code = "".join(ch for ch in payload.upper() if ch.isalnum()).removeprefix("CARD")
    if not code:
        await show_menu(turn, welcome(turn))
        return
    if await turn.shop() is not None:
        # At the till: scanning a customer's card starts a charge for that card.
        await FLOWS["charge"].begin(turn, code)
        return
    citizen = await turn.citizen()
    if citizen is None and await citizen_requests.represented(turn) is not None:
        # A delegate's proven phone: the balance it acts for, as SALDO (the card is the
        # holder's, and a delegate pays without it).
        await citizen_requests.show_balance(turn)
        return
    if citizen is None and turn.channel == Channel.TELEGRAM:
        # Asked for the contact (then the card's balance), or found by the one shared here.
        citizen = await citizen_requests.identified(turn, f"card:{code}")
        if citizen is None:
            return
    if citizen is None:
        await show_menu(turn, welcome(turn))
        return
    if citizen.card_code != code:
        turn.say(t("This card is not in your name. Here is your own balance."))
    await citizen_requests.show_balance(turn)


async def run(turn: Turn, name: str, arg: str) -> None:
    """Run a command. STOP, START and the choice of town are the engine's (they touch routing)."""
    if name == "help":
        if turn.flow is None and not await is_shop_member(turn):
            # A payment waiting for this person's code comes first: how to agree or refuse
            # (by SMS and on Telegram alike: the code came to this chat).
            await stray_codes.on_words_while_paying(turn)
        text = turn.inbound.text or ""
        # "non capisco", or only question marks: someone lost, not someone after the words.
        in_words = " ".join(plain_words(text)) in PHRASES or not text.strip("?¿ ")
        await say_help(turn, in_words=in_words)
        await reprompt(turn)
    elif name == "menu":
        await show_menu(turn, await interrupt(turn))
    elif name == "leave":
        if turn.flow is None and await is_shop_member(turn):
            await FLOWS["leave"].begin(turn, arg)
        else:
            # Anywhere else ESCI is what it always was: ANNULLA.
            await run(turn, "cancel", arg)
    elif name == "cancel":
        flow = FLOWS.get(turn.flow or "")
        if flow is None and await stray_codes.refuse_payments(turn):
            return
        if flow is None and await cancel_at_till(turn):
            # A payment this till left waiting for its code (MENU at its code step).
            return
        if flow is None and turn.memory.drafts:
            # MENU said "you have an application to complete": ANNULLA gives it up.
            turn.memory.drafts.clear()
            await show_menu(turn, t("Cancelled: the request you had left half-way is deleted."))
            return
        if flow is None:
            await show_menu(turn, t("There is nothing to cancel."))
            return
        editing = isinstance(turn.state, ApplyState) and turn.state.mode == "edit"
        await flow.on_cancel(turn)
        flow.drop_draft(turn)
        turn.finish()
        if editing:
            # Cancelling a change leaves the application sent before as it was.
            await show_menu(turn, t("Cancelled: your application is unchanged."))
            return
        if await cancel_at_till(turn):
            # At a till, what it holds waiting for a code goes too, named: "Cancelled."
            # is never said while a code told later would still pay.
            return
        waiting = await stray_codes.cancelled_while_paying(turn)
        if waiting is not None and turn.is_sms:
            # A payment whose code was sent here is not what this ANNULLA cancelled: said,
            # or the person believes they refused it (the next ANNULLA does). By SMS the
            # sentence alone: the menu after it would be a second SMS.
            turn.say(waiting)
            return
        await show_menu(turn, waiting or t("Cancelled."))
    elif name == "language":
        language = LANGUAGE_WORDS.get(fold(arg))
        if language is not None:
            await set_language(turn, language)
        else:
            offer_languages(turn)
    elif name == "start":
        reminder = await interrupt(turn)
        if arg:
            await deep_link(turn, arg)
            remind(turn, reminder)
        else:
            await show_menu(turn, reminder or welcome(turn))
    elif name == "status" and (acting := await turn.shop()) is not None:
        # A shop's number has no application. A shop not approved (waiting for the office,
        # or refused) has a state of its own, which the menu's first line says; an approved
        # one's phone hears that it is a shop's and its words, as for SALDO.
        reminder = await interrupt(turn)
        shop_number = await citizen_requests.shop_number(turn)
        if shop_number is None or acting[1].status != ShopStatus.APPROVED:
            await show_menu(turn, reminder)
            return
        turn.say(shop_number)
        remind(turn, reminder)
    elif name == "reimbursement" and await turn.shop() is None:
        # "Quando arrivano i soldi?" from a citizen asks after their own application.
        await run(turn, "status", arg)
    elif name in ("balance", "status", "card", "reimbursement"):
        reminder = await interrupt(turn)
        show = {
            "balance": citizen_requests.show_balance,
            "status": citizen_requests.show_status,
            "card": citizen_requests.show_card,
            "reimbursement": show_reimbursements,
        }[name]
        await show(turn)
        remind(turn, reminder)
    elif name == "more":
        await shop_finder.more(turn)
    elif name == "thanks" and turn.channel == Channel.TELEGRAM:
        # On Telegram the menu's buttons under it, as under any answer that leaves nothing
        # asked: someone who taps rather than types has a button left.
        await show_menu(turn, t("You're welcome!"))
    elif name == "thanks":
        shop = await is_shop_member(turn)
        turn.say(
            t("You're welcome! Write MENU or AIUTO when you need.")
            if shop
            else t("You're welcome! Write SALDO, NEGOZI or AIUTO when you need.")
        )
    elif name in ("greeting", DECLINED):
        # A greeting: the welcome says what the service is, the menu what to write. "No
        # grazie" to "Did you mean DOMANDA?": nothing starts, the menu says what can. A
        # payment waiting for this person's code comes first, as for the help.
        if (
            turn.is_sms
            and not await is_shop_member(turn)
            and await stray_codes.on_words_while_paying(turn)
        ):
            return
        way = way_to_language(turn) if name == "greeting" and turn.is_sms else None
        if way is not None:
            # "Hello" to an Italian chat: an Italian menu would say little to them, the way
            # to English does (the menu follows LANGUAGE EN); "buongiorno" to an English
            # one likewise.
            turn.say(welcome(turn), way)
            return
        await show_menu(turn, welcome(turn) if name == "greeting" else t("All right."))
    elif name == "lost_card":
        say_lost_card(turn)
    elif name == "other_card":
        turn.say(OTHER_CARD_LOST)
    elif name == "delegation":
        if arg == "balance" and await citizen_requests.represented(turn) is not None:
            # "Quanto resta a mia madre?" from her registered delegate: what SALDO shows.
            await citizen_requests.show_balance(turn)
        elif arg == "for_you":
            turn.say(DELEGATE_FOR_YOU)
        else:
            turn.say(DELEGATION)
    elif name == "price":
        turn.say(VOUCHERS_ARE_FREE)
    elif name == "code_came":
        await say_code_came(turn)
    elif name == "expiry":
        turn.say(VOUCHERS_DO_NOT_EXPIRE)
    elif name == "forgot_code" and await is_shop_member(turn):
        # A cashier's code is the shop's business (CASSIERE): its words.
        await say_help(turn, understood=False)
    elif name == "forgot_code":
        turn.say(FORGOT_CODE)
    elif name == "new_number":
        turn.say(NEW_NUMBER)
    elif name == "who_can_apply":
        await citizen_requests.say_who_can_apply(turn)
    elif name == "how_much_given" and arg.startswith(_CHILDREN_ARG):
        # "Ho 3 figli quanto mi danno": she and they at least, and how to ask for all.
        children = int(arg.removeprefix(_CHILDREN_ARG))
        turn.say(citizen_requests.amount_with_children(turn.policy, children))
    elif name == "how_much_given" and arg.isdigit() and int(arg) == 0:
        # "Famiglia di 0": how many live in the house, and how to ask for them.
        turn.say(HOW_MANY_AT_HOME)
    elif name == "how_much_given" and arg.isdigit() and int(arg) > _LARGEST_HOUSEHOLD:
        # "Famiglia di 25": the office decides, and what the rules give the largest sizes.
        turn.say(citizen_requests.amount_for_a_large_household(turn.policy, int(arg)))
    elif name == "how_much_given" and arg.isdigit():
        # "Quanto danno a una famiglia di 4?": that household's amount by the town's rules.
        turn.say(citizen_requests.amount_for_household(turn.policy, int(arg)))
    elif name == "how_much_given":
        turn.say(citizen_requests.amounts_given(turn.policy))
    elif name == "household_changed":
        turn.say(HOUSEHOLD_CHANGED)
    elif name == "shop_refuses":
        turn.say(SHOP_REFUSES)
    elif name == "not_enough" and await is_shop_member(turn):
        turn.say(NOT_ENOUGH_AT_THE_TILL)
    elif name == "not_enough":
        await run(turn, "balance", arg)  # her own: what is left, and what to do with none
    elif name in ("job_lost", "bills") and await is_shop_member(turn):
        await say_help(turn, understood=False)
    elif name == "bills":
        await citizen_requests.say_bills(turn)
    elif name == "job_lost":
        await citizen_requests.say_job_lost(turn)
    elif name == "code_trouble" and await is_shop_member(turn):
        await say_help(turn, understood=False)
    elif name == "code_trouble":
        # A payment waiting for her code comes first: which, and how to agree or refuse.
        if not await stray_codes.on_words_while_paying(turn):
            turn.say(CODE_TROUBLE)
    elif name == "window":
        await citizen_requests.say_window(turn)
    elif name == "what_to_buy":
        turn.say(WHAT_TO_BUY)
    elif name == "how_to_pay" and await is_shop_member(turn):
        # A shop's chat asks how to charge: the help names PAGA.
        await say_help(turn, understood=False)
    elif name in ("scam", "how_to_pay") and await is_shop_member(turn):
        turn.say(NOT_A_SCAM)
    elif name in ("scam", "how_to_pay"):
        # A code that just came is what she asks about: the shop, the amount, and how to
        # agree or refuse (ANNULLA) come first, alone (one SMS).
        if not await stray_codes.on_words_while_paying(turn):
            turn.say(NOT_A_SCAM if name == "scam" else HOW_TO_PAY)
    elif name == "card_trouble":
        turn.say(CARD_TROUBLE)
    elif name == "office":
        reminder = await interrupt(turn)
        say_office_contact(turn)
        remind(turn, reminder)
    elif name == "stop_hint":
        turn.say(
            t(
                "To receive no more messages, write STOP on its own. Payment codes and "
                "receipts still arrive."
            )
        )
    elif name == "switch":
        reminder = await interrupt(turn)
        turn.memory.shop_id = None
        await show_menu(turn, reminder)
    elif name in FLOW_COMMANDS:
        again = turn.flow == FLOW_COMMANDS[name]
        reminder = await interrupt(turn)
        said_at = None
        if reminder is not None and not again:
            # Before the new request's question, which stays the last thing asked.
            # (The same request written again offers its draft back at once.)
            turn.say(reminder)
            said_at = len(turn.replies) - 1
        await FLOWS[FLOW_COMMANDS[name]].begin(turn, arg)
        if said_at is not None and reminder is not None and says(turn, reminder, said_at + 1):
            # The new request's answer says it itself (RICORSO: nothing to appeal yet, the
            # application to complete): once, in that answer.
            del turn.replies[said_at]
        elif said_at is not None and name == "statement":
            # The till's statement asked while a payment waits for its code: the payment
            # and the takings in one SMS when they fit (a busy cashier reads one message).
            _join_next(turn, said_at)
    else:
        await show_menu(turn)


def _join_next(turn: Turn, at: int) -> None:
    """Reply `at` (plain texts) joined before the reply after it, when both make one
    message (one SMS); else left as they are."""
    if at + 1 >= len(turn.replies):
        return
    first, then = turn.replies[at], turn.replies[at + 1]
    plain = all(
        reply.request is None
        and reply.document is None
        and reply.pin is None
        and not reply.sensitive
        and reply.invoice is None
        for reply in (first, then)
    )
    texts = [*first.texts, *then.texts]
    if plain and not first.options and (not turn.is_sms or turn.fits_sms(texts, then.options)):
        turn.replies[at : at + 2] = [replace(then, texts=tuple(texts))]


async def choose_shop(turn: Turn, shop_id: int) -> None:
    if any(shop.id == shop_id for _, shop in await turn.memberships()):
        turn.memory.shop_id = shop_id
        await show_menu(turn)
        return
    # Picked from a list shown before the chat stopped working for that shop: said first,
    # or the menu of the shop it still works for would read as the one it picked.
    if turn.memory.removed_from == shop_id:
        await show_menu(turn, await not_a_shop(turn, NO_LONGER_THAT_SHOP))
    else:
        await show_menu(turn, NO_LONGER_THAT_SHOP)


NO_LONGER_THAT_SHOP = t("From this chat you cannot charge for that shop.")


# Keywords recognised inside a sentence ("saldo per favore", "vorrei sapere il mio saldo"):
# only those that cannot be an ordinary word of an answer or a greeting.
SENTENCE_KEYWORDS = frozenset(
    {
        "saldo", "balance", "credito", "negozi", "shops", "domanda", "apply", "stato",
        "status", "carta", "tessera", "card", "aiuto", "help", "lingua", "language", "menu",
        "ricorso", "appeal", "resoconto", "rimborso", "rimborsi",
    }
)  # fmt: skip
# Words after NEGOZI in a sentence that are not a town: "negozi a Belforte", "shops in …".
# ("vicino" stays: "negozi vicino a me" asks how to search near, see shop_finder.asks_near.)
_SHOP_FILLER = frozenset({"a", "ad", "di", "in", "nel", "nella", "per", "at", "the", "ci", "sono"})


# Questions in plain words read by the words they hold, when nothing is being asked (see
# of_answer): a handful of deterministic rules over small sets, checked in this order, each
# naming the keywords it may contain (another keyword in the sentence leaves it to
# in_sentence: "vorrei sapere lo stato della domanda" is no application). None of them
# leads to a payment, and a message with a digit is never one of them, but for a household
# size after the amounts' question ("quanto danno a una famiglia di 4?", _household_size).
# "Quanto c'ho sulla tessera", "mi dici quanti soldi mi restano": the balance.
_HOW_MUCH = frozenset({"quanto", "quanti", "quanta", "quante"})
_ENGLISH_HOW_MUCH = (("how", "much"), ("how", "many"))
_MONEY = frozenset(
    {
        "soldi", "sordi", "credito", "saldo", "tessera", "carta", "buoni", "buono", "resta",
        "restano", "rimane", "rimangono", "rimasto", "rimasti", "avanza", "avanzano",
        "avanzato", "speso", "spesi", "money", "credit", "balance", "card", "left",
        "vouchers", "spent",
    }
)  # fmt: skip
# "Ho ancora soldi?", "c'ho ancora li sordi?", "do I still have money?": the balance, when
# the sentence holds no "non" ("non ho ancora la tessera" asks something else) and its
# money word is money, not the card or the vouchers one may still be waiting for.
_STILL = frozenset({"ancora", "still"})
_CASH = frozenset({"soldi", "sordi", "credito", "saldo", "money", "credit", "balance"})
_NEGATION = frozenset({"non", "not", "dont", "no"})
# "Dove posso fare la spesa?", "dove posso usare la tessera", "dove trovo un forno?": the
# shops.
_WHERE = frozenset({"dove", "dov", "where"})
_SPEND = frozenset(
    {
        "spesa", "spendere", "spendo", "spenderli", "usare", "uso", "usarli", "usarla",
        "comprare", "compro", "acquistare", "pagare", "pago", "trovo", "trovare", "trova",
        "shop", "shopping", "spend", "use", "buy", "pay", "find",
    }
)  # fmt: skip
# "Vorrei i buoni spesa", "come faccio a chiedere i buoni?", "io e mio marito vorremmo i
# buoni": the application.
_VOUCHERS = frozenset({"buoni", "buono", "bonus", "domanda", "vouchers", "voucher"})
_WANT = frozenset(
    {
        "vorrei", "voglio", "volevo", "chiedere", "richiedere", "ottenere", "avere",
        "ricevere", "come", "faccio", "posso", "presentare", "want", "get", "need", "how",
        "request",
        # A couple or a family asking together: "io e mio marito vorremmo i buoni".
        "vorremmo", "vogliamo", "volevamo", "possiamo", "facciamo",
    }
)  # fmt: skip
# "A che punto è la mia domanda?", "com'è andata la domanda", "what happened to my
# application?": the status, not a new application (read before the application's rule).
_PROGRESS = frozenset(
    {
        "punto", "andata", "stata", "accettata", "accolta", "approvata", "ammessa",
        "respinta", "esito", "novita", "notizie", "risposta", "stato", "valutata",
        "happened", "accepted", "approved", "news", "progress", "result", "status",
    }
)  # fmt: skip
_APPLICATION = frozenset({"domanda", "richiesta", "application"})
_STATUS_KEYWORDS = frozenset({"domanda", "stato", "status"})
# "Grazie", "ok grazie mille", "thank you": thanks, answered with a word of what to write.
_THANKS = frozenset({"grazie", "thanks", "thank"})
# "Prego!", the courtesy returned to an answer.
_YOURE_WELCOME = frozenset({"prego"})
_WITH_THANKS = frozenset(
    {
        "ok", "okay", "va", "bene", "daccordo", "perfetto", "mille", "tante", "you", "very",
        "much", "gentilissimi", "gentilissima", "gentilissimo", "gentili", "gentile", "siete",
        "sei", "molto", "davvero", "tanto", "tantissimo", "infinite", "buona", "giornata",
        "serata", "arrivederci", "so", "kind", "lot", "bye", "goodbye", "a", "posto",
        "apposto", "tutto", "signora", "signore", "dottoressa", "dottore", "cara", "caro",
    }
)  # fmt: skip
# A greeting alone ("ciao", "buongiorno", "pronto?") or asking who writes ("chi siete?"):
# the welcome, which says what the service is, and the menu.
_GREETINGS = frozenset(
    {"ciao", "buongiorno", "buonasera", "pomeriggio", "salve", "hello", "hi", "morning",
     "afternoon", "evening", "buonanotte",
     # "Buon giorno", "buona sera" written apart (only courtesy words in the message).
     "giorno", "sera", "notte"}
)  # fmt: skip
_HELLO = frozenset({"pronto", "ehi", "hey", "ehila"})
_WHO_ARE_YOU = frozenset(
    {
        "chi siete", "chi siete voi", "chi sei", "chi e", "chi parla", "chi scrive",
        "con chi parlo", "who are you", "who is this", "whos this", "who is it",
    }
)  # fmt: skip
# "Ho perso la tessera", "tessera persa", "non trovo più la carta", "lost my card": how to
# replace it (at the office), not the card's number.
_LOST = frozenset(
    {"perso", "persa", "perduto", "perduta", "smarrito", "smarrita", "smarrimento", "rubato",
     "rubata", "furto", "lost", "lose", "stolen", "missing"}
)  # fmt: skip
_CANT_FIND = frozenset({("non", "trovo"), ("cant", "find"), ("not", "find")})
_CARD = frozenset({"tessera", "carta", "card", "tesserino"})
# Another card lost: "carta d'identità", "carta di credito", "tessera sanitaria".
_OTHER_CARD = frozenset(
    {"didentita", "identita", "credito", "bancomat", "sanitaria", "identity", "id", "credit",
     "debit", "bank", "health"}
)  # fmt: skip
# The words that surely name another card ("credito" alone may be the vouchers' credit:
# "ho perso la tessera, ho ancora credito?"): its loss is told the vouchers are unaffected,
# never shown the voucher card's code (the CARTA inside the sentence).
_SURELY_OTHER_CARD = frozenset(
    {"didentita", "identita", "bancomat", "sanitaria", "identity", "id", "debit", "health"}
)
_OTHER_CARD_PAIRS = frozenset({("di", "credito"), ("credit", "card"), ("bank", "card")})
_CARD_KEYWORDS = frozenset({"tessera", "carta", "card"})
# "Carta di credito", "credit card": its "credito" is no more the vouchers' credit than its
# "carta" is the voucher card.
_CREDIT_CARD_PAIRS = frozenset({("di", "credito"), ("credit", "card")})
_CREDIT = frozenset({"credito", "credit"})
# "Mi resta qualcosa?", "non mi è rimasto niente?", "is there anything left?": the balance.
_REMAINS = frozenset(
    {"resta", "restano", "rimane", "rimangono", "rimasto", "rimasti", "avanza", "left"}
)  # fmt: skip
_ANYTHING = frozenset({"qualcosa", "niente", "nulla", "anything", "something", "nothing"})
# "Non ho più soldi?", "non c'ho più credito", "no money left", "have I run out of money?".
_RUN_OUT = frozenset({("run", "out"), ("no", "more"), ("out", "of")})
# The keywords each rule may hold: any other one leaves the sentence to in_sentence.
_BALANCE_KEYWORDS = frozenset({"saldo", "credito", "tessera", "carta", "balance", "card"})
_SHOPS_KEYWORDS = frozenset({"negozi", "shops", "tessera", "carta", "card"})
_APPLY_KEYWORDS = frozenset({"domanda", "apply"})
# Longer than a question: a story, read by its one keyword if any (in_sentence). An
# elderly person introduces herself first ("sono la signora Maria, vorrei sapere come si
# fa per avere i buoni spesa": 14 words).
_LONGEST_QUESTION = 16
# "Posso fare la spesa per conto della mia vicina?", "delega", "il mio vicino può
# controllare il mio saldo?": how someone else may use a person's vouchers (a delegate,
# registered by the office), before any keyword of the sentence.
_DELEGATION = frozenset(
    {"delega", "delegato", "delegata", "delegare", "deleghe", "delegate", "delegation"}
)  # fmt: skip
_ON_BEHALF = {("per", "conto"), ("on", "behalf")}
# "Quanto costano i buoni?", "si paga la domanda?", "do I have to pay for the vouchers?":
# what they cost (nothing), not the balance that "quanto … buoni" would otherwise ask.
_COST = frozenset({"costano", "costa", "costo", "costi", "prezzo", "cost", "costs", "price"})
_TO_PAY = frozenset(
    {("devo", "pagare"), ("si", "paga"), ("si", "pagano"), ("bisogna", "pagare"),
     ("to", "pay"), ("pay", "for")}
)  # fmt: skip
_PRICED = frozenset(
    {"buoni", "buono", "bonus", "domanda", "tessera", "carta", "vouchers", "voucher",
     "application", "card"}
)  # fmt: skip
# Paying for the card may be paying with it ("how do I pay for the shopping with the
# card?"): only paying for the vouchers or the application asks their price.
_PAID_FOR = frozenset({"buoni", "buono", "bonus", "domanda", "vouchers", "voucher", "application"})
_PRICE_KEYWORDS = frozenset({"domanda", "tessera", "carta", "card"})
# A neighbour with the vouchers or the shopping; not "negozi vicino a me" (shops near).
_HELPER = frozenset({"vicino", "vicina", "badante", "neighbour", "neighbor", "caregiver"})
_HELPED_WITH = frozenset({"saldo", "spesa", "buoni", "soldi", "balance", "shopping", "vouchers"})
_NEAR_WHAT = frozenset({"negozi", "negozio", "dove", "shops", "shop", "where"})
# A parent or grandparent named as someone else's ("il saldo di mia madre", "aiutare mia
# mamma con i buoni", "quanto resta a mio padre?"): a son or daughter helping from their own
# phone, who needs a delegation, not "no vouchers for this number, write DOMANDA" (an
# application of their own, where typing the parent's codice fiscale only alarms them).
# Not someone of the writer's household ("vivo con mia madre", "io e mia madre"): that
# is their own application.
_FAMILY = frozenset(
    {"madre", "mamma", "padre", "papa", "babbo", "nonna", "nonno", "suocera", "suocero",
     "genitori", "mother", "mum", "mom", "father", "dad", "parents", "grandmother",
     "grandfather", "grandma", "grandpa", "mothers", "mums", "moms", "fathers", "dads"}
)  # fmt: skip
# A child or spouse is usually of the writer's household, named for the application ("mio
# marito ha perso il lavoro", "vivo con mia figlia"): a delegation only when the sentence
# says so. Either they act for the writer (below), or they hold the vouchers asked about:
# named after "di" or "a" with the balance, the shopping or their use ("il saldo di mio
# marito", "quanto resta a mio figlio?", "posso usare i buoni di mia moglie?"), never after
# "per" ("vorrei i buoni per mia figlia", "comprare il latte per mio figlio": for them).
_KIN = frozenset(
    {"figlio", "figlia", "figli", "figlie", "marito", "moglie", "compagno", "compagna",
     "son", "daughter", "sons", "daughters", "husband", "wife", "husbands", "wifes"}
)  # fmt: skip
_POSSESSIVE = frozenset({"mia", "mio", "miei", "mie", "my"})
_TOGETHER = frozenset({"con", "e", "with", "and", "insieme"})
_BALANCE_WORDS = frozenset({"saldo", "credito", "balance", "credit"})
_FAMILY_ASKS = _HELPED_WITH | _MONEY | _VOUCHERS | {"aiutare", "aiuto", "help", "stato", "status"}
_OF_OR_TO = frozenset(
    {"di", "del", "della", "dei", "delle", "a", "al", "alla", "ai", "alle", "of", "to", "on"}
)  # fmt: skip
# What a delegate does with the vouchers: shop, pay, use them, ask the balance.
_DELEGATES_DO = frozenset(
    {"spesa", "spese", "comprare", "compra", "acquistare", "pagare", "paga", "usare", "usa",
     "usarli", "usarla", "utilizzare", "spendere", "spenderli", "saldo", "credito",
     "controllare", "vedere", "shop", "shopping", "buy", "pay", "use", "spend", "balance",
     "check"}
)  # fmt: skip
_KIN_ASKS = _DELEGATES_DO | _REMAINS | {"soldi", "money"}
# "Mia figlia può fare la spesa per me?", "può andare mio figlio a comprare?", "can my
# husband use my vouchers?", "il mio vicino può fare la spesa per me?": someone of the
# family (a child, a spouse, a parent) or a neighbour acting for the writer, who asks
# whether they may: the holder, told how from her side (DELEGATE_FOR_YOU).
_MAY = frozenset(
    {"puo", "possono", "potrebbe", "potrebbero", "vuole", "vogliono", "vorrebbe",
     "vorrebbero", "can", "could", "may"}
)  # fmt: skip
_FOR_ME = frozenset(
    {("per", "me"), ("al", "posto"), ("posto", "mio"), ("conto", "mio"), ("miei", "buoni"),
     ("mio", "saldo"), ("mia", "tessera"), ("mia", "carta"), ("mio", "credito"),
     ("for", "me"), ("my", "vouchers"), ("my", "balance"), ("my", "card")}
)  # fmt: skip
# "Vorrei sapere se mi hanno dato i buoni", "sono arrivati i buoni?": whether the vouchers
# came, i.e. the status (which names the balance once credited), never a new application
# that "vorrei … buoni" would start. Past participles only: "vorrei ricevere i buoni" asks
# for them.
_GIVEN = frozenset(
    {"dato", "dati", "date", "data", "arrivati", "arrivato", "arrivata", "arrivate",
     "accreditati", "accreditato", "caricati", "caricato", "ricevuto", "ricevuti", "messi",
     "given", "arrived", "received", "credited"}
)  # fmt: skip
# The money arrived: "mi sono arrivati i soldi?", "has my money arrived?". Not "ho dato i
# soldi" (a story), nor "ho ricevuto i soldi" (said, not asked).
_ARRIVED = frozenset(
    {"arrivati", "arrivato", "accreditati", "accreditato", "caricati", "caricato", "arrived",
     "arrive", "credited"}
)  # fmt: skip
# A shopkeeper's questions: "quando mi paga il comune?", "quando arrivano i soldi?" (the
# reimbursement; for a citizen the same words ask after their application), "quanto ho
# incassato oggi?" (the statement), "vorrei un nuovo cassiere" (a cashier code).
_WHEN = frozenset({"quando", "when"})
_OWES = frozenset({"deve", "devono", "owe", "owes"})
_THE_TOWN = frozenset({"comune", "town", "municipality"})
_TOWN_PAYS = frozenset(
    {"paga", "pagano", "pagate", "pagato", "rimborsa", "rimborso", "rimborsi", "bonifico",
     "soldi", "arrivano", "pay", "pays", "paid", "reimburse", "reimbursement", "money"}
)  # fmt: skip
_TAKINGS = frozenset({"incassato", "incassati", "incasso", "incassi", "takings", "earned"})
_TODAY = frozenset({"oggi", "today"})
_CASHIER = frozenset({"cassiere", "cassiera", "cashier"})
# Adding a person, not "il cassiere mi chiede un nuovo codice" (a customer at the till).
_ADD = frozenset({"aggiungere", "aggiungi", "add"})
_NEW_CASHIER = {("nuovo", "cassiere"), ("nuova", "cassiera"), ("new", "cashier")}
# "Non voglio più messaggi", "stop non mandatemi più sms": STOP is a compliance word that
# acts only alone, so a sentence asking it is told how.
# "Mi è arrivato un codice, cosa devo fare?", "I got a code": what a code received is for
# (a payment waiting for it, the request left at its code step, else nothing to do with
# it). Not "non mi è arrivato il codice", nor the codice fiscale.
_CODE_WORDS = frozenset({"codice", "codici", "code", "codes"})
_CODE_CAME = frozenset(
    {"arrivato", "arrivata", "arrivati", "arriva", "arrivano", "ricevuto", "ricevuti",
     "giunto", "mandato", "mandati", "inviato", "inviati", "received", "got", "came",
     "arrived", "sent"}
)  # fmt: skip
_NOT_CAME = frozenset({"non", "mai", "nessun", "not", "didnt", "havent", "hasnt", "never"})
# "Me so scordato er codice", "ho dimenticato il pin", "non ricordo il codice", "I forgot
# the code": no code is to be remembered (each payment's comes by SMS); a card's, the office.
_FORGOT = frozenset(
    {"scordato", "scordata", "scordo", "dimenticato", "dimenticata", "dimentico", "forgot",
     "forgotten", "forget"}
)  # fmt: skip
_CANT_REMEMBER = frozenset({("dont", "remember"), ("cant", "remember"), ("not", "remember")})
_PIN = frozenset({"pin"})
# "Ho cambiato numero", "ho un telefono nuovo", "I changed my number": only the office
# records a new number (identity-and-consent.md), never a message from it.
_CHANGED = frozenset(
    {"cambiato", "cambiata", "cambiare", "cambio", "nuovo", "nuova", "changed", "change", "new"}
)
_PHONE_WORDS = frozenset({"numero", "telefono", "cellulare", "sim", "number", "phone"})
# "Chi ha diritto ai buoni?", "chi può chiedere i buoni?", "who can apply?": who may have
# them, by the town's rules (its policy), not the application itself.
_ENTITLED = frozenset(
    {("ha", "diritto"), ("hanno", "diritto"), ("ho", "diritto"), ("abbiamo", "diritto"),
     ("is", "eligible"), ("am", "i", "eligible"), ("are", "eligible")}
)  # fmt: skip
_MAY_APPLY = frozenset({"puo", "possono", "spettano", "spetta", "diritto", "can", "eligible"})
# "Quanto danno?", "quanti soldi danno di buoni?", "how much do they give?": the town's
# amounts by household size, not the balance the money words would otherwise ask.
_GIVEN_OUT = frozenset({"danno", "date", "da", "dà", "spetta", "spettano", "give", "gives"})
# "A chi devo dare il codice?", "il codice a chi lo do": to the cashier only, when paying;
# the same answer as a code that came (the payment waiting for it, or nothing waits).
_WHO = frozenset({"chi", "who"})
_TELL = frozenset(
    {"dare", "do", "dico", "dire", "dato", "detto", "darlo", "dirlo", "give", "tell"}
)  # fmt: skip
# "È una truffa?", "siete dei truffatori?", "is this a scam?".
_SCAM = frozenset(
    {"truffa", "truffe", "truffatori", "truffatore", "truffaldini", "imbroglio", "imbroglioni",
     "fregatura", "raggiro", "scam", "scams", "scammers", "fraud", "phishing"}
)  # fmt: skip
# "Come faccio a pagare?", "come si usano i buoni", "how do I pay?": how a payment is made
# (read after the shops' "dove" and the price's "devo pagare per la domanda?").
_HOW = frozenset({"come", "how"})
_PAYING = frozenset(
    {"pagare", "paga", "pago", "pagamento", "pagamenti", "usare", "uso", "usano", "usa",
     "utilizzare", "utilizzano", "spendere", "spendo", "pay", "use", "spend", "payment"}
)  # fmt: skip
# "Quando scadono i buoni?", "il credito scade?", "entro quando devo spendere i buoni?":
# they do not expire. Not the application's deadline ("quando scade la domanda?") nor a
# payment code's ("quanto dura il codice?").
_EXPIRE = frozenset(
    {"scadono", "scade", "scadenza", "scaduti", "scaduto", "scadere", "scadranno",
     "scadra", "expire", "expires", "expiry", "expiring", "expired"}
)  # fmt: skip
_UNTIL_WHEN = frozenset({("entro", "quando"), ("fino", "a"), ("until", "when")})
_SPENT_MONEY = frozenset(
    {"buoni", "buono", "bonus", "soldi", "sordi", "credito", "saldo", "vouchers", "voucher",
     "money", "credit", "balance"}
)  # fmt: skip
_NOT_THE_VOUCHERS = frozenset(
    {"domanda", "richiesta", "application", "codice", "code", "tessera", "carta", "card",
     "ricorso", "appeal"}
)  # fmt: skip
# "La tessera nn funziona", "la carta non passa", "my card doesn't work": what to do.
# "Quando scade la domanda?", "fino a quando posso fare domanda?", "quando chiudono le
# domande?", "until when can I apply?": when the application window closes (or opens), told
# with what to write next; never an application started, which the keyword DOMANDA inside
# the sentence would be. Not how it is going ("quando arriva la risposta alla domanda?").
_APPLYING = frozenset(
    {"domanda", "domande", "richiesta", "richieste", "bando", "application", "applications",
     "apply"}
)  # fmt: skip
_WINDOW_EDGE = _EXPIRE | frozenset(
    {"chiude", "chiudono", "chiusura", "chiuse", "chiuso", "termine", "termina", "terminano",
     "aprono", "apre", "apertura", "aperte", "aperto", "deadline", "close", "closes",
     "closing", "open", "opens"}
)  # fmt: skip
_TO_APPLY = frozenset({"fare", "presentare", "mandare", "inviare", "apply"})
_MESSAGES = frozenset({"messaggi", "messaggio", "sms", "messages", "texts"})
_NO_MORE = frozenset({"stop", "basta", "piu", "smettere", "smettete", "more", "unsubscribe"})


# A number of years or of people said with the question ("mi chiamo Rosa, ho 82 anni e
# vorrei i buoni", "ho 3 figli, come faccio a chiedere i buoni?"): no code nor amount, left
# out before the question is read. Any other number keeps the message from being one.
_COUNTED = frozenset(
    {"anni", "anno", "figli", "figlie", "figlio", "figlia", "bambini", "nipoti", "persone",
     "years", "children", "kids"}
)  # fmt: skip


def _without_counts(words: list[str]) -> list[str]:
    """The words without "82 anni", "3 figli" (one or two digits before such a noun)."""
    kept: list[str] = []
    for at, word in enumerate(words):
        counted = word.isdigit() and len(word) <= 2 and words[at + 1 : at + 2]
        if counted and counted[0] in _COUNTED:
            continue
        kept.append(word)
    return kept


def question_of(text: str | None) -> tuple[str, str] | None:
    """The request a question in plain words makes (see the sets above), else None."""
    folded = fold(text).split()
    # Every word, courtesy included, without the punctuation after it ("grazie, buona…").
    every = {word.strip(",.'") for word in folded}
    said_words = as_said(plain_words(text))  # "quant'è che c'ho sui bbuoni?"
    size, without_size = _household_size(said_words)
    if size is not None and ("€" in (text or "") or _CURRENCY & set(said_words)):
        return None  # "famiglia di 5 euro": an amount, no household size
    if size is not None:
        # "Quanto danno a una famiglia di 4?": only that question takes the number.
        asked = question_of(" ".join(without_size))
        return ("how_much_given", str(size)) if asked == ("how_much_given", "") else None
    children, without_children = _children(said_words)
    if children is not None and question_of(" ".join(without_children)) == ("how_much_given", ""):
        # "Ho 3 figli quanto mi danno": the household is her and them at least (other
        # questions read on: "ho 3 figli, come faccio a chiedere i buoni?" applies).
        return "how_much_given", f"{_CHILDREN_ARG}{children}"
    words = _without_counts(said_words)
    if not words:
        # Only courtesy words: thanks, or a greeting (the welcome and the menu).
        if every & _THANKS:
            return "thanks", ""
        if every & _YOURE_WELCOME and not every & _GREETINGS:
            # "Prego!" after an answer: a courtesy, answered like a no to a suggestion ("All
            # right." and the menu), not "I did not understand".
            return DECLINED, ""
        return ("greeting", "") if every & _GREETINGS else None
    if has_digits(words) or len(words) > _LONGEST_QUESTION:
        return None
    said = frozenset(words)
    if said <= _WITH_THANKS and every & _THANKS:
        return "thanks", ""  # "ok grazie", "va bene grazie mille", "grazie, gentilissimi"
    unhello = words[1:] if words[0] in _HELLO else words
    if not unhello or " ".join(unhello) in _WHO_ARE_YOU:
        return "greeting", ""  # "pronto?", "pronto, chi parla?", "chi siete?"
    if len(words) == 1 and KEYWORDS.get(words[0]) == "stop":
        # "Stop per favore": STOP acts only alone (EXACT_ONLY), so how to write it.
        return "stop_hint", ""
    keywords = said & SENTENCE_KEYWORDS
    pairs = set(pairwise(words))
    if said & _MESSAGES and said & _NO_MORE:
        return "stop_hint", ""
    forgot = said & _FORGOT or {"non", "ricordo"} <= said or pairs & _CANT_REMEMBER
    if forgot and said & (_CODE_WORDS | _PIN) and not said & {"fiscale"}:
        return ("forgot_code", "") if keywords <= _CARD_KEYWORDS else None
    if pairs & _ENTITLED or (said & _WHO and said & _MAY_APPLY and said & (_VOUCHERS | {"apply"})):
        return ("who_can_apply", "") if keywords <= _APPLY_KEYWORDS else None
    how_much_given = said & _HOW_MUCH or pairs.intersection(_ENGLISH_HOW_MUCH)
    if how_much_given and said & _GIVEN_OUT and not said & _NEGATION:
        return ("how_much_given", "") if not keywords else None
    told = said & _WHO and said & _TELL
    if said & _CODE_WORDS and (said & _CODE_CAME or told) and not said & (_NOT_CAME | {"fiscale"}):
        return ("code_came", "") if not keywords else None
    if said & _CHANGED and said & _PHONE_WORDS and not said & (_CODE_WORDS | _CASHIER):
        return ("new_number", "") if not keywords else None
    if said & _SCAM or (said & (_MESSAGES | _CALLS) and said & _STRANGE):
        return "scam", ""  # "ho ricevuto un messaggio strano": codes to the cashier only
    moved = said & _MOVED or pairs & _MOVED_PAIRS or (said & _LIVES and pairs & _WITH_US)
    wants_vouchers = said & _VOUCHERS and said & _WANT  # "… e vorrei i buoni": applying
    changed = said & _DIED or pairs & _DIED_PAIRS or moved
    if _names_someone(words) and changed and not wants_vouchers:
        return ("household_changed", "") if not keywords else None
    code_fails = (said & failing.CARD_WORKS and said & failing.NEGATION) or said & (
        failing.REFUSED | failing.WRONG
    )
    if said & _CODE_WORDS and code_fails and not said & (_CARD | {"fiscale", "pin"}):
        return ("code_trouble", "") if not keywords else None
    refuses = (said & failing.REFUSE and said & failing.NEGATION) or said & failing.REFUSED
    if said & _A_SHOP and refuses and said & (_VOUCHERS | {"li", "them"}) and not keywords:
        return "shop_refuses", ""
    if said & _BILLS or (said & _UTILITIES and said & (_CUT_OFF | _TO_PAY_BILLS)):
        # "Mi hanno tagliato la luce", "non riesco a pagare l'affitto": what the vouchers
        # are for (not bills), how to apply or her status, and the office for other help.
        return ("bills", "") if keywords <= _APPLY_KEYWORDS | _STATUS_KEYWORDS else None
    short = said & _INSUFFICIENT or (said & _ENOUGH and said & (_NEGATION | _NOT_HAVE))
    if short and said & _CASH:
        return ("not_enough", "") if keywords <= _BALANCE_KEYWORDS else None
    jobless = said & _JOBLESS or (said & _WORK and said & (_LOST | _WITHOUT))
    if jobless and not wants_vouchers:  # "… ha perso il lavoro, vorrei i buoni": applying
        return ("job_lost", "") if keywords <= _APPLY_KEYWORDS | _STATUS_KEYWORDS else None
    until_when = pairs & _UNTIL_WHEN and said & _WHEN and said & _SPEND
    if (said & _EXPIRE or until_when) and said & _SPENT_MONEY and not said & _NOT_THE_VOUCHERS:
        return ("expiry", "") if keywords <= _BALANCE_KEYWORDS else None
    edge = said & _WINDOW_EDGE or pairs & _UNTIL_WHEN or (said & _WHEN and said & _TO_APPLY)
    if said & _APPLYING and edge and not said & _PROGRESS:
        return ("window", "") if keywords <= _APPLY_KEYWORDS else None
    if said & _TAKINGS:
        return "statement", "oggi" if said & _TODAY else ""
    if said & _WHEN and said & _TOWN_PAYS:
        return "reimbursement", ""
    if said & _HOW_MUCH and said & _OWES and said & _THE_TOWN:
        return "reimbursement", ""  # "quanto mi deve il comune?": what is still to reimburse
    if (said & _CASHIER and said & _ADD) or pairs & _NEW_CASHIER:
        return "cashier", ""
    lost = said & _LOST or pairs & _CANT_FIND
    if lost and said & _CARD and (said & _SURELY_OTHER_CARD or pairs & _OTHER_CARD_PAIRS):
        return ("other_card", "") if keywords <= _CARD_KEYWORDS | {"credito"} else None
    if lost and said & _CARD and not said & _OTHER_CARD:
        return ("lost_card", "") if keywords <= _CARD_KEYWORDS else None
    other_card = another_card(words)
    if other_card:
        # "Devo portare la carta d'identità?": the rules below read the sentence without
        # the other card's words, never as the voucher card nor its credit.
        words = [word for word in words if word not in other_card]
        said, pairs = frozenset(words), set(pairwise(words))
        keywords = said & SENTENCE_KEYWORDS
    card_fails = (said & failing.CARD_WORKS and said & failing.NEGATION) or said & failing.REFUSED
    if said & _CARD and card_fails and not said & _LOST:
        return ("card_trouble", "") if keywords <= _CARD_KEYWORDS else None
    if _acts_for_writer(words):
        return "delegation", "for_you"
    helper = said & _HELPER and said & _HELPED_WITH and not said & _NEAR_WHAT
    if said & _DELEGATION or pairs & _ON_BEHALF or helper:
        return "delegation", ""
    if _names_a_parent(words) and said & _FAMILY_ASKS:
        # A registered delegate asking the balance gets it (run: "balance").
        how_much = said & _HOW_MUCH and said & _MONEY
        asks_balance = how_much or said & (_BALANCE_WORDS | _REMAINS)
        return "delegation", "balance" if asks_balance else ""
    if _names_kin_as_holder(words) and said & _KIN_ASKS:
        asks_balance = said & (_BALANCE_WORDS | _REMAINS)
        return "delegation", "balance" if asks_balance else ""
    if (said & _COST and said & _PRICED) or (pairs & _TO_PAY and said & _PAID_FOR):
        return ("price", "") if keywords <= _PRICE_KEYWORDS else None
    if (said & _HOW_MUCH or pairs.intersection(_ENGLISH_HOW_MUCH)) and said & _MONEY:
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    if said & _STILL and said & _CASH and not said & _NEGATION:
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    run_out = said & _CASH and (
        {"non", "piu"} <= said or pairs & _RUN_OUT or {"no", "left"} <= said
    )
    if (said & _REMAINS and said & _ANYTHING) or run_out or _penniless(said, pairs):
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    # "Dove posso comprare il pane?": the bakeries, not the question of what to search.
    goods = [
        part
        for word in folded
        for part in word.split("'")  # "un'alimentari" (plain_words joins it)
        if searched_category(part) is not None
    ]
    # "Dove sta il forno?", "dov'è la farmacia?": where a kind of shop is, a search too.
    if said & _WHERE and (said & _SPEND or goods):
        if not keywords <= _SHOPS_KEYWORDS:
            return None
        return "shops", goods[0] if goods else ""
    if said & _BUY and said & _WHAT_OR_MAY and keywords <= _CARD_KEYWORDS:
        return "what_to_buy", ""
    if said & _HOW and said & _PAYING:
        # With the card ("how do I pay with the card?") CARTA answers, as before.
        return ("how_to_pay", "") if not keywords else None
    if said & _PROGRESS and said & _APPLICATION and keywords <= _STATUS_KEYWORDS:
        return "status", ""
    if said & _GIVEN and said & _VOUCHERS and keywords <= _STATUS_KEYWORDS:
        return "status", ""
    if said & _ARRIVED and said & _CASH and keywords <= {"credito"}:
        # "Mi sono arrivati i soldi?": a citizen's status, a shop's reimbursements (run).
        return "reimbursement", ""
    if said & _VOUCHERS and said & _WANT and keywords <= _APPLY_KEYWORDS:
        return "apply", ""
    if len(words) == 1 and searched_category(words[0]) is not None:
        # "Farmacia", "alimentari?", "pane" alone, with nothing asked: the shop search for
        # it (it only reads), not "not understood".
        return "shops", words[0]
    if every & _GREETINGS and _introduces_herself(words):
        # "Ciao sono Maria", "buongiorno sono la signora Bianchi": a greeting with her name,
        # answered as the greeting alone (the welcome and the menu), not "not understood".
        return "greeting", ""
    return None


# The questions in words a shop's chat asks about its own money (its takings, the town's
# reimbursements): read at a till's question too, where other words are an answer.
# A customer short of money too ("il cliente non ha abbastanza soldi" where who pays is
# asked): the shop's answer everywhere, never a payer's name.
_SHOP_QUESTIONS = frozenset({"statement", "reimbursement", "not_enough"})


def shop_question(text: str | None) -> tuple[str, str] | None:
    """The statement or the reimbursements a question in words asks for ("quanto ho
    incassato oggi?", "quando paga il comune?"), or a customer short of money, else None
    (see question_of)."""
    asked = question_of(text)
    return asked if asked is not None and asked[0] in _SHOP_QUESTIONS else None


# "Sono Maria", "mi chiamo Giuseppe", "I am Anna": the writer's name after a greeting.
_INTRODUCTIONS = (("sono",), ("mi", "chiamo"), ("i", "am"), ("im",), ("my", "name", "is"))
_LONGEST_NAME = 3  # "la signora Bianchi", "Maria Rossi"
# Words after "sono" that say how she is or what she did, not who: "buonasera sono tornato"
# where an amount is asked is still no answer, "ciao sono senza soldi" no greeting.
_NAME_IS_NOT = frozenset(
    {
        "tornato", "tornata", "tornati", "qui", "qua", "ancora", "sempre", "di", "nuovo",
        "senza", "solo", "sola", "disoccupato", "disoccupata", "anziano", "anziana",
        "malato", "malata", "rimasto", "rimasta", "stato", "stata", "in", "non", "io",
        "back", "here", "again", "not", "alone", "a", "an", "out", "without",
    }
)  # fmt: skip


def _penniless(said: frozenset[str], pairs: set[tuple[str, str]]) -> bool:
    """ "Sono senza soldi", "siamo senza una lira", "I have no money": the balance, which
    says what to do when there is none (an application, else what is left)."""
    return bool(said & _WITHOUT and said & (_CASH | {"lira", "euro"})) or bool(pairs & _NO_MONEY)


_WITHOUT = frozenset({"senza", "without"})
# "Non riesco a pagare le bollette", "ho l'affitto da pagare", "mi hanno tagliato la luce",
# "I can't pay the rent": bills and rent, which the vouchers never pay.
_BILLS = frozenset(
    {"bolletta", "bollette", "bollete", "affitto", "laffitto", "affitti", "bill", "bills",
     "rent"}
)  # fmt: skip
_UTILITIES = frozenset(
    {"luce", "gas", "acqua", "lacqua", "corrente", "elettricita", "riscaldamento",
     "electricity", "power", "water", "heating"}
)  # fmt: skip
_CUT_OFF = frozenset(
    {"tagliato", "tagliata", "tagliati", "staccato", "staccata", "staccati", "sospeso",
     "sospesa", "cut", "disconnected"}
)  # fmt: skip
_TO_PAY_BILLS = frozenset({"pagare", "pago", "pay"})
# "Il cliente non ha abbastanza soldi", "credito insufficiente", "not enough money".
_ENOUGH = frozenset({"abbastanza", "sufficiente", "sufficienti", "bastano", "basta", "enough"})
_INSUFFICIENT = frozenset({"insufficiente", "insufficienti", "insufficient"})
_NOT_HAVE = failing.NEGATION | {"hasnt", "havent", "lacks"}
# "Sono rimasta senza lavoro", "ho perso il lavoro", "sono disoccupata", "I lost my job".
_WORK = frozenset({"lavoro", "impiego", "job", "work"})
_JOBLESS = frozenset(
    {"disoccupato", "disoccupata", "disoccupati", "licenziato", "licenziata", "licenziati",
     "unemployed", "jobless", "fired"}
)  # fmt: skip
# "Ho ricevuto un messaggio strano", "una chiamata sospetta", "a weird text": the scam's
# answer (_MESSAGES, and a call or one message).
_CALLS = frozenset({"chiamata", "telefonata", "chiamato", "call", "called", "message", "text"})
_STRANGE = frozenset(
    {"strano", "strana", "strani", "strane", "sospetto", "sospetta", "sospetti", "weird",
     "strange", "suspicious", "odd"}
)  # fmt: skip
_NO_MONEY = frozenset({("no", "money"), ("nessun", "soldo"), ("zero", "soldi")})
# Someone of the household who died: "mio marito è morto", "è venuta a mancare mia
# madre", "my husband passed away". Not the phone or the card ("il telefono è morto").
_DIED = frozenset(
    {"morto", "morta", "morti", "deceduto", "deceduta", "scomparso", "scomparsa", "died",
     "dead", "deceased"}
)  # fmt: skip
_DIED_PAIRS = frozenset(
    {("venuto", "a"), ("venuta", "a"), ("passed", "away"), ("ci", "ha"), ("ha", "lasciato")}
)
# Said of a shop: "il negozio non accetta i buoni", "la cassiera non li prende".
_A_SHOP = frozenset(
    {"negozio", "negozi", "negoziante", "supermercato", "alimentari", "cassiere", "cassiera",
     "forno", "macelleria", "shop", "store", "supermarket", "cashier"}
)  # fmt: skip


# Someone who came to live with the writer or left, or was born: "mia figlia vive con me
# adesso", "mio figlio è andato via di casa", "è nato mio nipote", "my son moved out".
_MOVED = frozenset(
    {"nato", "nata", "nati", "trasferito", "trasferita", "separato", "separata", "born",
     "moved"}
)  # fmt: skip
_MOVED_PAIRS = frozenset(
    {("andato", "via"), ("andata", "via"), ("venuto", "a"), ("venuta", "a"), ("e", "tornato"),
     ("e", "tornata"), ("moved", "in"), ("moved", "out")}
)  # fmt: skip
_LIVES = frozenset({"vive", "abita", "lives"})
_WITH_US = frozenset({("con", "me"), ("con", "noi"), ("with", "me"), ("with", "us")})
_RELATIVES = _KIN | _FAMILY | {"nipote", "nipoti", "fratello", "sorella", "grandson",
                               "granddaughter", "brother", "sister", "baby"}  # fmt: skip


def _names_someone(words: list[str]) -> bool:
    """Whether the words name a person of the family ("mio marito", "mia madre")."""
    return any(word in _RELATIVES for word in words)


# "Famiglia di 4", "per 3 persone", "siamo in 5", "a family of four": the household size a
# question about the amounts names, taken out of its words. Up to 20 people the rules'
# amount is told; more, the office decides; 0, how many live in the house is asked. A
# size has at most two digits ("famiglia di 3331000002" is a phone), and no currency after
# it ("famiglia di 5 euro" is an amount): those are no size, and get the help.
_HOUSEHOLD_WORDS = frozenset({"famiglia", "nucleo", "family", "household"})
_PEOPLE_WORDS = frozenset({"persone", "componenti", "people", "persons"})
_LARGEST_HOUSEHOLD = 20
_SIZE_DIGITS = 2
_ZERO = frozenset({"0", "00", "zero"})  # not "nessuno", "niente": no size said
_CURRENCY = frozenset({"euro", "eur", "euros"})


def _household_size(words: list[str]) -> tuple[int | None, list[str]]:
    for at, word in enumerate(words):
        number = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if number is None or (word.isdigit() and len(word) > _SIZE_DIGITS):
            continue
        if number == 0 and word not in _ZERO:
            continue
        before, after = words[max(0, at - 2) : at], words[at + 1 : at + 2]
        named = (
            (len(before) == 2 and before[0] in _HOUSEHOLD_WORDS and before[1] in {"di", "da", "of"})
            or (before[-1:] == ["in"] and before[:1] in (["siamo"], ["per"], ["we"]))
            or (after and after[0] in _PEOPLE_WORDS)
        )
        if named:
            return number, words[:at] + words[at + 1 :]
    return None, words


# "3 figli", "due bambini", "three children": children named by their number, which with
# the writer make a household of one more at least (the amounts' question, _children).
_CHILDREN = frozenset(
    {"figli", "figlie", "figlio", "figlia", "bambini", "bambine", "bimbi", "ragazzi",
     "children", "kids", "child", "sons", "daughters"}
)  # fmt: skip
_CHILDREN_ARG = "children:"


def _children(words: list[str]) -> tuple[int | None, list[str]]:
    for at, word in enumerate(words):
        number = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
        if number is None or not 1 <= number < _LARGEST_HOUSEHOLD:
            continue
        if words[at + 1 : at + 2] and words[at + 1] in _CHILDREN:
            return number, words[:at] + words[at + 1 :]
    return None, words


def _introduces_herself(words: list[str]) -> bool:
    """Whether the words, the greeting apart, are only the writer's name: an introduction
    and at most three words after it, none a keyword or a number."""
    for intro in _INTRODUCTIONS:
        if tuple(words[: len(intro)]) == intro:
            name = words[len(intro) :]
            return (
                0 < len(name) <= _LONGEST_NAME
                and not has_digits(name)
                and not set(name) & (SENTENCE_KEYWORDS | _NAME_IS_NOT)
            )
    return False


def _named_apart(words: list[str], at: int) -> bool:
    """Whether the word at `at` names someone of the writer's ("mia madre", "mio figlio")
    as a person apart, not as one of a household they apply with ("vivo con mia madre",
    "io e mio marito")."""
    after_possessive = at > 0 and words[at - 1] in _POSSESSIVE
    return after_possessive and (at < 2 or words[at - 2] not in _TOGETHER)


def _names_a_parent(words: list[str]) -> bool:
    """Whether a sentence names the writer's parent or grandparent as another person ("di
    mia madre"), not as one of a household they apply with ("vivo con mia madre")."""
    return any(word in _FAMILY and _named_apart(words, at) for at, word in enumerate(words))


def _names_kin_as_holder(words: list[str]) -> bool:
    """Whether a sentence names the writer's child or spouse as the one whose vouchers are
    asked about: after "di" or "a" ("il saldo di mio marito", "quanto resta a mia figlia")."""
    return any(
        word in _KIN and _named_apart(words, at) and at >= 2 and words[at - 2] in _OF_OR_TO
        for at, word in enumerate(words)
    )


def _acts_for_writer(words: list[str]) -> bool:
    """Whether a sentence asks if someone of the writer's family (or their neighbour, their
    carer) may shop, pay or ask the balance for them: a child or spouse with "può" ("può
    andare mio figlio a comprare?"), anyone else with "per me" or the writer's own vouchers
    ("mia madre può fare la spesa per me?", "il mio vicino può fare la spesa per me?"). Not
    where to shop ("dove può fare la spesa mio marito?"), nor someone named as whose the
    vouchers are ("posso fare la spesa per mia madre?")."""
    said, pairs = frozenset(words), set(pairwise(words))
    if not said & _DELEGATES_DO or not said & _MAY or said & _WHERE:
        return False
    for at, word in enumerate(words):
        if word not in _KIN | _FAMILY | _HELPER or not _named_apart(words, at):
            continue
        if at >= 2 and words[at - 2] in _OF_OR_TO | {"per", "for"}:
            continue  # "per mia madre", "di mio marito": theirs, not the writer's
        if word in _KIN or pairs & _FOR_ME:
            return True
    return False


def another_card(words: list[str]) -> frozenset[str]:
    """The words of a sentence that name a card other than the voucher card, when it names
    one ("la carta d'identità", "tessera sanitaria", "carta di credito"): its card words,
    and "credito" of a credit card. Read as no keyword (question_of, in_sentence): CARTA
    there would show the voucher card's code, CREDITO the balance. Empty otherwise ("ho
    ancora credito sulla carta?" asks the balance)."""
    said, pairs = frozenset(words), set(pairwise(words))
    if not said & _CARD or not (said & _SURELY_OTHER_CARD or pairs & _OTHER_CARD_PAIRS):
        return frozenset()
    credit = said & _CREDIT if pairs & _CREDIT_CARD_PAIRS else frozenset()
    return (said & _CARD) | credit


def unasked(text: str | None) -> tuple[str, str] | None:
    """The request a message makes in words when nothing is being asked: a question of
    question_of, else the one keyword of a sentence (in_sentence). The general path
    (of_answer) and the one-trip plain turn (plain_turn.PlainTurn.candidate) both read it."""
    return question_of(text) or in_sentence(text)


# A full stop after a word, between two sentences ("saldo. grazie", "Buonasera.Mi dite"),
# never inside a number ("12.50").
_BETWEEN_SENTENCES = re.compile(r"(?<=[^\W\d])\.+(?=\s|[^\W\d]|$)")


def in_sentence(text: str | None) -> tuple[str, str] | None:
    """The one keyword a longer message contains, e.g. "Buongiorno, vorrei il saldo", also
    among sentences ("Buongiorno. Sono Giuseppe. Vorrei il saldo. Grazie")."""
    words = _BETWEEN_SENTENCES.sub(" ", fold(text).replace(",", " ")).split()
    if len(words) < 2:
        return None
    other_card = another_card(plain_words(text))
    found = {
        KEYWORDS[word] for word in words if word in SENTENCE_KEYWORDS and word not in other_card
    }
    if len(found) != 1:
        return None
    name = found.pop()
    if name == "shops":
        at = next(i for i, word in enumerate(words) if KEYWORDS.get(word) == "shops")
        rest = [word for word in words[at + 1 :] if word not in _SHOP_FILLER]
        return name, " ".join(rest)
    return name, ""


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


def typo_of(text: str | None) -> str | None:
    """The command a one-word message misspells, when only one command is that close."""
    word = fold(text)
    if not word.isalpha() or not _TYPO_MIN <= len(word) <= _LONGEST + 2 or word in KEYWORDS:
        return None
    near = {
        name
        for keyword, name in KEYWORDS.items()
        if len(keyword) >= _TYPO_MIN and typo_distance(word, keyword) <= _slips_allowed(keyword)
    }
    if len(near) != 1:
        return None  # nothing close, or two commands as close: the help says which words work
    name = near.pop()
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
