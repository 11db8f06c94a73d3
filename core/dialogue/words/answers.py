"""The answers a question takes whatever it asks: a yes or a no (and, at the household's
yes-or-no questions, a "nobody"), an "I don't know", an "I want to add something". Read
as whole phrases of small tables, so that anything else is asked again rather than
guessed."""

from __future__ import annotations

from core.dialogue.words.text import has_digits, plain_words

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


# "Volevo aggiungere una cosa", "vorrei integrare", "I wanted to add something": the person
# has more to say about what they sent (an appeal just filed, say).
_ADDING = ("aggiung", "aggiunt", "integrar", "integrazion")
_ADDING_EN = frozenset({"add", "adding", "addition", "append"})


def wants_to_add(text: str | None) -> bool:
    """Whether the words say that the person wants to add something."""
    return any(word in _ADDING_EN or word.startswith(_ADDING) for word in plain_words(text))


# "Basta", "basta così", "non voglio più", "lascia stare", "forget it": the person gives
# up the request at its question, as ANNULLA would. Whole phrases only (an answer that
# holds one of these words is read as an answer), and read only where the flow says so
# (Flow.stopped_in_words): at a till's amount "basta" is never a stop. Not "non fa niente",
# a no at the work question ("he does nothing").
_GIVING_UP = frozenset(
    {
        "basta", "basta cosi", "ora basta", "adesso basta", "basta basta", "basta non voglio",
        "non voglio piu", "non la voglio piu", "non lo voglio piu", "non voglio continuare",
        "non voglio andare avanti", "non voglio piu continuare", "non voglio piu farla",
        "non voglio piu fare la domanda", "non mi interessa", "non mi interessa piu",
        "lascia stare", "lascia perdere", "lasciamo stare",
        "lasciamo perdere", "lascio stare", "lascio perdere", "lasci stare", "lasci perdere",
        "rinuncio", "ci rinuncio", "mi fermo", "smetto", "fermati", "finisci qui",
        "enough", "thats enough", "forget it", "never mind", "nevermind", "i give up",
        "leave it", "i dont want it", "i dont want it anymore", "i dont want to continue",
        "i do not want to continue", "not anymore",
    }
)  # fmt: skip


def gives_up(text: str | None) -> bool:
    """Whether the whole message gives up what is under way ("Basta!", "basta così
    grazie", "lascia stare", "non voglio più", "forget it")."""
    words = plain_words(text)
    return bool(words) and not has_digits(words) and " ".join(words) in _GIVING_UP
