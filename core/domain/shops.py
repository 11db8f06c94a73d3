"""Shop categories and the rules of who may do what for a shop."""

from __future__ import annotations

import re
from enum import StrEnum

# A shop's name is shown in SMS receipts and payment codes, which must fit one SMS: at most
# this many characters in its SMS (GSM-7) form.
MAX_SHOP_NAME = 40


class ShopCategory(StrEnum):
    GROCERY = "grocery"  # alimentari, supermercato
    BAKERY = "bakery"
    BUTCHER = "butcher"
    GREENGROCER = "greengrocer"
    PHARMACY = "pharmacy"
    OTHER = "other"


# What people type for a category, in Italian and English, without accents.
CATEGORY_WORDS: dict[str, ShopCategory] = {
    "alimentari": ShopCategory.GROCERY,
    "supermercato": ShopCategory.GROCERY,
    "minimarket": ShopCategory.GROCERY,
    "grocery": ShopCategory.GROCERY,
    "supermarket": ShopCategory.GROCERY,
    "panetteria": ShopCategory.BAKERY,
    "forno": ShopCategory.BAKERY,
    "panificio": ShopCategory.BAKERY,
    "bakery": ShopCategory.BAKERY,
    "macelleria": ShopCategory.BUTCHER,
    "butcher": ShopCategory.BUTCHER,
    "frutta": ShopCategory.GREENGROCER,
    "verdura": ShopCategory.GREENGROCER,
    "verdure": ShopCategory.GREENGROCER,
    "fruttivendolo": ShopCategory.GREENGROCER,
    "ortofrutta": ShopCategory.GREENGROCER,
    "greengrocer": ShopCategory.GREENGROCER,
    "farmacia": ShopCategory.PHARMACY,
    "pharmacy": ShopCategory.PHARMACY,
    "altro": ShopCategory.OTHER,
    "other": ShopCategory.OTHER,
}
# What a customer looks for, in Italian and English: the shops that sell it, the shops
# themselves in the plural, and their keepers ("negozi pane", "negozi farmacie",
# "shops butchers"). Read by the shop search only: a shop registering says its category
# with CATEGORY_WORDS.
GOODS_WORDS: dict[str, ShopCategory] = {
    **dict.fromkeys(
        ("supermercati", "alimentare", "latte", "pasta", "groceries", "supermarkets",
         "milk"),
        ShopCategory.GROCERY,
    ),
    **dict.fromkeys(
        ("pane", "panetterie", "forni", "panifici", "fornaio", "panettiere", "focaccia",
         "bread", "bakeries", "baker"),
        ShopCategory.BAKERY,
    ),
    **dict.fromkeys(
        ("carne", "macellerie", "macellaio", "macellai", "salumi", "meat", "butchers"),
        ShopCategory.BUTCHER,
    ),
    **dict.fromkeys(
        ("verdura", "verdure", "fruttivendoli", "fruit", "vegetables", "greengrocers"),
        ShopCategory.GREENGROCER,
    ),
    **dict.fromkeys(
        ("farmacie", "farmacista", "medicine", "medicinali", "farmaci", "pharmacies",
         "chemist", "medicines"),
        ShopCategory.PHARMACY,
    ),
}  # fmt: skip


def parse_category(word: str) -> ShopCategory | None:
    import unicodedata

    plain = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", word.strip().lower())
        if not unicodedata.combining(ch)
    )
    if plain in ShopCategory.__members__.values():
        return ShopCategory(plain)
    return CATEGORY_WORDS.get(plain)


# "s.n.c." (senza numero civico): an address that has no number, written as Italian
# addresses write it.
_NO_NUMBER = re.compile(r"\bs\.?\s?n\.?\s?c\b\.?|\bsenza\s+numero\b", re.I)


def has_street_number(address: str) -> bool:
    """Whether a shop's address says where on the street it is: a number ("Via Roma 12",
    "Piazza Umberto I 3"), or "s.n.c." for a shop that has none; "via roma" alone does not."""
    return any(ch.isdigit() for ch in address) or _NO_NUMBER.search(address) is not None


def category_in_words(text: str) -> ShopCategory | None:
    """The kind of shop a registering shopkeeper writes in her own words: one category's
    word alone, or inside a sentence ("negozio di alimentari", "è una farmacia", "frutta e
    verdura"); None when no word or two different kinds are named."""
    whole = parse_category(text)
    if whole is not None:
        return whole
    named = {
        found
        for word in re.split(r"[^\w]+", text)
        if word and (found := parse_category(word)) is not None
    }
    return named.pop() if len(named) == 1 else None


def searched_category(word: str) -> ShopCategory | None:
    """The category a word of a shop search asks for: a category's own word, or what its
    shops sell ("pane", "farmacie", "macellaio"; GOODS_WORDS)."""
    found = parse_category(word)
    if found is not None:
        return found
    return GOODS_WORDS.get(word.strip().lower())


class ShopStatus(StrEnum):
    """Where a shop's registration stands: only an approved shop charges vouchers."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class MemberRole(StrEnum):
    OWNER = "owner"
    CASHIER = "cashier"
