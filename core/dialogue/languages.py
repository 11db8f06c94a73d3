"""Which language a message is written in, when its words say so: "DOMANDA", "vorrei fare
la domanda" are Italian, "HELP", "balance", "hello" English, "MENU", "1" or "ok" neither.

A new conversation answers in the language its first message was written in, and the
application does not ask the language of someone who asked for it in words (flows/apply).
Deterministic: fixed word sets, built once; a message with words of both languages, or of
neither, says nothing (the language question, or the default, decides).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from core.dialogue.words import fold
from core.i18n import LANGUAGES

# The keywords of keywords.KEYWORDS, by language (tests/dialogue/test_languages.py checks
# that each keyword is in exactly one of these three sets).
ITALIAN_KEYWORDS = frozenset(
    {
        "aiuto", "disiscrivi", "avvia", "riattiva", "lingua", "annulla", "esci", "saldo",
        "credito", "carta", "tessera", "negozi", "domanda", "richiesta", "ricorso",
        "ricorsi", "stato", "paga", "incassa", "storno", "storna", "resoconto", "estratto",
        "rendiconto",
        "rimborso", "rimborsi", "cassiere", "cassieri", "invito", "registra", "negoziante",
        "esercente", "comune", "compra", "dona", "regala", "buoni", "altri", "avanti",
        "ufficio", "contatti", "contatto",
    }
)  # fmt: skip
ENGLISH_KEYWORDS = frozenset(
    {
        "help", "stopall", "unsubscribe", "unstop", "language", "lang", "cancel", "leave",
        "balance", "card", "shops", "shop", "apply", "appeal", "status", "pay", "charge",
        "refund", "statement", "reimbursement", "reimbursements", "cashier", "cashiers",
        "join", "register", "shopkeeper", "town", "buy", "donate", "give", "vouchers",
        "more", "next", "office", "contact", "contacts",
    }
)  # fmt: skip
# Words of both languages, or of none: they say nothing about the language.
NEUTRAL_KEYWORDS = frozenset({"info", "?", "stop", "start", "menu", "home"})

# Other words that only one of the two languages has, as people write to us: greetings,
# thanks, the words of the questions read in plain words (questions.question_of, PHRASES).
_ITALIAN = ITALIAN_KEYWORDS | frozenset(
    {
        "ciao", "buongiorno", "buonasera", "salve", "grazie", "prego", "favore", "piacere",
        "gentilmente", "vorrei", "voglio", "volevo", "fare", "faccio", "chiedere",
        "sapere", "quanto", "quanti", "quanta", "quante", "dove", "come", "posso", "mio",
        "mia", "mi", "ho", "cho", "resta", "restano", "rimane", "rimangono", "soldi",
        "spesa", "sulla", "della", "il", "lo", "la", "le", "gli", "sono", "siamo", "si",
        "italiano", "ita", "non", "nn", "capisco", "capito", "niente", "cosa", "che", "perche",
        "bongiorno", "parlo", "inglese", "scusi", "scusa", "nessuno", "persone", "risparmi",
    }
)  # fmt: skip
_ENGLISH = ENGLISH_KEYWORDS | frozenset(
    {
        "hello", "hi", "thanks", "thank", "please", "pls", "good", "morning", "evening",
        "how", "much", "many", "what", "whats", "where", "my", "want", "have", "left",
        "money", "the", "is", "do", "yes", "english", "eng", "dont", "understand", "does",
        "work", "this", "still", "why", "who", "you", "sorry", "speak", "italian", "cant",
        "not", "can", "we", "are", "of", "us", "nobody", "nothing", "need", "food", "savings",
        "people", "write", "your", "agree", "doesnt", "didnt", "mean", "hey", "from", "name",
    }
)  # fmt: skip


# Italian words that Spanish, French or Portuguese write too ("la tarjeta", "me puede
# ayudar", "non merci", "posso ter ajuda"): no evidence of Italian against words of those
# languages, nor for a new chat's language (italian_evidence).
_SHARED_ITALIAN = frozenset(
    {"la", "le", "lo", "il", "mi", "si", "non", "posso", "quanto", "quanta", "quante",
     "quanti"}
)  # fmt: skip
_ONLY_ITALIAN = _ITALIAN - _SHARED_ITALIAN

# Words of the languages people new to Italy write in most, asking for help or food, that
# neither of ours has: French, Spanish, Portuguese, German, Romanian, Albanian, Polish,
# Turkish, Arabic and Urdu written in Latin letters. Words that Italian shares ("per",
# "con", "de", "qui", "ma", "como", "este", and names' "el") are left out: an Italian
# grandmother's message, or a name, is never taken for one.
_OTHER_WORDS = frozenset(
    {"que", "es", "esto", "esta", "eso", "nada", "tarjeta", "puede", "puedo", "ayudar",
     "ayudame", "por", "usted", "soy", "estoy", "hay", "tiene", "dinero", "cuanto",
     "cuando", "donde", "porque", "quien", "hablo", "habla", "espanol", "entiendo", "bien",
     "muy", "senor", "senora", "noches", "tardes", "salut", "voudrais", "veux", "peux",
     "comprends", "parle", "parlez", "francais", "pas", "est", "avec", "pour", "moi",
     "mon", "les", "des", "une", "et", "ou", "sont", "avez", "aider", "argent", "madame",
     "monsieur", "svp", "stp", "j", "eu", "nao", "tenho", "voces", "cartao",
     "dinheiro", "bom", "boa",
        "bonjour", "bonsoir", "merci", "besoin", "aide", "aidez", "je", "suis", "vous",
        "nous", "manger", "nourriture", "oui", "pourquoi", "hola", "gracias", "necesito",
        "ayuda", "comida", "quiero", "tengo", "buenos", "buenas", "dias", "ola", "obrigado",
        "obrigada", "preciso", "ajuda", "guten", "danke", "ich", "brauche", "hilfe", "bitte",
        "essen", "buna", "ziua", "multumesc", "nevoie", "ajutor", "mancare", "vreau",
        "pershendetje", "faleminderit", "ndihme", "dzien", "dobry", "dziekuje", "pomocy",
        "merhaba", "yardim", "tesekkurler", "salam", "salaam", "shukran", "assalamualaikum",
        # Answers at a question: "sí, somos cuatro", "nous sommes trois", "je ne sais
        # rien", "no tenemos nada".
        "somos", "tenemos", "vivimos", "nosotros", "nadie", "ninguno", "yo", "sais", "sait",
        "sommes", "avons", "rien", "personne", "personnes", "personas", "hijos", "enfants",
        "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "deux",
        "trois", "quatre", "cinq", "sept", "huit", "neuf", "dix",
    }
)  # fmt: skip


def _words(text: str | None) -> list[str]:
    """The message's words, "don't" and "can't" written as "dont" and "cant", other
    apostrophes between words ("j'ai", "l'inglese")."""
    return fold(text).replace("n't", "nt").replace("'", " ").split()


def _other_script(ch: str) -> bool:
    """A letter of another alphabet than ours (Arabic, Cyrillic, Greek, Chinese...); a
    full-width Latin one (an Asian phone's keyboard) is ours."""
    return ch.isalpha() and "LATIN" not in unicodedata.name(ch, "")


@lru_cache(maxsize=2048)
def in_another_language(text: str | None) -> bool:
    """Whether the message is written in a language the service does not speak: letters
    of another alphabet ("Привіт", "مرحبا") with no word of ours, or more words of such a
    language than of ours ("Bonjour, j'ai besoin d'aide"). A typo, a name or a code is
    not: it has no word of those languages."""
    words = _words(text)
    ours = sum(word in _ONLY_ITALIAN or word in _ENGLISH for word in words)
    if any(_other_script(ch) for ch in text or ""):
        return ours == 0
    return sum(word in _OTHER_WORDS for word in words) > ours


def _squeezed(word: str) -> str:
    """The word with each run of a letter as one: "hellooo", "helo" -> "helo"."""
    return re.sub(r"(.)\1+", r"\1", word)


_ITALIAN_SQUEEZED = frozenset(map(_squeezed, _ITALIAN))
_ENGLISH_SQUEEZED = frozenset(map(_squeezed, _ENGLISH))
# The Italian names of the service, which English sentences use too ("hi I'm from the
# Comune", "I need buoni spesa"): with English words they are no Italian.
_SERVICE_WORDS = frozenset({"comune", "buoni", "spesa"})


def _of(word: str, language: frozenset[str], squeezed: frozenset[str]) -> bool:
    """Whether `word` is of that language, letters drawn out or doubled on a phone
    included ("ciaoo", "hii", "helo"), unless so written it is a word of both."""
    if word in language:
        return True
    key = _squeezed(word)
    return key in squeezed and key not in _ITALIAN_SQUEEZED & _ENGLISH_SQUEEZED


@lru_cache(maxsize=2048)
def written_in(text: str | None) -> str | None:
    """ "it" or "en" when the words of the message are of that language only, else None.
    A message with a digit (a code, an amount) says nothing."""
    words = _words(text)
    if not words or any(ch.isdigit() for word in words for ch in word):
        return None
    english = any(_of(word, _ENGLISH, _ENGLISH_SQUEEZED) for word in words)
    italian = any(
        _of(word, _ITALIAN, _ITALIAN_SQUEEZED) and not (english and word in _SERVICE_WORDS)
        for word in words
    )
    if italian == english:
        return None
    return "it" if italian else "en"


def _told(hint: str | None) -> str | None:
    """The language a channel told (Telegram sends the app's), if the service speaks it."""
    told = (hint or "").lower()[:2]
    return told if told in LANGUAGES else None


def _typed(text: str | None) -> bool:
    """Words typed by the person, not a command tapped in the app's menu ("/saldo")."""
    return not (text or "").lstrip().startswith("/")


def _italian_evidence(text: str | None) -> bool:
    """Whether Italian words say the message is Italian: one that only Italian has
    ("buongiorno", "domanda"), or words Spanish or French share with no word of those
    ("sì", "non lo so"); "la tarjeta", "me la puede dar" are not Italian."""
    words = _words(text)
    return any(word in _ONLY_ITALIAN for word in words) or not any(
        word in _OTHER_WORDS for word in words
    )


def written_language(text: str | None, hint: str | None) -> str | None:
    """The language of a new chat from its first message's words. Words typed plainly in
    one language decide ("buongiorno vorrei i buoni spesa" from an app in English is
    Italian), Italian only on real evidence of it (_italian_evidence); a command tapped
    in the app's menu goes with the language the channel told (Telegram sends the
    app's): a user whose app is in English who taps /saldo still reads English."""
    written = written_in(text)
    if written == "it" and not _italian_evidence(text):
        return None
    return None if _told(hint) and not _typed(text) else written


def tapped_language(shown_in: str | None, hint: str | None) -> str | None:
    """The language of someone who tapped a button: the one its label was drawn in
    (`shown_in`, the chat's, when the chat drew it), else the one the channel told
    (Telegram's language_code). A tap has no words to read, and asking "Choose your
    language" of someone who just tapped "Domanda" asks what the tap already said."""
    return shown_in if shown_in in LANGUAGES else _told(hint)


def agreed_language(text: str | None, hint: str | None) -> str | None:
    """The language the words say, when they were typed, or when the channel told none or
    the same one: "vorrei fare la domanda" in an English app is Italian, /apply in an
    English app needs no language question, /domanda in an English app asks it."""
    written = written_in(text)
    told = _told(hint)
    return written if told is None or told == written or _typed(text) else None
