"""What people type, folded so that "Sì", "SI", "si!" and "/si" compare equal."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

from core.dialogue import failure_words as failing
from core.domain.identity import is_phone_number, looks_like_codice_fiscale

# Longer messages are cut before parsing: nobody answers a question with a novel,
# and a 2,000-character SMS body must cost no more than a short one.
MAX_INPUT = 500

_PUNCTUATION = re.compile(r"[^\w\s+,.'/-]", re.UNICODE)
_SPACES = re.compile(r"\s+")


# Phones type a typographic apostrophe ("l’alimentari", "Sant’Angelo"): read as the plain
# one, or a word after it would be read apart from its article.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u00b4`", "'"))


# clean and fold are pure and a turn asks them about the same message several times (the
# router, the keyword parser, the option reader): each message is folded once.
@lru_cache(maxsize=2048)
def clean(text: str | None) -> str:
    """Trimmed text, spaces collapsed, invisible characters removed, apostrophes plain,
    length capped."""
    if not text:
        return ""
    kept = "".join(
        ch
        for ch in text[:MAX_INPUT].translate(_APOSTROPHES)
        if unicodedata.category(ch)[0] != "C" or ch in "\n\t"
    )
    return _SPACES.sub(" ", kept).strip()


def was_cut(text: str | None) -> bool:
    """Whether clean() left out the end of this message (it was longer than MAX_INPUT)."""
    return text is not None and len(text) > MAX_INPUT


@lru_cache(maxsize=2048)
def fold(text: str | None) -> str:
    """Lower case, no accents, no emoji or punctuation around words: for keyword matching."""
    plain = unicodedata.normalize("NFKD", clean(text).lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = _PUNCTUATION.sub(" ", plain)
    return _SPACES.sub(" ", plain).strip().lstrip("/").strip(" .,!")


# Signs that ask, or point at the money, sent alone: "?", "??", "💶" (VS16 left out).
_ASKING_SIGNS = frozenset("?¿💶💰💵💸€")


def signs_alone(text: str | None) -> bool:
    """Whether the message is only question marks or a money sign ("?", "??", "💶"):
    someone asking what to do here, neither an answer nor a word."""
    kept = [ch for ch in clean(text) if not ch.isspace() and ch != "\ufe0f"]
    return bool(kept) and set(kept) <= _ASKING_SIGNS


# Words of courtesy or greeting at either end of a message, which change nothing in an
# answer or a request: "sì grazie", "saldo per favore", "Buongiorno, quanto mi resta?".
COURTESY: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "per favore", "per piacere", "perfavore", "per cortesia", "cortesemente",
        "grazie mille", "mille grazie", "grazie tante", "tante grazie", "grazie", "prego",
        "gentilmente", "buongiorno", "buonasera", "buon pomeriggio", "salve", "ciao",
        "buon giorno", "buona sera", "buonanotte", "buona notte",
        "please", "thank you very much", "thank you", "thanks a lot", "many thanks", "thanks",
        "pls", "hello", "hi", "good morning", "good afternoon", "good evening",
    )
)  # fmt: skip
_EDGE_MARKS = ".,'/+-"


def plain_words(text: str | None) -> list[str]:
    """The words of a message, to compare with a small table of phrases: folded (no case,
    accents, emoji or punctuation, see fold), apostrophes gone ("si'" and "sì" are "si",
    "what's" is "whats") and courtesy words at either end left out ("si grazie" is "si",
    "Saldo per favore" is "saldo"), texting shorthand written out ("nn" is "non"). Empty
    when nothing else was said. Digits stay as written:
    a code or an amount is never a phrase (see has_digits)."""
    return list(_plain_words(text))


# Texting shorthand, read as the word it stands for wherever that word is read: "nn ho
# capito" is "non ho capito", "nn lavora nessuno" a no, "nn pago 350 euro" no amount; "ki
# siete?" is "chi siete?", "ke devo fare" "che devo fare", "ciao sn Maria" "ciao sono
# Maria". Only the word alone: "nonna", "nonno", "anno", "panna" are words of their own.
# Spoken forms of the centre and south read the same way: "nun ho capito gnente" is "non ho
# capito niente", "'ndo sta er forno?" "dove sta il forno?".
_SHORTHAND = {
    "nn": "non", "ki": "chi", "ke": "che", "sn": "sono", "cmq": "comunque", "xke": "perche",
    "xche": "perche", "nun": "non", "ndo": "dove", "ndove": "dove", "gnente": "niente",
    "gniente": "niente", "er": "il",
}  # fmt: skip


def unshortened(words: list[str]) -> list[str]:
    """Folded words with texting shorthand written out ("nn" is "non")."""
    return [_SHORTHAND.get(word, word) for word in words]


@lru_cache(maxsize=2048)
def _plain_words(text: str | None) -> tuple[str, ...]:
    # Kept once per message, like fold: the keyword parser and the yes/no reader both ask.
    words = [word.replace("'", "").strip(_EDGE_MARKS) for word in fold(text).split()]
    words = unshortened([word for word in words if word])
    changed = True
    while changed and words:
        changed = False
        for phrase in COURTESY:
            size = len(phrase)
            if tuple(words[:size]) == phrase:
                words, changed = words[size:], True
            elif len(words) >= size and tuple(words[-size:]) == phrase:
                words, changed = words[:-size], True
    return tuple(words)


# Spoken Italian as people write it: "c'ho" is "ho" ("quanto c'ho?" asks "quanto ho?"),
# "c'hai", "c'ha", "c'abbiamo" the same (plain_words has joined them: "cho").
_WITH_CI = {"cho": "ho", "chai": "hai", "cha": "ha", "cabbiamo": "abbiamo", "channo": "hanno"}
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")


def as_said(words: list[str]) -> list[str]:
    """Plain words with the spoken forms of a phone's Italian undone: "c'ho" (or "c ho") is
    "ho", and
    a first consonant written twice, as it is said after "a", "e", "sui" in the centre
    and south ("sui bbuoni", "li ssoldi", "a mme"), is one: no Italian word starts with
    one doubled. For the readings of a request (commands.phrase_of, question_of), never of
    an answer: a code, a name or an amount is read as written."""
    said = []
    for at, word in enumerate(words):
        if word == "c" and at + 1 < len(words) and words[at + 1] in _WITH_CI.values():
            continue  # "quanto c ho?", the apostrophe left out: "quanto ho?"
        word = _WITH_CI.get(word, word)
        if len(word) > 2 and word[0] == word[1] and word[0] in _CONSONANTS:
            word = word[1:]
        said.append(word)
    return said


# A codice fiscale's shape: 6 letters, the birth year, month letter, day, place and the check
# letter (digits may be letters in an omocodic one). Its shape only: a slip in the check
# letter is still a codice fiscale someone meant to write.
_CODICE_FISCALE = re.compile(
    r"[A-Z]{6}[0-9L-V]{2}[ABCDEHLMPRST][0-9L-V]{2}[A-Z][0-9L-V]{3}[A-Z]", re.IGNORECASE
)


def codice_fiscale_written(text: str | None) -> bool:
    """Whether a message is a codice fiscale, alone ("RSSMRA85T10A562S", "rss mra 85t10
    a562s") or the one number of a few words ("il codice fiscale di mia madre è
    RSSMRA85T10A562S"). Its shape only: nothing says whether it is anybody's."""
    return written_codice_fiscale(text) is not None


def written_codice_fiscale(text: str | None) -> str | None:
    """The codice fiscale a message is (see codice_fiscale_written), in capitals and without
    spaces; None when it is none."""
    cleaned = clean(text)
    joined = "".join(cleaned.split())
    if _CODICE_FISCALE.fullmatch(joined):
        return joined.upper()
    words = [word.strip(_EDGE_MARKS + ':;!?()"') for word in cleaned.split()]
    shaped = [word for word in words if _CODICE_FISCALE.fullmatch(word)]
    numbers = [word for word in words if any(ch.isdigit() for ch in word)]
    return shaped[0].upper() if len(shaped) == 1 and numbers == shaped else None


def has_digits(words: list[str]) -> bool:
    """Whether any word holds a digit: a payment code, an amount, a phone number."""
    return any(ch.isdigit() for word in words for ch in word)


YES = frozenset(
    {
        "si", "s", "yes", "y", "ok", "okay", "certo", "certamente", "esatto", "va bene",
        "daccordo", "sure", "yep", "yeah", "of course", "accetto", "i agree", "agree",
    }
)  # fmt: skip
NO = frozenset({"no", "n", "nope", "nah", "non accetto", "i do not agree", "i dont agree"})
_LONGEST_ANSWER = max(len(phrase.split()) for phrase in YES | NO)


def yes_or_no(text: str | None) -> bool | None:
    """True for a yes ("Sì.", "si'", "SI!", "si grazie", "certo", "ok", "va bene", "yes
    please", "yep"), False for a no ("no grazie", "nope"), None for anything else, or for
    both at once ("si no"): the question is asked again and nothing changes."""
    words = plain_words(text)
    if not words or has_digits(words):
        return None
    said: set[bool] = set()
    at = 0
    while at < len(words):
        # The longest phrase of the tables from here: "non accetto" before "accetto".
        for size in range(min(_LONGEST_ANSWER, len(words) - at), 0, -1):
            phrase = " ".join(words[at : at + size])
            if phrase in YES or phrase in NO:
                said.add(phrase in YES)
                at += size
                break
        else:
            return None  # a word that is neither: "boh", "forse", "si ma"
    return said.pop() if len(said) == 1 else None


# After a leading yes, words that make it no plain yes: a no, a doubt, a "but", the past
# ("sì ma non più", "sì forse", "sì, aveva la pensione").
_NOT_A_PLAIN_YES = frozenset(
    {
        "non", "ma", "pero", "tranne", "forse", "boh", "prima", "era", "aveva", "avevo",
        "avevamo", "fino", "not", "but", "except", "maybe", "perhaps", "before", "was",
        "had", "used", "until",
    }
)  # fmt: skip
# After a leading no, the words that only repeat it ("no, nessuno").
_ONLY_NO = frozenset({"nessuno", "nessuna", "niente", "nulla", "purtroppo", "none", "nobody"})
# "Nobody" answering who in the household works or has a pension: a no, alone or with the
# question's own words ("nessuno lavora", "nessuno ha la pensione", "non lavora nessuno",
# "nobody works"). Any other word ("nessuno tranne mio marito", "nessun problema") leaves
# it unread.
_NOBODY = frozenset({"nessuno", "nessuna", "nessun", "none", "nobody", "noone"})
_THE_QUESTIONS_WORDS = frozenset(
    {
        "lavora", "lavorano", "lavoriamo", "lavoro", "ha", "hanno", "abbiamo", "prende",
        "prendono", "prendiamo", "percepisce", "percepiscono", "riceve", "ricevono", "la",
        "le", "il", "una", "un", "pensione", "pensioni", "reddito", "redditi", "stipendio",
        "di", "da", "in", "casa", "famiglia", "noi", "non", "works", "work", "working", "has",
        "have", "gets", "receives", "a", "pension", "pensions", "income", "from", "of", "us",
        "the", "household", "family", "home", "at",
    }
)  # fmt: skip


def yes_or_no_leading(text: str | None) -> bool | None:
    """yes_or_no, and also a yes followed by words that say who or what ("si la pensione di
    mio marito", "sì, mia figlia lavora") or a no followed by words that repeat it ("no,
    nessuno"). Only for a yes-or-no question about the household, never for a question
    whose yes acts (a refund, a consent, the declaration): those read yes_or_no. "Nobody"
    is a no there too ("nessuno", "nessuno lavora", see says_nobody). None when
    the words after the yes hold a no, a "nobody", a doubt, a "but", the past or a digit
    ("si no", "sì, nessuno", "sì ma non più", "sì forse", "si 2")."""
    answer = yes_or_no(text)
    if answer is not None:
        return answer
    words = plain_words(text)
    if not words or has_digits(words):
        return None
    if len(words) == 1:
        return False if says_nobody(words) else None
    first, rest = words[0], set(words[1:])
    if first in YES and not rest & (_NOT_A_PLAIN_YES | NO | _NOBODY):
        return True
    if first in NO and rest <= _ONLY_NO:
        return False
    return False if says_nobody(words) else None


# "Niente", "nulla", "proprio niente": nothing of what the question asks about having.
_NOTHING = frozenset({"niente", "nulla", "nothing"})


def says_nobody(words: list[str]) -> bool:
    """Whether plain words say that nobody in the household does what was asked:
    "nessuno", "nessuna", "none", "nobody", "no one", alone or with the question's words
    ("nessuno lavora", "nessuno ha la pensione", "non lavora nessuno", "no, nessuno ha
    redditi", "nobody works"); or that the household has nothing of it, the question
    asking whether anyone has something: "niente", "nulla", "nothing", "niente
    pensione", "non abbiamo niente". Never with another word: "nessuno tranne mio marito",
    "nessuno, solo io", "nessun problema", "niente di che" say something else."""
    said = " ".join(words).replace("no one", "noone").split()
    if said[:1] == ["no"]:
        said = said[1:]  # "no, nessuno lavora"
    nobody = _NOBODY | _NOTHING
    return bool(set(said) & nobody) and set(said) <= nobody | _THE_QUESTIONS_WORDS | {"proprio"}


# "Mio marito ha la pensione", "mia moglie prende la pensione", "sono in pensione", "mio
# figlio lavora": a statement that someone at home has what the question asks, without a
# "sì", is the household's yes. Every word must be one of these (the people, a verb of
# having in the present, the subject's words), so that a "non", a "ma", a doubt or the
# past ("lavorava", "ha perso il lavoro", "cerca lavoro", "aveva la pensione") leaves it
# unread, and the question is asked again.
_WHO_AT_HOME = frozenset(
    {
        "io", "lui", "lei", "noi", "loro", "entrambi", "entrambe", "tutti", "tutte", "e",
        "ed", "in", "casa", "i", "he", "she", "we", "they", "both", "and", "at", "home",
    }
)  # fmt: skip
_HAVING = frozenset(
    {
        "ho", "ha", "abbiamo", "hanno", "prendo", "prende", "prendiamo", "prendono", "ricevo",
        "riceve", "riceviamo", "ricevono", "percepisco", "percepisce", "percepiamo",
        "percepiscono", "have", "has", "get", "gets", "receive", "receives",
    }
)  # fmt: skip
_SOMEONE_HAS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # (the words that name the subject, the words that may go with them)
    "pension": (
        frozenset(
            {"pensione", "pensioni", "pensionato", "pensionata", "pensionati", "pensionate",
             "pension", "pensions", "retired"}
        ),
        frozenset(
            {"la", "una", "le", "sono", "siamo", "e", "di", "vecchiaia", "sociale",
             "minima", "invalidita", "reversibilita", "anzianita", "a", "the", "is", "am",
             "are", "im", "hes", "shes", "theyre", "old", "age", "state"}
        ) | _HAVING,
    ),
    "work": (
        frozenset(
            {"lavora", "lavorano", "lavoriamo", "lavoro", "stipendio", "stipendi", "works",
             "work", "job", "jobs", "salary", "wage", "wages"}
        ),
        frozenset({"un", "uno", "lo", "a", "the"}) | _HAVING,
    ),
}  # fmt: skip


