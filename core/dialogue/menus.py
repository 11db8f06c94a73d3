"""The menus and the help: what a person can do from here, by role (citizen or shop)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.dialogue.context import Turn, split_replies
from core.dialogue.languages import written_in
from core.dialogue.questions import LAST_PAYMENT
from core.dialogue.state import Offered
from core.dialogue.words import fold, typo_distance
from core.domain.channels import Channel
from core.domain.messages import Option, Reply, Text, t
from core.domain.shops import MemberRole, ShopCategory, ShopStatus
from core.i18n import supported
from core.services import delegates, identity

CATEGORY_LABELS: dict[ShopCategory, Text] = {
    ShopCategory.GROCERY: t("Grocery"),
    ShopCategory.BAKERY: t("Bakery"),
    ShopCategory.BUTCHER: t("Butcher"),
    ShopCategory.GREENGROCER: t("Greengrocer"),
    ShopCategory.PHARMACY: t("Pharmacy"),
    ShopCategory.OTHER: t("Other shop"),
}

LANGUAGE_OPTIONS = (Option("lang:it", t("Italiano")), Option("lang:en", t("English")))

# STOP stops notices, not what a person's own payments send them (codes, receipts): the
# help says so, as the STOP reply does.
CITIZEN_HELP = t(
    "Write: SALDO, NEGOZI (+town, CAP or type), DOMANDA, STATO, RICORSO, CARTA, LINGUA, MENU. "
    "ANNULLA stops a request. After STOP only codes and receipts arrive."
)
# After the citizen's help in a Telegram chat of a municipality with community vouchers on
# (they are paid there only: an SMS help never names them, and stays one segment).
COMMUNITY_HELP = t("Shop vouchers: COMPRA, REGALA, BUONI. DONA gives to the town's fund.")
# The first help a citizen gets by SMS, asked for or after a message we did not understand:
# the two things most people want, a person to turn to (the municipality's records hold no
# contact of the office, so none is invented), and the way to every word one step away.
FIRST_HELP = t(
    "SALDO: what you have left. NEGOZI: where to spend. DOMANDA: to get vouchers. To talk to "
    "someone: UFFICIO. More words: AIUTO."
)
NOT_UNDERSTOOD = t("I did not understand.")
# Said in English in either language, to someone who wrote to an Italian chat in English.
IN_ENGLISH = t("English: write LANGUAGE EN")
# Said in Italian in either language, to someone who wrote Italian to a chat in English (a
# LINGUA EN typed by mistake, or sent by someone forging their number): otherwise every
# reply, the help included, is English they may not read, and nothing says the way back.
IN_ITALIAN = t("In Italian: write LINGUA IT")
# Said after a question's hint to words in a language we do not speak written at that
# question ("je ne sais pas", "sí, somos cuatro"): the two ways in words, in both
# languages, since the question's own buttons stay hers.
IN_OUR_LANGUAGES = t("English: write LANGUAGE EN. Italiano: scrivi LINGUA IT.")
# The way back is said in the language left behind: a number's language can be changed by
# someone forging its SMS sender, and the person must read how to undo it.
LANGUAGE_DONE = t("Done: I will write to you in English. Per tornare all'italiano scrivi LINGUA.")
# The language asked for is the chat's already: nothing was left behind.
LANGUAGE_KEPT = t("Done: I will write to you in English.")
# Help asked in words ("non capisco", "?") while a question waits: about that question,
# which follows, not the list of every word.
ABOUT_THE_QUESTION = t(
    "Answer the question below. To stop, write ANNULLA. To talk to someone: your "
    "municipality's social services."
)
SHOP_HELP = t(
    "Shops: PAGA code amount (e.g. PAGA RSSMRA85T10A562S 12,50), STORNO, RESOCONTO, RIMBORSO, "
    "CASSIERE, MENU. ANNULLA stops a request."
)


async def is_shop_member(turn: Turn) -> bool:
    return bool(await turn.memberships())


# What each help names, in its order: after the help, "1" means its first word.
CITIZEN_HELP_KEYS = (
    "balance", "shops", "apply", "status", "appeal", "card", "language", "menu"
)  # fmt: skip
CITIZEN_HELP_COMMUNITY_KEYS = (*CITIZEN_HELP_KEYS, "buy", "give", "vouchers", "donate")
SHOP_HELP_KEYS = ("charge", "refund", "statement", "reimbursement", "cashier", "menu")
# After the first help a number picks its words too, and "help" marks it as said: AIUTO
# written next gives every word (CITIZEN_HELP).
FIRST_HELP_KEYS = ("balance", "shops", "apply", "office", "help")


# Pure pieces of the menus and the help, over state already loaded: the general path
# (show_menu, say_help) and the one-trip plain turn (core/dialogue/plain_turn.py) both
# answer with them.


@dataclass(frozen=True, slots=True)
class MenuShop:
    """A shop the chat's address works for, as its menu needs it."""

    id: int
    name: str
    approved: bool
    owner: bool  # the member is its owner (not a cashier)
    refused: bool = False  # the office refused its registration


