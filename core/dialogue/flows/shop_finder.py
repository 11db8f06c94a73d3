"""Where to spend the vouchers: shops near a shared position, or by town, postcode or category."""

from __future__ import annotations

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.flows.base import Flow, Step, Takes, table
from core.dialogue.inbound import SharedLocation
from core.dialogue.state import MorePage, NoState
from core.dialogue.words import clean, fold, plain_words, yes_or_no
from core.dialogue.words.text import typo_distance
from core.domain.channels import Channel
from core.domain.geo import valid_position
from core.domain.messages import Distance, MapPin, Text, t, tn
from core.domain.shops import ShopCategory, searched_category
from core.services import delegates
from core.services import shops as shop_service
from core.services.municipalities import current_round, is_open
from core.storage import models as m

RADIUS_KM = 10.0
# Telegram shows a list; an SMS shows what fits one segment (see Turn.say_fitting).
SHOWN = 5


class ShopFinderFlow(Flow[NoState]):
    name = "shops"
    state_type = NoState
    reads_requests = True

    async def start(self, turn: Turn, arg: str) -> None:
        if arg.strip():
            await search(turn, arg)
            await say_how_to_apply(turn)
            return
        if await _in_own_town(turn):
            # A citizen of this town writing NEGOZI or "dove posso spendere i buoni?" by SMS:
            # the town's shops at once, rather than asking them which town they live in.
            await search(turn, turn.town.name)
            return
        await self.ask(turn)

    async def ask_query(self, turn: Turn) -> None:
        if turn.channel == Channel.TELEGRAM:
            turn.say(
                t(
                    "Share your position to see the shops near you, or write a town, a "
                    "postcode (CAP) or a type of shop."
                ),
                request="location",
            )
            return
        turn.say(
            t(
                "Write a town, a postcode (CAP) or a type of shop: alimentari, "
                "panetteria, macelleria, frutta, farmacia."
            )
        )

    async def on_query(self, turn: Turn, inp: Input) -> None:
        if inp.location is not None:
            await near(turn, inp.location)
            return
        if not inp.word:
            raise Reject(
                t("Write a town, a postcode (CAP) or a type of shop, e.g. 62020 or panetteria.")
            )
        if asks_what_to_write(inp.text):
            # "Scusi non ho capito", "sì", "dove li posso spendere?": no search for these
            # words (that would be "no shop found for 'sì'"), but what to write, by example.
            raise Reject(
                t(
                    "To see the shops, write the name of your town, e.g. {town}, or a type "
                    "of shop, e.g. alimentari.",
                    town=turn.town.name,
                ),
                request="location" if turn.channel == Channel.TELEGRAM else None,
            )
        await search(turn, inp.text)

    # One question: a shared position, or a town, postcode or kind of shop.
    entry = ("query",)
    steps = table({"query": Step(ask_query, on_query, takes=Takes.LOCATION)})


async def _in_own_town(turn: Turn) -> bool:
    """Whether the shops of the municipality's own town answer NEGOZI with nothing after
    it: written by a citizen of the town, outside Telegram (where sharing the position
    finds the nearest), and some shop is in the town itself (a town whose shops are all
    in its hamlets is asked which one, as before)."""
    if turn.channel == Channel.TELEGRAM or await turn.citizen() is None:
        return False
    shops = await shop_service.find(turn.uow, turn.town.id)
    return any(town_matches(turn.town.name, shop.town) for shop in shops)