# Being retired ("sono in pensione", "è pensionato"), working ("mio figlio lavora"): the
# statement's verb where no verb of having is.
_BEING = frozenset({"sono", "siamo", "e", "in", "is", "am", "are", "im", "hes", "shes", "theyre"})
_WORKS = frozenset({"lavora", "lavorano", "lavoriamo", "works", "work"})


def says_someone_has(text: str | None, subject: str) -> bool:
    """Whether the words state that someone in the household has `subject` ("work" or
    "pension") now, without a "sì": "mio marito ha la pensione", "mia moglie prende la
    pensione", "sono in pensione", "mio figlio lavora", "my wife has a pension". Any word
    outside the statement ("no, ma mio marito ha la pensione", "non ha la pensione",
    "aveva la pensione", "ha perso il lavoro", "cerco lavoro") leaves it unread."""
    words = plain_words(text)
    if not words or has_digits(words):
        return False
    names, goes_with = _SOMEONE_HAS[subject]
    said = set(words)
    people = _WHO_AT_HOME | _OF_MINE | _ONE_PERSON | _SEVERAL | _PAIR
    if not said & names or not said <= names | goes_with | people:
        return False
    if subject == "pension":
        # A verb: "pensione" alone, "la pensione?" state nothing.
        return bool(said & (_HAVING | _BEING))
    # "Lavoro" alone may ask "work?" as well as say "I work": with "io" it says so.
    return bool(said & (_HAVING | _WORKS)) or {"io", "lavoro"} <= said


def names_subject(text: str | None, subject: str) -> bool:
    """Whether the words name `subject` ("work": "lavora", "stipendio"; "pension":
    "pensione", "pensionato"), whatever they say of it."""
    return bool(set(plain_words(text)) & _SOMEONE_HAS[subject][0])