def community_available(channel: str, payments: bool, community_enabled: bool) -> bool:
    """Whether a chat can buy, give and donate: Telegram with payments configured, in a
    municipality that turned community vouchers on."""
    return channel == Channel.TELEGRAM.value and payments and community_enabled


def community_on(turn: Turn) -> bool:
    """community_available for this turn (read from the town already loaded)."""
    town = turn.municipality
    return community_available(
        turn.channel, turn.payments, town is not None and town.community_enabled
    )


def help_of(*, shop: bool, community: bool) -> tuple[list[Text], tuple[str, ...]]:
    """The help (a shop's, else a citizen's) and the keys of the words it names, in order."""
    if shop:
        return [SHOP_HELP], SHOP_HELP_KEYS
    if community:
        return [CITIZEN_HELP, COMMUNITY_HELP], CITIZEN_HELP_COMMUNITY_KEYS
    return [CITIZEN_HELP], CITIZEN_HELP_KEYS


def help_offered(keys: Sequence[str]) -> list[Offered]:
    """What the help leaves for the next message outside a request: a number picks the
    help's word in that place."""
    return [Offered(key) for key in keys]


def current_shop(shops: Sequence[MenuShop], chosen: int | None) -> MenuShop | None:
    """The shop the address acts for now: the one chosen, else the only one."""
    for shop in shops:
        if shop.id == chosen:
            return shop
    return shops[0] if len(shops) == 1 else None


def citizen_menu_options(*, community: bool) -> list[Option]:
    return list(_CITIZEN_MENU[community])


def _citizen_menu(*, community: bool) -> tuple[Option, ...]:
    options = [
        Option("balance", t("Balance")),
        Option("shops", t("Shops")),
        Option("apply", t("Apply")),
        Option("status", t("Status")),
    ]
    if community:
        options += [
            Option("buy", t("Buy a shop voucher")),
            Option("give", t("Give a voucher")),
            Option("vouchers", t("My vouchers")),
            Option("donate", t("Donate")),
        ]
    return (
        *options,
        Option("language", t("Language")),
        Option("shopkeeper", t("For shops")),
    )


# The citizen's menu, built once a process: every /start, /menu and MENU shows it, and
# building its dozen immutable records cost about 76,000 instructions a turn.
_CITIZEN_MENU = {community: _citizen_menu(community=community) for community in (False, True)}


# Buttons that do what the same word typed does wherever the chat stands (SALDO, NEGOZI,
# MENU, LINGUA, a language): the citizen's menu, its Menu and My card, the languages. A tap
# on one of them runs even from an older message. Every other button answers a question
# (a yes, a choice in a request, a shop's menu, which names the shop it acts for) and acts
# only from the latest message: from an older one it would answer the question asked now.
STATELESS_BUTTONS = frozenset(
    {
        *(option.key for option in citizen_menu_options(community=True)),
        *(option.key for option in LANGUAGE_OPTIONS),
        "menu",
        "card",
    }
)


def button_acts(key: str, *, latest: bool, tapped_just_before: bool) -> bool:
    """Whether a tapped button acts: any button of the latest question (`latest`); a
    stateless one (STATELESS_BUTTONS) of an older message too, unless the last thing the
    chat did was tapping a button of that same message (`tapped_just_before`): a double tap,
    whose first tap acted, and whose second would say it all again."""
    return latest or (key in STATELESS_BUTTONS and not tapped_just_before)