async def near(turn: Turn, location: SharedLocation) -> None:
    turn.finish()
    if not valid_position(location.latitude, location.longitude):
        turn.say(t("This position is not valid."))
        return
    found = await shop_service.find_near(
        turn.uow,
        turn.town.id,
        location.latitude,
        location.longitude,
        radius_km=RADIUS_KM,
        limit=SHOWN,
    )
    if not found:
        turn.say(
            t(
                "No shop within {distance} of you. Write NEGOZI and your town to see them all.",
                distance=Distance(int(RADIUS_KM * 1000)),
            )
        )
        return
    lines = [
        t(
            "{shop}, {address} ({distance})",
            shop=item.shop.name,
            address=item.shop.address,
            distance=Distance(item.distance_m),
        )
        for item in found
    ]
    turn.say_fitting(t("Shops near you:"), lines=lines)
    nearest = found[0].shop
    if (
        turn.channel == Channel.TELEGRAM
        and nearest.latitude is not None
        and nearest.longitude is not None
    ):
        turn.say(
            t("The nearest: {shop}.", shop=nearest.name),
            pin=MapPin(
                nearest.latitude,
                nearest.longitude,
                nearest.name,
                f"{nearest.address}, {nearest.town}",
            ),
        )


def parse_query(text: str) -> tuple[str | None, str | None, ShopCategory | None]:
    """(town, postcode, category) from what someone wrote, e.g. "62020 panetteria"."""
    town_words, postcode, category = [], None, None
    # "l'alimentari", "un'edicola": the article apart from its word.
    for word in clean(text).replace(",", " ").replace("'", "' ").split():
        if word.isdigit() and len(word) == 5:
            postcode = word
        elif category is None and searched_category(fold(word)) is not None:
            category = searched_category(fold(word))
        elif fold(word).rstrip("'") not in QUERY_FILLER | _ELIDED | _WHERE_I_AM:
            town_words.append(word)
    town = " ".join(town_words) or None
    return town, postcode, category


# Words around a town or a kind of shop that are not part of it: "negozi a Belforte",
# "shops in Belforte", "il forno", "la farmacia", "un alimentari" (a town's own article,
# "La Spezia", is not needed to find it: its other words are).
QUERY_FILLER = frozenset(
    {"a", "ad", "di", "in", "nel", "per", "at", "the", "near", "vicino", "il", "lo", "la",
     "i", "gli", "le", "un", "uno", "una", "del", "della", "dei", "delle", "an", "some",
     # The question's own words: "dove trovo un alimentari?", "dove posso trovare il pane",
     # "where can I find a bakery?", "vorrei vedere i negozi".
     "dove", "trovo", "trovare", "cerco", "cercare", "posso", "c", "ce", "e", "vorrei",
     "vedere", "where", "can", "find", "is", "there",
     # Every shop: "tutti", "tutti i negozi", "all shops" (no town, postcode nor kind of
     # shop left: the whole list, as NEGOZI gives it).
     "tutti", "tutte", "negozi", "negozio", "all", "shops", "shop"}
)  # fmt: skip
# "Negozi vicino a me", "qui vicino", "near me": shops near the person, whose position a
# search by words cannot know (how to give it is said instead).
_NEAR = frozenset({"vicino", "vicini", "vicina", "vicine", "vicinanze", "near", "nearby", "close"})
# Where the person is, never a place to search: "vicino a me", "casa mia", "qui", "near my
# house" ("me" read as a town was 'no shop found for "me"'). Said with a near word, or
# alone after the shop's words ("negozi qui", "farmacia qui"), they ask for shops near her.
_WHERE_I_AM = frozenset(
    {"me", "mia", "mio", "casa", "qui", "qua", "here", "home", "my", "house", "zona",
     "around"}
)  # fmt: skip
# What joins them: "vicino a casa", "close to my home" (no place either).
_NEAR_FILLER = frozenset({"a", "di", "da", "nelle", "in", "to", "by", "the", "al", "alla"})


# At the question of what to search, words that search nothing: a yes or a no, being lost
# ("scusi non ho capito", "cosa devo scrivere?"), or the question itself ("dove li posso
# spendere?"). Apologies first are left out ("scusi, non capisco"); a town, a postcode or a
# kind of shop in the message makes it a search ("dove trovo un alimentari?").
_SORRY = frozenset({"scusi", "scusa", "scusate", "mi", "sorry", "excuse", "me"})
_LOST = frozenset(
    {"non ho capito", "non capisco", "non so", "non lo so", "boh", "cosa devo scrivere",
     "che cosa devo scrivere", "cosa scrivo", "che cosa scrivo", "cosa devo fare",
     "che devo scrivere", "i dont understand", "i do not understand", "i dont know",
     "what do i write", "what should i write", "what do i do"}
)  # fmt: skip
_WHERE = frozenset({"dove", "where"})