# Where one clause of a message ends and the next begins: "nessuno lavora, ho la
# pensione", "nessuno lavora ma io ho la pensione", "nobody works and I have a pension".
_CLAUSE_BREAK = re.compile(
    r"[,;.:]+|\b(?:ma|però|pero|but|e|ed|and|mentre|while|solo|only)\b", re.IGNORECASE
)


def work_and_pension(
    text: str | None, members: int | None, *, plain_no: bool = True
) -> tuple[bool, bool] | None:
    """Both household answers in one message of two clauses, one about work and one about
    a pension, in either order: "nessuno lavora, ho la pensione" (False, True), "no,
    prendo la pensione" (False, True), "non lavoriamo e non abbiamo pensioni" (False,
    False), "mio figlio lavora e io sono in pensione" (True, True). `members` is how many
    live at home: "non lavoro" answers for the household only when it is one. Without
    `plain_no` (where the pension is asked, the "no" answers it) the work must be named.
    None when the clauses do not both answer, each plainly, its own question."""
    cleaned = clean(text)
    for brk in _CLAUSE_BREAK.finditer(cleaned):
        left, right = cleaned[: brk.start()], cleaned[brk.end() :]
        for work_words, pension_words in ((left, right), (right, left)):
            first = plain_no and work_words is left
            work = _clause_answer(work_words, "work", members, first=first)
            pension = _clause_answer(pension_words, "pension", members, first=False)
            if work is not None and pension is not None:
                return work, pension
    return None


def _clause_answer(text: str, subject: str, members: int | None, *, first: bool) -> bool | None:
    """One clause's answer about `subject` (see work_and_pension): it must name the
    subject and not the other one, except a plain "no" first where work is asked ("no, ho
    la pensione": nobody works)."""
    words = plain_words(text)
    other = "pension" if subject == "work" else "work"
    if not words or has_digits(words) or names_subject(text, other):
        return None
    if not names_subject(text, subject):
        return False if subject == "work" and first and yes_or_no(text) is False else None
    if about_all_of_us(text, subject) or says_nobody(words):
        return False
    if says_someone_has(text, subject):
        return True
    if members == 1 and about_oneself(text, subject):
        return False
    return yes_or_no_leading(text)  # "sì, mio marito lavora"


# "Non lavoro", "io non ho la pensione", "No, nn lavoro", "I don't work": the writer
# answering for herself where the household's work or pension is asked. From someone living
# alone that is the household's no; with others at home it says nothing of them. Whole
# phrases only ("non lavoro ma mio marito sì" says more), after a leading "no" and "io".
_ABOUT_ONESELF: dict[str, frozenset[str]] = {
    "work": frozenset(
        {
            "non lavoro", "non lavoro piu", "non ho lavoro", "non ho un lavoro",
            "non ho reddito", "non ho redditi", "non ho un reddito", "non ho stipendio",
            "non ho uno stipendio", "sono disoccupato", "sono disoccupata", "disoccupato",
            "disoccupata", "dont work", "do not work", "dont have a job", "do not have a job",
            "have no job", "am unemployed", "im unemployed", "unemployed",
        }
    ),
    "pension": frozenset(
        {
            "non ho la pensione", "non ho pensione", "non ho una pensione",
            "non prendo la pensione", "non prendo pensione", "non percepisco pensione",
            "non percepisco la pensione", "non ricevo la pensione", "non sono in pensione",
            "non sono pensionato", "non sono pensionata", "dont have a pension",
            "do not have a pension", "dont get a pension", "do not get a pension",
            "have no pension", "am not retired", "im not retired",
        }
    ),
}  # fmt: skip


def about_oneself(text: str | None, subject: str) -> bool:
    """Whether the words say that the writer herself has no `subject` ("work" or
    "pension"): "non lavoro", "nn lavoro", "io non lavoro", "no, non ho la pensione", "I
    don't work". Nothing about anyone else at home."""
    words = plain_words(text)
    if words[:1] == ["no"]:
        words = words[1:]
    if words[:1] in (["io"], ["i"]):
        words = words[1:]
    return " ".join(words) in _ABOUT_ONESELF[subject]


# "Non lavoriamo", "nn lavoriamo", "non abbiamo pensioni", "we don't work": the writer
# answering for the whole household in the first person plural, where the household's work
# or pension is asked: a no for everyone, however many live there. Whole phrases only ("non
# lavoriamo tutti" says more), after a leading "no" and "noi" (the English ones name
# "we"). ("Nessuno di noi lavora" is says_nobody's.)
_ABOUT_ALL_OF_US: dict[str, frozenset[str]] = {
    "work": frozenset(
        {
            "non lavoriamo", "non lavoriamo piu", "non lavoriamo proprio",
            "non abbiamo lavoro", "non abbiamo un lavoro", "non abbiamo reddito",
            "non abbiamo redditi", "non abbiamo redditi da lavoro", "non abbiamo stipendio",
            "non abbiamo stipendi", "siamo disoccupati", "siamo disoccupate",
            "siamo tutti disoccupati", "siamo tutte disoccupate", "we dont work",
            "we do not work", "we dont have a job", "we dont have jobs", "we have no job",
            "we have no jobs", "we are unemployed", "we are all unemployed",
        }
    ),
    "pension": frozenset(
        {
            "non abbiamo pensioni", "non abbiamo pensione", "non abbiamo la pensione",
            "non abbiamo una pensione", "non abbiamo le pensioni", "non prendiamo pensioni",
            "non prendiamo pensione", "non prendiamo la pensione", "non percepiamo pensioni",
            "non percepiamo pensione", "non percepiamo la pensione", "non riceviamo pensioni",
            "non riceviamo la pensione", "non siamo in pensione", "non siamo pensionati",
            "non siamo pensionate", "we dont have pensions", "we do not have pensions",
            "we dont have a pension", "we do not have a pension", "we have no pension",
            "we have no pensions", "we dont get a pension", "we are not retired",
        }
    ),
}  # fmt: skip


def about_all_of_us(text: str | None, subject: str) -> bool:
    """Whether the words say that nobody in the writer's household has `subject` ("work"
    or "pension"), said as "we": "non lavoriamo", "nn lavoriamo", "noi non lavoriamo",
    "no, non abbiamo pensioni", "we don't work". Another subject's words ("non lavoriamo"
    at the pension question) say nothing."""
    words = plain_words(text)
    if words[:1] == ["no"]:
        words = words[1:]
    if words[:1] == ["noi"]:
        words = words[1:]
    return " ".join(words) in _ABOUT_ALL_OF_US[subject]


# "Boh, non lo so", "nn so", "non saprei", "I don't know": the writer does not know the
# answer (a sum asked: its rough figure is enough, say the flows). "Boh" and its kind alone
# or around one of these phrases; any other word ("non so se 300 o 400") says more.
_SHRUGS = frozenset({"boh", "bho", "mah", "beh", "eh", "uhm", "hmm", "mmm"})
_DONT_KNOW = frozenset(
    {
        "non so", "non lo so", "non saprei", "non ricordo", "non mi ricordo", "non me lo ricordo",
        "non lo ricordo", "non so quanto", "non lo so di preciso", "non so di preciso",
        "chi lo sa", "dont know", "i dont know", "i do not know", "no idea", "not sure",
        "im not sure", "i dont remember", "dont remember",
    }
)  # fmt: skip


def says_dont_know(text: str | None) -> bool:
    """Whether the words only say that the writer does not know ("boh", "boh non lo so",
    "nn lo so", "non saprei", "I don't know")."""
    words = plain_words(text)
    said = [word for word in words if word not in _SHRUGS]
    if not said:
        return bool(words)
    return " ".join(said) in _DONT_KNOW


# At a code step, words saying the code did not come ("non ho ricevuto il codice", "nn mi è
# arrivato", "il codice non arriva", "I didn't get the code") or asking another ("mandatemi
# un nuovo codice"): a new code, as the option "Send a new code" sends.
_NOT_CAME = frozenset({"non", "mai", "nessun", "not", "didnt", "havent", "hasnt", "never"})
_CAME = frozenset(
    {"ricevuto", "ricevo", "arrivato", "arrivata", "arriva", "arrivano", "giunto", "received",
     "get", "got", "came", "come", "arrived"}
)  # fmt: skip
_NEW_CODE = frozenset(
    {("nuovo", "codice"), ("altro", "codice"), ("new", "code"), ("another", "code")}
)