def menu_replies(
    headings: Sequence[Text],
    shops: Sequence[MenuShop],
    chosen: int | None,
    *,
    community: bool,
    language: str,
    sms: bool,
) -> list[Reply]:
    """The main menu for an address: a shop's (`shops` it works for in this town, `chosen`
    the one it said it acts for), else a citizen's; after the `headings` when there are any."""
    texts = list(headings)
    current = current_shop(shops, chosen)
    if shops and current is None:
        # Works for several shops and has not said for which one yet.
        return split_replies(
            [*texts, t("For which shop?")],
            [Option(f"shop:{shop.id}", t("{shop}", shop=shop.name)) for shop in shops],
            language=language,
            sms=sms,
        )
    if current is not None:
        if not current.approved:
            if current.refused:
                waiting = t(
                    "The municipality did not approve {shop}: it cannot charge vouchers.",
                    shop=current.name,
                )
            else:
                waiting = t(
                    "{shop} is waiting for the municipality's approval. We will write to you.",
                    shop=current.name,
                )
            others = citizen_menu_options(community=community)
            if len(shops) > 1:
                # Back to a shop that charges (an owner who registered a second outlet).
                others.append(Option("switch", t("Change shop")))
            return split_replies([*texts, waiting], others, language=language, sms=sms)
        options = [
            Option("charge", t("Charge")),
            Option("refund", t("Refund")),
            Option("statement", t("Statement")),
            # The reimbursements are the owner's only (shop_money.reimbursements_for): in
            # their place a cashier checks their till's last payment, so every other item
            # keeps the number the cashier's fingers know.
            Option("reimbursement", t("Reimbursements"))
            if current.owner
            else Option(LAST_PAYMENT, t("Last payment")),
        ]
        if current.owner:
            options.append(Option("cashier", t("Add cashier")))
            options.append(Option("cashiers", t("Cashiers")))
        else:
            options.append(Option("leave", t("Leave the shop")))
        if len(shops) > 1:
            options.append(Option("switch", t("Change shop")))
        options.append(Option("language", t("Language")))
        return split_replies(
            [*texts, t("{shop}: what do you want to do?", shop=current.name)],
            options,
            language=language,
            sms=sms,
        )
    options = citizen_menu_options(community=community)
    if texts:
        # After a heading (a welcome, a confirmation) the menu speaks for itself.
        return split_replies(texts, options, language=language, sms=sms)
    return [
        Reply(
            texts=(t("What do you want to do? Reply with the number."),),
            options=tuple(options),
        )
    ]


def welcome_of(town_name: str) -> Text:
    return t("Welcome to the grocery vouchers of {town}.", town=town_name)


# The general path's turns ---------------------------------------------------------------


def first_help_said(options: Sequence[Offered]) -> bool:
    """Whether the last answer was the first help (FIRST_HELP_KEYS): AIUTO then gives
    every word."""
    return [option.k for option in options] == list(FIRST_HELP_KEYS)


def wrote_english(turn: Turn) -> bool:
    """Whether the message is written in English to a chat that speaks another language:
    its writer hears the way to English (IN_ENGLISH)."""
    return turn.language != "en" and written_in(turn.inbound.text) == "en"


def way_to_language(turn: Turn) -> Text | None:
    """The way to the language the message is written in, when the chat speaks another:
    IN_ENGLISH for English to an Italian chat, IN_ITALIAN for Italian to an English one."""
    return language_way(turn.inbound.text, turn.language)


def language_way(text: str | None, language: str) -> Text | None:
    """way_to_language for a message's `text` written to a chat speaking `language`."""
    written = written_in(text)
    if language != "en" and written == "en":
        return IN_ENGLISH
    if language != "it" and written == "it":
        return IN_ITALIAN
    return None


def help_way(text: str | None, language: str) -> Text | None:
    """What ends a Telegram help asked in the other language ("aiuto", "non capisco" to a
    chat in English, a language tapped by mistake; "I don't understand" to one in
    Italian): the way to that language, said in it (language_way). HELP alone (/help) is
    a keyword of both languages, which Italians write too: it says nothing."""
    if fold(text).strip("/!?. ") == "help":
        return None
    return language_way(text, language)


def asks_what_this_is(text: str | None) -> bool:
    """INFO alone ("info", "Info?", "/info"): asking what the service is, not only for
    its words."""
    return fold(text).strip("/!?. ") == "info"


async def is_unknown_number(turn: Turn) -> bool:
    """Whether this chat is nobody the town knows: no citizen's, no shop's (nor a shop
    staff's phone), no delegate's."""
    if await is_shop_member(turn) or await turn.citizen() is not None:
        return False
    phone = turn.phone()
    if phone is None:
        return True
    town = turn.town.id
    if await identity.is_shop_phone(turn.uow, town, phone=phone):
        return False
    return await delegates.represented_by(turn.uow, town, phone) is None