def asks_what_to_write(query: str) -> bool:
    """Whether words written at the question of what to search are no search (_LOST)."""
    words = plain_words(query)
    while words and words[0] in _SORRY:
        words = words[1:]
    said = " ".join(words)
    if not words or yes_or_no(said) is not None or said in _LOST:
        return True
    _town, postcode, category = parse_query(query)
    return bool(set(words) & _WHERE) and postcode is None and category is None


# Articles cut before a vowel: "l'alimentari", "un'erboristeria".
_ELIDED = frozenset({"l", "un", "dell", "all", "nell"})


def asks_near(query: str) -> bool:
    """Whether a search says only "near me" ("vicino a me", "qui vicino", "nearby"), or
    that with a kind of shop ("farmacia vicino a me", "supermarket near me", "negozi
    qui"): no town, no postcode, no other word left to search."""
    if not set(plain_words(query)) & (_NEAR | _WHERE_I_AM):
        return False
    town, postcode, _category = parse_query(query)
    left = set(plain_words(town or "")) - _NEAR - _NEAR_FILLER
    return postcode is None and not left


async def say_near_me(turn: Turn, query: str = "") -> None:
    """Near me: on Telegram the position is shared with the button (near() answers it);
    elsewhere a citizen of the town gets its shops, as NEGOZI gives them to her, of the kind
    `query` names if any ("farmacia vicino a me": the town's pharmacies, or that none takes
    the vouchers with the shops there), and how to narrow them to her street or CAP. Anyone
    else who names a kind ("un supermercato vicino") gets the list's shops of that kind, as
    NEGOZI SUPERMERCATO gives them, and how to narrow them; else how to write the CAP or the
    town."""
    if turn.channel == Channel.TELEGRAM:
        turn.say(
            t("To see the shops near you, share your position with the button below."),
            request="location",
        )
        return
    kind = _kind_words(query)
    own_town = await _in_own_town(turn)
    if own_town or kind:
        here = f"{kind} {turn.town.name}".strip() if own_town else kind
        found = await _found(turn, here)
        turn.memory.more = None
        turn.memory.listed = here[:100]
        if not found and own_town and await _other_kinds(turn, here):
            return
        if found:
            head = tn("{count} shop found:", "{count} shops found:", len(found))
            narrow = t(
                "Those near you: NEGOZI and your street or CAP, e.g. NEGOZI {street}.",
                street=street_of(found[0].address),
            )
            _say_list(turn, head, found, here, tail=narrow)
            return
    turn.say(t("To see the shops near you, write NEGOZI and your CAP or town, e.g. NEGOZI 62020."))


def street_of(address: str) -> str:
    """ "Via Roma 12" is on "Via Roma", "Via Roma, 12" too: the address without its house
    number (nor what follows a comma)."""
    words = address.split(",")[0].split()
    while len(words) > 1 and any(ch.isdigit() for ch in words[-1]):
        words.pop()
    return " ".join(words)


def town_matches(query: str, town: str) -> bool:
    """ "belforte", "Belforte d", "belforte chienti" find "Belforte del Chienti": each word
    typed starts a word of the town, in order, accents and case aside."""
    typed = fold(query).replace("'", " ").split()
    words = fold(town).replace("'", " ").split()
    if typed and "".join(words).startswith("".join(typed)):
        return True  # "santangelo" for "Sant'Angelo"
    at = 0
    for part in typed:
        while at < len(words) and not words[at].startswith(part):
            at += 1
        if at == len(words):
            return False
        at += 1
    return bool(typed)