def asks_for_a_new_code(text: str | None) -> bool:
    """Whether words say that a code did not come, or ask for another one."""
    words = plain_words(text)
    if not words or has_digits(words):
        return False
    said, pairs = set(words), set(pairwise(words))
    return bool(said & _NOT_CAME and said & _CAME) or bool(pairs & _NEW_CODE)


# At a code step, words saying the customer's code was refused or ran out ("il cliente dice
# che il codice non funziona", "codice scaduto", "the code doesn't work"): what a refused
# code means, and that PAGA again sends another.
_A_CODE = frozenset({"codice", "code"})


def says_the_code_fails(text: str | None) -> bool:
    """Whether words (no digits) say that a code was refused, expired or does not work."""
    words = plain_words(text)
    if not words or has_digits(words):
        return False
    said = set(words)
    fails = said & failing.CODE_FAILS or (
        said & failing.CODE_NEGATION and said & failing.CODE_WORKS
    )
    return bool(said & _A_CODE and fails)


# Numbers people write in words, in Italian and English (a household rarely has more than 20).
NUMBER_WORDS: dict[str, int] = {
    **dict.fromkeys(("zero", "nessuno", "nessuna", "niente", "nulla", "none", "nothing"), 0),
    **dict.fromkeys(("uno", "una", "un", "one", "solo", "sola", "alone"), 1),
    **dict.fromkeys(("due", "two", "coppia"), 2),
    **dict.fromkeys(("tre", "three"), 3),
    **dict.fromkeys(("quattro", "four"), 4),
    **dict.fromkeys(("cinque", "five"), 5),
    **dict.fromkeys(("sei", "six"), 6),
    **dict.fromkeys(("sette", "seven"), 7),
    **dict.fromkeys(("otto", "eight"), 8),
    **dict.fromkeys(("nove", "nine"), 9),
    **dict.fromkeys(("dieci", "ten"), 10),
    **dict.fromkeys(("undici", "eleven"), 11),
    **dict.fromkeys(("dodici", "twelve"), 12),
    **dict.fromkeys(("tredici", "thirteen"), 13),
    **dict.fromkeys(("quattordici", "fourteen"), 14),
    **dict.fromkeys(("quindici", "fifteen"), 15),
    **dict.fromkeys(("sedici", "sixteen"), 16),
    **dict.fromkeys(("diciassette", "seventeen"), 17),
    **dict.fromkeys(("diciotto", "eighteen"), 18),
    **dict.fromkeys(("diciannove", "nineteen"), 19),
    **dict.fromkeys(("venti", "twenty"), 20),
}
# "Nessuno" and "niente" answer "how much?" with zero; "uno" is not an amount anyone writes.
NOTHING = frozenset({"zero", "nessuno", "nessuna", "niente", "nulla", "none", "nothing", "no"})
# Words around a number that do not change it: "siamo in 3", "3 persone", "200 euro al mese".
_FILLER = frozenset(
    {
        "siamo", "in", "sono", "persone", "persona", "people", "person", "we", "are", "there",
        "di", "noi", "io", "e", "circa", "about", "euro", "euros", "eur", "euri", "al", "mese",
        "month", "a", "per", "the", "totale", "total", "compreso", "compresa", "me", "incluso",
        "inclusa", "included", "including", "componenti", "members", "only",
    }
)  # fmt: skip
# Words that say the number counts people: around an amount they mean the answer is to
# another question ("siamo in 3" where the rent is asked is not 3 euro).
_PEOPLE = frozenset(
    {"siamo", "persone", "persona", "people", "person", "noi", "we", "io", "me",
     "componenti", "members"}
)  # fmt: skip
_AMOUNT_FILLER = _FILLER - _PEOPLE
_NUMBER_TOKEN = re.compile(r"\d+")


def count_in(text: str | None) -> int | None:
    """A small whole number in what someone wrote: "3", "tre", "siamo in 3", "3 persone"."""
    words = fold(text).replace(",", " ").replace(".", " ").split()
    found: set[int] = set()
    for word in words:
        if word.isdigit():
            found.add(int(word))
        elif word in NUMBER_WORDS:
            found.add(NUMBER_WORDS[word])
        elif word not in _FILLER:
            return None
    return found.pop() if len(found) == 1 else None


# "Io e mio marito siamo 2", "in casa siamo in tre": the number right after "siamo" is the
# whole household. Words after it that may add to it ("siamo 2 più i bambini", "siamo 2
# adulti e ...") leave the sentence unread, and so does a "non" anywhere.
_WE_ARE = (("siamo",), ("we", "are"), ("there", "are"))
_ADDS_TO_IT = frozenset(
    {
        "piu", "oltre", "e", "con", "plus", "and", "with", "adulti", "adulto", "grandi",
        "maggiorenni", "bambini", "bambino", "bimbi", "figli", "figlio", "figlie", "figlia",
        "minori", "adults", "children", "kids",
    }
)  # fmt: skip
# "Siamo solo 2": "solo" before a number is no number of its own ("vivo da sola", "I live
# alone" are read apart, below).
_ONLY = frozenset({"solo", "sola", "soltanto", "only", "alone"})
# "Vivo da sola", "abito da solo", "I live alone": one person.
_ALONE = frozenset({("da", "sola"), ("da", "solo"), ("vivo", "sola"), ("vivo", "solo")})
_LIVE = frozenset({"vivo", "abito", "sto", "live"})

# "Io e mio marito", "io, mia moglie e i nostri 2 figli", "vivo con mia figlia", "me and my
# wife": the writer and the people named, one each ("marito", "figlia"), a pair
# ("genitori") or a number of them ("i miei due figli"). Every word must be one of these:
# "io e la mia famiglia", "io e i miei figli" (how many?) are asked again.
_SELF = frozenset({"io", "me", "myself"})  # and the English "I", folded to the article "i"
_TOGETHER = frozenset({"e", "ed", "con", "and", "with"})
# Before the people, words that add nobody: "siamo io e mio marito", "solo io e mia figlia".
_BEFORE_PEOPLE = frozenset(
    {"siamo", "in", "casa", "a", "solo", "soltanto", "only", "just", "we", "are"}
)  # fmt: skip
# "Only me", "solo io": the writer alone, only with one of these before it.
_JUST = frozenset({"solo", "soltanto", "only", "just"})
# "Vivo con mia figlia": the writer and the people after it.
_LIVE_WITH = (("vivo", "con"), ("abito", "con"), ("sto", "con"), ("i", "live", "with"),
              ("live", "with"))  # fmt: skip
_OF_MINE = frozenset(
    {
        "il", "lo", "la", "l", "i", "gli", "le", "mio", "mia", "miei", "mie", "nostro",
        "nostra", "nostri", "nostre", "suo", "sua", "suoi", "sue", "my", "our", "his", "her",
        "their", "the",
    }
)  # fmt: skip
_ONE_PERSON = frozenset(
    {
        "marito", "moglie", "compagno", "compagna", "convivente", "partner", "fidanzato",
        "fidanzata", "figlio", "figlia", "bambino", "bambina", "bimbo", "bimba", "madre",
        "mamma", "padre", "papa", "babbo", "fratello", "sorella", "nonno", "nonna", "nipote",
        "suocero", "suocera", "cognato", "cognata", "genero", "nuora", "zio", "zia", "cugino",
        "cugina", "husband", "wife", "boyfriend", "girlfriend", "son", "daughter", "child",
        "kid", "baby", "mother", "mum", "mom", "father", "dad", "brother", "sister",
        "grandson", "granddaughter", "grandchild", "grandmother", "grandfather", "grandma",
        "grandpa",
    }
)  # fmt: skip
# Two of them unless a number says otherwise: "io e i miei genitori" is three.
_PAIR = frozenset({"genitori", "suoceri", "gemelli", "gemelle", "parents", "twins"})
# Several, as many as the number before them says: without one, not guessed.
_SEVERAL = frozenset(
    {
        "figli", "figlie", "bambini", "bambine", "bimbi", "bimbe", "fratelli", "sorelle",
        "nipoti", "nonni", "cugini", "cugine", "children", "kids", "sons", "daughters",
        "brothers", "sisters", "grandchildren", "babies",
    }
)  # fmt: skip


