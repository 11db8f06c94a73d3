"""The application's questions about the household's work and pension, answered in a
sentence rather than a yes or a no: "mio marito ha la pensione", "non lavoro", "non
lavoriamo", "nessuno lavora, ho la pensione". Each reading takes only whole statements of
its tables: a "non", a "ma", a doubt or the past leaves it unread, and the question is
asked again."""

from __future__ import annotations

import re

from core.dialogue.words.answers import says_nobody, yes_or_no, yes_or_no_leading
from core.dialogue.words.household import _OF_MINE, _ONE_PERSON, _PAIR, _SEVERAL
from core.dialogue.words.text import clean, has_digits, plain_words

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
