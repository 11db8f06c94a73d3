"""Where to spend the vouchers: shops near a shared position, or by town, postcode or category."""

from __future__ import annotations

from core.dialogue.context import Input, Reject, Turn
from core.dialogue.flows.base import Flow
from core.dialogue.inbound import SharedLocation
from core.domain.geo import valid_position
from core.domain.messages import Distance, MapPin, Text, t, tn
from core.domain.shops import ShopCategory, parse_category
from core.services import shops as shop_service
from core.storage import models as m

RADIUS_KM = 10.0
# Telegram shows a list; an SMS shows what fits one segment (see Turn.say_fitting).
SHOWN = 5


class ShopFinderFlow(Flow):
    name = "shops"
    first_step = "query"
    location_steps = frozenset({"query"})

    async def start(self, turn: Turn, arg: str) -> None:
        if arg.strip():
            await search(turn, arg)
            return
        await self.ask(turn)

    async def ask_query(self, turn: Turn) -> None:
        if turn.channel == "telegram":
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
        await search(turn, inp.text)


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
        turn.channel == "telegram"
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
    for word in text.replace(",", " ").split():
        if word.isdigit() and len(word) == 5:
            postcode = word
        elif category is None and parse_category(word) is not None:
            category = parse_category(word)
        else:
            town_words.append(word)
    town = " ".join(town_words) or None
    return town, postcode, category


async def search(turn: Turn, query: str) -> None:
    turn.finish()
    town, postcode, category = parse_query(query)
    found = list(
        await shop_service.find(
            turn.uow, turn.town.id, town=town, postcode=postcode, category=category
        )
    )
    if not found:
        turn.say(
            t(
                'No shop found for "{query}". Try a town, a postcode (CAP) or a type: '
                "alimentari, panetteria, macelleria, frutta, farmacia.",
                query=query[:40],
            )
        )
        return
    lines = [shop_line(shop) for shop in found[:SHOWN]]
    head = tn("{count} shop found:", "{count} shops found:", len(found))
    turn.say_fitting(head, lines=lines)


def shop_line(shop: m.Shop) -> Text:
    return t("{shop}, {address}, {town}", shop=shop.name, address=shop.address, town=shop.town)