def household_count(text: str | None) -> int | None:
    """The number of people of a household: what count_in reads ("3", "siamo in 3"), or
    a sentence that says it is everyone: the one number right after "siamo" ("io e mio
    marito siamo 2", "in casa siamo in tre"), with nothing after it that adds to it but
    the very people it counts ("siamo in due io e mio marito"), or living alone ("vivo da
    sola"). None for anything else, or with a "non"."""
    counted = count_in(text)
    if counted is not None:
        return counted
    words = unshortened(fold(text).replace(",", " ").replace(".", " ").replace("'", " ").split())
    if not words or {"non", "not"} & set(words) or not all(word.isalnum() for word in words):
        return None
    named = people_named(words)
    if named is not None:
        return named
    numbers = [
        at
        for at, word in enumerate(words)
        if word.isdigit() or (word in NUMBER_WORDS and word not in _ONLY)
    ]
    if not numbers:
        lives_alone = set(words) & _LIVE and set(pairwise(words)) & _ALONE
        return 1 if lives_alone or words[-2:] == ["live", "alone"] else None
    at = numbers[0]
    word = words[at]
    count = int(word) if word.isdigit() else NUMBER_WORDS[word]
    # "Siamo in due io e mio marito": the people named after the number, as many as it says.
    named_after = people_named(words[at + 1 :]) == count
    if not named_after and (len(numbers) != 1 or set(words[at + 1 :]) & _ADDS_TO_IT):
        return None
    before = words[:at]
    while before and before[-1] in ("in", *_ONLY):
        before.pop()
    if not any(tuple(before[-len(we) :]) == we for we in _WE_ARE):
        return None
    return count


def people_named(words: list[str]) -> int | None:
    """The writer and the people named after or before them, counted: "io e mio marito" 2,
    "io, mio marito e i nostri 2 figli" 4, "vivo con mia figlia" 2, "my wife and I" 2,
    "io e i miei genitori" 3, "solo io" 1. None unless every word is the writer, a person
    (with their article, possessive and number) or what joins them, and the writer is
    there once: "io e la mia famiglia", "io e i miei figli", "mio marito e mia figlia",
    "2 figli" are no household."""
    at, count, writer, people = 0, 0, False, 0
    just = False
    while at < len(words) and words[at] in _BEFORE_PEOPLE:
        just = just or words[at] in _JUST
        at += 1
    for opener in _LIVE_WITH:
        if tuple(words[at : at + len(opener)]) == opener:
            at, count, writer, just = at + len(opener), 1, True, False
            break
    while at < len(words):
        if words[at] in _TOGETHER:
            at += 1
            continue
        person = _person(words, at)
        if person is not None:
            many, at = person
            count, people = count + many, people + 1
            continue
        if words[at] not in _SELF and words[at] != "i":
            return None  # a word that is neither: "famiglia", "cane", "anni"
        if writer:
            return None  # "io e io", "vivo con me"
        count, writer, at = count + 1, True, at + 1
    if not writer or not (people or just):
        return None
    return count


def _person(words: list[str], at: int) -> tuple[int, int] | None:
    """The people one phrase names from `at` ("mio marito", "i miei due figli", "a son",
    "i miei genitori"), and where the next phrase starts; None when it names nobody."""
    while at < len(words) and words[at] in _OF_MINE:
        at += 1
    number: int | None = None
    if at < len(words):
        word = words[at]
        if word.isdigit() and len(word) <= 2:
            number, at = int(word), at + 1
        elif word in ("a", "an") or (word in NUMBER_WORDS and word not in _ONLY | {"coppia"}):
            number, at = NUMBER_WORDS.get(word, 1), at + 1
    if at >= len(words) or number == 0:
        return None
    noun = words[at]
    if noun in _ONE_PERSON and number in (None, 1):
        return 1, at + 1
    if noun in _PAIR:
        return number or 2, at + 1
    if noun in _SEVERAL and number is not None and number >= 2:
        return number, at + 1
    return None


def amount_text(text: str | None, *, spelled: bool = True) -> str:
    """What someone wrote for an amount, ready for parse_euro: "200 euro" -> "200",
    "niente" -> "0", "€ 1.500 circa" -> "1.500", "tre" -> "3" (unless `spelled` is False:
    at the till an amount is typed in digits). Anything else is returned as written,
    so that parse_euro names what is wrong with it."""
    cleaned = clean(text)
    word = fold(cleaned)
    if word in NOTHING:
        return "0"
    kept = [
        piece
        for piece in cleaned.replace("€", " ").split()
        if fold(piece) not in _AMOUNT_FILLER or not fold(piece)
    ]
    if spelled and len(kept) == 1 and fold(kept[0]) in NUMBER_WORDS:
        return str(NUMBER_WORDS[fold(kept[0])])
    if spelled and kept:
        # "duemila", "mille e cinquecento", "two thousand": whole euro in words.
        value = spelled_number(" ".join(kept))
        if value is not None:
            return str(value)
    return " ".join(kept) if kept else cleaned


# "Pago 350 euro di affitto", "prendo 300 euro di naspi al mese", "350 al mese": one
# amount in a sentence, marked as money by the currency or "al mese" beside it. Words that
# make it no plain amount leave the sentence unread: a "non", a doubt, a range or a bound
# ("350 o 400", "più di 300", "tra 300 e 400", "300 forse").
_MONTHLY = (("al", "mese"), ("a", "month"), ("per", "month"), ("ogni", "mese"))
_NOT_PLAIN_AMOUNT = frozenset(
    {
        "non", "o", "oppure", "tra", "fra", "piu", "meno", "oltre", "almeno", "massimo",
        "minimo", "sopra", "sotto", "fino", "forse", "boh", "not", "or", "between", "more",
        "less", "over", "under", "least", "most", "than", "above", "below", "up", "maybe",
        "perhaps",
    }
)  # fmt: skip
# Where savings are kept, right after a number at the savings question: "ho circa 1200 in
# banca", "1500 sul libretto", "800 in the bank" (money there, without the currency).
_SAVED_IN = (
    ("in", "banca"), ("alla", "banca"), ("in", "posta"), ("alla", "posta"), ("sul", "conto"),
    ("sul", "libretto"), ("sui", "conti"), ("da", "parte"), ("di", "risparmi"),
    ("in", "the", "bank"), ("at", "the", "bank"), ("in", "my", "account"),
    ("in", "the", "account"), ("in", "savings"), ("saved",),
)  # fmt: skip
# "350 al mese", "1200 mensili", "800 euro a month": money each month, no savings.
_MONTH_WORDS = frozenset({"mensile", "mensili", "mensilmente", "monthly"})
# "6000 euro all'anno", "5000 l'anno", "3600 annui", "5000 a year": a year's money.
_YEARLY = frozenset(
    {("all", "anno"), ("l", "anno"), ("al", "anno"), ("ogni", "anno"), ("a", "year"),
     ("per", "year"), ("each", "year"), ("every", "year"), ("per", "annum")}
)  # fmt: skip
_WHICH_YEAR = frozenset({"scorso", "passato", "prossimo", "precedente", "corrente", "ago"})
_YEAR_WORDS = frozenset(
    {"annui", "annue", "annuo", "annua", "annuali", "annuale", "annualmente", "yearly",
     "annually", "annual"}
)  # fmt: skip
# "Un", "una", "one" are an article in a sentence ("ho una pensione di 300 euro").
_ARTICLES = frozenset({"un", "uno", "una", "one"})
_FIGURES = re.compile(r"^\d(?:[\d.,']*\d)?$")


def per_month(text: str | None) -> bool:
    """Whether a message says its money comes each month: "1200 al mese", "800 euro a
    month", "1200 mensili", "prendo 900 ogni mese". Savings are no monthly sum: where they
    are asked, such an answer is another question's."""
    words = fold(text).replace("'", " ").replace(",", " ").split()
    pairs = set(pairwise(words))
    return bool(set(words) & _MONTH_WORDS or pairs & set(_MONTHLY))


def per_year(text: str | None) -> bool:
    """Whether a message says its money is a year's: "6000 euro all'anno", "3600 € annui",
    "5000 a year". Where a month's income or rent is asked it would count twelve times
    over, and where savings are asked it is an income: either way another question's."""
    words = fold(text).replace("'", " ").replace(",", " ").split()
    if set(words) & _YEAR_WORDS:
        return True
    # "L'anno scorso", "a year ago": when, not how often.
    after = [*words[2:], ""]  # the word after each pair
    return any(
        pair in _YEARLY and following not in _WHICH_YEAR
        for pair, following in zip(pairwise(words), after, strict=False)
    )


# Between a number and what the question asks ("300 di affitto", "l'affitto è 300").
_OF = frozenset({"di", "d", "de", "of", "for", "in"})
_IS = frozenset({"e", "is", "di", "d", "of"})
# What the rent question asks, and the support question: a number next to it is its money.
RENT_WORDS = frozenset({"affitto", "pigione", "rent"})
SUPPORT_WORDS = frozenset(
    {"naspi", "cassa", "cassintegrazione", "reddito", "sostegno", "disoccupazione", "benefit"}
)