# A town's name misspelt on a keypad ("BELFORTTE", "belforte del chenti"): each word typed
# this many slips from a word of the town (as commands.typos allows for keywords), when it
# is long enough that a slip cannot make it another word.
_TOWN_TYPO_MIN = 5


def _town_slips(word: str) -> int:
    return 1 if len(word) <= 6 else 2


def town_near(query: str, town: str) -> bool:
    """ "BELFORTTE", "belforte del chenti", "belfrote" name "Belforte del Chienti": each
    word typed starts a word of the town or is a slip or two from one, in order, accents
    and case aside; at least one word as long as _TOWN_TYPO_MIN (a short word is read only
    exactly, by town_matches)."""
    typed = fold(query).replace("'", " ").split()
    words = fold(town).replace("'", " ").split()
    if not any(len(part) >= _TOWN_TYPO_MIN for part in typed):
        return False
    at = 0
    for part in typed:
        while at < len(words) and not (
            words[at].startswith(part)
            or (
                len(part) >= _TOWN_TYPO_MIN
                and typo_distance(part, words[at]) <= _town_slips(words[at])
            )
        ):
            at += 1
        if at == len(words):
            return False
        at += 1
    return True


async def _found(turn: Turn, query: str) -> list[m.Shop]:
    """The town's shops a search names (a town, a postcode, a type): the list NEGOZI shows
    and ALTRI pages through. Words that name no shop's town may name its street ("via
    roma"): the shops there; else a town misspelt ("BELFORTTE"): the shops there."""
    town, postcode, category = parse_query(query)
    shops = await shop_service.find(turn.uow, turn.town.id, postcode=postcode, category=category)
    if town is None:
        return list(shops)
    in_town = [shop for shop in shops if town_matches(town, shop.town)]
    on_street = in_town or [shop for shop in shops if town_matches(town, shop.address)]
    return on_street or [shop for shop in shops if town_near(town, shop.town)]


# Towns named when a place has no shop of the list: as many as fit one SMS beside the words.
_TOWNS_SHOWN = 4


async def _say_the_towns(turn: Turn, query: str) -> bool:
    """A place written that no shop of the list is in ("NEGOZI MACERATA", a town misspelt
    past reading): the towns the list's shops are in, and how to ask for one. False when
    the list has no shop at all."""
    shops = await shop_service.find(turn.uow, turn.town.id)
    towns: dict[str, str] = {}
    for shop in shops:
        towns.setdefault(fold(shop.town), shop.town)
    if not towns:
        return False
    head = t('No shop found for "{query}". The shops of the list are in:', query=query[:40])
    lines = [t("{town}", town=name) for name in sorted(towns.values(), key=fold)]
    tail = t("Write NEGOZI and a town, or a type: alimentari, panetteria, farmacia.")
    shown = min(len(lines), _TOWNS_SHOWN)
    while shown and not turn.fits_sms([head, *lines[:shown], tail]):
        shown -= 1
    if not shown:
        return False  # no town fits beside the words: the general hint instead
    turn.say(head, *lines[:shown], tail)
    return True


async def search(turn: Turn, query: str) -> None:
    turn.finish()
    if asks_near(query):
        await say_near_me(turn, query)
        return
    found = await _found(turn, query)
    turn.memory.more = None
    turn.memory.listed = query[:100]
    if not found and await _other_kinds(turn, query):
        return
    if not found and parse_query(query)[0] is not None and await _say_the_towns(turn, query):
        return
    if not found:
        turn.say(
            t(
                'No shop found for "{query}". Try a town, a postcode (CAP) or a type: '
                "alimentari, panetteria, macelleria, frutta, farmacia.",
                query=query[:40],
            )
        )
        return
    head = tn("{count} shop found:", "{count} shops found:", len(found))
    _say_list(turn, head, found, query)


