"""How many live at home, as people write it: "3", "siamo in tre", "io e mio marito",
"vivo da sola", "io, mia moglie e i nostri 2 figli". The words that name people at home
are here too, for the readings of work, pension, rent and support that name who has
them."""

from __future__ import annotations

from itertools import pairwise

from core.dialogue.words.numbers import NUMBER_WORDS
from core.dialogue.words.text import fold, unshortened

# Words around a number that do not change it: "siamo in 3", "3 persone", "200 euro al mese".
_FILLER = frozenset(
    {
        "siamo", "in", "sono", "persone", "persona", "people", "person", "we", "are", "there",
        "di", "noi", "io", "e", "circa", "about", "euro", "euros", "eur", "euri", "al", "mese",
        "month", "a", "per", "the", "totale", "total", "compreso", "compresa", "me", "incluso",
        "inclusa", "included", "including", "componenti", "members", "only", "of", "us",
    }
)  # fmt: skip
# Words that say the number counts people: around an amount they mean the answer is to
# another question ("siamo in 3" where the rent is asked is not 3 euro).
_PEOPLE = frozenset(
    {"siamo", "persone", "persona", "people", "person", "noi", "we", "io", "me",
     "componenti", "members", "us"}
)  # fmt: skip


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
    family = family_of(words)
    if family is not None:
        return family
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


# "Siamo una famiglia di 4", "we are a family of four", "nucleo di 3 persone": the
# number after these words, with only these before it and "persone" after it.
_FAMILY_OF = (("famiglia", "di"), ("family", "of"), ("nucleo", "di"))
_BEFORE_FAMILY = frozenset(
    {"siamo", "una", "un", "la", "mia", "nostra", "il", "mio", "nostro", "we", "are", "a",
     "my", "our", "its", "it", "is"}
)  # fmt: skip


def family_of(words: list[str]) -> int | None:
    """The size a "famiglia di 4", "family of four" says, or None."""
    for at, pair in enumerate(pairwise(words)):
        if pair not in _FAMILY_OF or not set(words[:at]) <= _BEFORE_FAMILY:
            continue
        rest = words[at + 2 :]
        if not rest or not set(rest[1:]) <= {"persone", "people", "componenti", "members"}:
            return None
        number = rest[0]
        return int(number) if number.isdigit() else NUMBER_WORDS.get(number)
    return None


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