# "Ho la naspi", "mio marito prende la cassa integrazione", "pago l'affitto": where the
# household's monthly support or rent is asked, a statement that there is some, without
# the sum. Every word one of these, a verb of having or paying among them, and a word of
# what the question asks.
_HAS_OR_PAYS = _HAVING | frozenset(
    {"pago", "paga", "paghiamo", "pagano", "pay", "pays", "c", "ce", "e", "there", "is"}
)
_ABOUT_SUPPORT = frozenset(
    {"di", "cittadinanza", "integrazione", "inclusione", "unico", "assegno", "rdc", "adi",
     "cig", "sussidio", "la", "il", "lo", "l", "un", "una", "le", "i", "gli", "the", "a",
     "an", "of", "mensile", "casa", "for"}
)  # fmt: skip


def says_there_is(text: str | None, about: frozenset[str]) -> bool:
    """Whether the words only state that the household has or pays what a monthly
    question asks about (`about`: SUPPORT_WORDS, RENT_WORDS), without how much: "ho la
    naspi", "mio marito prende la cassa integrazione", "pago l'affitto". A digit, a "non"
    or any other word leaves it unread ("non pago l'affitto", "ho perso la naspi")."""
    words = plain_words(clean(text).replace("'", " "))  # "l'affitto": "l", "affitto"
    if not words or has_digits(words):
        return False
    said = set(words)
    people = _WHO_AT_HOME | _OF_MINE | _ONE_PERSON | _SEVERAL | _PAIR
    allowed = about | _HAS_OR_PAYS | _ABOUT_SUPPORT | people
    return bool(said & about) and bool(said & _HAS_OR_PAYS) and said <= allowed


# "Non ce l'ho", "non pago l'affitto", "nessun sostegno": where the monthly support or
# rent is asked, a no said in a sentence, with only the question's words and a verb of
# having or paying beside it. The rent question also takes a home of one's own ("casa di
# proprietà", "la casa è mia").
_NONE = frozenset(
    {"non", "no", "niente", "nulla", "nessun", "nessuno", "nessuna", "not", "dont", "nothing",
     "none"}
)  # fmt: skip
_NONE_TOO = frozenset({"proprio", "affatto", "nemmeno", "neanche", "any", "we", "i"})
_OWN_HOME = frozenset(
    {"casa", "di", "proprieta", "mia", "nostra", "e", "la", "una", "in", "abito", "abitiamo",
     "vivo", "viviamo", "sto", "stiamo", "siamo", "sono", "ho", "abbiamo", "nella"}
)  # fmt: skip
_OWN = frozenset({"mia", "nostra", "proprieta"})
# One kind of support named: without it the household may still have another.
_ONE_KIND_OF_SUPPORT = frozenset(
    {"naspi", "cassa", "cassintegrazione", "reddito", "disoccupazione", "rdc", "adi", "cig",
     "assegno", "cittadinanza", "integrazione", "inclusione", "unico"}
)  # fmt: skip


def says_there_is_none(text: str | None, about: frozenset[str]) -> bool:
    """Whether the words only say that the household has or pays none of what a monthly
    question asks about (`about`: SUPPORT_WORDS, RENT_WORDS): "non ce l'ho", "non prendo
    niente", "nessun sostegno", "non pago l'affitto"; for the rent also "casa di
    proprietà", "abito in casa mia". A digit, one kind of support ("non ho la naspi": the
    household may have another) or any other word ("non ce l'ho ma mio marito sì", "non è
    casa mia") leaves it unread."""
    words = plain_words(clean(text).replace("'", " "))  # "l'affitto": "l", "affitto"
    if not words or has_digits(words):
        return False
    said = set(words)
    if about is RENT_WORDS and said <= _OWN_HOME and "casa" in said and said & _OWN:
        return not said & _NONE
    if said & _ONE_KIND_OF_SUPPORT:
        return False  # "non ho la naspi": another support may still come in
    allowed = _NONE | _NONE_TOO | about | _HAS_OR_PAYS | _ABOUT_SUPPORT | _WHO_AT_HOME
    return bool(said & _NONE) and said <= allowed


def _next_to(words: list[str], at: int, about: frozenset[str]) -> bool:
    """Whether the number at `at` is next to a word of `about`: "300 di affitto", "l'affitto
    è 300", "affitto 300", "300 rent"."""
    after = words[at + 1 : at + 3]
    before = words[max(at - 2, 0) : at]
    return bool(
        (after[:1] and after[0] in about)
        or (len(after) == 2 and after[0] in _OF and after[1] in about)
        or (before[-1:] and before[-1] in about)
        or (len(before) == 2 and before[1] in _IS and before[0] in about)
    )


def amount_in_sentence(
    text: str | None, *, saved: bool = False, about: frozenset[str] = frozenset()
) -> str | None:
    """The one amount of a sentence, ready for parse_euro: "pago 350 euro di affitto" ->
    "350", "ho circa 1200 euro in banca" -> "1200", "350 al mese" -> "350", "prendo
    trecento euro" -> "300". Only a number with the currency or "al mese" beside it (with
    `saved`, where savings are asked, also where they are kept: "ho circa 1200 in banca";
    with `about`, next to what the question asks: "pago 300 di affitto"),
    and the only number of the message; None for anything else ("350 o 400", "siamo in
    3", "pago l'affitto da 6 mesi", "non pago 350 euro", "ho 2 conti in banca"), and the
    question is asked again."""
    words: list[str] = []
    for piece in clean(text).replace("€", " € ").split():
        word = piece.strip(',.;:!?()"')
        if not word:
            continue
        if any(ch.isdigit() for ch in word):
            if not _FIGURES.match(word) or sum(ch.isdigit() for ch in word) > 8:
                return None  # "12:30", "3a", a phone number: no amount of money
            words.append(word)
        elif word == "€" or is_currency(word):
            words.append("€")
        else:
            words.extend(unshortened(fold(word).replace("'", " ").split()))
    if set(words) & _NOT_PLAIN_AMOUNT:
        return None
    numbers = [
        at
        for at, word in enumerate(words)
        if _FIGURES.match(word)
        or (word not in _ARTICLES and word not in _AND and spelled_number(word) is not None)
    ]
    if len(numbers) != 1:
        return None
    at = numbers[0]
    marks = (*_MONTHLY, *_SAVED_IN) if saved else _MONTHLY
    marked = (
        "€" in words[at - 1 : at] + words[at + 1 : at + 2]
        or any(tuple(words[at + 1 : at + 1 + len(mark)]) == mark for mark in marks)
        or _next_to(words, at, about)
    )
    if not marked:
        return None
    word = words[at]
    return word if _FIGURES.match(word) else str(spelled_number(word))


# The pieces whole numbers are written with, in Italian (joined in one word or not:
# "duemilacinquecento", "due mila cinquecento") and English ("two thousand five hundred").
_UNITS = {
    **dict.fromkeys(("uno", "un", "una", "one"), 1),
    **dict.fromkeys(("due", "two"), 2),
    **dict.fromkeys(("tre", "three"), 3),
    **dict.fromkeys(("quattro", "four"), 4),
    **dict.fromkeys(("cinque", "five"), 5),
    **dict.fromkeys(("sei", "six"), 6),
    **dict.fromkeys(("sette", "seven"), 7),
    **dict.fromkeys(("otto", "eight"), 8),
    **dict.fromkeys(("nove", "nine"), 9),
}
_TEENS = {
    **dict.fromkeys(("dieci", "ten"), 10),
    **dict.fromkeys(("undici", "eleven"), 11),
    **dict.fromkeys(("dodici", "twelve"), 12),
    **dict.fromkeys(("tredici", "thirteen"), 13),
    **dict.fromkeys(("quattordici", "fourteen"), 14),
    **dict.fromkeys(("quindici", "fifteen"), 15),
    **dict.fromkeys(("sedici", "sixteen"), 16),
    **dict.fromkeys(("diciassette", "seventeen"), 17),
    **dict.fromkeys(("diciotto", "eighteen"), 18),
    **dict.fromkeys(("diciannove", "nineteen"), 19),
}
_TENS = {
    # "vent" + "uno", "trent" + "otto": a ten drops its vowel before uno and otto.
    **dict.fromkeys(("venti", "vent", "twenty"), 20),
    **dict.fromkeys(("trenta", "trent", "thirty"), 30),
    **dict.fromkeys(("quaranta", "quarant", "forty"), 40),
    **dict.fromkeys(("cinquanta", "cinquant", "fifty"), 50),
    **dict.fromkeys(("sessanta", "sessant", "sixty"), 60),
    **dict.fromkeys(("settanta", "settant", "seventy"), 70),
    **dict.fromkeys(("ottanta", "ottant", "eighty"), 80),
    **dict.fromkeys(("novanta", "novant", "ninety"), 90),
}
_HUNDRED = frozenset({"cento", "cent", "hundred"})
_THOUSAND = frozenset({"mille", "mila", "thousand"})
_MILLION = frozenset({"milione", "milioni", "million"})
_AND = frozenset({"e", "and"})
_PIECES = sorted(
    {*_UNITS, *_TEENS, *_TENS, *_HUNDRED, *_THOUSAND, *_MILLION, *_AND},
    key=len,
    reverse=True,
)