def _say_list(
    turn: Turn, head: Text, found: list[m.Shop], query: str, *, tail: Text | None = None
) -> None:
    """The shops under `head`: all of them (Telegram, the terminal: a long list is split by
    the adapter), or by SMS one page, ALTRI paging through `query`'s shops; `tail` after
    them, by SMS when it fits the page."""
    lines = [shop_line(shop, turn.town.name) for shop in found]
    if not turn.is_sms:
        turn.say(head, *lines, *((tail,) if tail is not None else ()))
        return
    _say_page(turn, head, lines, query, 0, tail)


def _kind_words(query: str) -> str:
    """The words of a search that name a kind of shop ("FARMACIA" of "negozi farmacia")."""
    words = clean(query).replace(",", " ").replace("'", " ").split()
    return " ".join(word for word in words if searched_category(fold(word)) is not None)


async def _other_kinds(turn: Turn, query: str) -> bool:
    """A kind of shop none of the list is ("NEGOZI FARMACIA TESTVILLE", no pharmacy takes
    the vouchers there): that none of that kind is there, and the list's shops there (in
    the town, at the postcode, or all of them when no place was written). False when the
    search named no kind, or the place has no shop of the list either."""
    town, postcode, category = parse_query(query)
    if category is None:
        return False
    place = " ".join(word for word in (town, postcode) if word)
    # NEGOZI alone is the whole list (a filler word): ALTRI pages through it.
    found = await _found(turn, place or "NEGOZI")
    if not found:
        return False
    head = (
        tn(
            'No shop of that type in "{place}". {count} other shop there:',
            'No shop of that type in "{place}". {count} other shops there:',
            len(found),
            place=place[:40],
        )
        if place
        else tn(
            "No shop of that type takes the vouchers. {count} shop of the list:",
            "No shop of that type takes the vouchers. {count} shops of the list:",
            len(found),
        )
    )
    _say_list(turn, head, found, place or "NEGOZI")
    return True


# Right after a shop list, what may name a place: a few words, no figure, no question.
_PLACE_WORDS = 4


# A place is never said with a "non" ("non funziona niente", "nn capisco niente" right after
# the list: her trouble, not a town to search).
_NO_PLACE = frozenset({"non", "niente", "nothing", "not", "dont"})


async def after_list(turn: Turn, listed: str) -> bool:
    """Words written right after a shop list (NEGOZI, ALTRI, a search: `listed`) that name
    a town or a street ("BELFORTE", "via roma", with a kind of shop or a question mark
    too): the list's shops there, of the kind `listed` asked for when these words name
    none ("NEGOZI FARMACIA", then "TESTVILLE": the pharmacies there); the town's own name,
    when no shop is in the town itself (all in its hamlets), the whole list. A place no
    shop of the list is in is said so, with the way back to the list. False for words that
    name no place (a figure, a question, a yes, being lost): read as before."""
    text = clean(turn.inbound.text)
    words = plain_words(text)
    if (
        not words
        or len(words) > _PLACE_WORDS
        or any(ch.isdigit() for ch in text)
        or asks_what_to_write(text)
        or _NO_PLACE & set(words)
    ):
        return False
    town, _postcode, category = parse_query(text)
    if town is None:
        return False  # a kind of shop alone is a search already (questions.question_of)
    # The kind of shop written now ("alimentari testville"), else the one the list asked.
    kind = _kind_words(text if category is not None else listed)
    found = await _found(turn, town)  # the list's shops there, of any kind
    if "?" in text and not found:
        return False  # a question naming no place of the list ("quando aprono?")
    if found:
        # (None of that kind there is said by the search, with the shops there.)
        await search(turn, f"{kind} {town}".strip())
    elif town_matches(town, turn.town.name) or town_near(town, turn.town.name):
        await search(turn, kind)
    else:
        turn.memory.listed = text[:100]  # another place may follow
        turn.say(
            t(
                'No shop for "{query}": the vouchers are spent only in the shops of the '
                "list. To see it again, write NEGOZI.",
                query=text[:40],
            )
        )
    return True


# Words that name shops in general, before a place: "negozio via roma", "negozi belforte".
_SHOP_WORDS = frozenset({"negozio", "negozi", "shop", "shops"})


