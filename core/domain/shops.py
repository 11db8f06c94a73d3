"""Shop categories and the rules of who may do what for a shop."""

from __future__ import annotations

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
    "grocery": ShopCategory.GROCERY,
    "supermarket": ShopCategory.GROCERY,
    "panetteria": ShopCategory.BAKERY,
    "forno": ShopCategory.BAKERY,
    "panificio": ShopCategory.BAKERY,
    "bakery": ShopCategory.BAKERY,
    "macelleria": ShopCategory.BUTCHER,
    "butcher": ShopCategory.BUTCHER,
    "frutta": ShopCategory.GREENGROCER,
    "fruttivendolo": ShopCategory.GREENGROCER,
    "ortofrutta": ShopCategory.GREENGROCER,
    "greengrocer": ShopCategory.GREENGROCER,
    "farmacia": ShopCategory.PHARMACY,
    "pharmacy": ShopCategory.PHARMACY,
    "altro": ShopCategory.OTHER,
    "other": ShopCategory.OTHER,
}


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


class ShopStatus(StrEnum):
    """Where a shop's registration stands: only an approved shop charges vouchers."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class MemberRole(StrEnum):
    OWNER = "owner"
    CASHIER = "cashier"