async def say_help(turn: Turn, *, understood: bool = True, in_words: bool = False) -> None:
    """The help; outside a request, a number typed next picks the help's word in that place
    (inside one, the question asked again keeps its own numbers). By SMS a citizen outside
    a request gets the first help (FIRST_HELP), every word once they ask again; after a
    message we did not understand (`understood` False) it says so first. Help asked in
    words ("non capisco", "?": `in_words`) gets the first help again, or inside a request
    what to do with its question (asked again next). A message written
    in English to an Italian chat hears how to switch, when it fits the one SMS."""
    shop = await is_shop_member(turn)
    asked = turn.flow is not None and turn.step is not None
    first = (
        turn.is_sms
        and not shop
        and not asked
        and not (understood and not in_words and first_help_said(turn.memory.options))
    )
    keys: tuple[str, ...]
    if asked and in_words and not shop:
        texts, keys = [ABOUT_THE_QUESTION], ()
    elif first:
        texts, keys = [FIRST_HELP], FIRST_HELP_KEYS
    else:
        texts, keys = help_of(shop=shop, community=community_on(turn))
    # INFO as a chat's first message asks what this number is, which the help alone never
    # said: the welcome (whose town and vouchers it is) comes first. So for any help asked
    # (AIUTO, HELP, "?", "grazie") as the first message of a number the town does not
    # know, who had the words without a line on whose number this is.
    info = (
        turn.new_chat
        and not asked
        and not shop
        and (asks_what_this_is(turn.inbound.text) or (understood and await is_unknown_number(turn)))
    )
    if (
        turn.new_chat
        and not asked
        and turn.channel == Channel.TELEGRAM
        and (len(fold(turn.inbound.text).split()) > 1 or info)
    ):
        # Help asked in a sentence by a chat's first message ("hi, I need help with food"):
        # the words alone named no town and left nothing to tap. The welcome, the words,
        # the menu. AIUTO alone stays the words, whose number picks one (help_offered).
        await show_menu(turn, welcome(turn), *texts)
        return
    if not understood and not asked and turn.channel == Channel.TELEGRAM:
        # On Telegram words we did not understand were answered with the list of every
        # word alone: nothing said they were not understood, and someone who taps rather
        # than types (an elderly user's "quanto posso spendere ancora?") had no button
        # left. Said so, the words, and the menu's buttons under them; Italian written to
        # a chat in English (a language tapped by mistake) hears the way back too.
        await show_menu(turn, NOT_UNDERSTOOD, *texts, way_to_language(turn))
        return
    if not turn.is_sms and (way := help_way(turn.inbound.text, turn.language)) is not None:
        # Help asked in Italian by a chat in English is answered in English: the way back,
        # in Italian, ends it (help_way; the one-trip plain turn says it too).
        texts = [*texts, way]
    if turn.is_sms:
        way = way_to_language(turn)
        # "Non ho capito." is Italian to someone who wrote English (and "I did not
        # understand." English to someone who wrote Italian): the way to their language
        # says more to them, in its place.
        extra = way if way is not None else None if understood else NOT_UNDERSTOOD
        if extra is not None:
            added = [*texts, extra] if way is not None else [extra, *texts]
            if len(texts) == 1 and turn.fits_sms(added):
                texts = added
            elif way is not None and not shop and fold(turn.inbound.text).strip("/!?. ") != "help":
                # Words they may not read: the way to their language is what helps them.
                # (HELP alone is a keyword of both languages, which Italians write too.)
                texts = [way]
    if info and turn.is_sms:
        # By SMS in two messages when they do not fit one: who writes, then the words.
        if turn.fits_sms([welcome(turn), *texts]):
            texts = [welcome(turn), *texts]
        else:
            turn.say(welcome(turn))
    turn.say(*texts)
    if asked:
        return
    turn.offered = help_offered(keys)


async def menu_shops(turn: Turn) -> list[MenuShop]:
    """The shops of this address in this town, as the menu needs them."""
    return [
        MenuShop(
            shop.id,
            shop.name,
            approved=shop.status == ShopStatus.APPROVED,
            owner=member.role == MemberRole.OWNER.value,
            refused=shop.status == ShopStatus.REFUSED,
        )
        for member, shop in await turn.memberships()
    ]


