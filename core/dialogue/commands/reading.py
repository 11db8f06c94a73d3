"""Reading a message as a command: the keywords with their arguments (parse), the
questions in plain words of the small table (PHRASES, phrase_of), a language named alone
(language_named), and the command a message or an answer holds (of_message, of_answer)."""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

from core.dialogue.context import DECLINED, Input
from core.dialogue.inbound import Inbound
from core.dialogue.keywords import KEYWORDS
from core.dialogue.questions import LAST_PAYMENT, unasked
from core.dialogue.words import (
    as_said,
    clean,
    fold,
    has_digits,
    plain_words,
)
from core.domain import otp

TAKES_ARGUMENT = frozenset(
    {"shops", "charge", "language", "join", "refund", "statement", "start", "appeal"}
)
# Option keys that are commands too (menu buttons): a tap runs the command.
# LAST_PAYMENT: the cashier's menu offers it (a number or a button picks it).
COMMANDS = frozenset(KEYWORDS.values()) | {"switch", DECLINED, LAST_PAYMENT}
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
    # Said as spoken in the centre and south ("nun ce capisco gnente": "nun" and "gnente"
    # are unshortened, "ce" is the spoken "ci"; never mapped alone, "c'è" folds to "ce").
    "non ce capisco niente": "help",
    "non capisco nulla": "help",
    "non ci capisco nulla": "help",
    "non ce capisco nulla": "help",
    "non ci ho capito niente": "help",
    "non ci ho capito nulla": "help",
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
# it, at every step like the other keywords; so is a request for it written only with the
# words of such a request ("please write in English", "can you write in english please",
# "parla italiano?", "scrivimi in italiano per favore", "sorry, in English please"), the
# name after "in" or a verb of writing or speaking. In any other sentence it is a word of
# the answer ("sono italiano", "ho fatto la domanda in inglese" as an appeal's reason); a
# "not" is never a request for that language ("non parlo italiano", "I can't write in
# English": the way to the other language is said after the error). The short codes (IT,
# EN) count only after LINGUA.
_LANGUAGE_NAMES = frozenset({"italiano", "italian", "inglese", "english"})
_WRITE_OR_SPEAK = frozenset(
    {"write", "speak", "talk", "answer", "reply", "text", "scrivi", "scrivimi", "scrivete",
     "scrivetemi", "scrivere", "scrivermi", "scriva", "scrivo", "parla", "parli", "parlate",
     "parlare", "parlo", "rispondi", "rispondimi", "risponda", "rispondere", "speaks",
     "continue", "continua", "continuare", "switch", "change", "cambia", "cambiare"}
)  # fmt: skip
_BEFORE_THE_NAME = _WRITE_OR_SPEAK | {"in", "l", "to"}  # "parli l'inglese?", "change to"
# The other words such a request is written with: courtesy, asking, who to whom.
_ASKING_FOR_A_LANGUAGE = (
    _LANGUAGE_NAMES
    | _BEFORE_THE_NAME
    | frozenset(
        {"please", "pls", "plz", "sorry", "hi", "hello", "hey", "can", "could", "would",
         "will", "you", "u", "we", "i", "me", "us", "do", "does", "this", "it", "is", "only",
         "just", "ok", "okay", "thanks", "thank", "id", "like", "prefer", "language", "chat",
         "possible", "the", "per", "favore", "piacere", "cortesia", "perfavore", "scusa",
         "scusi", "ciao", "buongiorno", "buonasera", "salve", "puoi", "puo", "potete",
         "potresti", "potrebbe", "mi", "ci", "lei", "tu", "voi", "solo", "meglio",
         "preferisco", "vorrei", "grazie", "sa", "sai", "sapete", "e", "possibile", "la",
         "lingua", "gentilmente"}
    )
)  # fmt: skip
_REQUEST_WORDS = 12


def language_named(text: str | None) -> str | None:
    """The language a message names alone, or asks to be written in, as LINGUA IT /
    LANGUAGE EN would ("it", "en")."""
    words = plain_words(text)
    if words[:1] == ["in"]:
        words = words[1:]
    if len(words) == 1 and words[0] in _LANGUAGE_NAMES:
        return LANGUAGE_WORDS[words[0]]
    # "l'inglese": the article apart, as languages.written_in reads it.
    said = [kept for word in fold(text).replace("'", " ").split() if (kept := word.strip(".,/+-"))]
    if len(said) > _REQUEST_WORDS or not set(said) <= _ASKING_FOR_A_LANGUAGE:
        return None
    named = {
        LANGUAGE_WORDS[word]
        for before, word in pairwise(said)
        if word in _LANGUAGE_NAMES and before in _BEFORE_THE_NAME
    }
    if len(named) != 1 or len(set(said) & _LANGUAGE_NAMES) != 1:
        return None  # "italiano o inglese?", "in inglese o in italiano": no choice made
    return named.pop()


# "Lingua italiana": the adjective after LINGUA names the language too (never alone, where
# "italiana" is a word of an answer: "sono italiana").
_AFTER_LINGUA = {**LANGUAGE_WORDS, "italiana": "it"}


def language_asked(arg: str | None) -> str | None:
    """The language LINGUA's words after it name, as LINGUA IT / LANGUAGE EN would: "EN",
    "inglese", "inglese per favore", "lingua italiana", "English please", "in inglese"
    ("lingua inglese per favore" asked which language, though it had said it)."""
    words = plain_words(arg)
    if words[:1] == ["in"]:
        words = words[1:]
    if len(words) == 1 and words[0] in _AFTER_LINGUA:
        return _AFTER_LINGUA[words[0]]
    return language_named(arg)


def _from_first_word(text: str) -> str:
    """The message from its first letter or digit: "👍 SALDO" -> "SALDO". A leading "/",
    "+" or "-" stays (a Telegram command, a phone number, a negative amount)."""
    at = 0
    while at < len(text) and not (text[at].isalnum() or text[at] in "/+-"):
        at += 1
    return text[at:] or text


# A command is a few characters ("SALDO", "/menu", "Saldo per favore"): a short text's
# reading is kept, as fold keeps its folding. A turn reads its message twice (whether it
# may be a plain turn, in the event loop's thread; what it asks, in the database thread),
# about 8,800 instructions a reading; people send the same few commands again and again.
_PARSE_KEPT_LENGTH = 64


def parse(text: str | None) -> tuple[str, str] | None:
    """(command, argument) when the message is a command, else None."""
    if text is not None and len(text) <= _PARSE_KEPT_LENGTH:
        return _parse_short(text)
    return _parse(text)


@lru_cache(maxsize=2048)
def _parse_short(text: str) -> tuple[str, str] | None:
    return _parse(text)


def _parse(text: str | None) -> tuple[str, str] | None:
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
        # Nothing asked: "Buongiorno, vorrei sapere il mio saldo" means SALDO; a cashier
        # code written alone ("K7QP-2MXX-9ABC") or in a sentence ("il codice è …") is INVITO
        # with it, checked and counted as INVITO is. Its shape is no other code's
        # (otp.bare_invite_code), so a mistyped card number or payment code is never
        # counted as a wrong cashier code.
        invite = otp.invite_code_in(text)
        command = ("join", invite) if invite is not None else unasked(text)
    return command