def _pieces(word: str) -> list[str] | None:
    """A word cut into number pieces ("duemilacinquecento": due, mila, cinque, cento), the
    longest pieces first and going back when the rest cannot be cut; None if it cannot."""
    if not word:
        return []
    for piece in _PIECES:
        if word.startswith(piece):
            rest = _pieces(word[len(piece) :])
            if rest is not None:
                return [piece, *rest]
    return None


def _below_hundred(pieces: list[str]) -> int | None:
    """A ten and a unit ("venti", "tre"), a ten alone, a unit or a teen alone."""
    if not pieces:
        return 0
    if len(pieces) == 1:
        (piece,) = pieces
        return _UNITS.get(piece, _TEENS.get(piece, _TENS.get(piece)))
    if len(pieces) == 2 and pieces[0] in _TENS and pieces[1] in _UNITS:
        return _TENS[pieces[0]] + _UNITS[pieces[1]]
    return None


def _group(pieces: list[str]) -> int | None:
    """What comes before "mila" or at the end: "due cento cinquanta" 250, "fifteen hundred"
    1500 (in English the hundreds may go past nine)."""
    hundreds = [i for i, piece in enumerate(pieces) if piece in _HUNDRED]
    if not hundreds:
        return _below_hundred(pieces)
    if len(hundreds) > 1:
        return None
    at = hundreds[0]
    times = _below_hundred(pieces[:at]) if at else 1
    rest = _below_hundred(pieces[at + 1 :])
    if times is None or rest is None or times == 0:
        return None
    if pieces[at] != "hundred" and times > 9:
        return None
    return times * 100 + rest


def spelled_number(text: str) -> int | None:
    """A whole number written in words, Italian or English: "duemila" 2000, "mille e
    cinquecento" 1500, "duecentocinquanta" 250, "two thousand five hundred" 2500, "fifteen
    hundred" 1500. None for anything else (a digit, a word that is no number)."""
    pieces: list[str] = []
    for word in fold(text).replace("-", " ").split():
        cut = _pieces(word)
        if cut is None:
            return None
        pieces.extend(cut)
    pieces = [x for x in pieces if x not in _AND]
    if not pieces:
        return None
    total, group = 0, []
    for piece in pieces:
        if piece not in _MILLION and piece not in _THOUSAND:
            group.append(piece)
            continue
        scale = 1_000_000 if piece in _MILLION else 1000
        count = _group(group) if group else 1
        if count is None or count == 0 or (piece in ("mila", "milioni") and count < 2):
            return None
        if (piece == "mille" and group) or (piece == "milione" and count != 1):
            return None  # "due mille", "tre milione" are not how numbers are written
        if total and total % (scale * 1000):
            return None  # "mille duemila": a larger group after a smaller one
        total, group = total + count * scale, []
    rest = _group(group)
    return None if rest is None else total + rest


# The currency as a word of its own, before or after the amount ("€ 3", "3 EUR"), and among
# the words of an amount said aloud at the till besides its numbers, with the cents;
# "euri", the plural many say ("5 euri"), too.
_CURRENCY = frozenset({"€", "eur", "euro", "euros", "euri"})
_SPOKEN_CENTS = frozenset({"centesimi", "centesimo", "cent", "cents"})


def _spoken_number(words: list[str]) -> int | None:
    """Plain digits ("20") or a whole number in words ("venti", "ventidue") of a few words."""
    if len(words) == 1 and words[0].isascii() and words[0].isdigit() and len(words[0]) <= 4:
        return int(words[0])
    if not words or any(ch.isdigit() for word in words for ch in word):
        return None
    return spelled_number(" ".join(words))


def spoken_amount(text: str | None) -> str | None:
    """An amount the way a cashier says it, ready for parse_euro, when only one reading is
    possible: "dieci euro" "10", "venti e cinquanta" "20,50", "venti euro e cinquanta"
    "20,50", "dodici e 30" "12,30", "dodici e mezzo" "12,50", "tre euro e cinque
    centesimi" "3,05", "cinquanta
    centesimi" "0,50", "ten euros" "10". None when it is no amount in words, or could be
    read two ways: "cento e venti" (120, or 100,20?), "venti e cinque" (25, 20,05 or
    20,50?); those are asked in figures (says_amount_in_words)."""
    words = [word for word in fold(text).replace("-", " ").split() if word]
    if not words or not any(word.isalpha() and word not in _CURRENCY for word in words):
        return None  # digits alone are parse_euro's, as they always were
    if words[-1] in _SPOKEN_CENTS and words.count("e") + words.count("and") == 0:
        cents = _spoken_number([w for w in words[:-1] if w not in _CURRENCY])
        return f"0,{cents:02d}" if cents is not None and 0 < cents <= 99 else None
    joins = [at for at, word in enumerate(words) if word in ("e", "and")]
    if not joins:
        whole = _spoken_number([w for w in words if w not in _CURRENCY])
        return None if whole is None else str(whole)
    # Euro and cents: the last "e" that has cents after it ("mille e cinquecento" has none).
    at = joins[-1]
    before, after = words[:at], words[at + 1 :]
    if after == ["mezzo"]:
        after = ["50"]  # "dodici e mezzo", "tre euro e mezzo": and a half, 50 cents
    said_euro = bool(before) and before[-1] in _CURRENCY
    said_cents = bool(after) and after[-1] in _SPOKEN_CENTS
    euros = _spoken_number([w for w in before if w not in _CURRENCY])
    cents = _spoken_number(after[:-1] if said_cents else after)
    if euros is None or cents is None:
        whole = _spoken_number([w for w in words if w not in _CURRENCY])
        return None if whole is None or cents is not None else str(whole)
    if cents >= 100:
        # "mille e cinquecento": one whole number, no cents.
        whole = _spoken_number([w for w in words if w not in _CURRENCY])
        return None if whole is None or said_euro else str(whole)
    if said_euro or said_cents or (euros < 100 and cents >= 10):
        if cents < 10 and not said_cents:
            return None  # "venti euro e cinque": 20,05 or 20,50?
        return f"{euros},{cents:02d}"
    return None  # "cento e venti", "venti e cinque": two readings


def says_amount_in_words(text: str | None) -> bool:
    """Whether the words are only the words of an amount (numbers in words, "e", the
    currency, the cents), whatever it comes to: "cento e venti" asks to be written in
    figures rather than "not an amount"."""
    words = [word for word in fold(text).replace("-", " ").split() if word]
    spoken = [w for w in words if w not in _CURRENCY | _SPOKEN_CENTS | _AND]
    return (
        bool(spoken)
        and all(w.isdigit() or (w.isalpha() and _pieces(w) not in (None, [])) for w in spoken)
        and any(w.isalpha() for w in spoken)
    )


_AMOUNT_LIKE = re.compile(r"^[-+−]?\s*€?\s*[-+−]?\d[\d.,']*\s*€?$|^[-+−]?\d*[.,]\d+$")
# "3 euro e 50", "3 € e 5 centesimi", "3 euros and 50 cents": euro and cents in words.
_EURO_AND_CENTS = re.compile(
    r"^(?P<euro>\d+)\s*(?:€|eur|euros?)\s+(?:e|and)\s+(?P<cents>\d{1,2})"
    r"(?:\s*(?:centesimi|centesimo|cent|cents|c))?$",
    re.IGNORECASE,
)


def euro_and_cents(text: str) -> str | None:
    """ "3 euro e 50" -> "3,50", "3 euro e 5 centesimi" -> "3,05"; None for anything else."""
    match = _EURO_AND_CENTS.match(text.strip())
    if match is None:
        return None
    return f"{match['euro']},{match['cents'].rjust(2, '0')}"