async def shops_named(turn: Turn) -> bool:
    """With nothing asked, words that name shops without NEGOZI: a kind of shop with a
    place ("FARMACIA BELFORTE", "alimentari belforte") or "negozio" with a place
    ("negozio via roma"), as the first message of a number too (which got the welcome):
    the search NEGOZI makes of them, then how to apply for a number that holds no
    vouchers (say_how_to_apply). False for other words, and for a question naming no
    shop of the list ("la farmacia prende i buoni?"), read as before."""
    text = clean(turn.inbound.text)
    words = plain_words(text)
    if not words or len(words) > _PLACE_WORDS + 1 or asks_what_to_write(text):
        return False
    town, postcode, category = parse_query(text)
    if category is None and not (words[0] in _SHOP_WORDS and (town or postcode)):
        return False
    if "?" in text and not await _found(turn, text):
        return False
    await search(turn, text)
    await say_how_to_apply(turn)
    return True


async def say_how_to_apply(turn: Turn) -> None:
    """After the shops asked for as a number's first message, one short line: how to get
    the vouchers, for a number that holds none (no citizen's, no delegate's, no shop's)
    while applications are open; nothing otherwise."""
    if not turn.new_chat or await turn.memberships() or await turn.citizen() is not None:
        return
    phone = turn.phone()
    if phone is not None and await delegates.represented_by(turn.uow, turn.town.id, phone):
        return
    round_ = await current_round(turn.uow, turn.town.id)
    if round_ is None or not is_open(round_, turn.now):
        return
    turn.say(t("No vouchers yet? To apply, write DOMANDA."))


def _say_page(
    turn: Turn, head: Text, lines: list[Text], query: str, offset: int, tail: Text | None = None
) -> None:
    """One SMS of the list from `offset`: as many shops as fit, then MORE for the next page;
    `tail` last, left out when even one shop and MORE leave no room for it."""
    rest = lines[offset:]
    end = [tail] if tail is not None else []
    if turn.fits_sms([head, *rest, *end]):
        turn.say(head, *rest, *end)
        return
    if len(rest) == 1 and turn.fits_sms([head, *rest]):
        turn.say(head, *rest)  # one long shop: no page to make room for `tail`
        return
    shown = len(rest) - 1
    while shown > 1 and not turn.fits_sms([head, *rest[:shown], MORE_HINT, *end]):
        shown -= 1
    turn.memory.more = MorePage(query[:100], offset + shown)
    page = [*rest[:shown], MORE_HINT]
    # One long shop (name, address and another town) fills the SMS: no heading then.
    for texts in ([head, *page, *end], [*page, *end], [head, *page]):
        if turn.fits_sms(texts):
            turn.say(*texts)
            return
    turn.say(*page)


MORE_HINT = t("ALTRI for more.")


async def more(turn: Turn) -> None:
    """ALTRI / MORE: the next page of the last shop list."""
    pending, turn.memory.more = turn.memory.more, None
    turn.memory.listed = ""  # after "nothing more", a place is a search too
    if pending is None or not pending.query:
        turn.say(t("There is nothing more to show. Write NEGOZI to find shops."))
        return
    query, offset = pending.query, pending.offset
    found = await _found(turn, query)
    if offset >= len(found):
        turn.say(t("There is nothing more to show. Write NEGOZI to find shops."))
        return
    turn.memory.listed = query
    lines = [shop_line(shop, turn.town.name) for shop in found]
    head = t("Shops from no. {first} of {count}:", first=offset + 1, count=len(found))
    _say_page(turn, head, lines, query, offset)


def shop_line(shop: m.Shop, here: str | None = None) -> Text:
    """Name and address; the town too when it is not the municipality's own (`here`)."""
    if here is not None and fold(shop.town) == fold(here):
        return t("{shop}, {address}", shop=shop.name, address=shop.address)
    return t("{shop}, {address}, {town}", shop=shop.name, address=shop.address, town=shop.town)
