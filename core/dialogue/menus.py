"""The menus and the help: what a person can do from here, by role (citizen or shop)."""

from __future__ import annotations

from core.dialogue.context import Turn
from core.dialogue.state import Offered
from core.domain.channels import Channel
from core.domain.messages import Option, Text, t
from core.domain.shops import MemberRole, ShopCategory, ShopStatus

CATEGORY_LABELS: dict[ShopCategory, Text] = {
    ShopCategory.GROCERY: t("Grocery"),
    ShopCategory.BAKERY: t("Bakery"),
    ShopCategory.BUTCHER: t("Butcher"),
    ShopCategory.GREENGROCER: t("Greengrocer"),
    ShopCategory.PHARMACY: t("Pharmacy"),
    ShopCategory.OTHER: t("Other shop"),
}

LANGUAGE_OPTIONS = (Option("lang:it", t("Italiano")), Option("lang:en", t("English")))

CITIZEN_HELP = t(
    "Write one word: SALDO, NEGOZI (with a town, CAP or type), DOMANDA, STATO, RICORSO, CARTA, "
    "LINGUA, MENU. ANNULLA stops a request, STOP stops all messages."
)
# After the citizen's help in a Telegram chat of a municipality with community vouchers on
# (they are paid there only: an SMS help never names them, and stays one segment).
COMMUNITY_HELP = t("Shop vouchers: COMPRA, REGALA, BUONI. DONA gives to the town's fund.")
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


def community_on(turn: Turn) -> bool:
    """Whether this chat can buy, give and donate: Telegram with payments configured, in a
    municipality that turned community vouchers on (read from the town already loaded)."""
    town = turn.municipality
    return (
        turn.channel == Channel.TELEGRAM.value
        and turn.payments
        and town is not None
        and town.community_enabled
    )


def citizen_help(turn: Turn) -> tuple[list[Text], tuple[str, ...]]:
    """The citizen's help and the keys of the words it names, in their order."""
    if community_on(turn):
        return [CITIZEN_HELP, COMMUNITY_HELP], CITIZEN_HELP_COMMUNITY_KEYS
    return [CITIZEN_HELP], CITIZEN_HELP_KEYS


async def help_texts(turn: Turn) -> list[Text]:
    return [SHOP_HELP] if await is_shop_member(turn) else citizen_help(turn)[0]


async def say_help(turn: Turn) -> None:
    """The help; outside a request, a number typed next picks the help's word in that place
    (inside one, the question asked again keeps its own numbers)."""
    shop = await is_shop_member(turn)
    texts, keys = ([SHOP_HELP], SHOP_HELP_KEYS) if shop else citizen_help(turn)
    turn.say(*texts)
    if turn.flow is not None and turn.step is not None:
        return
    turn.offered = [Offered(key) for key in keys]


async def show_menu(turn: Turn, heading: Text | None = None) -> None:
    """The main menu for this address: a shop's, or a citizen's."""
    texts = [heading] if heading is not None else []
    memberships = await turn.memberships()
    current = await turn.shop()
    if memberships and current is None:
        # Works for several shops and has not said for which one yet.
        turn.say_split(
            *texts,
            t("For which shop?"),
            options=[
                Option(f"shop:{shop.id}", t("{shop}", shop=shop.name)) for _, shop in memberships
            ],
        )
        return
    if current is not None:
        member, shop = current
        if shop.status != ShopStatus.APPROVED:
            turn.say(
                *texts,
                t(
                    "{shop} is waiting for the municipality's approval. We will write to you.",
                    shop=shop.name,
                ),
                options=citizen_options(turn),
            )
            return
        options = [
            Option("charge", t("Charge")),
            Option("refund", t("Refund")),
            Option("statement", t("Statement")),
            Option("reimbursement", t("Reimbursements")),
        ]
        if member.role == MemberRole.OWNER.value:
            options.append(Option("cashier", t("Add cashier")))
            options.append(Option("cashiers", t("Cashiers")))
        else:
            options.append(Option("leave", t("Leave the shop")))
        if len(memberships) > 1:
            options.append(Option("switch", t("Change shop")))
        options.append(Option("language", t("Language")))
        turn.say_split(
            *texts, t("{shop}: what do you want to do?", shop=shop.name), options=options
        )
        return
    if texts:
        # After a heading (a welcome, a confirmation) the menu speaks for itself.
        turn.say_split(*texts, options=citizen_options(turn))
        return
    turn.say(t("What do you want to do? Reply with the number."), options=citizen_options(turn))


def citizen_options(turn: Turn) -> list[Option]:
    options = [
        Option("balance", t("Balance")),
        Option("shops", t("Shops")),
        Option("apply", t("Apply")),
        Option("status", t("Status")),
    ]
    if community_on(turn):
        options += [
            Option("buy", t("Buy a shop voucher")),
            Option("give", t("Give a voucher")),
            Option("vouchers", t("My vouchers")),
            Option("donate", t("Donate")),
        ]
    return [
        *options,
        Option("language", t("Language")),
        Option("shopkeeper", t("For shops")),
    ]


def welcome(turn: Turn) -> Text:
    return t("Welcome to the grocery vouchers of {town}.", town=turn.town.name)


def offer_languages(turn: Turn) -> None:
    turn.say(t("Choose your language."), options=LANGUAGE_OPTIONS)


def offer_towns(turn: Turn, towns: list[tuple[int, str]]) -> None:
    turn.say(
        t("Which municipality do you live in (or work in)?"),
        options=[Option(f"town:{town_id}", t("{town}", town=name)) for town_id, name in towns],
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