def is_currency(word: str) -> bool:
    """The currency as a word of its own: "€", "EUR", "eur.", "euro", "Euros"."""
    return word.lower().rstrip(".") in _CURRENCY


def _amountish(word: str) -> bool:
    """A word the currency written beside it belongs to: digits of an amount, not a phone
    number or a codice fiscale of digits (more than 8 digits)."""
    digits = sum(ch.isdigit() for ch in word)
    return _AMOUNT_LIKE.match(word) is not None and 0 < digits <= 8


def _glue_currency(words: list[str]) -> list[str]:
    """The currency written as a word of its own joins the number beside it, as if written
    "12,50€" or "€12,50": "12,50 € RSSMRA85T10A562S", "RSSMRA85T10A562S EUR 3". A currency
    word beside no number is dropped: it is never part of who pays."""
    words, glued = list(words), []
    for index, word in enumerate(words):
        if not is_currency(word):
            glued.append(word)
            continue
        before = bool(glued) and _amountish(glued[-1]) and "€" not in glued[-1]
        after = index + 1 < len(words) and _amountish(words[index + 1])
        if before and after:
            # "12,50 € 3": the amount is written first or last, so the last word takes it
            # only when it ends the line and the word before does not start it.
            before = not (index + 2 == len(words) and len(glued) > 1)
        if before:
            glued[-1] = f"{glued[-1]}€"
        elif after:
            words[index + 1] = f"€{words[index + 1]}"
    return glued


def split_amount(arg: str) -> tuple[str, str | None]:
    """ "RSSMRA85T10A562S 12,50" -> (reference, "12,50"): the last word is the amount when it
    looks like one, even a wrong one ("-5", "0,001"), so that the amount error is the one said
    rather than "nobody found" for "RSSMRA85T10A562S -5". The currency may be written
    before or after it ("€ 3", "12,50 €", "EUR 3", "3 eur."), and euro and cents in words
    ("3 euro e 50" is 3,50); the amount may come first ("12,50 € RSSMRA85T10A562S"). A
    currency word is never part of who pays."""
    words = arg.split()
    for size in (5, 4):
        # "3 euro e 50" / "3 euro e 50 centesimi" at the end, after a reference, or first.
        if len(words) > size and (amount := euro_and_cents(" ".join(words[-size:]))):
            return " ".join(w for w in words[:-size] if not is_currency(w)), amount
        if len(words) > size and (amount := euro_and_cents(" ".join(words[:size]))):
            return " ".join(w for w in words[size:] if not is_currency(w)), amount
    words = _glue_currency(words)
    if len(words) >= 2 and _amount_first(words[0], words[1:]):
        # "12,50 RSSMRA85T10A562S": the amount written first, who pays after it.
        return " ".join(words[1:]), words[0]
    if len(words) >= 2 and looks_like_codice_fiscale(words[0]):
        # After a codice fiscale (one word) the rest can only be the amount, however wrong:
        # said as an amount error, never looked up as somebody.
        return words[0], " ".join(words[1:])
    if len(words) >= 2:
        last = words[-1]
        if len(words) >= 3 and _split_cents(words):
            # "RSSMRA85T10A562S 12 50": the amount written with a space, said as an amount
            # error (parse_euro refuses it), never "nobody found" for "RSSMRA85T10A562S 12".
            return " ".join(words[:-2]), f"{words[-2]} {last}"
        digits = last.lstrip("+-−")
        # Plain digits up to 6 are an amount (a phone number written in pieces has longer
        # ones); with a sign, a separator or € it is an amount whatever is wrong with it.
        plain = _NUMBER_TOKEN.fullmatch(digits) is not None and len(digits) <= 6
        marked = _NUMBER_TOKEN.fullmatch(digits) is None and _AMOUNT_LIKE.match(last) is not None
        if plain or marked:
            return " ".join(words[:-1]), last.replace("−", "-")
        if any(ch.isdigit() for ch in last) and is_phone_number(" ".join(words[:-1])):
            # "3331000002 7e50": after a phone number, as after a codice fiscale, a last word
            # with a digit is the amount, however wrong (an amount error), never part of a
            # card number refused as a name.
            return " ".join(words[:-1]), last
    return " ".join(words), None


def _amount_first(first: str, rest: list[str]) -> bool:
    """Whether the words are an amount and then who pays: a codice fiscale after plain
    digits or a written amount; a phone number (8 digits or more) or a card code (10
    letters and digits, perhaps in its printed groups) after an amount with a comma, a dot
    or € ("12,50 3331000005", "12,50 € ABCD EFGH JK"), so that plain digits before a phone
    stay what they were."""
    if _AMOUNT_LIKE.match(first) is None or looks_like_codice_fiscale(first):
        return False
    second = "".join(rest)
    if looks_like_codice_fiscale(second) and (len(rest) == 1 or len(second) == 16):
        return True
    marked = _NUMBER_TOKEN.fullmatch(first.lstrip("+-−")) is None
    phone = second.lstrip("+").isdigit() and len(second.lstrip("+")) >= 8
    card = len(second) == 10 and second.isalnum() and not second.isdigit()
    return marked and (phone or card)


def _split_cents(words: list[str]) -> bool:
    """The last two words are euro and cents with a space between ("12 50", "1 234"), after
    one word (a phone number or a card code in one piece) or a codice fiscale."""
    euros, cents = words[-2], words[-1]
    if not (euros.isdigit() and cents.isdigit() and len(euros) <= 4 and len(cents) <= 3):
        return False
    rest = words[:-2]
    return len(rest) == 1 or looks_like_codice_fiscale(" ".join(rest))


def typo_distance(a: str, b: str) -> int:
    """Edits between two words, a swap of neighbours counting as one (Damerau-Levenshtein,
    optimal string alignment): "sadlo" is one slip from "saldo", where plain Levenshtein
    counts two and difflib's similarity ratio counts no edits at all."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, start=1):
        current = [i, *([0] * len(b))]
        for j, right in enumerate(b, start=1):
            current[j] = min(
                previous[j] + 1,  # a letter too many
                current[j - 1] + 1,  # a letter missing
                previous[j - 1] + (left != right),  # a wrong letter
            )
            if i > 1 and j > 1 and left == b[j - 2] and a[i - 2] == right:
                current[j] = min(current[j], previous2[j - 2] + 1)  # two letters swapped
        previous2, previous = previous, current
    return previous[-1]


# PAGA abbreviated ("pag RSSMRA85T10A562S 4") or one slip from it ("PGAA 3331000002 4",
# "paag …") before who pays, at a shop's chat: read as PAGA. Safe to read so: a payment
# still needs the customer's own code, sent to them with the amount, so the slip pays
# nothing by itself; asking "Did you mean PAGA?" would only make the cashier type it again.
_PAGA = "paga"


def after_paga_slip(text: str | None) -> str | None:
    """What comes after a first word that is PAGA abbreviated or one slip from it, when it
    has a digit or a codice fiscale (who pays, the amount); None for anything else, and
    for PAGA itself (a keyword). For a shop's chat only: elsewhere "pago 350" is a word."""
    words = clean(text).split()
    if len(words) < 2:
        return None
    first = fold(words[0])
    if first == _PAGA or not first.isalpha() or typo_distance(first, _PAGA) != 1:
        return None
    rest = " ".join(words[1:])
    if not has_digits([rest]) and not codice_fiscale_written(rest):
        return None
    return rest


def menu_digit_and_phone(text: str | None) -> tuple[str, str] | None:
    """ "5 3331000002": a menu's number and a phone number in one message (eleven digits
    with the space), as (the digit, the phone as written); None for anything else. Neither
    a code nor an amount nor who pays by itself: the chat says what to write instead."""
    words = clean(text).split()
    if len(words) < 2 or not (words[0].isascii() and words[0].isdigit() and len(words[0]) == 1):
        return None
    phone = " ".join(words[1:])
    return (words[0], phone) if is_phone_number(phone) else None


def forget_messages() -> None:
    """Forget the messages already cleaned and folded: a benchmark of one turn measures
    each message as new to the process."""
    clean.cache_clear()
    fold.cache_clear()
    _plain_words.cache_clear()


# "Volevo aggiungere una cosa", "vorrei integrare", "I wanted to add something": the person
# has more to say about what they sent (an appeal just filed, say).
_ADDING = ("aggiung", "aggiunt", "integrar", "integrazion")
_ADDING_EN = frozenset({"add", "adding", "addition", "append"})


def wants_to_add(text: str | None) -> bool:
    """Whether the words say that the person wants to add something."""
    return any(word in _ADDING_EN or word.startswith(_ADDING) for word in plain_words(text))
