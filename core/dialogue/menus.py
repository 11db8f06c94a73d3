"""The menus and the help: what a person can do from here, by role (citizen or shop)."""

from __future__ import annotations

from core.dialogue.context import Turn
from core.dialogue.state import Offered
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
SHOP_HELP_KEYS = ("charge", "refund", "statement", "reimbursement", "cashier", "menu")


async def help_texts(turn: Turn) -> list[Text]:
    return [SHOP_HELP] if await is_shop_member(turn) else [CITIZEN_HELP]


async def say_help(turn: Turn) -> None:
    """The help; outside a request, a number typed next picks the help's word in that place
    (inside one, the question asked again keeps its own numbers)."""
    shop = await is_shop_member(turn)
    turn.say(SHOP_HELP if shop else CITIZEN_HELP)
    if turn.flow is not None and turn.step is not None:
        return
    keys = SHOP_HELP_KEYS if shop else CITIZEN_HELP_KEYS
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
                options=citizen_options(),
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
        if len(memberships) > 1:
            options.append(Option("switch", t("Change shop")))
        options.append(Option("language", t("Language")))
        turn.say_split(
            *texts, t("{shop}: what do you want to do?", shop=shop.name), options=options
        )
        return
    if texts:
        # After a heading (a welcome, a confirmation) the menu speaks for itself.
        turn.say_split(*texts, options=citizen_options())
        return
    turn.say(t("What do you want to do? Reply with the number."), options=citizen_options())


def citizen_options() -> list[Option]:
    return [
        Option("balance", t("Balance")),
        Option("shops", t("Shops")),
        Option("apply", t("Apply")),
        Option("status", t("Status")),
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