async def show_menu(turn: Turn, *headings: Text | None) -> None:
    """The main menu for this address: a shop's, or a citizen's; after the headings given
    (None among them: none there)."""
    for reply in menu_replies(
        [heading for heading in headings if heading is not None],
        await menu_shops(turn),
        turn.memory.shop_id,
        community=community_on(turn),
        language=turn.language,
        sms=turn.is_sms,
    ):
        turn.add(reply)


def welcome(turn: Turn) -> Text:
    return welcome_of(turn.town.name)


async def switch_language(turn: Turn, language: str) -> Text:
    """The chat in `language` from this reply on (LINGUA's choice, or a question about the
    codice fiscale asked in English to an Italian chat), with what says so: LANGUAGE_DONE
    with the way back, or LANGUAGE_KEPT when no language was left behind."""
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
    return done


def offer_languages(turn: Turn) -> None:
    turn.say(t("Choose your language."), options=LANGUAGE_OPTIONS)


# Said to words in a language we do not speak (French, Arabic, Ukrainian): in both of
# ours whichever the chat's, since she may read neither well, with the two languages to
# pick; "Non ho capito" and the Italian help told her nothing.
IN_TWO_LANGUAGES = t(
    "I only write in English or Italian: choose. Scrivo solo in inglese o in italiano: scegli."
)


def offer_our_languages(turn: Turn, heading: Text | None = None) -> None:
    """Which of our two languages, said in both (IN_TWO_LANGUAGES), after `heading` (a new
    chat's welcome) when that still fits one SMS."""
    texts = [IN_TWO_LANGUAGES] if heading is None else [heading, IN_TWO_LANGUAGES]
    if turn.is_sms and not turn.fits_sms(texts, LANGUAGE_OPTIONS):
        texts = [IN_TWO_LANGUAGES]
    turn.say(*texts, options=LANGUAGE_OPTIONS)


def offer_towns(turn: Turn, towns: list[tuple[int, str]]) -> None:
    turn.say(
        t("Which municipality do you live in (or work in)?"),
        options=[Option(f"town:{town_id}", t("{town}", town=name)) for town_id, name in towns],
    )


# A town's name typed with a slip is that town when it is long enough for a slip to leave
# it recognisable ("OTHERVILE"), two slips from eight letters ("Civitanova Marcche").
_TOWN_SLIP_MIN = 5
_TOWN_TWO_SLIPS = 8


def town_typed(towns: Sequence[tuple[int, str]], text: str | None) -> int | None:
    """The town the words name: its name in any case, within a sentence ("abito a
    Otherville", "Comune di Otherville"), or one slip from it ("OTHERVILE"), two for a
    long name; None when no town, or more than one, is that close."""
    words = fold(text)
    named = [(town_id, fold(name)) for town_id, name in towns]
    for found in (
        [town_id for town_id, name in named if name == words],
        [town_id for town_id, name in named if f" {name} " in f" {words} "],
        [
            town_id
            for town_id, name in named
            if len(name) >= _TOWN_SLIP_MIN
            and typo_distance(words, name) <= (1 if len(name) < _TOWN_TWO_SLIPS else 2)
        ],
    ):
        if found:
            return found[0] if len(found) == 1 else None
    return None


def say_office_contact(turn: Turn) -> None:
    """UFFICIO: how to reach the social-services office (office_contact)."""
    turn.say(office_contact(turn))


def office_contact(turn: Turn) -> Text:
    """How to reach the social-services office, as the office wrote it (`admin
    municipality set --office-contact`); without it, the town hall."""
    contact = turn.town.office_contact
    if contact:
        return t("Social services of {town}: {contact}", town=turn.town.name, contact=contact)
    return t(
        "Social services of {town}: ask at the town hall, they will tell you how to reach them.",
        town=turn.town.name,
    )


def privacy_question(turn: Turn, options: list[Option] | tuple[Option, ...]) -> Text:
    """The consent question, linking the municipality's privacy notice when it has one
    (`admin municipality privacy-url`). On SMS a link too long for one segment gives way to
    "ask at the town hall"."""
    url = turn.town.privacy_url
    if url:
        linked = t(
            "Privacy (GDPR): {town} uses your data only for the grocery vouchers. "
            "Notice: {url} Agree?",
            town=turn.town.name,
            url=url,
        )
        if not turn.is_sms or turn.fits_sms([linked], options):
            return linked
    return t(
        "Privacy (GDPR): {town} uses your data only for the grocery vouchers; "
        "notice at the town hall. Agree?",
        town=turn.town.name,
    )
